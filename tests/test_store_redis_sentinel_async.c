/* The Redis store's non-blocking calls through Redis Sentinel, on a group
 * of its own (a master, a replica, three sentinels, passwords): the master
 * found, and a SENTINEL FAILOVER while calls run on a poll() loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "redis_async_calls.h"
#include "redis_topology.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600
#define NAME "sessions"
#define PASSWORD "data-pw"
#define SENTINEL_PASSWORD "sentinel-pw"

static sentinel_group group;

static csession_store *store_with(unsigned int connect_ms)
{
    char url[600];
    snprintf(url, sizeof url, "redis+sentinel://:" PASSWORD "@%s/" NAME
             "?sentinel_password=" SENTINEL_PASSWORD, group.hosts);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = connect_ms;
    o.command_timeout_ms = 1000;
    o.pool_size = 4;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new: %s", csession_last_error());
    return s;
}

static csession_store *store_on_group(void)
{
    return store_with(500);
}

/* 1 when the data node at `port` holds the session `key` of store `s`. */
static int node_has(csession_store *s, int port, const char *key)
{
    char rkey[200];
    store_redis_prefix(s, rkey, sizeof rkey);
    strcat(rkey, key);
    redisReply *r = redis_test_command(port, PASSWORD, "EXISTS %s", rkey);
    assert_non_null(r);
    int has = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return has;
}

