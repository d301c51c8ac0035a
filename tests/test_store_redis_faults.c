/* The Redis store when things go wrong, on redis-servers of its own: killed
 * and restarted, paused, busy (DEBUG SLEEP), connections killed, the pool
 * exhausted, passwords and ACL users, databases, Unix sockets, IPv6, a server
 * without GETEX, and replies a Redis server would not send. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "log_capture.h"
#include "redis_server.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600
/* Slack allowed over a configured timeout: scheduling, sanitizers. */
#define MARGIN_MS 1500

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static csession_store *store_for(const char *url, unsigned int connect_ms,
                                 unsigned int command_ms, unsigned int pool_size,
                                 unsigned int wait_ms)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = connect_ms;
    o.command_timeout_ms = command_ms;
    o.pool_size = pool_size;
    o.pool_wait_timeout_ms = wait_ms;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", url, csession_last_error());
    return s;
}

static int load(csession_store *s, const char *key, csession_buf *b)
{
    return s->load(s, key, strlen(key), b);
}

static void start(redis_server *srv, const char *const *extra)
{
    if (redis_server_start(srv, extra) != 0)
        fail_msg("cannot start redis-server");
}

static redisReply *raw_cmd(redis_server *srv, const char *fmt, ...)
{
    redisContext *c = redis_test_connect(srv->url);
    assert_non_null(c);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(r);
    return r;
}

/* ---- a server that goes away ---------------------------------------------- */

static void test_server_killed_and_restarted(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    csession_store *s = store_for(srv.url, 500, 500, 4, 500);
    char key[65];
    store_save_str(s, "before", TTL, key);

    redis_server_kill(&srv);
    csession_buf b = CSESSION_BUF_INIT;
    int64_t t0 = now_ms();
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_true(now_ms() - t0 < 500 + MARGIN_MS);
    /* The pooled connection was found closed; the retry could not connect. */
    assert_non_null(strstr(csession_last_error(), "cannot connect to Redis at 127.0.0.1:"));
    assert_non_null(strstr(csession_last_error(), "refused"));

    /* While it is down every operation fails fast, and none hangs. */
    t0 = now_ms();
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
        assert_int_equal(b.size, 0);
        assert_int_equal(s->update_ttl(s, key, 64, TTL), CSESSION_ESTORE);
        assert_int_equal(s->remove(s, key, 64), CSESSION_ESTORE);
        assert_int_equal(csession__store_redis_load_touch(s, key, 64, TTL, &b), CSESSION_ESTORE);
    }
    assert_true(now_ms() - t0 < 500 + MARGIN_MS);
    assert_int_equal(store_redis_stats(s).open, 0);

    /* Back again (empty: it kept nothing): the store recovers by itself. */
    assert_int_equal(redis_server_restart(&srv), 0);
    assert_int_equal(load(s, key, &b), CSESSION_ENOTFOUND);
    store_save_str(s, "after", TTL, key);
    assert_int_equal(load(s, key, &b), 0);
    assert_string_equal(b.ptr, "after");

    /* Killed between two operations on a warm pool: the next one retries on
     * a new connection, transparently (the data is gone, the store works). */
    redis_server_kill(&srv);
    assert_int_equal(redis_server_restart(&srv), 0);
    unsigned long dropped = store_redis_stats(s).dropped;
    store_save_str(s, "third", TTL, key);
    assert_int_equal(store_redis_stats(s).dropped, dropped + 1);
    assert_int_equal(load(s, key, &b), 0);

    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* A server that accepts but never answers: ETIMEOUT within the command
 * timeout, connections closed, and all is well once it answers again. */
