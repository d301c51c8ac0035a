/*
 * Internal: how the Redis store finds the server for a key.
 *
 * A topology answers two questions for the command layer (commands.c):
 * which pool of connections serves a key (`route`), and, when an attempt
 * went wrong, whether to give up, try again once (after a failover: on the
 * rediscovered master) or follow a redirect (`failed`). The command code is
 * the same for the three kinds:
 *
 *   single    one server (redis://, unix://): one pool
 *   sentinel  the master named by Redis Sentinel: one pool, pointed at the
 *             new master after a failover (sentinel.c)
 *   cluster   Redis Cluster: a pool per node, chosen by the key's hash
 *             slot, with MOVED and ASK redirects (cluster.c)
 */
#ifndef CSESSION_SRC_STORES_REDIS_TOPOLOGY_H
#define CSESSION_SRC_STORES_REDIS_TOPOLOGY_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "csession/loop.h"
#include "pool.h"
#include "redis_store.h"
#include "url.h"

/* Where one attempt goes. */
typedef struct csession__redis_route {
    csession__redis_pool *pool;
    int asking;        /* send ASKING before each command (an ASK redirect) */
    unsigned long gen; /* the topology's generation when routed */
} csession__redis_route;

/* What went wrong with an attempt. */
typedef enum csession__redis_event {
    CSESSION__REDIS_EV_FAILED = 0,      /* nothing another attempt could fix */
    CSESSION__REDIS_EV_UNREACHABLE,     /* could not connect */
    CSESSION__REDIS_EV_NOT_MASTER,      /* connected, but not to a master */
    CSESSION__REDIS_EV_DROPPED,         /* the connection closed under the command */
    CSESSION__REDIS_EV_TIMEOUT,         /* no answer in time: the command may have run */
    CSESSION__REDIS_EV_ERROR_REPLY,     /* an error reply: see its text */
    CSESSION__REDIS_EV_NOT_REPLICATED   /* WAIT counted fewer replicas than asked */
} csession__redis_event;

typedef enum csession__redis_next {
    CSESSION__REDIS_GIVE_UP = 0,
    CSESSION__REDIS_RETRY,   /* once per operation, on a fresh route and connection */
    CSESSION__REDIS_REDIRECT /* to the route `failed` wrote (bounded) */
} csession__redis_next;

typedef struct csession__redis_topology csession__redis_topology;
struct csession__redis_async;

/*
 * A non-blocking call waiting for its route (route_async answered
 * CSESSION__REDIS_ROUTE_PENDING): `ready` runs once from the call's loop,
 * on its thread, when the lookup ended: rc 0 (route again: it is known
 * now), or a failure with its message as the thread's last error.
 */
typedef struct csession__redis_waiter {
    void (*ready)(struct csession__redis_waiter *w, int rc);
    struct csession__redis_waiter *next; /* the topology's */
} csession__redis_waiter;

/* route_async: the route needs a lookup first; `ready` will say. */
#define CSESSION__REDIS_ROUTE_PENDING 1

/* A queue of waiters (newest first), used by one loop's thread. Wake runs
 * every `ready`, oldest first, with `rc` (`message`, for a failure, set
 * as the last error before each: a ready may set errors of its own), and
 * empties the queue; remove takes `w` out (nothing when not queued). */
void csession__redis_waiters_wake(csession__redis_waiter **queue, int rc, const char *message);
void csession__redis_waiters_remove(csession__redis_waiter **queue, csession__redis_waiter *w);

struct csession__redis_topology {
    /* The pool for `key` (the Redis key, hashed in cluster mode). 0, or a
     * failure with a message (no master found, no node for the slot). */
    int (*route)(csession__redis_topology *t, const char *key, size_t key_len,
                 csession__redis_route *out);
    /* What to do after `event` on `route` (`reply`: the error reply for
     * ERROR_REPLY, else NULL). For REDIRECT it rewrites `route`. Called
     * before any message is set: it may do I/O. */
    csession__redis_next (*failed)(csession__redis_topology *t, csession__redis_route *route,
                                   csession__redis_event event, const redisReply *reply);
    /* Optional: route for a non-blocking call on `loop` (its connections in
     * `async`, redis_async.h). Same contract as route, and also
     * CSESSION__REDIS_ROUTE_PENDING: `w` was queued until a lookup done on
     * the loop ends (see csession__redis_waiter). A topology fills it to do
     * its checks and lookups without waiting on the loop's thread. NULL:
     * route is used. */
    int (*route_async)(csession__redis_topology *t, const char *key, size_t key_len,
                       csession_loop *loop, struct csession__redis_async *async,
                       csession__redis_waiter *w, csession__redis_route *out);
    /* With route_async: takes `w`, queued on `loop`, out of the queue (its
     * `ready` will not run). */
    void (*unwait)(csession__redis_topology *t, csession_loop *loop, csession__redis_waiter *w);
    /* Adds the topology's counters and its pools' to `out`. */
    void (*stats)(csession__redis_topology *t, csession__redis_stats *out);
    /* Closes every connection and frees `t`; none may be in use. */
    void (*free)(csession__redis_topology *t);
    /* WAIT after each write: replicas to wait for (0: none) and how long. */
    unsigned int wait_replicas;
    unsigned int wait_timeout_ms;
    atomic_ulong not_replicated; /* writes WAIT found short of replicas */
};

/* Limits: redirects followed by one operation, nodes known in cluster mode. */
#define CSESSION__REDIS_MAX_REDIRECTS 5
#define CSESSION__REDIS_MAX_CLUSTER_NODES 1024

/* What each kind is made from: the parsed URL (borrowed: it must outlive
 * the topology) and the store's options. */
typedef struct csession__redis_topology_config {
    const csession__redis_url *url;
    unsigned int connect_timeout_ms;
    unsigned int command_timeout_ms;
    unsigned int pool_size; /* per pool: per node in cluster mode */
    unsigned int pool_wait_timeout_ms;
    const struct csession__redis_tls *tls; /* rediss: every connection's; NULL: plain */
} csession__redis_topology_config;

/*
 * Makes the topology the URL's kind asks for. Opens nothing. 0,
 * CSESSION_ENOMEM, or CSESSION_EINVAL (wait_timeout_ms not below
 * command_timeout_ms).
 */
int csession__redis_topology_new(csession__redis_topology **out,
                                 const csession__redis_topology_config *config);

/* The data nodes' login and timeouts, for the url's kind (host unset). */
csession__redis_target csession__redis_data_target(const csession__redis_topology_config *c);

/* By kind, called by csession__redis_topology_new() with `base` filled in. */
int csession__redis_sentinel_new(csession__redis_topology **out,
                                 const csession__redis_topology_config *config,
                                 const csession__redis_topology *base);
int csession__redis_cluster_new(csession__redis_topology **out,
                                const csession__redis_topology_config *config,
                                const csession__redis_topology *base);

/* Milliseconds on the monotonic clock. */
long long csession__redis_now_ms(void);

#endif
