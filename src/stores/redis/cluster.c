/*
 * Redis Cluster: each command goes to the node serving its key's hash slot.
 *
 * The slot map is learnt with CLUSTER SLOTS before the first command (from
 * a known node or a seed of the URL) and kept up to date three ways:
 *   - MOVED: the slot has moved for good. The map is corrected for that
 *     slot at once, the command sent to the new node, and the whole map
 *     loaded again lazily (at most once a second: a resharding moves many
 *     slots, each redirect fixes the one it is about).
 *   - ASK: the slot is being migrated and this key is already on the
 *     target. The command goes there once, preceded by ASKING; the map does
 *     not change (the slot is still the source's until the move completes).
 *   - a node that cannot be reached, drops the connection or does not
 *     answer: the map is loaded again before the next command (a failover
 *     may have promoted a replica), and a dropped or refused command is sent
 *     once more.
 * An operation follows at most CSESSION__REDIS_MAX_REDIRECTS redirects.
 *
 * Every command of the store touches a single key, so no command can span
 * slots (no CROSSSLOT, no TRYAGAIN). Loading the map runs in one thread at a
 * time on a connection of its own; the others keep using the map they have.
 * Non-blocking calls load it on their loop instead (see below).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cluster_slots.h"
#include "error.h"
#include "fork_guard.h"
#include "log.h"
#include "redis_async.h"
#include "topology.h"

/* Least time between two loads of the map asked for by MOVED. */
#define LAZY_REFRESH_MS 1000
/* Known nodes asked for the map before the URL's seeds. */
#define PROBE_NODES 3

typedef struct cluster {
    csession__redis_topology base;
    csession__redis_slot_map map;
    const csession__redis_url *url;
    csession__redis_target probe; /* the login for CLUSTER SLOTS connections */
    pthread_mutex_t refresh_lock; /* one load at a time; guards next_probe */
    unsigned int next_probe;
    atomic_llong last_refresh_ms;
    atomic_int stale; /* 1: load the map before the next command; 2: at once */
    atomic_ulong refreshes, moved, ask;
    csession__fork_guard fork; /* for the locks; each pool has its own */
    atomic_int loading;        /* 1 while a non-blocking call's lazy load is in flight */
    struct csession__redis_req *load_req; /* (never cancelled) */
    char load_host[CSESSION__REDIS_MAX_HOST + 1]; /* where it went */
    int load_port;
    /* The loads non-blocking calls wait for, one record per loop (the list
     * guarded by `loads_lock`, a record used by its loop's thread only). */
    pthread_mutex_t loads_lock;
    struct loop_load *loads;
} cluster;

/* In a child (fork_guard.h): a thread of the parent may have held either
 * lock. The map is kept: it is data, and as right as it was. */
static void after_fork(void *p)
{
    cluster *c = p;
    (void)pthread_mutex_init(&c->refresh_lock, NULL); /* cannot fail: a default mutex */
    atomic_store(&c->loading, 0); /* the parent's load is not this process' */
    (void)pthread_mutex_init(&c->loads_lock, NULL);
    c->loads = NULL; /* the parent's loops' (left unused) */
    csession__redis_slot_map_after_fork(&c->map);
}

/* Before each use: valid in this process. After a fork, every node's pool
 * closes its inherited connections at once, not only those used later. */
static void fork_check(cluster *c)
{
    if (!csession__fork_guard_check(&c->fork, after_fork, c))
        return;
    unsigned int n = csession__redis_slot_map_size(&c->map);
    for (unsigned int i = 0; i < n; i++)
        csession__redis_pool_fork_check(&csession__redis_slot_map_at(&c->map, i)->pool);
}

static int load_reply(cluster *c, redisReply *r, const char *what, const char *host);

static const char *const slots_argv[] = {"CLUSTER", "SLOTS"};
static const size_t slots_lens[] = {7, 5};

