/* The SQLite store in one process: options, the file it makes, every
 * operation and its codes, revisions, expiry and the cleanup budget, the
 * busy timeout, secure deletion, key collisions, threads and out-of-memory
 * paths. Processes, crashes and broken disks: test_store_sqlite_procs.c. */
/* MAP_ANONYMOUS */
#define _DEFAULT_SOURCE

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "csession.h"
#include "csession/store_sqlite.h"
#include "oom.h"
#include "sqlite_support.h"
#include "store.h"
#include "store_calls.h"
#include "stores/sqlite/sqlite_store.h"
#include "temp_dir.h"

#define TTL 3600

static char dir[512];

static const char *path_of(char *buf, size_t size, const char *name)
{
    return sqlite_test_path(buf, size, dir, name);
}

/* A store on a new file of its own in the test directory. */
static csession_store *fresh(const char *name, const csession_store_sqlite_options *opts,
                             char *path, size_t path_size)
{
    path_of(path, path_size, name);
    unlink(path);
    return sqlite_test_store(path, opts);
}

/* `size - 1` times `c`, and a NUL. */
static char *fill_text(char *buf, size_t size, char c)
{
    memset(buf, c, size - 1);
    buf[size - 1] = '\0';
    return buf;
}

static long long rows(const char *path)
{
    sqlite3 *db = sqlite_test_raw(path);
    long long n = sqlite_test_int(db, "SELECT count(*) FROM csession_sessions");
    sqlite3_close(db);
    return n;
}

static uint64_t revision_of(csession_store *s, const char *key)
{
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t rev = 0;
    assert_int_equal(s->load_rev(s, key, strlen(key), 0, &b, &rev), 0);
    csession_buf_dispose(&b);
    return rev;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options --------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    csession_store_sqlite_options o;
    memset(&o, 0xff, sizeof o);
    assert_int_equal(csession_store_sqlite_options_init(&o, CSESSION_STORE_SQLITE_OPTIONS_VERSION),
                     0);
    assert_int_equal(o.version, 1);
    assert_int_equal(o.busy_timeout_ms, 0);
    assert_int_equal(o.journal_mode, 0);
    assert_int_equal(o.cleanup_budget, 0);
    assert_int_equal(csession_store_sqlite_options_version(), 1);
    assert_int_equal(csession_store_sqlite_options_init(&o, 2), CSESSION_EINVAL);
    assert_int_equal(csession_store_sqlite_options_init(&o, 0), CSESSION_EINVAL);
    assert_int_equal(csession_store_sqlite_options_init(NULL, 1), CSESSION_EINVAL);

    char path[600];
    path_of(path, sizeof path, "options.db");
    struct {
        unsigned int version, busy;
        int journal, sync;
        size_t max_state;
        unsigned int budget;
    } bad[] = {
        { 0, 0, 0, 0, 0, 0 },
        { 2, 0, 0, 0, 0, 0 },
        { 1, CSESSION_STORE_SQLITE_LIMIT_BUSY_TIMEOUT_MS + 1, 0, 0, 0, 0 },
        { 1, 0, 5, 0, 0, 0 },
        { 1, 0, -1, 0, 0, 0 },
        { 1, 0, 0, 4, 0, 0 },
        /* NORMAL only with WAL */
        { 1, 0, CSESSION_STORE_SQLITE_JOURNAL_DELETE, CSESSION_STORE_SQLITE_SYNC_NORMAL, 0, 0 },
        { 1, 0, 0, 0, (size_t)CSESSION_STORE_SQLITE_LIMIT_MAX_STATE_BYTES + 1, 0 },
        { 1, 0, 0, 0, 0, CSESSION_STORE_SQLITE_LIMIT_CLEANUP_BUDGET + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.version = bad[i].version;
        o.busy_timeout_ms = bad[i].busy;
        o.journal_mode = bad[i].journal;
        o.synchronous = bad[i].sync;
        o.max_state_bytes = bad[i].max_state;
        o.cleanup_budget = bad[i].budget;
        csession_store *s = (csession_store *)&o; /* must be overwritten with NULL */
        assert_int_equal(csession_store_sqlite_new(&s, path, &o), CSESSION_EINVAL);
        assert_null(s);
    }
    /* Nothing was created for options that were refused. */
    assert_int_equal(access(path, F_OK), -1);
}

/* Options are read by their version: first the version alone, then only
 * the bytes that version has. Here the struct ends right before a page
 * that cannot be read. */
static void test_options_read_by_version(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    char path[600], k[65];
    path_of(path, sizeof path, "by-version.db");

    /* A version this library does not know is refused from the version
     * field alone: nothing after it is read (it may not exist). */
    csession_store_sqlite_options *o = (csession_store_sqlite_options *)(map + page - 8);
    o->version = 7;
    csession_store *s = NULL;
    assert_int_equal(csession_store_sqlite_new(&s, path, o), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "version 7"));
    assert_null(s);

    /* Version 1, with its last field set: read to its end. */
    o = (csession_store_sqlite_options *)(map + page - sizeof *o);
    memset(o, 0, sizeof *o);
    o->version = 1;
    o->max_state_bytes = 50;
    o->cleanup_budget = 2; /* the last field of version 1 */
    s = fresh("by-version.db", o, path, sizeof path);
    csession_buf out = CSESSION_BUF_INIT;
    char big[51] = { 0 };
    assert_int_equal(s->save(s, big, 51, TTL, &out), CSESSION_ETOOBIG);
    for (int i = 0; i < 5; i++)
        store_save_str(s, "short", 1, k);
    sqlite_test_now_ms += 1000;
    store_save_str(s, "reclaims two", TTL, k);
    assert_int_equal(rows(path), 4);
    csession_buf_dispose(&out);
    csession_store_free(s);
    munmap(map, (size_t)page * 2);
}

