/* Sealing and opening cookie values: signed, AES-256-GCM, XChaCha20-Poly1305. */
#include "cookie/seal.h"

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "cookie/base64.h"
#include "cookie/hmac_sha256.h"
#include "cookie/keyring.h"
#include "error.h"

/* The signed format's MAC as base64 with padding: 32 bytes, 44 characters. */
#define MAC_TEXT_LEN 44
#define AES_OVERHEAD (CSESSION__AES_NONCE_BYTES + crypto_aead_aes256gcm_ABYTES)
#define XCHACHA_OVERHEAD \
    (1 + CSESSION__XCHACHA_NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* The largest blob whose base64 fits the sealed limit (no padding either). */
#define BLOB_MAX (CSESSION__SEALED_MAX / 4 * 3)

/* Signed and AES-256-GCM use the `cookie` crate's base64; XChaCha20-Poly1305
 * uses the URL-safe alphabet, which needs no percent-encoding. */
#define AES_VARIANT CSESSION__B64_STANDARD_PADDED
#define XCHACHA_VARIANT CSESSION__B64_URLSAFE_UNPADDED

size_t csession__sealed_len(int mode, size_t value_len)
{
    /* Far beyond any limit, and small enough that nothing below overflows. */
    if (value_len > SIZE_MAX / 2)
        return SIZE_MAX;
    switch (mode) {
    case CSESSION_COOKIE_SIGNED: return MAC_TEXT_LEN + value_len;
    case CSESSION_COOKIE_PRIVATE_AES256GCM:
        return csession__b64_encoded_len(AES_OVERHEAD + value_len, AES_VARIANT);
    case CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305:
        return csession__b64_encoded_len(XCHACHA_OVERHEAD + value_len, XCHACHA_VARIANT);
    default: return 0;
    }
}

size_t csession__seal_max_value(int mode)
{
    switch (mode) {
    case CSESSION_COOKIE_SIGNED: return CSESSION__SEALED_MAX - MAC_TEXT_LEN;
    case CSESSION_COOKIE_PRIVATE_AES256GCM: return BLOB_MAX - AES_OVERHEAD;
    case CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305: return BLOB_MAX - XCHACHA_OVERHEAD;
    default: return 0;
    }
}

static size_t nonce_bytes(int mode)
{
    switch (mode) {
    case CSESSION_COOKIE_PRIVATE_AES256GCM: return CSESSION__AES_NONCE_BYTES;
    case CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305: return CSESSION__XCHACHA_NONCE_BYTES;
    default: return 0;
    }
}

/* Checks shared by sealing and opening; the first key in *key. */
static int check_args(const csession_keyring *ring, int mode, const char *name, size_t name_len,
                      const void *data, size_t data_len, const csession__key **key)
{
    if (!ring || !name || (!data && data_len))
        return csession__error(CSESSION_EINVAL, "key ring, name or value is NULL");
    if (mode < CSESSION_COOKIE_SIGNED || mode > CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305)
        return csession__error(CSESSION_EINVAL, "unknown cookie security mode %d", mode);
    if (name_len > CSESSION__SEALED_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie name is %zu bytes; the limit is %d",
                               name_len, CSESSION__SEALED_MAX);
    *key = csession__keyring_key(ring, 0);
    if (!*key)
        return csession__error(CSESSION_EINVAL, "the key ring is empty");
    if (mode == CSESSION_COOKIE_PRIVATE_AES256GCM && !(*key)->aes_ready) {
        int rc = csession_cookie_security_check(mode);
        return rc ? rc : csession__error(CSESSION_EUNSUPPORTED, "AES-256-GCM keys are not set up");
    }
    return 0;
}

int csession__cookie_seal_nonce(csession_buf *out, const csession_keyring *ring, int mode,
                                const char *name, size_t name_len, const void *value,
                                size_t value_len, const unsigned char *nonce, size_t nonce_len)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "output buffer is NULL");
    csession__buf_clear(out);
    const csession__key *k = NULL;
    int rc = check_args(ring, mode, name, name_len, value, value_len, &k);
    if (rc)
        return rc;
    if (nonce_len != nonce_bytes(mode) || (nonce_len && !nonce))
        return csession__error(CSESSION_EINVAL, "a %s nonce is %zu bytes",
                               csession_cookie_security_name(mode), nonce_bytes(mode));
    size_t len = csession__sealed_len(mode, value_len);
    if (len > CSESSION__SEALED_MAX)
        return csession__error(CSESSION_ETOOBIG,
                               "a %zu-byte value seals to %zu bytes; a cookie holds %d",
                               value_len, len, CSESSION__SEALED_MAX);
    rc = csession__buf_grow(out, len);
    if (rc)
        return rc;

    unsigned char blob[BLOB_MAX];
    unsigned long long clen = 0;
    switch (mode) {
    case CSESSION_COOKIE_SIGNED: {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        csession__hmac_sha256(mac, &k->hmac, value, value_len);
        csession__b64_encode(out->ptr, mac, sizeof mac, AES_VARIANT);
        if (value_len)
            memcpy(out->ptr + MAC_TEXT_LEN, value, value_len);
        break;
    }
    case CSESSION_COOKIE_PRIVATE_AES256GCM:
        memcpy(blob, nonce, CSESSION__AES_NONCE_BYTES);
        crypto_aead_aes256gcm_encrypt_afternm(blob + CSESSION__AES_NONCE_BYTES, &clen, value,
                                              value_len, (const unsigned char *)name, name_len,
                                              NULL, nonce, &k->aes);
        csession__b64_encode(out->ptr, blob, CSESSION__AES_NONCE_BYTES + (size_t)clen,
                             AES_VARIANT);
        break;
    default: /* XChaCha20-Poly1305: the version is bound through the subkey. */
        blob[0] = CSESSION__XCHACHA_VERSION;
        memcpy(blob + 1, nonce, CSESSION__XCHACHA_NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(
            blob + 1 + CSESSION__XCHACHA_NONCE_BYTES, &clen, value, value_len,
            (const unsigned char *)name, name_len, NULL, nonce, k->xchacha);
        csession__b64_encode(out->ptr, blob, 1 + CSESSION__XCHACHA_NONCE_BYTES + (size_t)clen,
                             XCHACHA_VARIANT);
        break;
    }
    out->size = len;
    out->ptr[len] = '\0';
    return 0;
}

