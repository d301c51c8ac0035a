/* Master keys (generate, derive, text forms) and the key ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <sodium.h>

#include "cookie/keyring.h"
#include "csession.h"
#include "csession/cookie_security.h"
#include "csession/keys.h"
#include "oom.h"

static void key_0_to_63(unsigned char key[64])
{
    for (int i = 0; i < 64; i++)
        key[i] = (unsigned char)i;
}

static void assert_all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], 0);
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(csession_key_bytes(), 64);
    assert_int_equal(CSESSION_KEY_BYTES, 64);
    assert_int_equal(csession_key_secret_min_bytes(), 32);
    assert_int_equal(csession_keyring_max_keys(), CSESSION_KEYRING_MAX_KEYS);
}

static void test_generate(void **state)
{
    (void)state;
    unsigned char a[64], b[64], zero[64] = { 0 };
    assert_int_equal(csession_key_generate(a, sizeof a), 0);
    assert_int_equal(csession_key_generate(b, sizeof b), 0);
    assert_memory_not_equal(a, b, 64);
    assert_memory_not_equal(a, zero, 64);
    assert_int_equal(csession_key_generate(a, 32), CSESSION_EINVAL);
    assert_int_equal(csession_key_generate(NULL, 64), CSESSION_EINVAL);
}

static void assert_derives(const unsigned char *secret, size_t len, const char *hex)
{
    unsigned char key[64], expected[64];
    assert_int_equal(sodium_hex2bin(expected, sizeof expected, hex, strlen(hex), NULL, NULL, NULL),
                     0);
    assert_int_equal(csession_key_derive(key, sizeof key, secret, len), 0);
    assert_memory_equal(key, expected, 64);
}

/* The vector of the `cookie` crate's Key::derive_from(). */
static void test_derive_vector(void **state)
{
    (void)state;
    unsigned char secret[32];
    memset(secret, 0x07, sizeof secret);
    assert_derives(secret, sizeof secret,
                   "8447a478d0c4d1f3294ede771f05831a606d0b51ff313e92c356ff7305cecbe5"
                   "e56b3b166df671fe50c5aeac792d394a63fcdb06eb208b35d188a4d33c87a69a");
}

/* A secret longer than SHA-256's block: HMAC hashes it first (RFC 2104). */
static void test_derive_long_secret(void **state)
{
    (void)state;
    unsigned char secret[100];
    for (int i = 0; i < 100; i++)
        secret[i] = (unsigned char)i;
    assert_derives(secret, sizeof secret,
                   "3ecf53f52402bef3a492b27c9ecc29b697cb30e186d3f42baafb4cc627f77ccd"
                   "583fb139d11bbef1ab260e71b79030138ecb45b76b4cd5a4c0f1fcec74e9a2ae");
}

static void test_derive_refusals(void **state)
{
    (void)state;
    unsigned char secret[64] = { 1 }, key[64];
    memset(key, 0xaa, sizeof key);
    assert_int_equal(csession_key_derive(key, sizeof key, secret, 31), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "at least 32"));
    assert_all_zero(key, sizeof key);
    assert_int_equal(csession_key_derive(key, sizeof key, secret, 0), CSESSION_EINVAL);
    assert_int_equal(csession_key_derive(key, sizeof key, NULL, 32), CSESSION_EINVAL);
    assert_int_equal(csession_key_derive(key, 63, secret, 32), CSESSION_EINVAL);
    assert_int_equal(csession_key_derive(NULL, 64, secret, 32), CSESSION_EINVAL);
    assert_int_equal(csession_key_derive(key, sizeof key, secret, 32), 0);
}