/* What each option does to a connection. */
static void test_options_reach_connections(void **state)
{
    (void)state;
    char path[600], v[32];
    csession_store *s = fresh("defaults.db", NULL, path, sizeof path);
    assert_int_equal(csession__store_sqlite_pragma(s, "journal_mode", v, sizeof v), 0);
    assert_string_equal(v, "wal");
    assert_int_equal(csession__store_sqlite_pragma(s, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "1"); /* NORMAL */
    assert_int_equal(csession__store_sqlite_pragma(s, "secure_delete", v, sizeof v), 0);
    assert_string_equal(v, "1");
    assert_int_equal(csession__store_sqlite_pragma(s, "auto_vacuum", v, sizeof v), 0);
    assert_string_equal(v, "2"); /* INCREMENTAL */
    assert_int_equal(csession__store_sqlite_pragma(s, "trusted_schema", v, sizeof v), 0);
    assert_string_equal(v, "0");
    csession_store_free(s);

    csession_store_sqlite_options o = CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.journal_mode = CSESSION_STORE_SQLITE_JOURNAL_DELETE;
    o.busy_timeout_ms = 50;
    s = fresh("delete.db", &o, path, sizeof path);
    assert_int_equal(csession__store_sqlite_pragma(s, "journal_mode", v, sizeof v), 0);
    assert_string_equal(v, "delete");
    assert_int_equal(csession__store_sqlite_pragma(s, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "2"); /* FULL, the default without WAL */
    csession_store_free(s);

    o = (csession_store_sqlite_options)CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.synchronous = CSESSION_STORE_SQLITE_SYNC_EXTRA;
    s = fresh("extra.db", &o, path, sizeof path);
    assert_int_equal(csession__store_sqlite_pragma(s, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "3");
    csession_store_free(s);
}

/* ---- the file -------------------------------------------------------------- */

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_file_mode_and_layout(void **state)
{
    (void)state;
    char path[600], side[700], key[65];
    mode_t old = umask(0);
    csession_store *s = fresh("mode.db", NULL, path, sizeof path);
    umask(old);
    assert_int_equal(mode_of(path), 0600);
    store_save_str(s, "secret", TTL, key);
    /* SQLite makes the WAL and its index with the database's mode. */
    snprintf(side, sizeof side, "%s-wal", path);
    assert_int_equal(mode_of(side), 0600);
    snprintf(side, sizeof side, "%s-shm", path);
    assert_int_equal(mode_of(side), 0600);

    sqlite3 *db = sqlite_test_raw(path);
    assert_int_equal(sqlite_test_int(db, "PRAGMA application_id"), 0x63736573);
    assert_int_equal(sqlite_test_int(db, "PRAGMA user_version"), 1);
    /* The row is under the SHA-256 of the key; the key is nowhere. */
    unsigned char id[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(id, (const unsigned char *)key, 64);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM csession_sessions WHERE id = ?1"
                                            " AND revision = 1 AND state = CAST('secret' AS BLOB)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM csession_sessions"
                                            " WHERE instr(id, ?1) OR instr(state, ?1)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC); /* not even a part of it */
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    csession_store_free(s);

    /* An existing file keeps its mode, and its sessions. */
    assert_int_equal(chmod(path, 0640), 0);
    s = sqlite_test_store(path, NULL);
    assert_int_equal(mode_of(path), 0640);
    store_expect_str(s, key, "secret");
    csession_store_free(s);
}

/* Opening a store on a file set up already, and reading, writes nothing. */
static void test_opening_writes_nothing(void **state)
{
    (void)state;
    char path[600], wal[700], key[65];
    csession_store *s = fresh("quiet.db", NULL, path, sizeof path);
    store_save_str(s, "kept", TTL, key);
    csession_store_free(s); /* the last connection: WAL copied back and removed */
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    assert_true(stat(wal, &st) != 0 || st.st_size == 0);
    s = sqlite_test_store(path, NULL);
    store_expect_str(s, key, "kept");
    assert_true(stat(wal, &st) != 0 || st.st_size == 0);
    csession_store_free(s);
}

static void test_path_checks(void **state)
{
    (void)state;
    csession_store *s = NULL;
    assert_int_equal(csession_store_sqlite_new(NULL, "x.db", NULL), CSESSION_EINVAL);
    assert_int_equal(csession_store_sqlite_new(&s, NULL, NULL), CSESSION_EINVAL);
    assert_int_equal(csession_store_sqlite_new(&s, "", NULL), CSESSION_EINVAL);
    assert_int_equal(csession_store_sqlite_new(&s, ":memory:", NULL), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "file path"));
    char *longpath = malloc(CSESSION_STORE_SQLITE_LIMIT_PATH + 2);
    memset(longpath, 'a', CSESSION_STORE_SQLITE_LIMIT_PATH + 1);
    longpath[CSESSION_STORE_SQLITE_LIMIT_PATH + 1] = '\0';
    assert_int_equal(csession_store_sqlite_new(&s, longpath, NULL), CSESSION_EINVAL);
    free(longpath);
    /* A directory, and a directory that does not exist. */
    assert_int_equal(csession_store_sqlite_new(&s, dir, NULL), CSESSION_EINVAL);
    assert_null(s);
    char path[600];
    path_of(path, sizeof path, "missing/dir/x.db");
    assert_int_equal(csession_store_sqlite_new(&s, path, NULL), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), path));
    assert_null(s);
}

static void test_foreign_files(void **state)
{
    (void)state;
    char path[600];
    csession_store *s = NULL;
    /* Not a database at all. */
    path_of(path, sizeof path, "text.db");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database file, just some text\n", f);
    fclose(f);
    assert_int_equal(csession_store_sqlite_new(&s, path, NULL), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "not a database"));
    assert_null(s);

    /* Another application's database is left alone. */
    path_of(path, sizeof path, "other.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(csession_store_sqlite_new(&s, path, NULL), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "not a csession session store"));
    db = sqlite_test_raw(path);
    assert_int_equal(sqlite_test_int(db, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete"); /* not made WAL */
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* A store of a newer layout is refused, not misread. */
    char key[65];
    s = fresh("newer.db", NULL, path, sizeof path);
    store_save_str(s, "kept", TTL, key);
    csession_store_free(s);
    db = sqlite_test_raw(path);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    assert_int_equal(csession_store_sqlite_new(&s, path, NULL), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "newer csession"));
    assert_null(s);
}

/* A relative path names the file of the directory the store was made in. */
static void test_relative_path(void **state)
{
    (void)state;
    char cwd[1024], key[65], abs[600];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    unlink("relative.db");
    csession_store *s = sqlite_test_store("relative.db", NULL);
    assert_int_equal(chdir("/"), 0);
    store_save_str(s, "here", TTL, key);
    store_expect_str(s, key, "here");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rows(path_of(abs, sizeof abs, "relative.db")), 1);
    assert_non_null(strstr(csession__store_sqlite_path(s), "/relative.db"));
    assert_int_equal(csession__store_sqlite_path(s)[0], '/');
    csession_store_free(s);
}

/* ---- operations ------------------------------------------------------------- */

static void test_save_load(void **state)
{
    (void)state;
    char path[600], k1[65], k2[65];
    csession_store *s = fresh("save.db", NULL, path, sizeof path);
    assert_int_equal(csession__store_check(s), 0);
    assert_true(csession__store_is_sqlite(s));
    assert_int_equal(s->version, CSESSION_STORE_VERSION);
    assert_non_null(s->load_rev);
    assert_non_null(s->update_if);
    assert_non_null(s->remove_if);
    assert_int_equal(s->flags, 0);
    store_save_str(s, "{\"v\":1,\"state\":{\"user\":\"\\\"alice\\\"\"}}", TTL, k1);
    store_save_str(s, "{\"v\":1,\"state\":{\"user\":\"\\\"bob\\\"\"}}", TTL, k2);
    assert_string_not_equal(k1, k2);
    store_expect_str(s, k1, "{\"v\":1,\"state\":{\"user\":\"\\\"alice\\\"\"}}");
    store_expect_str(s, k2, "{\"v\":1,\"state\":{\"user\":\"\\\"bob\\\"\"}}");
    assert_int_equal(revision_of(s, k1), 1);
    assert_int_equal(rows(path), 2);

    /* States are bytes: embedded NULs and an empty state survive. */
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "a\0b", 3, TTL, &key), 0);
    assert_int_equal(s->load(s, key.ptr, key.size, &b), 0);
    assert_int_equal(b.size, 3);
    assert_memory_equal(b.ptr, "a\0b", 3);
    assert_int_equal(s->save(s, NULL, 0, TTL, &key), 0);
    assert_int_equal(s->load(s, key.ptr, key.size, &b), 0);
    assert_int_equal(b.size, 0);

    /* Unknown and malformed keys are not found. */
    char unknown[65];
    memcpy(unknown, k1, 65);
    unknown[0] = unknown[0] == 'A' ? 'B' : 'A';
    store_expect_str(s, unknown, NULL);
    assert_int_equal(s->load(s, "short", 5, &b), CSESSION_ENOTFOUND);
    assert_int_equal(s->load(s, "k1\0", 3, &b), CSESSION_ENOTFOUND);
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);

    /* One thread reuses one connection. */
    csession__sqlite_stats st;
    assert_int_equal(csession__store_sqlite_stats(s, &st), 0);
    assert_int_equal(st.opened, 2); /* the set-up connection, and the one since */
    assert_int_equal(st.idle, 1);
    csession_store_free(s);
}

