/* Picking the topology from the URL, and the single-server one: see
 * topology.h. */
#include "topology.h"

#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"

long long csession__redis_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

csession__redis_target csession__redis_data_target(const csession__redis_topology_config *c)
{
    const csession__redis_url *u = c->url;
    csession__redis_target t;
    memset(&t, 0, sizeof t);
    t.host = u->host;
    t.port = u->port;
    t.path = u->path;
    t.user = u->user;
    t.user_len = u->user_len;
    t.password = u->password;
    t.password_len = u->password_len;
    t.db = u->db;
    t.require_master = u->kind == CSESSION__REDIS_SENTINEL;
    t.connect_timeout_ms = c->connect_timeout_ms;
    t.command_timeout_ms = c->command_timeout_ms;
    t.tls = c->tls;
    return t;
}

/* ---- one server ----------------------------------------------------------- */

typedef struct single {
    csession__redis_topology base;
    csession__redis_pool pool;
} single;

static int single_route(csession__redis_topology *t, const char *key, size_t key_len,
                        csession__redis_route *out)
{
    (void)key;
    (void)key_len;
    out->pool = &((single *)t)->pool;
    out->asking = 0;
    out->gen = 0;
    return 0;
}

/* Only a dropped connection is worth a second attempt: the server may have
 * restarted, or closed an idle connection. A server that cannot be reached
 * is down for this attempt as for the next. */
static csession__redis_next single_failed(csession__redis_topology *t,
                                          csession__redis_route *route,
                                          csession__redis_event event, const redisReply *reply)
{
    (void)t;
    (void)route;
    (void)reply;
    return event == CSESSION__REDIS_EV_DROPPED ? CSESSION__REDIS_RETRY : CSESSION__REDIS_GIVE_UP;
}

static void single_stats(csession__redis_topology *t, csession__redis_stats *out)
{
    csession__redis_pool_add_stats(&((single *)t)->pool, out);
}

static void single_free(csession__redis_topology *t)
{
    single *s = (single *)t;
    csession__redis_pool_dispose(&s->pool);
    csession__free(s);
}

static int single_new(csession__redis_topology **out,
                      const csession__redis_topology_config *config,
                      const csession__redis_topology *base)
{
    single *s = csession__calloc(1, sizeof *s);
    if (!s)
        return csession__oom();
    csession__redis_target target = csession__redis_data_target(config);
    int rc = csession__redis_pool_init(&s->pool, &target, config->pool_size,
                                       config->pool_wait_timeout_ms);
    if (rc) {
        csession__free(s);
        return rc;
    }
    s->base = *base;
    s->base.route = single_route;
    s->base.failed = single_failed;
    s->base.stats = single_stats;
    s->base.free = single_free;
    *out = &s->base;
    return 0;
}

/* ---- the kind the URL names ------------------------------------------------ */

int csession__redis_topology_new(csession__redis_topology **out,
                                 const csession__redis_topology_config *config)
{
    *out = NULL;
    const csession__redis_url *u = config->url;
    csession__redis_topology base;
    memset(&base, 0, sizeof base);
    base.wait_replicas = u->wait_replicas;
    base.wait_timeout_ms = u->wait_timeout_ms;
    if (base.wait_replicas && !base.wait_timeout_ms)
        base.wait_timeout_ms = config->command_timeout_ms > 1 ? config->command_timeout_ms / 2 : 1;
    /* WAIT's answer must come before the socket gives up on it. */
    if (base.wait_replicas && base.wait_timeout_ms >= config->command_timeout_ms)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: wait_timeout_ms (%u) must be below the store's "
                               "command_timeout_ms (%u)",
                               base.wait_timeout_ms, config->command_timeout_ms);
    atomic_init(&base.not_replicated, 0);
    switch (u->kind) {
    case CSESSION__REDIS_SENTINEL:
        return csession__redis_sentinel_new(out, config, &base);
    case CSESSION__REDIS_CLUSTER:
        return csession__redis_cluster_new(out, config, &base);
    case CSESSION__REDIS_SINGLE:
    default:
        return single_new(out, config, &base);
    }
}

void csession__redis_waiters_wake(csession__redis_waiter **queue, int rc, const char *message)
{
    csession__redis_waiter *w = NULL;
    while (*queue) { /* reversed: oldest first */
        csession__redis_waiter *next = (*queue)->next;
        (*queue)->next = w;
        w = *queue;
        *queue = next;
    }
    while (w) {
        csession__redis_waiter *next = w->next;
        w->next = NULL;
        if (rc)
            csession__error(rc, "%s", message);
        w->ready(w, rc);
        w = next;
    }
}

void csession__redis_waiters_remove(csession__redis_waiter **queue, csession__redis_waiter *w)
{
    for (csession__redis_waiter **p = queue; p && *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            w->next = NULL;
            return;
        }
    }
}
