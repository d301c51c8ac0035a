/* The Redis store's non-blocking calls (start/cancel, sys/store.h version
 * 3) on a poll() loop, against redis-servers of their own: every kind,
 * many calls pipelined on one connection, cancel, a paused server, a
 * killed one, killed connections and a busy server. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "loop/poll_loop.h"
#include "redis_async_calls.h"
#include "redis_server.h"
#include "stores/redis/conn.h"
#include "stores/redis/redis_store.h"
#include "stores/redis/tls.h"
#include "store_calls.h"

#define TTL 3600
/* Slack allowed over a configured timeout: scheduling, sanitizers. */
#define MARGIN_MS 1500

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static csession_store *store_for(const char *url, unsigned int command_ms,
                                 unsigned int pool_size)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = command_ms;
    o.pool_size = pool_size;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", url, csession_last_error());
    assert_non_null(s->start);
    assert_non_null(s->cancel);
    return s;
}

static void start_server(redis_server *srv)
{
    /* Redis 7 disables DEBUG unless told; older servers have no option. */
    static const char *const debug7[] = {"--enable-debug-command", "yes", NULL};
    if (redis_server_start(srv, redis_server_major_version() >= 7 ? debug7 : NULL) != 0)
        fail_msg("cannot start redis-server");
}

static long long server_number(redis_server *srv, const char *fmt, const char *arg)
{
    redisContext *c = redis_test_connect(srv->url);
    assert_non_null(c);
    redisReply *r = redisCommand(c, fmt, arg);
    assert_non_null(r);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

static void server_ok(redis_server *srv, const char *cmd)
{
    redisContext *c = redis_test_connect(srv->url);
    assert_non_null(c);
    redisReply *r = redisCommand(c, cmd);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", cmd, r->str);
    freeReplyObject(r);
    redisFree(c);
}

/* 1 when `srv` leaves a PING unanswered for 100 ms. */
static int server_busy(redis_server *srv)
{
    struct timeval tv = {0, 100000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
    assert_non_null(c);
    int busy = 1;
    if (!c->err && redisSetTimeout(c, tv) == REDIS_OK) {
        redisReply *r = redisCommand(c, "PING");
        busy = r == NULL;
        if (r)
            freeReplyObject(r);
    }
    redisFree(c);
    return busy;
}

/* Clients connected to `srv` now, besides the one asking. */
static int clients_of(redis_server *srv)
{
    redisContext *c = redis_test_connect(srv->url);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "CLIENT LIST");
    assert_non_null(r);
    int n = -1; /* ourselves */
    for (const char *p = r->str; p && (p = strstr(p, "id=")) != NULL; p += 3)
        n++;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

/* A key generator that hands out `first` once, then random keys. */
typedef struct fixed_keys {
    char first[64];
    int used;
} fixed_keys;

static void fixed_then_random(char out[CSESSION_SESSION_KEY_LEN], void *ctx)
{
    fixed_keys *k = ctx;
    if (!k->used++) {
        memcpy(out, k->first, 64);
        return;
    }
    char buf[65];
    csession_session_key_generate(buf, sizeof buf);
    memcpy(out, buf, 64);
}

/* A state as the library writes it (the envelope that carries revisions). */
#define ST(n) "{\"v\":1,\"state\":{\"a\":" #n "}}"

/* ---- every kind ------------------------------------------------------------ */

static void test_every_kind(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 2000, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    csession_loop *loop = &pl.loop;

    /* SAVE: a new key, at revision 1. */
    char key[65], text[128];
    uint64_t rev = 0;
    assert_int_equal(async_save(s, &pl, ST(1), key), 0);
    assert_true(csession_session_key_valid(key, 64));
    assert_int_equal(async_load(s, &pl, key, text, sizeof text, &rev), 0);
    assert_string_equal(text, ST(1));
    assert_int_equal(rev, 1);
    /* The blocking members see the same. */
    store_expect_str(s, key, ST(1));

    /* LOAD_REV with a touch resets the TTL in the same command. */
    char rkey[200];
    store_redis_prefix(s, rkey, sizeof rkey);
    strcat(rkey, key);
    async_call c;
    async_call_init(&c, loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    c.call.touch_ttl_seconds = 99;
    assert_int_equal(async_run(s, &pl, &c), 0);
    assert_int_equal(c.state.size, strlen(ST(1)));
    async_call_dispose(&c);
    long long ttl = server_number(&srv, "TTL %s", rkey);
    assert_true(ttl > 90 && ttl <= 99);

    /* UPDATE_IF: written at the revision loaded, refused at another; after
     * SCRIPT FLUSH the script is sent again by EVAL. */
    server_ok(&srv, "SCRIPT FLUSH");
    async_call_init(&c, loop, CSESSION_CALL_UPDATE_IF, key, ST(2), TTL);
    c.call.expected_revision = 1;
    assert_int_equal(async_run(s, &pl, &c), 0);
    async_call_dispose(&c);
    async_call_init(&c, loop, CSESSION_CALL_UPDATE_IF, key, ST(3), TTL);
    c.call.expected_revision = 1;
    assert_int_equal(async_run(s, &pl, &c), CSESSION_ECONFLICT);
    async_call_dispose(&c);
    assert_int_equal(async_load(s, &pl, key, text, sizeof text, &rev), 0);
    assert_string_equal(text, ST(2));
    assert_int_equal(rev, 2);

    /* UPDATE (last write wins) keeps the key. */
    async_call_init(&c, loop, CSESSION_CALL_UPDATE, key, ST(4), TTL);
    assert_int_equal(async_run(s, &pl, &c), 0);
    assert_int_equal(c.key.size, 64);
    assert_memory_equal(c.key.ptr, key, 64);
    async_call_dispose(&c);

    /* UPDATE_TTL. */
    async_call_init(&c, loop, CSESSION_CALL_UPDATE_TTL, key, NULL, 50);
    assert_int_equal(async_run(s, &pl, &c), 0);
    async_call_dispose(&c);
    ttl = server_number(&srv, "TTL %s", rkey);
    assert_true(ttl > 40 && ttl <= 50);

    /* REMOVE_IF: refused at another revision, done at the right one. */
    async_call_init(&c, loop, CSESSION_CALL_REMOVE_IF, key, NULL, 0);
    c.call.expected_revision = 1;
    assert_int_equal(async_run(s, &pl, &c), CSESSION_ECONFLICT);
    async_call_dispose(&c);
    async_call_init(&c, loop, CSESSION_CALL_REMOVE_IF, key, NULL, 0);
    c.call.expected_revision = 3;
    assert_int_equal(async_run(s, &pl, &c), 0);
    async_call_dispose(&c);
    assert_int_equal(async_load(s, &pl, key, NULL, 0, NULL), CSESSION_ENOTFOUND);
    async_call_init(&c, loop, CSESSION_CALL_UPDATE_IF, key, "{}", TTL);
    assert_int_equal(async_run(s, &pl, &c), CSESSION_ENOTFOUND);
    async_call_dispose(&c);

    /* UPDATE of a key that is gone: saved under a new key. */
    async_call_init(&c, loop, CSESSION_CALL_UPDATE, key, ST(5), TTL);
    assert_int_equal(async_run(s, &pl, &c), 0);
    assert_int_equal(c.key.size, 64);
    assert_memory_not_equal(c.key.ptr, key, 64);
    char key2[65];
    memcpy(key2, c.key.ptr, 64);
    key2[64] = '\0';
    async_call_dispose(&c);
    store_expect_str(s, key2, ST(5));

    /* REMOVE. */
    async_call_init(&c, loop, CSESSION_CALL_REMOVE, key2, NULL, 0);
    assert_int_equal(async_run(s, &pl, &c), 0);
    async_call_dispose(&c);
    store_expect_str(s, key2, NULL);

    /* SAVE draws again when the key is taken, never overwriting it. */
    char taken[65];
    store_save_str(s, "mine", TTL, taken);
    fixed_keys fk;
    memcpy(fk.first, taken, 64);
    fk.used = 0;
    assert_int_equal(csession__store_redis_set_keygen(s, fixed_then_random, &fk), 0);
    char other[65];
    assert_int_equal(async_save(s, &pl, "yours", other), 0);
    assert_int_equal(fk.used, 2);
    assert_memory_not_equal(other, taken, 64);
    store_expect_str(s, taken, "mine");
    store_expect_str(s, other, "yours");

    /* Decided without the server: keys this store cannot have made, bad TTLs. */
    assert_int_equal(async_load(s, &pl, "short", NULL, 0, NULL), CSESSION_ENOTFOUND);
    async_call_init(&c, loop, CSESSION_CALL_SAVE, NULL, "x", 0);
    assert_int_equal(async_run(s, &pl, &c), CSESSION_EINVAL);
    async_call_dispose(&c);

    /* A value longer than max_state_bytes is refused unread. */
    unsigned long refused = store_redis_stats(s).refused_values;
    char big_key[65];
    store_save_str(s, "small", TTL, big_key);
    store_redis_prefix(s, rkey, sizeof rkey);
    strcat(rkey, big_key);
    {
        redisContext *rc = redis_test_connect(srv.url);
        size_t n = CSESSION_STORE_REDIS_DEFAULT_MAX_STATE_BYTES + 1000;
        char *v = calloc(1, n);
        memset(v, 'x', n);
        redisReply *r = redisCommand(rc, "SET %s %b", rkey, v, n);
        freeReplyObject(r);
        free(v);
        redisFree(rc);
    }
    assert_int_equal(async_load(s, &pl, big_key, NULL, 0, NULL), CSESSION_ENOTFOUND);
    assert_int_equal(store_redis_stats(s).refused_values, refused + 1);

    /* All of it on the loop's one connection. */
    assert_int_equal(store_redis_stats(s).opened, 2); /* the loop's, and the pool's */
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- pipelining ------------------------------------------------------------- */

#define IN_FLIGHT 60

static void test_pipelined_in_order(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 5000, 8);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char keys[IN_FLIGHT][65], states[IN_FLIGHT][32];
    for (int i = 0; i < IN_FLIGHT; i++) {
        snprintf(states[i], sizeof states[i], "state %d", i);
        store_save_str(s, states[i], TTL, keys[i]);
    }
    unsigned long opened = store_redis_stats(s).opened;

    static async_call calls[2 * IN_FLIGHT];
    async_call *all[2 * IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; i++) {
        async_call_init(&calls[i], &pl.loop, CSESSION_CALL_LOAD_REV, keys[i], NULL, 0);
        all[i] = &calls[i];
        async_start(s, &calls[i]);
    }
    /* Nothing completes inside start: the replies are not read yet. */
    for (int i = 0; i < IN_FLIGHT; i++)
        assert_int_equal(calls[i].done, 0);
    async_run_all(&pl, all, IN_FLIGHT, 20000);
    for (int i = 0; i < IN_FLIGHT; i++) {
        assert_int_equal(calls[i].code, 0);
        assert_int_equal(calls[i].state.size, strlen(states[i]));
        assert_memory_equal(calls[i].state.ptr, states[i], strlen(states[i]));
        /* Answered in the order sent. */
        assert_int_equal(calls[i].order, calls[0].order + i);
        async_call_dispose(&calls[i]);
    }
    /* One connection for all of them. */
    assert_int_equal(store_redis_stats(s).opened, opened + 1);
    assert_int_equal(clients_of(&srv), 2); /* the pool's, the loop's */

    /* Past the depth of one connection: a second one, not more. */
    for (int i = 0; i < 2 * IN_FLIGHT; i++) {
        async_call_init(&calls[i], &pl.loop, CSESSION_CALL_LOAD_REV, keys[i % IN_FLIGHT], NULL,
                        0);
        all[i] = &calls[i];
        async_start(s, &calls[i]);
    }
    async_run_all(&pl, all, 2 * IN_FLIGHT, 20000);
    for (int i = 0; i < 2 * IN_FLIGHT; i++) {
        assert_int_equal(calls[i].code, 0);
        async_call_dispose(&calls[i]);
    }
    assert_int_equal(store_redis_stats(s).opened, opened + 2);
    assert_int_equal(clients_of(&srv), 3);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- cancel ------------------------------------------------------------------- */

static void test_cancel(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 2000, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    store_save_str(s, "kept", TTL, key);

    /* Cancelled before the reply came: no callback, the reply dropped, the
     * connection fine for the next call. */
    async_call a, b, c;
    async_call_init(&a, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    async_call_init(&b, &pl.loop, CSESSION_CALL_SAVE, NULL, "cancelled", TTL);
    async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    async_start(s, &a);
    async_start(s, &b);
    async_start(s, &c);
    s->cancel(s, &a.call);
    s->cancel(s, &b.call);
    async_call *wait[] = {&c};
    async_run_all(&pl, wait, 1, 20000);
    assert_int_equal(c.code, 0);
    assert_memory_equal(c.state.ptr, "kept", 4);
    /* Run the loop a little more: the cancelled ones stay silent. */
    for (int i = 0; i < 5; i++)
        csession__poll_loop_run_once(&pl, 20);
    assert_int_equal(a.done, 0);
    assert_int_equal(b.done, 0);
    async_call_dispose(&a);
    async_call_dispose(&b);
    async_call_dispose(&c);
    assert_int_equal(store_redis_stats(s).dropped, 0);

    /* Cancelled while connecting: the store is freed with nothing left. */
    csession_store *s2 = store_for(srv.url, 2000, 4);
    async_call_init(&a, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    async_start(s2, &a);
    s2->cancel(s2, &a.call);
    async_call_dispose(&a);
    csession_store_free(s2);
    assert_int_equal(a.done, 0);
    assert_int_equal(csession__poll_loop_pending(&pl), 1 /* s's idle connection */);

    csession_store_free(s);
    assert_int_equal(csession__poll_loop_pending(&pl), 0);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- a paused server: the timeout is a loop timer ------------------------------ */

static void test_paused_server_times_out(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 400, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "x", key), 0);

    redis_server_pause(&srv);
    ticker t;
    ticker_start(&t, &pl.loop);
    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    long long t0 = now_ms();
    async_start(s, &c);
    async_call *wait[] = {&c};
    async_run_all(&pl, wait, 1, 20000);
    long long took = now_ms() - t0;
    redis_server_resume(&srv);
    fprintf(stderr, "paused server: ETIMEOUT after %lld ms; 10 ms timer fired %d times, "
                    "at worst %lld ms late\n",
            took, t.ticks, t.worst_late);
    assert_int_equal(c.code, CSESSION_ETIMEOUT);
    assert_non_null(strstr(c.message, "Redis GETRANGE: Redis did not answer in time"));
    assert_true(took >= 400 && took < 400 + MARGIN_MS);
    /* The loop kept turning while the call waited. */
    assert_true(t.ticks >= 400 / 10 / 4);
    assert_true(t.worst_late < 400);
    async_call_dispose(&c);
    pl.loop.timer_close(&pl.loop, t.timer);

    /* Back: the next call works (on a new connection: the old one timed out). */
    char text[16];
    assert_int_equal(async_load(s, &pl, key, text, sizeof text, NULL), 0);
    assert_string_equal(text, "x");
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- the user index's kinds ------------------------------------------------ */

/* The loop kept turning while a call waited `took` ms for a 400 ms timeout. */
static void ticker_check(ticker *t, const char *what, long long took)
{
    fprintf(stderr, "%s: ETIMEOUT after %lld ms; 10 ms timer fired %d times, at worst %lld ms "
                    "late\n",
            what, took, t->ticks, t->worst_late);
    assert_true(took >= 400 && took < 400 + MARGIN_MS);
    assert_true(t->ticks >= 400 / 10 / 4);
    assert_true(t->worst_late < 400);
    t->loop->timer_close(t->loop, t->timer);
}

typedef struct commit_outcome {
    int calls;
    int code;
    char message[512];
} commit_outcome;

static void committed(void *arg, int code, const char *message, csession *s)
{
    (void)s;
    commit_outcome *o = arg;
    o->calls++;
    o->code = code;
    snprintf(o->message, sizeof o->message, "%s", message ? message : "");
}

static int commit_on(csession_manager *mgr, csession__poll_loop *pl, csession *s,
                     commit_outcome *o)
{
    csession_buf set = CSESSION_BUF_INIT;
    *o = (commit_outcome){0, 0, ""};
    assert_int_equal(csession_manager_commit_async(mgr, &pl->loop, s, &set, committed, o, NULL),
                     0);
    long long until = now_ms() + 20000;
    while (o->calls == 0 && now_ms() < until)
        assert_true(csession__poll_loop_run_once(pl, 100) >= 0);
    assert_int_equal(o->calls, 1);
    csession_buf_dispose(&set);
    return o->code;
}

/* 1 when `user`'s listing holds `s`, marked current. */
static int listed_current(csession_manager *mgr, csession *s, const char *user)
{
    csession_user_sessions *l = NULL;
    assert_int_equal(csession_manager_user_sessions(mgr, s, user, strlen(user), &l), 0);
    const char *want;
    assert_int_equal(csession_id(s, &want), 0);
    int found = 0;
    for (size_t i = 0; i < csession_user_sessions_count(l); i++) {
        const char *id;
        int current = 0;
        assert_int_equal(csession_user_sessions_get(l, i, &id, NULL, NULL, NULL, &current), 0);
        found |= current && strcmp(id, want) == 0;
    }
    csession_user_sessions_free(l);
    return found;
}

/* A login (a bound session's first commit: USER_SAVE) on a stopped server
 * times out on the loop without holding it; the index is right after. */
static void test_bound_login_paused_server(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_config *cfg = NULL;
    unsigned char k[CSESSION_KEY_BYTES];
    memset(k, 7, sizeof k);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, k, sizeof k), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, store_for(srv.url, 400, 4)), 0);
    csession_config_free(cfg);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);

    csession *s = NULL;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &s), 0);
    assert_int_equal(csession_bind(s, "alice", 5, "agent", 5), 0);
    assert_int_equal(csession_insert_bool(s, "in", 1), 0);

    redis_server_pause(&srv);
    ticker t;
    ticker_start(&t, &pl.loop);
    commit_outcome o;
    long long t0 = now_ms();
    int rc = commit_on(mgr, &pl, s, &o);
    long long took = now_ms() - t0;
    redis_server_resume(&srv);
    assert_int_equal(rc, CSESSION_ETIMEOUT);
    assert_non_null(strstr(o.message, "Redis user save"));
    ticker_check(&t, "bound login, paused server", took);

    /* Back: the login goes through, and the user's listing shows it. */
    assert_int_equal(commit_on(mgr, &pl, s, &o), 0);
    assert_true(listed_current(mgr, s, "alice"));
    csession_free(s);
    csession_manager_free(mgr);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

static int user_list_count(const char *key, size_t key_len, const char *state, size_t state_len,
                           void *payload)
{
    (void)key, (void)key_len, (void)state, (void)state_len;
    ++*(int *)payload;
    return 0;
}

static int listed(csession_store *s, const char *user)
{
    int n = 0;
    assert_int_equal(s->user_list(s, user, strlen(user), user_list_count, &n), 0);
    return n;
}

static int user_call(csession_store *s, csession__poll_loop *pl, int kind, const char *key,
                     const char *state, char key_out[65])
{
    async_call c;
    async_call_init(&c, &pl->loop, kind, key, state, TTL);
    c.call.user = "bob";
    c.call.user_len = 3;
    int rc = async_run(s, pl, &c);
    if (key_out)
        snprintf(key_out, 65, "%.*s", (int)c.key.size, c.key.ptr ? c.key.ptr : "");
    async_call_dispose(&c);
    return rc;
}

/* USER_SAVE and USER_REMOVE through `start`, and a logout on a stopped
 * server: ETIMEOUT from the loop, which kept turning. */
static void test_user_kinds(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 400, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char a[65], b[65];
    assert_int_equal(user_call(s, &pl, CSESSION_CALL_USER_SAVE, NULL, ST(1), a), 0);
    assert_int_equal(user_call(s, &pl, CSESSION_CALL_USER_SAVE, NULL, ST(2), b), 0);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(listed(s, "bob"), 2);
    assert_int_equal(user_call(s, &pl, CSESSION_CALL_USER_REMOVE, a, NULL, NULL), 0);
    assert_int_equal(listed(s, "bob"), 1);
    char text[64];
    assert_int_equal(async_load(s, &pl, a, text, sizeof text, NULL), CSESSION_ENOTFOUND);
    assert_int_equal(async_load(s, &pl, b, text, sizeof text, NULL), 0);
    /* A key the store cannot have made: nothing to do. */
    assert_int_equal(user_call(s, &pl, CSESSION_CALL_USER_REMOVE, "nope", NULL, NULL), 0);

    redis_server_pause(&srv);
    ticker t;
    ticker_start(&t, &pl.loop);
    long long t0 = now_ms();
    int rc = user_call(s, &pl, CSESSION_CALL_USER_REMOVE, b, NULL, NULL);
    long long took = now_ms() - t0;
    redis_server_resume(&srv);
    assert_int_equal(rc, CSESSION_ETIMEOUT);
    ticker_check(&t, "logout, paused server", took);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- a killed server, killed connections, a busy server ----------------------- */

static void test_server_killed(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 2000, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "x", key), 0);

    /* Sent to a server that cannot answer (paused), which then dies: each
     * call fails (its retry on a new connection is refused), none hangs. */
    redis_server_pause(&srv);
    async_call calls[8];
    async_call *all[8];
    for (int i = 0; i < 8; i++) {
        async_call_init(&calls[i], &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
        all[i] = &calls[i];
        async_start(s, &calls[i]);
    }
    /* SIGKILL first: redis_server_kill() resumes the server before killing
     * it, which could let it answer. */
    kill(srv.pid, SIGKILL);
    redis_server_kill(&srv);
    long long t0 = now_ms();
    async_run_all(&pl, all, 8, 20000);
    assert_true(now_ms() - t0 < 2000 + MARGIN_MS);
    for (int i = 0; i < 8; i++) {
        if (calls[i].code != CSESSION_ESTORE ||
            !strstr(calls[i].message, "cannot connect to Redis at 127.0.0.1:"))
            fail_msg("call %d: %s", i, calls[i].message);
        async_call_dispose(&calls[i]);
    }
    assert_true(store_redis_stats(s).dropped >= 1);
    assert_int_equal(store_redis_stats(s).open, 0);

    /* Restarted: the next call connects again. */
    assert_int_equal(redis_server_restart(&srv), 0);
    char other[65];
    assert_int_equal(async_save(s, &pl, "y", other), 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

static void test_client_kill_retried(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 2000, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "x", key), 0);
    unsigned long opened = store_redis_stats(s).opened;

    /* The server closes the loop's connection; a call sent before the loop
     * noticed is sent again on a new connection, and succeeds. */
    server_ok(&srv, "CLIENT KILL TYPE normal SKIPME yes");
    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    assert_int_equal(async_run(s, &pl, &c), 0);
    assert_memory_equal(c.state.ptr, "x", 1);
    async_call_dispose(&c);
    csession__redis_stats st = store_redis_stats(s);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.opened, opened + 1);

    /* Killed while idle: the loop sees it closed and drops it at once. */
    server_ok(&srv, "CLIENT KILL TYPE normal SKIPME yes");
    for (int i = 0; i < 50 && store_redis_stats(s).open > 0; i++)
        csession__poll_loop_run_once(&pl, 20);
    assert_int_equal(store_redis_stats(s).open, 0);
    assert_int_equal(store_redis_stats(s).dropped, 2);
    assert_int_equal(async_load(s, &pl, key, NULL, 0, NULL), 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

static void test_debug_sleep(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 300, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "x", key), 0);

    /* Another client keeps the server busy past the command timeout. */
    redisContext *busy = redis_test_connect(srv.url);
    assert_non_null(busy);
    redisAppendCommand(busy, "DEBUG SLEEP 1.5");
    int written = 0;
    while (!written)
        assert_int_equal(redisBufferWrite(busy, &written), REDIS_OK);
    /* Wait until it runs the sleep: a PING goes unanswered. */
    long long t_busy = now_ms();
    while (!server_busy(&srv))
        assert_true(now_ms() - t_busy < 1000);
    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_UPDATE_TTL, key, NULL, TTL);
    long long t0 = now_ms();
    assert_int_equal(async_run(s, &pl, &c), CSESSION_ETIMEOUT);
    long long took = now_ms() - t0;
    assert_true(took >= 300 && took < 300 + MARGIN_MS);
    assert_non_null(strstr(c.message, "Redis EXPIRE: Redis did not answer in time"));
    async_call_dispose(&c);
    /* Not retried: the command may have run. */
    assert_int_equal(store_redis_stats(s).dropped, 0);
    void *reply = NULL;
    assert_int_equal(redisGetReply(busy, &reply), REDIS_OK);
    freeReplyObject(reply);
    redisFree(busy);
    assert_int_equal(async_load(s, &pl, key, NULL, 0, NULL), 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- fork() ------------------------------------------------------------------ */

/* A child forgets the loop connections it inherited, without a byte on
 * them, and opens its own; the parent's connection is as it was. */
static void test_fork(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 2000, 4);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    char key[65];
    assert_int_equal(async_save(s, &pl, "parent", key), 0);
    unsigned long opened = store_redis_stats(s).opened;
    long long commands = redis_server_info_number(&srv, "stats", "total_commands_processed:");

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        csession__poll_loop child_loop;
        csession__poll_loop_init(&child_loop);
        int code = 0;
        char text[16] = "";
        if (async_load(s, &child_loop, key, text, sizeof text, NULL) != 0 ||
            strcmp(text, "parent") != 0)
            code = 2;
        csession__redis_stats st = store_redis_stats(s);
        if (code == 0 && (st.inherited != 1 || st.opened != opened + 1))
            code = 3;
        _exit(code);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The child sent its one GETRANGE on a connection of its own (INFO
     * counts itself). */
    assert_int_equal(redis_server_info_number(&srv, "stats", "total_commands_processed:"),
                     commands + 2);
    /* The parent's connection: in step, still the only one. */
    char text[16];
    assert_int_equal(async_load(s, &pl, key, text, sizeof text, NULL), 0);
    assert_string_equal(text, "parent");
    assert_int_equal(store_redis_stats(s).opened, opened);
    assert_int_equal(store_redis_stats(s).inherited, 0);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
    redis_server_stop(&srv);
}

