/* Internal: HMAC-SHA256 of signed cookies, on the x86 SHA extensions when
 * the CPU has them. */
#ifndef CSESSION_SRC_COOKIE_HMAC_SHA256_H
#define CSESSION_SRC_COOKIE_HMAC_SHA256_H

#include <stddef.h>

#include <sodium.h>

#define CSESSION__HMAC_SHA256_BYTES 32

/*
 * The HMAC-SHA256 of msg under the key that `keyed` was set up with by
 * crypto_auth_hmacsha256_init() (a key of at most 64 bytes: both pads
 * hashed, nothing buffered). Same bytes as libsodium's update + final on a
 * copy of `keyed`, which is what runs when the CPU lacks the SHA extensions
 * or `keyed` is not in that shape. `keyed` is not modified; thread-safe.
 */
void csession__hmac_sha256(unsigned char mac[CSESSION__HMAC_SHA256_BYTES],
                           const crypto_auth_hmacsha256_state *keyed, const void *msg,
                           size_t len);

/* The same through libsodium only (the reference the tests compare with). */
void csession__hmac_sha256_portable(unsigned char mac[CSESSION__HMAC_SHA256_BYTES],
                                    const crypto_auth_hmacsha256_state *keyed, const void *msg,
                                    size_t len);

/* 1 when this build and CPU run csession__hmac_sha256() on the SHA
 * extensions, else 0. */
int csession__hmac_sha256_accelerated(void);

#endif
