/*
 * A user's sessions on Redis beyond the conformance suite: what a bound
 * session costs in round trips (counted with MONITOR on a private server),
 * two stores (two servers) on one Redis, and on a Redis Cluster of its own
 * the placement of a user's sessions in the slot of the user's set and
 * "end all" after that slot moved in a resharding while logins ran.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "csession.h"
#include "redis_monitor.h"
#include "redis_server.h"
#include "redis_topology.h"
#include "store_calls.h"
#include "stores/redis/cluster_slots.h"

static redis_server single;
static redis_cluster cluster;
static int have_cluster;

static csession_store *store_on(const char *url, const char *prefix)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", url, csession_last_error());
    return s;
}

static csession_manager *manager_on(csession_store *st)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, st), 0);
    csession_config_free(cfg);
    return mgr;
}

/* ---- requests ------------------------------------------------------------ */

static void do_login(csession *s, void *ctx)
{
    const char *user = ctx;
    if (user)
        assert_int_equal(csession_bind(s, user, strlen(user), "agent", 5), 0);
    else
        assert_int_equal(csession_renew(s), 0);
    assert_int_equal(csession_insert_bool(s, "in", 1), 0);
}

static void do_visit(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_insert_bool(s, "visited", 1), 0);
}

static void do_change(csession *s, void *ctx)
{
    (void)ctx;
    int64_t n = 0;
    csession_get_int64(s, "n", &n);
    assert_int_equal(csession_insert_int64(s, "n", n + 1), 0);
}

static void do_logout(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_purge(s), 0);
}

static int bound_to(csession_manager *mgr, const test_client *c, const char *user)
{
    csession *s;
    assert_int_equal(client_load(mgr, c, &s), 0);
    const char *u;
    int yes = csession_user(s, &u, NULL) == 0 && strcmp(u, user) == 0;
    csession_free(s);
    return yes;
}

/* ---- round trips ----------------------------------------------------------- */

typedef struct step {
    csession_manager *mgr;
    test_client *c;
    test_handler handler;
    void *ctx;
} step;

static void run_step(void *arg)
{
    step *s = arg;
    assert_int_equal(client_request(s->mgr, s->c, NULL, s->handler, s->ctx), 0);
}

static int cost(csession_manager *mgr, test_client *c, test_handler h, void *ctx)
{
    step s = {mgr, c, h, ctx};
    int n = redis_commands_during("127.0.0.1", single.port, run_step, &s);
    assert_true(n >= 0);
    return n;
}

/* Login, an ordinary request and logout of a bound session cost what they
 * cost for a session that is not bound: the index rides in the same
 * scripts. */
static void test_round_trips(void **state)
{
    (void)state;
    csession_manager *mgr = manager_on(store_on(single.url, "trips:"));
    int costs[2][3];
    for (int bound = 0; bound < 2; bound++) {
        for (int round = 0; round < 2; round++) { /* the first one loads the scripts */
            test_client c = {0};
            assert_int_equal(client_request(mgr, &c, NULL, do_visit, NULL), 0);
            costs[bound][0] = cost(mgr, &c, do_login, bound ? "alice" : NULL);
            costs[bound][1] = cost(mgr, &c, do_change, NULL);
            costs[bound][2] = cost(mgr, &c, do_logout, NULL);
            assert_int_equal(c.cookie[0], '\0');
        }
    }
    fprintf(stderr, "round trips  unbound: login %d, request %d, logout %d;  bound: %d, %d, %d\n",
            costs[0][0], costs[0][1], costs[0][2], costs[1][0], costs[1][1], costs[1][2]);
    assert_int_equal(costs[0][1], 2); /* load, write back */
    assert_int_equal(costs[1][1], costs[0][1]);
    assert_int_equal(costs[1][0], costs[0][0]);
    assert_int_equal(costs[1][2], costs[0][2]);
    csession_manager_free(mgr);
}

static int collect_key(const char *key, size_t key_len, const char *state, size_t state_len,
                       void *payload)
{
    (void)state;
    (void)state_len;
    csession_store *st = payload;
    return st->remove(st, key, key_len); /* ends it as expiry would: the entry stays */
}

static long long set_size(const char *set)
{
    redisReply *r = redis_test_command(single.port, NULL, "SCARD %s", set);
    assert_non_null(r);
    long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return n;
}

/* Entries of sessions that ended without a logout (expired, retired) are
 * dropped by the login that grows the set to 32 entries, at the cost of
 * one more round trip for that login only. */
