/*
 * loop.h: how csession plugs into an event loop.
 *
 * The non-blocking calls (csession_manager_load_async(), ...) and the
 * non-blocking members of stores (sys/store.h, version 3) never wait: they
 * watch sockets and arm timers on a loop through this small interface, and
 * their work continues in the loop's callbacks. Any loop can implement it;
 * csession/loop_uv.h, csession/loop_event.h and csession/loop_ev.h are ready
 * adapters for libuv, libevent and libev (header-only: they need the loop's
 * own headers and library, csession does not link them).
 *
 * Handles. A watcher (one file descriptor) and a timer are handles the
 * adapter allocates in io_open / timer_open and frees in io_close /
 * timer_close; csession closes every handle it opened. Once io_close or
 * timer_close returns, the handle's callback never runs again (an adapter
 * whose loop closes asynchronously, such as libuv, frees the memory later
 * but drops late events).
 *
 * Threads. A loop belongs to one thread: csession calls these members only
 * from inside a non-blocking csession call made on that thread or from one
 * of the callbacks the loop runs, never from another thread. A program with
 * several loop threads gives each its own csession_loop; one store and one
 * manager serve all of them (the Redis store keeps connections per loop).
 *
 * Versioning: members are only appended, under a new version number; set
 * `version` to CSESSION_LOOP_VERSION.
 */
#ifndef CSESSION_LOOP_H
#define CSESSION_LOOP_H

#include <stdint.h>

#include "csession/common.h"

CSESSION_BEGIN_DECLS

#define CSESSION_LOOP_VERSION 1

/* Events of a watcher. */
#define CSESSION_IO_READ 0x1u  /* the descriptor is readable (or at end of file) */
#define CSESSION_IO_WRITE 0x2u /* the descriptor is writable */
#define CSESSION_IO_ERROR 0x4u /* the loop reported an error or hang-up on it */

typedef struct csession_loop csession_loop;

/* Runs on the loop's thread when `fd` has some of the watched `events`
 * (CSESSION_IO_* bits, ERROR possibly with the others). */
typedef void (*csession_io_cb)(void *arg, int fd, unsigned int events);

/* Runs on the loop's thread when a one-shot timer expires. */
typedef void (*csession_timer_cb)(void *arg);

struct csession_loop {
    /* CSESSION_LOOP_VERSION. */
    unsigned int version;

    /* The adapter's own data (the uv_loop_t *, the event_base *, ...). */
    void *data;

    /*
     * A watcher for the socket `fd`, not yet watching anything. Returns the
     * handle, or NULL when out of memory or the loop refused the descriptor.
     * At most one watcher per descriptor is open at a time.
     */
    void *(*io_open)(csession_loop *loop, int fd, csession_io_cb cb, void *arg);

    /* Watches `events` (CSESSION_IO_READ and/or CSESSION_IO_WRITE) from now
     * on, replacing what was watched; 0 pauses the watcher. Level-triggered:
     * the callback keeps running while the condition holds. 0, or -1 when
     * the loop refused. */
    int (*io_set)(csession_loop *loop, void *io, unsigned int events);

    /* Stops and frees a watcher; its callback never runs again. Does not
     * close the descriptor. */
    void (*io_close)(csession_loop *loop, void *io);

    /* A one-shot timer, not armed. Returns the handle, or NULL. */
    void *(*timer_open)(csession_loop *loop, csession_timer_cb cb, void *arg);

    /* Arms the timer to fire once `ms` milliseconds from now (0: on the
     * loop's next turn, not inside this call), replacing a pending expiry.
     * 0, or -1. */
    int (*timer_set)(csession_loop *loop, void *timer, uint64_t ms);

    /* Disarms the timer; a no-op when it is not armed. */
    void (*timer_cancel)(csession_loop *loop, void *timer);

    /* Disarms and frees the timer; its callback never runs again. */
    void (*timer_close)(csession_loop *loop, void *timer);
};

/* CSESSION_LOOP_VERSION, for bindings that cannot read macros. */
CSESSION_EXTERN(unsigned int) csession_loop_version(void);

CSESSION_END_DECLS

#endif /* CSESSION_LOOP_H */
