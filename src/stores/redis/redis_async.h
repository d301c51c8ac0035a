/*
 * Internal: the Redis store's connections for non-blocking calls, kept per
 * event loop (loop.h) and per server (pool): a loop's requests to a server
 * are pipelined on a few connections of that loop's own, driven by its
 * watchers and timers, never shared with another thread.
 *
 * A request goes to the least busy connection of its loop and server. A
 * connection is opened when there is none, and another (up to the pool's
 * size) only when the least busy already has CSESSION__REDIS_LOOP_DEPTH
 * requests in flight: Redis runs one connection's commands in order on one
 * thread, so more connections add no server parallelism, only protection
 * against one slow command (a big value, DEBUG SLEEP) holding up the rest;
 * pipelining many requests in one write saves system calls on both sides.
 *
 * Timeouts are the connection's deadlines (conn.h) on a loop timer: the
 * connect timeout until the login is done, then the oldest request's
 * command timeout. A broken connection fails its requests (their callbacks
 * decide about a retry, commands.c) and is freed from its timer on the
 * loop's next turn, never inside a callback of its own.
 *
 * Connections to an old epoch of the pool (after a failover moved the
 * pool's target, or a drop retired the connections opened before it) are
 * closed once idle and new requests go to fresh ones.
 *
 * fork(): in a child, the first use forgets every connection inherited,
 * without a byte on it and without touching the loop's handles (an
 * inherited epoll or kqueue instance is shared with the parent: removing a
 * descriptor from it would remove it for the parent too).
 */
#ifndef CSESSION_SRC_STORES_REDIS_REDIS_ASYNC_H
#define CSESSION_SRC_STORES_REDIS_REDIS_ASYNC_H

#include <pthread.h>

#include "conn.h"
#include "fork_guard.h"
#include "csession/loop.h"
#include "pool.h"

/* Requests in flight on a connection before another is opened. */
#define CSESSION__REDIS_LOOP_DEPTH 64

struct csession__redis_loop_set;

/* Embedded in the store: no allocation until a loop is seen. */
typedef struct csession__redis_async {
    pthread_mutex_t lock; /* guards the list of sets (not their contents) */
    struct csession__redis_loop_set *sets;
    csession__fork_guard fork;
} csession__redis_async;

/* 0, or CSESSION_ENOMEM. */
int csession__redis_async_init(csession__redis_async *a);

/*
 * Closes every loop connection and releases `a`. Calls the
 * loops' io_close / timer_close: the loops must still exist and not be
 * running on another thread (the store is freed once its loops stopped).
 */
void csession__redis_async_dispose(csession__redis_async *a);

/*
 * Sends `cmds` as one request on a connection of `loop` to `pool`'s server
 * (`fresh`: on a connection opened for it, when the pool's size allows),
 * the replies to `cb` (conn.h). The request goes to *slot before anything
 * can run its callback, so that the caller can cancel it; the callback
 * may run before this returns (a failure found at once). Runs on the
 * loop's thread.
 */
void csession__redis_async_send(csession__redis_async *a, csession_loop *loop,
                                csession__redis_pool *pool, int fresh, const char *what,
                                const csession__redis_cmd *cmds, size_t n,
                                csession__redis_reply_cb cb, void *arg,
                                struct csession__redis_req **slot);

#endif