static void test_update(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("update.db", NULL, path, sizeof path);
    store_save_str(s, "one", TTL, k);
    csession_buf out = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, k, 64, "two", 3, TTL, &out), 0);
    assert_int_equal(out.size, 64);
    assert_memory_equal(out.ptr, k, 64);
    store_expect_str(s, k, "two");
    assert_int_equal(revision_of(s, k), 2);
    assert_int_equal(s->update(s, k, 64, "three", 5, TTL, &out), 0);
    assert_int_equal(revision_of(s, k), 3);

    /* Gone since it was loaded: saved under a new key, at revision 1. */
    assert_int_equal(s->remove(s, k, 64), 0);
    assert_int_equal(s->update(s, k, 64, "four", 4, TTL, &out), 0);
    assert_int_equal(out.size, 64);
    assert_memory_not_equal(out.ptr, k, 64);
    store_expect_str(s, k, NULL);
    store_expect_str(s, out.ptr, "four");
    assert_int_equal(revision_of(s, out.ptr), 1);

    /* A key this store could not have made: a new key too. */
    assert_int_equal(s->update(s, "garbage", 7, "five", 4, TTL, &out), 0);
    assert_true(csession_session_key_valid(out.ptr, out.size));
    store_expect_str(s, out.ptr, "five");

    /* An expired key is gone for update too. */
    char e[65];
    store_save_str(s, "old", 10, e);
    sqlite_test_now_ms += 11000;
    assert_int_equal(s->update(s, e, 64, "new", 3, TTL, &out), 0);
    assert_memory_not_equal(out.ptr, e, 64);
    store_expect_str(s, out.ptr, "new");
    csession_buf_dispose(&out);
    csession_store_free(s);
}

