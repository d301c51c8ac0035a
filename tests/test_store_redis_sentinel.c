/* The Redis store through Redis Sentinel, on a group of its own (a master,
 * a replica and three sentinels, all password-protected): finding the
 * master, the ways finding it fails, prefork workers, a SENTINEL FAILOVER
 * while threads commit sessions through a manager, and a master killed
 * outright. */
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

#include "csession.h"
#include "csession/store_redis.h"
#include "log_capture.h"
#include "prefork.h"
#include "redis_topology.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600
#define NAME "sessions"
#define PASSWORD "data-pw"
#define SENTINEL_PASSWORD "sentinel-pw"

static sentinel_group group;

/* redis+sentinel://:data-pw@<sentinels>/sessions?sentinel_password=...&<extra> */
static csession_store *store_with_pool(const char *hosts, const char *extra,
                                       unsigned int pool_size)
{
    char url[600];
    snprintf(url, sizeof url, "redis+sentinel://:" PASSWORD "@%s/" NAME
             "?sentinel_password=" SENTINEL_PASSWORD "%s%s",
             hosts, extra ? "&" : "", extra ? extra : "");
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = 500;
    o.command_timeout_ms = 1000;
    o.pool_size = pool_size;
    o.pool_wait_timeout_ms = 2000;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new: %s", csession_last_error());
    return s;
}

static csession_store *store_for(const char *hosts, const char *extra)
{
    return store_with_pool(hosts, extra, 8);
}

/* GET on the data node at `port` directly: the value, or "" when absent. */
static void raw_get(int port, const char *key, char *out, size_t size)
{
    redisReply *r = redis_test_command(port, PASSWORD, "GET %s", key);
    assert_non_null(r);
    snprintf(out, size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
}

/* ---- finding the master ----------------------------------------------------- */

static void test_master_found(void **state)
{
    (void)state;
    int master = sentinel_group_wait_settled(&group, 20000);
    assert_true(master > 0);
    static log_capture logged;
    log_capture_start(&logged);
    csession_store *s = store_for(group.hosts, "wait_replicas=1");
    char key[65], got[64];
    store_save_str(s, "hello", TTL, key);
    log_capture_stop(&logged);
    /* Found, and said where; no password, no session key. */
    char text[128];
    snprintf(text, sizeof text, "Redis Sentinel: master '" NAME "' is at 127.0.0.1:%d", master);
    if (log_capture_find(&logged, CSESSION_LOG_INFO, text) != 1 || logged.count != 1 ||
        log_capture_find(&logged, 0, "-pw") || log_capture_find(&logged, 0, key)) {
        log_capture_print(&logged);
        fail_msg("expected one message: %s", text);
    }
    raw_get(master, key, got, sizeof got);
    assert_string_equal(got, "hello");
    /* WAIT: acknowledged means on the replica too, at once. */
    int replica = group.data[0].port == master ? group.data[1].port : group.data[0].port;
    raw_get(replica, key, got, sizeof got);
    assert_string_equal(got, "hello");
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.discoveries, 1);
    assert_int_equal(st.master_changes, 0);
    assert_int_equal(st.not_replicated, 0);
    assert_int_equal(s->remove(s, key, 64), 0);
    raw_get(replica, key, got, sizeof got);
    assert_string_equal(got, "");
    csession_store_free(s);
}