/* Every accepted text form of the same key, and surrounding whitespace. */
static void test_from_text_forms(void **state)
{
    (void)state;
    unsigned char want[64], key[64];
    /* 0xfb 0xff ... makes base64 use '+' '/' (standard) or '-' '_' (URL-safe). */
    for (int i = 0; i < 64; i++)
        want[i] = (unsigned char)(0xf8 + i * 37);
    char hex[129], b64[4][90];
    sodium_bin2hex(hex, sizeof hex, want, 64);
    static const int variants[4] = { sodium_base64_VARIANT_ORIGINAL,
                                     sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                     sodium_base64_VARIANT_URLSAFE,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING };
    for (int v = 0; v < 4; v++)
        sodium_bin2base64(b64[v], sizeof b64[v], want, 64, variants[v]);
    assert_int_equal(strlen(b64[0]), 88);
    assert_int_equal(strlen(b64[1]), 86);
    assert_non_null(strpbrk(b64[0], "+/"));
    assert_non_null(strpbrk(b64[2], "-_"));

    assert_int_equal(csession_key_from_text(key, 64, hex, 128), 0);
    assert_memory_equal(key, want, 64);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    memset(key, 0, sizeof key);
    assert_int_equal(csession_key_from_text(key, 64, hex, 128), 0);
    assert_memory_equal(key, want, 64);
    for (int v = 0; v < 4; v++) {
        memset(key, 0, sizeof key);
        assert_int_equal(csession_key_from_text(key, 64, b64[v], strlen(b64[v])), 0);
        assert_memory_equal(key, want, 64);
    }

    /* libsodium 1.0.18 alone would read '/' | 0x80 as '/'. */
    char aliased[90];
    strcpy(aliased, b64[0]);
    char *slash = strchr(aliased, '/');
    assert_non_null(slash);
    *slash = (char)0xaf;
    memset(key, 0xaa, sizeof key);
    assert_int_equal(csession_key_from_text(key, 64, aliased, strlen(aliased)), CSESSION_EFORMAT);
    assert_all_zero(key, sizeof key);

    char padded[200];
    snprintf(padded, sizeof padded, " \t%s\r\n", b64[0]);
    memset(key, 0, sizeof key);
    assert_int_equal(csession_key_from_text(key, 64, padded, strlen(padded)), 0);
    assert_memory_equal(key, want, 64);
    /* Not NUL-terminated: only text_len bytes are read. */
    char hexcopy[130];
    memcpy(hexcopy, hex, 128);
    hexcopy[128] = 'Z';
    assert_int_equal(csession_key_from_text(key, 64, hexcopy, 128), 0);
    assert_memory_equal(key, want, 64);
}

static void assert_bad_text(const char *text, size_t len, const char *message_part)
{
    unsigned char key[64];
    memset(key, 0xaa, sizeof key);
    assert_int_equal(csession_key_from_text(key, 64, text, len), CSESSION_EFORMAT);
    assert_all_zero(key, sizeof key);
    if (message_part && !strstr(csession_last_error(), message_part))
        fail_msg("message \"%s\" lacks \"%s\"", csession_last_error(), message_part);
}

static void test_from_text_refusals(void **state)
{
    (void)state;
    unsigned char k63[63], k65[65], k64[64];
    memset(k63, 1, sizeof k63);
    memset(k65, 2, sizeof k65);
    key_0_to_63(k64);
    char text[300];

    assert_bad_text("", 0, "empty");
    assert_bad_text("  \n", 3, "empty");
    sodium_bin2base64(text, sizeof text, k63, sizeof k63, sodium_base64_VARIANT_ORIGINAL);
    assert_bad_text(text, strlen(text), "decodes to 63 bytes");
    sodium_bin2base64(text, sizeof text, k65, sizeof k65, sodium_base64_VARIANT_URLSAFE);
    assert_bad_text(text, strlen(text), "decodes to 65 bytes");

    sodium_bin2hex(text, sizeof text, k64, sizeof k64);
    assert_bad_text(text, 127, NULL);        /* one digit short */
    text[128] = '0';
    assert_bad_text(text, 129, NULL);        /* one digit too many */
    text[128] = '\0';
    text[5] = 'g';
    assert_bad_text(text, 128, "hexadecimal");
    sodium_bin2hex(text, sizeof text, k63, sizeof k63); /* 126 digits: as base64, 94 bytes */
    assert_bad_text(text, 126, NULL);

    sodium_bin2base64(text, sizeof text, k64, sizeof k64, sodium_base64_VARIANT_ORIGINAL);
    char mixed[100];
    strcpy(mixed, text);
    mixed[0] = '-';                          /* URL-safe and standard characters together */
    mixed[1] = '+';
    assert_bad_text(mixed, strlen(mixed), "neither");
    strcpy(mixed, text);
    mixed[10] = '*';
    assert_bad_text(mixed, strlen(mixed), "neither");
    strcpy(mixed, text);
    mixed[40] = ' ';                         /* inner whitespace is not skipped */
    assert_bad_text(mixed, strlen(mixed), NULL);

    char huge[2000];
    memset(huge, 'A', sizeof huge);
    assert_bad_text(huge, sizeof huge, "at most 128");

    unsigned char key[64];
    assert_int_equal(csession_key_from_text(key, 64, NULL, 0), CSESSION_EINVAL);
    assert_int_equal(csession_key_from_text(key, 32, text, strlen(text)), CSESSION_EINVAL);
    assert_int_equal(csession_key_from_text(NULL, 64, text, strlen(text)), CSESSION_EINVAL);
}