static void test_update_if(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("update_if.db", NULL, path, sizeof path);
    store_save_str(s, "r1", TTL, k);
    assert_int_equal(s->update_if(s, k, 64, 1, "r2", 2, TTL), 0);
    assert_int_equal(revision_of(s, k), 2);
    store_expect_str(s, k, "r2");
    /* A stale revision: conflict, nothing written. */
    assert_int_equal(s->update_if(s, k, 64, 1, "stale", 5, TTL), CSESSION_ECONFLICT);
    assert_int_equal(s->update_if(s, k, 64, 3, "ahead", 5, TTL), CSESSION_ECONFLICT);
    assert_int_equal(s->update_if(s, k, 64, 0, "zero", 4, TTL), CSESSION_ECONFLICT);
    assert_int_equal(s->update_if(s, k, 64, UINT64_MAX, "max", 3, TTL), CSESSION_ECONFLICT);
    store_expect_str(s, k, "r2");
    assert_int_equal(revision_of(s, k), 2);
    assert_int_equal(s->update_if(s, k, 64, 2, "r3", 2, TTL), 0);
    assert_int_equal(revision_of(s, k), 3);

    /* Gone: not found, and never brought back. */
    assert_int_equal(s->remove(s, k, 64), 0);
    assert_int_equal(s->update_if(s, k, 64, 3, "back", 4, TTL), CSESSION_ENOTFOUND);
    store_expect_str(s, k, NULL);
    assert_int_equal(rows(path), 0);
    /* Expired: the same. */
    store_save_str(s, "short", 5, k);
    sqlite_test_now_ms += 5000;
    assert_int_equal(s->update_if(s, k, 64, 1, "late", 4, TTL), CSESSION_ENOTFOUND);
    store_expect_str(s, k, NULL);
    assert_int_equal(s->update_if(s, "nope", 4, 1, "x", 1, TTL), CSESSION_ENOTFOUND);
    csession_store_free(s);
}

static void test_remove_if(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("remove_if.db", NULL, path, sizeof path);
    store_save_str(s, "r1", TTL, k);
    assert_int_equal(s->update_if(s, k, 64, 1, "r2", 2, TTL), 0);
    assert_int_equal(s->remove_if(s, k, 64, 1), CSESSION_ECONFLICT);
    store_expect_str(s, k, "r2");
    assert_int_equal(s->remove_if(s, k, 64, 2), 0);
    store_expect_str(s, k, NULL);
    assert_int_equal(s->remove_if(s, k, 64, 2), CSESSION_ENOTFOUND);
    assert_int_equal(s->remove_if(s, "nope", 4, 2), CSESSION_ENOTFOUND);
    store_save_str(s, "short", 5, k);
    sqlite_test_now_ms += 5000;
    assert_int_equal(s->remove_if(s, k, 64, 1), CSESSION_ENOTFOUND);
    csession_store_free(s);
}