int csession__cookie_seal(csession_buf *out, const csession_keyring *ring, int mode,
                          const char *name, size_t name_len, const void *value, size_t value_len)
{
    unsigned char nonce[CSESSION__XCHACHA_NONCE_BYTES];
    size_t n = nonce_bytes(mode);
    if (n)
        randombytes_buf(nonce, n);
    return csession__cookie_seal_nonce(out, ring, mode, name, name_len, value, value_len,
                                       n ? nonce : NULL, n);
}

/* The open functions return the index of the key that opened the value,
 * -1 when none did, or CSESSION_ENOMEM. */
#define NO_KEY (-1)

static int open_signed(csession_buf *out, const csession_keyring *ring, const char *sealed,
                       size_t sealed_len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    unsigned char expected[crypto_auth_hmacsha256_BYTES];
    size_t mac_len = 0;
    if (sealed_len < MAC_TEXT_LEN ||
        csession__b64_decode(mac, sizeof mac, &mac_len, sealed, MAC_TEXT_LEN, AES_VARIANT) != 0 ||
        mac_len != sizeof mac)
        return NO_KEY;
    const char *value = sealed + MAC_TEXT_LEN;
    size_t value_len = sealed_len - MAC_TEXT_LEN;
    const csession__key *k = NULL;
    for (size_t i = 0; (k = csession__keyring_key(ring, i)) != NULL; i++) {
        csession__hmac_sha256(expected, &k->hmac, value, value_len);
        if (crypto_verify_32(expected, mac) == 0)
            return csession__buf_set(out, value, value_len) ? CSESSION_ENOMEM : (int)i;
    }
    return NO_KEY;
}

/* Decodes the base64 of a private format into blob; its length, or 0. */
static size_t decode_blob(unsigned char blob[BLOB_MAX], const char *sealed, size_t sealed_len,
                          csession__b64_variant variant)
{
    size_t blob_len = 0;
    if (csession__b64_decode(blob, BLOB_MAX, &blob_len, sealed, sealed_len, variant) != 0)
        return 0;
    return blob_len;
}

