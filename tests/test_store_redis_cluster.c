/* The Redis store on a Redis Cluster of three masters of its own: routing
 * by hash slot, ASK and MOVED while a slot migrates by hand, a redirection
 * loop, a node that goes away, prefork workers, the store conformance
 * suite, and a resharding by redis-cli while threads read and write
 * sessions. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conformance.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "log_capture.h"
#include "prefork.h"
#include "redis_topology.h"
#include "stores/redis/cluster_slots.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600

static redis_cluster cluster;

static csession_store *store_with_pool(const char *prefix, unsigned int pool_size)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = 2000;
    o.pool_size = pool_size;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, cluster.url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", cluster.url, csession_last_error());
    return s;
}

static csession_store *store_with(const char *prefix)
{
    return store_with_pool(prefix, 8);
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

/* A hash tag "tN" whose slot node `owner` serves. */
static unsigned int tag_on(int owner, char *tag, size_t size, int skip)
{
    for (int n = 0;; n++) {
        snprintf(tag, size, "t%d-%ld", n, (long)getpid());
        unsigned int slot = csession__redis_key_slot(tag, strlen(tag));
        if (redis_cluster_owner(&cluster, slot) == owner && skip-- == 0)
            return slot;
    }
}

/* ---- routing ---------------------------------------------------------------- */

static void test_routing(void **state)
{
    (void)state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "route:%ld:", (long)getpid());
    static log_capture logged;
    log_capture_start(&logged);
    csession_store *s = store_with(prefix);
    int per_node[CLUSTER_NODES] = {0};
    for (int i = 0; i < 300; i++) {
        char key[65], rkey[160];
        store_save_str(s, "x", TTL, key);
        snprintf(rkey, sizeof rkey, "%s%s", prefix, key);
        /* Our slot is the cluster's, and the key is on the slot's owner. */
        redisReply *r = on_node(0, "CLUSTER KEYSLOT %s", rkey);
        unsigned int slot = csession__redis_key_slot(rkey, strlen(rkey));
        assert_int_equal(r->integer, slot);
        freeReplyObject(r);
        int owner = redis_cluster_owner(&cluster, slot);
        assert_true(owner >= 0);
        r = on_node(owner, "EXISTS %s", rkey);
        assert_int_equal(r->integer, 1);
        freeReplyObject(r);
        per_node[owner]++;
        store_expect_str(s, key, "x");
        assert_int_equal(s->remove(s, key, 64), 0);
        store_expect_str(s, key, NULL);
    }
    for (int i = 0; i < CLUSTER_NODES; i++)
        assert_true(per_node[i] > 30); /* spread over the three */
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.nodes, 3);
    assert_int_equal(st.refreshes, 1); /* one map, learnt before the first command */
    assert_int_equal(st.moved, 0);
    assert_int_equal(st.ask, 0);
    assert_true(st.opened >= 3 && st.opened <= 3 * 8);
    /* The one map load was logged, from a seed of the URL. */
    log_capture_stop(&logged);
    if (log_capture_find(&logged, CSESSION_LOG_INFO,
                         "Redis Cluster: slot map loaded from 127.0.0.1:") != 1 ||
        log_capture_find(&logged, CSESSION_LOG_INFO, ": 3 nodes known (0 MOVED and 0 ASK") != 1 ||
        logged.count != 1) {
        log_capture_print(&logged);
        fail_msg("expected one message about the slot map");
    }
    csession_store_free(s);
}

/* ---- ASK and MOVED ------------------------------------------------------------ */

/* Slot `slot` from node a to node b by hand, the way redis-cli does it,
 * one step at a time, with the store in between. */
