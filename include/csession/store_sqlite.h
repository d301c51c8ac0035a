/*
 * store_sqlite.h: the SQLite session store - sessions in one database file,
 * shared by every process on the machine that opens it, kept across
 * restarts.
 *
 * Use it where the memory store falls short on one machine: a pool of
 * worker processes (FastCGI, Apache prefork, a pre-forking server) that
 * must all see the same sessions, or sessions that must survive a restart,
 * without running Redis. For several machines use the Redis store: SQLite
 * locks do not work reliably over network file systems (NFS, SMB), and the
 * file must be on a local disk. docs/store-sqlite.md has the details.
 *
 * Layout. One table, csession_sessions(id, state, revision, expires_ms),
 * and an index on expires_ms. `id` is the SHA-256 of the session key, not
 * the key: the file never holds a key that could be presented back, so a
 * stolen copy of it does not hand out live sessions (the states it holds
 * are still readable; see Secrets). The file is marked as a csession store
 * (PRAGMA application_id) and the store refuses a file that belongs to
 * something else.
 *
 * Revisions (store interface version 2). Every row has a revision: a save
 * starts it at 1 and every write adds one, so parallel requests on one
 * session merge or conflict instead of overwriting each other
 * (docs/request-flow.md). Compare and write are one SQL statement.
 *
 * Connections. Each operation runs on a connection of its own, taken from
 * a pool: a thread never waits for another thread's connection, only for
 * the database's write lock (see Blocking). Connections are opened on
 * first use, and reused; at most 32 idle ones are kept.
 *
 * Blocking. Every operation blocks the calling thread for the file I/O it
 * does (a read takes some microseconds, a write some tens on a local disk;
 * a commit with synchronous FULL also waits for fsync). SQLite lets one
 * writer at a time into the file, across all threads and processes: an
 * operation waits for the lock at most `busy_timeout_ms` in all and then
 * fails with CSESSION_ETIMEOUT, changing nothing. With WAL (the default)
 * reads never wait for writers. A fork() waits for the operations in
 * flight in other threads (see fork() below).
 *
 * Durability. A committed write survives a crash of the process (kill -9
 * included) in every journal mode; what it takes to survive a power cut or
 * an operating system crash is set by `synchronous` (below). The file is
 * never left torn: SQLite's journal rolls an interrupted write back.
 *
 * Expiry. Rows carry their expiry as wall-clock time (unix milliseconds,
 * so that it means the same after a restart and in every process): a
 * session past it is gone for every operation at once. Expired rows are
 * deleted a few at a time by each save (at most `cleanup_budget`, through
 * the index: never a scan), and by csession_store_sqlite_cleanup() for a
 * periodic job. Setting the system clock forward expires sessions early,
 * backward lets them live longer. Space of deleted rows is reused by new
 * ones, so the file stops growing at the peak number of sessions; the
 * cleanup call also gives free space back to the file system.
 *
 * Secrets. The file is created with mode 0600 (an existing file keeps its
 * mode); SQLite creates the -wal and -shm files beside it with the same
 * mode. Deleted and replaced states are overwritten with zeros inside the
 * file (PRAGMA secure_delete). States are not encrypted: keep the file on
 * an encrypted disk if they must not be read from it.
 *
 * fork(). SQLite connections must not cross fork() (sqlite.org,
 * "How To Corrupt An SQLite Database File", section 2.6). The store closes
 * its idle connections just before fork(), waiting for operations in
 * flight in other threads to end (each is bounded by the busy timeout), so
 * the child starts with none and opens its own on first use; the parent
 * reopens as it needs. (Leaving inherited connections unused in the child
 * is not enough: docs/store-sqlite.md explains how that loses commits.)
 * This happens in pthread_atfork() handlers that the library installs when
 * the first SQLite store is created. Children made without those handlers
 * (vfork(), posix_spawn(), _Fork(), a raw clone) must only exec or exit,
 * as POSIX already requires of vfork(). Other SQLite connections of the
 * application to the same file must be closed before fork() as well.
 *
 * Thread safety: every operation may run concurrently on the same store,
 * and any number of stores and processes may use one file at once.
 *
 * Memory: SQLite allocates through its own allocator, not through
 * csession_set_allocator(), and keeps recently used pages, states
 * included, in its page cache (about 2 MB per connection at most) without
 * wiping them.
 */
#ifndef CSESSION_STORE_SQLITE_H
#define CSESSION_STORE_SQLITE_H

#include <stddef.h>

#include "csession/common.h"
#include "csession/sys/store.h"

CSESSION_BEGIN_DECLS

#define CSESSION_STORE_SQLITE_OPTIONS_VERSION 1

/*
 * Journal modes (the `journal_mode` option). All of them keep committed
 * writes across a crash of the process; they differ in speed and in
 * concurrency. Every process that opens one file must use WAL, or every
 * one a rollback journal.
 */
