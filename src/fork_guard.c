/* Telling objects made before a fork() from the process they are used in:
 * see fork_guard.h. */
#include "fork_guard.h"

#include <pthread.h>

atomic_ulong csession__fork_generation;

/* Held while a reset runs, and around fork(). */
static pthread_mutex_t reset_lock = PTHREAD_MUTEX_INITIALIZER;

static void fork_prepare(void)
{
    pthread_mutex_lock(&reset_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&reset_lock);
}

/* Runs in the child before fork() returns there, in its only thread. */
static void fork_child(void)
{
    atomic_fetch_add_explicit(&csession__fork_generation, 1, memory_order_relaxed);
    pthread_mutex_unlock(&reset_lock);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void register_handlers(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void csession__fork_guard_init(csession__fork_guard *g)
{
    pthread_once(&once, register_handlers);
    atomic_init(&g->generation,
                atomic_load_explicit(&csession__fork_generation, memory_order_relaxed));
}

int csession__fork_guard_reset(csession__fork_guard *g, csession__fork_reset_fn reset,
                               void *object)
{
    unsigned long now = atomic_load_explicit(&csession__fork_generation, memory_order_relaxed);
    int ran = 0;
    pthread_mutex_lock(&reset_lock);
    if (atomic_load_explicit(&g->generation, memory_order_relaxed) != now) {
        reset(object);
        ran = 1;
        /* Release: a thread that sees the new generation sees the reset. */
        atomic_store_explicit(&g->generation, now, memory_order_release);
    }
    pthread_mutex_unlock(&reset_lock);
    return ran;
}