/* ---- several loops, one thread each, on one store --------------------------- */

#define LOOP_THREADS 4
#define CALLS_PER_THREAD 200

typedef struct loop_thread {
    csession_store *store;
    csession__poll_loop pl; /* outlives the thread: the store keeps connections on it */
    const char *key;
    int failures;
    char message[512];
} loop_thread;

static void *run_loop_thread(void *arg)
{
    loop_thread *lt = arg;
    csession__poll_loop *pl = &lt->pl;
    static _Thread_local async_call calls[8];
    for (int done = 0; done < CALLS_PER_THREAD; done += 8) {
        for (int i = 0; i < 8; i++) {
            async_call_init(&calls[i], &pl->loop,
                            i % 2 ? CSESSION_CALL_LOAD_REV : CSESSION_CALL_UPDATE_TTL, lt->key,
                            NULL, TTL);
            if (lt->store->start(lt->store, &calls[i].call) != 0)
                lt->failures++;
        }
        for (int turns = 0; turns < 200; turns++) { /* 20 s at most */
            int left = 0;
            for (int i = 0; i < 8; i++)
                left += calls[i].done == 0;
            if (!left)
                break;
            csession__poll_loop_run_once(pl, 100);
        }
        for (int i = 0; i < 8; i++) {
            if (calls[i].done != 1 || calls[i].code != 0) {
                lt->failures++;
                snprintf(lt->message, sizeof lt->message, "%s", calls[i].message);
            }
            async_call_dispose(&calls[i]);
        }
    }
    return NULL;
}

