/* Session keys: shape, uniqueness, distribution, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "csession.h"
#include "csession/sys/store.h"
#include "session_key.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static int setup(void **state)
{
    (void)state;
    return csession_init();
}

static void test_shape(void **state)
{
    (void)state;
    char key[CSESSION_SESSION_KEY_LEN + 1];
    memset(key, 'x', sizeof key);
    assert_int_equal(csession_session_key_generate(key, sizeof key), 0);
    assert_int_equal(key[CSESSION_SESSION_KEY_LEN], '\0');
    assert_int_equal(strlen(key), 64);
    assert_int_equal(strspn(key, alphabet), 64);
    assert_int_equal(csession_session_key_length(), 64);
    assert_true(csession_session_key_valid(key, 64));
}

static void test_generate_refuses_small_buffer(void **state)
{
    (void)state;
    char key[CSESSION_SESSION_KEY_LEN + 1];
    assert_int_equal(csession_session_key_generate(key, CSESSION_SESSION_KEY_LEN),
                     CSESSION_EINVAL);
    assert_int_equal(csession_last_error_code(), CSESSION_EINVAL);
    assert_int_equal(csession_session_key_generate(NULL, sizeof key), CSESSION_EINVAL);
}

static int compare_keys(const void *a, const void *b)
{
    return memcmp(a, b, CSESSION_SESSION_KEY_LEN);
}

static void test_distinct(void **state)
{
    (void)state;
    enum { N = 2000 };
    char (*keys)[CSESSION_SESSION_KEY_LEN] = malloc(N * sizeof *keys);
    assert_non_null(keys);
    for (int i = 0; i < N; i++)
        csession__session_key_generate(keys[i]);
    qsort(keys, N, sizeof *keys, compare_keys);
    for (int i = 1; i < N; i++)
        assert_true(memcmp(keys[i - 1], keys[i], CSESSION_SESSION_KEY_LEN) != 0);
    free(keys);
}

/*
 * 1.28 million characters: each of the 62 is expected about 20645 times,
 * with a standard deviation near 142. The bound of +-10% (about 14 standard
 * deviations) cannot fail by chance, yet a plain `byte % 62` would fail it:
 * its first eight characters come out 21% too often.
 */
static void test_distribution(void **state)
{
    (void)state;
    enum { KEYS = 20000 };
    long counts[256] = { 0 };
    char key[CSESSION_SESSION_KEY_LEN];
    for (int i = 0; i < KEYS; i++) {
        csession__session_key_generate(key);
        for (int j = 0; j < CSESSION_SESSION_KEY_LEN; j++)
            counts[(unsigned char)key[j]]++;
    }
    double expected = (double)KEYS * CSESSION_SESSION_KEY_LEN / 62;
    long total = 0;
    for (int c = 0; c < 256; c++) {
        if (!memchr(alphabet, c, 62) || c == 0) {
            assert_int_equal(counts[c], 0);
            continue;
        }
        total += counts[c];
        if (counts[c] < expected * 0.9 || counts[c] > expected * 1.1)
            fail_msg("character '%c' drawn %ld times, expected about %.0f", c, counts[c],
                     expected);
    }
    assert_int_equal(total, (long)KEYS * CSESSION_SESSION_KEY_LEN);
}

static void test_valid(void **state)
{
    (void)state;
    char key[CSESSION_SESSION_KEY_LEN + 2];
    memset(key, 'a', sizeof key);
    assert_true(csession_session_key_valid(key, 64));
    assert_false(csession_session_key_valid(key, 63));
    assert_false(csession_session_key_valid(key, 65));
    assert_false(csession_session_key_valid(key, 0));
    assert_false(csession_session_key_valid(NULL, 64));
    memcpy(key, alphabet, 62);
    assert_true(csession_session_key_valid(key, 64));

    const char bad[] = { '-', '_', '+', '/', '=', ' ', '\0', '.', '%', (char)0x80,
                         (char)0xc3, (char)0xff, '@', '[', '`', '{', ':' };
    for (size_t i = 0; i < sizeof bad; i++) {
        for (size_t pos = 0; pos < 64; pos += 63) {
            memset(key, 'Z', 64);
            key[pos] = bad[i];
            assert_false(csession_session_key_valid(key, 64));
            assert_false(csession__session_key_valid(key, 64));
        }
    }
    /* Every byte value, at the ends and in the middle. */
    for (int c = 0; c < 256; c++) {
        int alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        for (size_t pos = 0; pos < 64; pos += 21) {
            memset(key, 'Z', 64);
            key[pos] = (char)c;
            if (csession__session_key_valid(key, 64) != alnum)
                fail_msg("byte 0x%02x at %zu: valid %d", c, pos, !alnum);
        }
    }
}

/* Equal keys compare equal; a difference in any byte, of any length, does
 * not (64 bytes go through crypto_verify_64, others sodium_memcmp). */
static void test_key_equal(void **state)
{
    (void)state;
    char a[80], b[80];
    randombytes_buf(a, sizeof a);
    memcpy(b, a, sizeof b);
    const size_t lens[] = { 1, 16, 63, 64, 65, 80 };
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        size_t len = lens[l];
        assert_true(csession__key_equal(a, b, len));
        for (size_t i = 0; i < len; i++) {
            b[i] ^= 0x01;
            if (csession__key_equal(a, b, len))
                fail_msg("length %zu: a difference at byte %zu went unseen", len, i);
            b[i] ^= 0x01;
        }
        b[len - 1] ^= (char)0x80;
        assert_false(csession__key_equal(a, b, len));
        b[len - 1] ^= (char)0x80;
    }
    assert_true(csession__key_equal(a, b, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_generate_refuses_small_buffer),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_key_equal),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
