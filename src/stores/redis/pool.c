/* The bounded connection pool: see pool.h. */
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "redis_store.h"

/* The lock, and the condition variable on the monotonic clock: waits must
 * not be cut short or stretched by a change of the system time. */
static int init_sync(csession__redis_pool *pool)
{
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        return -1;
    pthread_condattr_t attr;
    int ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&pool->available, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        pthread_mutex_destroy(&pool->lock);
        return -1;
    }
    return 0;
}

int csession__redis_pool_init(csession__redis_pool *pool, const csession__redis_target *target,
                              unsigned int size, unsigned int wait_timeout_ms)
{
    pool->idle = NULL;
    pool->all = NULL;
    pool->open = 0;
    pool->size = size;
    pool->wait_timeout_ms = wait_timeout_ms;
    pool->epoch = 0;
    pool->reconnecting = 0;
    pool->inherited_now = 0;
    pool->target = *target;
    pool->host_buf[0] = '\0';
    if (target->host)
        snprintf(pool->host_buf, sizeof pool->host_buf, "%s", target->host);
    pool->target.host = target->host ? pool->host_buf : NULL;
    atomic_init(&pool->opened, 0);
    atomic_init(&pool->dropped, 0);
    atomic_init(&pool->wait_timeouts, 0);
    atomic_init(&pool->inherited, 0);
    atomic_init(&pool->loop_open, 0);
    csession__fork_guard_init(&pool->fork);
    return init_sync(pool) == 0 ? 0 : csession__oom();
}

static void track(csession__redis_pool *pool, csession__redis_conn *c)
{
    c->all_prev = NULL;
    c->all_next = pool->all;
    if (pool->all)
        pool->all->all_prev = c;
    pool->all = c;
}

static void untrack(csession__redis_pool *pool, csession__redis_conn *c)
{
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        pool->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    c->all_prev = c->all_next = NULL;
}

/*
 * In a child, before anything else uses the pool (fork_guard.h): the
 * parent's threads may have held the lock or waited on the condition
 * variable when it forked, and every connection is the parent's, idle or
 * in use by a thread the child does not have. Connections being opened by
 * such a thread at the time are in no list; the child only forgets their
 * slots.
 */
static void after_fork(void *p)
{
    csession__redis_pool *pool = p;
    /* Made again in place; they cannot fail for the attributes used here
     * (default mutex; a condition variable on the monotonic clock). */
    (void)init_sync(pool);
    unsigned int n = 0;
    csession__redis_conn *c = pool->all;
    while (c) {
        csession__redis_conn *next = c->all_next;
        csession__redis_conn_abandon(c);
        c = next;
        n++;
    }
    pool->all = NULL;
    pool->idle = NULL;
    pool->open = 0;
    pool->epoch++;
    pool->reconnecting = 0;
    pool->inherited_now = n;
    atomic_fetch_add(&pool->inherited, n);
}

/* The pool, valid in this process; reports a reset that closed
 * connections when `log` is set. */
static void fork_check(csession__redis_pool *pool, int log)
{
    if (!csession__fork_guard_check(&pool->fork, after_fork, pool) || !log ||
        pool->inherited_now == 0 || !csession__log_on())
        return;
    char server[300];
    pthread_mutex_lock(&pool->lock); /* the target may be changed meanwhile */
    csession__redis_describe(&pool->target, server, sizeof server);
    pthread_mutex_unlock(&pool->lock);
    csession__log(CSESSION_LOG_INFO,
                  "Redis store: process %ld was forked; it closed the %u connection%s to %s "
                  "it inherited, unused, and opens its own",
                  (long)getpid(), pool->inherited_now, pool->inherited_now == 1 ? "" : "s",
                  server);
}

void csession__redis_pool_fork_check(csession__redis_pool *pool)
{
    fork_check(pool, 1);
}

void csession__redis_pool_dispose(csession__redis_pool *pool)
{
    fork_check(pool, 1);
    csession__redis_conn *c = pool->idle;
    while (c) {
        csession__redis_conn *next = c->next;
        csession__redis_conn_close(c);
        c = next;
    }
    pool->idle = NULL;
    pthread_cond_destroy(&pool->available);
    pthread_mutex_destroy(&pool->lock);
}

static struct timespec deadline_after(unsigned int ms)
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

static void close_list(csession__redis_conn *c)
{
    while (c) {
        csession__redis_conn *next = c->next;
        csession__redis_conn_close(c);
        c = next;
    }
}

void csession__redis_pool_retarget(csession__redis_pool *pool, const char *host, int port)
{
    fork_check(pool, 0); /* the caller holds a lock: no message */
    pthread_mutex_lock(&pool->lock);
    snprintf(pool->host_buf, sizeof pool->host_buf, "%s", host);
    pool->target.host = pool->host_buf;
    pool->target.port = port;
    pool->epoch++;
    pthread_mutex_unlock(&pool->lock);
}

static unsigned long snapshot_locked(csession__redis_pool *pool, csession__redis_target *target,
                                     char *host)
{
    *target = pool->target;
    if (target->host) {
        memcpy(host, pool->host_buf, sizeof pool->host_buf);
        target->host = host;
    }
    return pool->epoch;
}

unsigned long csession__redis_pool_snapshot(csession__redis_pool *pool,
                                            csession__redis_target *target, char *host)
{
    fork_check(pool, 1);
    pthread_mutex_lock(&pool->lock);
    unsigned long epoch = snapshot_locked(pool, target, host);
    pthread_mutex_unlock(&pool->lock);
    return epoch;
}