static void test_to_text(void **state)
{
    (void)state;
    unsigned char key[64], back[64];
    key_0_to_63(key);
    csession_buf buf = CSESSION_BUF_INIT;
    assert_int_equal(csession_key_to_text(&buf, key, sizeof key), 0);
    assert_int_equal(buf.size, 128);
    assert_string_equal(buf.ptr, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
    assert_int_equal(csession_key_from_text(back, 64, buf.ptr, buf.size), 0);
    assert_memory_equal(back, key, 64);
    assert_int_equal(csession_key_to_text(&buf, key, 10), CSESSION_EINVAL);
    assert_int_equal(buf.size, 0);
    assert_int_equal(csession_key_to_text(NULL, key, 64), CSESSION_EINVAL);
    csession_buf_dispose(&buf);
}

static void test_ring_basics(void **state)
{
    (void)state;
    csession_keyring *ring = (csession_keyring *)1;
    assert_int_equal(csession_keyring_new(&ring, 0x80), CSESSION_EINVAL);
    assert_null(ring);
    assert_int_equal(csession_keyring_new(NULL, 0), CSESSION_EINVAL);

    assert_int_equal(csession_keyring_new(&ring, 0), 0);
    assert_int_equal(csession_keyring_count(ring), 0);
    assert_null(csession__keyring_key(ring, 0));
    assert_int_equal(csession_keyring_locked(ring), 0);

    unsigned char key[64];
    key_0_to_63(key);
    assert_int_equal(csession_keyring_add(ring, key, 63), CSESSION_EINVAL);
    assert_int_equal(csession_keyring_add(ring, NULL, 64), CSESSION_EINVAL);
    assert_int_equal(csession_keyring_add(NULL, key, 64), CSESSION_EINVAL);
    assert_int_equal(csession_keyring_count(ring), 0);

    assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    /* The ring keeps its own copy. */
    memset(key, 0, sizeof key);
    const csession__key *k = csession__keyring_key(ring, 0);
    assert_non_null(k);
    assert_int_equal(((uintptr_t)&k->aes) % 16, 0);
    key_0_to_63(key);
    assert_memory_equal(k->master, key, 64);
    assert_int_equal(csession_keyring_locked(ring), 0); /* not asked for */

    /* The same key twice is a configuration mistake. */
    assert_int_equal(csession_keyring_add(ring, key, 64), CSESSION_EINVAL);
    assert_int_equal(csession_keyring_count(ring), 1);

    for (size_t i = 1; i < CSESSION_KEYRING_MAX_KEYS; i++) {
        key[0] = (unsigned char)(100 + i);
        assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    }
    assert_int_equal(csession_keyring_count(ring), CSESSION_KEYRING_MAX_KEYS);
    key[0] = 0xff;
    assert_int_equal(csession_keyring_add(ring, key, 64), CSESSION_ETOOBIG);
    assert_int_equal(csession_keyring_count(ring), CSESSION_KEYRING_MAX_KEYS);
    /* Order is kept: index 0 is the first key added. */
    assert_int_equal(csession__keyring_key(ring, 0)->master[0], 0);
    assert_int_equal(csession__keyring_key(ring, 5)->master[0], 105);

    csession_keyring_free(ring);
    csession_keyring_free(NULL);
    assert_int_equal(csession_keyring_count(NULL), 0);
}

/* The per-key state matches what the plain primitives compute. */
static void test_ring_precomputation(void **state)
{
    (void)state;
    csession_keyring *ring;
    unsigned char key[64];
    key_0_to_63(key);
    assert_int_equal(csession_keyring_new(&ring, 0), 0);
    assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    const csession__key *k = csession__keyring_key(ring, 0);

    unsigned char mac1[32], mac2[32];
    crypto_auth_hmacsha256_state st = k->hmac;
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"abc", 3);
    crypto_auth_hmacsha256_final(&st, mac1);
    crypto_auth_hmacsha256(mac2, (const unsigned char *)"abc", 3, key);
    assert_memory_equal(mac1, mac2, 32);

    /* The XChaCha20-Poly1305 subkey, computed independently (BLAKE2b). */
    unsigned char sub[32], expected[32];
    csession__key_xchacha_subkey(sub, key);
    assert_memory_equal(sub, k->xchacha, 32);
    const char *hex = "ea102476f1f5387624fb1dc2918b4699cacb8e781242c79235c3c4690ee6623a";
    assert_int_equal(sodium_hex2bin(expected, 32, hex, 64, NULL, NULL, NULL), 0);
    assert_memory_equal(sub, expected, 32);
    assert_int_equal(k->aes_ready, crypto_aead_aes256gcm_is_available());
    csession_keyring_free(ring);
}

