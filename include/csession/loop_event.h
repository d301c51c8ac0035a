/*
 * loop_event.h: csession on a libevent 2 event_base (header-only).
 *
 *   #include <event2/event.h>
 *   #include <csession/loop_event.h>
 *
 *   csession_loop loop;
 *   csession_loop_event_init(&loop, base);
 *   csession_manager_load_async(mgr, &loop, cookie, cookie_len, loaded, req, &req->op);
 *
 * The program includes <event2/event.h> itself and links libevent (or
 * libevent_core); csession does not link it. Every function here is
 * static inline, so nothing is exported.
 *
 * How the members of csession_loop (loop.h) map onto libevent:
 *  - a watcher is an event made with event_new(); io_set deletes it,
 *    assigns the new events with EV_PERSIST (event_assign()) and adds it
 *    again, so that it stays level-triggered (no EV_ET) and keeps firing
 *    while the condition holds;
 *  - a timer is an evtimer (event_new() with no descriptor); timer_set
 *    refreshes the base's cached time first, so that the delay counts from
 *    now and not from the start of the current turn;
 *  - io_close and timer_close call event_free(), which also deletes the
 *    event from the active queue: its callback never runs again, also when
 *    it was already due in the current turn. Both may be called from the
 *    handle's own callback.
 * libevent reports an error or hang-up on a descriptor as readiness for
 * reading and writing, so this adapter never sets CSESSION_IO_ERROR: the
 * read or write that follows sees the error.
 *
 * Handles are allocated with malloc() and by libevent; io_open and
 * timer_open return NULL when that fails, io_set and timer_set -1 when
 * libevent refuses (event_add() failed).
 *
 * libev's <ev.h> and libevent's <event2/event.h> both define EV_READ and
 * EV_WRITE, so one source file cannot include both (nor this header and
 * the libev one).
 *
 * Threads: use the csession_loop only on the thread that runs `base`
 * (event_base_dispatch() / event_base_loop()). A thread that runs another
 * event_base gets its own csession_loop; no libevent locking is needed.
 */
#ifndef CSESSION_LOOP_EVENT_H
#define CSESSION_LOOP_EVENT_H

#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>

#include "csession/errors.h"
#include "csession/loop.h"

typedef struct csession__event_io {
    struct event *ev;
    struct event_base *base;
    csession_io_cb cb;
    void *arg;
    int fd;
} csession__event_io;

typedef struct csession__event_timer {
    struct event *ev;
    csession_timer_cb cb;
    void *arg;
} csession__event_timer;

static inline void csession__event_io_cb(evutil_socket_t fd, short what, void *arg)
{
    csession__event_io *io = (csession__event_io *)arg;
    unsigned int ev = ((what & EV_READ) ? CSESSION_IO_READ : 0u) |
                      ((what & EV_WRITE) ? CSESSION_IO_WRITE : 0u);
    (void)fd;
    if (ev)
        io->cb(io->arg, io->fd, ev);
}

static inline void *csession__event_io_open(csession_loop *loop, int fd, csession_io_cb cb,
                                            void *arg)
{
    struct event_base *base = (struct event_base *)loop->data;
    csession__event_io *io;
    if (fd < 0)
        return NULL;
    io = (csession__event_io *)calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->ev = event_new(base, fd, EV_PERSIST, csession__event_io_cb, io);
    if (!io->ev) {
        free(io);
        return NULL;
    }
    io->base = base;
    io->cb = cb;
    io->arg = arg;
    io->fd = fd;
    return io;
}

static inline int csession__event_io_set(csession_loop *loop, void *h, unsigned int events)
{
    csession__event_io *io = (csession__event_io *)h;
    short what = (short)(((events & CSESSION_IO_READ) ? EV_READ : 0) |
                         ((events & CSESSION_IO_WRITE) ? EV_WRITE : 0));
    (void)loop;
    if (event_del(io->ev) != 0)
        return -1;
    if (!what)
        return 0;
    /* The event is neither pending nor active after event_del(), the one
     * state in which event_assign() may change it. */
    if (event_assign(io->ev, io->base, io->fd, (short)(what | EV_PERSIST), csession__event_io_cb,
                     io) != 0)
        return -1;
    return event_add(io->ev, NULL) == 0 ? 0 : -1;
}

static inline void csession__event_io_close(csession_loop *loop, void *h)
{
    csession__event_io *io = (csession__event_io *)h;
    (void)loop;
    event_free(io->ev);
    free(io);
}

static inline void csession__event_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    csession__event_timer *t = (csession__event_timer *)arg;
    (void)fd;
    (void)what;
    t->cb(t->arg);
}

static inline void *csession__event_timer_open(csession_loop *loop, csession_timer_cb cb,
                                               void *arg)
{
    struct event_base *base = (struct event_base *)loop->data;
    csession__event_timer *t = (csession__event_timer *)calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ev = evtimer_new(base, csession__event_timer_cb, t);
    if (!t->ev) {
        free(t);
        return NULL;
    }
    t->cb = cb;
    t->arg = arg;
    return t;
}

static inline int csession__event_timer_set(csession_loop *loop, void *h, uint64_t ms)
{
    csession__event_timer *t = (csession__event_timer *)h;
    struct timeval tv;
    if (ms > (uint64_t)INT32_MAX * 1000u)
        ms = (uint64_t)INT32_MAX * 1000u; /* some 68 years: never, in practice */
    tv.tv_sec = (time_t)(ms / 1000u);
    tv.tv_usec = (int)((ms % 1000u) * 1000u);
    event_base_update_cache_time((struct event_base *)loop->data);
    /* event_add() on a pending timer replaces its expiry. */
    return evtimer_add(t->ev, &tv) == 0 ? 0 : -1;
}

static inline void csession__event_timer_cancel(csession_loop *loop, void *h)
{
    (void)loop;
    evtimer_del(((csession__event_timer *)h)->ev);
}

static inline void csession__event_timer_close(csession_loop *loop, void *h)
{
    csession__event_timer *t = (csession__event_timer *)h;
    (void)loop;
    event_free(t->ev);
    free(t);
}

/*
 * Fills `out` with a csession_loop whose handles are events of `base`.
 *
 * `out` is the caller's and must stay valid, at the same address, until
 * every non-blocking call made with it has completed or been abandoned.
 * `base` is borrowed for as long; csession never dispatches, breaks or
 * frees it. Nothing is allocated here and nothing needs releasing later:
 * closed handles are freed at once.
 *
 * Returns 0, or CSESSION_EINVAL when `out` or `base` is NULL. Does not
 * block. Thread: the thread that runs `base`.
 */
static inline int csession_loop_event_init(csession_loop *out, struct event_base *base)
{
    if (!out || !base)
        return CSESSION_EINVAL;
    out->version = CSESSION_LOOP_VERSION;
    out->data = base;
    out->io_open = csession__event_io_open;
    out->io_set = csession__event_io_set;
    out->io_close = csession__event_io_close;
    out->timer_open = csession__event_timer_open;
    out->timer_set = csession__event_timer_set;
    out->timer_cancel = csession__event_timer_cancel;
    out->timer_close = csession__event_timer_close;
    return 0;
}

#endif /* CSESSION_LOOP_EVENT_H */
