/* Non-blocking store calls for the tests: see redis_async_calls.h. */
#include "redis_async_calls.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "csession.h"
#include "redis_topology.h" /* test_now_ms() */

/* Completions so far, of every call on every thread. */
static atomic_long completions;

static long long clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_complete(csession_store_call *call, int code, const char *message)
{
    async_call *c = (async_call *)call;
    c->done++;
    c->code = code;
    snprintf(c->message, sizeof c->message, "%s",
             message ? message : csession_strerror(code));
    c->order = atomic_fetch_add(&completions, 1);
}

void async_call_init(async_call *c, csession_loop *loop, int kind, const char *key,
                     const char *state, int64_t ttl)
{
    memset(c, 0, sizeof *c);
    csession_buf_init(&c->state);
    csession_buf_init(&c->key);
    c->call.version = 1;
    c->call.kind = kind;
    c->call.loop = loop;
    if (key) {
        snprintf(c->key_in, sizeof c->key_in, "%s", key);
        c->call.key = c->key_in;
        c->call.key_len = strlen(c->key_in);
    }
    c->call.state = state;
    c->call.state_len = state ? strlen(state) : 0;
    c->call.ttl_seconds = ttl;
    c->call.state_out = &c->state;
    c->call.key_out = &c->key;
    c->call.complete = on_complete;
}

void async_start(csession_store *s, async_call *c)
{
    int rc = s->start(s, &c->call);
    if (rc != 0)
        fail_msg("start: %s: %s", csession_strerror(rc), csession_last_error());
}

void async_run_all(csession__poll_loop *pl, async_call **calls, size_t n, long max_ms)
{
    long long t0 = clock_ms();
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < n; i++) {
            if (calls[i]->done > 1)
                fail_msg("call %zu completed %d times", i, calls[i]->done);
            left += calls[i]->done == 0;
        }
        if (left == 0)
            return;
        if (clock_ms() - t0 > max_ms)
            fail_msg("%zu of %zu calls still running after %ld ms", left, n, max_ms);
        if (csession__poll_loop_run_once(pl, 100) < 0)
            fail_msg("the loop has nothing to wait for, with %zu calls running", left);
    }
}

int async_run(csession_store *s, csession__poll_loop *pl, async_call *c)
{
    async_start(s, c);
    async_run_all(pl, &c, 1, 20000);
    return c->code;
}

void async_call_dispose(async_call *c)
{
    csession_buf_dispose(&c->state);
    csession_buf_dispose(&c->key);
}

int async_save(csession_store *s, csession__poll_loop *pl, const char *state, char key[65])
{
    async_call c;
    async_call_init(&c, &pl->loop, CSESSION_CALL_SAVE, NULL, state, 3600);
    int rc = async_run(s, pl, &c);
    if (rc == 0) {
        assert_int_equal(c.key.size, 64);
        memcpy(key, c.key.ptr, 64);
        key[64] = '\0';
    }
    async_call_dispose(&c);
    return rc;
}

int async_load(csession_store *s, csession__poll_loop *pl, const char *key, char *state,
               size_t size, uint64_t *revision)
{
    async_call c;
    async_call_init(&c, &pl->loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    int rc = async_run(s, pl, &c);
    if (state)
        snprintf(state, size, "%.*s", (int)c.state.size, c.state.ptr ? c.state.ptr : "");
    if (revision)
        *revision = c.call.revision_out;
    async_call_dispose(&c);
    return rc;
}

static void tick(void *arg)
{
    ticker *t = arg;
    long long late = test_now_ms() - t->due;
    if (late > t->worst_late)
        t->worst_late = late;
    t->ticks++;
    t->due = test_now_ms() + 10;
    t->loop->timer_set(t->loop, t->timer, 10);
}

void ticker_start(ticker *t, csession_loop *loop)
{
    *t = (ticker){loop, NULL, 0, 0, 0};
    t->timer = loop->timer_open(loop, tick, t);
    assert_non_null(t->timer);
    t->due = test_now_ms() + 10;
    assert_int_equal(loop->timer_set(loop, t->timer, 10), 0);
}