static void test_loops_on_threads(void **state)
{
    (void)state;
    redis_server srv;
    start_server(&srv);
    csession_store *s = store_for(srv.url, 5000, 4);
    char key[65];
    store_save_str(s, "shared", TTL, key);
    unsigned long opened = store_redis_stats(s).opened;
    pthread_t th[LOOP_THREADS];
    loop_thread lt[LOOP_THREADS];
    for (int i = 0; i < LOOP_THREADS; i++) {
        memset(&lt[i], 0, sizeof lt[i]);
        lt[i].store = s;
        lt[i].key = key;
        csession__poll_loop_init(&lt[i].pl);
        assert_int_equal(pthread_create(&th[i], NULL, run_loop_thread, &lt[i]), 0);
    }
    for (int i = 0; i < LOOP_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (lt[i].failures)
            fail_msg("thread %d: %d failures (%s)", i, lt[i].failures, lt[i].message);
    }
    /* One connection per loop. */
    assert_int_equal(store_redis_stats(s).opened, opened + LOOP_THREADS);
    /* The loops stopped: the store closes their handles, then they go. */
    csession_store_free(s);
    for (int i = 0; i < LOOP_THREADS; i++)
        csession__poll_loop_dispose(&lt[i].pl);
    redis_server_stop(&srv);
}