static void test_master_found(void **state)
{
    (void)state;
    int master = sentinel_group_wait_settled(&group, 30000);
    assert_true(master > 0);
    csession_store *s = store_on_group();
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65], text[32];
    assert_int_equal(async_save(s, &pl, "on the master", key), 0);
    assert_true(node_has(s, master, key));
    assert_int_equal(async_load(s, &pl, key, text, sizeof text, NULL), 0);
    assert_string_equal(text, "on the master");
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.discoveries, 1);
    assert_int_equal(st.master_changes, 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

#define IN_FLIGHT 8

static void test_failover(void **state)
{
    (void)state;
    int old_master = sentinel_group_wait_settled(&group, 30000);
    assert_true(old_master > 0);
    csession_store *s = store_on_group();
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char first[65];
    assert_int_equal(async_save(s, &pl, "before", first), 0);
    /* On the replica too before the failover (the store does not wait here). */
    redisReply *w = redis_test_command(old_master, PASSWORD, "WAIT 1 2000");
    assert_non_null(w);
    assert_int_equal(w->integer, 1);
    freeReplyObject(w);

    redisReply *r = redis_test_command(group.sentinels[0].port, SENTINEL_PASSWORD,
                                       "SENTINEL FAILOVER %s", NAME);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("SENTINEL FAILOVER: %s", r->str);
    freeReplyObject(r);
    long long failover_at = test_now_ms();

    /* Saves, IN_FLIGHT at a time, until one lands on another master. */
    static async_call calls[IN_FLIGHT];
    int running[IN_FLIGHT] = {0};
    long ok = 0, failed = 0;
    int new_master = 0;
    char moved_key[65] = "";
    long long switched_at = 0, moved_at = 0;
    while (!moved_key[0] && test_now_ms() - failover_at < 30000) {
        if (!switched_at && store_redis_stats(s).master_changes >= 1)
            switched_at = test_now_ms();
        for (int i = 0; i < IN_FLIGHT; i++) {
            if (running[i] && calls[i].done) {
                running[i] = 0;
                if (calls[i].code == 0) {
                    ok++;
                    int m = sentinel_group_master_port(&group, 0);
                    char key[65];
                    memcpy(key, calls[i].key.ptr, 64);
                    key[64] = '\0';
                    if (!moved_key[0] && m > 0 && m != old_master &&
                        store_redis_stats(s).master_changes >= 1 && node_has(s, m, key)) {
                        new_master = m;
                        moved_at = test_now_ms();
                        memcpy(moved_key, key, sizeof key);
                    }
                } else if (calls[i].code == CSESSION_ESTORE ||
                           calls[i].code == CSESSION_ETIMEOUT) {
                    failed++;
                } else {
                    fail_msg("%s: %s", csession_strerror(calls[i].code), calls[i].message);
                }
                async_call_dispose(&calls[i]);
            }
            if (!running[i] && !moved_key[0]) {
                async_call_init(&calls[i], &pl.loop, CSESSION_CALL_SAVE, NULL, "after", TTL);
                async_start(s, &calls[i]);
                running[i] = 1;
            }
        }
        csession__poll_loop_run_once(&pl, 50);
    }
    /* Let the last ones finish. */
    async_call *left[IN_FLIGHT];
    size_t n = 0;
    for (int i = 0; i < IN_FLIGHT; i++)
        if (running[i])
            left[n++] = &calls[i];
    async_run_all(&pl, left, n, 20000);
    for (size_t i = 0; i < n; i++)
        async_call_dispose(left[i]);
    csession__redis_stats st = store_redis_stats(s);
    fprintf(stderr, "non-blocking failover: %ld saves, %ld failed; the store switched after "
                    "%lld ms, saves on the new master after %lld ms\n",
            ok, failed, switched_at ? switched_at - failover_at : -1,
            moved_at ? moved_at - failover_at : -1);
    assert_true(moved_key[0]);
    /* Saves follow the switch at once, not only once the old master is
     * demoted (some ten seconds later). */
    assert_true(switched_at > 0 && moved_at - switched_at < 3000);
    assert_true(new_master != old_master);
    assert_true(st.master_changes >= 1);
    /* The session saved before is on the new master too (replicated). */
    char text[32];
    int rc = async_load(s, &pl, first, text, sizeof text, NULL);
    if (rc != 0)
        fail_msg("load after the failover: %s", csession_strerror(rc));
    assert_string_equal(text, "before");
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

/* ---- sentinels that do not answer: the loop does not wait for them -------- */

static void test_sentinels_stalled(void **state)
{
    (void)state;
    int master = sentinel_group_wait_settled(&group, 30000);
    assert_true(master > 0);
    /* A sentinel that accepts but never answers would hold a blocking
     * check for the connect timeout: 1.5 s. */
    csession_store *s = store_with(1500);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "x", key), 0);
    for (int i = 0; i < SENTINELS; i++)
        redis_server_pause(&group.sentinels[i]);

    ticker t;
    ticker_start(&t, &pl.loop);
    /* Loads for 2.5 s: two or three checks fall due meanwhile. */
    long long t0 = test_now_ms();
    long loads = 0;
    while (test_now_ms() - t0 < 2500) {
        async_call c;
        async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
        if (async_run(s, &pl, &c) != 0)
            fail_msg("load with the sentinels stalled: %s", c.message);
        async_call_dispose(&c);
        loads++;
        csession__poll_loop_run_once(&pl, 20);
    }
    for (int i = 0; i < SENTINELS; i++)
        redis_server_resume(&group.sentinels[i]);
    fprintf(stderr, "sentinels stalled: %ld loads in 2.5 s; the 10 ms timer fired %d times, "
                    "at worst %lld ms late\n", loads, t.ticks, t.worst_late);
    assert_true(t.worst_late < 700);
    assert_true(t.ticks > 2500 / 10 / 4);
    pl.loop.timer_close(&pl.loop, t.timer);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

/* The first call of a store needs the master: with every sentinel stalled,
 * the lookup waits on the loop, not in it, and ends with ETIMEOUT. */
static void test_first_call_sentinels_stalled(void **state)
{
    (void)state;
    int master = sentinel_group_wait_settled(&group, 30000);
    assert_true(master > 0);
    csession_store *s = store_with(300);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    for (int i = 0; i < SENTINELS; i++)
        redis_server_pause(&group.sentinels[i]);
    ticker t;
    ticker_start(&t, &pl.loop);
    async_call c, d, e;
    async_call_init(&c, &pl.loop, CSESSION_CALL_SAVE, NULL, "x", TTL);
    async_call_init(&d, &pl.loop, CSESSION_CALL_SAVE, NULL, "y", TTL);
    async_call_init(&e, &pl.loop, CSESSION_CALL_SAVE, NULL, "z", TTL);
    long long t0 = test_now_ms();
    async_start(s, &c);
    async_start(s, &e);
    async_start(s, &d); /* all three wait for the same lookup */
    s->cancel(s, &e.call); /* leaves the queue: never completes */
    async_call *wait[] = {&c, &d};
    async_run_all(&pl, wait, 2, 20000);
    long long took = test_now_ms() - t0;
    for (int i = 0; i < SENTINELS; i++)
        redis_server_resume(&group.sentinels[i]);
    fprintf(stderr, "first call, sentinels stalled: %s after %lld ms (%s); the 10 ms timer "
                    "fired %d times, at worst %lld ms late\n",
            csession_strerror(c.code), took, c.message, t.ticks, t.worst_late);
    assert_int_equal(c.code, CSESSION_ETIMEOUT);
    assert_int_equal(d.code, CSESSION_ETIMEOUT);
    assert_true(c.order < d.order);
    assert_int_equal(e.done, 0);
    assert_non_null(strstr(c.message, "no master"));
    /* Each sentinel given the connect timeout, one after the other. */
    assert_true(took >= SENTINELS * 300 && took < SENTINELS * 300 + 1500);
    assert_true(t.worst_late < 300);
    assert_true(t.ticks > took / 10 / 4);
    pl.loop.timer_close(&pl.loop, t.timer);
    async_call_dispose(&c);
    async_call_dispose(&d);
    async_call_dispose(&e);
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.discoveries, 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

static int setup(void **state)
{
    (void)state;
    return sentinel_group_start(&group, NAME, PASSWORD, SENTINEL_PASSWORD);
}

static int teardown(void **state)
{
    (void)state;
    sentinel_group_stop(&group);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_found),
        cmocka_unit_test(test_failover),
        /* Last: stopped sentinels go into TILT mode for a while after. */
        cmocka_unit_test(test_sentinels_stalled),
        cmocka_unit_test(test_first_call_sentinels_stalled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
