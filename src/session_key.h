/* Internal: minting and checking session keys. */
#ifndef CSESSION_SRC_SESSION_KEY_H
#define CSESSION_SRC_SESSION_KEY_H

#include <stddef.h>

#include "csession/sys/store.h"

#define CSESSION__SESSION_KEY_LEN CSESSION_SESSION_KEY_LEN

/*
 * Fills `out` with CSESSION__SESSION_KEY_LEN characters from [A-Za-z0-9]
 * (no NUL), uniform and independent, from libsodium's CSPRNG. libsodium must
 * be initialised (csession_init()). Cannot fail.
 */
void csession__session_key_generate(char out[CSESSION__SESSION_KEY_LEN]);

/* The same in the shape of the stores' replaceable key generators (`ctx`
 * unused): their default. */
void csession__session_key_draw(char out[CSESSION__SESSION_KEY_LEN], void *ctx);

/* 1 when `key` has exactly the shape generate() makes, else 0. */
int csession__session_key_valid(const char *key, size_t len);

/*
 * 1 when a[0..len) and b[0..len) are equal, else 0, in time that depends on
 * len only (keys are secrets). libsodium's crypto_verify_64 for the usual
 * 64-byte key (SSE2, about 20 times fewer instructions than sodium_memcmp
 * on it), sodium_memcmp for other lengths.
 */
int csession__key_equal(const void *a, const void *b, size_t len);

#endif
