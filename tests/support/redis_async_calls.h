/*
 * Non-blocking store calls for the Redis store's tests: a call (the
 * store's `start`, version 3 of sys/store.h) with its buffers and its
 * outcome, and a poll() loop (src/loop/poll_loop.h) run until calls
 * complete.
 */
#ifndef CSESSION_TEST_REDIS_ASYNC_CALLS_H
#define CSESSION_TEST_REDIS_ASYNC_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "csession/sys/store.h"
#include "loop/poll_loop.h"

typedef struct async_call {
    csession_store_call call; /* first: complete() finds the rest from it */
    csession_buf state;       /* LOAD_REV's state_out */
    csession_buf key;         /* SAVE's and UPDATE's key_out */
    char key_in[65];          /* the key given, copied */
    int done;                 /* times complete ran (must end at 1) */
    int code;
    char message[512];
    long order; /* when it completed, counting every call's completion */
} async_call;

/* Prepares `c` for `kind` on `loop`: key (NULL for none) and state (NULL
 * for none) copied or borrowed (state: borrowed until completion). */
void async_call_init(async_call *c, csession_loop *loop, int kind, const char *key,
                     const char *state, int64_t ttl);

/* store->start(c); fails the test unless it returns 0. */
void async_start(csession_store *s, async_call *c);

/* Runs the loop until every call of calls[0 .. n) completed, failing the
 * test after `max_ms`. */
void async_run_all(csession__poll_loop *pl, async_call **calls, size_t n, long max_ms);

/* Starts `c`, runs the loop until it completes, and returns its code. */
int async_run(csession_store *s, csession__poll_loop *pl, async_call *c);

/* Releases the call's buffers. */
void async_call_dispose(async_call *c);

/* Shorthands on one call: each runs it to completion and returns the code. */
int async_save(csession_store *s, csession__poll_loop *pl, const char *state, char key[65]);
int async_load(csession_store *s, csession__poll_loop *pl, const char *key, char *state,
               size_t size, uint64_t *revision);

/* A 10 ms timer on a loop that re-arms itself and records how late it
 * fires: while a call waits on a stalled server, a loop that waits with it
 * shows as lateness. Close it with loop->timer_close(loop, t->timer). */
typedef struct ticker {
    csession_loop *loop;
    void *timer;
    long long due, worst_late; /* ms on test_now_ms()'s clock */
    int ticks;
} ticker;

/* Opens and arms *t on `loop` (asserts that the loop took it). */
void ticker_start(ticker *t, csession_loop *loop);

#endif