static void test_server_paused(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    csession_store *s = store_for(srv.url, 400, 400, 2, 400);
    char key[65];
    store_save_str(s, "v", TTL, key);

    redis_server_pause(&srv);
    csession_buf b = CSESSION_BUF_INIT;
    unsigned long opened = store_redis_stats(s).opened;
    int64_t t0 = now_ms();
    assert_int_equal(load(s, key, &b), CSESSION_ETIMEOUT);
    int64_t took = now_ms() - t0;
    assert_true(took >= 350 && took < 400 + MARGIN_MS);
    assert_non_null(strstr(csession_last_error(), "Redis GETRANGE: Redis did not answer in time"));
    /* Not retried: a retry would have opened a connection (the kernel
     * accepts it for the paused server). Counted, not timed, as a slow
     * machine may take long to wake the thread after its timeout. */
    assert_int_equal(store_redis_stats(s).opened, opened);
    assert_int_equal(store_redis_stats(s).open, 0); /* the connection in doubt was closed */

    /* A new connection is accepted by the kernel, then the command waits. */
    t0 = now_ms();
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ETIMEOUT);
    assert_true(now_ms() - t0 < 400 + 400 + MARGIN_MS);

    redis_server_resume(&srv);
    assert_int_equal(load(s, key, &b), 0);
    assert_string_equal(b.ptr, "v");
    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* DEBUG SLEEP longer than the command timeout gives ETIMEOUT. */
static void test_debug_sleep(void **state)
{
    (void)state;
    /* Redis 7 disables DEBUG unless told; older servers have no option. */
    static const char *const debug7[] = {"--enable-debug-command", "yes", NULL};
    redis_server srv;
    start(&srv, redis_server_major_version() >= 7 ? debug7 : NULL);
    csession_store *s = store_for(srv.url, 1000, 300, 2, 1000);
    char key[65];
    store_save_str(s, "v", TTL, key);

    /* Sent without waiting for its answer: the server sleeps 1.5 s. */
    redisContext *c = redis_test_connect(srv.url);
    assert_non_null(c);
    assert_int_equal(redisAppendCommand(c, "DEBUG SLEEP 1.5"), REDIS_OK);
    int done = 0;
    while (!done)
        assert_int_equal(redisBufferWrite(c, &done), REDIS_OK);
    sleep_ms(50);

    csession_buf b = CSESSION_BUF_INIT;
    int64_t t0 = now_ms();
    assert_int_equal(load(s, key, &b), CSESSION_ETIMEOUT);
    int64_t took = now_ms() - t0;
    assert_true(took >= 250 && took < 300 + MARGIN_MS);

    redisReply *r = NULL;
    struct timeval tv = {5, 0};
    redisSetTimeout(c, tv);
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);

    assert_int_equal(load(s, key, &b), 0);
    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* CLIENT KILL of every connection of the pool is survived by the retry. */
typedef struct parallel_load {
    csession_store *store;
    const char *key;
    pthread_barrier_t *barrier;
    int rc;
} parallel_load;

static void *do_parallel_load(void *arg)
{
    parallel_load *p = arg;
    csession_buf b = CSESSION_BUF_INIT;
    pthread_barrier_wait(p->barrier);
    for (int i = 0; i < 50 && p->rc == 0; i++)
        p->rc = p->store->load(p->store, p->key, 64, &b);
    csession_buf_dispose(&b);
    return NULL;
}