static int open_aes(csession_buf *out, const csession_keyring *ring, const char *name,
                    size_t name_len, const char *sealed, size_t sealed_len)
{
    unsigned char blob[BLOB_MAX];
    size_t blob_len = decode_blob(blob, sealed, sealed_len, AES_VARIANT);
    if (blob_len < AES_OVERHEAD)
        return NO_KEY;
    const unsigned char *nonce = blob;
    const unsigned char *ct = blob + CSESSION__AES_NONCE_BYTES;
    size_t ct_len = blob_len - CSESSION__AES_NONCE_BYTES;
    if (csession__buf_grow(out, ct_len - crypto_aead_aes256gcm_ABYTES))
        return CSESSION_ENOMEM;

    const csession__key *k = NULL;
    unsigned long long mlen = 0;
    for (size_t i = 0; (k = csession__keyring_key(ring, i)) != NULL; i++) {
        if (crypto_aead_aes256gcm_decrypt_afternm((unsigned char *)out->ptr, &mlen, NULL, ct,
                                                  ct_len, (const unsigned char *)name, name_len,
                                                  nonce, &k->aes) == 0) {
            out->size = (size_t)mlen;
            out->ptr[out->size] = '\0';
            return (int)i;
        }
    }
    return NO_KEY;
}

static int open_xchacha(csession_buf *out, const csession_keyring *ring, const char *name,
                        size_t name_len, const char *sealed, size_t sealed_len)
{
    unsigned char blob[BLOB_MAX];
    size_t blob_len = decode_blob(blob, sealed, sealed_len, XCHACHA_VARIANT);
    if (blob_len < XCHACHA_OVERHEAD || blob[0] != CSESSION__XCHACHA_VERSION)
        return NO_KEY;
    const unsigned char *nonce = blob + 1;
    const unsigned char *ct = nonce + CSESSION__XCHACHA_NONCE_BYTES;
    size_t ct_len = blob_len - 1 - CSESSION__XCHACHA_NONCE_BYTES;
    if (csession__buf_grow(out, ct_len - crypto_aead_xchacha20poly1305_ietf_ABYTES))
        return CSESSION_ENOMEM;

    const csession__key *k = NULL;
    unsigned long long mlen = 0;
    for (size_t i = 0; (k = csession__keyring_key(ring, i)) != NULL; i++) {
        if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out->ptr, &mlen, NULL, ct,
                                                       ct_len, (const unsigned char *)name,
                                                       name_len, nonce, k->xchacha) == 0) {
            out->size = (size_t)mlen;
            out->ptr[out->size] = '\0';
            return (int)i;
        }
    }
    return NO_KEY;
}

int csession__cookie_open(csession_buf *out, size_t *key_index, const csession_keyring *ring,
                          int mode, const char *name, size_t name_len, const char *sealed,
                          size_t sealed_len)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "output buffer is NULL");
    csession__buf_clear(out);
    if (sealed_len > CSESSION__SEALED_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie value is %zu bytes; the limit is %d",
                               sealed_len, CSESSION__SEALED_MAX);
    const csession__key *first = NULL;
    int rc = check_args(ring, mode, name, name_len, sealed, sealed_len, &first);
    if (rc)
        return rc;

    switch (mode) {
    case CSESSION_COOKIE_SIGNED: rc = open_signed(out, ring, sealed, sealed_len); break;
    case CSESSION_COOKIE_PRIVATE_AES256GCM:
        rc = open_aes(out, ring, name, name_len, sealed, sealed_len);
        break;
    default: rc = open_xchacha(out, ring, name, name_len, sealed, sealed_len); break;
    }
    if (rc == CSESSION_ENOMEM)
        return csession__oom();
    if (rc == NO_KEY) {
        /* Failed decryptions leave zeros; wipe anyway, whatever was written. */
        if (out->ptr)
            sodium_memzero(out->ptr, out->capacity);
        out->size = 0;
        /* Never say why: the reason would help forging. */
        return csession__error(CSESSION_EINVALIDCOOKIE, "invalid cookie");
    }
    if (key_index)
        *key_index = (size_t)rc;
    return 0;
}