static void expect_lookup_fails(const char *hosts, const char *extra, const char *message)
{
    csession_store *s = store_for(hosts, extra);
    csession_buf b = CSESSION_BUF_INIT;
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    assert_int_equal(s->load(s, key, 64, &b), CSESSION_ESTORE);
    if (!strstr(csession_last_error(), message))
        fail_msg("\"%s\" lacks \"%s\"", csession_last_error(), message);
    /* Never the passwords. */
    assert_null(strstr(csession_last_error(), PASSWORD));
    assert_null(strstr(csession_last_error(), SENTINEL_PASSWORD));
    assert_int_equal(store_redis_stats(s).discoveries, 0);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* A port nothing listens on. */
static int dead_port(void)
{
    redis_server srv;
    assert_int_equal(redis_server_start(&srv, NULL), 0);
    int port = srv.port;
    redis_server_stop(&srv);
    return port;
}

static void test_lookup_failures(void **state)
{
    (void)state;
    char url[600], hosts[300];
    /* A name no sentinel knows. */
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    snprintf(url, sizeof url,
             "redis+sentinel://:" PASSWORD "@%s/nope?sentinel_password=" SENTINEL_PASSWORD,
             group.hosts);
    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(&s, url, &o), 0);
    char key[65];
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(),
                           "Redis Sentinel: no master 'nope' found through 3 sentinels"));
    assert_non_null(strstr(csession_last_error(), "knows no master named 'nope'"));
    csession_store_free(s);

    /* The sentinels' password missing or wrong. */
    snprintf(url, sizeof url, "redis+sentinel://:" PASSWORD "@%s/" NAME, group.hosts);
    assert_int_equal(csession_store_redis_new(&s, url, &o), 0);
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "NOAUTH"));
    csession_store_free(s);
    snprintf(url, sizeof url, "redis+sentinel://:" PASSWORD "@%s/" NAME "?sentinel_password=no",
             group.hosts);
    assert_int_equal(csession_store_redis_new(&s, url, &o), 0);
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "Redis AUTH refused at 127.0.0.1:"));
    csession_store_free(s);

    /* The master's password wrong: said at once, not blamed on sentinels. */
    snprintf(url, sizeof url,
             "redis+sentinel://:wrong@%s/" NAME "?sentinel_password=" SENTINEL_PASSWORD,
             group.hosts);
    assert_int_equal(csession_store_redis_new(&s, url, &o), 0);
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "Redis AUTH refused at 127.0.0.1:"));
    assert_null(strstr(csession_last_error(), "Sentinel"));
    csession_store_free(s);

    /* No sentinel up. */
    int d1 = dead_port(), d2 = dead_port();
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d,127.0.0.1:%d", d1, d2);
    expect_lookup_fails(hosts, NULL, "through 2 sentinels (last: cannot connect to Redis at");

    /* The first sentinel down, the second answers. */
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d,127.0.0.1:%d", d1, group.sentinels[1].port);
    s = store_for(hosts, NULL);
    store_save_str(s, "second", TTL, key);
    assert_int_equal(s->load(s, key, 64, &b), 0);
    assert_string_equal(b.ptr, "second");
    assert_int_equal(store_redis_stats(s).discoveries, 1);
    assert_int_equal(s->remove(s, key, 64), 0);
    csession_store_free(s);
    csession_buf_dispose(&b);
}

/* ---- a failover while sessions are committed ------------------------------------ */

#define WORKERS 4
#define MAX_SESSIONS 4000

typedef struct tracked {
    char cookie[512];
    int64_t acked;  /* the counter of the last acknowledged commit */
    int64_t maybe;  /* a failed commit's counter: it may or may not be stored */
    int frozen;     /* after a failed commit, not touched again */
} tracked;

typedef struct worker {
    csession_manager *mgr;
    int id;
    atomic_int *stop;
    tracked *sessions;
    int count;
    long ok;
    atomic_long consecutive_ok; /* successes since the last error */
    atomic_llong last_read_ok_ms;  /* when a load of a stored session last worked */
    atomic_llong last_write_ok_ms; /* when a commit last worked */
    int errors;
    int other_codes; /* errors neither CSESSION_ESTORE nor CSESSION_ETIMEOUT */
    long long last_error_ms;
    char message[300];
} worker;

static void worker_ok(worker *w, int write)
{
    w->ok++;
    atomic_fetch_add(&w->consecutive_ok, 1);
    atomic_store(write ? &w->last_write_ok_ms : &w->last_read_ok_ms, test_now_ms());
}

static void worker_error(worker *w, int rc, const char *what)
{
    w->errors++;
    atomic_store(&w->consecutive_ok, 0);
    w->last_error_ms = test_now_ms();
    if (rc != CSESSION_ESTORE && rc != CSESSION_ETIMEOUT && w->other_codes++ == 0)
        snprintf(w->message, sizeof w->message, "%s: %s (%s)", what, csession_strerror(rc),
                 csession_last_error());
}