static void test_client_kill(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    csession_store *s = store_for(srv.url, 1000, 1000, 4, 5000);
    char key[65];
    store_save_str(s, "survivor", TTL, key);
    /* Warm up several connections with parallel loads. */
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 4);
    pthread_t t[4];
    parallel_load p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (parallel_load){s, key, &barrier, 0};
        pthread_create(&t[i], NULL, do_parallel_load, &p[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].rc, 0);
    }
    pthread_barrier_destroy(&barrier);
    csession__redis_stats before = store_redis_stats(s);
    assert_true(before.idle >= 2);

    redisReply *r = raw_cmd(&srv, "CLIENT KILL TYPE normal");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, (long long)before.idle);
    freeReplyObject(r);

    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), 0);
    assert_string_equal(b.ptr, "survivor");
    csession__redis_stats after = store_redis_stats(s);
    assert_int_equal(after.dropped, before.dropped + 1);
    /* The other dead connections were retired with it, not tried one by one. */
    assert_int_equal(after.open, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(load(s, key, &b), 0);
    assert_int_equal(store_redis_stats(s).dropped, before.dropped + 1);

    /* Every kind of operation retries. */
    static const char *const ops[] = {"save", "update", "update_ttl", "load_touch", "remove"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        r = raw_cmd(&srv, "CLIENT KILL TYPE normal");
        freeReplyObject(r);
        int rc;
        if (i == 0)
            rc = s->save(s, "x", 1, TTL, &b);
        else if (i == 1)
            rc = s->update(s, key, 64, "upd", 3, TTL, &b);
        else if (i == 2)
            rc = s->update_ttl(s, key, 64, TTL);
        else if (i == 3)
            rc = csession__store_redis_load_touch(s, key, 64, TTL, &b);
        else
            rc = s->remove(s, key, 64);
        if (rc)
            fail_msg("%s after CLIENT KILL: %s", ops[i], csession_last_error());
    }
    assert_int_equal(store_redis_stats(s).dropped, before.dropped + 1 + 5);
    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* ---- the pool ------------------------------------------------------------- */

typedef struct blocked_load {
    csession_store *store;
    const char *key;
    int rc;
} blocked_load;

static void *do_blocked_load(void *arg)
{
    blocked_load *p = arg;
    csession_buf b = CSESSION_BUF_INIT;
    p->rc = p->store->load(p->store, p->key, 64, &b);
    csession_buf_dispose(&b);
    return NULL;
}

static void test_pool_exhausted(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    /* One connection; a command may take 3 s, a wait for it 300 ms. */
    csession_store *s = store_for(srv.url, 1000, 3000, 1, 300);
    char key[65];
    store_save_str(s, "v", TTL, key);

    redis_server_pause(&srv);
    blocked_load holder = {s, key, 0};
    pthread_t t;
    pthread_create(&t, NULL, do_blocked_load, &holder);
    /* Until the holder has the only connection, waiting on the server. */
    for (int i = 0; i < 5000 && store_redis_stats(s).idle != 0; i++)
        sleep_ms(1);
    assert_int_equal(store_redis_stats(s).idle, 0);

    csession_buf b = CSESSION_BUF_INIT;
    int64_t t0 = now_ms();
    assert_int_equal(load(s, key, &b), CSESSION_ETIMEOUT);
    int64_t took = now_ms() - t0;
    assert_true(took >= 290 && took < 300 + MARGIN_MS);
    assert_non_null(strstr(csession_last_error(), "all 1 Redis connections stayed busy for 300 ms"));
    assert_int_equal(store_redis_stats(s).wait_timeouts, 1);

    redis_server_resume(&srv);
    pthread_join(t, NULL);
    assert_int_equal(holder.rc, 0); /* it was only slow */
    assert_int_equal(load(s, key, &b), 0);
    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* A thread waiting for a connection gets it as soon as one is returned. */
static void test_pool_wait_succeeds(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    csession_store *s = store_for(srv.url, 1000, 3000, 1, 5000);
    char key[65];
    store_save_str(s, "v", TTL, key);
    redis_server_pause(&srv);
    blocked_load holder = {s, key, 0};
    pthread_t t;
    pthread_create(&t, NULL, do_blocked_load, &holder);
    sleep_ms(200);
    /* Resume shortly: the holder finishes, and this load gets its
     * connection well before its wait ends. */
    blocked_load waiter = {s, key, -1};
    pthread_t t2;
    pthread_create(&t2, NULL, do_blocked_load, &waiter);
    sleep_ms(200);
    redis_server_resume(&srv);
    pthread_join(t, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(holder.rc, 0);
    assert_int_equal(waiter.rc, 0);
    assert_int_equal(store_redis_stats(s).opened, 1);
    assert_int_equal(store_redis_stats(s).wait_timeouts, 0);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* ---- logging in ----------------------------------------------------------- */

static void test_password(void **state)
{
    (void)state;
    static const char *const args[] = {"--requirepass", "s3cr@t pass", NULL};
    redis_server srv;
    start(&srv, args);
    char url[256];
    snprintf(url, sizeof url, "redis://:s3cr%%40t%%20pass@127.0.0.1:%d", srv.port);
    csession_store *s = store_for(url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "authenticated", TTL, key);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), 0);
    csession_store_free(s);

    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", srv.port);
    s = store_for(url, 1000, 1000, 2, 1000);
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "Redis AUTH refused at 127.0.0.1:"));
    assert_null(strstr(csession_last_error(), "wrong"));
    assert_int_equal(store_redis_stats(s).open, 0);
    csession_store_free(s);

    s = store_for(srv.url, 1000, 1000, 2, 1000); /* no password */
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "NOAUTH"));
    csession_store_free(s);

    /* AUTH is sent again on every reconnect. The log tells of the dropped
     * connection and of the reconnection, naming the server, never the
     * password or the session key. */
    snprintf(url, sizeof url, "redis://:s3cr%%40t%%20pass@127.0.0.1:%d", srv.port);
    s = store_for(url, 1000, 1000, 2, 1000);
    assert_int_equal(load(s, key, &b), 0);
    redisContext *c = redis_test_connect(srv.url);
    redisReply *r = redisCommand(c, "AUTH %s", "s3cr@t pass");
    freeReplyObject(r);
    r = redisCommand(c, "CLIENT KILL TYPE normal");
    freeReplyObject(r);
    redisFree(c);
    static log_capture logged;
    log_capture_start(&logged);
    assert_int_equal(load(s, key, &b), 0);
    log_capture_stop(&logged);
    assert_string_equal(b.ptr, "authenticated");
    char text[128];
    snprintf(text, sizeof text, "Redis store: 127.0.0.1:%d closed or reset a connection", srv.port);
    int dropped = log_capture_find(&logged, CSESSION_LOG_WARN, text);
    snprintf(text, sizeof text, "Redis store: reconnected to 127.0.0.1:%d", srv.port);
    int reconnected = log_capture_find(&logged, CSESSION_LOG_INFO, text);
    if (dropped != 1 || reconnected != 1 || logged.count != 2 ||
        log_capture_find(&logged, 0, "s3cr") || log_capture_find(&logged, 0, key)) {
        log_capture_print(&logged);
        fail_msg("dropped %d, reconnected %d, %d messages", dropped, reconnected, logged.count);
    }
    csession_store_free(s);
    csession_buf_dispose(&b);
    redis_server_stop(&srv);
}

