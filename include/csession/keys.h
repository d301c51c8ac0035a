/*
 * keys.h: cookie master keys and the key ring that seals and opens cookies.
 *
 * A master key is 64 bytes, the layout of the Rust `cookie` crate's `Key`:
 * bytes 0..31 are the HMAC-SHA256 signing key, bytes 32..63 the encryption
 * key. The same 64 bytes work with actix-web services that use that crate.
 *
 * A key ring holds one or more master keys. The first key added is the
 * current one: it seals every new cookie. Every key in the ring opens
 * cookies, so a key can be rotated by adding the new key first and keeping
 * the old one for as long as cookies sealed under it should stay valid.
 *
 * Thread safety: the key functions are reentrant. A key ring is built by one
 * thread (csession_keyring_new() and csession_keyring_add*()); once built it
 * is never modified by the library and may be shared by any number of
 * threads, which may seal and open concurrently. Adding keys while other
 * threads use the ring is not allowed.
 */
#ifndef CSESSION_KEYS_H
#define CSESSION_KEYS_H

#include "csession/buf.h"
#include "csession/common.h"

CSESSION_BEGIN_DECLS

/* Size of a master key in bytes (64). Also csession_key_bytes(). */
#define CSESSION_KEY_BYTES 64
/* Shortest secret csession_key_derive() accepts, in bytes (32). */
#define CSESSION_KEY_SECRET_MIN_BYTES 32
/* Most keys a ring holds (16). Opening a forged cookie tries every key, so
 * the bound also bounds the work an attacker can cause per request. */
#define CSESSION_KEYRING_MAX_KEYS 16

/* Flags of csession_keyring_new(). */
/* Lock the pages that hold the keys into RAM (mlock), so that they are never
 * written to swap. Best effort: when the system refuses (RLIMIT_MEMLOCK),
 * the key is still added; csession_keyring_locked() tells the outcome. */
#define CSESSION_KEYRING_MLOCK 0x1u
/* Like CSESSION_KEYRING_MLOCK, but adding a key fails with
 * CSESSION_EUNSUPPORTED when its memory cannot be locked. */
#define CSESSION_KEYRING_MLOCK_REQUIRED 0x2u

/* CSESSION_KEY_BYTES, for bindings that cannot read macros. */
CSESSION_EXTERN(size_t) csession_key_bytes(void);
/* CSESSION_KEY_SECRET_MIN_BYTES, for bindings that cannot read macros. */
CSESSION_EXTERN(size_t) csession_key_secret_min_bytes(void);
/* CSESSION_KEYRING_MAX_KEYS, for bindings that cannot read macros. */
CSESSION_EXTERN(size_t) csession_keyring_max_keys(void);

/*
 * Fills `key` (`key_len` must be CSESSION_KEY_BYTES) with a new random
 * master key from libsodium's CSPRNG.
 * Returns 0, CSESSION_EINVAL (NULL key or wrong key_len), or CSESSION_ERROR
 * if libsodium cannot be initialised.
 */
CSESSION_EXTERN(int) csession_key_generate(unsigned char *key, size_t key_len);

/*
 * Derives a master key from `secret`, exactly as the Rust `cookie` crate's
 * `Key::derive_from()` does: HKDF-SHA256 Expand (RFC 5869, section 2.3) with
 * `secret` as the pseudorandom key, info
 * "COOKIE;SIGNED:HMAC-SHA256;PRIVATE:AEAD-AES-256-GCM" and 64 bytes of
 * output. There is no Extract step and no salt: `secret` must already be
 * uniformly random (a generated key, not a password).
 *
 * `key_len` must be CSESSION_KEY_BYTES; `secret_len` at least
 * CSESSION_KEY_SECRET_MIN_BYTES. Returns 0 or CSESSION_EINVAL (the key is
 * zeroed on failure).
 */
CSESSION_EXTERN(int) csession_key_derive(unsigned char *key, size_t key_len,
                                         const unsigned char *secret, size_t secret_len);

/*
 * Decodes a master key written as text: 128 hexadecimal digits (either case)
 * or base64 of exactly 64 bytes, in the standard or the URL-safe alphabet,
 * with or without padding (88 or 86 characters). Leading and trailing ASCII
 * whitespace is ignored, so a line read from a file or the environment can be
 * passed as is. `text` is `text_len` bytes and need not be NUL-terminated.
 *
 * Returns 0, CSESSION_EINVAL (NULL argument, key_len not CSESSION_KEY_BYTES)
 * or CSESSION_EFORMAT (not hex or base64, or not 64 bytes; the message says
 * which). The key is zeroed on failure.
 */
CSESSION_EXTERN(int) csession_key_from_text(unsigned char *key, size_t key_len, const char *text,
                                            size_t text_len);

/*
 * Writes `key` as 128 lowercase hexadecimal digits into `out` (replacing its
 * contents), a form csession_key_from_text() reads back.
 * Returns 0, CSESSION_EINVAL or CSESSION_ENOMEM.
 */
CSESSION_EXTERN(int) csession_key_to_text(csession_buf *out, const unsigned char *key,
                                          size_t key_len);

/* A set of master keys; see the top of this file. */
typedef struct csession_keyring csession_keyring;

/*
 * Creates an empty key ring. `flags` is 0 or one of CSESSION_KEYRING_MLOCK
 * and CSESSION_KEYRING_MLOCK_REQUIRED.
 * Returns 0, CSESSION_EINVAL (unknown flag bits), CSESSION_ENOMEM, or
 * CSESSION_ERROR if libsodium cannot be initialised. On failure *out is NULL.
 * The caller owns *out and releases it with csession_keyring_free().
 */
CSESSION_EXTERN(int) csession_keyring_new(csession_keyring **out, unsigned int flags);

/* Wipes every key and releases the ring. NULL is a no-op. */
CSESSION_EXTERN(void) csession_keyring_free(csession_keyring *ring);

/*
 * Adds a copy of the master key `key` (`key_len` must be CSESSION_KEY_BYTES)
 * at the end of the ring. The first key added seals; all keys open. The
 * caller may wipe its copy afterwards.
 * Returns 0, or:
 *  CSESSION_EINVAL       NULL argument, wrong key_len, or the key is already
 *                        in the ring;
 *  CSESSION_ETOOBIG      the ring already holds CSESSION_KEYRING_MAX_KEYS;
 *  CSESSION_EUNSUPPORTED (CSESSION_KEYRING_MLOCK_REQUIRED only) the memory
 *                        could not be locked;
 *  CSESSION_ENOMEM.
 * On failure the ring is unchanged.
 */
CSESSION_EXTERN(int) csession_keyring_add(csession_keyring *ring, const unsigned char *key,
                                          size_t key_len);

/* csession_key_from_text() followed by csession_keyring_add(); the decoded
 * key never leaves the library. Same return codes as both. */
CSESSION_EXTERN(int) csession_keyring_add_text(csession_keyring *ring, const char *text,
                                               size_t text_len);

/* csession_key_derive() followed by csession_keyring_add(). */
CSESSION_EXTERN(int) csession_keyring_add_derived(csession_keyring *ring,
                                                  const unsigned char *secret, size_t secret_len);

/* Number of keys in the ring (0 for NULL). */
CSESSION_EXTERN(size_t) csession_keyring_count(const csession_keyring *ring);

/*
 * 1 when the ring was created with a lock flag and the memory of every key
 * in it is locked into RAM, else 0 (also for an empty ring or NULL).
 */
CSESSION_EXTERN(int) csession_keyring_locked(const csession_keyring *ring);

CSESSION_END_DECLS

#endif /* CSESSION_KEYS_H */
