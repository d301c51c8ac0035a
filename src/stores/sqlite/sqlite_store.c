/*
 * The SQLite session store: the vtable operations, one SQL statement each
 * (a transaction of three for save), on a connection from the pool.
 *
 * Rows are found by the SHA-256 of the session key, never by the key. A
 * row is live while expires_ms (wall-clock unix ms) is in the future;
 * every statement says so in its WHERE clause, so an expired row is gone
 * for all of them whether or not it has been deleted yet.
 */
/* realpath() and the XSI strerror_r() are X/Open functions. */
#define _XOPEN_SOURCE 700

#include "sqlite_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "conn.h"
#include "csession/library.h"
#include "error.h"
#include "options.h"
#include "pool.h"
#include "session_key.h"

/* Attempts to find an unused key before giving up. With 381 random bits a
 * second attempt is already unheard of; the bound only stops a broken
 * generator from looping forever. */
#define KEY_ATTEMPTS 8

/* Rows per transaction of csession_store_sqlite_cleanup(), and pages per
 * step of giving space back: each holds the write lock a few ms at most. */
#define CLEANUP_BATCH 1000

typedef struct sqlite_store {
    csession_store base; /* first: the vtable the library sees */
    char *path;          /* resolved, so that chdir() does not matter */
    csession__sqlite_settings set;
    csession__sqlite_pool pool;
    csession__sqlite_clock_fn now_ms;
    void *now_ctx;
    csession__sqlite_keygen_fn keygen;
    void *keygen_ctx;
    atomic_ulong reclaimed;
} sqlite_store;

void csession__sqlite_row_id(const char *key, unsigned char id[CSESSION__SQLITE_ID_BYTES])
{
    crypto_hash_sha256(id, (const unsigned char *)key, CSESSION__SESSION_KEY_LEN);
}

/* ---- one operation ------------------------------------------------------- */

/*
 * An operation holds a connection from op_begin() to op_end(). `failed` is
 * the SQLite code of a failure, which decides whether the connection goes
 * back to the pool.
 */
typedef struct op {
    sqlite_store *s;
    csession__sqlite_conn *c;
    const char *what;
    int64_t now;
    int failed;
    unsigned char id[CSESSION__SQLITE_ID_BYTES];
} op;

static int op_begin(sqlite_store *s, op *o, const char *what, const char *key)
{
    o->s = s;
    o->c = NULL;
    o->what = what;
    o->failed = 0;
    if (key)
        csession__sqlite_row_id(key, o->id);
    int rc = csession__sqlite_pool_acquire(&s->pool, 1, &o->c);
    if (rc)
        return rc;
    /* The busy timeout counts for the operation as a whole. */
    csession__sqlite_conn_arm(o->c);
    o->now = s->now_ms(s->now_ctx);
    return 0;
}

static int op_end(op *o, int rc)
{
    /* A connection is reused only in autocommit mode: one left inside a
     * transaction by a failure that could not be rolled back is closed. */
    int keep = (!o->failed || csession__sqlite_conn_reusable(o->failed)) &&
               sqlite3_get_autocommit(o->c->db);
    csession__sqlite_pool_release(&o->s->pool, o->c, keep);
    sodium_memzero(o->id, sizeof o->id);
    return rc;
}

/* A failed SQLite call: recorded, and turned into a csession code. */
static int op_fail(op *o, int rc)
{
    o->failed = rc;
    return csession__sqlite_fail(o->c->db, rc, o->s->path, o->what, o->s->set.busy_timeout_ms);
}

/* The statement `which`, with ?1 (the row id) and ?2 (now) bound where it
 * has them. */
static sqlite3_stmt *stmt(op *o, int which)
{
    sqlite3_stmt *st = o->c->stmt[which];
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1 && sqlite3_bind_parameter_name(st, 1))
        sqlite3_bind_blob(st, 1, o->id, sizeof o->id, SQLITE_STATIC);
    if (n >= 2 && sqlite3_bind_parameter_name(st, 2))
        sqlite3_bind_int64(st, 2, o->now);
    return st;
}

