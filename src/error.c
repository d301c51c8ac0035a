/* Error codes, their descriptions and the per-thread last-error message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MESSAGE_MAX CSESSION__ERROR_MESSAGE_MAX

/* Thread-local so that concurrent requests never see each other's errors;
 * a fixed buffer so that reporting an out-of-memory error cannot fail. */
static _Thread_local int last_code = CSESSION_OK;
static _Thread_local char last_message[MESSAGE_MAX];

const char *csession_strerror(int code)
{
    switch (code) {
    case CSESSION_OK: return "no error";
    case CSESSION_ERROR: return "error";
    case CSESSION_ENOMEM: return "out of memory";
    case CSESSION_EINVAL: return "invalid argument";
    case CSESSION_ENOTFOUND: return "not found";
    case CSESSION_ETYPE: return "value has another type";
    case CSESSION_ERANGE: return "number out of range";
    case CSESSION_ETOOBIG: return "exceeds a size limit";
    case CSESSION_EFORMAT: return "malformed data";
    case CSESSION_EPURGED: return "session was purged";
    case CSESSION_ESTORE: return "session store failure";
    case CSESSION_ETIMEOUT: return "session store timed out";
    case CSESSION_EINVALIDCOOKIE: return "invalid cookie";
    case CSESSION_EUNSUPPORTED: return "not supported on this system";
    case CSESSION_ECONFLICT: return "the session was changed by another request";
    case CSESSION_EGONE: return "the session was ended by another request";
    default: return "unknown error";
    }
}

int csession__error(int code, const char *fmt, ...)
{
    last_code = code;
    if (!fmt) {
        snprintf(last_message, sizeof last_message, "%s", csession_strerror(code));
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    /* A message longer than the buffer is cut; it is diagnostics, not data. */
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return code;
}

const char *csession_last_error(void)
{
    return last_code == CSESSION_OK ? "no error" : last_message;
}

int csession_last_error_code(void)
{
    return last_code;
}

void csession_clear_error(void)
{
    last_code = CSESSION_OK;
    last_message[0] = '\0';
}

void csession__error_save(csession__error_saved *out)
{
    out->code = last_code;
    memcpy(out->message, last_message, sizeof out->message);
}

void csession__error_restore(const csession__error_saved *saved)
{
    last_code = saved->code;
    memcpy(last_message, saved->message, sizeof last_message);
}
