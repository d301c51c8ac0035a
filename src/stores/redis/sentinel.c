/*
 * Redis Sentinel: the master of a named group, as the sentinels say.
 *
 * The master is looked up lazily: before the first command, and again after
 * a sign of a failover (the master cannot be reached, dropped the
 * connection, answers READONLY, MASTERDOWN or NOREPLICAS, is no longer a
 * master, or WAIT found the write short of replicas). The command that saw
 * the sign is then sent once more, to whichever master the sentinels name.
 *
 * A lookup asks the sentinels in turn (the last one that answered first),
 * `SENTINEL get-master-addr-by-name`, and checks with ROLE that the address
 * named is a master before using it; a sentinel that cannot be reached,
 * does not know the name or names a replica is skipped. Every connection the
 * pool opens checks ROLE too (in the AUTH/SELECT round trip), so that no
 * command goes to a server that was demoted meanwhile.
 *
 * One lookup runs at a time; threads that need one meanwhile wait for its
 * result rather than ask the sentinels again. Non-blocking calls look up on
 * their loop instead, queued meanwhile (see below). When the master moved, the
 * pool is pointed at the new one and its connections to the old one are
 * retired (pool.h: epochs).
 *
 * A planned failover (SENTINEL FAILOVER) gives no sign on the old master:
 * it stays a writable master until Sentinel demotes it, some ten seconds
 * after the sentinels switched, and what is written there meanwhile is
 * lost. So, besides the signs above, one command a second (CHECK_MS) first
 * asks the sentinel that answered last, on a connection kept for that,
 * whether the master is still the same; the other threads do not wait for
 * that check.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fork_guard.h"
#include "log.h"
#include "redis_async.h"
#include "topology.h"

/* How often commands check with a sentinel that the master did not move. */
#define CHECK_MS 1000

typedef struct sentinel {
    csession__redis_topology base;
    csession__redis_pool pool; /* to the master */
    const csession__redis_url *url;
    csession__redis_target data;     /* the master's login; host set per lookup */
    csession__redis_target sentinels; /* the sentinels' login; host set per sentinel */
    pthread_mutex_t lock;            /* one lookup at a time; guards the fields below */
    size_t preferred;                /* the sentinel to ask first */
    char master[CSESSION__REDIS_MAX_HOST + 1]; /* "" before the first lookup */
    int master_port;
    int last_rc; /* the last failed lookup's code and message */
    char last_error[400];
    csession__redis_conn *watch; /* kept open to sentinel `watch_index` for checks */
    size_t watch_index;
    atomic_llong last_check_ms;
    atomic_ulong failures;  /* lookups that failed */
    atomic_ulong gen;       /* lookups that succeeded */
    atomic_int stale;       /* 1: look the master up before the next command */
    atomic_ulong master_changes;
    csession__fork_guard fork; /* for the lock and `watch`; the pool has its own */
    /* The checks of non-blocking calls: a pool per sentinel (for its loop
     * connections, redis_async.h), and 1 while one check is in flight. */
    csession__redis_pool sentinel_pools[CSESSION__REDIS_MAX_NODES];
    atomic_int checking;
    unsigned long check_gen;               /* of the check in flight */
    struct csession__redis_req *check_req; /* (never cancelled) */
    /* The lookups of non-blocking calls, one record per loop (the list
     * guarded by `lookups_lock`, a record used by its loop's thread only). */
    pthread_mutex_t lookups_lock;
    struct loop_lookup *lookups;
} sentinel;

/* The master name, for messages (no control characters: url.c). */
#define NAME_FMT "'%.*s'"
#define NAME_ARG(s) (int)((s)->url->master_name_len > 64 ? 64 : (s)->url->master_name_len), \
                    (s)->url->master_name

/* The master's address in a reply to SENTINEL get-master-addr-by-name
 * from `what`: 0, or a failure with a message. */