static void cookie_of(const csession_buf *set_cookie, char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)strcspn(set_cookie->ptr, ";"), set_cookie->ptr);
}

/* Commits a new session and tracks it. */
static void commit_new(worker *w, csession_buf *set)
{
    csession *s = NULL;
    int rc = csession_manager_load(w->mgr, NULL, 0, &s);
    if (rc != 0) {
        worker_error(w, rc, "load (new)");
        return;
    }
    csession_insert_int64(s, "counter", 0);
    rc = csession_manager_commit(w->mgr, s, set);
    csession_free(s);
    if (rc != 0) {
        worker_error(w, rc, "commit (new)");
        return;
    }
    tracked *t = &w->sessions[w->count++];
    cookie_of(set, t->cookie, sizeof t->cookie);
    t->acked = 0;
    t->frozen = 0;
    worker_ok(w, 1);
}

/* A new session, then an update of an earlier one, over and over. It runs
 * until told to stop, not until the table is full: a fast machine fills the
 * table before the failover, and a worker that had stopped would leave the
 * failover unobserved. */
static void *commit_loop(void *arg)
{
    worker *w = arg;
    csession_buf set = CSESSION_BUF_INIT;
    unsigned int seed = (unsigned int)w->id * 2654435761u + 1;
    while (!atomic_load(w->stop)) {
        if (w->count < MAX_SESSIONS)
            commit_new(w, &set);
        if (w->count == 0)
            continue;
        seed = seed * 1103515245u + 12345u;
        tracked *t = &w->sessions[(seed >> 8) % (unsigned int)w->count];
        if (t->frozen)
            continue;
        csession *s = NULL;
        int rc = csession_manager_load(w->mgr, t->cookie, strlen(t->cookie), &s);
        if (rc != 0) {
            worker_error(w, rc, "load");
            continue;
        }
        worker_ok(w, 0);
        int64_t n = -1;
        csession_get_int64(s, "counter", &n);
        if (n != t->acked) {
            /* A lost commit: a test failure, counted apart. */
            w->other_codes++;
            snprintf(w->message, sizeof w->message, "session had counter %lld, expected %lld",
                     (long long)n, (long long)t->acked);
        }
        csession_insert_int64(s, "counter", t->acked + 1);
        rc = csession_manager_commit(w->mgr, s, &set);
        csession_free(s);
        if (rc == 0) {
            t->acked++;
            worker_ok(w, 1);
            if (set.size) /* the key may change when the session vanished */
                cookie_of(&set, t->cookie, sizeof t->cookie);
        } else {
            t->maybe = t->acked + 1;
            t->frozen = 1;
            worker_error(w, rc, "commit (update)");
        }
    }
    csession_buf_dispose(&set);
    return NULL;
}

static csession_manager *manager_on(csession_store *s, const unsigned char master_key[64])
{
    csession_config *cfg = NULL;
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, master_key, 64), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, s), 0);
    csession_config_free(cfg);
    return mgr;
}

/* Every acknowledged commit is there, through a store that finds the
 * master anew. Returns the number of sessions checked. */
static int check_sessions(worker *w, const unsigned char master_key[64])
{
    csession_manager *mgr = manager_on(store_for(group.hosts, NULL), master_key);
    int checked = 0;
    for (int i = 0; i < WORKERS; i++) {
        for (int j = 0; j < w[i].count; j++) {
            tracked *t = &w[i].sessions[j];
            csession *s = NULL;
            if (csession_manager_load(mgr, t->cookie, strlen(t->cookie), &s) != 0)
                fail_msg("load: %s", csession_last_error());
            int64_t n = -1;
            if (csession_get_int64(s, "counter", &n) != 0)
                fail_msg("worker %d session %d: lost (fresh session)", i, j);
            if (n != t->acked && !(t->frozen && n == t->maybe))
                fail_msg("worker %d session %d: counter %lld, acknowledged %lld", i, j,
                         (long long)n, (long long)t->acked);
            csession_free(s);
            checked++;
        }
    }
    csession_manager_free(mgr);
    return checked;
}

