/*
 * The Redis store through Sentinel and Cluster with every server listening
 * with TLS only (tests/support/redis_topology.h): a master, a replica and
 * three sentinels replicating and gossiping over TLS, found through
 * rediss+sentinel:// and followed through a SENTINEL FAILOVER, blocking and
 * on a poll() loop; and a three-master cluster with tls-cluster yes, used
 * through rediss+cluster://, with a slot holding a live session moved from
 * one master to another (MIGRATE between nodes over TLS) while the store
 * loads and saves, following ASK and then MOVED.
 */
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
#include "tls_certs.h"

#define TTL 3600
#define NAME "tls-sessions"
/* Bound of every wait for the topology to change. */
#define WAIT_MS 30000

static tls_certs certs;
static sentinel_group group;
static redis_cluster cluster;

static csession_store *store_for(const char *url, const char *prefix)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = 2000;
    o.pool_size = 4;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", url, csession_last_error());
    return s;
}

/* 1 when the server on `port` holds the session `key` of store `s`. */
static int node_has(csession_store *s, int port, const char *key)
{
    char rkey[200];
    store_redis_prefix(s, rkey, sizeof rkey);
    strcat(rkey, key);
    redisReply *r = redis_test_command(port, NULL, "EXISTS %s", rkey);
    assert_non_null(r);
    int has = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return has;
}

/* ---- Sentinel --------------------------------------------------------------------- */

static csession_store *sentinel_store(void)
{
    char url[1024];
    snprintf(url, sizeof url, "rediss+sentinel://%s/" NAME "?tls_ca_file=%s", group.hosts,
             certs.ca);
    return store_for(url, NULL);
}

/* A save through `s`, blocking (pl NULL) or on the loop: its code, the
 * key in `key` when it worked. */
static int save_once(csession_store *s, csession__poll_loop *pl, const char *state,
                     char key[65])
{
    if (pl)
        return async_save(s, pl, state, key);
    csession_buf k = CSESSION_BUF_INIT;
    int rc = s->save(s, state, strlen(state), TTL, &k);
    if (rc == 0) {
        assert_int_equal(k.size, 64);
        memcpy(key, k.ptr, 64);
        key[64] = '\0';
    }
    csession_buf_dispose(&k);
    return rc;
}

/* The session `key` loads as `expected` through `s`. */
static void load_is(csession_store *s, csession__poll_loop *pl, const char *key,
                    const char *expected)
{
    if (!pl) {
        store_expect_str(s, key, expected);
        return;
    }
    char text[64];
    int rc = async_load(s, pl, key, text, sizeof text, NULL);
    if (rc != 0)
        fail_msg("load: %s", csession_strerror(rc));
    assert_string_equal(text, expected);
}

/*
 * Save and load through the TLS sentinels, then SENTINEL FAILOVER: saves go
 * on (some may fail while the roles change) until one lands on the new
 * master, and what was saved before loads from there.
 */
static void failover_with(csession__poll_loop *pl)
{
    int old_master = sentinel_group_wait_settled(&group, WAIT_MS);
    assert_true(old_master > 0);
    csession_store *s = sentinel_store();
    char first[65];
    assert_int_equal(save_once(s, pl, "before", first), 0);
    assert_true(node_has(s, old_master, first));
    load_is(s, pl, first, "before");
    redisReply *w = redis_test_command(old_master, NULL, "WAIT 1 2000");
    assert_non_null(w);
    assert_int_equal(w->integer, 1);
    freeReplyObject(w);

    redisReply *r = redis_test_command(group.sentinels[0].port, NULL,
                                       "SENTINEL FAILOVER %s", NAME);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("SENTINEL FAILOVER: %s", r->str);
    freeReplyObject(r);
    long long failover_at = test_now_ms();

    int new_master = 0;
    long ok = 0, failed = 0;
    char key[65];
    while (!new_master && test_now_ms() - failover_at < WAIT_MS) {
        int rc = save_once(s, pl, "after", key);
        if (rc == CSESSION_ESTORE || rc == CSESSION_ETIMEOUT) {
            failed++;
            continue;
        }
        if (rc != 0)
            fail_msg("save during the failover: %s", csession_strerror(rc));
        ok++;
        int m = sentinel_group_master_port(&group, 0);
        if (m > 0 && m != old_master && node_has(s, m, key))
            new_master = m;
    }
    fprintf(stderr, "%s failover over TLS: %ld saves, %ld failed, on the new master after "
                    "%lld ms\n", pl ? "non-blocking" : "blocking", ok, failed,
            test_now_ms() - failover_at);
    assert_true(new_master > 0);
    assert_true(store_redis_stats(s).master_changes >= 1);
    assert_false(node_has(s, old_master, key) && !node_has(s, new_master, key));
    load_is(s, pl, key, "after");
    load_is(s, pl, first, "before");
    csession_store_free(s);
    assert_int_equal(sentinel_group_wait_settled(&group, WAIT_MS), new_master);
}

static void test_sentinel_failover(void **state)
{
    (void)state;
    failover_with(NULL);
}

static void test_sentinel_failover_async(void **state)
{
    (void)state;
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    failover_with(&pl);
    csession__poll_loop_dispose(&pl);
}

/* ---- Cluster ---------------------------------------------------------------------- */

static csession_store *cluster_store(const char *prefix)
{
    char url[1024];
    snprintf(url, sizeof url, "%s?tls_ca_file=%s", cluster.url, certs.ca);
    return store_for(url, prefix);
}

