/* One connection of the SQLite store: see conn.h. */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"

/* PRAGMA application_id of a csession store: "cses". */
#define APPLICATION_ID 0x63736573
/* PRAGMA user_version: the layout of the table. A file of a newer layout
 * is refused rather than misread. */
#define SCHEMA_VERSION 1

/* After a checkpoint SQLite cuts the -wal file back to this size, so that
 * one burst of writes does not leave a large file behind for good. */
#define JOURNAL_SIZE_LIMIT 4194304

static const char *const sql[CSESSION__SQ_COUNT] = {
    [CSESSION__SQ_LOAD] = "SELECT state, revision FROM csession_sessions"
                          " WHERE id = ?1 AND expires_ms > ?2",
    [CSESSION__SQ_LOAD_TOUCH] = "UPDATE csession_sessions SET expires_ms = ?3"
                                " WHERE id = ?1 AND expires_ms > ?2 RETURNING state, revision",
    [CSESSION__SQ_INSERT] = "INSERT INTO csession_sessions (id, state, revision, expires_ms)"
                            " VALUES (?1, ?4, 1, ?3) ON CONFLICT (id) DO UPDATE"
                            " SET state = excluded.state, revision = 1,"
                            " expires_ms = excluded.expires_ms WHERE expires_ms <= ?2",
    [CSESSION__SQ_UPDATE] = "UPDATE csession_sessions"
                            " SET state = ?4, revision = revision + 1, expires_ms = ?3"
                            " WHERE id = ?1 AND expires_ms > ?2",
    [CSESSION__SQ_UPDATE_IF] = "UPDATE csession_sessions"
                               " SET state = ?4, revision = ?5 + 1, expires_ms = ?3"
                               " WHERE id = ?1 AND expires_ms > ?2 AND revision = ?5",
    [CSESSION__SQ_REVISION] = "SELECT revision FROM csession_sessions"
                              " WHERE id = ?1 AND expires_ms > ?2",
    [CSESSION__SQ_TOUCH] = "UPDATE csession_sessions SET expires_ms = ?3"
                           " WHERE id = ?1 AND expires_ms > ?2",
    [CSESSION__SQ_REMOVE] = "DELETE FROM csession_sessions WHERE id = ?1",
    [CSESSION__SQ_REMOVE_IF] = "DELETE FROM csession_sessions"
                               " WHERE id = ?1 AND expires_ms > ?2 AND revision = ?5",
    [CSESSION__SQ_RECLAIM] = "DELETE FROM csession_sessions WHERE id IN"
                             " (SELECT id FROM csession_sessions WHERE expires_ms <= ?2"
                             " ORDER BY expires_ms LIMIT ?6)",
    [CSESSION__SQ_BEGIN] = "BEGIN IMMEDIATE",
    [CSESSION__SQ_COMMIT] = "COMMIT",
    [CSESSION__SQ_ROLLBACK] = "ROLLBACK",
};

/* WITHOUT ROWID: the rows live in the primary key's b-tree, so a lookup by
 * id is one b-tree descent and a row is not stored twice. */
static const char schema_sql[] =
    "CREATE TABLE csession_sessions ("
    " id BLOB PRIMARY KEY NOT NULL,"
    " state BLOB NOT NULL,"
    " revision INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX csession_sessions_expiry ON csession_sessions (expires_ms);";

int csession__sqlite_conn_reusable(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_TOOBIG:
    case SQLITE_CONSTRAINT:
        return 1;
    default:
        return 0;
    }
}

int csession__sqlite_fail(sqlite3 *db, int rc, const char *path, const char *what,
                          unsigned int busy_timeout_ms)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return csession__error(CSESSION_ETIMEOUT,
                               "SQLite store %s: %s: the database stayed locked for the busy "
                               "timeout of %u ms (%s)",
                               path, what, busy_timeout_ms, msg);
    case SQLITE_NOMEM:
        return csession__error(CSESSION_ENOMEM, "SQLite store %s: %s: out of memory", path, what);
    case SQLITE_TOOBIG:
        return csession__error(CSESSION_ETOOBIG, "SQLite store %s: %s: %s", path, what, msg);
    default:
        return csession__error(CSESSION_ESTORE, "SQLite store %s: %s: %s (SQLite code %d)", path,
                               what, msg, rc);
    }
}

/* One statement run to its end; `result` (may be NULL) receives the first
 * column of its first row as text, cut to `result_size`. */
