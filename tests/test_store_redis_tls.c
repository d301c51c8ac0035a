/*
 * The Redis store over TLS, through its blocking members and its
 * non-blocking ones (start, on a poll() loop), against TLS redis-servers of
 * its own: what is refused is refused with a message that says why (and
 * holds neither the password nor a file's path) and loads no session,
 * within the connect timeout; client certificates; a restarted server;
 * verification turned off, which works and says so in the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "log_capture.h"
#include "loop/poll_loop.h"
#include "redis_async_calls.h"
#include "redis_server.h"
#include "store_calls.h"
#include "tls_certs.h"

#define TTL 3600
#define CONNECT_MS 500
/* Slack allowed over the connect timeout: scheduling, sanitizers. */
#define MARGIN_MS 1500
/* In every URL of the refused cases: it must never show in a message. */
#define SECRET "hunter2-not-for-logs"

/* The loop of every non-blocking call: it outlives the stores, which close
 * their connections' watchers on it when freed. */
static csession__poll_loop pl;

typedef struct servers {
    tls_certs certs;
    redis_server good;    /* the server certificate, client certificates optional */
    redis_server expired; /* the expired certificate */
    redis_server other;   /* the certificate from the other CA */
    redis_server mutual;  /* client certificates required */
    redis_server plain;   /* no TLS at all */
} servers;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    servers *s = calloc(1, sizeof *s);
    *state = s; /* for teardown, also after a failure below */
    if (!s || tls_certs_make(&s->certs) != 0)
        return -1;
    csession__poll_loop_init(&pl);
    const tls_certs *c = &s->certs;
    if (redis_server_start_tls(&s->good, c->server_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->expired, c->expired_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->other, c->other_ca_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->mutual, c->server_cert, c->server_key, c->ca, 1, NULL) ||
        redis_server_start(&s->plain, NULL))
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    servers *s = *state;
    if (!s)
        return 0;
    redis_server_stop(&s->good);
    redis_server_stop(&s->expired);
    redis_server_stop(&s->other);
    redis_server_stop(&s->mutual);
    redis_server_stop(&s->plain);
    tls_certs_remove(&s->certs);
    csession__poll_loop_dispose(&pl);
    free(s);
    return 0;
}

/* A store for `url`; the CA (and the client certificate when `client`) set
 * through the options unless NULL. */
static csession_store *store_for(const char *url, const servers *s, int client)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.connect_timeout_ms = CONNECT_MS;
    o.command_timeout_ms = 1000;
    o.pool_size = 2;
    if (s)
        o.tls_ca_file = s->certs.ca;
    if (s && client) {
        o.tls_cert_file = s->certs.client_cert;
        o.tls_key_file = s->certs.client_key;
    }
    csession_store *st = NULL;
    if (csession_store_redis_new(&st, url, &o) != 0)
        fail_msg("csession_store_redis_new(%s): %s", url, csession_last_error());
    return st;
}

/* "rediss://:SECRET@127.0.0.1:<port>" (or redis://), then `query`. */
static void url_of(char *out, size_t size, const char *scheme, int port, const char *query)
{
    snprintf(out, size, "%s://:" SECRET "@127.0.0.1:%d%s", scheme, port, query);
}

/* A session saved on the server behind `st`; its key in `key`. */
static void save_on(csession_store *st, char key[65])
{
    store_save_str(st, "{\"user\":\"ada\"}", TTL, key);
}

/* The message says `needle` and nothing it must not. */
static void check_message(const servers *s, const char *what, const char *msg,
                          const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", what, msg, needle);
    if (strstr(msg, SECRET))
        fail_msg("%s: message \"%s\" holds the password", what, msg);
    if (strstr(msg, s->certs.dir))
        fail_msg("%s: message \"%s\" holds a file's path", what, msg);
}

/*
 * Loads `key` through `url` (a store made by store_for(url, s, client)),
 * blocking and then non-blocking: both must fail with something other than
 * "not found", load nothing, say `needle`, and end within the connect
 * timeout (plus slack).
 */
static void expect_refused(const servers *s, const char *url, int client, const char *key,
                           const char *needle)
{
    /* TLS options on a redis:// URL are refused when the store is made. */
    csession_store *st = store_for(url, strncmp(url, "rediss:", 7) == 0 ? s : NULL, client);

    long long start = now_ms();
    csession_buf b = CSESSION_BUF_INIT;
    int rc = st->load(st, key, strlen(key), &b);
    long long took = now_ms() - start;
    if (rc == 0 || rc == CSESSION_ENOTFOUND)
        fail_msg("%s: blocking load returned %d, expected a refusal (%s)", url, rc, needle);
    assert_int_equal(b.size, 0);
    csession_buf_dispose(&b);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", csession_last_error());
    check_message(s, "blocking", msg, needle);
    if (took >= CONNECT_MS + MARGIN_MS)
        fail_msg("%s: blocking load took %lld ms", url, took);

    async_call c;
    async_call_init(&c, &pl.loop, CSESSION_CALL_LOAD_REV, key, NULL, 0);
    start = now_ms();
    rc = async_run(st, &pl, &c);
    took = now_ms() - start;
    if (rc == 0 || rc == CSESSION_ENOTFOUND)
        fail_msg("%s: non-blocking load returned %d, expected a refusal (%s)", url, rc, needle);
    assert_int_equal(c.state.size, 0);
    check_message(s, "non-blocking", c.message, needle);
    if (took >= CONNECT_MS + MARGIN_MS)
        fail_msg("%s: non-blocking load took %lld ms", url, took);
    async_call_dispose(&c);
    csession_store_free(st);
}

