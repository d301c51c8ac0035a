/* The per-loop connections of the Redis store: see redis_async.h. */
#include "redis_async.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fork_guard.h"
#include "topology.h"

/* A loop's connections to one server. */
typedef struct csession__redis_loop_set {
    csession_loop *loop;
    csession__redis_pool *pool;
    csession__redis_conn *conns; /* in use (linked by `next`) */
    csession__redis_conn *dead;  /* broken, freed from their timers */
    unsigned int n;
    struct csession__redis_loop_set *next;
} loop_set;

int csession__redis_async_init(csession__redis_async *a)
{
    a->sets = NULL;
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        return csession__oom();
    csession__fork_guard_init(&a->fork);
    return 0;
}

static void unlink_conn(csession__redis_conn **list, csession__redis_conn *c)
{
    for (csession__redis_conn **p = list; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            c->next = NULL;
            return;
        }
    }
}

/* In a child (fork_guard.h): every connection is the parent's. */
static void after_fork(void *p)
{
    csession__redis_async *a = p;
    (void)pthread_mutex_init(&a->lock, NULL); /* cannot fail: a default mutex */
    loop_set *set = a->sets;
    while (set) {
        loop_set *next = set->next;
        for (csession__redis_conn *c = set->conns; c; c = c->next)
            csession__redis_conn_forget(c);
        for (csession__redis_conn *c = set->dead; c; c = c->next)
            csession__redis_conn_forget(c);
        atomic_fetch_sub(&set->pool->loop_open, set->n);
        atomic_fetch_add(&set->pool->inherited, set->n);
        set = next; /* the sets and connections are left as they are, unused */
    }
    a->sets = NULL;
}

static void close_conn(csession_loop *loop, csession__redis_conn *c)
{
    if (c->io)
        loop->io_close(loop, c->io);
    if (c->timer)
        loop->timer_close(loop, c->timer);
    csession__redis_conn_close(c);
}

void csession__redis_async_dispose(csession__redis_async *a)
{
    csession__fork_guard_check(&a->fork, after_fork, a);
    loop_set *set = a->sets;
    while (set) {
        loop_set *next = set->next;
        csession__redis_conn *c = set->conns;
        while (c) {
            csession__redis_conn *cn = c->next;
            close_conn(set->loop, c);
            c = cn;
        }
        atomic_fetch_sub(&set->pool->loop_open, set->n);
        c = set->dead;
        while (c) {
            csession__redis_conn *cn = c->next;
            close_conn(set->loop, c);
            c = cn;
        }
        csession__free(set);
        set = next;
    }
    a->sets = NULL;
    pthread_mutex_destroy(&a->lock);
}

static loop_set *find_set(csession__redis_async *a, csession_loop *loop,
                          csession__redis_pool *pool)
{
    pthread_mutex_lock(&a->lock);
    loop_set *set = a->sets;
    while (set && (set->loop != loop || set->pool != pool))
        set = set->next;
    if (!set && (set = csession__calloc(1, sizeof *set)) != NULL) {
        set->loop = loop;
        set->pool = pool;
        set->next = a->sets;
        a->sets = set;
    }
    pthread_mutex_unlock(&a->lock);
    return set;
}

static void sync_conn(csession__redis_conn *c);

static void on_io(void *arg, int fd, unsigned int events)
{
    (void)fd;
    csession__redis_conn *c = arg;
    csession__redis_conn_io(c, events);
    sync_conn(c);
}

static void on_timer(void *arg)
{
    csession__redis_conn *c = arg;
    loop_set *set = c->owner;
    c->armed_ms = 0;
    if (c->reaping) {
        unlink_conn(&set->dead, c);
        close_conn(set->loop, c);
        return;
    }
    csession__redis_conn_expire(c, csession__redis_now_ms());
    sync_conn(c);
}

/*
 * After anything that may have changed `c`: the watcher follows the
 * events it waits for and the timer its deadline; a broken connection
 * leaves the set and is freed from its timer on the next turn.
 */
