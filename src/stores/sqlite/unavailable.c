/*
 * The SQLite store in a build without SQLite: the functions exist, so that
 * programs and bindings link against every build, and say how to get the
 * store. CMake compiles this file instead of the store when libsqlite3 is
 * not found or CSESSION_WITH_SQLITE is OFF.
 */
#include "csession/store_sqlite.h"

#include "error.h"

static int unavailable(void)
{
    return csession__error(CSESSION_EUNSUPPORTED,
                           "this build of csession has no SQLite store: install SQLite's "
                           "development files (Debian/Ubuntu: apt-get install libsqlite3-dev) "
                           "and rebuild csession (cmake -DCSESSION_WITH_SQLITE=ON)");
}

int csession_store_sqlite_new(csession_store **out, const char *path,
                              const csession_store_sqlite_options *opts)
{
    (void)path;
    (void)opts;
    if (out)
        *out = NULL;
    return unavailable();
}

int csession_store_sqlite_cleanup(csession_store *store, size_t max_rows, size_t *removed)
{
    (void)store;
    (void)max_rows;
    if (removed)
        *removed = 0;
    return unavailable();
}