/* CLUSTER SLOTS from host:port into the map. */
static int load_from(cluster *c, const char *host, int port)
{
    csession__redis_target t = c->probe;
    t.host = host;
    t.port = port;
    char where[300];
    csession__redis_describe(&t, where, sizeof where);
    csession__redis_conn *conn;
    csession__redis_failure failure;
    int rc = csession__redis_conn_open(&conn, &t, &failure);
    if (rc)
        return rc;
    csession__redis_cmd cmd = {2, (const char **)slots_argv, slots_lens};
    redisReply *r;
    char what[340];
    snprintf(what, sizeof what, "Redis CLUSTER SLOTS at %s", where);
    rc = csession__redis_conn_run(conn, what, &cmd, 1, &r, &failure);
    csession__redis_conn_close(conn);
    return rc ? rc : load_reply(c, r, what, host);
}

/* A CLUSTER SLOTS reply from `host` (`what` names it) into the map; frees
 * the reply. */
static int load_reply(cluster *c, redisReply *r, const char *what, const char *host)
{
    int rc = 0;
    csession__redis_slot_range *ranges = NULL;
    size_t n = 0;
    if (r->type != REDIS_REPLY_ARRAY) {
        rc = csession__redis_reply_error(r, what);
    } else if (r->elements == 0) {
        rc = csession__error(CSESSION_ESTORE, "%s: no slot is assigned", what);
    } else if (!(ranges = csession__calloc(r->elements, sizeof *ranges))) {
        rc = csession__oom();
    } else if (csession__redis_slots_parse(r, ranges, &n) != 0) {
        rc = csession__error(CSESSION_ESTORE, "%s: malformed reply", what);
    } else {
        rc = csession__redis_slot_map_load(&c->map, ranges, n, host);
    }
    csession__free(ranges);
    freeReplyObject(r);
    return rc;
}

static int no_map(int code, const char *last)
{
    return csession__error(code, "Redis Cluster: no node gave the slot map (last: %s)", last);
}

/* Under refresh_lock: a few known nodes, then the seeds, until one answers;
 * `from` gets the one that did. */
static int load_map(cluster *c, char *from, size_t from_size)
{
    char last[400] = "";
    int timed_out = 1; /* no node answered in time */
    unsigned int known = csession__redis_slot_map_size(&c->map);
    unsigned int tries = known < PROBE_NODES ? known : PROBE_NODES;
    for (unsigned int k = 0; k < tries; k++) {
        const csession__redis_cluster_node *node =
            csession__redis_slot_map_at(&c->map, (c->next_probe + k) % known);
        int rc = load_from(c, node->host, node->port);
        if (rc == 0) {
            c->next_probe = (c->next_probe + k + 1) % known;
            csession__redis_describe(&node->pool.target, from, from_size);
            return 0;
        }
        if (rc == CSESSION_ENOMEM)
            return rc;
        timed_out &= rc == CSESSION_ETIMEOUT;
        snprintf(last, sizeof last, "%s", csession_last_error());
    }
    for (size_t i = 0; i < c->url->n_nodes; i++) {
        int rc = load_from(c, c->url->nodes[i].host, c->url->nodes[i].port);
        if (rc == 0) {
            csession__redis_target t = c->probe;
            t.host = c->url->nodes[i].host;
            t.port = c->url->nodes[i].port;
            csession__redis_describe(&t, from, from_size);
        }
        if (rc == 0 || rc == CSESSION_ENOMEM)
            return rc;
        timed_out &= rc == CSESSION_ETIMEOUT;
        snprintf(last, sizeof last, "%s", csession_last_error());
    }
    return no_map(timed_out ? CSESSION_ETIMEOUT : CSESSION_ESTORE, last);
}

static void log_loaded(cluster *c, const char *from)
{
    csession__log(CSESSION_LOG_INFO,
                  "Redis Cluster: slot map loaded from %s: %u nodes known (%lu MOVED and "
                  "%lu ASK redirects followed so far)",
                  from, csession__redis_slot_map_size(&c->map), atomic_load(&c->moved),
                  atomic_load(&c->ask));
}

/* The map should be loaded again now. */
static int due(cluster *c)
{
    int stale = atomic_load(&c->stale);
    return stale == 2 ||
           (stale == 1 &&
            csession__redis_now_ms() - atomic_load(&c->last_refresh_ms) >= LAZY_REFRESH_MS);
}

/*
 * Loads the map when it is stale. `needed`: the caller has no node for its
 * slot and waits for the load; otherwise it only loads when no other
 * thread is loading, and a lazy load at most once per LAZY_REFRESH_MS.
 * `seen` is the refresh count the caller saw: a load done since then is
 * as good as its own.
 */
