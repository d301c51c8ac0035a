/* Master keys: generation, derivation from a secret, and text forms. */
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "cookie/keyring.h"
#include "csession/keys.h"
#include "csession/library.h"
#include "error.h"

/* The `cookie` crate's KEYS_INFO: changing one byte breaks compatibility. */
static const char derive_info[] = "COOKIE;SIGNED:HMAC-SHA256;PRIVATE:AEAD-AES-256-GCM";

/* Key text longer than this is refused before decoding (a key is at most
 * 128 characters, plus whitespace). */
#define KEY_TEXT_MAX 1024

size_t csession_key_bytes(void)
{
    return CSESSION_KEY_BYTES;
}

size_t csession_key_secret_min_bytes(void)
{
    return CSESSION_KEY_SECRET_MIN_BYTES;
}

static int check_key_arg(const unsigned char *key, size_t key_len)
{
    if (!key)
        return csession__error(CSESSION_EINVAL, "key buffer is NULL");
    if (key_len != CSESSION_KEY_BYTES)
        return csession__error(CSESSION_EINVAL, "a key is %d bytes, not %zu", CSESSION_KEY_BYTES,
                               key_len);
    return 0;
}

int csession_key_generate(unsigned char *key, size_t key_len)
{
    int rc = check_key_arg(key, key_len);
    if (rc)
        return rc;
    rc = csession_init();
    if (rc)
        return rc;
    randombytes_buf(key, key_len);
    return 0;
}

/*
 * HKDF-Expand (RFC 5869 2.3) with HMAC-SHA256: T(i) = HMAC(prk, T(i-1) ||
 * info || i). libsodium 1.0.18 has no HKDF, but its incremental HMAC accepts
 * a key of any length, which is all Expand needs.
 */
static void hkdf_sha256_expand(unsigned char *out, size_t out_len, const unsigned char *prk,
                               size_t prk_len, const unsigned char *info, size_t info_len)
{
    crypto_auth_hmacsha256_state st;
    unsigned char t[crypto_auth_hmacsha256_BYTES];
    size_t t_len = 0;
    unsigned char counter = 1;

    while (out_len > 0) {
        crypto_auth_hmacsha256_init(&st, prk, prk_len);
        crypto_auth_hmacsha256_update(&st, t, t_len);
        crypto_auth_hmacsha256_update(&st, info, info_len);
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        t_len = sizeof t;
        size_t n = out_len < t_len ? out_len : t_len;
        memcpy(out, t, n);
        out += n;
        out_len -= n;
        counter++;
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(t, sizeof t);
}

int csession_key_derive(unsigned char *key, size_t key_len, const unsigned char *secret,
                        size_t secret_len)
{
    int rc = check_key_arg(key, key_len);
    if (rc)
        return rc;
    sodium_memzero(key, key_len);
    if (!secret)
        return csession__error(CSESSION_EINVAL, "secret is NULL");
    if (secret_len < CSESSION_KEY_SECRET_MIN_BYTES)
        return csession__error(CSESSION_EINVAL,
                               "secret is %zu bytes; deriving a key needs at least %d", secret_len,
                               CSESSION_KEY_SECRET_MIN_BYTES);
    rc = csession_init();
    if (rc)
        return rc;
    hkdf_sha256_expand(key, key_len, secret, secret_len, (const unsigned char *)derive_info,
                       sizeof derive_info - 1);
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int decode_hex(unsigned char *key, const char *text, size_t len)
{
    size_t bin_len = 0;
    if (sodium_hex2bin(key, CSESSION_KEY_BYTES, text, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != CSESSION_KEY_BYTES)
        return csession__error(CSESSION_EFORMAT,
                               "key text of 128 characters is not hexadecimal");
    return 0;
}

/*
 * Base64 in any of libsodium's four variants. The text is decoded into a
 * scratch buffer large enough for any input, so that a wrong length can be
 * reported in bytes. libsodium's decoder is constant-time: the key text is
 * secret.
 */
static int decode_base64(unsigned char *key, const char *text, size_t len)
{
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING
    };
    unsigned char scratch[KEY_TEXT_MAX];
    size_t bin_len = 0;
    int decoded = 0;

    /* libsodium 1.0.18 reads a byte with the top bit set as a signed char
     * and takes '/' | 0x80 for '/' (and so on): refuse such bytes first,
     * without branching on the secret. */
    unsigned int high = 0;
    for (size_t i = 0; i < len; i++)
        high |= (unsigned char)text[i];
    if (high & 0x80)
        return csession__error(CSESSION_EFORMAT,
                               "key text (%zu characters) is neither 128 hexadecimal digits nor "
                               "base64",
                               len);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0] && !decoded; i++)
        decoded = sodium_base642bin(scratch, sizeof scratch, text, len, NULL, &bin_len, NULL,
                                    variants[i]) == 0;
    if (decoded && bin_len == CSESSION_KEY_BYTES)
        memcpy(key, scratch, CSESSION_KEY_BYTES);
    sodium_memzero(scratch, sizeof scratch);
    if (!decoded)
        return csession__error(CSESSION_EFORMAT,
                               "key text (%zu characters) is neither 128 hexadecimal digits nor "
                               "base64",
                               len);
    if (bin_len != CSESSION_KEY_BYTES)
        return csession__error(CSESSION_EFORMAT, "key text decodes to %zu bytes; a key is %d",
                               bin_len, CSESSION_KEY_BYTES);
    return 0;
}

int csession_key_from_text(unsigned char *key, size_t key_len, const char *text, size_t text_len)
{
    int rc = check_key_arg(key, key_len);
    if (rc)
        return rc;
    sodium_memzero(key, key_len);
    if (!text)
        return csession__error(CSESSION_EINVAL, "key text is NULL");
    if (text_len > KEY_TEXT_MAX)
        return csession__error(CSESSION_EFORMAT, "key text is %zu characters; a key is at most 128",
                               text_len);
    rc = csession_init();
    if (rc)
        return rc;
    while (text_len > 0 && is_space(text[0])) {
        text++;
        text_len--;
    }
    while (text_len > 0 && is_space(text[text_len - 1]))
        text_len--;
    if (text_len == 0)
        return csession__error(CSESSION_EFORMAT, "key text is empty");

    /* 128 hex digits would be 96 bytes as base64, so the forms never clash. */
    rc = text_len == 2 * CSESSION_KEY_BYTES ? decode_hex(key, text, text_len)
                                            : decode_base64(key, text, text_len);
    if (rc)
        sodium_memzero(key, key_len);
    return rc;
}

int csession_key_to_text(csession_buf *out, const unsigned char *key, size_t key_len)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "output buffer is NULL");
    csession__buf_clear(out);
    int rc = check_key_arg(key, key_len);
    if (rc)
        return rc;
    rc = csession__buf_grow(out, 2 * CSESSION_KEY_BYTES);
    if (rc)
        return rc;
    /* Writes 128 digits and the NUL, which the buffer always has room for. */
    sodium_bin2hex(out->ptr, 2 * CSESSION_KEY_BYTES + 1, key, key_len);
    out->size = 2 * CSESSION_KEY_BYTES;
    return 0;
}

void csession__key_xchacha_subkey(unsigned char out[crypto_aead_xchacha20poly1305_ietf_KEYBYTES],
                                  const unsigned char master[CSESSION_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1, "CSESSXC1",
                               master + CSESSION__SIGN_KEY_BYTES);
}
