/*
 * library.h: initialisation, version and the allocator hook.
 */
#ifndef CSESSION_LIBRARY_H
#define CSESSION_LIBRARY_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/*
 * Initialises the library (and libsodium). Idempotent and thread-safe; every
 * constructor calls it, so calling it yourself is only needed to learn early
 * that initialisation fails.
 * Returns 0, or CSESSION_ERROR if libsodium cannot be initialised.
 */
CSESSION_EXTERN(int) csession_init(void);

/* The library's version as "MAJOR.MINOR.PATCH" (static string). */
CSESSION_EXTERN(const char *) csession_version(void);

/* The library's version as MAJOR * 10000 + MINOR * 100 + PATCH. */
CSESSION_EXTERN(int) csession_version_number(void);

typedef void *(*csession_malloc_fn)(size_t size);
typedef void *(*csession_realloc_fn)(void *ptr, size_t size);
typedef void (*csession_free_fn)(void *ptr);

/*
 * Replaces the allocator used for every allocation the library makes,
 * including the JSON trees it builds. Pass three NULLs to return to the C
 * library's malloc/realloc/free.
 *
 * Call it before any other csession function and before any other thread
 * uses the library: it is NOT thread-safe, and memory must be freed by the
 * allocator that allocated it.
 *
 * Note: cJSON's allocation hooks are process-wide. Setting an allocator here
 * also installs it for other users of cJSON in the same process; resetting to
 * NULLs restores cJSON's defaults.
 *
 * Returns 0, or CSESSION_EINVAL if only some of the three are NULL.
 */
CSESSION_EXTERN(int) csession_set_allocator(csession_malloc_fn malloc_fn,
                                            csession_realloc_fn realloc_fn,
                                            csession_free_fn free_fn);

CSESSION_END_DECLS

#endif /* CSESSION_LIBRARY_H */
