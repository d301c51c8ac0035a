/*
 * loop_uv.h: csession on a libuv loop (header-only).
 *
 *   #include <uv.h>
 *   #include <csession/loop_uv.h>
 *
 *   csession_loop loop;
 *   csession_loop_uv_init(&loop, uv_default_loop());
 *   csession_manager_load_async(mgr, &loop, cookie, cookie_len, loaded, req, &req->op);
 *
 * The program includes <uv.h> itself and links libuv; csession does not
 * link it. Every function here is static inline, so each file that calls
 * csession_loop_uv_init() gets its own copy and nothing is exported.
 *
 * How the members of csession_loop (loop.h) map onto libuv:
 *  - a watcher is a uv_poll_t (uv_poll_init_socket(), uv_poll_start() and
 *    uv_poll_stop()), level-triggered as libuv's poll handles are; an error
 *    libuv reports on the socket (it then stops the handle) is passed on as
 *    CSESSION_IO_ERROR together with the watched events, and the watcher is
 *    watching nothing until the next io_set. uv_poll_init_socket() makes
 *    the descriptor non-blocking (csession's sockets are already);
 *  - a timer is a uv_timer_t started without repeat;
 *  - io_close and timer_close call uv_close(): the callback never runs
 *    again from that moment, and the memory is freed by the close callback
 *    on a later turn of the loop. Run the loop (uv_run()) once more after
 *    the last csession handle is closed, before uv_loop_close(), or that
 *    memory stays allocated.
 *
 * timer_set(0) inside a timer callback: libuv runs, in the same pass, a
 * timer that a timer callback arms to expire at once, so a chain of such
 * timers would never let the loop poll its sockets. A zero delay armed
 * from a timer callback is therefore given one millisecond, which moves it
 * to the next turn; elsewhere 0 means libuv's next timer pass.
 *
 * Handles are allocated with malloc(); a failed allocation or a refused
 * descriptor makes io_open / timer_open return NULL.
 *
 * Threads: a libuv loop is not thread-safe, and neither is this adapter:
 * use the csession_loop only on the thread that runs `uv`. A thread that
 * runs another uv_loop_t gets its own csession_loop.
 */
#ifndef CSESSION_LOOP_UV_H
#define CSESSION_LOOP_UV_H

#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "csession/errors.h"
#include "csession/loop.h"

#ifdef __cplusplus
#  define CSESSION__UV_THREAD_LOCAL thread_local
#else
#  define CSESSION__UV_THREAD_LOCAL _Thread_local
#endif

typedef struct csession__uv_io {
    uv_poll_t poll; /* poll.data points back here */
    csession_io_cb cb;
    void *arg;
    int fd;
    unsigned int events; /* what the caller asked for */
} csession__uv_io;

typedef struct csession__uv_timer {
    uv_timer_t timer; /* timer.data points back here */
    csession_timer_cb cb;
    void *arg;
} csession__uv_timer;

/* How many adapter timer callbacks are running on this thread (see the
 * file comment on timer_set(0)). One counter per thread is enough: a
 * thread runs one loop at a time. */
static inline unsigned int *csession__uv_timer_depth(void)
{
    static CSESSION__UV_THREAD_LOCAL unsigned int depth;
    return &depth;
}

static inline void csession__uv_free_cb(uv_handle_t *h)
{
    free(h->data);
}

static inline void csession__uv_poll_cb(uv_poll_t *h, int status, int uv_events)
{
    csession__uv_io *io = (csession__uv_io *)h->data;
    unsigned int ev = 0;
    if (status < 0) {
        ev = CSESSION_IO_ERROR | io->events; /* libuv stopped the handle */
        io->events = 0;
    } else {
        if (uv_events & (UV_READABLE | UV_DISCONNECT))
            ev |= CSESSION_IO_READ;
        if (uv_events & UV_WRITABLE)
            ev |= CSESSION_IO_WRITE;
        ev &= io->events;
    }
    if (ev)
        io->cb(io->arg, io->fd, ev);
}

static inline void *csession__uv_io_open(csession_loop *loop, int fd, csession_io_cb cb,
                                         void *arg)
{
    uv_loop_t *uv = (uv_loop_t *)loop->data;
    csession__uv_io *io = (csession__uv_io *)calloc(1, sizeof *io);
    if (!io)
        return NULL;
    if (uv_poll_init_socket(uv, &io->poll, fd) != 0) {
        free(io);
        return NULL;
    }
    io->poll.data = io;
    io->cb = cb;
    io->arg = arg;
    io->fd = fd;
    return io;
}