static void test_ttl_and_touch(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("ttl.db", NULL, path, sizeof path);
    store_save_str(s, "live", 10, k);
    sqlite_test_now_ms += 9000;
    store_expect_str(s, k, "live");
    /* update_ttl: 10 more seconds from now, same state and revision. */
    assert_int_equal(s->update_ttl(s, k, 64, 10), 0);
    sqlite_test_now_ms += 9000;
    store_expect_str(s, k, "live");
    assert_int_equal(revision_of(s, k), 1);
    /* load_rev with a touch: read and extended in one statement. */
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t rev = 0;
    assert_int_equal(s->load_rev(s, k, 64, 10, &b, &rev), 0);
    assert_string_equal(b.ptr, "live");
    assert_int_equal(rev, 1);
    sqlite_test_now_ms += 9000;
    assert_int_equal(s->load_rev(s, k, 64, 0, &b, &rev), 0); /* no touch */
    sqlite_test_now_ms += 1000;
    /* Exactly at the deadline it is gone, for load and for a touch. */
    assert_int_equal(s->load_rev(s, k, 64, 10, &b, &rev), CSESSION_ENOTFOUND);
    store_expect_str(s, k, NULL);
    assert_int_equal(s->update_ttl(s, k, 64, 10), 0);
    store_expect_str(s, k, NULL);
    /* Absent and malformed keys: nothing to do, no error. */
    assert_int_equal(s->update_ttl(s, "nope", 4, 10), 0);
    assert_int_equal(s->remove(s, "nope", 4), 0);
    assert_int_equal(s->remove(s, k, 64), 0);
    assert_int_equal(s->update_ttl(s, k, 64, 0), CSESSION_EINVAL);
    /* A TTL of centuries saturates instead of wrapping into the past. */
    store_save_str(s, "forever", INT64_MAX / 2, k);
    store_expect_str(s, k, "forever");
    assert_int_equal(s->update_ttl(s, k, 64, INT64_MAX), 0);
    assert_int_equal(s->load_rev(s, k, 64, INT64_MAX, &b, &rev), 0);
    store_expect_str(s, k, "forever");
    csession_buf_dispose(&b);
    csession_store_free(s);
}

static void test_argument_checks(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store_sqlite_options o = CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.max_state_bytes = 100;
    csession_store *s = fresh("args.db", &o, path, sizeof path);
    char big[101];
    memset(big, 'x', sizeof big);
    csession_buf out = CSESSION_BUF_INIT;
    store_save_ok(s, big, 100, TTL, k);
    assert_int_equal(s->save(s, big, 101, TTL, &out), CSESSION_ETOOBIG);
    assert_int_equal(s->update(s, k, 64, big, 101, TTL, &out), CSESSION_ETOOBIG);
    assert_int_equal(s->update_if(s, k, 64, 1, big, 101, TTL), CSESSION_ETOOBIG);
    assert_int_equal(s->save(s, "x", 1, 0, &out), CSESSION_EINVAL);
    assert_int_equal(s->update(s, k, 64, "x", 1, -5, &out), CSESSION_EINVAL);
    assert_int_equal(s->update_if(s, k, 64, 1, "x", 1, 0), CSESSION_EINVAL);
    assert_int_equal(s->save(s, NULL, 1, TTL, &out), CSESSION_EINVAL);
    assert_int_equal(s->save(s, "x", 1, TTL, NULL), CSESSION_EINVAL);
    uint64_t rev;
    assert_int_equal(s->load_rev(s, k, 64, 0, NULL, &rev), CSESSION_EINVAL);
    assert_int_equal(s->load_rev(s, k, 64, 0, &out, NULL), CSESSION_EINVAL);
    store_expect_state(s, k, big, 100);
    assert_int_equal(revision_of(s, k), 1);
    csession_buf_dispose(&out);
    csession_store_free(s);
}

/* ---- keys ----------------------------------------------------------------- */

typedef struct fixed_keys {
    const char *keys[4];
    int n, next;
} fixed_keys;

static void fixed_keygen(char out[CSESSION_SESSION_KEY_LEN], void *ctx)
{
    fixed_keys *f = ctx;
    const char *k = f->keys[f->next < f->n ? f->next : f->n - 1];
    f->next++;
    memcpy(out, k, CSESSION_SESSION_KEY_LEN);
}