static long long latest(worker *w, int write)
{
    long long t = 0;
    for (int i = 0; i < WORKERS; i++) {
        long long v = atomic_load(write ? &w[i].last_write_ok_ms : &w[i].last_read_ok_ms);
        if (v > t)
            t = v;
    }
    return t;
}

/*
 * SENTINEL FAILOVER while four threads commit sessions through a manager,
 * each write followed by WAIT 1 (wait_replicas=1). The old master stays a
 * writable master for some seconds after its replica is promoted (Sentinel
 * demotes it about ten seconds later): writes sent there meanwhile would be
 * lost without WAIT; with it they fail instead. Once the sentinels name
 * the new master, reads go there; writes succeed again once it has a
 * replica, that is once the old master rejoins as one.
 */
static void test_failover_under_load(void **state)
{
    (void)state;
    int old_master = sentinel_group_wait_settled(&group, 30000);
    assert_true(old_master > 0);
    unsigned char master_key[64];
    assert_int_equal(csession_key_generate(master_key, sizeof master_key), 0);
    static log_capture logged;
    log_capture_start(&logged);
    csession_store *store = store_for(group.hosts, "wait_replicas=1&wait_timeout_ms=250");
    csession_manager *mgr = manager_on(store, master_key);
    static atomic_int stop;
    atomic_store(&stop, 0);
    static worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].mgr = mgr;
        w[i].id = i;
        w[i].stop = &stop;
        w[i].sessions = calloc(MAX_SESSIONS, sizeof(tracked));
        atomic_init(&w[i].consecutive_ok, 0);
        atomic_init(&w[i].last_read_ok_ms, 0);
        atomic_init(&w[i].last_write_ok_ms, 0);
        assert_int_equal(pthread_create(&th[i], NULL, commit_loop, &w[i]), 0);
    }
    test_sleep_ms(500);

    redisReply *r = redis_test_command(group.sentinels[0].port, SENTINEL_PASSWORD,
                                       "SENTINEL FAILOVER %s", NAME);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("SENTINEL FAILOVER: %s", r->str);
    freeReplyObject(r);
    long long failover_at = test_now_ms();

    /* The store follows the new master: reads work there at once... */
    long long switched_at = 0, reads_at = 0, writes_at = 0;
    while (test_now_ms() - failover_at < 30000 && !writes_at) {
        if (!switched_at && store_redis_stats(store).master_changes >= 1)
            switched_at = test_now_ms();
        if (switched_at && !reads_at && latest(w, 0) > switched_at)
            reads_at = latest(w, 0);
        /* ...and writes once the new master has its replica. */
        if (switched_at && latest(w, 1) > switched_at)
            writes_at = latest(w, 1);
        test_sleep_ms(20);
    }
    test_sleep_ms(1000);
    atomic_store(&stop, 1);
    log_capture_stop(&logged);
    long ok = 0, recent_ok = 0;
    int errors = 0, other = 0, sessions = 0;
    long long last_error = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        recent_ok += atomic_load(&w[i].consecutive_ok);
        errors += w[i].errors;
        other += w[i].other_codes;
        sessions += w[i].count;
        if (w[i].last_error_ms > last_error)
            last_error = w[i].last_error_ms;
        if (w[i].other_codes)
            fprintf(stderr, "worker %d: %s\n", i, w[i].message);
    }
    csession__redis_stats st = store_redis_stats(store);
    fprintf(stderr,
            "failover: the store on the new master after %lld ms, reads there after %lld ms, "
            "writes after %lld ms; %ld operations succeeded, %d failed (the last after "
            "%lld ms); %lu writes short of replicas, %lu master lookups\n",
            switched_at ? switched_at - failover_at : -1,
            reads_at ? reads_at - failover_at : -1, writes_at ? writes_at - failover_at : -1,
            ok, errors, last_error ? last_error - failover_at : 0, st.not_replicated,
            st.discoveries);
    int new_master = sentinel_group_master_port(&group, 0);
    assert_true(new_master > 0 && new_master != old_master);
    assert_true(st.master_changes >= 1);
    assert_true(switched_at > 0 && switched_at - failover_at < 5000);
    assert_true(reads_at > 0 && reads_at - switched_at < 3000);
    assert_true(writes_at > 0);
    /* Errors: ESTORE or ETIMEOUT only, a bounded number, and none since
     * the writes came back. */
    assert_int_equal(other, 0);
    assert_true(errors <= 400);
    assert_true(last_error < writes_at + 1000);
    assert_true(recent_ok > 100);
    /* Each move of the master was logged, from where to where. */
    char text[160];
    snprintf(text, sizeof text,
             "Redis Sentinel: master '" NAME "' moved from 127.0.0.1:%d to 127.0.0.1:%d",
             old_master, new_master);
    if (log_capture_find(&logged, CSESSION_LOG_WARN, text) != 1 ||
        log_capture_find(&logged, CSESSION_LOG_WARN, " moved from ") != (int)st.master_changes) {
        log_capture_print(&logged);
        fail_msg("expected: %s", text);
    }

    /* Nothing acknowledged was lost. */
    csession_manager_free(mgr);
    assert_int_equal(check_sessions(w, master_key), sessions);
    for (int i = 0; i < WORKERS; i++)
        free(w[i].sessions);
}