static void test_acl_user(void **state)
{
    (void)state;
    if (redis_server_major_version() < 6)
        skip();
    redis_server srv;
    start(&srv, NULL);
    redisReply *r = raw_cmd(&srv, "ACL SETUSER alice on >wonder%%land ~* +@all");
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = raw_cmd(&srv, "ACL SETUSER default off");
    freeReplyObject(r);

    char url[256];
    snprintf(url, sizeof url, "redis://alice:wonder%%25land@127.0.0.1:%d/2", srv.port);
    csession_store *s = store_for(url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "as alice", TTL, key);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), 0);
    assert_string_equal(b.ptr, "as alice");
    csession_store_free(s);

    /* It went to database 2 as alice. */
    redisContext *c = redis_test_connect(srv.url);
    r = redisCommand(c, "AUTH alice wonder%%land");
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = redisCommand(c, "EXISTS %s", key);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    r = redisCommand(c, "SELECT 2");
    freeReplyObject(r);
    r = redisCommand(c, "EXISTS %s", key);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);

    snprintf(url, sizeof url, "redis://alice:nope@127.0.0.1:%d", srv.port);
    s = store_for(url, 1000, 1000, 2, 1000);
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "WRONGPASS"));
    csession_store_free(s);
    csession_buf_dispose(&b);
    redis_server_stop(&srv);
}

