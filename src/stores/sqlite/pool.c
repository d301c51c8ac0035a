/* The SQLite store's connections and fork(): see pool.h. */
#include "pool.h"

#include <time.h>

#include "error.h"

/* Every pool of the process, for the fork handlers. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static csession__sqlite_pool *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static int handlers_result;

static struct timespec deadline_after_ms(unsigned long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void close_list(csession__sqlite_conn *c, int checkpoint)
{
    while (c) {
        csession__sqlite_conn *next = c->next;
        csession__sqlite_conn_close(c, checkpoint);
        c = next;
    }
}

/* A condition variable on the monotonic clock (for the bounded wait). */
static int cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/*
 * Before fork(), in the forking thread: every pool is locked, its
 * operations in flight are waited for, and its idle connections are
 * closed, so that the process holds no connection when it is copied. The
 * wait is bounded (an operation takes a few busy timeouts at most); should
 * it run out, the fork goes ahead and the child leaves the connections it
 * inherits alone.
 */
static void before_fork(void)
{
    pthread_mutex_lock(&registry_lock);
    for (csession__sqlite_pool *p = registry; p; p = p->next) {
        pthread_mutex_lock(&p->lock);
        p->forking = 1;
        struct timespec deadline =
            deadline_after_ms(3ul * p->set->busy_timeout_ms + 1000ul);
        while (p->in_use > 0 &&
               pthread_cond_timedwait(&p->drained, &p->lock, &deadline) == 0) {
        }
        csession__sqlite_conn *idle = p->idle;
        p->idle = NULL;
        p->idle_count = 0;
        for (csession__sqlite_conn *c = idle; c; c = c->next)
            atomic_fetch_add(&p->closed_for_fork, 1);
        /* No checkpoint: the fork should not wait for one. */
        close_list(idle, 0);
    }
}

static void after_fork_parent(void)
{
    for (csession__sqlite_pool *p = registry; p; p = p->next) {
        p->forking = 0;
        pthread_cond_broadcast(&p->resumed);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

/* In the child only the forking thread lives on: the locks it took are
 * made anew, and nothing of the parent's threads is waited for. */
static void after_fork_child(void)
{
    for (csession__sqlite_pool *p = registry; p; p = p->next) {
        pthread_mutex_init(&p->lock, NULL);
        cond_init_monotonic(&p->drained);
        pthread_cond_init(&p->resumed, NULL);
        p->forking = 0;
        p->in_use = 0;
        p->generation++;
    }
    pthread_mutex_init(&registry_lock, NULL);
}

static void install_handlers(void)
{
    handlers_result = pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int csession__sqlite_pool_init(csession__sqlite_pool *pool, const char *path,
                               const csession__sqlite_settings *set)
{
    pthread_once(&handlers_once, install_handlers);
    if (handlers_result != 0)
        return csession__error(CSESSION_ENOMEM, "SQLite store: pthread_atfork failed");
    pool->idle = NULL;
    pool->idle_count = 0;
    pool->in_use = 0;
    pool->forking = 0;
    pool->generation = 0;
    pool->path = path;
    pool->set = set;
    atomic_init(&pool->opened, 0);
    atomic_init(&pool->closed_for_fork, 0);
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        return csession__oom();
    if (cond_init_monotonic(&pool->drained) != 0) {
        pthread_mutex_destroy(&pool->lock);
        return csession__oom();
    }
    if (pthread_cond_init(&pool->resumed, NULL) != 0) {
        pthread_cond_destroy(&pool->drained);
        pthread_mutex_destroy(&pool->lock);
        return csession__oom();
    }
    pthread_mutex_lock(&registry_lock);
    pool->prev = NULL;
    pool->next = registry;
    if (registry)
        registry->prev = pool;
    registry = pool;
    pthread_mutex_unlock(&registry_lock);
    return 0;
}

void csession__sqlite_pool_dispose(csession__sqlite_pool *pool)
{
    pthread_mutex_lock(&registry_lock);
    if (pool->prev)
        pool->prev->next = pool->next;
    else
        registry = pool->next;
    if (pool->next)
        pool->next->prev = pool->prev;
    pthread_mutex_unlock(&registry_lock);
    close_list(pool->idle, 1);
    pool->idle = NULL;
    pthread_cond_destroy(&pool->resumed);
    pthread_cond_destroy(&pool->drained);
    pthread_mutex_destroy(&pool->lock);
}

/* Ends the count of an operation that started in `generation`. */
static void leave(csession__sqlite_pool *p, unsigned long generation)
{
    pthread_mutex_lock(&p->lock);
    if (generation == p->generation && --p->in_use == 0 && p->forking)
        pthread_cond_signal(&p->drained);
    pthread_mutex_unlock(&p->lock);
}

int csession__sqlite_pool_acquire(csession__sqlite_pool *p, int prepare,
                                  csession__sqlite_conn **out)
{
    pthread_mutex_lock(&p->lock);
    while (p->forking)
        pthread_cond_wait(&p->resumed, &p->lock);
    csession__sqlite_conn *c = p->idle;
    if (c) {
        p->idle = c->next;
        p->idle_count--;
        c->next = NULL;
    }
    /* Counted from here, a connection being opened included: a fork waits
     * for the open to end and the connection to come back. */
    p->in_use++;
    unsigned long generation = p->generation;
    pthread_mutex_unlock(&p->lock);
    if (c) {
        *out = c;
        return 0;
    }
    int rc = csession__sqlite_conn_open(p->path, p->set, prepare, &c);
    if (rc) {
        leave(p, generation);
        return rc;
    }
    c->generation = generation;
    atomic_fetch_add(&p->opened, 1);
    *out = c;
    return 0;
}

void csession__sqlite_pool_release(csession__sqlite_pool *p, csession__sqlite_conn *c, int keep)
{
    pthread_mutex_lock(&p->lock);
    if (c->generation != p->generation) {
        /* Opened by the parent before a fork: neither used nor closed here. */
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (keep && !p->forking && p->idle_count < CSESSION__SQLITE_MAX_IDLE) {
        c->next = p->idle;
        p->idle = c;
        p->idle_count++;
        p->in_use--;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    int forking = p->forking;
    unsigned long generation = c->generation;
    pthread_mutex_unlock(&p->lock);
    /* Still counted while it closes, so that no fork copies a connection
     * half closed. */
    csession__sqlite_conn_close(c, !forking);
    leave(p, generation);
}
