/* Sealing and opening cookie values in the three formats. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "buf.h"
#include "cookie/seal.h"
#include "csession.h"
#include "oom.h"

#define SIGNED CSESSION_COOKIE_SIGNED
#define AES CSESSION_COOKIE_PRIVATE_AES256GCM
#define XCHACHA CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305

static const int all_modes[] = { SIGNED, AES, XCHACHA };

static const char state_json[] =
    "{\"v\":1,\"state\":{\"user_id\":\"4f1c2a9e-7b3d-4c1e-9a55-0d2e8f6b1a77\","
    "\"counter\":7,\"role\":\"editor\"}}";

static void key_fill(unsigned char key[64], unsigned char first)
{
    for (int i = 0; i < 64; i++)
        key[i] = (unsigned char)(first + i);
}

/* A ring of `n` keys: key i has bytes firsts[i], firsts[i] + 1, ... */
static csession_keyring *ring_of(size_t n, const unsigned char *firsts)
{
    csession_keyring *ring;
    assert_int_equal(csession_keyring_new(&ring, 0), 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char key[64];
        key_fill(key, firsts[i]);
        assert_int_equal(csession_keyring_add(ring, key, 64), 0);
    }
    return ring;
}

static csession_keyring *vector_ring(void)
{
    static const unsigned char first = 0;
    return ring_of(1, &first);
}

static int usable(int mode)
{
    return mode != AES || crypto_aead_aes256gcm_is_available();
}

static void skip_without_aes(void)
{
    if (!crypto_aead_aes256gcm_is_available()) {
        print_message("this CPU lacks AES-NI: AES-256-GCM not tested\n");
        skip();
    }
}

static void test_signed_vector(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_seal(&out, ring, SIGNED, "id", 2, "hello world", 11), 0);
    assert_string_equal(out.ptr, "QRuaUehWXh/HlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4=hello world");
    assert_int_equal(out.size, 55);
    size_t index = 99;
    assert_int_equal(
        csession__cookie_open(&plain, &index, ring, SIGNED, "id", 2, out.ptr, out.size), 0);
    assert_string_equal(plain.ptr, "hello world");
    assert_int_equal(plain.size, 11);
    assert_int_equal(index, 0);
    csession_buf_dispose(&out);
    csession_buf_dispose(&plain);
    csession_keyring_free(ring);
}

static void test_aes_vector(void **state)
{
    (void)state;
    skip_without_aes();
    csession_keyring *ring = vector_ring();
    unsigned char nonce[12];
    for (int i = 0; i < 12; i++)
        nonce[i] = (unsigned char)(0xa0 + i);
    csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_seal_nonce(&out, ring, AES, "id", 2, "hello world", 11, nonce,
                                                 sizeof nonce),
                     0);
    assert_string_equal(out.ptr, "oKGio6SlpqeoqaqrFlnIWKv398XTRMnRUugJfvDiFYA0a3MY1CCR");
    size_t index = 99;
    assert_int_equal(
        csession__cookie_open(&plain, &index, ring, AES, "id", 2, out.ptr, out.size), 0);
    assert_string_equal(plain.ptr, "hello world");
    assert_int_equal(index, 0);
    csession_buf_dispose(&out);
    csession_buf_dispose(&plain);
    csession_keyring_free(ring);
}

/* Our own format; the expected text was computed independently of
 * libsodium (HChaCha20 + ChaCha20-Poly1305, BLAKE2b subkey). */
static void test_xchacha_vector(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    unsigned char nonce[24];
    for (int i = 0; i < 24; i++)
        nonce[i] = (unsigned char)(0xb0 + i);
    csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_seal_nonce(&out, ring, XCHACHA, "id", 2, "hello world", 11,
                                                 nonce, sizeof nonce),
                     0);
    assert_string_equal(out.ptr,
                        "AbCxsrO0tba3uLm6u7y9vr_AwcLDxMXGx57b0EFPe_uE5eiUCFJMCdrX1FVbCiMzX0_E0g");
    assert_int_equal(out.size, csession__sealed_len(XCHACHA, 11));
    size_t index = 99;
    assert_int_equal(
        csession__cookie_open(&plain, &index, ring, XCHACHA, "id", 2, out.ptr, out.size), 0);
    assert_string_equal(plain.ptr, "hello world");
    assert_int_equal(index, 0);
    csession_buf_dispose(&out);
    csession_buf_dispose(&plain);
    csession_keyring_free(ring);
}