static void test_save_prunes_the_set(void **state)
{
    (void)state;
    csession_store *st = store_on(single.url, "prune:");
    csession_manager *mgr = manager_on(st);
    test_client c = {0};
    for (int i = 0; i < 31; i++) {
        memset(&c, 0, sizeof c);
        assert_int_equal(client_request(mgr, &c, NULL, do_login, "pruned"), 0);
    }
    assert_int_equal(st->user_list(st, "pruned", 6, collect_key, st), 0);
    assert_int_equal(set_size("prune:user:pruned"), 31); /* listing dropped nothing yet */
    memset(&c, 0, sizeof c);
    assert_int_equal(client_request(mgr, &c, NULL, do_visit, NULL), 0);
    int trips = cost(mgr, &c, do_login, "pruned");
    assert_int_equal(set_size("prune:user:pruned"), 1);
    assert_int_equal(trips, 3 + 1);
    assert_true(bound_to(mgr, &c, "pruned"));
    csession_manager_free(mgr);
}

/* A logout takes the session out of the user's set in its one command. */
static void test_logout_leaves_the_set(void **state)
{
    (void)state;
    csession_manager *mgr = manager_on(store_on(single.url, "logout:"));
    test_client a = {0}, b = {0};
    assert_int_equal(client_request(mgr, &a, NULL, do_login, "leaver"), 0);
    assert_int_equal(client_request(mgr, &b, NULL, do_login, "leaver"), 0);
    assert_int_equal(set_size("logout:user:leaver"), 2);
    assert_int_equal(client_request(mgr, &a, NULL, do_logout, NULL), 0);
    assert_int_equal(set_size("logout:user:leaver"), 1);
    assert_int_equal(client_request(mgr, &b, NULL, do_logout, NULL), 0);
    assert_int_equal(set_size("logout:user:leaver"), 0);
    csession_manager_free(mgr);
}

/* Two servers: two stores of their own on one Redis, one key prefix. */
static void test_two_stores_one_redis(void **state)
{
    (void)state;
    csession_manager *one = manager_on(store_on(single.url, "shared:"));
    csession_manager *two = manager_on(store_on(single.url, "shared:"));
    test_client a = {0}, b = {0}, other = {0};
    assert_int_equal(client_request(one, &a, NULL, do_login, "alice"), 0);
    assert_int_equal(client_request(two, &b, NULL, do_login, "alice"), 0);
    assert_int_equal(client_request(one, &other, NULL, do_login, "bob"), 0);
    csession_user_sessions *l = NULL;
    assert_int_equal(csession_manager_user_sessions(one, NULL, "alice", 5, &l), 0);
    assert_int_equal(csession_user_sessions_count(l), 2);
    csession_user_sessions_free(l);
    uint64_t n = 0;
    assert_int_equal(csession_manager_end_user_sessions(two, "alice", 5, NULL, &n), 0);
    assert_int_equal(n, 2);
    assert_false(bound_to(one, &a, "alice"));
    assert_false(bound_to(two, &a, "alice"));
    assert_false(bound_to(one, &b, "alice"));
    assert_true(bound_to(two, &other, "bob"));
    csession_manager_free(one);
    csession_manager_free(two);
}

/* ---- Cluster ----------------------------------------------------------------- */

/* A user id whose set lands in one of the first slots of node 0 (the ones
 * a resharding from node 0 moves first). */
static unsigned int user_in_low_slot(char *user, size_t size, const char *prefix)
{
    for (int i = 0;; i++) {
        snprintf(user, size, "u%d", i);
        char key[128];
        snprintf(key, sizeof key, "%suser:%s", prefix, user);
        unsigned int slot = csession__redis_key_slot(key, strlen(key));
        if (slot < 500 && redis_cluster_owner(&cluster, slot) == 0)
            return slot;
    }
}

static int check_slot(const char *key, size_t key_len, const char *state, size_t state_len,
                      void *payload)
{
    (void)state;
    (void)state_len;
    const unsigned int *slot = payload;
    char full[128];
    int n = snprintf(full, sizeof full, "placed:%.*s", (int)key_len, key);
    return csession__redis_key_slot(full, (size_t)n) == *slot ? 0 : CSESSION_ERROR;
}

typedef struct logins {
    csession_manager *mgr;
    const char *user;
    atomic_int stop;
    test_client clients[400];
    atomic_int made; /* logins that returned 0 */
    int failed;      /* while the slot moved: retried, then given up */
    /* the lister: listings that answered, gave up, or listed too few */
    int listed, list_failed, too_few;
    int changes; /* ordinary requests once 400 logins were made */
} logins;