static void test_key_collisions(void **state)
{
    (void)state;
    static const char a[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    static const char b[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    char path[600], k[65];
    csession_store *s = fresh("collide.db", NULL, path, sizeof path);
    fixed_keys f = { { a, a, b }, 3, 0 };
    assert_int_equal(csession__store_sqlite_set_keygen(s, fixed_keygen, &f), 0);
    store_save_str(s, "first", TTL, k);
    assert_string_equal(k, a);
    /* The second save draws `a` again, finds it live, and draws `b`. */
    store_save_str(s, "second", TTL, k);
    assert_string_equal(k, b);
    assert_int_equal(f.next, 3);
    store_expect_str(s, a, "first");
    store_expect_str(s, b, "second");
    /* A generator that only ever repeats a live key gives up. */
    fixed_keys stuck = { { a }, 1, 0 };
    assert_int_equal(csession__store_sqlite_set_keygen(s, fixed_keygen, &stuck), 0);
    csession_buf out = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "third", 5, TTL, &out), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "unused session key"));
    assert_int_equal(stuck.next, 8);
    assert_int_equal(out.size, 0);
    store_expect_str(s, a, "first");
    /* The row of an expired session with the drawn key is taken over. */
    assert_int_equal(s->update_ttl(s, a, 64, 1), 0);
    sqlite_test_now_ms += 1000;
    stuck.next = 0;
    assert_int_equal(s->save(s, "third", 5, TTL, &out), 0);
    assert_memory_equal(out.ptr, a, 64);
    store_expect_str(s, a, "third");
    assert_int_equal(revision_of(s, a), 1);
    csession_buf_dispose(&out);
    assert_int_equal(csession__store_sqlite_set_keygen(s, NULL, NULL), 0);
    csession_store_free(s);

    /* The hooks refuse other stores. */
    csession_store other = { .version = CSESSION_STORE_VERSION };
    csession__sqlite_stats st;
    assert_false(csession__store_is_sqlite(&other));
    assert_int_equal(csession__store_sqlite_set_keygen(&other, NULL, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__store_sqlite_set_clock(&other, NULL, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__store_sqlite_stats(&other, &st), CSESSION_EINVAL);
    assert_null(csession__store_sqlite_path(&other));
    size_t removed = 7;
    assert_int_equal(csession_store_sqlite_cleanup(&other, 0, &removed), CSESSION_EINVAL);
    assert_int_equal(removed, 0);
    assert_int_equal(csession_store_sqlite_cleanup(NULL, 0, NULL), CSESSION_EINVAL);
}

/* ---- expiry ---------------------------------------------------------------- */

static void test_cleanup_budget(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store_sqlite_options o = CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.cleanup_budget = 3;
    csession_store *s = fresh("budget.db", &o, path, sizeof path);
    for (int i = 0; i < 20; i++)
        store_save_str(s, "expiring", 60, k);
    sqlite_test_now_ms += 60000;
    assert_int_equal(rows(path), 20);
    store_expect_str(s, k, NULL); /* expired: gone, though still stored */
    /* Each save deletes `cleanup_budget` expired rows, no more. */
    char live[65];
    store_save_str(s, "live", TTL, live);
    assert_int_equal(rows(path), 20 - 3 + 1);
    store_save_str(s, "live", TTL, live);
    assert_int_equal(rows(path), 20 - 6 + 2);
    csession__sqlite_stats st;
    assert_int_equal(csession__store_sqlite_stats(s, &st), 0);
    assert_int_equal(st.reclaimed, 6);
    /* Loads, updates and touches never delete. */
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, live, 64, &b), 0);
    assert_int_equal(s->update_if(s, live, 64, 1, "x", 1, TTL), 0);
    assert_int_equal(s->update_ttl(s, live, 64, TTL), 0);
    assert_int_equal(rows(path), 16);
    csession_buf_dispose(&b);

    /* The explicit cleanup: a bounded number, then all of them, never a
     * live one. */
    size_t removed = 0;
    assert_int_equal(csession_store_sqlite_cleanup(s, 5, &removed), 0);
    assert_int_equal(removed, 5);
    assert_int_equal(rows(path), 11);
    assert_int_equal(csession_store_sqlite_cleanup(s, 0, &removed), 0);
    assert_int_equal(removed, 9);
    assert_int_equal(rows(path), 2);
    assert_int_equal(csession_store_sqlite_cleanup(s, 0, &removed), 0);
    assert_int_equal(removed, 0);
    store_expect_str(s, live, "x");
    csession_store_free(s);
}

/* Cleanup in steps of 1000 rows, and the file handed back. */
static void test_cleanup_large(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("large.db", NULL, path, sizeof path);
    char state_text[600];
    fill_text(state_text, sizeof state_text, 's');
    for (int i = 0; i < 2500; i++)
        store_save_str(s, state_text, 60, k);
    sqlite3 *db = sqlite_test_raw(path);
    long long full = sqlite_test_int(db, "PRAGMA page_count");
    assert_true(full > 300);
    sqlite_test_now_ms += 60000;
    size_t removed = 0;
    assert_int_equal(csession_store_sqlite_cleanup(s, 0, &removed), 0);
    assert_int_equal(removed, 2500);
    long long after = sqlite_test_int(db, "PRAGMA page_count");
    assert_int_equal(sqlite_test_int(db, "PRAGMA freelist_count"), 0);
    assert_true(after < 10);
    sqlite3_close(db);
    /* ... and the -wal file emptied. */
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_size, 0);
    struct stat dbst;
    assert_int_equal(stat(path, &dbst), 0);
    assert_true(dbst.st_size <= 10 * 4096);
    csession_store_free(s);
}

/* Under churn (sessions made and left to expire) the file stops growing
 * at the peak of live plus not-yet-reclaimed sessions. */
static void test_churn_bounded(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store *s = fresh("churn.db", NULL, path, sizeof path);
    char state_text[300];
    fill_text(state_text, sizeof state_text, 'c');
    /* 50 new sessions a "second", each living 10 s: about 500 live. */
    long long pages_at_5000 = 0;
    sqlite3 *db = sqlite_test_raw(path);
    for (int i = 1; i <= 20000; i++) {
        store_save_str(s, state_text, 10, k);
        if (i % 50 == 0)
            sqlite_test_now_ms += 1000;
        if (i == 5000)
            pages_at_5000 = sqlite_test_int(db, "PRAGMA page_count");
    }
    long long pages = sqlite_test_int(db, "PRAGMA page_count");
    long long n = sqlite_test_int(db, "SELECT count(*) FROM csession_sessions");
    sqlite3_close(db);
    /* Without reclaiming, 20000 rows of 300 bytes would take 1500+ pages. */
    assert_true(n <= 600);
    assert_true(pages <= pages_at_5000 + 8);
    assert_true(pages < 200);
    csession_store_free(s);
}

/* ---- locks ---------------------------------------------------------------- */

