/*
 * The process-wide log hook: see include/csession/log.h and log.h.
 *
 * The handler and its payload change together under one mutex, which a
 * message holds only to read them and to count itself in and out, never
 * while the handler runs: handlers run concurrently, and may call back into
 * the library. Calls are counted by the phase they started in; the setter
 * flips the phase and waits for the old phase's calls to end, so that when
 * it returns nothing uses the old payload any more, however many calls of
 * the new handler keep starting meanwhile.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#define MESSAGE_MAX 512

atomic_int csession__log_enabled;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER; /* a setter or a phase finished */
/* Under `lock`: */
static csession_log_fn handler;
static void *handler_payload;
static unsigned int phase;       /* the phase calls starting now count in */
static unsigned long calls[2];   /* handler calls under way, by phase */
static int setting;              /* a setter is at work: the next one waits */

/*
 * fork(): another thread may hold the lock, or be inside a handler, at the
 * moment of the fork. The lock is taken around it so that the child gets
 * it in a known state; the child then forgets the calls and the setter of
 * threads it does not have.
 */
static void fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
    calls[0] = calls[1] = 0;
    setting = 0;
    /* Waiters of the parent are not in the child: a condition variable
     * that still counts them must not be signalled. */
    pthread_cond_init(&changed, NULL);
    pthread_mutex_unlock(&lock);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void register_fork_handlers(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void csession_set_log_handler(csession_log_fn fn, void *payload)
{
    /* Before any handler is set the lock is never taken: no fork can
     * find it held. */
    pthread_once(&fork_once, register_fork_handlers);
    pthread_mutex_lock(&lock);
    while (setting)
        pthread_cond_wait(&changed, &lock);
    setting = 1;
    handler = fn;
    handler_payload = fn ? payload : NULL;
    atomic_store_explicit(&csession__log_enabled, fn != NULL, memory_order_relaxed);
    /* The other phase has no calls: the previous setter waited for them. */
    unsigned int old = phase;
    phase ^= 1u;
    while (calls[old] != 0)
        pthread_cond_wait(&changed, &lock);
    setting = 0;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

const char *csession_log_level_name(int level)
{
    switch (level) {
    case CSESSION_LOG_ERROR: return "error";
    case CSESSION_LOG_WARN: return "warn";
    case CSESSION_LOG_INFO: return "info";
    case CSESSION_LOG_DEBUG: return "debug";
    default: return "unknown";
    }
}

/* Hands `message` to the handler, if one is still set. The thread's last
 * error and errno are kept: the handler may call the library, and the
 * caller may be about to return an error it has recorded. */
static void deliver(int level, const char *message)
{
    pthread_mutex_lock(&lock);
    csession_log_fn fn = handler;
    void *payload = handler_payload;
    unsigned int p = phase;
    if (fn)
        calls[p]++;
    pthread_mutex_unlock(&lock);
    if (!fn)
        return;
    int saved_errno = errno;
    csession__error_saved saved;
    csession__error_save(&saved);
    fn(level, message, payload);
    csession__error_restore(&saved);
    errno = saved_errno;
    pthread_mutex_lock(&lock);
    if (--calls[p] == 0 && setting)
        pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

void csession__log(int level, const char *fmt, ...)
{
    if (!csession__log_on())
        return;
    char message[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    deliver(level, message);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void csession__log_count(csession__log_counter *c)
{
    unsigned long long total =
        atomic_fetch_add_explicit(&c->total, 1, memory_order_relaxed) + 1;
    if (!csession__log_on())
        return;
    long long now = now_ms();
    long long next = atomic_load_explicit(&c->next_ms, memory_order_relaxed);
    /* One thread reports per interval: the one that moves next_ms on. */
    if (now < next ||
        !atomic_compare_exchange_strong(&c->next_ms, &next, now + CSESSION__LOG_COUNT_INTERVAL_MS))
        return;
    unsigned long long since = total - atomic_exchange(&c->reported, total);
    long long last = atomic_exchange(&c->last_ms, now);
    if (since == 0)
        return;
    if (last == 0)
        csession__log(c->level, "%s: %llu (further ones are counted, reported at most once every %d s)",
                      c->what, since, CSESSION__LOG_COUNT_INTERVAL_MS / 1000);
    else
        csession__log(c->level, "%s: %llu in the last %lld s (%llu in all)", c->what, since,
                      (now - last + 500) / 1000, total);
}