static void test_select_db(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    char url[256];
    snprintf(url, sizeof url, "%s/5", srv.url);
    csession_store *s = store_for(url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "db5", TTL, key);
    redisContext *c = redis_test_connect(srv.url);
    redisReply *r = redisCommand(c, "EXISTS %s", key);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    r = redisCommand(c, "SELECT 5");
    freeReplyObject(r);
    r = redisCommand(c, "GET %s", key);
    assert_string_equal(r->str, "db5");
    freeReplyObject(r);
    redisFree(c);
    csession_store_free(s);

    snprintf(url, sizeof url, "%s/99", srv.url);
    s = store_for(url, 1000, 1000, 2, 1000);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "Redis SELECT refused"));
    assert_non_null(strstr(csession_last_error(), "out of range"));
    csession_store_free(s);
    csession_buf_dispose(&b);
    redis_server_stop(&srv);
}

/* ---- other transports ----------------------------------------------------- */

static void test_unix_socket(void **state)
{
    (void)state;
    static const char *const args[] = {"--unixsocket", "@SOCKET@", "--unixsocketperm", "700",
                                       "--requirepass", "pw&d", NULL};
    redis_server srv;
    start(&srv, args);
    char url[320];
    snprintf(url, sizeof url, "unix://%s?db=3&password=pw%%26d", srv.socket);
    csession_store *s = store_for(url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "over a socket", TTL, key);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), 0);
    assert_string_equal(b.ptr, "over a socket");
    csession_store_free(s);

    snprintf(url, sizeof url, "unix://%s.missing", srv.socket);
    s = store_for(url, 1000, 1000, 2, 1000);
    assert_int_equal(load(s, key, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "cannot connect to Redis at unix:"));
    csession_store_free(s);
    csession_buf_dispose(&b);
    redis_server_stop(&srv);
}

static int ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void test_ipv6(void **state)
{
    (void)state;
    if (!ipv6_loopback())
        skip();
    static const char *const args[] = {"--bind", "127.0.0.1 ::1", NULL};
    redis_server srv;
    start(&srv, args);
    char url[128];
    snprintf(url, sizeof url, "redis://[::1]:%d", srv.port);
    csession_store *s = store_for(url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "v6", TTL, key);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(load(s, key, &b), 0);
    csession_store_free(s);
    csession_buf_dispose(&b);
    redis_server_stop(&srv);
}

/* ---- scripts the server forgot ---------------------------------------------- */

/* A server restarted, failed over or told SCRIPT FLUSH answers NOSCRIPT:
 * the store sends the script itself once, and it is known again. */
static void test_scripts_flushed(void **state)
{
    (void)state;
    redis_server srv;
    start(&srv, NULL);
    csession_store *s = store_for(srv.url, 1000, 1000, 2, 1000);
    char key[65];
    store_save_str(s, "flushed", TTL, key);
    csession_buf b = CSESSION_BUF_INIT;
    for (int round = 0; round < 2; round++) {
        freeReplyObject(raw_cmd(&srv, "SCRIPT FLUSH"));
        for (int i = 0; i < 3; i++) {
            assert_int_equal(csession__store_redis_load_touch(s, key, 64, 9000 + i, &b), 0);
            assert_string_equal(b.ptr, "flushed");
            redisReply *r = raw_cmd(&srv, "TTL %s", key);
            assert_true(r->integer > 8990 + i && r->integer <= 9000 + i);
            freeReplyObject(r);
        }
        /* after each flush: EVALSHA (answered NOSCRIPT), EVAL once, then
         * EVALSHA alone */
        assert_int_equal(redis_server_info_number(&srv, "commandstats", "cmdstat_eval:calls="),
                         round + 1);
        assert_int_equal(redis_server_info_number(&srv, "commandstats",
                                                  "cmdstat_evalsha:calls="),
                         3 * (round + 1));
    }
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 10, &b), CSESSION_ENOTFOUND);
    redisReply *r = raw_cmd(&srv, "EXISTS %s", key);
    assert_int_equal(r->integer, 0); /* the touch did not bring it back */
    freeReplyObject(r);
    csession_buf_dispose(&b);
    csession_store_free(s);
    redis_server_stop(&srv);
}

