/* The Redis store's non-blocking calls on a Redis Cluster of its own
 * (three masters): routing by slot, and a slot migrated by hand (ASK, then
 * MOVED), with calls on a poll() loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "redis_async_calls.h"
#include "redis_topology.h"
#include "stores/redis/cluster_slots.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600

static redis_cluster cluster;

static csession_store *store_with(const char *prefix)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = 2000;
    o.pool_size = 4;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, cluster.url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", cluster.url, csession_last_error());
    return s;
}

static redisReply *on_node(int i, const char *fmt, ...)
{
    redisContext *c = redis_test_connect_port(cluster.nodes[i].port, NULL);
    assert_non_null(c);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static void ok_on_node(int i, const char *fmt, const char *a, const char *b)
{
    redisReply *r = on_node(i, fmt, a, b);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("node %d: %s", i, r->str);
    freeReplyObject(r);
}

/* A hash tag whose slot node `owner` serves. */
static unsigned int tag_on(int owner, char *tag, size_t size)
{
    for (int n = 0;; n++) {
        snprintf(tag, size, "a%d-%ld", n, (long)getpid());
        unsigned int slot = csession__redis_key_slot(tag, strlen(tag));
        if (redis_cluster_owner(&cluster, slot) == owner)
            return slot;
    }
}

static void expect_loaded(csession_store *s, csession__poll_loop *pl, const char *key,
                          const char *expected)
{
    char text[64];
    int rc = async_load(s, pl, key, text, sizeof text, NULL);
    if (rc != 0)
        fail_msg("load: %s", csession_strerror(rc));
    assert_string_equal(text, expected);
}

#define SESSIONS 90

static void test_routing(void **state)
{
    (void)state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "aroute:%ld:", (long)getpid());
    csession_store *s = store_with(prefix);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    static async_call calls[SESSIONS];
    async_call *all[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        async_call_init(&calls[i], &pl.loop, CSESSION_CALL_SAVE, NULL, "x", TTL);
        all[i] = &calls[i];
        async_start(s, &calls[i]);
    }
    async_run_all(&pl, all, SESSIONS, 20000);
    int per_node[CLUSTER_NODES] = {0};
    for (int i = 0; i < SESSIONS; i++) {
        assert_int_equal(calls[i].code, 0);
        char rkey[160];
        snprintf(rkey, sizeof rkey, "%s%.64s", prefix, calls[i].key.ptr);
        int owner = redis_cluster_owner(&cluster, csession__redis_key_slot(rkey, strlen(rkey)));
        assert_true(owner >= 0);
        redisReply *r = on_node(owner, "EXISTS %s", rkey);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
        per_node[owner]++;
        async_call_dispose(&calls[i]);
    }
    for (int i = 0; i < CLUSTER_NODES; i++)
        assert_true(per_node[i] > 5);
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.nodes, 3);
    assert_int_equal(st.refreshes, 1);
    assert_int_equal(st.moved, 0);
    /* One loop connection per node (and none of the pool's). */
    assert_int_equal(st.opened, 3);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