static void test_busy_timeout(void **state)
{
    (void)state;
    char path[600], k[65];
    csession_store_sqlite_options o = CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.busy_timeout_ms = 200;
    csession_store *s = fresh("busy.db", &o, path, sizeof path);
    store_save_str(s, "before", TTL, k);
    /* Another connection holds the write lock. */
    sqlite3 *other = sqlite_test_raw(path);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    csession_buf out = CSESSION_BUF_INIT;
    double t0 = seconds_now();
    assert_int_equal(s->save(s, "blocked", 7, TTL, &out), CSESSION_ETIMEOUT);
    double waited = seconds_now() - t0;
    assert_true(waited >= 0.19);
    assert_true(waited < 5.0);
    assert_non_null(strstr(csession_last_error(), "busy timeout of 200 ms"));
    assert_int_equal(out.size, 0);
    assert_int_equal(s->update_if(s, k, 64, 1, "blocked", 7, TTL), CSESSION_ETIMEOUT);
    assert_int_equal(s->remove(s, k, 64), CSESSION_ETIMEOUT);
    /* With WAL a reader does not wait for the writer. */
    t0 = seconds_now();
    store_expect_str(s, k, "before");
    assert_true(seconds_now() - t0 < 0.15);
    /* Once the lock is released, writing works again on the same
     * connections: a busy database is not a broken connection. */
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(s->update_if(s, k, 64, 1, "after", 5, TTL), 0);
    store_expect_str(s, k, "after");
    csession__sqlite_stats st;
    assert_int_equal(csession__store_sqlite_stats(s, &st), 0);
    assert_int_equal(st.opened, 2);
    csession_buf_dispose(&out);
    csession_store_free(s);

    /* With a rollback journal an exclusive lock stops readers too. */
    o.journal_mode = CSESSION_STORE_SQLITE_JOURNAL_DELETE;
    s = fresh("busy-delete.db", &o, path, sizeof path);
    store_save_str(s, "before", TTL, k);
    sqlite3_close(other);
    other = sqlite_test_raw(path);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, k, 64, &b), CSESSION_ETIMEOUT);
    /* A malformed key is turned away before any I/O: no wait at all. */
    t0 = seconds_now();
    assert_int_equal(s->load(s, "garbage", 7, &b), CSESSION_ENOTFOUND);
    assert_int_equal(s->remove(s, "garbage", 7), 0);
    assert_true(seconds_now() - t0 < 0.1);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    store_expect_str(s, k, "before");
    sqlite3_close(other);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* WAL or not is the file's: a store set to the other kind is refused
 * with a message saying what to do, and the file keeps its mode. */
static void test_journal_mode_mismatch(void **state)
{
    (void)state;
    char path[600], k[65], v[32];
    csession_store *s = fresh("mismatch.db", NULL, path, sizeof path);
    store_save_str(s, "wal", TTL, k);
    csession_store_free(s); /* nothing has the file open now */
    csession_store_sqlite_options o = CSESSION_STORE_SQLITE_OPTIONS_INIT;
    o.journal_mode = CSESSION_STORE_SQLITE_JOURNAL_DELETE;
    csession_store *d = (csession_store *)&o;
    assert_int_equal(csession_store_sqlite_new(&d, path, &o), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "the file uses a WAL"));
    assert_non_null(strstr(csession_last_error(), "PRAGMA journal_mode = delete"));
    assert_null(d);
    s = sqlite_test_store(path, NULL);
    assert_int_equal(csession__store_sqlite_pragma(s, "journal_mode", v, sizeof v), 0);
    assert_string_equal(v, "wal");
    store_expect_str(s, k, "wal");
    csession_store_free(s);

    /* The other way round: a rollback-journal file and a WAL store. */
    s = fresh("mismatch-delete.db", &o, path, sizeof path);
    store_save_str(s, "delete", TTL, k);
    csession_store_free(s);
    assert_int_equal(csession_store_sqlite_new(&d, path, NULL), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "the file uses a rollback journal"));
    /* Rollback modes mix: they differ only in how a connection ends its
     * journal. */
    o.journal_mode = CSESSION_STORE_SQLITE_JOURNAL_TRUNCATE;
    s = sqlite_test_store(path, &o);
    store_expect_str(s, k, "delete");
    csession_store_free(s);
}

/* ---- secrets ---------------------------------------------------------------- */