static int run_sql(sqlite3 *db, const char *text, char *result, size_t result_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, text, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (result && result_size)
        result[0] = '\0';
    int first = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (first && result && result_size) {
            const unsigned char *v = sqlite3_column_text(st, 0);
            snprintf(result, result_size, "%s", v ? (const char *)v : "");
        }
        first = 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_int(sqlite3 *db, const char *text, long long *value)
{
    char buf[32];
    int rc = run_sql(db, text, buf, sizeof buf);
    if (rc == SQLITE_OK)
        *value = strtoll(buf, NULL, 10);
    return rc;
}

void csession__sqlite_conn_close(csession__sqlite_conn *c, int checkpoint)
{
    if (!c)
        return;
    for (int i = 0; i < CSESSION__SQ_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    if (c->db) {
        if (!checkpoint)
            sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
        sqlite3_close(c->db);
    }
    csession__free(c);
}

static int prepare_all(csession__sqlite_conn *c, const char *path)
{
    for (int i = 0; i < CSESSION__SQ_COUNT; i++) {
        int rc = sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return csession__sqlite_fail(c->db, rc, path, "preparing statements", 0);
    }
    return 0;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void csession__sqlite_conn_arm(csession__sqlite_conn *c)
{
    c->deadline_ns = monotonic_ns() + (int64_t)c->busy_timeout_ms * 1000000;
}

/*
 * Called by SQLite while another connection holds the lock it needs; 1 to
 * try again, 0 to give up (the statement then fails with SQLITE_BUSY).
 * SQLite's own busy_timeout sleeps whole milliseconds from the first
 * retry, while a session write holds the lock for some tens of
 * microseconds: waits here start at 20 us and double up to 2 ms, so that
 * writers of parallel requests follow each other closely, until the
 * operation's busy timeout has passed.
 */
static int busy_wait(void *ctx, int count)
{
    csession__sqlite_conn *c = ctx;
    int64_t left = c->deadline_ns - monotonic_ns();
    if (left <= 0)
        return 0;
    int64_t wait = (int64_t)20000 << (count < 7 ? count : 7);
    if (wait > left)
        wait = left;
    struct timespec ts = { (time_t)(wait / 1000000000), (long)(wait % 1000000000) };
    nanosleep(&ts, NULL);
    return 1;
}

static int foreign_file(const char *path, long long app, long long objects)
{
    return csession__error(CSESSION_EINVAL,
                           "SQLite store %s: the file is a database of something else "
                           "(application_id %lld, %lld tables and indexes), not a csession "
                           "session store",
                           path, app, objects);
}

/* Everything a connection sets for itself, in an order that matters: the
 * busy timeout before anything that may wait for a lock. */
static int configure(csession__sqlite_conn *c, const char *path,
                     const csession__sqlite_settings *set)
{
    sqlite3 *db = c->db;
    sqlite3_extended_result_codes(db, 1);
    c->busy_timeout_ms = set->busy_timeout_ms;
    csession__sqlite_conn_arm(c); /* for the set-up below */
    sqlite3_busy_handler(db, busy_wait, c);
    /* The file is ours: no writable_schema tricks, no schema-level
     * functions run on our behalf. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
#endif
    /* On a new (empty) file only, and before the journal mode: setting WAL
     * writes the first page, after which auto_vacuum can no longer be
     * chosen. With it, space freed by deletions can be handed back to the
     * file system by csession_store_sqlite_cleanup(). On a file set up
     * already the pragma would cost a write transaction per connection. */
    long long pages = 0;
    int rc = run_int(db, "PRAGMA page_count", &pages);
    if (rc == SQLITE_OK && pages == 0)
        rc = sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "setting auto_vacuum", set->busy_timeout_ms);
    char text[160];
    const char *want = csession__sqlite_journal_name(set->journal_mode);
    char mode[32];
    /* WAL or not is the file's, chosen when it is made. A store set to the
     * other kind is refused rather than allowed to switch the file, which
     * would flip it back and forth between processes set differently. */
    /* A database of something else is left exactly as it is: refused
     * before the journal mode below could change it. */
    long long app = 0, objects = 0;
    if (pages > 0 && ((rc = run_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
                      (rc = run_int(db, "SELECT count(*) FROM sqlite_master", &objects)) !=
                          SQLITE_OK))
        return csession__sqlite_fail(db, rc, path, "reading the layout", set->busy_timeout_ms);
    if (app != APPLICATION_ID && (app != 0 || objects != 0))
        return foreign_file(path, app, objects);
    if (pages > 0 && app == APPLICATION_ID) {
        if ((rc = run_sql(db, "PRAGMA journal_mode", mode, sizeof mode)) != SQLITE_OK)
            return csession__sqlite_fail(db, rc, path, "reading the journal mode",
                                         set->busy_timeout_ms);
        int file_wal = strcmp(mode, "wal") == 0;
        if (file_wal != (set->journal_mode == CSESSION_STORE_SQLITE_JOURNAL_WAL))
            return csession__error(CSESSION_EINVAL,
                                   "SQLite store %s: the file uses %s, the store is set to "
                                   "journal mode %s; every process must use the same kind "
                                   "(convert the file with the sqlite3 shell while nothing "
                                   "has it open: PRAGMA journal_mode = %s)",
                                   path, file_wal ? "a WAL" : "a rollback journal", want, want);
    }
    snprintf(text, sizeof text, "PRAGMA journal_mode = %s", want);
    rc = run_sql(db, text, mode, sizeof mode);
    if (rc != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "setting the journal mode", set->busy_timeout_ms);
    if (strcmp(mode, want) != 0)
        return csession__error(CSESSION_ESTORE,
                               "SQLite store %s: journal mode %s could not be set, the file is in "
                               "mode %s (every process that opens the file must use one mode)",
                               path, want, mode);
    snprintf(text, sizeof text,
             "PRAGMA synchronous = %s; PRAGMA secure_delete = ON; PRAGMA journal_size_limit = %d",
             csession__sqlite_sync_name(set->synchronous), JOURNAL_SIZE_LIMIT);
    rc = sqlite3_exec(db, text, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "configuring the connection",
                                     set->busy_timeout_ms);
    return 0;
}

int csession__sqlite_conn_open(const char *path, const csession__sqlite_settings *set,
                               int prepare, csession__sqlite_conn **out)
{
    *out = NULL;
    csession__sqlite_conn *c = csession__calloc(1, sizeof *c);
    if (!c)
        return csession__oom();
    /* No SQLITE_OPEN_CREATE: the store made the file with mode 0600 itself,
     * and a file deleted since must not come back empty with the umask's
     * mode. NOMUTEX: a connection serves one operation at a time. */
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    int result;
    if (rc != SQLITE_OK) {
        result = csession__sqlite_fail(c->db, rc, path, "opening the database", 0);
    } else if (!(result = configure(c, path, set)) && prepare) {
        result = prepare_all(c, path);
    }
    if (result) {
        csession__sqlite_conn_close(c, 1);
        return result;
    }
    *out = c;
    return 0;
}

/* Checks or creates the layout, inside the transaction opened by setup(). */
static int check_or_create(sqlite3 *db, const char *path, unsigned int busy_ms)
{
    long long app = 0, version = 0, objects = 0;
    int rc;
    if ((rc = run_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = run_int(db, "PRAGMA user_version", &version)) != SQLITE_OK ||
        (rc = run_int(db, "SELECT count(*) FROM sqlite_master", &objects)) != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "reading the layout", busy_ms);
    if (app == APPLICATION_ID) {
        if (version > SCHEMA_VERSION)
            return csession__error(CSESSION_ESTORE,
                                   "SQLite store %s: the file has layout version %lld, written "
                                   "by a newer csession; this one knows up to %d",
                                   path, version, SCHEMA_VERSION);
        return 0;
    }
    if (app != 0 || objects != 0)
        return foreign_file(path, app, objects);
    char text[96];
    snprintf(text, sizeof text, "PRAGMA application_id = %d; PRAGMA user_version = %d",
             APPLICATION_ID, SCHEMA_VERSION);
    if ((rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(db, text, NULL, NULL, NULL)) != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "creating the table", busy_ms);
    return 0;
}

int csession__sqlite_conn_setup(csession__sqlite_conn *c, const char *path,
                                const csession__sqlite_settings *set)
{
    sqlite3 *db = c->db;
    unsigned int busy_ms = set->busy_timeout_ms;
    /* IMMEDIATE: two processes setting up one new file take turns, and the
     * second finds the table made. */
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return csession__sqlite_fail(db, rc, path, "setting up the file", busy_ms);
    int result = check_or_create(db, path, busy_ms);
    if (!result && (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        result = csession__sqlite_fail(db, rc, path, "setting up the file", busy_ms);
    if (result) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return result;
    }
    return prepare_all(c, path);
}