#define CSESSION_STORE_SQLITE_JOURNAL_DEFAULT 0  /* WAL */
/* Write-ahead log (the -wal and -shm files beside the database): readers
 * never wait for the writer, and a commit is one append. The best choice
 * unless the file system cannot share memory between processes. */
#define CSESSION_STORE_SQLITE_JOURNAL_WAL 1
/* Rollback journals: a write locks out readers while it commits. DELETE
 * removes the journal after each commit, TRUNCATE empties it, PERSIST
 * overwrites its header. */
#define CSESSION_STORE_SQLITE_JOURNAL_DELETE 2
#define CSESSION_STORE_SQLITE_JOURNAL_TRUNCATE 3
#define CSESSION_STORE_SQLITE_JOURNAL_PERSIST 4

/*
 * Synchronous levels (the `synchronous` option): how far a commit is on its
 * way to the disk when it returns. None of them can leave the file
 * corrupt, in any journal mode.
 */
/* NORMAL with WAL, FULL with the rollback journals. */
#define CSESSION_STORE_SQLITE_SYNC_DEFAULT 0
/* With WAL: a commit is written to the -wal file but not flushed to the
 * disk; the disk is flushed at each checkpoint. Survives a crash of the
 * process; a power cut or an operating system crash may roll back the
 * commits since the last checkpoint (the WAL is checkpointed every 1000
 * pages or so: some hundreds of session writes, however long they took),
 * leaving sessions as they were before those requests, but never a torn
 * one. Only with WAL: with a rollback journal SQLite's NORMAL can corrupt
 * the file in a power cut on some file systems, so the store refuses that
 * combination (CSESSION_EINVAL). */
#define CSESSION_STORE_SQLITE_SYNC_NORMAL 1
/* Every commit waits for fsync(): a write that returned survives a power
 * cut too. Costs a disk flush per write (about 0.1 ms on NVMe, several ms
 * on spinning disks or some virtual machines). */
#define CSESSION_STORE_SQLITE_SYNC_FULL 2
/* FULL, plus a flush of the directory after a rollback journal is deleted
 * (DELETE journal mode), so that the deletion itself survives a power cut. */
#define CSESSION_STORE_SQLITE_SYNC_EXTRA 3

/* Defaults, used for option fields left at 0. */
#define CSESSION_STORE_SQLITE_DEFAULT_BUSY_TIMEOUT_MS 2000
#define CSESSION_STORE_SQLITE_DEFAULT_MAX_STATE_BYTES 1048576 /* 1 MiB */
#define CSESSION_STORE_SQLITE_DEFAULT_CLEANUP_BUDGET 8

/* Largest accepted values. */
#define CSESSION_STORE_SQLITE_LIMIT_BUSY_TIMEOUT_MS 600000      /* 10 minutes */
#define CSESSION_STORE_SQLITE_LIMIT_MAX_STATE_BYTES 16777216u   /* 16 MiB */
#define CSESSION_STORE_SQLITE_LIMIT_CLEANUP_BUDGET 1000
#define CSESSION_STORE_SQLITE_LIMIT_PATH 4096                   /* bytes */

/*
 * Options for csession_store_sqlite_new(). Initialise with
 * CSESSION_STORE_SQLITE_OPTIONS_INIT or csession_store_sqlite_options_init()
 * so that fields added by later versions get their defaults. Every field
 * left at 0 takes the default. The store reads only the fields of the
 * version the struct says it has.
 */
typedef struct csession_store_sqlite_options {
    /* CSESSION_STORE_SQLITE_OPTIONS_VERSION. */
    unsigned int version;

    /* Longest wait for the database's write lock (or for a read while a
     * rollback journal commits), in ms (default 2000, at most 600000); then
     * the operation fails with CSESSION_ETIMEOUT. */
    unsigned int busy_timeout_ms;

    /* A CSESSION_STORE_SQLITE_JOURNAL_* mode (default WAL). WAL or not is
     * a property of the file, chosen when the store creates it: a store
     * set to the other kind than its file's is refused (CSESSION_EINVAL).
     * The rollback modes mix with each other. */
    int journal_mode;

    /* A CSESSION_STORE_SQLITE_SYNC_* level (default NORMAL with WAL, FULL
     * otherwise). */
    int synchronous;

    /* Largest state accepted by save and update, in bytes (default 1 MiB,
     * at most 16 MiB); larger ones fail with CSESSION_ETOOBIG. */
    size_t max_state_bytes;

    /* Expired rows each save deletes, at most (default 8, at most 1000).
     * Every save adds one row, so any budget above 1 keeps expired rows
     * from piling up while sessions are created; a larger one reclaims a
     * backlog faster at a little more cost per save. */
    unsigned int cleanup_budget;
} csession_store_sqlite_options;

