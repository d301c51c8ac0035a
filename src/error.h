/* Internal: setting the per-thread last error. */
#ifndef CSESSION_SRC_ERROR_H
#define CSESSION_SRC_ERROR_H

#include "csession/errors.h"

#if defined(__GNUC__)
#  define CSESSION__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define CSESSION__PRINTF(a, b)
#endif

/*
 * Records `code` and a message for the calling thread and returns `code`, so
 * that failures read `return csession__error(CSESSION_EINVAL, "...", ...);`.
 * A NULL format uses csession_strerror(code).
 */
int csession__error(int code, const char *fmt, ...) CSESSION__PRINTF(2, 3);

/* The calling thread's last error, saved around code that may replace it
 * (a log handler that calls back into the library). */
#define CSESSION__ERROR_MESSAGE_MAX 512
typedef struct csession__error_saved {
    int code;
    char message[CSESSION__ERROR_MESSAGE_MAX];
} csession__error_saved;

void csession__error_save(csession__error_saved *out);
void csession__error_restore(const csession__error_saved *saved);

/* Shorthand for the most common failure. */
#define csession__oom() csession__error(CSESSION_ENOMEM, NULL)

#endif