static int refresh(cluster *c, int needed, unsigned long seen)
{
    if (needed)
        pthread_mutex_lock(&c->refresh_lock);
    else if (pthread_mutex_trylock(&c->refresh_lock) != 0)
        return 0;
    int rc = 0, loaded = 0;
    char from[300];
    if (atomic_load(&c->refreshes) != seen) {
        /* loaded meanwhile */
    } else if (!needed && !due(c)) {
        /* not due yet */
    } else {
        rc = load_map(c, from, sizeof from);
        atomic_store(&c->last_refresh_ms, csession__redis_now_ms());
        if (rc == 0) {
            atomic_store(&c->stale, 0);
            atomic_fetch_add(&c->refreshes, 1);
            loaded = 1;
        }
    }
    pthread_mutex_unlock(&c->refresh_lock);
    if (loaded)
        log_loaded(c, from);
    return rc;
}

/* ---- the lazy loads of non-blocking calls ----------------------------------
 *
 * A load that is due while the map still has a node for the call's slot
 * (after MOVED, which corrected that slot already) is sent as CLUSTER
 * SLOTS on the loop's connection to that node and answered from the loop;
 * the call goes on with the map as it is. A load the call cannot do
 * without waits on the loop too (the next section).
 */

static void load_replied(void *arg, int rc, csession__redis_failure failure,
                         redisReply **replies, size_t n)
{
    (void)failure;
    cluster *c = arg;
    if (rc == 0 && n == 1 && pthread_mutex_trylock(&c->refresh_lock) == 0) {
        char from[300], what[340];
        csession__redis_target t = c->probe;
        t.host = c->load_host;
        t.port = c->load_port;
        csession__redis_describe(&t, from, sizeof from);
        snprintf(what, sizeof what, "Redis CLUSTER SLOTS at %s", from);
        rc = load_reply(c, replies[0], what, c->load_host);
        replies[0] = NULL;
        if (rc == 0) {
            atomic_store(&c->stale, 0);
            atomic_fetch_add(&c->refreshes, 1);
        }
        pthread_mutex_unlock(&c->refresh_lock);
        if (rc == 0)
            log_loaded(c, from);
    }
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    atomic_store(&c->loading, 0);
}

static void load_async(cluster *c, csession__redis_cluster_node *node, csession_loop *loop,
                       struct csession__redis_async *a)
{
    if (atomic_exchange(&c->loading, 1))
        return;
    atomic_store(&c->last_refresh_ms, csession__redis_now_ms());
    snprintf(c->load_host, sizeof c->load_host, "%s", node->host);
    c->load_port = node->port;
    csession__redis_cmd cmd = {2, (const char **)slots_argv, slots_lens};
    csession__redis_async_send(a, loop, &node->pool, 0, "Redis CLUSTER SLOTS", &cmd, 1,
                               load_replied, c, &c->load_req);
}

/* ---- the loads non-blocking calls cannot do without ------------------------
 *
 * No map yet, no node for the call's slot, or a node that failed (its
 * replica may have been promoted): load_map() on the calling loop, CLUSTER
 * SLOTS asked of the same nodes in the same order on loop connections (the
 * record's `probe` pool, pointed at each in turn), each bounded by the
 * store's timeouts. That loop's calls wait in the record's queue
 * meanwhile; the map takes concurrent loads (cluster_slots.h), so a loop
 * loads on its own whatever the other threads do.
 */

typedef struct loop_load {
    cluster *c;
    csession_loop *loop;
    struct csession__redis_async *async;
    csession__redis_pool probe;
    csession__redis_waiter *waiting; /* the calls waiting, newest first */
    int running;
    unsigned int k, tries, known, start; /* asked so far; known nodes tried first */
    int timed_out;                       /* every node asked did not answer in time */
    int rc;                              /* how the last load ended (`last` says why) */
    char host[CSESSION__REDIS_MAX_HOST + 1];
    int port;
    char last[400];
    struct csession__redis_req *req;
    struct loop_load *next;
} loop_load;