static int parse_master(const sentinel *s, const redisReply *r, const char *what, char *host,
                        size_t host_size, int *port)
{
    if (r->type == REDIS_REPLY_NIL)
        return csession__error(CSESSION_ESTORE, "%s knows no master named " NAME_FMT, what,
                               NAME_ARG(s));
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[0]->len > 0 && (size_t)r->element[0]->len < host_size) {
        memcpy(host, r->element[0]->str, (size_t)r->element[0]->len + 1);
        *port = atoi(r->element[1]->str);
        if (*port < 1 || *port > 65535)
            return csession__error(CSESSION_ESTORE, "%s named an invalid port", what);
        return 0;
    }
    return csession__redis_reply_error(r, what);
}

/* The command that asks a sentinel where the master is. */
#define CHECK_CMD(s, cmd)                                                                    \
    const char *cmd##_argv[] = {"SENTINEL", "get-master-addr-by-name", (s)->url->master_name}; \
    const size_t cmd##_lens[] = {8, 23, (s)->url->master_name_len};                         \
    csession__redis_cmd cmd = {3, cmd##_argv, cmd##_lens}

/* Asks sentinel `i` for the master's address, on *conn when not NULL
 * (else on a new connection, left in *conn). *conn is closed and NULL after
 * a failure. */
static int ask_sentinel(sentinel *s, size_t i, csession__redis_conn **conn, char *host,
                        size_t host_size, int *port)
{
    csession__redis_target t = s->sentinels;
    t.host = s->url->nodes[i].host;
    t.port = s->url->nodes[i].port;
    char where[300];
    csession__redis_describe(&t, where, sizeof where);
    csession__redis_failure failure;
    int rc = *conn ? 0 : csession__redis_conn_open(conn, &t, &failure);
    if (rc)
        return rc;
    CHECK_CMD(s, cmd);
    redisReply *r;
    char what[340];
    snprintf(what, sizeof what, "Redis Sentinel at %s", where);
    rc = csession__redis_conn_run(*conn, what, &cmd, 1, &r, &failure);
    if (rc) {
        csession__redis_conn_close(*conn);
        *conn = NULL;
        return rc;
    }
    rc = parse_master(s, r, what, host, host_size, port);
    csession__redis_reply_free(r);
    return rc;
}

/*
 * In a child (fork_guard.h): a thread of the parent may have held the lock
 * (a lookup takes it across network round trips), and the connection to
 * the sentinel is the parent's. The master found is kept: it is data, and
 * the next sign of a failover looks it up again as in any process.
 */
static void after_fork(void *p)
{
    sentinel *s = p;
    (void)pthread_mutex_init(&s->lock, NULL); /* cannot fail: a default mutex */
    csession__redis_conn_abandon(s->watch);
    s->watch = NULL;
    atomic_store(&s->checking, 0); /* the parent's check is not this process' */
    (void)pthread_mutex_init(&s->lookups_lock, NULL);
    s->lookups = NULL; /* the parent's loops' (left unused) */
}

/* Before each use: valid in this process; the pool's inherited
 * connections are closed at once too. */
static void fork_check(sentinel *s)
{
    if (csession__fork_guard_check(&s->fork, after_fork, s))
        csession__redis_pool_fork_check(&s->pool);
}

/* The master as `host`:`port`, for messages. */
typedef struct master_name {
    char text[300];
} master_name;

static void name_master(const sentinel *s, master_name *out)
{
    out->text[0] = '\0';
    if (s->master[0]) {
        csession__redis_target t = s->data;
        t.host = s->master;
        t.port = s->master_port;
        csession__redis_describe(&t, out->text, sizeof out->text);
    }
}

/* After a lookup or a check, the lock released: a master found, or one
 * that moved, is worth a line. */
static void report_master(const sentinel *s, const master_name *was, const master_name *now)
{
    if (strcmp(was->text, now->text) == 0 || !now->text[0])
        return;
    if (!was->text[0])
        csession__log(CSESSION_LOG_INFO, "Redis Sentinel: master " NAME_FMT " is at %s",
                      NAME_ARG(s), now->text);
    else
        csession__log(CSESSION_LOG_WARN,
                      "Redis Sentinel: master " NAME_FMT " moved from %s to %s (a failover)",
                      NAME_ARG(s), was->text, now->text);
}

/* Connects to the address a sentinel named: AUTH, SELECT and ROLE. */
static int verify_master(sentinel *s, const char *host, int port,
                         csession__redis_failure *failure)
{
    csession__redis_target t = s->data;
    t.host = host;
    t.port = port;
    csession__redis_conn *c;
    int rc = csession__redis_conn_open(&c, &t, failure);
    csession__redis_conn_close(c);
    return rc;
}

/* Under the lock: `host`:`port`, checked, is the master from now on. */
static void use_master(sentinel *s, const char *host, int port)
{
    int moved = strcmp(s->master, host) != 0 || s->master_port != port;
    if (moved && s->master[0])
        atomic_fetch_add(&s->master_changes, 1);
    if (moved) {
        memcpy(s->master, host, strlen(host) + 1);
        s->master_port = port;
        csession__redis_pool_retarget(&s->pool, host, port);
    }
    atomic_store(&s->last_check_ms, csession__redis_now_ms());
    atomic_fetch_add(&s->gen, 1);
    atomic_store(&s->stale, 0);
}

/* No master found through the sentinels: ETIMEOUT when none answered in
 * time (`timed_out`: all of them), else ESTORE; `last` the last reason. */
static int none_found(const sentinel *s, int timed_out, const char *last)
{
    size_t n = s->url->n_nodes;
    return csession__error(timed_out ? CSESSION_ETIMEOUT : CSESSION_ESTORE,
                           "Redis Sentinel: no master " NAME_FMT " found through %zu "
                           "sentinel%s (last: %s)",
                           NAME_ARG(s), n, n == 1 ? "" : "s", last);
}

/* Under the lock: asks each sentinel until one names a live master. */
static int look_up(sentinel *s)
{
    size_t n = s->url->n_nodes;
    char last[400] = "";
    int timed_out = 1;
    for (size_t k = 0; k < n; k++) {
        size_t i = (s->preferred + k) % n;
        char host[CSESSION__REDIS_MAX_HOST + 1];
        int port = 0;
        csession__redis_failure failure = CSESSION__REDIS_UNREACHABLE;
        csession__redis_conn *conn = NULL;
        int rc = ask_sentinel(s, i, &conn, host, sizeof host, &port);
        csession__redis_conn_close(conn);
        if (rc == 0)
            rc = verify_master(s, host, port, &failure);
        if (rc == CSESSION_ENOMEM)
            return rc;
        if (rc && failure == CSESSION__REDIS_FAILED)
            return rc; /* AUTH refused by the master: no sentinel can fix that */
        if (rc) {
            timed_out &= rc == CSESSION_ETIMEOUT;
            snprintf(last, sizeof last, "%s", csession_last_error());
            continue;
        }
        s->preferred = i;
        use_master(s, host, port);
        return 0;
    }
    return none_found(s, timed_out, last);
}

static int discover(sentinel *s)
{
    unsigned long failures = atomic_load(&s->failures);
    master_name was, now;
    pthread_mutex_lock(&s->lock);
    name_master(s, &was);
    int rc = 0;
    if (!atomic_load(&s->stale)) {
        /* Another thread found the master while this one waited. */
    } else if (atomic_load(&s->failures) != failures) {
        /* Another thread just failed to: the same answer, without asking again. */
        rc = csession__error(s->last_rc, "%s", s->last_error);
    } else if ((rc = look_up(s)) != 0) {
        s->last_rc = rc;
        snprintf(s->last_error, sizeof s->last_error, "%s", csession_last_error());
        atomic_fetch_add(&s->failures, 1);
    }
    name_master(s, &now);
    pthread_mutex_unlock(&s->lock);
    report_master(s, &was, &now);
    return rc;
}

/*
 * Once a CHECK_MS, by whichever thread comes first (the others go on): asks
 * the sentinel that answered last whether the master moved, and follows it
 * when it did. A sentinel that does not answer changes nothing: commands
 * going wrong will ask the others.
 */
static void check_master(sentinel *s)
{
    long long now = csession__redis_now_ms();
    if (now - atomic_load(&s->last_check_ms) < CHECK_MS ||
        pthread_mutex_trylock(&s->lock) != 0)
        return;
    master_name was, found;
    name_master(s, &was);
    if (now - atomic_load(&s->last_check_ms) >= CHECK_MS && !atomic_load(&s->stale)) {
        atomic_store(&s->last_check_ms, now);
        if (s->watch && s->watch_index != s->preferred) {
            csession__redis_conn_close(s->watch);
            s->watch = NULL;
        }
        s->watch_index = s->preferred;
        char host[CSESSION__REDIS_MAX_HOST + 1];
        int port = 0;
        csession__redis_failure failure;
        if (ask_sentinel(s, s->preferred, &s->watch, host, sizeof host, &port) == 0 &&
            (strcmp(host, s->master) != 0 || port != s->master_port) &&
            verify_master(s, host, port, &failure) == 0)
            use_master(s, host, port);
    }
    name_master(s, &found);
    pthread_mutex_unlock(&s->lock);
    report_master(s, &was, &found);
}

static int sentinel_route(csession__redis_topology *t, const char *key, size_t key_len,
                          csession__redis_route *out)
{
    (void)key;
    (void)key_len;
    sentinel *s = (sentinel *)t;
    fork_check(s);
    if (!atomic_load(&s->stale))
        check_master(s);
    if (atomic_load(&s->stale)) {
        int rc = discover(s);
        if (rc)
            return rc;
    }
    out->pool = &s->pool;
    out->asking = 0;
    out->gen = atomic_load(&s->gen);
    return 0;
}

/* The master `gen` named may be gone: look it up again before the next
 * command (unless a lookup since has done it). */
static void suspect(sentinel *s, unsigned long gen)
{
    if (atomic_load(&s->gen) == gen)
        atomic_store(&s->stale, 1);
}

/* ---- the check of non-blocking calls ---------------------------------------
 *
 * The same once-a-second question to the sentinel that answered last, sent
 * on a connection of the calling loop and answered from it: the loop never
 * waits for a sentinel, and the calls go on meanwhile. When the master
 * moved, the next call looks it up (and checks it with ROLE) as after any
 * sign of a failover.
 */

static void check_replied(void *arg, int rc, csession__redis_failure failure,
                          redisReply **replies, size_t n)
{
    (void)failure;
    sentinel *s = arg;
    if (rc == 0 && n == 1) {
        char host[CSESSION__REDIS_MAX_HOST + 1];
        int port = 0;
        if (parse_master(s, replies[0], "Redis Sentinel", host, sizeof host, &port) == 0 &&
            pthread_mutex_trylock(&s->lock) == 0) {
            int moved = strcmp(host, s->master) != 0 || port != s->master_port;
            pthread_mutex_unlock(&s->lock);
            if (moved)
                suspect(s, s->check_gen);
        }
    }
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    atomic_store(&s->checking, 0);
}

/* Once a CHECK_MS, by whichever loop comes first, if no check is in flight. */
static void check_master_async(sentinel *s, csession_loop *loop, struct csession__redis_async *a)
{
    long long now = csession__redis_now_ms();
    if (now - atomic_load(&s->last_check_ms) < CHECK_MS || atomic_exchange(&s->checking, 1))
        return;
    unsigned long gen = atomic_load(&s->gen);
    if (pthread_mutex_trylock(&s->lock) != 0) {
        atomic_store(&s->checking, 0); /* a lookup is running: it will tell */
        return;
    }
    size_t i = s->preferred;
    pthread_mutex_unlock(&s->lock);
    atomic_store(&s->last_check_ms, now);
    s->check_gen = gen;
    CHECK_CMD(s, cmd);
    csession__redis_async_send(a, loop, &s->sentinel_pools[i], 0, "Redis Sentinel", &cmd, 1,
                               check_replied, s, &s->check_req);
}

/* ---- the lookup of non-blocking calls ---------------------------------------
 *
 * look_up() on the calling loop: each sentinel in turn asked on the loop's
 * connection to it, the address named checked (AUTH, SELECT, ROLE) on a
 * loop connection to it (the record's `candidate` pool), each step bounded
 * by the store's timeouts. The calls of that loop that need the master
 * meanwhile wait in the record's queue; each loop looks up on its own (a
 * loop's calls are woken on its own thread only), and whichever ends first
 * points the pool at the master.
 */

typedef struct loop_lookup {
    sentinel *s;
    csession_loop *loop;
    struct csession__redis_async *async;
    csession__redis_pool candidate; /* the address a sentinel named */
    csession__redis_waiter *waiting; /* the calls waiting, oldest last */
    int running;
    size_t start, k, index; /* the sentinel asked first; how many asked; the one now */
    int timed_out;   /* every sentinel asked so far did not answer in time */
    int rc;          /* how the last lookup ended (`last` says why) */
    char host[CSESSION__REDIS_MAX_HOST + 1];
    int port;
    char last[400];
    struct csession__redis_req *req;
    struct loop_lookup *next;
} loop_lookup;

static loop_lookup *lookup_for(sentinel *s, csession_loop *loop, struct csession__redis_async *a)
{
    pthread_mutex_lock(&s->lookups_lock);
    loop_lookup *l = s->lookups;
    while (l && l->loop != loop)
        l = l->next;
    if (!l && (l = csession__calloc(1, sizeof *l)) != NULL) {
        if (csession__redis_pool_init(&l->candidate, &s->data, 1, 0) != 0) {
            csession__free(l);
            l = NULL;
        } else {
            l->s = s;
            l->loop = loop;
            l->next = s->lookups;
            s->lookups = l;
        }
    }
    pthread_mutex_unlock(&s->lookups_lock);
    if (l)
        l->async = a;
    return l;
}

/* The lookup ended (rc 0: the master is known): every waiting call is
 * told, in the order they came. */
static void lookup_done(sentinel *s, loop_lookup *l, int rc)
{
    char msg[520] = "";
    if (rc)
        snprintf(msg, sizeof msg, "%s", csession_last_error());
    /* For the blocking lookups, unless one runs (the lock held across its
     * round trips): the loop never waits for it. */
    if (rc && pthread_mutex_trylock(&s->lock) == 0) {
        s->last_rc = rc;
        snprintf(s->last_error, sizeof s->last_error, "%.399s", msg);
        atomic_fetch_add(&s->failures, 1);
        pthread_mutex_unlock(&s->lock);
    }
    l->rc = rc;
    snprintf(l->last, sizeof l->last, "%.399s", msg);
    l->running = 0;
    csession__redis_waiters_wake(&l->waiting, rc, msg);
}

static void lookup_ask(sentinel *s, loop_lookup *l);

/* Sentinel `l->index` gave no master: the next one. */
static void lookup_skip(sentinel *s, loop_lookup *l, int rc)
{
    l->timed_out &= rc == CSESSION_ETIMEOUT;
    snprintf(l->last, sizeof l->last, "%s", csession_last_error());
    l->k++;
    lookup_ask(s, l);
}

static void lookup_verified(void *arg, int rc, csession__redis_failure failure,
                            redisReply **replies, size_t n)
{
    loop_lookup *l = arg;
    sentinel *s = l->s;
    l->req = NULL;
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    if (rc == CSESSION_ENOMEM || (rc && failure == CSESSION__REDIS_FAILED)) {
        lookup_done(s, l, rc); /* AUTH refused by the master: no sentinel can fix that */
        return;
    }
    if (rc) {
        lookup_skip(s, l, rc);
        return;
    }
    /* A blocking lookup running meanwhile (another thread) holds the lock
     * across round trips: the loop does not wait for it, and its calls
     * route again, after that lookup or with another of their own. */
    if (pthread_mutex_trylock(&s->lock) == 0) {
        master_name was, now;
        name_master(s, &was);
        s->preferred = l->index;
        use_master(s, l->host, l->port);
        name_master(s, &now);
        pthread_mutex_unlock(&s->lock);
        report_master(s, &was, &now);
    }
    lookup_done(s, l, 0);
}

static void lookup_asked(void *arg, int rc, csession__redis_failure failure,
                         redisReply **replies, size_t n)
{
    (void)failure;
    loop_lookup *l = arg;
    sentinel *s = l->s;
    l->req = NULL;
    if (rc == 0)
        rc = parse_master(s, replies[0], "Redis Sentinel", l->host, sizeof l->host, &l->port);
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    if (rc) {
        lookup_skip(s, l, rc);
        return;
    }
    /* The login of a new connection to it checks that it is a master. */
    csession__redis_pool_retarget(&l->candidate, l->host, l->port);
    static const char *const ping_argv[] = {"PING"};
    static const size_t ping_lens[] = {4};
    csession__redis_cmd ping = {1, (const char **)ping_argv, ping_lens};
    csession__redis_async_send(l->async, l->loop, &l->candidate, 1, "Redis Sentinel master", &ping,
                               1, lookup_verified, l, &l->req);
}

static void lookup_ask(sentinel *s, loop_lookup *l)
{
    size_t n = s->url->n_nodes;
    if (l->k == n) {
        lookup_done(s, l, none_found(s, l->timed_out, l->last));
        return;
    }
    l->index = (l->start + l->k) % n;
    CHECK_CMD(s, cmd);
    csession__redis_async_send(l->async, l->loop, &s->sentinel_pools[l->index], 0,
                               "Redis Sentinel", &cmd, 1, lookup_asked, l, &l->req);
}

static int sentinel_route_async(csession__redis_topology *t, const char *key, size_t key_len,
                                csession_loop *loop, struct csession__redis_async *a,
                                csession__redis_waiter *w, csession__redis_route *out)
{
    (void)key;
    (void)key_len;
    sentinel *s = (sentinel *)t;
    fork_check(s);
    if (!atomic_load(&s->stale))
        check_master_async(s, loop, a);
    if (atomic_load(&s->stale)) {
        loop_lookup *l = lookup_for(s, loop, a);
        if (!l)
            return csession__oom();
        if (!l->running) {
            l->start = 0; /* the one that answered last, unless a lookup runs */
            if (pthread_mutex_trylock(&s->lock) == 0) {
                l->start = s->preferred;
                pthread_mutex_unlock(&s->lock);
            }
            l->running = 1;
            l->k = 0;
            l->timed_out = 1;
            l->last[0] = '\0';
            lookup_ask(s, l);
            if (!l->running) { /* ended at once */
                if (l->rc)
                    return csession__error(l->rc, "%s", l->last);
                if (!atomic_load(&s->stale))
                    return sentinel_route_async(t, key, key_len, loop, a, w, out);
                return csession__error(CSESSION_ESTORE, "Redis Sentinel: master " NAME_FMT
                                                        " being looked up by another thread",
                                       NAME_ARG(s));
            }
        }
        w->next = l->waiting;
        l->waiting = w;
        return CSESSION__REDIS_ROUTE_PENDING;
    }
    out->pool = &s->pool;
    out->asking = 0;
    out->gen = atomic_load(&s->gen);
    return 0;
}

static void sentinel_unwait(csession__redis_topology *t, csession_loop *loop,
                            csession__redis_waiter *w)
{
    sentinel *s = (sentinel *)t;
    pthread_mutex_lock(&s->lookups_lock);
    loop_lookup *l = s->lookups;
    while (l && l->loop != loop)
        l = l->next;
    pthread_mutex_unlock(&s->lookups_lock);
    if (l)
        csession__redis_waiters_remove(&l->waiting, w);
}

static csession__redis_next sentinel_failed(csession__redis_topology *t,
                                            csession__redis_route *route,
                                            csession__redis_event event,
                                            const redisReply *reply)
{
    sentinel *s = (sentinel *)t;
    switch (event) {
    case CSESSION__REDIS_EV_UNREACHABLE:
    case CSESSION__REDIS_EV_NOT_MASTER:
    case CSESSION__REDIS_EV_DROPPED:
    case CSESSION__REDIS_EV_NOT_REPLICATED:
        suspect(s, route->gen);
        return CSESSION__REDIS_RETRY;
    case CSESSION__REDIS_EV_TIMEOUT:
        /* Not retried (it may have run), but the next command asks. */
        suspect(s, route->gen);
        return CSESSION__REDIS_GIVE_UP;
    case CSESSION__REDIS_EV_ERROR_REPLY:
        /* A demoted master (READONLY), a replica cut off from its master
         * (MASTERDOWN), a master whose replicas left (NOREPLICAS, with
         * min-replicas-to-write): all during a failover. */
        if (csession__redis_error_is(reply, "READONLY") ||
            csession__redis_error_is(reply, "MASTERDOWN") ||
            csession__redis_error_is(reply, "NOREPLICAS")) {
            suspect(s, route->gen);
            return CSESSION__REDIS_RETRY;
        }
        return CSESSION__REDIS_GIVE_UP;
    case CSESSION__REDIS_EV_FAILED:
    default:
        return CSESSION__REDIS_GIVE_UP;
    }
}

static void sentinel_stats(csession__redis_topology *t, csession__redis_stats *out)
{
    sentinel *s = (sentinel *)t;
    fork_check(s);
    csession__redis_pool_add_stats(&s->pool, out);
    out->discoveries += atomic_load(&s->gen);
    out->master_changes += atomic_load(&s->master_changes);
}

static void sentinel_free(csession__redis_topology *t)
{
    sentinel *s = (sentinel *)t;
    fork_check(s);
    csession__redis_pool_dispose(&s->pool);
    for (size_t i = 0; i < s->url->n_nodes; i++)
        csession__redis_pool_dispose(&s->sentinel_pools[i]);
    csession__redis_conn_close(s->watch);
    loop_lookup *l = s->lookups;
    while (l) {
        loop_lookup *next = l->next;
        csession__redis_pool_dispose(&l->candidate);
        csession__free(l);
        l = next;
    }
    pthread_mutex_destroy(&s->lookups_lock);
    pthread_mutex_destroy(&s->lock);
    csession__free(s);
}

int csession__redis_sentinel_new(csession__redis_topology **out,
                                 const csession__redis_topology_config *config,
                                 const csession__redis_topology *base)
{
    sentinel *s = csession__calloc(1, sizeof *s);
    if (!s)
        return csession__oom();
    const csession__redis_url *u = config->url;
    s->url = u;
    s->data = csession__redis_data_target(config);
    s->data.host = NULL; /* set by each lookup */
    s->sentinels = s->data;
    s->sentinels.user = u->sentinel_user;
    s->sentinels.user_len = u->sentinel_user_len;
    s->sentinels.password = u->sentinel_password;
    s->sentinels.password_len = u->sentinel_password_len;
    s->sentinels.db = 0;
    s->sentinels.require_master = 0;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        csession__free(s);
        return csession__oom();
    }
    int rc = csession__redis_pool_init(&s->pool, &s->data, config->pool_size,
                                       config->pool_wait_timeout_ms);
    if (rc) {
        pthread_mutex_destroy(&s->lock);
        csession__free(s);
        return rc;
    }
    for (size_t i = 0; i < u->n_nodes; i++) {
        csession__redis_target t = s->sentinels;
        t.host = u->nodes[i].host;
        t.port = u->nodes[i].port;
        if ((rc = csession__redis_pool_init(&s->sentinel_pools[i], &t, 1,
                                            config->pool_wait_timeout_ms)) != 0) {
            while (i-- > 0)
                csession__redis_pool_dispose(&s->sentinel_pools[i]);
            csession__redis_pool_dispose(&s->pool);
            pthread_mutex_destroy(&s->lock);
            csession__free(s);
            return rc;
        }
    }
    if (pthread_mutex_init(&s->lookups_lock, NULL) != 0) {
        for (size_t i = 0; i < u->n_nodes; i++)
            csession__redis_pool_dispose(&s->sentinel_pools[i]);
        csession__redis_pool_dispose(&s->pool);
        pthread_mutex_destroy(&s->lock);
        csession__free(s);
        return csession__oom();
    }
    atomic_init(&s->checking, 0);
    atomic_init(&s->failures, 0);
    atomic_init(&s->gen, 0);
    atomic_init(&s->stale, 1);
    atomic_init(&s->master_changes, 0);
    atomic_init(&s->last_check_ms, 0);
    csession__fork_guard_init(&s->fork);
    s->base = *base;
    atomic_init(&s->base.not_replicated, 0);
    s->base.route = sentinel_route;
    s->base.route_async = sentinel_route_async;
    s->base.unwait = sentinel_unwait;
    s->base.failed = sentinel_failed;
    s->base.stats = sentinel_stats;
    s->base.free = sentinel_free;
    *out = &s->base;
    return 0;
}
