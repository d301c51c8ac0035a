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

/* Shorthand for the most common failure. */
#define csession__oom() csession__error(CSESSION_ENOMEM, NULL)

#endif
