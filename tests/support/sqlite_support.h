/* Helpers of the SQLite store's tests: stores on files in a temporary
 * directory, with a clock the test moves, and a look at the file from a
 * connection of the test's own. */
#ifndef CSESSION_TEST_SQLITE_SUPPORT_H
#define CSESSION_TEST_SQLITE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "csession/store_sqlite.h"

/* The clock every store made by sqlite_test_store() reads: unix ms. */
extern int64_t sqlite_test_now_ms;

/* `dir`/`name` into out[0..size); the path, or aborts when it does not fit. */
const char *sqlite_test_path(char *out, size_t size, const char *dir, const char *name);

/* A store on `path` with options `opts` (NULL: defaults) and the test
 * clock; fails the test if it cannot be made. */
csession_store *sqlite_test_store(const char *path, const csession_store_sqlite_options *opts);

/* A connection of the test's own to `path` (fails the test otherwise). */
sqlite3 *sqlite_test_raw(const char *path);

/* The first column of the first row of `sql` as an integer (-1: no row). */
long long sqlite_test_int(sqlite3 *db, const char *sql);

/* `PRAGMA integrity_check` of the file: 1 when it says "ok". */
int sqlite_test_intact(const char *path);

#endif
