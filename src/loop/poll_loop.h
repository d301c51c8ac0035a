/*
 * Internal: a csession_loop (loop.h) over poll(), for one thread. The
 * blocking calls of the Redis store run their non-blocking state machine
 * on one of these until the operation completes (the model of libcurl's
 * easy interface over its multi interface), and the tests use it as a
 * loop with no library behind it.
 *
 * Sizes are small by design (a blocking call watches one or two sockets):
 * watchers and timers live in plain arrays that grow on demand.
 */
#ifndef CSESSION_SRC_LOOP_POLL_LOOP_H
#define CSESSION_SRC_LOOP_POLL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "csession/loop.h"

typedef struct csession__poll_io csession__poll_io;
typedef struct csession__poll_timer csession__poll_timer;

typedef struct csession__poll_loop {
    csession_loop loop; /* first: what csession calls */
    csession__poll_io **ios;
    size_t n_ios, cap_ios;
    csession__poll_timer **timers;
    size_t n_timers, cap_timers;
} csession__poll_loop;

/* An empty loop; its `loop` member is the csession_loop to hand out. */
void csession__poll_loop_init(csession__poll_loop *pl);

/* Frees what is left (handles nobody closed). */
void csession__poll_loop_dispose(csession__poll_loop *pl);

/*
 * One turn: waits at most `max_wait_ms` (-1: no limit other than the
 * earliest timer) for a watched descriptor or a timer, then runs the
 * callbacks that are due. Returns the number of callbacks run (0 when
 * nothing happened in time), or -1 with errno when poll() failed (EINTR is
 * retried) or when there is nothing to wait for and no limit.
 */
int csession__poll_loop_run_once(csession__poll_loop *pl, int max_wait_ms);

/* Number of open watchers plus armed timers (0: nothing can happen). */
size_t csession__poll_loop_pending(const csession__poll_loop *pl);

#endif