/* ---- TLS: the transport's handshake comes before the login ---------------- */

static void test_tls_transport_used(void **state)
{
    (void)state;
    if (csession__redis_tls_available()) {
        /* Settings of a build with TLS come from the URL; not made here. */
        skip();
    }
    redis_server srv;
    start_server(&srv);
    csession__redis_target t;
    memset(&t, 0, sizeof t);
    t.host = "127.0.0.1";
    t.port = srv.port;
    t.connect_timeout_ms = 1000;
    t.command_timeout_ms = 1000;
    /* Without TLS the settings are never read: any pointer stands for them. */
    static char settings;
    t.tls = (const struct csession__redis_tls *)(const void *)&settings;
    csession__redis_conn *c = NULL;
    csession__redis_failure failure;
    assert_int_equal(csession__redis_conn_open(&c, &t, &failure), CSESSION_ESTORE);
    assert_null(c);
    assert_int_equal(failure, CSESSION__REDIS_FAILED);
    assert_non_null(strstr(csession_last_error(), "cannot connect to Redis at 127.0.0.1:"));
    assert_non_null(strstr(csession_last_error(), "no TLS"));
    /* The same target in plain text connects. */
    t.tls = NULL;
    int rc = csession__redis_conn_open(&c, &t, &failure);
    if (rc != 0)
        fail_msg("plain: %s", csession_last_error());
    csession__redis_conn_close(c);
    redis_server_stop(&srv);
}

/* A server that cannot be reached fails each call, inside start or later. */
static void test_unreachable(void **state)
{
    (void)state;
    csession_store *s = store_for("redis://127.0.0.1:1", 500, 2);
    csession__poll_loop pl;
    csession__poll_loop_init(&pl);
    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_SAVE, NULL, "x", TTL);
    assert_int_equal(async_run(s, &pl, &c), CSESSION_ESTORE);
    assert_non_null(strstr(c.message, "cannot connect to Redis at 127.0.0.1:1"));
    assert_int_equal(c.key.size, 0);
    async_call_dispose(&c);
    csession_store_free(s);
    csession__poll_loop_dispose(&pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_paused_server_times_out),
        cmocka_unit_test(test_bound_login_paused_server),
        cmocka_unit_test(test_user_kinds),
        cmocka_unit_test(test_server_killed),
        cmocka_unit_test(test_client_kill_retried),
        cmocka_unit_test(test_debug_sleep),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_tls_transport_used),
        cmocka_unit_test(test_loops_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
