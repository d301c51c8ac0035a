/* The conformance suite on the SQLite store: a fresh database file per
 * scenario in a temporary directory, and a clock the test moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "conformance.h"
#include "csession/store_sqlite.h"
#include "stores/sqlite/sqlite_store.h"
#include "temp_dir.h"

static int64_t offset_ms;

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return INT64_C(1700000000000) + offset_ms;
}

typedef struct sqlite_target {
    char dir[512];
    unsigned int stores_made;
} sqlite_target;

static int new_store(csession_store **out, void *ctx)
{
    sqlite_target *t = ctx;
    char path[600];
    snprintf(path, sizeof path, "%s/conformance-%u.db", t->dir, ++t->stores_made);
    int rc = csession_store_sqlite_new(out, path, NULL);
    if (!rc)
        rc = csession__store_sqlite_set_clock(*out, test_clock, NULL);
    return rc;
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)store;
    (void)ctx;
    offset_ms += seconds * 1000;
}

int main(void)
{
    static sqlite_target t;
    if (temp_dir_make(t.dir, sizeof t.dir, "conformance-sqlite") != 0)
        return 1;
    conformance_target target = { "sqlite", new_store, advance_time, &t, 1, NULL };
    int failed = conformance_run(&target);
    temp_dir_remove(t.dir);
    return failed;
}