static void round_trip(const csession_keyring *ring, int mode, const void *value, size_t len)
{
    csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_seal(&out, ring, mode, "session", 7, value, len), 0);
    assert_int_equal(out.size, csession__sealed_len(mode, len));
    assert_int_equal(strlen(out.ptr), out.size);
    size_t index = 99;
    assert_int_equal(
        csession__cookie_open(&plain, &index, ring, mode, "session", 7, out.ptr, out.size), 0);
    assert_int_equal(plain.size, len);
    if (len)
        assert_memory_equal(plain.ptr, value, len);
    assert_int_equal(plain.ptr[len], '\0');
    assert_int_equal(index, 0);
    csession_buf_dispose(&out);
    csession_buf_dispose(&plain);
}

static void test_round_trips(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    static unsigned char big[4096];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7 + 3);
    /* Printable text for the signed mode, whose value travels in clear. */
    static char text[4096];
    memset(text, 'x', sizeof text);

    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        const void *data = mode == SIGNED ? (const void *)text : (const void *)big;
        size_t max = csession__seal_max_value(mode);
        round_trip(ring, mode, "", 0);
        round_trip(ring, mode, state_json, strlen(state_json));
        round_trip(ring, mode, data, 1);
        round_trip(ring, mode, data, max);
        if (mode != SIGNED)
            round_trip(ring, mode, "a\0b\0", 4); /* NUL bytes survive */
        assert_true(csession__sealed_len(mode, max) <= CSESSION__SEALED_MAX);
        assert_true(csession__sealed_len(mode, max + 1) > CSESSION__SEALED_MAX);

        /* One byte more than fits is refused before anything is written. */
        csession_buf out = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&out, ring, mode, "s", 1, data, max + 1),
                         CSESSION_ETOOBIG);
        assert_int_equal(out.size, 0);
        assert_null(out.ptr);
    }
    assert_int_equal(csession__seal_max_value(SIGNED), 4052);
    assert_int_equal(csession__seal_max_value(AES), 3044);
    assert_int_equal(csession__seal_max_value(XCHACHA), 3031);
    assert_int_equal(csession__seal_max_value(0), 0);
    assert_int_equal(csession__sealed_len(0, 10), 0);
    assert_int_equal(csession__sealed_len(SIGNED, SIZE_MAX), SIZE_MAX);
    csession_keyring_free(ring);
}

/* Private values use a fresh nonce: the same state never seals the same. */
static void test_private_nonces_differ(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    for (size_t m = 1; m < 3; m++) {
        if (!usable(all_modes[m]))
            continue;
        csession_buf a = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&a, ring, all_modes[m], "id", 2, "v", 1), 0);
        assert_int_equal(csession__cookie_seal(&b, ring, all_modes[m], "id", 2, "v", 1), 0);
        assert_int_equal(a.size, b.size);
        assert_memory_not_equal(a.ptr, b.ptr, a.size);
        csession_buf_dispose(&a);
        csession_buf_dispose(&b);
    }
    csession_keyring_free(ring);
}

/* Opening must fail with exactly "invalid cookie", leaving out empty. */
static void assert_refused(const csession_keyring *ring, int mode, const char *name,
                           const char *sealed, size_t len)
{
    csession_buf plain = CSESSION_BUF_INIT;
    assert_int_equal(csession__buf_set(&plain, "old", 3), 0);
    size_t index = 42;
    int rc = csession__cookie_open(&plain, &index, ring, mode, name, strlen(name), sealed, len);
    if (rc != CSESSION_EINVALIDCOOKIE)
        fail_msg("mode %d: %zu-byte value opened or failed with %d", mode, len, rc);
    assert_string_equal(csession_last_error(), "invalid cookie");
    assert_int_equal(plain.size, 0);
    assert_int_equal(index, 42);
    csession_buf_dispose(&plain);
}