static redisReply *on_node(int i, const char *fmt, const char *a, const char *b)
{
    redisReply *r = redis_test_command(cluster.nodes[i].port, NULL, fmt, a, b);
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

/* Sessions land on every master, each on its slot's owner. */
static void test_cluster_spread(void **state)
{
    (void)state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "tls-spread:%ld:", (long)getpid());
    csession_store *s = cluster_store(prefix);
    int per_node[CLUSTER_NODES] = {0};
    for (int i = 0; i < 150; i++) {
        char key[65], rkey[160];
        store_save_str(s, "x", TTL, key);
        snprintf(rkey, sizeof rkey, "%s%s", prefix, key);
        int owner = redis_cluster_owner(&cluster, csession__redis_key_slot(rkey, strlen(rkey)));
        assert_true(owner >= 0);
        assert_true(node_has(s, cluster.nodes[owner].port, key));
        per_node[owner]++;
        store_expect_str(s, key, "x");
    }
    for (int i = 0; i < CLUSTER_NODES; i++)
        assert_true(per_node[i] > 15);
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.nodes, 3);
    assert_int_equal(st.moved, 0);
    csession_store_free(s);
}

/*
 * The slot of a live session from node 0 to node 1, one step at a time as
 * redis-cli does it; the store loads and saves, blocking and on the loop,
 * after each step.
 */
static void test_cluster_reshard(void **state)
{
    (void)state;
    char tag[32], prefix[64], slot_text[16], port[16], rkey[160];
    unsigned int slot = 0;
    for (int n = 0;; n++) {
        snprintf(tag, sizeof tag, "tls%d-%ld", n, (long)getpid());
        slot = csession__redis_key_slot(tag, strlen(tag));
        if (redis_cluster_owner(&cluster, slot) == 0)
            break;
    }
    snprintf(prefix, sizeof prefix, "{%s}:", tag);
    snprintf(slot_text, sizeof slot_text, "%u", slot);
    snprintf(port, sizeof port, "%d", cluster.nodes[1].port);
    csession_store *s = cluster_store(prefix);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char live[65], during[65], during_async[65], after[65];
    store_save_str(s, "live", TTL, live);
    assert_true(node_has(s, cluster.nodes[0].port, live));

    ok_on_node(1, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[0]);
    ok_on_node(0, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[1]);
    load_is(s, NULL, live, "live");
    load_is(s, &pl, live, "live");
    /* New keys of a migrating slot go to the target, after ASK. */
    store_save_str(s, "during", TTL, during);
    assert_int_equal(async_save(s, &pl, "during async", during_async), 0);
    /* (The target answers MOVED to a plain EXISTS until the slot is its
     * own: where they are is checked after the move.) */
    assert_true(store_redis_stats(s).ask >= 2);

    /* The live session moves, node to node over TLS. */
    snprintf(rkey, sizeof rkey, "%s%s", prefix, live);
    redisReply *r = redis_test_command(cluster.nodes[0].port, NULL,
                                       "MIGRATE 127.0.0.1 %s %b 0 5000 KEYS %s", port, "",
                                       (size_t)0, rkey);
    assert_non_null(r);
    if (r->type != REDIS_REPLY_STATUS)
        fail_msg("MIGRATE over TLS: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
    freeReplyObject(r);
    unsigned long ask = store_redis_stats(s).ask;
    load_is(s, NULL, live, "live");
    load_is(s, &pl, live, "live");
    assert_true(store_redis_stats(s).ask >= ask + 2);
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, live, 64, "updated", 7, TTL, &k), 0);
    csession_buf_dispose(&k);

    /* The slot is node 1's: MOVED, then straight there. */
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[1]);
    load_is(s, NULL, live, "updated");
    assert_true(store_redis_stats(s).moved >= 1);
    assert_true(node_has(s, cluster.nodes[1].port, live));
    assert_true(node_has(s, cluster.nodes[1].port, during));
    assert_true(node_has(s, cluster.nodes[1].port, during_async));
    load_is(s, &pl, during_async, "during async");
    load_is(s, NULL, during, "during");
    assert_int_equal(async_save(s, &pl, "after", after), 0);
    assert_true(node_has(s, cluster.nodes[1].port, after));
    load_is(s, NULL, after, "after");
    csession__redis_stats st = store_redis_stats(s);
    fprintf(stderr, "reshard over TLS: %lu ASK and %lu MOVED followed\n", st.ask, st.moved);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);

    /* Give it back, so that the cluster is as created. */
    ok_on_node(0, "CLUSTER SETSLOT %s IMPORTING %s", slot_text, cluster.ids[1]);
    ok_on_node(1, "CLUSTER SETSLOT %s MIGRATING %s", slot_text, cluster.ids[0]);
    for (int i = 0; i < CLUSTER_NODES; i++)
        ok_on_node(i, "CLUSTER SETSLOT %s NODE %s", slot_text, cluster.ids[0]);
    assert_int_equal(redis_cluster_wait_ok(&cluster, 10000), 0);
}

static int setup(void **state)
{
    (void)state;
    if (tls_certs_make(&certs) != 0 || redis_test_use_tls(certs.ca) != 0)
        return -1;
    if (sentinel_group_start_tls(&group, NAME, &certs) != 0)
        return -1;
    return redis_cluster_start_tls(&cluster, &certs);
}

static int teardown(void **state)
{
    (void)state;
    sentinel_group_stop(&group);
    redis_cluster_stop(&cluster);
    redis_test_use_tls(NULL);
    tls_certs_remove(&certs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentinel_failover),
        cmocka_unit_test(test_sentinel_failover_async),
        cmocka_unit_test(test_cluster_spread),
        cmocka_unit_test(test_cluster_reshard),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