static void test_ask_then_moved(void **state)
{
    (void)state;
    char tag[32], prefix[64];
    unsigned int slot = tag_on(0, tag, sizeof tag);
    snprintf(prefix, sizeof prefix, "{%s}:", tag);
    csession_store *s = store_with(prefix);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char k1[65], k2[65], rkey[160], slot_text[16];
    snprintf(slot_text, sizeof slot_text, "%u", slot);
    assert_int_equal(async_save(s, &pl, "one", k1), 0);

    ok_on_node(1, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[0]);
    ok_on_node(0, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[1]);
    expect_loaded(s, &pl, k1, "one");
    assert_int_equal(store_redis_stats(s).ask, 0);
    /* A new key in a migrating slot goes to the target: ASK, then ASKING. */
    assert_int_equal(async_save(s, &pl, "two", k2), 0);
    assert_int_equal(store_redis_stats(s).ask, 1);
    expect_loaded(s, &pl, k2, "two");
    assert_int_equal(store_redis_stats(s).ask, 2);

    snprintf(rkey, sizeof rkey, "%s%s", prefix, k1);
    char port[16];
    snprintf(port, sizeof port, "%d", cluster.nodes[1].port);
    redisReply *r = on_node(0, "MIGRATE 127.0.0.1 %s %b 0 5000 KEYS %s", port, "", (size_t)0, rkey);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    /* A conditional write of the migrated key follows ASK too. */
    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_UPDATE, k1, "uno", TTL);
    assert_int_equal(async_run(s, &pl, &c), 0);
    assert_memory_equal(c.key.ptr, k1, 64);
    async_call_dispose(&c);
    assert_int_equal(store_redis_stats(s).ask, 3);

    /* The slot is the target's: MOVED once, then straight there. */
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[1]);
    expect_loaded(s, &pl, k1, "uno");
    assert_int_equal(store_redis_stats(s).moved, 1);
    expect_loaded(s, &pl, k2, "two");
    async_call_init(&c, &pl.loop, CSESSION_CALL_REMOVE, k2, NULL, 0);
    assert_int_equal(async_run(s, &pl, &c), 0);
    async_call_dispose(&c);
    assert_int_equal(store_redis_stats(s).moved, 1);
    assert_int_equal(store_redis_stats(s).ask, 3);

    /* The map load that MOVED asked for, due a second after the last one,
     * goes on the loop: not made inside start, loaded from the loop. */
    unsigned long refreshes = store_redis_stats(s).refreshes;
    long long t0 = test_now_ms();
    while (test_now_ms() - t0 < 1100)
        csession__poll_loop_run_once(&pl, (int)(1100 - (test_now_ms() - t0)) + 1);
    async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, k1, NULL, 0);
    async_start(s, &c);
    assert_int_equal(store_redis_stats(s).refreshes, refreshes);
    async_call *wait[] = {&c};
    async_run_all(&pl, wait, 1, 20000);
    assert_int_equal(c.code, 0);
    async_call_dispose(&c);
    for (int i = 0; i < 100 && store_redis_stats(s).refreshes == refreshes; i++)
        csession__poll_loop_run_once(&pl, 50);
    assert_int_equal(store_redis_stats(s).refreshes, refreshes + 1);
    expect_loaded(s, &pl, k1, "uno");
    assert_int_equal(store_redis_stats(s).moved, 1);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);

    /* Give it back, so that the cluster is as created. */
    ok_on_node(0, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[1]);
    ok_on_node(1, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[0]);
    r = on_node(1, "MIGRATE 127.0.0.1 %d %b 0 5000 KEYS %s", cluster.nodes[0].port, "",
                (size_t)0, rkey);
    freeReplyObject(r);
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[0]);
    assert_int_equal(redis_cluster_wait_ok(&cluster, 10000), 0);
}

/* ---- nodes that do not answer: the first call's map load waits on the loop -- */

static void test_first_call_nodes_stalled(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = 300;
    o.command_timeout_ms = 300;
    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(&s, cluster.url, &o), 0);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    for (int i = 0; i < CLUSTER_NODES; i++)
        redis_server_pause(&cluster.nodes[i]);
    ticker t;
    ticker_start(&t, &pl.loop);
    async_call c, d;
    async_call_init(&c, &pl.loop, CSESSION_CALL_SAVE, NULL, "x", TTL);
    async_call_init(&d, &pl.loop, CSESSION_CALL_SAVE, NULL, "y", TTL);
    long long t0 = test_now_ms();
    async_start(s, &c);
    async_start(s, &d); /* waits for the same load */
    async_call *wait[] = {&c, &d};
    async_run_all(&pl, wait, 2, 20000);
    long long took = test_now_ms() - t0;
    for (int i = 0; i < CLUSTER_NODES; i++)
        redis_server_resume(&cluster.nodes[i]);
    fprintf(stderr, "first call, nodes stalled: %s after %lld ms (%s); the 10 ms timer fired "
                    "%d times, at worst %lld ms late\n",
            csession_strerror(c.code), took, c.message, t.ticks, t.worst_late);
    assert_int_equal(c.code, CSESSION_ETIMEOUT);
    assert_int_equal(d.code, CSESSION_ETIMEOUT);
    assert_true(c.order < d.order);
    assert_non_null(strstr(c.message, "no node gave the slot map"));
    /* Each seed given its timeout, one after the other. */
    assert_true(took >= CLUSTER_NODES * 300 && took < CLUSTER_NODES * 300 + 1500);
    assert_true(t.worst_late < 300);
    assert_true(t.ticks > took / 10 / 4);
    pl.loop.timer_close(&pl.loop, t.timer);
    async_call_dispose(&c);
    async_call_dispose(&d);

    /* Back: the next call loads the map and is stored. */
    assert_int_equal(redis_cluster_wait_ok(&cluster, 30000), 0);
    char key[65];
    assert_int_equal(async_save(s, &pl, "z", key), 0);
    expect_loaded(s, &pl, key, "z");
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

static int setup(void **state)
{
    (void)state;
    return redis_cluster_start(&cluster);
}

static int teardown(void **state)
{
    (void)state;
    redis_cluster_stop(&cluster);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_ask_then_moved),
        cmocka_unit_test(test_first_call_nodes_stalled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