static void test_every_bit_flip_refused(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf out = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&out, ring, mode, "id", 2, state_json,
                                               strlen(state_json)),
                         0);
        char copy[CSESSION__SEALED_MAX];
        size_t flips = 0;
        for (size_t i = 0; i < out.size; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(copy, out.ptr, out.size);
                copy[i] = (char)(copy[i] ^ (1 << bit));
                assert_refused(ring, mode, "id", copy, out.size);
                flips++;
            }
        }
        assert_int_equal(flips, out.size * 8);
        csession_buf_dispose(&out);
    }
    csession_keyring_free(ring);
}

static void test_every_truncation_refused(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf out = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&out, ring, mode, "id", 2, state_json,
                                               strlen(state_json)),
                         0);
        /* Cut at the end and at the start. */
        for (size_t len = 0; len < out.size; len++) {
            assert_refused(ring, mode, "id", out.ptr, len);
            assert_refused(ring, mode, "id", out.ptr + out.size - len, len);
        }
        /* Extended by one character of the value's own alphabet. */
        char longer[CSESSION__SEALED_MAX];
        memcpy(longer, out.ptr, out.size);
        longer[out.size] = 'A';
        assert_refused(ring, mode, "id", longer, out.size + 1);
        csession_buf_dispose(&out);
    }
    csession_keyring_free(ring);
}

/* The private formats bind the cookie name (associated data); the signed
 * format, as in the `cookie` crate 0.16, signs the value only. */
static void test_other_name(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&out, ring, mode, "id", 2, "v", 1), 0);
        if (mode == SIGNED) {
            assert_int_equal(
                csession__cookie_open(&plain, NULL, ring, mode, "other", 5, out.ptr, out.size), 0);
            assert_string_equal(plain.ptr, "v");
        } else {
            assert_refused(ring, mode, "other", out.ptr, out.size);
            assert_refused(ring, mode, "Id", out.ptr, out.size);
            assert_refused(ring, mode, "", out.ptr, out.size);
        }
        csession_buf_dispose(&out);
        csession_buf_dispose(&plain);
    }
    csession_keyring_free(ring);
}

static void test_other_key_and_mode(void **state)
{
    (void)state;
    static const unsigned char a = 0, b = 1;
    csession_keyring *ring = ring_of(1, &a);
    csession_keyring *other = ring_of(1, &b);
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf out = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&out, ring, mode, "id", 2, state_json,
                                               strlen(state_json)),
                         0);
        assert_refused(other, mode, "id", out.ptr, out.size);
        /* A value of one format never opens as another. */
        for (size_t n = 0; n < 3; n++)
            if (n != m && usable(all_modes[n]))
                assert_refused(ring, all_modes[n], "id", out.ptr, out.size);
        csession_buf_dispose(&out);
    }
    csession_keyring_free(ring);
    csession_keyring_free(other);
}