static void test_ask_then_moved(void **state)
{
    (void)state;
    char tag[32], prefix[64];
    unsigned int slot = tag_on(0, tag, sizeof tag, 0);
    snprintf(prefix, sizeof prefix, "{%s}:", tag); /* every session in that slot */
    csession_store *s = store_with(prefix);
    char k1[65], k2[65], rkey[160], slot_text[16];
    snprintf(slot_text, sizeof slot_text, "%u", slot);
    store_save_str(s, "one", TTL, k1);
    assert_int_equal(store_redis_stats(s).refreshes, 1);

    ok_on_node(1, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[0]);
    ok_on_node(0, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[1]);
    /* Still on the source: served there, no redirect. */
    store_expect_str(s, k1, "one");
    assert_int_equal(store_redis_stats(s).ask, 0);
    /* A new key in a migrating slot goes to the target: ASK, then ASKING. */
    store_save_str(s, "two", TTL, k2);
    assert_int_equal(store_redis_stats(s).ask, 1);
    store_expect_str(s, k2, "two");
    assert_int_equal(store_redis_stats(s).ask, 2);
    assert_int_equal(store_redis_stats(s).moved, 0); /* ASK leaves the map alone */

    /* The old key moves too: then it is asked for on the target as well. */
    snprintf(rkey, sizeof rkey, "%s%s", prefix, k1);
    char port[16];
    snprintf(port, sizeof port, "%d", cluster.nodes[1].port);
    redisReply *r = on_node(0, "MIGRATE 127.0.0.1 %s %b 0 5000 KEYS %s", port, "", (size_t)0, rkey);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    store_expect_str(s, k1, "one");
    assert_int_equal(store_redis_stats(s).ask, 3);
    /* An update of a migrated key: SET XX finds it on the target. */
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, k1, 64, "uno", 3, TTL, &k), 0);
    assert_memory_equal(k.ptr, k1, 64);
    csession_buf_dispose(&k);

    /* The slot is the target's: MOVED once, then straight there. */
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[1]);
    unsigned long ask = store_redis_stats(s).ask;
    store_expect_str(s, k1, "uno");
    assert_int_equal(store_redis_stats(s).moved, 1);
    store_expect_str(s, k2, "two");
    assert_int_equal(s->remove(s, k2, 64), 0);
    store_expect_str(s, k2, NULL);
    assert_int_equal(store_redis_stats(s).moved, 1);
    assert_int_equal(store_redis_stats(s).ask, ask);
    assert_int_equal(s->remove(s, k1, 64), 0);
    csession_store_free(s);

    /* Give it back, so that the cluster is as created. */
    ok_on_node(0, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[1]);
    ok_on_node(1, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[0]);
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[0]);
    assert_int_equal(redis_cluster_wait_ok(&cluster, 10000), 0);
}

/* Two nodes that each say the other serves a slot: the store stops after
 * five redirections instead of bouncing forever. */
static void test_redirect_loop(void **state)
{
    (void)state;
    char tag[32], prefix[64], slot_text[16];
    unsigned int slot = tag_on(0, tag, sizeof tag, 1);
    snprintf(prefix, sizeof prefix, "{%s}:", tag);
    snprintf(slot_text, sizeof slot_text, "%u", slot);
    csession_store *s = store_with(prefix);
    char key[65];
    store_save_str(s, "v", TTL, key);
    assert_int_equal(s->remove(s, key, 64), 0); /* node 0 may hand over an empty slot */

    /* Node 0 thinks node 1 has it; node 1 still thinks node 0 has it. */
    ok_on_node(0, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[1]);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, key, 64, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "more than 5 Redis Cluster redirections"));
    assert_non_null(strstr(csession_last_error(), "MOVED"));
    /* six answers, five followed */
    assert_int_equal(store_redis_stats(s).moved, 6);
    csession_buf_dispose(&b);
    csession_store_free(s);

    ok_on_node(0, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[0]);
    assert_int_equal(redis_cluster_wait_ok(&cluster, 10000), 0);
}

/* A node that goes away: its slots fail fast, the others keep working; it
 * comes back and the store uses it again by itself. */
static void test_node_down(void **state)
{
    (void)state;
    char tag_up[32], tag_down[32], p_up[64], p_down[64];
    tag_on(0, tag_up, sizeof tag_up, 2);
    tag_on(2, tag_down, sizeof tag_down, 0);
    snprintf(p_up, sizeof p_up, "{%s}:", tag_up);
    snprintf(p_down, sizeof p_down, "{%s}:", tag_down);
    csession_store *up = store_with(p_up);
    csession_store *down = store_with(p_down);
    char ku[65], kd[65];
    store_save_str(up, "up", TTL, ku);
    store_save_str(down, "down", TTL, kd);

    redis_server_kill(&cluster.nodes[2]);
    csession_buf b = CSESSION_BUF_INIT;
    long long t0 = test_now_ms();
    assert_int_equal(down->load(down, kd, 64, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "cannot connect to Redis at 127.0.0.1:"));
    assert_true(test_now_ms() - t0 < 3000);
    store_expect_str(up, ku, "up");
    /* The failure made the store load the map again, from a live node. */
    assert_true(store_redis_stats(down).refreshes >= 2);

    assert_int_equal(redis_server_restart(&cluster.nodes[2]), 0);
    assert_int_equal(redis_cluster_wait_ok(&cluster, 20000), 0);
    /* The node kept nothing (no persistence), but serves its slots again. */
    store_expect_str(down, kd, NULL);
    store_save_str(down, "again", TTL, kd);
    store_expect_str(down, kd, "again");
    assert_int_equal(down->remove(down, kd, 64), 0);
    assert_int_equal(up->remove(up, ku, 64), 0);
    csession_buf_dispose(&b);
    csession_store_free(up);
    csession_store_free(down);
}