/* ---- replies no Redis server would send ------------------------------------ */

typedef struct fake_server {
    int fd;
    int port;
    const char *reply; /* sent once per request read */
    pthread_t thread;
} fake_server;

static void *fake_serve(void *arg)
{
    fake_server *f = arg;
    int c = accept(f->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
        if (write(c, f->reply, strlen(f->reply)) < 0)
            break;
    }
    close(c);
    return NULL;
}

static void fake_start(fake_server *f, const char *reply)
{
    f->reply = reply;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(listen(f->fd, 4), 0);
    pthread_create(&f->thread, NULL, fake_serve, f);
}

static void fake_stop(fake_server *f)
{
    shutdown(f->fd, SHUT_RDWR);
    close(f->fd);
    pthread_join(f->thread, NULL);
}

static void test_unexpected_replies(void **state)
{
    (void)state;
    static const struct {
        const char *reply;
        const char *message;
    } cases[] = {
        {":1\r\n", "Redis GETRANGE: unexpected reply of type 3"},
        {"+OK\r\n", "Redis GETRANGE: unexpected reply of type 5"},
        {"*1\r\n$1\r\na\r\n", "Redis GETRANGE: unexpected reply of type 2"},
        {"-ERR something odd\r\n", "Redis GETRANGE: ERR something odd"},
        {"?garbage\r\n", "Redis GETRANGE: Protocol error"},
    };
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_server f;
        fake_start(&f, cases[i].reply);
        char url[64];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", f.port);
        csession_store *s = store_for(url, 1000, 1000, 1, 1000);
        csession_buf b = CSESSION_BUF_INIT;
        assert_int_equal(s->load(s, key, 64, &b), CSESSION_ESTORE);
        if (!strstr(csession_last_error(), cases[i].message))
            fail_msg("\"%s\" lacks \"%s\"", csession_last_error(), cases[i].message);
        csession_buf_dispose(&b);
        csession_store_free(s);
        fake_stop(&f);
    }
    /* SET answered with something else than OK or nil */
    fake_server f;
    fake_start(&f, "$2\r\nOK\r\n");
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f.port);
    csession_store *s = store_for(url, 1000, 1000, 1, 1000);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "Redis SET NX: unexpected reply of type 1"));
    assert_int_equal(b.size, 0);
    csession_buf_dispose(&b);
    csession_store_free(s);
    fake_stop(&f);
}

/* A connect that is not answered gives ETIMEOUT within the connect timeout:
 * a listening socket whose accept queue is full drops new connections. */
