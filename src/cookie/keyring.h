/* Internal: the per-key state the sealing code works from. */
#ifndef CSESSION_SRC_COOKIE_KEYRING_H
#define CSESSION_SRC_COOKIE_KEYRING_H

#include <stddef.h>

#include <sodium.h>

#include "csession/keys.h"

#define CSESSION__SIGN_KEY_BYTES 32
#define CSESSION__ENCRYPT_KEY_BYTES 32

/*
 * One master key and everything computed from it once, when it is added, so
 * that sealing and opening a cookie never repeat per-key work:
 *  - the HMAC-SHA256 state after absorbing the signing key (the inner and
 *    outer pads are already hashed; a MAC is a copy, an update and a final);
 *  - the expanded AES-256 key schedule and GHASH key (when AES-NI exists);
 *  - the XChaCha20-Poly1305 key, a subkey of the encryption key.
 * Read-only after csession_keyring_add(); shared by all threads.
 */
typedef struct csession__key {
    crypto_aead_aes256gcm_state aes; /* first: libsodium needs it 16-aligned */
    crypto_auth_hmacsha256_state hmac;
    unsigned char xchacha[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned char master[CSESSION_KEY_BYTES];
    int aes_ready; /* `aes` was set up (AES-NI present) */
} csession__key;

/* The index-th key (0 = the one that seals), or NULL past the end. */
const csession__key *csession__keyring_key(const csession_keyring *ring, size_t index);

/* A new ring with the same flags and keys, in the same order (owned by the
 * caller). 0, or the codes of csession_keyring_new()/add(); *out NULL then. */
int csession__keyring_copy(const csession_keyring *src, csession_keyring **out);

/*
 * The XChaCha20-Poly1305 key of a master key: crypto_kdf_derive_from_key()
 * (BLAKE2b) of the encryption key (bytes 32..63), subkey id 1, context
 * "CSESSXC1". A subkey keeps the two ciphers from ever sharing a key.
 */
void csession__key_xchacha_subkey(unsigned char out[crypto_aead_xchacha20poly1305_ietf_KEYBYTES],
                                  const unsigned char master[CSESSION_KEY_BYTES]);

#endif
