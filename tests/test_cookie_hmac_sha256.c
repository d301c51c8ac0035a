/* HMAC-SHA256 of signed cookies: the SHA-extension path gives libsodium's bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cookie/hmac_sha256.h"

static void hex(unsigned char *out, const char *text)
{
    size_t len = 0;
    assert_int_equal(sodium_hex2bin(out, CSESSION__HMAC_SHA256_BYTES, text, strlen(text), NULL,
                                    &len, NULL),
                     0);
    assert_int_equal(len, CSESSION__HMAC_SHA256_BYTES);
}

/* Whether /proc/cpuinfo lists the SHA extensions (Linux on x86). */
static int cpuinfo_has_sha_ni(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int found = 0;
    if (!f)
        return -1;
    while (!found && fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0)
            found = strstr(line, " sha_ni") != NULL ? 1 : 0;
    fclose(f);
    return found;
}

/* The fast path is taken wherever the CPU has the instructions. */
static void test_detection(void **state)
{
    (void)state;
#if defined(__x86_64__) || defined(__i386__)
    int listed = cpuinfo_has_sha_ni();
    if (listed < 0)
        skip();
    assert_int_equal(csession__hmac_sha256_accelerated(), listed);
#else
    assert_int_equal(csession__hmac_sha256_accelerated(), 0);
#endif
    if (!csession__hmac_sha256_accelerated())
        print_message("no SHA extensions on this CPU: the comparisons test libsodium alone\n");
}

/* RFC 4231 test cases 1, 2, 6 and 7 (6 and 7 have keys longer than a block). */
static void test_rfc4231(void **state)
{
    (void)state;
    static const struct {
        unsigned char key_byte;
        size_t key_len;
        const char *key_text, *data, *mac;
    } cases[] = {
        { 0x0b, 20, NULL, "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { 0, 4, "Jefe", "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { 0xaa, 131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { 0xaa, 131, NULL,
          "This is a test using a larger than block-size key and a larger than block-size "
          "data. The key needs to be hashed before being used by the HMAC algorithm.",
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char key[131], want[32], got[32];
        if (cases[i].key_text)
            memcpy(key, cases[i].key_text, cases[i].key_len);
        else
            memset(key, cases[i].key_byte, cases[i].key_len);
        crypto_auth_hmacsha256_state keyed;
        crypto_auth_hmacsha256_init(&keyed, key, cases[i].key_len);
        hex(want, cases[i].mac);
        csession__hmac_sha256(got, &keyed, cases[i].data, strlen(cases[i].data));
        assert_memory_equal(got, want, 32);
        csession__hmac_sha256_portable(got, &keyed, cases[i].data, strlen(cases[i].data));
        assert_memory_equal(got, want, 32);
    }
}

/* Every length across many block boundaries (the padding takes one or two
 * blocks), several keys, and the keyed state is left as it was. */
static void test_every_length_matches_libsodium(void **state)
{
    (void)state;
    static unsigned char msg[1100];
    randombytes_buf(msg, sizeof msg);
    for (int k = 0; k < 4; k++) {
        unsigned char key[64];
        size_t key_len = (size_t[]){ 32, 1, 64, 17 }[k];
        randombytes_buf(key, key_len);
        crypto_auth_hmacsha256_state keyed, before;
        crypto_auth_hmacsha256_init(&keyed, key, key_len);
        before = keyed;
        for (size_t len = 0; len <= sizeof msg; len++) {
            unsigned char fast[32], ref[32];
            /* An unaligned start on odd lengths (the largest is even). */
            const unsigned char *p = msg + (len & 1);
            csession__hmac_sha256(fast, &keyed, p, len);
            csession__hmac_sha256_portable(ref, &keyed, p, len);
            assert_memory_equal(fast, ref, 32);
        }
        assert_memory_equal(&keyed, &before, sizeof keyed);
    }
}

static void test_empty_message_without_pointer(void **state)
{
    (void)state;
    unsigned char key[32] = { 7 }, fast[32], ref[32];
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, key, sizeof key);
    csession__hmac_sha256(fast, &keyed, NULL, 0);
    crypto_auth_hmacsha256(ref, (const unsigned char *)"", 0, key);
    assert_memory_equal(fast, ref, 32);
}

/* A state that has absorbed more than the pads is not continued from by
 * the fast path (it assumes nothing is buffered): still libsodium's bytes. */
static void test_other_state_shapes_fall_back(void **state)
{
    (void)state;
    unsigned char key[32] = { 1, 2, 3 }, fast[32], ref[32];
    const char *msg = "counter=8";
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, key, sizeof key);
    crypto_auth_hmacsha256_update(&keyed, (const unsigned char *)"abc", 3);
    csession__hmac_sha256(fast, &keyed, msg, strlen(msg));
    csession__hmac_sha256_portable(ref, &keyed, msg, strlen(msg));
    assert_memory_equal(fast, ref, 32);
    /* ... which is the MAC of the whole text. */
    crypto_auth_hmacsha256_state whole;
    crypto_auth_hmacsha256_init(&whole, key, sizeof key);
    crypto_auth_hmacsha256_update(&whole, (const unsigned char *)"abccounter=8", 12);
    crypto_auth_hmacsha256_final(&whole, ref);
    assert_memory_equal(fast, ref, 32);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_every_length_matches_libsodium),
        cmocka_unit_test(test_empty_message_without_pointer),
        cmocka_unit_test(test_other_state_shapes_fall_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