static void sync_conn(csession__redis_conn *c)
{
    loop_set *set = c->owner;
    csession_loop *loop = set->loop;
    if (c->reaping)
        return;
    if (csession__redis_conn_broken(c)) {
        unlink_conn(&set->conns, c);
        set->n--;
        atomic_fetch_sub(&set->pool->loop_open, 1);
        if (csession__redis_conn_failure(c) == CSESSION__REDIS_DROPPED)
            csession__redis_pool_note_drop(set->pool, c->epoch);
        if (c->io)
            loop->io_close(loop, c->io);
        c->io = NULL;
        c->reaping = 1;
        c->next = set->dead;
        set->dead = c;
        if (loop->timer_set(loop, c->timer, 0) != 0) {
            /* The loop will not say when: freed with the store. */
        }
        return;
    }
    int fd = csession__redis_conn_fd(c);
    if (c->io && c->io_fd != fd) {
        loop->io_close(loop, c->io); /* connect moved on to the next address */
        c->io = NULL;
    }
    if (!c->io) {
        c->io = loop->io_open(loop, fd, on_io, c);
        c->io_fd = fd;
        c->watching = 0;
        if (!c->io) {
            csession__redis_conn_fail(c, "the event loop refused the socket");
            sync_conn(c);
            return;
        }
    }
    unsigned int ev = csession__redis_conn_events(c);
    if (ev != c->watching) {
        if (loop->io_set(loop, c->io, ev) != 0) {
            csession__redis_conn_fail(c, "the event loop refused to watch the socket");
            sync_conn(c);
            return;
        }
        c->watching = ev;
    }
    long long deadline = csession__redis_conn_deadline(c);
    if (deadline == c->armed_ms)
        return;
    if (deadline == 0) {
        loop->timer_cancel(loop, c->timer);
    } else {
        long long left = deadline - csession__redis_now_ms();
        if (loop->timer_set(loop, c->timer, left > 0 ? (uint64_t)left : 0) != 0) {
            csession__redis_conn_fail(c, "the event loop refused a timer");
            sync_conn(c);
            return;
        }
    }
    c->armed_ms = deadline;
}

/* A connection for a request: the least busy of the pool's epoch, or NULL
 * to open one. Idle connections of an older epoch are closed on the way. */
static csession__redis_conn *pick(loop_set *set, unsigned long epoch, int fresh)
{
    csession__redis_conn *best = NULL;
    csession__redis_conn *c = set->conns;
    while (c) {
        csession__redis_conn *next = c->next;
        unsigned int depth = csession__redis_conn_depth(c);
        if (csession__redis_conn_broken(c)) {
            /* Failing its requests right now (a retry is being picked). */
        } else if (c->epoch != epoch) {
            if (depth == 0) {
                csession__redis_conn_fail(c, "connection retired");
                sync_conn(c);
            }
        } else if (!best || depth < csession__redis_conn_depth(best)) {
            best = c;
        }
        c = next;
    }
    unsigned int size = set->pool->size;
    if (!best || ((fresh || csession__redis_conn_depth(best) >= CSESSION__REDIS_LOOP_DEPTH) &&
                  set->n < size))
        return NULL;
    return best;
}

static int open_conn(loop_set *set, csession__redis_conn **out)
{
    csession__redis_target target;
    char host[sizeof set->pool->host_buf];
    unsigned long epoch = csession__redis_pool_snapshot(set->pool, &target, host);
    csession__redis_conn *c;
    int rc = csession__redis_conn_start(&c, &target);
    if (rc)
        return rc;
    c->timer = set->loop->timer_open(set->loop, on_timer, c);
    if (!c->timer) {
        csession__redis_conn_close(c);
        return csession__error(CSESSION_ESTORE, "the event loop refused a timer");
    }
    c->epoch = epoch;
    c->owner = set;
    c->next = set->conns;
    set->conns = c;
    set->n++;
    atomic_fetch_add(&set->pool->loop_open, 1);
    atomic_fetch_add(&set->pool->opened, 1);
    *out = c;
    return 0;
}

void csession__redis_async_send(csession__redis_async *a, csession_loop *loop,
                                csession__redis_pool *pool, int fresh, const char *what,
                                const csession__redis_cmd *cmds, size_t n,
                                csession__redis_reply_cb cb, void *arg,
                                struct csession__redis_req **slot)
{
    csession__fork_guard_check(&a->fork, after_fork, a);
    loop_set *set = find_set(a, loop, pool);
    if (!set) {
        cb(arg, csession__oom(), CSESSION__REDIS_FAILED, NULL, 0);
        return;
    }
    csession__redis_target unused;
    char host[sizeof pool->host_buf];
    unsigned long epoch = csession__redis_pool_snapshot(pool, &unused, host);
    csession__redis_conn *c = pick(set, epoch, fresh);
    if (!c) {
        int rc = open_conn(set, &c);
        if (rc) {
            cb(arg, rc, CSESSION__REDIS_FAILED, NULL, 0);
            return;
        }
    }
    csession__redis_req *r = csession__redis_conn_send(c, what, cmds, n, cb, arg);
    if (r)
        *slot = r;
    csession__redis_conn_flush(c);
    sync_conn(c);
}