/* Blocking and non-blocking: `key` loads as the state save_on() wrote. */
static void expect_loads(csession_store *st, const char *key)
{
    store_expect_str(st, key, "{\"user\":\"ada\"}");
    char text[128];
    uint64_t rev = 0;
    int rc = async_load(st, &pl, key, text, sizeof text, &rev);
    if (rc != 0)
        fail_msg("non-blocking load: %d (%s)", rc, csession_last_error());
    assert_string_equal(text, "{\"user\":\"ada\"}");
}

/* A session on `srv` (TLS), saved through a store that verifies nothing. */
static void save_unverified(const redis_server *srv, int client, const servers *s, char key[65])
{
    char url[256];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d?tls_verify=0", srv->port);
    csession_store *st = store_for(url, client ? s : NULL, client);
    save_on(st, key);
    csession_store_free(st);
}

static void test_right_ca_works(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d", s->good.port);
    csession_store *st = store_for(url, s, 0);
    save_on(st, key);
    expect_loads(st, key);
    csession_store_free(st);
}

static void test_unknown_ca_refused(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    save_unverified(&s->other, 0, s, key);
    url_of(url, sizeof url, "rediss", s->other.port, "");
    expect_refused(s, url, 0, key, "signed by an unknown CA");
}

static void test_name_mismatch_refused(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    save_unverified(&s->good, 0, s, key);
    url_of(url, sizeof url, "rediss", s->good.port, "?tls_server_name=wrong");
    expect_refused(s, url, 0, key, "name mismatch");
}

static void test_expired_refused(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    save_unverified(&s->expired, 0, s, key);
    url_of(url, sizeof url, "rediss", s->expired.port, "");
    expect_refused(s, url, 0, key, "certificate has expired");
}

static void test_client_certificate(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    save_unverified(&s->mutual, 1, s, key);
    url_of(url, sizeof url, "rediss", s->mutual.port, "");
    expect_refused(s, url, 0, key, "requires a client certificate");
    /* Given, it works. */
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d", s->mutual.port);
    csession_store *st = store_for(url, s, 1);
    expect_loads(st, key);
    csession_store_free(st);
}

static void test_plain_url_to_tls_port_refused(void **state)
{
    servers *s = *state;
    char url[256], key[65];
    save_unverified(&s->good, 0, s, key);
    url_of(url, sizeof url, "redis", s->good.port, "");
    /* The server drops a client that does not start with a handshake. */
    expect_refused(s, url, 0, key, "connection closed by the Redis server");
}

static void test_tls_url_to_plain_port_refused(void **state)
{
    servers *s = *state;
    char plain[256], url[256], key[65];
    snprintf(plain, sizeof plain, "redis://127.0.0.1:%d", s->plain.port);
    csession_store *st = store_for(plain, NULL, 0);
    save_on(st, key);
    csession_store_free(st);
    url_of(url, sizeof url, "rediss", s->plain.port, "");
    /* Redis waits for the end of a line that never comes, or answers
     * with an error that is no TLS record: either way it ends in time. */
    expect_refused(s, url, 0, key, "no answer within 500 ms");
}

/* The server killed and started again on the same port: the store
 * connects again over TLS by itself (the data went with the server). */
static void test_server_restarted(void **state)
{
    servers *s = *state;
    tls_certs *c = &s->certs;
    redis_server srv;
    if (redis_server_start_tls(&srv, c->server_cert, c->server_key, c->ca, 0, NULL) != 0)
        fail_msg("cannot start redis-server");
    char url[256], key[65];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d", srv.port);
    csession_store *st = store_for(url, s, 0);
    save_on(st, key);
    expect_loads(st, key);
    unsigned long opened = store_redis_stats(st).opened;

    assert_int_equal(redis_server_restart(&srv), 0);
    save_on(st, key);
    expect_loads(st, key);
    assert_int_equal(redis_server_restart(&srv), 0);
    assert_int_equal(async_save(st, &pl, "{\"user\":\"ada\"}", key), 0);
    expect_loads(st, key);
    assert_true(store_redis_stats(st).opened > opened);
    csession_store_free(st);
    redis_server_stop(&srv);
}

static void test_verify_off_works_and_logs(void **state)
{
    servers *s = *state;
    log_capture logs;
    log_capture_start(&logs);
    /* The wrong CA's certificate and a wrong name are let through. */
    char url[256], key[65];
    snprintf(url, sizeof url, "rediss://127.0.0.1:%d?tls_verify=0&tls_server_name=wrong",
             s->other.port);
    csession_store *st = store_for(url, NULL, 0);
    save_on(st, key);
    expect_loads(st, key);
    csession_store_free(st);
    log_capture_stop(&logs);
    if (log_capture_find(&logs, CSESSION_LOG_WARN, "without certificate verification") < 1) {
        log_capture_print(&logs);
        fail_msg("no warning about the unverified connection");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_ca_works),
        cmocka_unit_test(test_unknown_ca_refused),
        cmocka_unit_test(test_name_mismatch_refused),
        cmocka_unit_test(test_expired_refused),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_plain_url_to_tls_port_refused),
        cmocka_unit_test(test_tls_url_to_plain_port_refused),
        cmocka_unit_test(test_server_restarted),
        cmocka_unit_test(test_verify_off_works_and_logs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
