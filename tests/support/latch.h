/*
 * A one-way gate between threads: closed until opened, then open for every
 * thread that waits on it. Tests use it to wait for an event ("the other
 * thread holds the lock") rather than for time.
 */
#ifndef CSESSION_TEST_LATCH_H
#define CSESSION_TEST_LATCH_H

#include <pthread.h>

typedef struct latch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
} latch;

#define LATCH_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

/* Opens the gate: wakes every waiter, present and future. */
void latch_open(latch *l);

/* Returns once the gate is open. */
void latch_wait(latch *l);

/* Closes it again (no thread may be waiting). */
void latch_close(latch *l);

#endif