#define CSESSION_STORE_SQLITE_OPTIONS_INIT { CSESSION_STORE_SQLITE_OPTIONS_VERSION, 0, 0, 0, 0, 0 }

/* CSESSION_STORE_SQLITE_OPTIONS_VERSION, for bindings that cannot read macros. */
CSESSION_EXTERN(unsigned int) csession_store_sqlite_options_version(void);

/*
 * Sets `opts` to the defaults of the given `version` (pass
 * CSESSION_STORE_SQLITE_OPTIONS_VERSION): every field 0 but `version`.
 * Returns 0, or CSESSION_EINVAL for NULL or an unknown version.
 * Available in every build, also one without SQLite.
 */
CSESSION_EXTERN(int) csession_store_sqlite_options_init(csession_store_sqlite_options *opts,
                                                        unsigned int version);

/*
 * Creates a store on the database file at `path` (NUL-terminated, at most
 * 4096 bytes; a file system path, never an SQLite URI or ":memory:"). The
 * file is created with mode 0600 if it does not exist, and set up (table,
 * index, WAL) if it is empty; relative paths are resolved now, so a later
 * chdir() does not matter. Blocks for that I/O: up to the busy timeout if
 * another process holds the write lock, and a moment longer for a large
 * WAL left by a crash (SQLite replays it). No connection stays open after
 * the call.
 *
 * `opts` may be NULL for the defaults; it is only read during the call.
 *
 * Returns 0, or:
 *  CSESSION_EINVAL        NULL `out` or `path`, an empty, too long or
 *                         ":memory:" path, an unknown options version, an
 *                         option out of range, a path that is not a regular
 *                         file, a database that is not a csession store,
 *                         or a file in WAL mode for a store set to a
 *                         rollback journal (or the other way round);
 *  CSESSION_ESTORE        the file cannot be created, opened or written
 *                         (read-only, full disk, no permission, not a
 *                         database, written by a newer csession); the
 *                         message says which and names the path;
 *  CSESSION_ETIMEOUT      another process held the write lock longer than
 *                         the busy timeout;
 *  CSESSION_ENOMEM;
 *  CSESSION_EUNSUPPORTED  this build of the library has no SQLite store
 *                         (csession_has_feature("sqlite") is 0): install
 *                         SQLite's development files (Debian:
 *                         libsqlite3-dev) and rebuild csession, or the
 *                         libsqlite3 it runs with was built without threads;
 *  CSESSION_ERROR         libsodium cannot be initialised.
 * On failure *out is NULL. The caller owns *out until it hands it to a
 * manager; release it with csession_store_free(), which closes every
 * connection (the caller makes sure no operation is running).
 *
 * Session keys it accepts are the ones it makes (64 characters
 * [A-Za-z0-9]); any other key is unknown without touching the file: load
 * answers CSESSION_ENOTFOUND, update saves under a new key, update_ttl
 * and remove do nothing.
 *
 * Failures of the operations: CSESSION_ETIMEOUT past the busy timeout,
 * CSESSION_ESTORE for the file (read-only, disk full, I/O error, damaged
 * file; the message has SQLite's text), CSESSION_ETOOBIG for a state above
 * max_state_bytes, CSESSION_ENOMEM. A failed operation changes nothing.
 */
CSESSION_EXTERN(int) csession_store_sqlite_new(csession_store **out, const char *path,
                                               const csession_store_sqlite_options *opts);

/*
 * Deletes expired sessions from an SQLite store, for a periodic job (a
 * timer thread, cron calling a small program): at most `max_rows` of them
 * (0: all), oldest first, in transactions of at most 1000 rows so that
 * requests can write in between. Then gives the space that is free inside
 * the file back to the file system (in steps of at most 1000 pages) and
 * empties the -wal file when no reader needs it. `removed` (may be NULL)
 * receives the number of sessions deleted, also when the call fails
 * midway.
 *
 * Blocks the calling thread: some tens of microseconds per row (each
 * deletion rewrites a page; 1.3 s for 56,000 rows in docs/store-sqlite.md),
 * each step of 1000 waiting up to the busy timeout for the write lock; run
 * it off an event loop thread. Safe to run concurrently with requests and
 * in several processes at once.
 *
 * Returns 0, CSESSION_EINVAL (`store` is NULL or not an SQLite store),
 * CSESSION_EUNSUPPORTED (a build without SQLite), or the failures of the
 * operations above. Sessions already deleted stay deleted.
 */
CSESSION_EXTERN(int) csession_store_sqlite_cleanup(csession_store *store, size_t max_rows,
                                                   size_t *removed);

CSESSION_END_DECLS

#endif /* CSESSION_STORE_SQLITE_H */