/* A new key goes first; cookies of the old key still open, reported as old. */
static void test_rotation(void **state)
{
    (void)state;
    static const unsigned char old_first = 0x10, firsts[2] = { 0x50, 0x10 }, new_first = 0x50;
    csession_keyring *old_ring = ring_of(1, &old_first);
    csession_keyring *rotated = ring_of(2, firsts);
    csession_keyring *new_only = ring_of(1, &new_first);
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf old_cookie = CSESSION_BUF_INIT, new_cookie = CSESSION_BUF_INIT;
        csession_buf plain = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&old_cookie, old_ring, mode, "id", 2, "state", 5),
                         0);
        size_t index = 99;
        assert_int_equal(csession__cookie_open(&plain, &index, rotated, mode, "id", 2,
                                               old_cookie.ptr, old_cookie.size),
                         0);
        assert_string_equal(plain.ptr, "state");
        assert_int_equal(index, 1);

        /* Re-issued under the rotated ring: sealed with the new key. */
        assert_int_equal(csession__cookie_seal(&new_cookie, rotated, mode, "id", 2, plain.ptr,
                                               plain.size),
                         0);
        assert_int_equal(csession__cookie_open(&plain, &index, rotated, mode, "id", 2,
                                               new_cookie.ptr, new_cookie.size),
                         0);
        assert_int_equal(index, 0);
        assert_int_equal(csession__cookie_open(&plain, &index, new_only, mode, "id", 2,
                                               new_cookie.ptr, new_cookie.size),
                         0);
        assert_int_equal(index, 0);
        assert_refused(old_ring, mode, "id", new_cookie.ptr, new_cookie.size);
        /* Once the old key is dropped, its cookies are dead. */
        assert_refused(new_only, mode, "id", old_cookie.ptr, old_cookie.size);
        csession_buf_dispose(&old_cookie);
        csession_buf_dispose(&new_cookie);
        csession_buf_dispose(&plain);
    }
    csession_keyring_free(old_ring);
    csession_keyring_free(rotated);
    csession_keyring_free(new_only);
}

static void test_size_limit_and_garbage(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    static char big[CSESSION__SEALED_MAX + 1];
    memset(big, 'A', sizeof big);
    for (size_t m = 0; m < 3; m++) {
        int mode = all_modes[m];
        if (!usable(mode))
            continue;
        csession_buf plain = CSESSION_BUF_INIT;
        assert_int_equal(
            csession__cookie_open(&plain, NULL, ring, mode, "id", 2, big, sizeof big),
            CSESSION_ETOOBIG);
        /* At the limit the value is examined, and refused as forged. */
        assert_refused(ring, mode, "id", big, CSESSION__SEALED_MAX);
        assert_refused(ring, mode, "id", "", 0);
        assert_refused(ring, mode, "id", "%%%%", 4);
        assert_refused(ring, mode, "id", "QRuaUehWXh/HlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4", 43);
        csession_buf_dispose(&plain);
    }
    csession_keyring_free(ring);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring(), *empty;
    assert_int_equal(csession_keyring_new(&empty, 0), 0);
    csession_buf out = CSESSION_BUF_INIT;
    unsigned char nonce[24] = { 0 };

    assert_int_equal(csession__cookie_seal(NULL, ring, SIGNED, "id", 2, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, NULL, SIGNED, "id", 2, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, empty, SIGNED, "id", 2, "v", 1), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "empty"));
    assert_int_equal(csession__cookie_seal(&out, ring, 0, "id", 2, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, ring, 4, "id", 2, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, ring, SIGNED, NULL, 0, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, ring, SIGNED, "id", 2, NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal(&out, ring, SIGNED, "id", 2, NULL, 0), 0);
    assert_int_equal(csession__cookie_seal(&out, ring, SIGNED, "id", CSESSION__SEALED_MAX + 1, "v",
                                           1),
                     CSESSION_ETOOBIG);
    assert_int_equal(csession__cookie_seal_nonce(&out, ring, XCHACHA, "id", 2, "v", 1, nonce, 12),
                     CSESSION_EINVAL);
    assert_int_equal(out.size, 0);
    assert_int_equal(csession__cookie_seal_nonce(&out, ring, XCHACHA, "id", 2, "v", 1, NULL, 24),
                     CSESSION_EINVAL);
    assert_int_equal(csession__cookie_seal_nonce(&out, ring, SIGNED, "id", 2, "v", 1, nonce, 12),
                     CSESSION_EINVAL);

    size_t index;
    assert_int_equal(csession__cookie_open(NULL, &index, ring, SIGNED, "id", 2, "v", 1),
                     CSESSION_EINVAL);
    assert_int_equal(csession__cookie_open(&out, &index, empty, SIGNED, "id", 2, "v", 1),
                     CSESSION_EINVAL);
    assert_int_equal(csession__cookie_open(&out, &index, ring, 9, "id", 2, "v", 1),
                     CSESSION_EINVAL);
    assert_int_equal(csession__cookie_open(&out, &index, ring, SIGNED, "id", 2, NULL, 1),
                     CSESSION_EINVAL);
    csession_buf_dispose(&out);
    csession_keyring_free(ring);
    csession_keyring_free(empty);
}

