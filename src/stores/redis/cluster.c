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
} cluster;

/* In a child (fork_guard.h): a thread of the parent may have held either
 * lock. The map is kept: it is data, and as right as it was. */
static void after_fork(void *p)
{
    cluster *c = p;
    (void)pthread_mutex_init(&c->refresh_lock, NULL); /* cannot fail: a default mutex */
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
    static const char *const argv[] = {"CLUSTER", "SLOTS"};
    static const size_t lens[] = {7, 5};
    csession__redis_cmd cmd = {2, (const char **)argv, lens};
    redisReply *r;
    char what[340];
    snprintf(what, sizeof what, "Redis CLUSTER SLOTS at %s", where);
    rc = csession__redis_conn_run(conn, what, &cmd, 1, &r, &failure);
    csession__redis_conn_close(conn);
    if (rc)
        return rc;
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

/* Under refresh_lock: a few known nodes, then the seeds, until one answers;
 * `from` gets the one that did. */
static int load_map(cluster *c, char *from, size_t from_size)
{
    char last[400] = "";
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
        snprintf(last, sizeof last, "%s", csession_last_error());
    }
    return csession__error(CSESSION_ESTORE, "Redis Cluster: no node gave the slot map (last: %s)",
                           last);
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
        csession__log(CSESSION_LOG_INFO,
                      "Redis Cluster: slot map loaded from %s: %u nodes known (%lu MOVED and "
                      "%lu ASK redirects followed so far)",
                      from, csession__redis_slot_map_size(&c->map), atomic_load(&c->moved),
                      atomic_load(&c->ask));
    return rc;
}

static int cluster_route(csession__redis_topology *t, const char *key, size_t key_len,
                         csession__redis_route *out)
{
    cluster *c = (cluster *)t;
    fork_check(c);
    unsigned int slot = csession__redis_key_slot(key, key_len);
    unsigned long seen = atomic_load(&c->refreshes);
    csession__redis_cluster_node *node = csession__redis_slot_map_lookup(&c->map, slot);
    if (!node || due(c)) {
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
    atomic_init(&c->stale, 0);
    atomic_init(&c->last_refresh_ms, 0);
    atomic_init(&c->refreshes, 0);
    atomic_init(&c->moved, 0);
    atomic_init(&c->ask, 0);
    csession__fork_guard_init(&c->fork);
    c->base = *base;
    atomic_init(&c->base.not_replicated, 0);
    c->base.route = cluster_route;
    c->base.failed = cluster_failed;
    c->base.stats = cluster_stats;
    c->base.free = cluster_free;
    *out = &c->base;
    return 0;
}