static void *log_in_loop(void *arg)
{
    logins *l = arg;
    for (int i = 0; !atomic_load(&l->stop); i++) {
        if (atomic_load(&l->made) == 400) { /* then ordinary requests, round the clients */
            if (client_request(l->mgr, &l->clients[i % 400], NULL, do_change, NULL) == 0)
                l->changes++;
            else
                l->failed++;
            continue;
        }
        test_client *c = &l->clients[atomic_load(&l->made)];
        memset(c, 0, sizeof *c);
        if (client_request(l->mgr, c, NULL, do_login, (void *)l->user) == 0)
            atomic_fetch_add(&l->made, 1);
        else
            l->failed++;
    }
    return NULL;
}

/* Lists the user's sessions while they are made and their slot moves: an
 * answer may come late or not at all, but never lists fewer sessions than
 * the logins that had returned before it was asked. */
static void *list_loop(void *arg)
{
    logins *l = arg;
    while (!atomic_load(&l->stop)) {
        int before = atomic_load(&l->made);
        csession_user_sessions *list = NULL;
        if (csession_manager_user_sessions(l->mgr, NULL, l->user, strlen(l->user), &list) != 0) {
            l->list_failed++;
            continue;
        }
        l->listed++;
        if (csession_user_sessions_count(list) < (size_t)before)
            l->too_few++;
        csession_user_sessions_free(list);
    }
    return NULL;
}

static void test_cluster_slot_and_reshard(void **state)
{
    (void)state;
    if (!have_cluster)
        skip();
    const char *prefix = "placed:";
    csession_store *st = store_on(cluster.url, prefix);
    csession_manager *mgr = manager_on(st);
    char user[32];
    unsigned int slot = user_in_low_slot(user, sizeof user, prefix);
    test_client other = {0};
    assert_int_equal(client_request(mgr, &other, NULL, do_login, "someone-else"), 0);

    /* every session of the user lives in the slot of the user's set */
    static logins l;
    memset(&l, 0, sizeof l);
    atomic_init(&l.made, 0);
    l.mgr = mgr;
    l.user = user;
    atomic_store(&l.stop, 0);
    pthread_t th, lister;
    assert_int_equal(pthread_create(&th, NULL, log_in_loop, &l), 0);
    assert_int_equal(pthread_create(&lister, NULL, list_loop, &l), 0);

    char from[32];
    snprintf(from, sizeof from, "127.0.0.1:%d", cluster.nodes[0].port);
    const char *reshard[] = {"--cluster", "reshard", from, "--cluster-from", cluster.ids[0],
                             "--cluster-to", cluster.ids[1], "--cluster-slots", "500",
                             "--cluster-yes", NULL};
    int status = redis_cli_wait(redis_cli_spawn(reshard));
    assert_int_equal(redis_cluster_wait_ok(&cluster, 20000), 0);
    atomic_store(&l.stop, 1);
    pthread_join(th, NULL);
    pthread_join(lister, NULL);
    assert_int_equal(status, 0);
    assert_int_equal(redis_cluster_owner(&cluster, slot), 1); /* the user's slot moved */
    int made = atomic_load(&l.made);
    fprintf(stderr,
            "during the resharding: %d logins and %d requests made, %d given up; %d listings, "
            "%d given up, %d short; %lu MOVED, %lu ASK\n",
            made, l.changes, l.failed, l.listed, l.list_failed, l.too_few,
            store_redis_stats(st).moved, store_redis_stats(st).ask);
    assert_true(made > 0);
    assert_true(l.listed > 0);
    assert_int_equal(l.too_few, 0);

    csession_user_sessions *list = NULL;
    assert_int_equal(csession_manager_user_sessions(mgr, NULL, user, strlen(user), &list), 0);
    assert_int_equal(csession_user_sessions_count(list), (size_t)made);
    csession_user_sessions_free(list);
    assert_int_equal(st->user_list(st, user, strlen(user), check_slot, &slot), 0);

    uint64_t n = 0;
    assert_int_equal(csession_manager_end_user_sessions(mgr, user, strlen(user), NULL, &n), 0);
    assert_int_equal(n, (uint64_t)made);
    for (int i = 0; i < made; i++)
        assert_false(bound_to(mgr, &l.clients[i], user));
    assert_true(bound_to(mgr, &other, "someone-else"));
    csession_manager_free(mgr);
}

int main(void)
{
    if (redis_server_start(&single, NULL) != 0)
        return 1;
    have_cluster = redis_cluster_start(&cluster) == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_two_stores_one_redis),
        cmocka_unit_test(test_save_prunes_the_set),
        cmocka_unit_test(test_logout_leaves_the_set),
        cmocka_unit_test(test_cluster_slot_and_reshard),
    };
    int failed = cmocka_run_group_tests_name("users on redis", tests, NULL, NULL);
    if (have_cluster)
        redis_cluster_stop(&cluster);
    redis_server_stop(&single);
    return failed || !have_cluster;
}
