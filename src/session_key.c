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

static int is_alnum_ascii(unsigned char c)
{
    /* Not isalnum(): that one follows the locale. */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int csession__session_key_valid(const char *key, size_t len)
{
    if (!key || len != CSESSION__SESSION_KEY_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum_ascii((unsigned char)key[i]))
            return 0;
    }
    return 1;
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