int csession__redis_pool_acquire(csession__redis_pool *pool, int fresh,
                                 csession__redis_conn **out, csession__redis_failure *failure)
{
    struct timespec deadline = deadline_after(pool->wait_timeout_ms);
    csession__redis_conn *stale = NULL; /* closed after unlocking */
    int rc = 0;
    int gave_up = 0;
    *out = NULL;
    *failure = CSESSION__REDIS_FAILED;
    fork_check(pool, 1);

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->idle && (fresh || pool->idle->epoch != pool->epoch)) {
            csession__redis_conn *c = pool->idle;
            /* A fresh connection needs just one slot; stale ones all go. */
            if (c->epoch == pool->epoch && pool->open < pool->size)
                break;
            pool->idle = c->next;
            untrack(pool, c);
            c->next = stale;
            stale = c;
            pool->open--;
        }
        if (!fresh && pool->idle) {
            *out = pool->idle;
            pool->idle = pool->idle->next;
            (*out)->next = NULL;
            break;
        }
        if (pool->open < pool->size) {
            pool->open++;
            /* A snapshot: the target may be changed while this opens. */
            csession__redis_target target;
            char host[sizeof pool->host_buf];
            unsigned long epoch = snapshot_locked(pool, &target, host);
            pthread_mutex_unlock(&pool->lock);
            close_list(stale);
            stale = NULL;
            rc = csession__redis_conn_open(out, &target, failure);
            if (rc == 0) {
                (*out)->epoch = epoch;
                atomic_fetch_add(&pool->opened, 1);
                pthread_mutex_lock(&pool->lock);
                track(pool, *out);
                int reconnected = pool->reconnecting;
                pool->reconnecting = 0;
                pthread_mutex_unlock(&pool->lock);
                if (reconnected && csession__log_on()) {
                    char server[300];
                    csession__redis_describe(&target, server, sizeof server);
                    csession__log(CSESSION_LOG_INFO, "Redis store: reconnected to %s", server);
                }
                return 0;
            }
            pthread_mutex_lock(&pool->lock);
            pool->open--;
            pthread_cond_signal(&pool->available);
            break;
        }
        if (gave_up) {
            atomic_fetch_add(&pool->wait_timeouts, 1);
            rc = csession__error(CSESSION_ETIMEOUT,
                                 "all %u Redis connections stayed busy for %u ms "
                                 "(raise pool_size or pool_wait_timeout_ms)",
                                 pool->size, pool->wait_timeout_ms);
            break;
        }
        /* On a timeout, look once more: a connection may have come back
         * just as the wait ended. */
        if (pthread_cond_timedwait(&pool->available, &pool->lock, &deadline) == ETIMEDOUT)
            gave_up = 1;
    }
    pthread_mutex_unlock(&pool->lock);
    close_list(stale);
    return rc;
}

void csession__redis_pool_release(csession__redis_pool *pool, csession__redis_conn *c)
{
    pthread_mutex_lock(&pool->lock);
    c->next = pool->idle;
    pool->idle = c;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
}

/* Under the lock: a connection of `epoch` was found dropped. Retires only
 * connections as old as this one: a newer connection was opened after
 * whatever closed this one. 1 when it did (and `server` names it, if the
 * log is on). */
static int drop_locked(csession__redis_pool *pool, unsigned long epoch, char *server,
                       size_t size)
{
    if (epoch != pool->epoch)
        return 0;
    pool->epoch++;
    pool->reconnecting = 1;
    if (!csession__log_on())
        return 0;
    csession__redis_describe(&pool->target, server, size);
    return 1;
}

static void log_retired(int retired, const char *server)
{
    if (retired)
        csession__log(CSESSION_LOG_WARN,
                      "Redis store: %s closed or reset a connection; the connections opened "
                      "before it are replaced as they come back",
                      server);
}

void csession__redis_pool_discard(csession__redis_pool *pool, csession__redis_conn *c,
                                  int dropped)
{
    char server[300] = "";
    pthread_mutex_lock(&pool->lock);
    pool->open--;
    untrack(pool, c);
    int retired = dropped && drop_locked(pool, c->epoch, server, sizeof server);
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
    if (dropped)
        atomic_fetch_add(&pool->dropped, 1);
    csession__redis_conn_close(c);
    log_retired(retired, server);
}

void csession__redis_pool_note_drop(csession__redis_pool *pool, unsigned long epoch)
{
    char server[300] = "";
    pthread_mutex_lock(&pool->lock);
    int retired = drop_locked(pool, epoch, server, sizeof server);
    pthread_mutex_unlock(&pool->lock);
    atomic_fetch_add(&pool->dropped, 1);
    log_retired(retired, server);
}

void csession__redis_pool_add_stats(csession__redis_pool *pool, struct csession__redis_stats *out)
{
    fork_check(pool, 1);
    out->opened += atomic_load(&pool->opened);
    out->inherited += atomic_load(&pool->inherited);
    out->dropped += atomic_load(&pool->dropped);
    out->wait_timeouts += atomic_load(&pool->wait_timeouts);
    pthread_mutex_lock(&pool->lock);
    out->open += pool->open + atomic_load(&pool->loop_open);
    for (const csession__redis_conn *c = pool->idle; c; c = c->next)
        out->idle++;
    pthread_mutex_unlock(&pool->lock);
}
