/*
 * Each adapter header compiles on its own with -pedantic -Werror, as C11
 * here and as C++11 through test_loop_headers.cpp, and works: a zero-delay
 * timer fires on the loop's next turn. Built once per loop library
 * (LOOP_HEADERS_UV, _EVENT or _EV): libev's and libevent's headers cannot
 * be included together.
 */
#include <stdio.h>

#if LOOP_HEADERS_UV
#include <uv.h>

#include "csession/loop_uv.h"
#elif LOOP_HEADERS_EVENT
#include <event2/event.h>

#include "csession/loop_event.h"
#elif LOOP_HEADERS_EV
#include <ev.h>

#include "csession/loop_ev.h"
#else
#error "define one of LOOP_HEADERS_UV, LOOP_HEADERS_EVENT, LOOP_HEADERS_EV"
#endif

static void fired(void *arg)
{
    *(int *)arg += 1;
}

int main(void)
{
    csession_loop loop;
    int count = 0;
#if LOOP_HEADERS_UV
    uv_loop_t uv;
    if (uv_loop_init(&uv) != 0 || csession_loop_uv_init(&loop, &uv) != 0)
        return 1;
#elif LOOP_HEADERS_EVENT
    struct event_base *base = event_base_new();
    if (!base || csession_loop_event_init(&loop, base) != 0)
        return 1;
#else
    struct ev_loop *l = ev_loop_new(EVFLAG_AUTO);
    if (!l || csession_loop_ev_init(&loop, l) != 0)
        return 1;
#endif
    if (loop.version != CSESSION_LOOP_VERSION)
        return 1;
    void *t = loop.timer_open(&loop, fired, &count);
    if (!t || loop.timer_set(&loop, t, 0) != 0 || count != 0)
        return 1;
#if LOOP_HEADERS_UV
    uv_run(&uv, UV_RUN_ONCE);
#elif LOOP_HEADERS_EVENT
    event_base_loop(base, EVLOOP_ONCE);
#else
    ev_run(l, EVRUN_ONCE);
#endif
    loop.timer_close(&loop, t);
#if LOOP_HEADERS_UV
    uv_run(&uv, UV_RUN_NOWAIT); /* the close callback frees the timer */
    if (uv_loop_close(&uv) != 0)
        return 1;
#elif LOOP_HEADERS_EVENT
    event_base_free(base);
#else
    ev_loop_destroy(l);
#endif
    if (count != 1) {
        fprintf(stderr, "the timer fired %d times\n", count);
        return 1;
    }
    return 0;
}