static loop_load *load_for(cluster *c, csession_loop *loop, struct csession__redis_async *a)
{
    pthread_mutex_lock(&c->loads_lock);
    loop_load *l = c->loads;
    while (l && l->loop != loop)
        l = l->next;
    if (!l && (l = csession__calloc(1, sizeof *l)) != NULL) {
        if (csession__redis_pool_init(&l->probe, &c->probe, 1, 0) != 0) {
            csession__free(l);
            l = NULL;
        } else {
            l->c = c;
            l->loop = loop;
            l->next = c->loads;
            c->loads = l;
        }
    }
    pthread_mutex_unlock(&c->loads_lock);
    if (l)
        l->async = a;
    return l;
}

/* The load ended: the waiting calls route again (rc 0) or fail, oldest first. */
static void load_done(loop_load *l, int rc)
{
    char msg[520] = "";
    if (rc)
        snprintf(msg, sizeof msg, "%s", csession_last_error());
    l->rc = rc;
    snprintf(l->last, sizeof l->last, "%.399s", msg);
    l->running = 0;
    csession__redis_waiters_wake(&l->waiting, rc, msg);
}

static void load_ask(loop_load *l);

static void loop_load_replied(void *arg, int rc, csession__redis_failure failure,
                              redisReply **replies, size_t n)
{
    (void)failure;
    loop_load *l = arg;
    cluster *c = l->c;
    l->req = NULL;
    char from[300], what[340];
    csession__redis_target t = c->probe;
    t.host = l->host;
    t.port = l->port;
    csession__redis_describe(&t, from, sizeof from);
    if (rc == 0 && n == 1) {
        snprintf(what, sizeof what, "Redis CLUSTER SLOTS at %s", from);
        rc = load_reply(c, replies[0], what, l->host);
        replies[0] = NULL;
    }
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    if (rc == 0) {
        atomic_store(&c->last_refresh_ms, csession__redis_now_ms());
        atomic_store(&c->stale, 0);
        atomic_fetch_add(&c->refreshes, 1);
        log_loaded(c, from);
        load_done(l, 0);
        return;
    }
    if (rc == CSESSION_ENOMEM) {
        load_done(l, rc);
        return;
    }
    l->timed_out &= rc == CSESSION_ETIMEOUT;
    snprintf(l->last, sizeof l->last, "%s", csession_last_error());
    l->k++;
    load_ask(l);
}

/* Asks the next node: a known one, then the URL's seeds. */
static void load_ask(loop_load *l)
{
    cluster *c = l->c;
    if (l->k == l->tries + c->url->n_nodes) {
        load_done(l, no_map(l->timed_out ? CSESSION_ETIMEOUT : CSESSION_ESTORE, l->last));
        return;
    }
    if (l->k < l->tries) {
        const csession__redis_cluster_node *node =
            csession__redis_slot_map_at(&c->map, (l->start + l->k) % l->known);
        snprintf(l->host, sizeof l->host, "%s", node->host);
        l->port = node->port;
    } else {
        snprintf(l->host, sizeof l->host, "%s", c->url->nodes[l->k - l->tries].host);
        l->port = c->url->nodes[l->k - l->tries].port;
    }
    csession__redis_pool_retarget(&l->probe, l->host, l->port);
    csession__redis_cmd cmd = {2, (const char **)slots_argv, slots_lens};
    csession__redis_async_send(l->async, l->loop, &l->probe, 1, "Redis CLUSTER SLOTS", &cmd, 1,
                               loop_load_replied, l, &l->req);
}

/* Queues `w` for a load on `loop`, started when none runs there. */
static int load_wait(cluster *c, const char *key, size_t key_len, csession_loop *loop,
                     struct csession__redis_async *a, csession__redis_waiter *w,
                     csession__redis_route *out);

static void cluster_unwait(csession__redis_topology *t, csession_loop *loop,
                           csession__redis_waiter *w)
{
    cluster *c = (cluster *)t;
    pthread_mutex_lock(&c->loads_lock);
    loop_load *l = c->loads;
    while (l && l->loop != loop)
        l = l->next;
    pthread_mutex_unlock(&c->loads_lock);
    if (l)
        csession__redis_waiters_remove(&l->waiting, w);
}

/* Routes `key`; with `loop`, a lazy load that is due goes on the loop, and
 * a load the call cannot do without too, `w` waiting for it. */