typedef struct thread_ctx {
    const csession_keyring *ring;
    int mode;
    int failures;
} thread_ctx;

static void *seal_open_loop(void *p)
{
    thread_ctx *ctx = p;
    csession_buf out = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    for (int i = 0; i < 500; i++) {
        size_t index = 9;
        if (csession__cookie_seal(&out, ctx->ring, ctx->mode, "id", 2, state_json,
                                  strlen(state_json)) != 0 ||
            csession__cookie_open(&plain, &index, ctx->ring, ctx->mode, "id", 2, out.ptr,
                                  out.size) != 0 ||
            index != 0 || strcmp(plain.ptr, state_json) != 0)
            ctx->failures++;
    }
    csession_buf_dispose(&out);
    csession_buf_dispose(&plain);
    return NULL;
}

/* One ring, shared by threads sealing and opening at once (run it under
 * ThreadSanitizer with CSESSION_TSAN=ON). */
static void test_shared_ring(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    pthread_t threads[6];
    thread_ctx ctx[6];
    for (int i = 0; i < 6; i++) {
        ctx[i].ring = ring;
        ctx[i].mode = all_modes[i % 3];
        ctx[i].failures = 0;
        if (!usable(ctx[i].mode))
            ctx[i].mode = XCHACHA;
        assert_int_equal(pthread_create(&threads[i], NULL, seal_open_loop, &ctx[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(ctx[i].failures, 0);
    }
    csession_keyring_free(ring);
}

typedef struct oom_ctx {
    csession_keyring *ring;
    int mode;
    const char *sealed;
    size_t sealed_len;
} oom_ctx;

static int seal_body(void *p)
{
    oom_ctx *ctx = p;
    csession_buf out = CSESSION_BUF_INIT;
    int rc = csession__cookie_seal(&out, ctx->ring, ctx->mode, "id", 2, state_json,
                                   strlen(state_json));
    if (rc == 0)
        assert_int_equal(out.size, csession__sealed_len(ctx->mode, strlen(state_json)));
    else
        assert_int_equal(out.size, 0);
    csession_buf_dispose(&out);
    return rc;
}

static int open_body(void *p)
{
    oom_ctx *ctx = p;
    csession_buf out = CSESSION_BUF_INIT;
    size_t index = 7;
    int rc = csession__cookie_open(&out, &index, ctx->ring, ctx->mode, "id", 2, ctx->sealed,
                                   ctx->sealed_len);
    if (rc == 0) {
        assert_string_equal(out.ptr, state_json);
        assert_int_equal(index, 0);
    } else {
        assert_int_equal(out.size, 0);
        assert_int_equal(index, 7);
    }
    csession_buf_dispose(&out);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    csession_keyring *ring = vector_ring();
    for (size_t m = 0; m < 3; m++) {
        if (!usable(all_modes[m]))
            continue;
        csession_buf sealed = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_seal(&sealed, ring, all_modes[m], "id", 2, state_json,
                                               strlen(state_json)),
                         0);
        oom_ctx ctx = { ring, all_modes[m], sealed.ptr, sealed.size };
        oom_install();
        assert_true(oom_run_each_failure(seal_body, &ctx) >= 1);
        assert_true(oom_run_each_failure(open_body, &ctx) >= 1);
        oom_uninstall();
        csession_buf_dispose(&sealed);
    }
    csession_keyring_free(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_vector),
        cmocka_unit_test(test_aes_vector),
        cmocka_unit_test(test_xchacha_vector),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_private_nonces_differ),
        cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_other_name),
        cmocka_unit_test(test_other_key_and_mode),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_size_limit_and_garbage),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_shared_ring),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