static void test_ring_add_text_and_derived(void **state)
{
    (void)state;
    csession_keyring *ring;
    assert_int_equal(csession_keyring_new(&ring, 0), 0);
    unsigned char secret[32], derived[64];
    memset(secret, 0x07, sizeof secret);
    assert_int_equal(csession_keyring_add_derived(ring, secret, sizeof secret), 0);
    assert_int_equal(csession_key_derive(derived, 64, secret, 32), 0);
    assert_memory_equal(csession__keyring_key(ring, 0)->master, derived, 64);
    assert_int_equal(csession_keyring_add_derived(ring, secret, 31), CSESSION_EINVAL);

    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                      "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
    assert_int_equal(csession_keyring_add_text(ring, hex, strlen(hex)), 0);
    assert_int_equal(csession__keyring_key(ring, 1)->master[63], 63);
    assert_int_equal(csession_keyring_add_text(ring, hex, 20), CSESSION_EFORMAT);
    assert_int_equal(csession_keyring_add_text(ring, hex, strlen(hex)), CSESSION_EINVAL);
    assert_int_equal(csession_keyring_count(ring), 2);
    csession_keyring_free(ring);
}

static int mlock_refused_here(void)
{
    /* As root (CAP_IPC_LOCK) the limit does not apply: find out. */
    void *p = sodium_malloc(100);
    int refused = sodium_mlock(p, 100) != 0;
    sodium_free(p);
    return refused;
}

