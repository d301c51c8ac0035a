/*
 * loop_ev.h: csession on a libev loop (header-only).
 *
 *   #include <ev.h>
 *   #include <csession/loop_ev.h>
 *
 *   csession_loop loop;
 *   csession_loop_ev_init(&loop, EV_DEFAULT);
 *   csession_manager_load_async(mgr, &loop, cookie, cookie_len, loaded, req, &req->op);
 *
 * The program includes <ev.h> itself (built with EV_MULTIPLICITY, libev's
 * default) and links libev; csession does not link it. Every function here
 * is static inline, so nothing is exported.
 *
 * How the members of csession_loop (loop.h) map onto libev:
 *  - a watcher is an ev_io; libev cannot change the events of a started
 *    watcher, so io_set stops it, sets the new events and starts it again
 *    (not started at all for 0). ev_io is level-triggered. An EV_ERROR from
 *    libev (it then stops the watcher) is passed on as CSESSION_IO_ERROR
 *    with the watched events, and the watcher is watching nothing until the
 *    next io_set;
 *  - a timer is an ev_timer without repeat; timer_set updates the loop's
 *    idea of now (ev_now_update()) first, so that the delay counts from now
 *    and not from the start of the current iteration;
 *  - io_close and timer_close stop the watcher, which also drops an event
 *    already pending for it, and free it at once: its callback never runs
 *    again. Both may be called from the watcher's own callback.
 *
 * Handles are allocated with malloc(); io_open and timer_open return NULL
 * when that fails (or for a negative descriptor). libev reports no failure
 * of its own to the caller, so io_set and timer_set always return 0.
 *
 * libev's <ev.h> and libevent's <event2/event.h> both define EV_READ and
 * EV_WRITE, so one source file cannot include both (nor this header and
 * the libevent one).
 *
 * Threads: use the csession_loop only on the thread that runs `loop`
 * (ev_run()). A thread that runs another ev_loop gets its own
 * csession_loop.
 */
#ifndef CSESSION_LOOP_EV_H
#define CSESSION_LOOP_EV_H

#include <stdint.h>
#include <stdlib.h>

#include <ev.h>

#include "csession/errors.h"
#include "csession/loop.h"

typedef struct csession__ev_io {
    ev_io w; /* first: the callback finds the rest from the watcher */
    csession_io_cb cb;
    void *arg;
    unsigned int events; /* what the caller asked for */
} csession__ev_io;

typedef struct csession__ev_timer {
    ev_timer w; /* first */
    csession_timer_cb cb;
    void *arg;
} csession__ev_timer;

static inline void csession__ev_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
    csession__ev_io *io = (csession__ev_io *)w;
    unsigned int ev;
    (void)l;
    if (revents & EV_ERROR) {
        ev = CSESSION_IO_ERROR | io->events; /* libev stopped the watcher */
        io->events = 0;
    } else {
        ev = (((revents & EV_READ) ? CSESSION_IO_READ : 0u) |
              ((revents & EV_WRITE) ? CSESSION_IO_WRITE : 0u)) &
             io->events;
    }
    if (ev)
        io->cb(io->arg, w->fd, ev);
}

static inline void *csession__ev_io_open(csession_loop *loop, int fd, csession_io_cb cb,
                                         void *arg)
{
    csession__ev_io *io;
    (void)loop;
    if (fd < 0)
        return NULL;
    io = (csession__ev_io *)calloc(1, sizeof *io);
    if (!io)
        return NULL;
    ev_io_init(&io->w, csession__ev_io_cb, fd, 0);
    io->cb = cb;
    io->arg = arg;
    return io;
}

static inline int csession__ev_io_set(csession_loop *loop, void *h, unsigned int events)
{
    struct ev_loop *l = (struct ev_loop *)loop->data;
    csession__ev_io *io = (csession__ev_io *)h;
    int what = ((events & CSESSION_IO_READ) ? EV_READ : 0) |
               ((events & CSESSION_IO_WRITE) ? EV_WRITE : 0);
    ev_io_stop(l, &io->w);
    io->events = events & (CSESSION_IO_READ | CSESSION_IO_WRITE);
    if (what) {
        ev_io_set(&io->w, io->w.fd, what);
        ev_io_start(l, &io->w);
    }
    return 0;
}

static inline void csession__ev_io_close(csession_loop *loop, void *h)
{
    csession__ev_io *io = (csession__ev_io *)h;
    ev_io_stop((struct ev_loop *)loop->data, &io->w);
    free(io);
}

static inline void csession__ev_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
    csession__ev_timer *t = (csession__ev_timer *)w;
    (void)l;
    (void)revents;
    t->cb(t->arg);
}

static inline void *csession__ev_timer_open(csession_loop *loop, csession_timer_cb cb, void *arg)
{
    csession__ev_timer *t = (csession__ev_timer *)calloc(1, sizeof *t);
    (void)loop;
    if (!t)
        return NULL;
    ev_timer_init(&t->w, csession__ev_timer_cb, 0., 0.);
    t->cb = cb;
    t->arg = arg;
    return t;
}

static inline int csession__ev_timer_set(csession_loop *loop, void *h, uint64_t ms)
{
    struct ev_loop *l = (struct ev_loop *)loop->data;
    csession__ev_timer *t = (csession__ev_timer *)h;
    ev_timer_stop(l, &t->w);
    ev_now_update(l);
    ev_timer_set(&t->w, (ev_tstamp)ms / 1000., 0.);
    ev_timer_start(l, &t->w);
    return 0;
}

static inline void csession__ev_timer_cancel(csession_loop *loop, void *h)
{
    ev_timer_stop((struct ev_loop *)loop->data, &((csession__ev_timer *)h)->w);
}

static inline void csession__ev_timer_close(csession_loop *loop, void *h)
{
    csession__ev_timer *t = (csession__ev_timer *)h;
    ev_timer_stop((struct ev_loop *)loop->data, &t->w);
    free(t);
}

/*
 * Fills `out` with a csession_loop whose handles are watchers of `loop`.
 *
 * `out` is the caller's and must stay valid, at the same address, until
 * every non-blocking call made with it has completed or been abandoned.
 * `loop` is borrowed for as long; csession never runs, breaks or destroys
 * it. Nothing is allocated here and nothing needs releasing later: closed
 * handles are freed at once.
 *
 * Returns 0, or CSESSION_EINVAL when `out` or `loop` is NULL. Does not
 * block. Thread: the thread that runs `loop`.
 */
static inline int csession_loop_ev_init(csession_loop *out, struct ev_loop *loop)
{
    if (!out || !loop)
        return CSESSION_EINVAL;
    out->version = CSESSION_LOOP_VERSION;
    out->data = loop;
    out->io_open = csession__ev_io_open;
    out->io_set = csession__ev_io_set;
    out->io_close = csession__ev_io_close;
    out->timer_open = csession__ev_timer_open;
    out->timer_set = csession__ev_timer_set;
    out->timer_cancel = csession__ev_timer_cancel;
    out->timer_close = csession__ev_timer_close;
    return 0;
}

#endif /* CSESSION_LOOP_EV_H */