static int route_on(cluster *c, const char *key, size_t key_len, csession_loop *loop,
                    struct csession__redis_async *a, csession__redis_waiter *w,
                    csession__redis_route *out)
{
    fork_check(c);
    unsigned int slot = csession__redis_key_slot(key, key_len);
    unsigned long seen = atomic_load(&c->refreshes);
    csession__redis_cluster_node *node = csession__redis_slot_map_lookup(&c->map, slot);
    int stale = atomic_load(&c->stale);
    if (loop && w && (stale == 2 || (!node && (stale || atomic_load(&c->refreshes) == 0)))) {
        return load_wait(c, key, key_len, loop, a, w, out);
    } else if (loop && w && !node) {
        /* the map just loaded serves no such slot: load it again later */
        atomic_store(&c->stale, 1);
        return csession__error(CSESSION_ESTORE, "Redis Cluster: no node serves hash slot %u",
                               slot);
    } else if (node && loop && atomic_load(&c->stale) == 1 && due(c)) {
        load_async(c, node, loop, a);
    } else if (!node || due(c)) {
        int rc = refresh(c, node == NULL, seen);
        if (!node) {
            if (rc)
                return rc;
            node = csession__redis_slot_map_lookup(&c->map, slot);
            if (!node)
                return csession__error(CSESSION_ESTORE,
                                       "Redis Cluster: no node serves hash slot %u", slot);
        }
    }
    out->pool = &node->pool;
    out->asking = 0;
    out->gen = seen;
    return 0;
}

static int load_wait(cluster *c, const char *key, size_t key_len, csession_loop *loop,
                     struct csession__redis_async *a, csession__redis_waiter *w,
                     csession__redis_route *out)
{
    loop_load *l = load_for(c, loop, a);
    if (!l)
        return csession__oom();
    if (!l->running) {
        l->known = csession__redis_slot_map_size(&c->map);
        l->tries = l->known < PROBE_NODES ? l->known : PROBE_NODES;
        l->start = 0;
        if (l->known && pthread_mutex_trylock(&c->refresh_lock) == 0) {
            l->start = c->next_probe % l->known;
            c->next_probe = (c->next_probe + 1) % l->known;
            pthread_mutex_unlock(&c->refresh_lock);
        }
        l->k = 0;
        l->timed_out = 1;
        l->last[0] = '\0';
        l->running = 1;
        unsigned long seen = atomic_load(&c->refreshes);
        load_ask(l);
        if (!l->running) { /* ended at once */
            if (atomic_load(&c->refreshes) == seen && l->rc)
                return csession__error(l->rc, "%s", l->last);
            return route_on(c, key, key_len, loop, a, w, out);
        }
    }
    w->next = l->waiting;
    l->waiting = w;
    return CSESSION__REDIS_ROUTE_PENDING;
}

static int cluster_route(csession__redis_topology *t, const char *key, size_t key_len,
                         csession__redis_route *out)
{
    return route_on((cluster *)t, key, key_len, NULL, NULL, NULL, out);
}

static int cluster_route_async(csession__redis_topology *t, const char *key, size_t key_len,
                               csession_loop *loop, struct csession__redis_async *a,
                               csession__redis_waiter *w, csession__redis_route *out)
{
    return route_on((cluster *)t, key, key_len, loop, a, w, out);
}

/* The map may be wrong: load it before the next command, at once (`now`)
 * or lazily. */
static void suspect(cluster *c, int now)
{
    if (now)
        atomic_store(&c->stale, 2);
    else if (atomic_load(&c->stale) == 0)
        atomic_store(&c->stale, 1);
}

static csession__redis_next redirect(cluster *c, csession__redis_route *route,
                                     const csession__redis_redirect *rd)
{
    const char *host = rd->host;
    size_t host_len = rd->host_len;
    if (host_len == 0) { /* "MOVED 3999 :6381": the host that answered */
        host = route->pool->target.host;
        host_len = strlen(host);
    }
    csession__redis_cluster_node *node;
    if (csession__redis_slot_map_node(&c->map, host, host_len, rd->port, &node) != 0)
        return CSESSION__REDIS_GIVE_UP;
    if (rd->ask) {
        atomic_fetch_add(&c->ask, 1);
    } else {
        atomic_fetch_add(&c->moved, 1);
        csession__redis_slot_map_set(&c->map, rd->slot, node);
        suspect(c, 0);
    }
    route->pool = &node->pool;
    route->asking = rd->ask;
    return CSESSION__REDIS_REDIRECT;
}

