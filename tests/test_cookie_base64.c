/* The strict base64 of sealed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cookie/base64.h"

#define STD CSESSION__B64_STANDARD_PADDED
#define URL CSESSION__B64_URLSAFE_UNPADDED

static int sodium_variant(csession__b64_variant v)
{
    return v == STD ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

/* Same text as libsodium's encoder for every length, and back. */
static void test_matches_libsodium(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    unsigned char bin[200], back[200];
    char ours[300], theirs[300];
    randombytes_buf(bin, sizeof bin);
    for (int v = 0; v < 2; v++) {
        csession__b64_variant variant = v ? URL : STD;
        for (size_t n = 0; n <= sizeof bin; n++) {
            size_t len = csession__b64_encoded_len(n, variant);
            assert_int_equal(len, sodium_base64_encoded_len(n, sodium_variant(variant)) - 1);
            csession__b64_encode(ours, bin, n, variant);
            sodium_bin2base64(theirs, sizeof theirs, bin, n, sodium_variant(variant));
            assert_memory_equal(ours, theirs, len);
            size_t back_len = 999;
            assert_int_equal(csession__b64_decode(back, sizeof back, &back_len, ours, len, variant),
                             0);
            assert_int_equal(back_len, n);
            if (n)
                assert_memory_equal(back, bin, n);
        }
    }
}

static void assert_refused(const char *text, csession__b64_variant variant)
{
    unsigned char out[64];
    size_t len = 12345;
    if (csession__b64_decode(out, sizeof out, &len, text, strlen(text), variant) != -1)
        fail_msg("\"%s\" was accepted", text);
    assert_int_equal(len, 12345);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused("QQ", STD);      /* padding missing */
    assert_refused("QQ=", STD);
    assert_refused("QQ==", URL);    /* padding where there is none */
    assert_refused("QQ===", STD);
    assert_refused("Q===", STD);
    assert_refused("QUJD=", STD);
    assert_refused("QR==", STD);    /* unused bits set */
    assert_refused("QUJ", STD);
    assert_refused("QUK=", STD);
    assert_refused("QR", URL);
    assert_refused("QUK", URL);
    assert_refused("Q", URL);       /* 6 bits make no byte */
    assert_refused("QUJDR", URL);
    assert_refused("ab-_", STD);    /* the other alphabet */
    assert_refused("ab+/", URL);
    assert_refused("ab c", STD);
    assert_refused("ab\nc", URL);
    assert_refused("=QQ=", STD);
    assert_refused("\xaf\xaf\xaf\xaf", STD); /* '/' | 0x80 is not '/' */
    assert_refused("\xab\xab\xab\xab", STD); /* '+' | 0x80 */
    assert_refused("\xc1\xc1\xc1\xc1", URL); /* 'A' | 0x80 */

    unsigned char small[2];
    size_t len;
    assert_int_equal(csession__b64_decode(small, sizeof small, &len, "QUJD", 4, STD), -1);
    assert_int_equal(csession__b64_decode(small, sizeof small, &len, "QUI=", 4, STD), 0);
    assert_int_equal(len, 2);
    assert_int_equal(csession__b64_decode(small, 0, &len, "", 0, URL), 0);
    assert_int_equal(len, 0);
}

/* One text per byte string: changing any character to any other byte
 * either fails or decodes to different bytes. */
static void test_canonical(void **state)
{
    (void)state;
    unsigned char bin[32], back[64];
    randombytes_buf(bin, sizeof bin);
    for (size_t n = 30; n <= 32; n++) {
        for (int v = 0; v < 2; v++) {
            csession__b64_variant variant = v ? URL : STD;
            char text[64];
            size_t len = csession__b64_encoded_len(n, variant);
            csession__b64_encode(text, bin, n, variant);
            for (size_t i = 0; i < len; i++) {
                char orig = text[i];
                for (int c = 0; c < 256; c++) {
                    if ((char)c == orig)
                        continue;
                    text[i] = (char)c;
                    size_t back_len;
                    if (csession__b64_decode(back, sizeof back, &back_len, text, len, variant) == 0)
                        assert_false(back_len == n && memcmp(back, bin, n) == 0);
                }
                text[i] = orig;
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_libsodium),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