static void test_ring_mlock(void **state)
{
    (void)state;
    unsigned char key[64];
    key_0_to_63(key);
    csession_keyring *ring;

    assert_int_equal(csession_keyring_new(&ring, CSESSION_KEYRING_MLOCK), 0);
    assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &lim), 0);
    /* The default limit (64 KiB or more) holds a key; report what happened. */
    int locked = csession_keyring_locked(ring);
    print_message("key memory locked: %d\n", locked);
    assert_int_equal(csession__keyring_key(ring, 0)->master[9], 9);
    csession_keyring_free(ring);

    /* With no lockable memory left, MLOCK still adds, MLOCK_REQUIRED fails. */
    struct rlimit none = lim;
    none.rlim_cur = 0;
    assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &none), 0);
    int refused = mlock_refused_here();
    assert_int_equal(csession_keyring_new(&ring, CSESSION_KEYRING_MLOCK), 0);
    assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    assert_int_equal(csession_keyring_locked(ring), !refused);
    csession_keyring_free(ring);

    assert_int_equal(csession_keyring_new(&ring, CSESSION_KEYRING_MLOCK_REQUIRED), 0);
    int rc = csession_keyring_add(ring, key, 64);
    assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &lim), 0);
    if (refused) {
        assert_int_equal(rc, CSESSION_EUNSUPPORTED);
        assert_non_null(strstr(csession_last_error(), "RLIMIT_MEMLOCK"));
        assert_int_equal(csession_keyring_count(ring), 0);
    } else {
        print_message("mlock is not limited here (privileged); refusal not exercised\n");
        assert_int_equal(rc, 0);
        assert_int_equal(csession_keyring_locked(ring), 1);
    }
    csession_keyring_free(ring);
}

static void test_security_modes(void **state)
{
    (void)state;
    assert_int_equal(csession_cookie_security_check(CSESSION_COOKIE_SIGNED), 0);
    assert_int_equal(csession_cookie_security_check(CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305), 0);
    int rc = csession_cookie_security_check(CSESSION_COOKIE_PRIVATE_AES256GCM);
    if (crypto_aead_aes256gcm_is_available()) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, CSESSION_EUNSUPPORTED);
        assert_non_null(strstr(csession_last_error(), "AES-NI"));
    }
    assert_int_equal(csession_cookie_security_check(0), CSESSION_EINVAL);
    assert_int_equal(csession_cookie_security_check(4), CSESSION_EINVAL);
    assert_string_equal(csession_cookie_security_name(CSESSION_COOKIE_SIGNED), "signed");
    assert_string_equal(csession_cookie_security_name(CSESSION_COOKIE_PRIVATE_AES256GCM),
                        "private-aes256gcm");
    assert_string_equal(csession_cookie_security_name(CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305),
                        "private-xchacha20poly1305");
    assert_string_equal(csession_cookie_security_name(-1), "unknown");
}

/* 64 zero bytes, base64 without padding. */
static const char zero_key_b64[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static int ring_body(void *ctx)
{
    (void)ctx;
    csession_keyring *ring;
    unsigned char key[64];
    key_0_to_63(key);
    int rc = csession_keyring_new(&ring, 0);
    if (rc) {
        assert_null(ring);
        return rc;
    }
    rc = csession_keyring_add(ring, key, 64);
    if (rc == 0)
        rc = csession_keyring_add_text(ring, zero_key_b64, 86);
    if (rc == 0)
        assert_int_equal(csession_keyring_count(ring), 2);
    csession_keyring_free(ring);
    return rc;
}

static int to_text_body(void *ctx)
{
    (void)ctx;
    unsigned char key[64];
    key_0_to_63(key);
    csession_buf buf = CSESSION_BUF_INIT;
    int rc = csession_key_to_text(&buf, key, 64);
    if (rc == 0)
        assert_int_equal(buf.size, 128);
    else
        assert_int_equal(buf.size, 0);
    csession_buf_dispose(&buf);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    oom_install();
    assert_true(oom_run_each_failure(ring_body, NULL) >= 3);
    assert_true(oom_run_each_failure(to_text_body, NULL) >= 1);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_derive_vector),
        cmocka_unit_test(test_derive_long_secret),
        cmocka_unit_test(test_derive_refusals),
        cmocka_unit_test(test_from_text_forms),
        cmocka_unit_test(test_from_text_refusals),
        cmocka_unit_test(test_to_text),
        cmocka_unit_test(test_ring_basics),
        cmocka_unit_test(test_ring_precomputation),
        cmocka_unit_test(test_ring_add_text_and_derived),
        cmocka_unit_test(test_ring_mlock),
        cmocka_unit_test(test_security_modes),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