/* Binds the state to ?4; 0 or the failure. */
static int bind_state(op *o, sqlite3_stmt *st, const char *state, size_t len)
{
    /* A zero-length blob, not NULL: the column is NOT NULL. */
    int rc = sqlite3_bind_blob64(st, 4, len ? state : "", (sqlite3_uint64)len, SQLITE_STATIC);
    return rc == SQLITE_OK ? 0 : op_fail(o, rc);
}

/* Steps `st`: SQLITE_ROW or SQLITE_DONE, or a negative csession code. */
static int step(op *o, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    return op_fail(o, rc);
}

/* Ready for the next use; bound pointers to the caller's data dropped. */
static void finish(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement without rows to its end: the rows it changed, or a
 * negative csession code. */
static int run(op *o, sqlite3_stmt *st)
{
    int rc = step(o, st);
    if (rc == SQLITE_ROW) /* none of ours: a statement without RETURNING */
        rc = SQLITE_DONE;
    int changes = rc == SQLITE_DONE ? sqlite3_changes(o->c->db) : rc;
    finish(st);
    return changes;
}

static int run_plain(op *o, int which)
{
    return run(o, o->c->stmt[which]);
}

/* 1 when the key's row is live (at any revision), 0 when it is not, or a
 * negative code. */
static int is_live(op *o)
{
    sqlite3_stmt *st = stmt(o, CSESSION__SQ_REVISION);
    int rc = step(o, st);
    finish(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : rc;
}

/* ---- argument checks ----------------------------------------------------- */

static int check_state(const sqlite_store *s, const char *state, size_t state_len,
                       int64_t ttl_seconds)
{
    if (!state && state_len)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (state_len > s->set.max_state_bytes)
        return csession__error(CSESSION_ETOOBIG,
                               "session state of %zu bytes exceeds the SQLite store's limit "
                               "of %zu",
                               state_len, s->set.max_state_bytes);
    return 0;
}

/* ---- save ---------------------------------------------------------------- */

/*
 * Deletes up to `budget` rows that expired by o->now, oldest first, through
 * the expiry index. Returns the number deleted or a negative code.
 */
static int reclaim(op *o, unsigned int budget)
{
    sqlite3_stmt *st = stmt(o, CSESSION__SQ_RECLAIM);
    sqlite3_bind_int64(st, 6, budget);
    int n = run(o, st);
    if (n > 0)
        atomic_fetch_add(&o->s->reclaimed, (unsigned long)n);
    return n;
}

/* In one transaction: reclaim a few expired rows and insert the new one
 * (which takes the place of an expired row with the same id, never of a
 * live one). 1 when inserted, 0 when the id is live, or a negative code. */
static int insert_row(op *o, const char *state, size_t state_len, int64_t ttl_seconds)
{
    int rc = run_plain(o, CSESSION__SQ_BEGIN);
    if (rc < 0)
        return rc;
    o->now = o->s->now_ms(o->s->now_ctx); /* the lock may have taken a while */
    rc = reclaim(o, o->s->set.cleanup_budget);
    if (rc >= 0) {
        sqlite3_stmt *st = stmt(o, CSESSION__SQ_INSERT);
        sqlite3_bind_int64(st, 3, csession__deadline_ms(o->now, ttl_seconds));
        rc = bind_state(o, st, state, state_len);
        if (!rc)
            rc = run(o, st);
        else
            finish(st);
    }
    if (rc >= 0) {
        int committed = run_plain(o, CSESSION__SQ_COMMIT);
        if (committed >= 0)
            return rc;
        rc = committed;
    }
    /* After most failures SQLite has already rolled back; after the others
     * this does it. Its own result adds nothing to the failure at hand. */
    sqlite3_stmt *rb = o->c->stmt[CSESSION__SQ_ROLLBACK];
    if (!sqlite3_get_autocommit(o->c->db)) {
        sqlite3_step(rb);
        sqlite3_reset(rb);
    }
    return rc;
}

/* Stores the state under a fresh key, written to `key_out` first so that a
 * stored session always has someone who knows its key. */
static int insert_new(op *o, const char *state, size_t state_len, int64_t ttl_seconds,
                      csession_buf *key_out)
{
    char key[CSESSION__SESSION_KEY_LEN];
    int rc = CSESSION_ESTORE;
    for (int attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
        o->s->keygen(key, o->s->keygen_ctx);
        if ((rc = csession__buf_set(key_out, key, sizeof key)))
            break;
        csession__sqlite_row_id(key, o->id);
        rc = insert_row(o, state, state_len, ttl_seconds);
        if (rc == 1) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        rc = CSESSION_ESTORE; /* a live session has this key: draw again */
    }
    sodium_memzero(key, sizeof key);
    if (rc) {
        csession__buf_clear(key_out);
        if (rc == CSESSION_ESTORE && !o->failed)
            return csession__error(rc, "could not draw an unused session key in %d attempts",
                                   KEY_ATTEMPTS);
    }
    return rc;
}

static int sq_save(csession_store *store, const char *state, size_t state_len,
                   int64_t ttl_seconds, csession_buf *key_out)
{
    sqlite_store *s = (sqlite_store *)store;
    int rc = check_state(s, state, state_len, ttl_seconds);
    if (rc)
        return rc;
    if (!key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    op o;
    if ((rc = op_begin(s, &o, "save", NULL)))
        return rc;
    return op_end(&o, insert_new(&o, state, state_len, ttl_seconds, key_out));
}

/* ---- update -------------------------------------------------------------- */

/* The row of the key, rewritten at the next revision (any revision when
 * `expected` is NULL). 1 written, 0 not (no live row, or another revision),
 * or a negative code. */
static int rewrite(op *o, const char *state, size_t state_len, int64_t ttl_seconds,
                   const uint64_t *expected)
{
    sqlite3_stmt *st = stmt(o, expected ? CSESSION__SQ_UPDATE_IF : CSESSION__SQ_UPDATE);
    sqlite3_bind_int64(st, 3, csession__deadline_ms(o->now, ttl_seconds));
    if (expected)
        sqlite3_bind_int64(st, 5, (sqlite3_int64)*expected);
    int rc = bind_state(o, st, state, state_len);
    if (rc) {
        finish(st);
        return rc;
    }
    return run(o, st);
}

static int sq_update(csession_store *store, const char *key, size_t key_len, const char *state,
                     size_t state_len, int64_t ttl_seconds, csession_buf *key_out)
{
    sqlite_store *s = (sqlite_store *)store;
    int rc = check_state(s, state, state_len, ttl_seconds);
    if (rc)
        return rc;
    if (!key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int valid = csession__session_key_valid(key, key_len);
    op o;
    if ((rc = op_begin(s, &o, "update", valid ? key : NULL)))
        return rc;
    if (valid) {
        rc = csession__buf_set(key_out, key, CSESSION__SESSION_KEY_LEN);
        if (!rc)
            rc = rewrite(&o, state, state_len, ttl_seconds, NULL);
        if (rc != 0) /* written (1) or failed */
            return op_end(&o, rc < 0 ? rc : 0);
    }
    /* Gone since it was loaded (or never ours): as save, under a new key. */
    return op_end(&o, insert_new(&o, state, state_len, ttl_seconds, key_out));
}

/* Why a conditional write changed nothing: the row is at another revision
 * (CSESSION_ECONFLICT) or gone (CSESSION_ENOTFOUND). Revisions only grow
 * and keys never come back, so the answer of this second look is the one
 * that held when the write was refused. */
static int refused(op *o)
{
    int live = is_live(o);
    return live == 1 ? CSESSION_ECONFLICT : live == 0 ? CSESSION_ENOTFOUND : live;
}

static int sq_update_if(csession_store *store, const char *key, size_t key_len,
                        uint64_t expected_revision, const char *state, size_t state_len,
                        int64_t ttl_seconds)
{
    sqlite_store *s = (sqlite_store *)store;
    int rc = check_state(s, state, state_len, ttl_seconds);
    if (rc)
        return rc;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    op o;
    if ((rc = op_begin(s, &o, "update_if", key)))
        return rc;
    rc = rewrite(&o, state, state_len, ttl_seconds, &expected_revision);
    return op_end(&o, rc == 1 ? 0 : rc == 0 ? refused(&o) : rc);
}

static int sq_remove_if(csession_store *store, const char *key, size_t key_len,
                        uint64_t expected_revision)
{
    sqlite_store *s = (sqlite_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    op o;
    int rc = op_begin(s, &o, "remove_if", key);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(&o, CSESSION__SQ_REMOVE_IF);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)expected_revision);
    rc = run(&o, st);
    return op_end(&o, rc == 1 ? 0 : rc == 0 ? refused(&o) : rc);
}

/* ---- load, touch, remove ------------------------------------------------- */

static int sq_load_rev(csession_store *store, const char *key, size_t key_len,
                       int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision)
{
    sqlite_store *s = (sqlite_store *)store;
    if (!state || !revision)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    op o;
    int rc = op_begin(s, &o, "load", key);
    if (rc)
        return rc;
    int touch = touch_ttl_seconds > 0;
    sqlite3_stmt *st = stmt(&o, touch ? CSESSION__SQ_LOAD_TOUCH : CSESSION__SQ_LOAD);
    if (touch)
        sqlite3_bind_int64(st, 3, csession__deadline_ms(o.now, touch_ttl_seconds));
    rc = step(&o, st);
    if (rc == SQLITE_ROW) {
        rc = csession__buf_set(state, sqlite3_column_blob(st, 0),
                               (size_t)sqlite3_column_bytes(st, 0));
        sqlite3_int64 rev = sqlite3_column_int64(st, 1);
        *revision = rev > 0 ? (uint64_t)rev : 0;
        /* With RETURNING the write commits when the statement ends. */
        if (!rc && touch && (rc = step(&o, st)) == SQLITE_DONE)
            rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = CSESSION_ENOTFOUND;
    }
    finish(st);
    return op_end(&o, rc);
}

static int sq_load(csession_store *store, const char *key, size_t key_len, csession_buf *state)
{
    uint64_t revision;
    return sq_load_rev(store, key, key_len, 0, state, &revision);
}

static int sq_update_ttl(csession_store *store, const char *key, size_t key_len,
                         int64_t ttl_seconds)
{
    sqlite_store *s = (sqlite_store *)store;
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (!csession__session_key_valid(key, key_len))
        return 0;
    op o;
    int rc = op_begin(s, &o, "update_ttl", key);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(&o, CSESSION__SQ_TOUCH);
    sqlite3_bind_int64(st, 3, csession__deadline_ms(o.now, ttl_seconds));
    rc = run(&o, st);
    return op_end(&o, rc < 0 ? rc : 0);
}

static int sq_remove(csession_store *store, const char *key, size_t key_len)
{
    sqlite_store *s = (sqlite_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return 0;
    op o;
    int rc = op_begin(s, &o, "remove", key);
    if (rc)
        return rc;
    rc = run(&o, stmt(&o, CSESSION__SQ_REMOVE));
    return op_end(&o, rc < 0 ? rc : 0);
}

/* ---- construction -------------------------------------------------------- */

static void destroy(sqlite_store *s, int pool_ready)
{
    if (pool_ready)
        csession__sqlite_pool_dispose(&s->pool);
    csession__free(s->path);
    csession__free(s);
}

static void sq_free(csession_store *store)
{
    destroy((sqlite_store *)store, 1);
}

static int errno_text(int err, char *buf, size_t size)
{
    if (strerror_r(err, buf, size) != 0)
        snprintf(buf, size, "errno %d", err);
    return 0;
}

/*
 * Creates the file with mode 0600 if it is missing (the umask can only
 * take bits away from that; it is not touched), checks that it is a
 * regular file, and resolves its path.
 */
static int prepare_file(const char *path, char **resolved)
{
    char why[128];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int err = errno;
        errno_text(err, why, sizeof why);
        return csession__error(err == EISDIR ? CSESSION_EINVAL : CSESSION_ESTORE,
                               "SQLite store %s: cannot open or create the file: %s", path, why);
    }
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!regular)
        return csession__error(CSESSION_EINVAL, "SQLite store %s: not a regular file", path);
    char *real = realpath(path, NULL);
    if (!real) {
        errno_text(errno, why, sizeof why);
        return csession__error(CSESSION_ESTORE, "SQLite store %s: cannot resolve the path: %s",
                               path, why);
    }
    /* Ours to free with csession__free(), like everything the store holds. */
    *resolved = csession__strndup(real, strlen(real));
    free(real);
    return *resolved ? 0 : csession__oom();
}

static int check_path(const char *path)
{
    if (!path)
        return csession__error(CSESSION_EINVAL, "NULL path");
    size_t len = strnlen(path, CSESSION_STORE_SQLITE_LIMIT_PATH + 1);
    if (len == 0)
        return csession__error(CSESSION_EINVAL, "SQLite store: empty path");
    if (len > CSESSION_STORE_SQLITE_LIMIT_PATH)
        return csession__error(CSESSION_EINVAL, "SQLite store: path longer than %d bytes",
                               CSESSION_STORE_SQLITE_LIMIT_PATH);
    if (!strcmp(path, ":memory:"))
        return csession__error(CSESSION_EINVAL,
                               "SQLite store: \":memory:\" is a database per connection, not "
                               "one that connections share; give a file path");
    return 0;
}

int csession_store_sqlite_new(csession_store **out, const char *path,
                              const csession_store_sqlite_options *opts)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    *out = NULL;
    csession__sqlite_settings set;
    int rc = check_path(path);
    if (rc || (rc = csession__sqlite_read_options(opts, &set)))
        return rc;
    if (!sqlite3_threadsafe())
        return csession__error(CSESSION_EUNSUPPORTED,
                               "SQLite store: the libsqlite3 in use was built without thread "
                               "support (SQLITE_THREADSAFE=0)");
    if ((rc = csession_init()))
        return rc;

    sqlite_store *s = csession__calloc(1, sizeof *s);
    if (!s)
        return csession__oom();
    s->set = set;
    s->now_ms = csession__realtime_ms;
    s->keygen = csession__session_key_draw;
    atomic_init(&s->reclaimed, 0);
    if ((rc = prepare_file(path, &s->path))) {
        destroy(s, 0);
        return rc;
    }
    if ((rc = csession__sqlite_pool_init(&s->pool, s->path, &s->set))) {
        destroy(s, 0);
        return rc;
    }
    /* Set up the file on a connection counted by the pool (a fork waits
     * for it), and close it: a process that only creates the store before
     * forking its workers holds no connection. */
    csession__sqlite_conn *c = NULL;
    if (!(rc = csession__sqlite_pool_acquire(&s->pool, 0, &c))) {
        rc = csession__sqlite_conn_setup(c, s->path, &s->set);
        csession__sqlite_pool_release(&s->pool, c, 0);
    }
    if (rc) {
        destroy(s, 1);
        return rc;
    }

    s->base.version = CSESSION_STORE_VERSION;
    s->base.load = sq_load;
    s->base.save = sq_save;
    s->base.update = sq_update;
    s->base.update_ttl = sq_update_ttl;
    s->base.remove = sq_remove;
    s->base.free = sq_free;
    s->base.payload = NULL;
    s->base.flags = 0;
    s->base.load_rev = sq_load_rev;
    s->base.update_if = sq_update_if;
    s->base.remove_if = sq_remove_if;
    *out = &s->base;
    return 0;
}

/* ---- the periodic cleanup ------------------------------------------------ */

/* One step of the cleanup on a connection of its own, so that a fork or
 * another thread never waits for more than one step. */
static int cleanup_rows(sqlite_store *s, unsigned int batch, size_t *removed)
{
    op o;
    int rc = op_begin(s, &o, "cleanup", NULL);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(&o, CSESSION__SQ_RECLAIM);
    sqlite3_bind_int64(st, 6, batch);
    rc = run(&o, st);
    if (rc > 0)
        *removed += (size_t)rc;
    return op_end(&o, rc);
}

/* Hands up to CLEANUP_BATCH free pages back to the file system; *left
 * receives the number of free pages still in the file. 0 or a failure. */
static int cleanup_space(sqlite_store *s, long long *left_out)
{
    op o;
    int rc = op_begin(s, &o, "cleanup", NULL);
    if (rc)
        return rc;
    char text[64];
    snprintf(text, sizeof text, "PRAGMA incremental_vacuum(%d)", CLEANUP_BATCH);
    int sq = sqlite3_exec(o.c->db, text, NULL, NULL, NULL);
    sqlite3_int64 left = 0;
    if (sq == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        sq = sqlite3_prepare_v2(o.c->db, "PRAGMA freelist_count", -1, &st, NULL);
        if (sq == SQLITE_OK && (sq = sqlite3_step(st)) == SQLITE_ROW) {
            left = sqlite3_column_int64(st, 0);
            sq = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (sq != SQLITE_OK)
        return op_end(&o, op_fail(&o, sq));
    /* Empties the -wal file once its pages are in the database, if no
     * reader still needs them; a busy one is simply left for later. */
    if (left == 0 && s->set.journal_mode == CSESSION_STORE_SQLITE_JOURNAL_WAL)
        sqlite3_wal_checkpoint_v2(o.c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    *left_out = left;
    return op_end(&o, 0);
}

int csession_store_sqlite_cleanup(csession_store *store, size_t max_rows, size_t *removed)
{
    size_t dummy = 0;
    if (!removed)
        removed = &dummy;
    *removed = 0;
    if (!csession__store_is_sqlite(store))
        return csession__error(CSESSION_EINVAL, "not an SQLite store");
    sqlite_store *s = (sqlite_store *)store;
    int rc = 0;
    for (;;) {
        size_t left = max_rows ? max_rows - *removed : CLEANUP_BATCH;
        unsigned int batch = left < CLEANUP_BATCH ? (unsigned int)left : CLEANUP_BATCH;
        if (batch == 0)
            break;
        if ((rc = cleanup_rows(s, batch, removed)) < 0)
            return rc;
        if ((unsigned int)rc < batch)
            break;
    }
    /* Until no free page is left, or none goes away (a file made without
     * incremental auto_vacuum keeps its free pages for reuse). */
    long long left = 0, before = -1;
    while (!(rc = cleanup_space(s, &left)) && left > 0 && (before < 0 || left < before))
        before = left;
    return rc;
}

/* ---- internal hooks ------------------------------------------------------ */

int csession__store_is_sqlite(const csession_store *store)
{
    return store && store->load == sq_load;
}

int csession__store_sqlite_set_clock(csession_store *store, csession__sqlite_clock_fn now_ms,
                                     void *ctx)
{
    if (!csession__store_is_sqlite(store))
        return csession__error(CSESSION_EINVAL, "not an SQLite store");
    sqlite_store *s = (sqlite_store *)store;
    s->now_ms = now_ms ? now_ms : csession__realtime_ms;
    s->now_ctx = ctx;
    return 0;
}

int csession__store_sqlite_set_keygen(csession_store *store, csession__sqlite_keygen_fn keygen,
                                      void *ctx)
{
    if (!csession__store_is_sqlite(store))
        return csession__error(CSESSION_EINVAL, "not an SQLite store");
    sqlite_store *s = (sqlite_store *)store;
    s->keygen = keygen ? keygen : csession__session_key_draw;
    s->keygen_ctx = ctx;
    return 0;
}

int csession__store_sqlite_stats(csession_store *store, csession__sqlite_stats *out)
{
    if (!csession__store_is_sqlite(store) || !out)
        return csession__error(CSESSION_EINVAL, "not an SQLite store, or NULL argument");
    sqlite_store *s = (sqlite_store *)store;
    memset(out, 0, sizeof *out);
    out->opened = atomic_load(&s->pool.opened);
    out->closed_for_fork = atomic_load(&s->pool.closed_for_fork);
    out->reclaimed = atomic_load(&s->reclaimed);
    pthread_mutex_lock(&s->pool.lock);
    out->idle = s->pool.idle_count;
    pthread_mutex_unlock(&s->pool.lock);
    return 0;
}

const char *csession__store_sqlite_path(const csession_store *store)
{
    return csession__store_is_sqlite(store) ? ((const sqlite_store *)store)->path : NULL;
}

int csession__store_sqlite_pragma(csession_store *store, const char *name, char *out,
                                  size_t size)
{
    if (!csession__store_is_sqlite(store) || !name || !out || !size)
        return csession__error(CSESSION_EINVAL, "not an SQLite store, or NULL argument");
    op o;
    int rc = op_begin((sqlite_store *)store, &o, "pragma", NULL);
    if (rc)
        return rc;
    char text[96];
    snprintf(text, sizeof text, "PRAGMA %s", name);
    sqlite3_stmt *st = NULL;
    int sq = sqlite3_prepare_v2(o.c->db, text, -1, &st, NULL);
    out[0] = '\0';
    if (sq == SQLITE_OK && (sq = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(out, size, "%s", v ? (const char *)v : "");
        sq = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return op_end(&o, sq == SQLITE_DONE ? 0 : op_fail(&o, sq));
}