/* ---- fork() ------------------------------------------------------------------ */

/* Workers forked when the parent holds a connection to every node: four
 * workers on three nodes, so that two at least have their sessions on the
 * same node (prefork.h). */
static void prefork_with_pool(unsigned int pool_size)
{
    csession_store *s = store_with_pool(NULL, pool_size);
    csession_manager *mgr = prefork_manager(s);
    prefork_run(mgr, s, 4, 2000, CLUSTER_NODES, NULL);
    csession_manager_free(mgr);
}

static void test_prefork(void **state)
{
    prefork_with_pool(*(unsigned int *)*state);
}

/* ---- the conformance suite ------------------------------------------------------- */

static unsigned int stores_made;

static int conformance_store(csession_store **out, void *ctx)
{
    (void)ctx;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "conformance:%ld:%u:", (long)getpid(), ++stores_made);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    return csession_store_redis_new(out, cluster.url, &o);
}

/* Every key under the store's prefix, on every node, gets `seconds` older. */
static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)ctx;
    for (int n = 0; n < CLUSTER_NODES; n++) {
        redisContext *c = redis_test_connect_port(cluster.nodes[n].port, NULL);
        assert_non_null(c);
        store_redis_age(store, c, seconds);
        redisFree(c);
    }
}

/* ---- resharding under load ------------------------------------------------------ */

#define WORKERS 4
#define MAX_SESSIONS 20000

typedef struct tracked {
    char key[65];
    int value;
} tracked;

typedef struct worker {
    csession_store *store;
    int id;
    atomic_int *stop;
    tracked *sessions;
    int count;
    long ops;
    int failures;
    long long last_failure_ms;
    char message[256];
} worker;

static int state_of(char *buf, size_t size, int id, int value)
{
    return snprintf(buf, size, "{\"w\":%d,\"v\":%d}", id, value);
}

static void worker_fail(worker *w, const char *what)
{
    w->last_failure_ms = test_now_ms();
    if (w->failures++ == 0)
        snprintf(w->message, sizeof w->message, "worker %d: %s: %s", w->id, what,
                 csession_last_error());
}

/* Saves a new session and tracks it; `k` receives its key. */
static void save_new(worker *w, csession_buf *k)
{
    char st[64];
    int n = state_of(st, sizeof st, w->id, 0);
    if (w->store->save(w->store, st, (size_t)n, TTL, k) != 0) {
        worker_fail(w, "save");
        return;
    }
    tracked *t = &w->sessions[w->count++];
    memcpy(t->key, k->ptr, 65);
    t->value = 0;
}

/* Saves new sessions, reads back and updates its own: every answer is
 * checked against what was last stored. It runs until told to stop, not
 * until the table is full: a fast machine fills the table before the
 * resharding ends; then it goes on reading and updating. */
static void *work(void *arg)
{
    worker *w = arg;
    csession_store *s = w->store;
    csession_buf k = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    char st[64];
    unsigned int seed = (unsigned int)w->id * 7919u + 1;
    while (!atomic_load(w->stop)) {
        if (w->count < MAX_SESSIONS)
            save_new(w, &k);
        seed = seed * 1103515245u + 12345u;
        tracked *o = &w->sessions[(seed >> 8) % (unsigned int)(w->count ? w->count : 1)];
        if (w->count == 0)
            continue;
        int rc = s->load(s, o->key, 64, &b);
        int n = state_of(st, sizeof st, w->id, o->value);
        if (rc != 0)
            worker_fail(w, "load");
        else if (b.size != (size_t)n || memcmp(b.ptr, st, (size_t)n) != 0)
            worker_fail(w, "load gave another value");
        n = state_of(st, sizeof st, w->id, o->value + 1);
        if (s->update(s, o->key, 64, st, (size_t)n, TTL, &k) != 0)
            worker_fail(w, "update");
        else if (memcmp(k.ptr, o->key, 64) != 0)
            worker_fail(w, "update changed the key");
        else
            o->value++;
        w->ops += 3;
    }
    csession_buf_dispose(&k);
    csession_buf_dispose(&b);
    return NULL;
}