/* 1 when `needle` occurs anywhere in the file at `path`. */
static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = strlen(needle), have = 0, cap = 1 << 20;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + have, 1, cap - have, f)) > 0) {
        have += got;
        if (have == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    int found = 0;
    for (size_t i = 0; i + n <= have && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

static void test_secure_delete(void **state)
{
    (void)state;
    static const char marker[] = "MARKER-4a1f9c07-secret-state";
    char path[600], wal[700], k[65], filler[65];
    csession_store *s = fresh("wipe.db", NULL, path, sizeof path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    for (int i = 0; i < 20; i++)
        store_save_str(s, "filler state that stays", TTL, filler);
    store_save_str(s, marker, TTL, k);
    /* In the database file once checkpointed. */
    sqlite3 *db = sqlite_test_raw(path);
    assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                     SQLITE_OK);
    assert_true(file_contains(path, marker));
    assert_int_equal(s->remove(s, k, 64), 0);
    assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    /* Deleted: zeroed in the database file, and the WAL emptied. */
    assert_false(file_contains(path, marker));
    assert_false(file_contains(wal, marker));
    store_expect_str(s, filler, "filler state that stays");

    /* A replaced state is wiped too, and the periodic cleanup empties the
     * WAL that still held the old page. */
    store_save_str(s, marker, TTL, k);
    assert_int_equal(s->update_if(s, k, 64, 1, "replaced", 8, TTL), 0);
    assert_int_equal(csession_store_sqlite_cleanup(s, 0, NULL), 0);
    assert_false(file_contains(path, marker));
    assert_false(file_contains(wal, marker));
    csession_store_free(s);
}

/* ---- threads --------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 300

typedef struct worker {
    csession_store *s;
    const char *shared;
    int id;
    int own_ok;
    int shared_acked;
    int failures;
} worker;

static int read_counter(csession_store *s, const char *key, uint64_t *rev)
{
    csession_buf b = CSESSION_BUF_INIT;
    int rc = s->load_rev(s, key, 64, 0, &b, rev);
    int v = rc ? -1 : atoi(b.ptr);
    csession_buf_dispose(&b);
    return v;
}

static void *work(void *arg)
{
    worker *w = arg;
    csession_store *s = w->s;
    char own[65], text[32];
    store_save_str(s, "0", TTL, own);
    for (int i = 0; i < PER_THREAD; i++) {
        /* Its own counter: never a conflict. */
        uint64_t rev;
        int v = read_counter(s, own, &rev);
        snprintf(text, sizeof text, "%d", v + 1);
        if (s->update_if(s, own, 64, rev, text, strlen(text), TTL) == 0)
            w->own_ok++;
        else
            w->failures++;
        /* The shared one: compare and swap until it takes. */
        for (;;) {
            v = read_counter(s, w->shared, &rev);
            snprintf(text, sizeof text, "%d", v + 1);
            int rc = s->update_if(s, w->shared, 64, rev, text, strlen(text), TTL);
            if (rc == 0) {
                w->shared_acked++;
                break;
            }
            if (rc != CSESSION_ECONFLICT) {
                w->failures++;
                break;
            }
        }
    }
    w->own_ok = read_counter(s, own, &(uint64_t){ 0 }) == PER_THREAD ? w->own_ok : -1;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char path[600], shared[65];
    csession_store *s = fresh("threads.db", NULL, path, sizeof path);
    store_save_str(s, "0", TTL, shared);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ s, shared, i, 0, 0, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int acked = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].own_ok, PER_THREAD);
        acked += w[i].shared_acked;
    }
    assert_int_equal(acked, THREADS * PER_THREAD);
    uint64_t rev;
    assert_int_equal(read_counter(s, shared, &rev), THREADS * PER_THREAD);
    assert_int_equal(rev, 1 + THREADS * PER_THREAD);
    csession__sqlite_stats st;
    assert_int_equal(csession__store_sqlite_stats(s, &st), 0);
    assert_true(st.opened <= THREADS + 2);
    csession_store_free(s);
    assert_true(sqlite_test_intact(path));
}

/* ---- out of memory ---------------------------------------------------------- */

static int oom_lifecycle(void *ctx)
{
    const char *path = ctx;
    csession_store *s = NULL;
    int rc = csession_store_sqlite_new(&s, path, NULL);
    if (rc)
        return rc;
    csession_store_free(s);
    return 0;
}

static int oom_operations(void *ctx)
{
    csession_store *s = ctx;
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    int rc = s->save(s, "state", 5, TTL, &key);
    if (!rc)
        rc = s->load(s, key.ptr, key.size, &b);
    if (!rc)
        rc = s->update(s, key.ptr, key.size, "other", 5, TTL, &key);
    if (!rc)
        rc = s->remove(s, key.ptr, key.size);
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    char path[600];
    path_of(path, sizeof path, "oom.db");
    oom_install();
    assert_true(oom_run_each_failure(oom_lifecycle, path) >= 3);
    oom_uninstall();
    csession_store *s = sqlite_test_store(path, NULL);
    /* Connections opened during the runs below stay in the pool; open one
     * first so that every run starts alike. */
    store_expect_str(s, "0000000000000000000000000000000000000000000000000000000000000000",
                     NULL);
    oom_install();
    assert_true(oom_run_each_failure(oom_operations, s) >= 2);
    oom_uninstall();
    csession_store_free(s);
}

int main(void)
{
    if (temp_dir_make(dir, sizeof dir, "store-sqlite") != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_options_read_by_version),
        cmocka_unit_test(test_options_reach_connections),
        cmocka_unit_test(test_file_mode_and_layout),
        cmocka_unit_test(test_opening_writes_nothing),
        cmocka_unit_test(test_path_checks),
        cmocka_unit_test(test_foreign_files),
        cmocka_unit_test(test_relative_path),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_update_if),
        cmocka_unit_test(test_remove_if),
        cmocka_unit_test(test_ttl_and_touch),
        cmocka_unit_test(test_argument_checks),
        cmocka_unit_test(test_key_collisions),
        cmocka_unit_test(test_cleanup_budget),
        cmocka_unit_test(test_cleanup_large),
        cmocka_unit_test(test_churn_bounded),
        cmocka_unit_test(test_busy_timeout),
        cmocka_unit_test(test_journal_mode_mismatch),
        cmocka_unit_test(test_secure_delete),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_out_of_memory),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    temp_dir_remove(dir);
    return failed;
}
