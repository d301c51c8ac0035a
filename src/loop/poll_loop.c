/*
 * A csession_loop over poll(): see poll_loop.h.
 *
 * Closing a handle from inside a callback is allowed (a state machine
 * closes its socket's watcher when the reply it waited for says so), so a
 * turn first collects what is due, then runs each callback only if its
 * handle is still open: closed handles are marked dead and freed at the end
 * of the turn.
 */
#include "poll_loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"

struct csession__poll_io {
    int fd;
    unsigned int events;
    csession_io_cb cb;
    void *arg;
    int dead;
};

struct csession__poll_timer {
    int64_t due_ms; /* -1: not armed */
    csession_timer_cb cb;
    void *arg;
    int dead;
};

static csession__poll_loop *of(csession_loop *loop)
{
    return (csession__poll_loop *)loop;
}

/* Appends `p` to *arr (grown by doubling); 0 or -1 when out of memory. */
static int push(void ***arr, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 4;
        void **a = csession__realloc(*arr, cap2 * sizeof *a);
        if (!a)
            return -1;
        *arr = a;
        *cap = cap2;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

static void *io_open(csession_loop *loop, int fd, csession_io_cb cb, void *arg)
{
    csession__poll_loop *pl = of(loop);
    csession__poll_io *io = csession__calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->fd = fd;
    io->cb = cb;
    io->arg = arg;
    if (push((void ***)&pl->ios, &pl->n_ios, &pl->cap_ios, io)) {
        csession__free(io);
        return NULL;
    }
    return io;
}

static int io_set(csession_loop *loop, void *h, unsigned int events)
{
    (void)loop;
    ((csession__poll_io *)h)->events = events & (CSESSION_IO_READ | CSESSION_IO_WRITE);
    return 0;
}

static void io_close(csession_loop *loop, void *h)
{
    (void)loop;
    csession__poll_io *io = h;
    io->dead = 1;
    io->events = 0;
}

static void *timer_open(csession_loop *loop, csession_timer_cb cb, void *arg)
{
    csession__poll_loop *pl = of(loop);
    csession__poll_timer *t = csession__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->due_ms = -1;
    t->cb = cb;
    t->arg = arg;
    if (push((void ***)&pl->timers, &pl->n_timers, &pl->cap_timers, t)) {
        csession__free(t);
        return NULL;
    }
    return t;
}

static int timer_set(csession_loop *loop, void *h, uint64_t ms)
{
    (void)loop;
    int64_t now = csession__monotonic_ms(NULL);
    ((csession__poll_timer *)h)->due_ms =
        ms > (uint64_t)(INT64_MAX - now) ? INT64_MAX : now + (int64_t)ms;
    return 0;
}

static void timer_cancel(csession_loop *loop, void *h)
{
    (void)loop;
    ((csession__poll_timer *)h)->due_ms = -1;
}

static void timer_close(csession_loop *loop, void *h)
{
    (void)loop;
    csession__poll_timer *t = h;
    t->dead = 1;
    t->due_ms = -1;
}

void csession__poll_loop_init(csession__poll_loop *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->loop.version = CSESSION_LOOP_VERSION;
    pl->loop.data = pl;
    pl->loop.io_open = io_open;
    pl->loop.io_set = io_set;
    pl->loop.io_close = io_close;
    pl->loop.timer_open = timer_open;
    pl->loop.timer_set = timer_set;
    pl->loop.timer_cancel = timer_cancel;
    pl->loop.timer_close = timer_close;
}

/* Frees the handles closed since the last sweep, keeping the order of the
 * others. */
static void sweep(csession__poll_loop *pl)
{
    size_t j = 0;
    for (size_t i = 0; i < pl->n_ios; i++) {
        if (pl->ios[i]->dead)
            csession__free(pl->ios[i]);
        else
            pl->ios[j++] = pl->ios[i];
    }
    pl->n_ios = j;
    j = 0;
    for (size_t i = 0; i < pl->n_timers; i++) {
        if (pl->timers[i]->dead)
            csession__free(pl->timers[i]);
        else
            pl->timers[j++] = pl->timers[i];
    }
    pl->n_timers = j;
}

void csession__poll_loop_dispose(csession__poll_loop *pl)
{
    for (size_t i = 0; i < pl->n_ios; i++)
        csession__free(pl->ios[i]);
    for (size_t i = 0; i < pl->n_timers; i++)
        csession__free(pl->timers[i]);
    csession__free(pl->ios);
    csession__free(pl->timers);
    memset(pl, 0, sizeof *pl);
}

size_t csession__poll_loop_pending(const csession__poll_loop *pl)
{
    size_t n = 0;
    for (size_t i = 0; i < pl->n_ios; i++)
        n += !pl->ios[i]->dead && pl->ios[i]->events != 0;
    for (size_t i = 0; i < pl->n_timers; i++)
        n += !pl->timers[i]->dead && pl->timers[i]->due_ms >= 0;
    return n;
}

int csession__poll_loop_run_once(csession__poll_loop *pl, int max_wait_ms)
{
    sweep(pl);
    int64_t now = csession__monotonic_ms(NULL);
    int64_t wait = max_wait_ms; /* -1: none yet */
    for (size_t i = 0; i < pl->n_timers; i++) {
        int64_t due = pl->timers[i]->due_ms;
        if (due < 0)
            continue;
        int64_t left = due > now ? due - now : 0;
        if (wait < 0 || left < wait)
            wait = left;
    }

    size_t n = 0;
    for (size_t i = 0; i < pl->n_ios; i++)
        n += pl->ios[i]->events != 0;
    if (n == 0 && wait < 0) {
        errno = EDEADLK; /* would wait for ever */
        return -1;
    }

    struct pollfd stack[8], *fds = stack;
    csession__poll_io *stack_io[8], **who = stack_io;
    if (n > 8) {
        fds = csession__calloc(n, sizeof *fds);
        who = csession__calloc(n, sizeof *who);
        if (!fds || !who) {
            csession__free(fds == stack ? NULL : fds);
            csession__free(who == stack_io ? NULL : who);
            errno = ENOMEM;
            return -1;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < pl->n_ios; i++) {
        csession__poll_io *io = pl->ios[i];
        if (!io->events)
            continue;
        fds[k].fd = io->fd;
        fds[k].events = (short)(((io->events & CSESSION_IO_READ) ? POLLIN : 0) |
                                ((io->events & CSESSION_IO_WRITE) ? POLLOUT : 0));
        fds[k].revents = 0;
        who[k++] = io;
    }

    int rc;
    do
        rc = poll(fds, (nfds_t)k, wait < 0 ? -1 : (wait > 1000000 ? 1000000 : (int)wait));
    while (rc < 0 && errno == EINTR);

    int ran = 0;
    if (rc > 0) {
        for (size_t i = 0; i < k; i++) {
            short re = fds[i].revents;
            if (!re || who[i]->dead)
                continue;
            unsigned int ev = 0;
            if (re & (POLLIN | POLLHUP))
                ev |= CSESSION_IO_READ;
            if (re & POLLOUT)
                ev |= CSESSION_IO_WRITE;
            if (re & (POLLERR | POLLHUP | POLLNVAL))
                ev |= CSESSION_IO_ERROR;
            who[i]->cb(who[i]->arg, who[i]->fd, ev);
            ran++;
        }
    }
    if (fds != stack) {
        csession__free(fds);
        csession__free(who);
    }
    if (rc < 0)
        return -1;

    /* Timers that are due now; a callback may arm or close any timer,
     * including ones further on: the count is fixed at the start, and new
     * timers wait for the next turn. */
    now = csession__monotonic_ms(NULL);
    size_t nt = pl->n_timers;
    for (size_t i = 0; i < nt; i++) {
        csession__poll_timer *t = pl->timers[i];
        if (t->dead || t->due_ms < 0 || t->due_ms > now)
            continue;
        t->due_ms = -1;
        t->cb(t->arg);
        ran++;
    }
    return ran;
}
