/*
 * cookie_security.h: how the session cookie's value is protected.
 *
 * docs/cookie-formats.md gives the byte layout of each format and
 * docs/security.md what each one protects against.
 */
#ifndef CSESSION_COOKIE_SECURITY_H
#define CSESSION_COOKIE_SECURITY_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/* The values are part of the ABI. */
typedef enum csession_cookie_security {
    /* Integrity only: the value is readable by the client, but cannot be
     * changed or forged. HMAC-SHA256, the `cookie` crate's signed format. */
    CSESSION_COOKIE_SIGNED = 1,
    /* Integrity and confidentiality with AES-256-GCM, the `cookie` crate's
     * private format (what actix-session writes by default). Needs a CPU
     * with AES-NI; see csession_cookie_security_check(). */
    CSESSION_COOKIE_PRIVATE_AES256GCM = 2,
    /* Integrity and confidentiality with XChaCha20-Poly1305, on every CPU.
     * This library's own format; the default. */
    CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305 = 3
} csession_cookie_security;

/*
 * Tells whether `mode` (a csession_cookie_security) can be used on this
 * machine. Returns 0, CSESSION_EUNSUPPORTED for AES-256-GCM on a CPU without
 * the AES-NI and carry-less multiply instructions, CSESSION_EINVAL for an
 * unknown mode, or CSESSION_ERROR if libsodium cannot be initialised. The
 * thread's last-error message says why. Thread-safe.
 */
CSESSION_EXTERN(int) csession_cookie_security_check(int mode);

/* A static name for `mode`: "signed", "private-aes256gcm",
 * "private-xchacha20poly1305", or "unknown". */
CSESSION_EXTERN(const char *) csession_cookie_security_name(int mode);

CSESSION_END_DECLS

#endif /* CSESSION_COOKIE_SECURITY_H */