static void test_connect_timeout(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    assert_int_equal(listen(lfd, 0), 0);
    /* Fill the accept queue. */
    int fillers[8];
    int nfill = 0;
    for (; nfill < 8; nfill++) {
        fillers[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[nfill], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(100);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", ntohs(a.sin_port));
    csession_store *s = store_for(url, 300, 1000, 1, 1000);
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    csession_buf b = CSESSION_BUF_INIT;
    int64_t t0 = now_ms();
    int rc = s->load(s, key, 64, &b);
    int64_t took = now_ms() - t0;
    /* A connection may have been let into the queue after all; then the
     * command timeout applies. Either way: a timeout, in bounded time. */
    assert_int_equal(rc, CSESSION_ETIMEOUT);
    assert_true(took < 1000 + MARGIN_MS);
    csession_buf_dispose(&b);
    csession_store_free(s);
    for (int i = 0; i < nfill; i++)
        close(fillers[i]);
    close(lfd);
}

/* ---- SIGPIPE ------------------------------------------------------------ */

/* A Unix-socket server that answers one command per connection with nil,
 * then closes it. `accepted` counts connections as they are taken, before
 * any reply, so a client that has its reply can rely on it; `closed` counts
 * them once closed, which may happen after the client has its reply. */
typedef struct closing_server {
    int fd;
    atomic_int accepted;
    atomic_int closed;
    pthread_t thread;
} closing_server;

static void *closing_serve(void *arg)
{
    closing_server *f = arg;
    int c;
    while ((c = accept(f->fd, NULL, NULL)) >= 0) {
        atomic_fetch_add(&f->accepted, 1);
        char buf[4096];
        if (read(c, buf, sizeof buf) > 0 && write(c, "$-1\r\n", 5) != 5)
            break;
        close(c);
        atomic_fetch_add(&f->closed, 1);
    }
    return NULL;
}

/* The body of test_no_sigpipe, in a child process: its exit status. */
static int write_to_closed_connection(const char *path)
{
    closing_server f;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    f.fd = socket(AF_UNIX, SOCK_STREAM, 0);
    atomic_init(&f.accepted, 0);
    atomic_init(&f.closed, 0);
    unlink(path);
    if (f.fd < 0 || bind(f.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f.fd, 4) != 0 ||
        pthread_create(&f.thread, NULL, closing_serve, &f) != 0)
        return 10;
    char url[160];
    snprintf(url, sizeof url, "unix://%s", path);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.pool_size = 1;
    o.command_timeout_ms = 2000;
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, url, &o) != 0)
        return 11;
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    csession_buf b = CSESSION_BUF_INIT;
    int status = 0;
    if (s->load(s, key, 64, &b) != CSESSION_ENOTFOUND)
        status = 12;
    /* The pooled connection is now closed at the other end: writing the
     * next command to it fails with EPIPE, and would raise SIGPIPE. */
    for (int i = 0; i < 2000 && atomic_load(&f.closed) < 1; i++)
        sleep_ms(1);
    if (!status && s->load(s, key, 64, &b) != CSESSION_ENOTFOUND)
        status = 13; /* retried on a fresh connection, which answers */
    if (!status && atomic_load(&f.accepted) != 2)
        status = 14; /* the dead connection was written to, then a new one */
    sigset_t pending;
    if (!status && (sigpending(&pending) != 0 || sigismember(&pending, SIGPIPE)))
        status = 15;
    csession_buf_dispose(&b);
    csession_store_free(s);
    shutdown(f.fd, SHUT_RDWR);
    close(f.fd);
    pthread_join(f.thread, NULL);
    unlink(path);
    return status;
}

/* A command written to a connection the server has closed must not raise
 * SIGPIPE, whose default action ends the process: the store may not change
 * the host's signal dispositions, and most servers keep the default. Unix
 * sockets fail such a write with EPIPE at once (over TCP, the first write
 * after a close still goes out). In a child process, so that a SIGPIPE
 * ends the child alone and is seen here. */
static void test_no_sigpipe(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/tmp/csession-sigpipe-%ld.sock", (long)getpid());
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        signal(SIGPIPE, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL);
        _exit(write_to_closed_connection(path));
    }
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    if (WIFSIGNALED(wstatus))
        fail_msg("the store raised signal %d (SIGPIPE is %d)", WTERMSIG(wstatus), SIGPIPE);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_killed_and_restarted),
        cmocka_unit_test(test_server_paused),
        cmocka_unit_test(test_debug_sleep),
        cmocka_unit_test(test_client_kill),
        cmocka_unit_test(test_pool_exhausted),
        cmocka_unit_test(test_pool_wait_succeeds),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_acl_user),
        cmocka_unit_test(test_select_db),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_scripts_flushed),
        cmocka_unit_test(test_unexpected_replies),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_no_sigpipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
