/*
 * Internal: a bounded pool of Redis connections shared by threads.
 *
 * At most `size` connections exist at once (idle or in use or being
 * opened); they are opened lazily, outside the lock. A thread that finds
 * them all busy waits on a condition variable, up to the wait timeout.
 *
 * Epochs: when a connection is found dropped (the server restarted, or
 * closed it), the others opened before it are likely dead too. The pool's
 * epoch is then advanced, and idle connections of an older epoch are closed
 * instead of handed out, so that after a restart each thread does not first
 * have to fail on a dead connection of its own. Pointing the pool at another
 * server (a Sentinel failover) advances the epoch too, so that connections
 * to the old server are retired as they come back.
 *
 * fork(): a connection belongs to the process that opened it. In a child,
 * the first use of the pool (any function below but release and discard,
 * which only take what acquire gave in this process) closes every
 * connection inherited from the parent, idle or in use by a thread of the
 * parent at the time, without sending anything on it (conn.h), and
 * re-creates the pool's lock and condition variable; the child then opens
 * connections of its own. The parent's connections stay as they were.
 */
#ifndef CSESSION_SRC_STORES_REDIS_POOL_H
#define CSESSION_SRC_STORES_REDIS_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "conn.h"
#include "fork_guard.h"

typedef struct csession__redis_pool {
    pthread_mutex_t lock;
    pthread_cond_t available;     /* signalled when a connection or a slot frees up */
    csession__redis_conn *idle;   /* stack of idle connections (most recent first) */
    csession__redis_conn *all;    /* every connection opened and not closed, idle or not */
    unsigned int open;            /* connections idle, in use or being opened */
    unsigned int size;            /* most connections at once */
    unsigned int wait_timeout_ms; /* longest wait for a free connection */
    unsigned long epoch;
    int reconnecting;             /* a connection dropped; none opened since */
    csession__fork_guard fork;    /* the process the connections belong to */
    unsigned int inherited_now;   /* closed by the last reset after fork() */
    /* Where connections go: a copy whose host points into host_buf. Read
     * and changed under the lock (csession__redis_pool_retarget). */
    csession__redis_target target;
    char host_buf[256];
    /* Counters, for tests and monitoring. */
    atomic_ulong opened;        /* connections opened successfully */
    atomic_ulong dropped;       /* connections found closed or reset */
    atomic_ulong wait_timeouts; /* acquisitions that gave up waiting */
    atomic_ulong inherited;     /* connections inherited across fork() and closed */
    /* Connections of the same server kept per loop (redis_async.c), which
     * count in the stats with the pool's. */
    atomic_uint loop_open;
} csession__redis_pool;

/* 0, or CSESSION_ENOMEM when the lock cannot be made. Opens nothing.
 * `target` is copied (its host too; its other strings stay borrowed). */
int csession__redis_pool_init(csession__redis_pool *pool, const csession__redis_target *target,
                              unsigned int size, unsigned int wait_timeout_ms);

/* Points new connections at `host`:`port` (at most 255 bytes of host) and
 * retires the connections open now as they come back. */
void csession__redis_pool_retarget(csession__redis_pool *pool, const char *host, int port);

/*
 * For connections opened outside the pool (per loop, redis_async.c): the
 * pool's epoch now, and a copy of its target (host copied into `host`, of
 * at least 256 bytes), both read under the lock.
 */
unsigned long csession__redis_pool_snapshot(csession__redis_pool *pool,
                                            csession__redis_target *target, char *host);

/* Counts a dropped connection opened outside the pool (per loop): the
 * connections of the pool opened before it are retired too. */
void csession__redis_pool_note_drop(csession__redis_pool *pool, unsigned long epoch);

/* Closes every connection; none may be in use. */
void csession__redis_pool_dispose(csession__redis_pool *pool);

/* In a process forked from the one that used the pool last, closes the
 * inherited connections now rather than at the pool's next use (see
 * above); else nothing. For topologies that have several pools. */
void csession__redis_pool_fork_check(csession__redis_pool *pool);

/*
 * Hands out a connection: an idle one of the current epoch or, when there is
 * room, a new one (opened outside the lock). With `fresh` non-zero, never an
 * idle one: a new connection, closing an idle one to make room if needed.
 * Returns 0 with *out set, CSESSION_ETIMEOUT when all connections stayed
 * busy for the wait timeout (*failure FAILED), or what opening a connection
 * returned (with its *failure).
 */
int csession__redis_pool_acquire(csession__redis_pool *pool, int fresh,
                                 csession__redis_conn **out, csession__redis_failure *failure);

/* Adds the pool's counters to the stats' (see redis_store.h). */
struct csession__redis_stats;
void csession__redis_pool_add_stats(csession__redis_pool *pool,
                                    struct csession__redis_stats *out);

/* Gives `c` back for reuse. */
void csession__redis_pool_release(csession__redis_pool *pool, csession__redis_conn *c);

/*
 * Closes `c` after a failure. `dropped` non-zero: the server closed or reset
 * it, so the connections opened before it are retired too (see above).
 */
void csession__redis_pool_discard(csession__redis_pool *pool, csession__redis_conn *c,
                                  int dropped);

#endif