/* ---- fork() ------------------------------------------------------------------ */

/* Workers forked after the master was found: each talks to it on
 * connections of its own (prefork.h). */
static void prefork_with_pool(unsigned int pool_size)
{
    assert_true(sentinel_group_wait_settled(&group, 20000) > 0);
    csession_store *s = store_with_pool(group.hosts, NULL, pool_size);
    csession_manager *mgr = prefork_manager(s);
    prefork_run(mgr, s, 4, 2000, 1, PASSWORD);
    assert_int_equal(store_redis_stats(s).discoveries, 1);
    csession_manager_free(mgr);
}

static void test_prefork(void **state)
{
    prefork_with_pool(*(unsigned int *)*state);
}

/* ---- a master that dies -------------------------------------------------------- */

static void test_master_killed(void **state)
{
    (void)state;
    /* The last failover demotes the old master some seconds later: wait
     * until it replicates, so that there is a replica to promote. */
    int master = sentinel_group_wait_settled(&group, 40000);
    assert_true(master > 0);
    csession_store *s = store_for(group.hosts, NULL);
    char keys[50][65];
    for (int i = 0; i < 50; i++)
        store_save_str(s, "before", TTL, keys[i]);
    /* In sync before the crash (the store does not wait here). */
    redisReply *r = redis_test_command(master, PASSWORD, "WAIT 1 2000");
    assert_non_null(r);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);

    redis_server_kill(sentinel_group_node(&group, master));
    long long killed_at = test_now_ms();
    int errors = 0;
    long long back_at = 0;
    csession_buf k = CSESSION_BUF_INIT;
    while (test_now_ms() - killed_at < 30000) {
        int rc = s->save(s, "after", 5, TTL, &k);
        if (rc == 0) {
            back_at = test_now_ms();
            break;
        }
        if (rc != CSESSION_ESTORE && rc != CSESSION_ETIMEOUT)
            fail_msg("%s: %s", csession_strerror(rc), csession_last_error());
        errors++;
        test_sleep_ms(100);
    }
    fprintf(stderr, "master killed: writes failed %d times, back after %lld ms\n", errors,
            back_at ? back_at - killed_at : -1);
    assert_true(back_at > 0 && back_at - killed_at < 20000);
    assert_true(store_redis_stats(s).master_changes >= 1);
    csession_buf b = CSESSION_BUF_INIT;
    for (int i = 0; i < 50; i++) {
        if (s->load(s, keys[i], 64, &b) != 0)
            fail_msg("session %d: %s", i, csession_last_error());
        assert_string_equal(b.ptr, "before");
    }
    csession_buf_dispose(&b);
    csession_buf_dispose(&k);
    csession_store_free(s);
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
        cmocka_unit_test(test_lookup_failures),
        PREFORK_TESTS(test_prefork),
        cmocka_unit_test(test_failover_under_load),
        cmocka_unit_test(test_master_killed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
