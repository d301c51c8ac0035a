/*
 * Internal: objects that must not be used as they are in a process forked
 * from the one that made them (connection pools, and what holds locks that
 * a thread of the parent may have held at the moment of the fork).
 *
 * Every process has a generation: a pthread_atfork() child handler adds
 * one to it in each child. An object records the generation it is valid
 * for; before each use, csession__fork_guard_check() compares the two (two
 * loads, no system call) and, in a process the object was inherited into,
 * runs the object's reset first, once, whichever thread gets there first.
 *
 * A reset runs in the child, where no other thread of the parent exists:
 * it re-initialises the object's locks and condition variables as they
 * were made (the parent's threads may have held or waited on them), and
 * forgets or closes, without a word to the server, whatever belongs to the
 * parent. Resets run one at a time under a process-wide lock, which is
 * taken around fork() itself so that a child never inherits it held; a
 * reset must not log or take that lock again.
 *
 * A process made by clone() or syscall(SYS_fork) without the C library's
 * fork() runs no atfork handler and is not detected.
 */
#ifndef CSESSION_SRC_FORK_GUARD_H
#define CSESSION_SRC_FORK_GUARD_H

#include <stdatomic.h>

/* This process' generation: 0 in the first, +1 in each child. */
extern atomic_ulong csession__fork_generation;

typedef struct csession__fork_guard {
    atomic_ulong generation; /* the one the object was made or last reset for */
} csession__fork_guard;

/* Makes `g` valid for this process; registers the fork handlers (once per
 * process). Call it when the object is made, before it can be forked. */
void csession__fork_guard_init(csession__fork_guard *g);

typedef void (*csession__fork_reset_fn)(void *object);

/* The slow path of csession__fork_guard_check(). */
int csession__fork_guard_reset(csession__fork_guard *g, csession__fork_reset_fn reset,
                               void *object);

/*
 * Runs reset(object) when `g` was made valid in another process (an
 * ancestor of this one); then `g` is valid here. 1 when this call ran the
 * reset (the caller may log it, after any lock it holds is released), else
 * 0. Thread-safe; threads that arrive while a reset runs wait for it.
 */
static inline int csession__fork_guard_check(csession__fork_guard *g,
                                             csession__fork_reset_fn reset, void *object)
{
    if (atomic_load_explicit(&g->generation, memory_order_acquire) ==
        atomic_load_explicit(&csession__fork_generation, memory_order_relaxed))
        return 0;
    return csession__fork_guard_reset(g, reset, object);
}

#endif
