/* Session keys: 64 alphanumeric characters from libsodium's CSPRNG. */
#include "session_key.h"

#include <sodium.h>

#include "csession/library.h"
#include "error.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_LEN 62
/* The largest multiple of 62 that fits a byte: bytes at or above it are
 * thrown away, so that `byte % 62` is exactly uniform (no modulo bias). */
#define ACCEPT_BELOW (256 / ALPHABET_LEN * ALPHABET_LEN) /* 248 */

void csession__session_key_generate(char out[CSESSION__SESSION_KEY_LEN])
{
    /* 248/256 of the bytes are kept, so 80 random bytes nearly always yield
     * 64 characters in one draw; the loop draws again in the rare case. */
    unsigned char pool[80];
    size_t have = 0;

    while (have < CSESSION__SESSION_KEY_LEN) {
        randombytes_buf(pool, sizeof pool);
        for (size_t i = 0; i < sizeof pool && have < CSESSION__SESSION_KEY_LEN; i++) {
            if (pool[i] < ACCEPT_BELOW)
                out[have++] = alphabet[pool[i] % ALPHABET_LEN];
        }
    }
    sodium_memzero(pool, sizeof pool);
}

void csession__session_key_draw(char out[CSESSION__SESSION_KEY_LEN], void *ctx)
{
    (void)ctx;
    csession__session_key_generate(out);
}

/* 1 for [A-Za-z0-9] (not isalnum(): that one follows the locale). A table,
 * because every request checks a key: three range tests a byte cost four
 * times the instructions. */
#define R10(x) x, x, x, x, x, x, x, x, x, x
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char alnum_ascii[256] = {
    R16(0), R16(0), R16(0),                /* 0x00-0x2F */
    R10(1), 0, 0, 0, 0, 0, 0,              /* 0x30-0x3F: '0'-'9' */
    0, R10(1), R10(1), 1, 1, 1, 1, 1, 1,   /* 0x40-0x5A: 'A'-'Z' */
    0, 0, 0, 0, 0,                         /* 0x5B-0x5F */
    0, R10(1), R10(1), 1, 1, 1, 1, 1, 1,   /* 0x60-0x7A: 'a'-'z' */
    0, 0, 0, 0, 0,                         /* 0x7B-0x7F; 0x80-0xFF are 0 */
};
#undef R10
#undef R16

int csession__session_key_valid(const char *key, size_t len)
{
    if (!key || len != CSESSION__SESSION_KEY_LEN)
        return 0;
    unsigned ok = 1;
    for (size_t i = 0; i < len; i++)
        ok &= alnum_ascii[(unsigned char)key[i]];
    return (int)ok;
}

int csession__key_equal(const void *a, const void *b, size_t len)
{
    if (len == crypto_verify_64_BYTES)
        return crypto_verify_64(a, b) == 0;
    return sodium_memcmp(a, b, len) == 0;
}

size_t csession_session_key_length(void)
{
    return CSESSION_SESSION_KEY_LEN;
}

int csession_session_key_generate(char *out, size_t out_size)
{
    if (!out || out_size < CSESSION_SESSION_KEY_LEN + 1)
        return csession__error(CSESSION_EINVAL, "a session key needs a buffer of %d bytes",
                               CSESSION_SESSION_KEY_LEN + 1);
    int rc = csession_init();
    if (rc)
        return rc;
    csession__session_key_generate(out);
    out[CSESSION_SESSION_KEY_LEN] = '\0';
    return 0;
}

int csession_session_key_valid(const char *key, size_t len)
{
    return csession__session_key_valid(key, len);
}
