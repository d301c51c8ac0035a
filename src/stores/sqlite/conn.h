/*
 * Internal: one connection of the SQLite store - opening it with the
 * store's settings, its prepared statements, setting up a new file, and
 * turning SQLite's result codes into csession's.
 */
#ifndef CSESSION_SRC_STORES_SQLITE_CONN_H
#define CSESSION_SRC_STORES_SQLITE_CONN_H

#include <stdint.h>

#include <sqlite3.h>

#include "options.h"

/* The statements every connection prepares once and reuses. Parameters:
 * ?1 id (the SHA-256 of the key), ?2 now (unix ms), ?3 the new expiry,
 * ?4 the state, ?5 a revision, ?6 a row count. */
enum {
    CSESSION__SQ_LOAD,        /* state, revision of a live row */
    CSESSION__SQ_LOAD_TOUCH,  /* the same, and a new expiry */
    CSESSION__SQ_INSERT,      /* a new row; takes the place of an expired one only */
    CSESSION__SQ_UPDATE,      /* any revision: the next one */
    CSESSION__SQ_UPDATE_IF,   /* only at revision ?5: ?5 + 1 */
    CSESSION__SQ_REVISION,    /* the revision of a live row */
    CSESSION__SQ_TOUCH,       /* a new expiry */
    CSESSION__SQ_REMOVE,      /* live or expired */
    CSESSION__SQ_REMOVE_IF,   /* only a live row at revision ?5 */
    CSESSION__SQ_RECLAIM,     /* at most ?6 rows expired by ?2, oldest first */
    CSESSION__SQ_BEGIN,       /* BEGIN IMMEDIATE: the write lock up front */
    CSESSION__SQ_COMMIT,
    CSESSION__SQ_ROLLBACK,
    CSESSION__SQ_COUNT
};

typedef struct csession__sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[CSESSION__SQ_COUNT];
    unsigned int busy_timeout_ms;
    int64_t deadline_ns; /* waits for locks end here (csession__sqlite_conn_arm()) */
    unsigned long generation; /* of the pool when it was opened (pool.c) */
    struct csession__sqlite_conn *next;
} csession__sqlite_conn;

/*
 * Opens a connection to the existing file `path` with the settings `set`
 * (busy timeout, journal mode, synchronous level, secure delete) and
 * prepares its statements (only when `prepare`: a file that is not set up
 * yet has no table to prepare them on). Never creates the file.
 * Returns 0 or a csession code with a message naming the path.
 */
int csession__sqlite_conn_open(const char *path, const csession__sqlite_settings *set,
                               int prepare, csession__sqlite_conn **out);

/*
 * Starts the busy timeout of one operation: from now on, the waits for
 * locks on `c` end busy_timeout_ms from now, all of them together.
 */
void csession__sqlite_conn_arm(csession__sqlite_conn *c);

/*
 * Closes `c` (NULL: nothing). With `checkpoint` 0 the last connection to
 * the file does not copy the WAL back into it on the way out (a quick
 * close, for the moment before fork()).
 */
void csession__sqlite_conn_close(csession__sqlite_conn *c, int checkpoint);

/*
 * Sets up the file behind `c` for the store if it is empty (table, index,
 * application_id, schema version; in one transaction, so that processes
 * starting together do it once), or checks that it is a csession store of
 * a schema version this library knows. Then prepares the statements.
 * Returns 0, CSESSION_EINVAL (a file of something else), CSESSION_ESTORE
 * (a newer schema, or I/O), CSESSION_ETIMEOUT.
 */
int csession__sqlite_conn_setup(csession__sqlite_conn *c, const char *path,
                                const csession__sqlite_settings *set);

/*
 * Records the failure `rc` of an SQLite call on `db` during `what` and
 * returns its csession code: CSESSION_ETIMEOUT for a lock still held after
 * the busy timeout, CSESSION_ENOMEM, CSESSION_ETOOBIG, CSESSION_ESTORE for
 * the rest (read-only file, disk full, I/O error, damaged file), with
 * SQLite's message and the path.
 */
int csession__sqlite_fail(sqlite3 *db, int rc, const char *path, const char *what,
                          unsigned int busy_timeout_ms);

/* 1 when a connection that saw `rc` may go on being used: the failure was
 * the file's state (locked, full), not the connection's. */
int csession__sqlite_conn_reusable(int rc);

#endif