static inline int csession__uv_io_set(csession_loop *loop, void *h, unsigned int events)
{
    (void)loop;
    csession__uv_io *io = (csession__uv_io *)h;
    int uv_events = ((events & CSESSION_IO_READ) ? UV_READABLE : 0) |
                    ((events & CSESSION_IO_WRITE) ? UV_WRITABLE : 0);
    io->events = events & (CSESSION_IO_READ | CSESSION_IO_WRITE);
    if (!uv_events)
        return uv_poll_stop(&io->poll) == 0 ? 0 : -1;
    if (uv_poll_start(&io->poll, uv_events, csession__uv_poll_cb) != 0) {
        io->events = 0;
        return -1;
    }
    return 0;
}

static inline void csession__uv_io_close(csession_loop *loop, void *h)
{
    (void)loop;
    csession__uv_io *io = (csession__uv_io *)h;
    io->events = 0;
    uv_close((uv_handle_t *)&io->poll, csession__uv_free_cb);
}

static inline void csession__uv_timer_cb(uv_timer_t *h)
{
    csession__uv_timer *t = (csession__uv_timer *)h->data;
    unsigned int *depth = csession__uv_timer_depth();
    ++*depth;
    t->cb(t->arg);
    --*depth;
}

static inline void *csession__uv_timer_open(csession_loop *loop, csession_timer_cb cb, void *arg)
{
    uv_loop_t *uv = (uv_loop_t *)loop->data;
    csession__uv_timer *t = (csession__uv_timer *)calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (uv_timer_init(uv, &t->timer) != 0) {
        free(t);
        return NULL;
    }
    t->timer.data = t;
    t->cb = cb;
    t->arg = arg;
    return t;
}

static inline int csession__uv_timer_set(csession_loop *loop, void *h, uint64_t ms)
{
    uv_loop_t *uv = (uv_loop_t *)loop->data;
    csession__uv_timer *t = (csession__uv_timer *)h;
    if (ms == 0 && *csession__uv_timer_depth() > 0)
        ms = 1;
    /* libuv counts from the time cached at the start of the turn; a
     * callback that ran long would otherwise get an early expiry. */
    uv_update_time(uv);
    return uv_timer_start(&t->timer, csession__uv_timer_cb, ms, 0) == 0 ? 0 : -1;
}

static inline void csession__uv_timer_cancel(csession_loop *loop, void *h)
{
    (void)loop;
    uv_timer_stop(&((csession__uv_timer *)h)->timer);
}

static inline void csession__uv_timer_close(csession_loop *loop, void *h)
{
    (void)loop;
    csession__uv_timer *t = (csession__uv_timer *)h;
    uv_close((uv_handle_t *)&t->timer, csession__uv_free_cb);
}

/*
 * Fills `out` with a csession_loop whose handles live on the libuv loop
 * `uv`.
 *
 * `out` is the caller's (typically a member of the per-thread server
 * state) and must stay valid, at the same address, as long as csession
 * may use it: until every non-blocking call made with it has completed or
 * been abandoned. `uv` is borrowed for as long; csession never runs,
 * stops or closes it. No memory is allocated here, and there is nothing
 * to release afterwards other than what the file comment says about
 * closed handles.
 *
 * Returns 0, or CSESSION_EINVAL when `out` or `uv` is
 * NULL. Does not block. Thread: the thread that runs `uv`.
 */
static inline int csession_loop_uv_init(csession_loop *out, uv_loop_t *uv)
{
    if (!out || !uv)
        return CSESSION_EINVAL;
    out->version = CSESSION_LOOP_VERSION;
    out->data = uv;
    out->io_open = csession__uv_io_open;
    out->io_set = csession__uv_io_set;
    out->io_close = csession__uv_io_close;
    out->timer_open = csession__uv_timer_open;
    out->timer_set = csession__uv_timer_set;
    out->timer_cancel = csession__uv_timer_cancel;
    out->timer_close = csession__uv_timer_close;
    return 0;
}

#endif /* CSESSION_LOOP_UV_H */
