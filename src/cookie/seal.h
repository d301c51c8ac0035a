/*
 * Internal: sealing a cookie value (sign or encrypt) and opening it again.
 * Formats: docs/cookie-formats.md. No I/O; safe to call from any thread on
 * a shared key ring.
 */
#ifndef CSESSION_SRC_COOKIE_SEAL_H
#define CSESSION_SRC_COOKIE_SEAL_H

#include <stddef.h>

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/cookie_security.h"
#include "csession/keys.h"

/* Longest sealed value, in bytes, as it is after percent-decoding (the
 * browsers' 4096-byte limit on a cookie). */
#define CSESSION__SEALED_MAX 4096

/* Nonce sizes of the private formats. */
#define CSESSION__AES_NONCE_BYTES 12
#define CSESSION__XCHACHA_NONCE_BYTES 24
/* First byte of every XChaCha20-Poly1305 blob: the format version. */
#define CSESSION__XCHACHA_VERSION 0x01

/*
 * Length in bytes of `value_len` bytes once sealed in `mode`, or 0 when the
 * mode is unknown. May exceed CSESSION__SEALED_MAX: callers compare.
 */
size_t csession__sealed_len(int mode, size_t value_len);

/* Longest value that seals within CSESSION__SEALED_MAX in `mode` (0 for an
 * unknown mode): 4052 signed, 3044 AES-256-GCM, 3031 XChaCha20-Poly1305. */
size_t csession__seal_max_value(int mode);

/*
 * Seals `value` (`value_len` bytes, any bytes) for the cookie `name` with the
 * ring's first key, and writes the cookie value (printable ASCII, not yet
 * percent-encoded) into `out`, replacing its contents. Private modes draw a
 * fresh random nonce. `out` must not overlap `value` or `name`.
 * Returns 0, or:
 *  CSESSION_EINVAL       NULL argument, unknown mode, empty ring;
 *  CSESSION_EUNSUPPORTED AES-256-GCM without AES-NI;
 *  CSESSION_ETOOBIG      the result would exceed CSESSION__SEALED_MAX (checked
 *                        before any work);
 *  CSESSION_ENOMEM.
 * On failure `out` is empty.
 */
int csession__cookie_seal(csession_buf *out, const csession_keyring *ring, int mode,
                          const char *name, size_t name_len, const void *value, size_t value_len);

/*
 * csession__cookie_seal() with a caller-chosen nonce, for test vectors only:
 * reusing a nonce under one key breaks both private formats. `nonce_len`
 * must be the mode's nonce size (0 for signed).
 */
int csession__cookie_seal_nonce(csession_buf *out, const csession_keyring *ring, int mode,
                                const char *name, size_t name_len, const void *value,
                                size_t value_len, const unsigned char *nonce, size_t nonce_len);

/*
 * Opens the cookie value `sealed` (`sealed_len` bytes, percent-decoded) of
 * the cookie `name`, trying each key of the ring in order, and writes the
 * original value into `out` (replacing its contents; NUL-terminated, but the
 * value may hold NUL bytes in the private modes). `*key_index`, when not
 * NULL, receives the index of the key that opened it: anything but 0 means
 * the cookie should be sealed again with the current key.
 * Returns 0, or:
 *  CSESSION_EINVALIDCOOKIE  forged, tampered, truncated, sealed for another
 *                           cookie name or with a key not in the ring, or
 *                           not in the mode's format; the message is only
 *                           "invalid cookie", whatever the reason;
 *  CSESSION_ETOOBIG         sealed_len > CSESSION__SEALED_MAX (checked before
 *                           any work);
 *  CSESSION_EINVAL, CSESSION_EUNSUPPORTED, CSESSION_ENOMEM as for sealing.
 * On failure `out` is empty and *key_index unchanged.
 */
int csession__cookie_open(csession_buf *out, size_t *key_index, const csession_keyring *ring,
                          int mode, const char *name, size_t name_len, const char *sealed,
                          size_t sealed_len) CSESSION_WARN_UNUSED;

#endif
