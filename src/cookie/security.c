/* Which cookie security modes exist, and which this machine can run. */
#include <sodium.h>

#include "csession/cookie_security.h"
#include "csession/library.h"
#include "error.h"

int csession_cookie_security_check(int mode)
{
    switch (mode) {
    case CSESSION_COOKIE_SIGNED:
    case CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305:
        return 0;
    case CSESSION_COOKIE_PRIVATE_AES256GCM: {
        /* libsodium detects the CPU's features in sodium_init(). */
        int rc = csession_init();
        if (rc)
            return rc;
        if (!crypto_aead_aes256gcm_is_available())
            return csession__error(CSESSION_EUNSUPPORTED,
                                   "AES-256-GCM cookies need a CPU with AES-NI and PCLMUL, which "
                                   "this one lacks; use XChaCha20-Poly1305 cookies instead");
        return 0;
    }
    default:
        return csession__error(CSESSION_EINVAL, "unknown cookie security mode %d", mode);
    }
}

const char *csession_cookie_security_name(int mode)
{
    switch (mode) {
    case CSESSION_COOKIE_SIGNED: return "signed";
    case CSESSION_COOKIE_PRIVATE_AES256GCM: return "private-aes256gcm";
    case CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305: return "private-xchacha20poly1305";
    default: return "unknown";
    }
}