static int slots_of(int node)
{
    return redis_cluster_slots_of(&cluster, node);
}

static void test_reshard_under_load(void **state)
{
    (void)state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "reshard:%ld:", (long)getpid());
    csession_store *s = store_with(prefix);
    int before0 = slots_of(0), before1 = slots_of(1);
    static atomic_int stop;
    atomic_store(&stop, 0);
    static worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (worker){s, i, &stop, calloc(MAX_SESSIONS, sizeof(tracked)), 0, 0, 0, 0, ""};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    test_sleep_ms(300);

    char from_addr[32];
    snprintf(from_addr, sizeof from_addr, "127.0.0.1:%d", cluster.nodes[0].port);
    const char *reshard[] = {"--cluster", "reshard", from_addr, "--cluster-from",
                             cluster.ids[0], "--cluster-to", cluster.ids[1],
                             "--cluster-slots", "2000", "--cluster-yes", NULL};
    long long t0 = test_now_ms();
    int status = redis_cli_wait(redis_cli_spawn(reshard));
    long long migrated_at = test_now_ms();
    /* Settled: every node agrees; then one more second of traffic. */
    assert_int_equal(redis_cluster_wait_ok(&cluster, 20000), 0);
    long long settled_at = test_now_ms();
    test_sleep_ms(1000);
    atomic_store(&stop, 1);
    long ops = 0;
    int failures = 0, sessions = 0;
    long long last_failure = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        ops += w[i].ops;
        sessions += w[i].count;
        failures += w[i].failures;
        if (w[i].failures)
            fprintf(stderr, "%s (%d failures)\n", w[i].message, w[i].failures);
        if (w[i].last_failure_ms > last_failure)
            last_failure = w[i].last_failure_ms;
    }
    csession__redis_stats st = store_redis_stats(s);
    fprintf(stderr,
            "resharding 2000 slots took %lld ms; %ld operations on %d sessions meanwhile; "
            "%lu MOVED, %lu ASK, %lu slot maps loaded, %d failures\n",
            migrated_at - t0, ops, sessions, st.moved, st.ask, st.refreshes, failures);
    assert_int_equal(status, 0);
    assert_int_equal(slots_of(0), before0 - 2000);
    assert_int_equal(slots_of(1), before1 + 2000);
    /* Redirects were followed, and nothing failed once it settled. */
    assert_true(st.moved + st.ask > 0);
    assert_true(last_failure < settled_at);
    assert_int_equal(failures, 0);

    /* Nothing lost: every session reads back with its last value, through
     * this store and through a new one that learns the new map. */
    csession_store *fresh = store_with(prefix);
    csession_buf b = CSESSION_BUF_INIT;
    char expected[64];
    for (int i = 0; i < WORKERS; i++) {
        for (int j = 0; j < w[i].count; j++) {
            int n = state_of(expected, sizeof expected, i, w[i].sessions[j].value);
            csession_store *via = j % 2 ? fresh : s;
            if (via->load(via, w[i].sessions[j].key, 64, &b) != 0)
                fail_msg("session %d/%d: %s", i, j, csession_last_error());
            assert_int_equal(b.size, (size_t)n);
            assert_memory_equal(b.ptr, expected, (size_t)n);
            assert_int_equal(s->remove(s, w[i].sessions[j].key, 64), 0);
        }
        free(w[i].sessions);
    }
    csession_buf_dispose(&b);
    csession_store_free(fresh);
    csession_store_free(s);
}

int main(void)
{
    if (redis_cluster_start(&cluster) != 0) {
        redis_cluster_stop(&cluster);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_ask_then_moved),
        cmocka_unit_test(test_redirect_loop),
        cmocka_unit_test(test_node_down),
        PREFORK_TESTS(test_prefork),
    };
    int failed = cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
    conformance_target target = {"redis cluster", conformance_store, advance_time, NULL, 1, NULL};
    failed += conformance_run(&target);
    const struct CMUnitTest load[] = {
        cmocka_unit_test(test_reshard_under_load),
    };
    failed += cmocka_run_group_tests_name("cluster resharding", load, NULL, NULL);
    redis_cluster_stop(&cluster);
    return failed;
}
