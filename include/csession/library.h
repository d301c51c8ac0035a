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

/*
 * Optional parts of the library, as bits of csession_features(). The values
 * are part of the ABI: they never change, and new parts take the next free
 * bit (0x8u, 0x10u, ...). A program built against an
 * older header simply does not ask for the newer bits.
 */
/* The Redis store (csession_store_redis_new()); in every build today. */
#define CSESSION_FEATURE_REDIS 0x1u
/* The SQLite store (csession_store_sqlite_new()), compiled in when
 * libsqlite3 was found at build time (CMake option CSESSION_WITH_SQLITE). */
#define CSESSION_FEATURE_SQLITE 0x2u
/* TLS to Redis (rediss:// URLs), compiled in when OpenSSL 3 was found at
 * build time (CMake option CSESSION_WITH_TLS). */
#define CSESSION_FEATURE_TLS 0x4u

/*
 * The CSESSION_FEATURE_* bits of the parts this build of the library
 * includes. Functions of a part that is left out still exist and fail with
 * CSESSION_EUNSUPPORTED. Thread-safe.
 */
CSESSION_EXTERN(unsigned int) csession_features(void);

/*
 * 1 when this build includes the part named `name` ("redis", "sqlite", "tls";
 * ASCII, lower case, NUL-terminated), 0 when it does not or the name is
 * unknown or NULL. The same answer as csession_features(), for bindings
 * that cannot read macros. Thread-safe.
 */
CSESSION_EXTERN(int) csession_has_feature(const char *name);

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
