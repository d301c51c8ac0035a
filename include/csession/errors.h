/*
 * errors.h: error codes and the per-thread last-error message.
 *
 * The last error (csession_last_error(), csession_last_error_code()) is
 * kept per OS thread, in thread-local storage: it describes the most recent
 * failing csession call made on the calling OS thread, and any later
 * csession call on that thread may replace it. Read it on the same thread,
 * right after the call that failed. Runtimes that move their own tasks
 * between OS threads need care: a Go goroutine may run on another thread
 * after any cgo call, so read the message inside the same cgo call (a small
 * C wrapper that makes the call and copies csession_last_error()), or hold
 * the thread with runtime.LockOSThread() around both calls. The same holds
 * for coroutines or green threads that can resume elsewhere.
 */
#ifndef CSESSION_ERRORS_H
#define CSESSION_ERRORS_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/*
 * Every failing function returns one of these negative codes. The values
 * are part of the ABI: they never change, new codes are only appended.
 */
typedef enum csession_error_code {
    CSESSION_OK = 0,
    CSESSION_ERROR = -1,        /* unclassified failure */
    CSESSION_ENOMEM = -2,       /* an allocation failed; nothing was changed */
    CSESSION_EINVAL = -3,       /* an argument is invalid (NULL, bad UTF-8, ...) */
    CSESSION_ENOTFOUND = -4,    /* no such key / session; not a failure of the library */
    CSESSION_ETYPE = -5,        /* the value exists but has another JSON type */
    CSESSION_ERANGE = -6,       /* a number does not fit the requested C type */
    CSESSION_ETOOBIG = -7,      /* input or output exceeds a documented limit */
    CSESSION_EFORMAT = -8,      /* malformed data (JSON, state, header, key text) */
    CSESSION_EPURGED = -9,      /* the session was purged; the change was ignored */
    CSESSION_ESTORE = -10,      /* the session store failed (I/O, server error) */
    CSESSION_ETIMEOUT = -11,    /* the store did not answer in time */
    CSESSION_EINVALIDCOOKIE = -12, /* a sealed value failed to verify or decrypt */
    CSESSION_EUNSUPPORTED = -13, /* not available here (e.g. AES-GCM without AES-NI) */
    CSESSION_ECONFLICT = -14,   /* another request changed the same session keys: reload, redo */
    CSESSION_EGONE = -15        /* another request ended the session (logout, renewal) */
} csession_error_code;

/*
 * Returns a static, human-readable description of `code` (never NULL; an
 * unknown code gives "unknown error"). Thread-safe; does not block.
 */
CSESSION_EXTERN(const char *) csession_strerror(int code);

/*
 * Returns the message of the most recent failure on the calling OS thread,
 * or "no error" if none happened yet. Never NULL. The pointer is borrowed:
 * it is valid until the next csession call on the same thread. Thread-safe
 * (each OS thread has its own message; see the top of this file for
 * runtimes that move tasks between threads). Does not block.
 */
CSESSION_EXTERN(const char *) csession_last_error(void);

/*
 * Returns the code of the most recent failure on the calling OS thread, or
 * CSESSION_OK if none happened yet. Thread-safe; does not block.
 */
CSESSION_EXTERN(int) csession_last_error_code(void);

/* Resets the calling OS thread's last error to CSESSION_OK / "no error". */
CSESSION_EXTERN(void) csession_clear_error(void);

CSESSION_END_DECLS

#endif /* CSESSION_ERRORS_H */
