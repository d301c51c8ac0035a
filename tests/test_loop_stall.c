/*
 * A loop never waits for Redis: on one loop (the first argument: poll, uv,
 * event, ev), a 10 ms repeating timer keeps running on time while a
 * non-blocking store call is pending on a redis-server that is stopped
 * (SIGSTOP) for 3 s, and the call ends with CSESSION_ETIMEOUT once the
 * command timeout has passed.
 *
 * It drives the Redis store's version 3 `start` member directly, with a
 * CSESSION_CALL_LOAD_REV call; a store without `start` cannot be tested
 * this way, and the test says so and skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "loop_adapters.h"
#include "redis_server.h"

#define TICK_MS 10
#define STALL_MS 3000
#define COMMAND_TIMEOUT_MS 500
/* Generous bounds: the machine is shared and the build may be sanitized. */
#define MAX_LATE_MS 200.0
#define MAX_COMPLETION_MS 2500.0

static const char *loop_name;
static int skipped; /* the store cannot be driven on a loop: exit 77 */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The repeating timer and how late it ran. */
typedef struct ticker {
    csession_loop *loop;
    void *t;
    double due;
    double worst_late;
    long ticks;
} ticker;

static void tick(void *arg)
{
    ticker *k = arg;
    double now = now_ms();
    double late = now - k->due;
    if (late > k->worst_late)
        k->worst_late = late;
    k->ticks++;
    k->due = now + TICK_MS;
    assert_int_equal(k->loop->timer_set(k->loop, k->t, TICK_MS), 0);
}

/* One store call and its outcome. */
typedef struct pending {
    csession_store_call call;
    csession_buf state;
    char key[CSESSION_SESSION_KEY_LEN + 1];
    int done;
    int code;
    char message[256];
    double started, finished;
} pending;

static void complete(csession_store_call *call, int code, const char *message)
{
    pending *p = call->library_data;
    assert_false(p->done); /* exactly once */
    p->done = 1;
    p->code = code;
    p->finished = now_ms();
    snprintf(p->message, sizeof p->message, "%s", message ? message : csession_strerror(code));
}

static void start_load(csession_store *store, csession_loop *loop, pending *p)
{
    memset(p, 0, sizeof *p);
    csession_buf_init(&p->state);
    assert_int_equal(csession_session_key_generate(p->key, sizeof p->key), 0);
    p->call.version = 1;
    p->call.kind = CSESSION_CALL_LOAD_REV;
    p->call.loop = loop;
    p->call.key = p->key;
    p->call.key_len = CSESSION_SESSION_KEY_LEN;
    p->call.state_out = &p->state;
    p->call.complete = complete;
    p->call.library_data = p;
    p->started = now_ms();
    assert_int_equal(store->start(store, &p->call), 0);
}

static void test_loop_keeps_time_while_redis_is_stopped(void **state)
{
    (void)state;
    redis_server srv;
    memset(&srv, 0, sizeof srv);
    assert_int_equal(redis_server_start(&srv, NULL), 0);

    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = COMMAND_TIMEOUT_MS;
    o.command_timeout_ms = COMMAND_TIMEOUT_MS;
    csession_store *store = NULL;
    assert_int_equal(csession_store_redis_new(&store, srv.url, &o), 0);
    if (store->version < 3 || !store->start) {
        print_message("loop_stall_%s: skipped: the Redis store has no non-blocking `start` "
                      "member (sys/store.h version 3) to run on a loop\n",
                      loop_name);
        csession_store_free(store);
        redis_server_stop(&srv);
        skipped = 1;
        skip();
    }

    conformance_loop cl;
    assert_int_equal(loop_adapter_create(&cl, loop_name), 0);

    /* A first call while the server answers: the store has its connection. */
    pending warm;
    start_load(store, cl.loop, &warm);
    while (!warm.done)
        assert_int_equal(cl.run_once(cl.ctx), 0);
    assert_int_equal(warm.code, CSESSION_ENOTFOUND);
    csession_buf_dispose(&warm.state);

    ticker k = {cl.loop, NULL, 0, 0, 0};
    k.t = cl.loop->timer_open(cl.loop, tick, &k);
    assert_non_null(k.t);
    k.due = now_ms() + TICK_MS;
    assert_int_equal(cl.loop->timer_set(cl.loop, k.t, TICK_MS), 0);

    redis_server_pause(&srv);
    double paused = now_ms();
    pending p;
    start_load(store, cl.loop, &p);
    while (!p.done || now_ms() - paused < STALL_MS)
        assert_int_equal(cl.run_once(cl.ctx), 0);
    redis_server_resume(&srv);

    double took = p.finished - p.started;
    print_message("loop_stall_%s: %ld ticks of %d ms in %.0f ms, worst lateness %.2f ms; "
                  "the call ended after %.0f ms: %s\n",
                  loop_name, k.ticks, TICK_MS, now_ms() - paused, k.worst_late, took,
                  p.message);
    assert_int_equal(p.code, CSESSION_ETIMEOUT);
    assert_true(took >= COMMAND_TIMEOUT_MS - 1);
    assert_true(took < MAX_COMPLETION_MS);
    assert_true(k.worst_late < MAX_LATE_MS);
    assert_true(k.ticks >= STALL_MS / TICK_MS / 3);

    cl.loop->timer_close(cl.loop, k.t);
    csession_buf_dispose(&p.state);
    csession_store_free(store);
    loop_adapter_destroy(&cl);
    redis_server_stop(&srv);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s poll|uv|event|ev\n", argv[0]);
        return 2;
    }
    loop_name = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_keeps_time_while_redis_is_stopped),
    };
    char group[64];
    snprintf(group, sizeof group, "loop_stall_%s", loop_name);
    int failed = cmocka_run_group_tests_name(group, tests, NULL, NULL);
    return failed ? failed : skipped ? 77 : 0; /* 77: ctest's SKIP_RETURN_CODE */
}
