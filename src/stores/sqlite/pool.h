/*
 * Internal: the SQLite store's connections, and what happens to them at
 * fork().
 *
 * A pool hands each operation a connection of its own: an idle one, or a
 * new one opened there and then (there is no upper bound: an operation
 * never waits for another's connection, only for the database's lock). At
 * most CSESSION__SQLITE_MAX_IDLE idle connections are kept.
 *
 * fork(). A connection open in a process at the moment it forks must never
 * be used by the child, and SQLite's own bookkeeping of the file's locks,
 * which the child inherits, then wrongly tells the child's new connections
 * that the process holds the locks the parent's connection held (POSIX
 * locks are not inherited): the child could write to a WAL that another
 * process has already checkpointed and deleted, losing commits. So no
 * connection may be open at the fork: every pool is registered, and a
 * pthread_atfork() prepare handler stops new checkouts, waits for
 * operations in flight to return their connections, and closes every idle
 * one before the fork proceeds. Parent and child both start again with
 * none. A connection checked out before a fork that is returned in the
 * child (the forking thread itself held it, which the store never does)
 * is left alone rather than reused or closed.
 */
#ifndef CSESSION_SRC_STORES_SQLITE_POOL_H
#define CSESSION_SRC_STORES_SQLITE_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "conn.h"
#include "options.h"

#define CSESSION__SQLITE_MAX_IDLE 32

typedef struct csession__sqlite_pool {
    pthread_mutex_t lock;
    pthread_cond_t drained; /* in_use fell to 0 while a fork waits for it */
    pthread_cond_t resumed; /* the fork is over */
    csession__sqlite_conn *idle;
    unsigned int idle_count;
    unsigned int in_use;
    int forking;
    unsigned long generation; /* one more in each child */
    const char *path;                      /* borrowed from the store */
    const csession__sqlite_settings *set;  /* borrowed from the store */
    struct csession__sqlite_pool *prev, *next; /* the registry, under its lock */
    atomic_ulong opened;
    atomic_ulong closed_for_fork;
} csession__sqlite_pool;

/* Initialises `pool` (empty) and registers it for fork(). 0 or ENOMEM. */
int csession__sqlite_pool_init(csession__sqlite_pool *pool, const char *path,
                               const csession__sqlite_settings *set);

/* Unregisters `pool` and closes its connections. None may be checked out. */
void csession__sqlite_pool_dispose(csession__sqlite_pool *pool);

/*
 * A connection for one operation, into *out: an idle one, or a new one
 * (opened with its statements prepared when `prepare`). Waits while a fork
 * is under way. Returns 0 or the failure of opening.
 */
int csession__sqlite_pool_acquire(csession__sqlite_pool *pool, int prepare,
                                  csession__sqlite_conn **out);

/* Gives `c` back; `keep` 0 closes it instead (a failure left it unusable). */
void csession__sqlite_pool_release(csession__sqlite_pool *pool, csession__sqlite_conn *c,
                                   int keep);

#endif
