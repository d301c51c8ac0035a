/* Helpers of the SQLite store's tests: see sqlite_support.h. */
#include "sqlite_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession/errors.h"
#include "stores/sqlite/sqlite_store.h"

int64_t sqlite_test_now_ms = INT64_C(1700000000000);

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return sqlite_test_now_ms;
}

const char *sqlite_test_path(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
    return out;
}

csession_store *sqlite_test_store(const char *path, const csession_store_sqlite_options *opts)
{
    csession_store *s = NULL;
    int rc = csession_store_sqlite_new(&s, path, opts);
    if (rc)
        fprintf(stderr, "csession_store_sqlite_new(%s): %s\n", path, csession_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(csession__store_sqlite_set_clock(s, test_clock, NULL), 0);
    return s;
}

sqlite3 *sqlite_test_raw(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    /* Read once, so that the connection knows the file's journal mode (a
     * checkpoint on a connection that has not read yet does nothing). */
    sqlite_test_int(db, "SELECT count(*) FROM sqlite_master");
    return db;
}

long long sqlite_test_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    long long v = -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return v;
}

int sqlite_test_intact(const char *path)
{
    sqlite3 *db = sqlite_test_raw(path);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    int ok = sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok)
        fprintf(stderr, "integrity_check of %s: %s\n", path,
                (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}