static csession__redis_next cluster_failed(csession__redis_topology *t,
                                           csession__redis_route *route,
                                           csession__redis_event event, const redisReply *reply)
{
    cluster *c = (cluster *)t;
    csession__redis_redirect rd;
    switch (event) {
    case CSESSION__REDIS_EV_ERROR_REPLY:
        if (csession__redis_redirect_parse(reply, &rd) == 0)
            return redirect(c, route, &rd);
        /* The cluster lost a slot's master; a failover will fix the map. */
        if (csession__redis_error_is(reply, "CLUSTERDOWN"))
            suspect(c, 1);
        return CSESSION__REDIS_GIVE_UP;
    case CSESSION__REDIS_EV_UNREACHABLE:
    case CSESSION__REDIS_EV_DROPPED:
    case CSESSION__REDIS_EV_NOT_REPLICATED:
        suspect(c, 1);
        return CSESSION__REDIS_RETRY;
    case CSESSION__REDIS_EV_TIMEOUT:
        suspect(c, 1);
        return CSESSION__REDIS_GIVE_UP;
    case CSESSION__REDIS_EV_NOT_MASTER:
    case CSESSION__REDIS_EV_FAILED:
    default:
        return CSESSION__REDIS_GIVE_UP;
    }
}

static void cluster_stats(csession__redis_topology *t, csession__redis_stats *out)
{
    cluster *c = (cluster *)t;
    fork_check(c);
    unsigned int n = csession__redis_slot_map_size(&c->map);
    for (unsigned int i = 0; i < n; i++)
        csession__redis_pool_add_stats(&csession__redis_slot_map_at(&c->map, i)->pool, out);
    out->nodes += n;
    out->refreshes += atomic_load(&c->refreshes);
    out->moved += atomic_load(&c->moved);
    out->ask += atomic_load(&c->ask);
}

static void cluster_free(csession__redis_topology *t)
{
    cluster *c = (cluster *)t;
    fork_check(c);
    loop_load *l = c->loads;
    while (l) {
        loop_load *next = l->next;
        csession__redis_pool_dispose(&l->probe);
        csession__free(l);
        l = next;
    }
    pthread_mutex_destroy(&c->loads_lock);
    csession__redis_slot_map_dispose(&c->map);
    pthread_mutex_destroy(&c->refresh_lock);
    csession__free(c);
}

int csession__redis_cluster_new(csession__redis_topology **out,
                                const csession__redis_topology_config *config,
                                const csession__redis_topology *base)
{
    cluster *c = csession__calloc(1, sizeof *c);
    if (!c)
        return csession__oom();
    c->url = config->url;
    c->probe = csession__redis_data_target(config);
    c->probe.db = 0; /* url.c refuses a database in cluster mode */
    c->probe.host = NULL;
    int rc = csession__redis_slot_map_init(&c->map, &c->probe, config->pool_size,
                                           config->pool_wait_timeout_ms);
    if (rc) {
        csession__free(c);
        return rc;
    }
    if (pthread_mutex_init(&c->refresh_lock, NULL) != 0) {
        csession__redis_slot_map_dispose(&c->map);
        csession__free(c);
        return csession__oom();
    }
    if (pthread_mutex_init(&c->loads_lock, NULL) != 0) {
        pthread_mutex_destroy(&c->refresh_lock);
        csession__redis_slot_map_dispose(&c->map);
        csession__free(c);
        return csession__oom();
    }
    atomic_init(&c->stale, 0);
    atomic_init(&c->last_refresh_ms, 0);
    atomic_init(&c->refreshes, 0);
    atomic_init(&c->moved, 0);
    atomic_init(&c->ask, 0);
    atomic_init(&c->loading, 0);
    csession__fork_guard_init(&c->fork);
    c->base = *base;
    atomic_init(&c->base.not_replicated, 0);
    c->base.route = cluster_route;
    c->base.route_async = cluster_route_async;
    c->base.unwait = cluster_unwait;
    c->base.failed = cluster_failed;
    c->base.stats = cluster_stats;
    c->base.free = cluster_free;
    *out = &c->base;
    return 0;
}
