/* The bounded connection pool: see pool.h. */
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "redis_store.h"

int csession__redis_pool_init(csession__redis_pool *pool, const csession__redis_target *target,
                              unsigned int size, unsigned int wait_timeout_ms)
{
    pool->idle = NULL;
    pool->open = 0;
    pool->size = size;
    pool->wait_timeout_ms = wait_timeout_ms;
    pool->epoch = 0;
    pool->target = *target;
    pool->host_buf[0] = '\0';
    if (target->host)
        snprintf(pool->host_buf, sizeof pool->host_buf, "%s", target->host);
    pool->target.host = target->host ? pool->host_buf : NULL;
    atomic_init(&pool->opened, 0);
    atomic_init(&pool->dropped, 0);
    atomic_init(&pool->wait_timeouts, 0);
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        return csession__oom();
    /* Waits are measured on the monotonic clock: setting the system time
     * must not cut them short or stretch them. */
    pthread_condattr_t attr;
    int ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&pool->available, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        pthread_mutex_destroy(&pool->lock);
        return csession__oom();
    }
    return 0;
}

void csession__redis_pool_dispose(csession__redis_pool *pool)
{
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
    pthread_mutex_lock(&pool->lock);
    snprintf(pool->host_buf, sizeof pool->host_buf, "%s", host);
    pool->target.host = pool->host_buf;
    pool->target.port = port;
    pool->epoch++;
    pthread_mutex_unlock(&pool->lock);
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

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->idle && (fresh || pool->idle->epoch != pool->epoch)) {
            csession__redis_conn *c = pool->idle;
            /* A fresh connection needs just one slot; stale ones all go. */
            if (c->epoch == pool->epoch && pool->open < pool->size)
                break;
            pool->idle = c->next;
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
            unsigned long epoch = pool->epoch;
            /* A snapshot: the target may be changed while this opens. */
            csession__redis_target target = pool->target;
            char host[sizeof pool->host_buf];
            if (target.host) {
                memcpy(host, pool->host_buf, sizeof host);
                target.host = host;
            }
            pthread_mutex_unlock(&pool->lock);
            close_list(stale);
            stale = NULL;
            rc = csession__redis_conn_open(out, &target, failure);
            if (rc == 0) {
                (*out)->epoch = epoch;
                atomic_fetch_add(&pool->opened, 1);
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

void csession__redis_pool_discard(csession__redis_pool *pool, csession__redis_conn *c,
                                  int dropped)
{
    pthread_mutex_lock(&pool->lock);
    pool->open--;
    /* Retire only connections as old as this one: a newer connection was
     * opened after whatever closed this one. */
    if (dropped && c->epoch == pool->epoch)
        pool->epoch++;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
    if (dropped)
        atomic_fetch_add(&pool->dropped, 1);
    csession__redis_conn_close(c);
}

void csession__redis_pool_add_stats(csession__redis_pool *pool, struct csession__redis_stats *out)
{
    out->opened += atomic_load(&pool->opened);
    out->dropped += atomic_load(&pool->dropped);
    out->wait_timeouts += atomic_load(&pool->wait_timeouts);
    pthread_mutex_lock(&pool->lock);
    out->open += pool->open;
    for (const csession__redis_conn *c = pool->idle; c; c = c->next)
        out->idle++;
    pthread_mutex_unlock(&pool->lock);
}
