/*
 * csession - web session management for C.
 * common.h: export macro, attributes and the library-wide conventions.
 *
 * Conventions that hold for every function unless its comment says otherwise:
 *  - Functions return 0 (CSESSION_OK) on success or a negative CSESSION_E*
 *    code; the thread's last-error message (csession_last_error()) then says
 *    what went wrong.
 *  - Constructors take the out-parameter first, set *out = NULL on failure,
 *    and have a matching *_free() that accepts NULL.
 *  - Memory returned by the library is released by the library's own
 *    functions (csession_buf_dispose(), *_free()), never by free().
 *  - Strings are UTF-8. Where a length is given, the bytes need not be
 *    NUL-terminated; where only a `const char *` is taken it must be.
 *  - Thread safety: functions on distinct objects may run concurrently.
 *    A csession object belongs to one thread at a time. Configuration and
 *    manager objects are immutable once created and may be shared.
 */
#ifndef CSESSION_COMMON_H
#define CSESSION_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "csession/version.h"

#if defined(_WIN32) && defined(CSESSION_SHARED_BUILD)
#  define CSESSION_EXTERN(type) __declspec(dllexport) type
#elif defined(_WIN32) && defined(CSESSION_SHARED)
#  define CSESSION_EXTERN(type) __declspec(dllimport) type
#elif defined(__GNUC__)
#  define CSESSION_EXTERN(type) __attribute__((visibility("default"))) type
#else
#  define CSESSION_EXTERN(type) type
#endif

/* Results that must be looked at (verification, decoding). */
#if defined(__GNUC__)
#  define CSESSION_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define CSESSION_WARN_UNUSED
#endif

#ifdef __cplusplus
#  define CSESSION_BEGIN_DECLS extern "C" {
#  define CSESSION_END_DECLS }
#else
#  define CSESSION_BEGIN_DECLS
#  define CSESSION_END_DECLS
#endif

#endif /* CSESSION_COMMON_H */
