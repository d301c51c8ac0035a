/* The Redis store against the shared test server (the ctest fixture; the
 * tests that count commands use one of their own): every vtable operation and
 * its codes, TTLs as Redis sees them, actix-session's layout, key collisions,
 * key mapping, load_touch, many threads through one pool, and fork(): prefork
 * workers, and a pool whose lock and connection another thread held at the
 * moment of the fork. Fault injection
 * (killed, paused, password-protected servers) is in
 * test_store_redis_faults.c, on servers of its own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "latch.h"
#include "prefork.h"
#include "redis_server.h"
#include "stores/redis/commands.h"
#include "stores/redis/pool.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

#define TTL 3600

static char url[256];
static redisContext *raw; /* a plain connection to check what the store did */
static char prefix[64];   /* unique to this run, so parallel runs do not meet */

static int setup(void **state)
{
    (void)state;
    if (redis_fixture_url(url, sizeof url) != 0) {
        fprintf(stderr, "no Redis server: set CSESSION_TEST_REDIS_URL or run through ctest\n");
        return -1;
    }
    raw = redis_test_connect(url);
    if (!raw) {
        fprintf(stderr, "cannot connect to %s\n", url);
        return -1;
    }
    snprintf(prefix, sizeof prefix, "csession-test:%ld:", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (raw)
        redisFree(raw);
    return 0;
}

static csession_store *new_store_with(const csession_store_redis_options *o)
{
    csession_store *s = NULL;
    int rc = csession_store_redis_new(&s, url, o);
    if (rc)
        fail_msg("csession_store_redis_new: %s", csession_last_error());
    return s;
}

static csession_store *new_store(void)
{
    return new_store_with(NULL);
}

static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

/* TTL of a Redis key in seconds (-2: absent, -1: no TTL). */
static long long ttl_of(const char *rkey, size_t len)
{
    redisReply *r = cmd("TTL %b", rkey, len);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* ---- the vtable ---------------------------------------------------------- */

static void test_operations(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    /* Binary-safe: a NUL in the middle travels intact. */
    static const char st1[] = "{\"v\":1,\"state\":{\"a\":\"1\"}}\0tail";
    store_save_ok(s, st1, sizeof st1 - 1, TTL, key);
    store_expect_state(s, key, st1, sizeof st1 - 1);
    long long t = ttl_of(key, 64); /* no prefix: the Redis key is the session key */
    assert_true(t > TTL - 5 && t <= TTL);

    /* update: same key, new state, TTL reset to the new value */
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, key, 64, "{\"b\":2}", 7, 100, &k), 0);
    assert_int_equal(k.size, 64);
    assert_memory_equal(k.ptr, key, 64);
    store_expect_state(s, key, "{\"b\":2}", 7);
    t = ttl_of(key, 64);
    assert_true(t > 95 && t <= 100);

    /* update_ttl: TTL changes, state stays */
    assert_int_equal(s->update_ttl(s, key, 64, 5000), 0);
    t = ttl_of(key, 64);
    assert_true(t > 4995 && t <= 5000);
    store_expect_state(s, key, "{\"b\":2}", 7);

    /* remove; then everything about the key is "absent" but not an error */
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(ttl_of(key, 64), -2);
    store_expect_state(s, key, NULL, 0);
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(s->update_ttl(s, key, 64, 10), 0);
    assert_int_equal(ttl_of(key, 64), -2); /* EXPIRE does not create it */

    /* An empty state is a state. */
    store_save_ok(s, NULL, 0, TTL, key);
    store_expect_state(s, key, "", 0);
    assert_int_equal(s->remove(s, key, 64), 0);

    /* Argument checks */
    assert_int_equal(s->save(s, "x", 1, 0, &k), CSESSION_EINVAL);
    assert_int_equal(s->save(s, NULL, 1, TTL, &k), CSESSION_EINVAL);
    assert_int_equal(s->save(s, "x", 1, TTL, NULL), CSESSION_EINVAL);
    assert_int_equal(s->update(s, key, 64, "x", 1, 0, &k), CSESSION_EINVAL);
    assert_int_equal(s->update_ttl(s, key, 64, 0), CSESSION_EINVAL);
    assert_int_equal(s->load(s, key, 64, NULL), CSESSION_EINVAL);

    /* A TTL beyond a century is cut to a century rather than refused. */
    store_save_ok(s, "x", 1, INT64_MAX, key);
    t = ttl_of(key, 64);
    assert_true(t > 3155760000LL - 5 && t <= 3155760000LL);
    assert_int_equal(s->remove(s, key, 64), 0);

    csession_buf_dispose(&k);
    csession_store_free(s);
}

/* Keys the store cannot have made are absent, without any I/O: a store whose
 * server does not exist still answers. */
static void test_invalid_keys_no_io(void **state)
{
    (void)state;
    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(&s, "redis://127.0.0.1:1", NULL), 0);
    static const char *const bad[] = {
        "short",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789A-", /* '-' */
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABC", /* 65 */
        "*",
    };
    csession_buf b = CSESSION_BUF_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s->load(s, bad[i], strlen(bad[i]), &b), CSESSION_ENOTFOUND);
        assert_int_equal(s->remove(s, bad[i], strlen(bad[i])), 0);
        assert_int_equal(s->update_ttl(s, bad[i], strlen(bad[i]), 10), 0);
        assert_int_equal(csession__store_redis_load_touch(s, bad[i], strlen(bad[i]), 10, &b),
                         CSESSION_ENOTFOUND);
    }
    /* A valid key does reach the (absent) server. */
    const char *good = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    assert_int_equal(s->load(s, good, 64, &b), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "cannot connect to Redis at 127.0.0.1:1"));
    csession__redis_stats st;
    assert_int_equal(csession__store_redis_stats(s, &st), 0);
    assert_int_equal(st.opened, 0);
    assert_int_equal(st.open, 0); /* the failed attempt gave its slot back */
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* update of a garbage key, and of one that vanished, saves under a new key */
static void test_update_vanished(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, "old", 3, TTL, key);
    redisReply *r = cmd("DEL %b", key, (size_t)64);
    freeReplyObject(r);

    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, key, 64, "new", 3, 200, &k), 0);
    assert_int_equal(k.size, 64);
    assert_memory_not_equal(k.ptr, key, 64);
    store_expect_state(s, k.ptr, "new", 3);
    long long t = ttl_of(k.ptr, 64);
    assert_true(t > 195 && t <= 200);
    assert_int_equal(ttl_of(key, 64), -2); /* the old key is not brought back */
    assert_int_equal(s->remove(s, k.ptr, 64), 0);

    assert_int_equal(s->update(s, "garbage", 7, "g", 1, TTL, &k), 0);
    assert_int_equal(k.size, 64);
    store_expect_state(s, k.ptr, "g", 1);
    assert_int_equal(s->remove(s, k.ptr, 64), 0);
    csession_buf_dispose(&k);
    csession_store_free(s);
}

static void test_expiry(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, "x", 1, TTL, key);
    redisReply *r = cmd("PEXPIRE %b 1", key, (size_t)64);
    freeReplyObject(r);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    store_expect_state(s, key, NULL, 0);
    csession_store_free(s);
}

static void test_state_limit(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.max_state_bytes = 10;
    csession_store *s = new_store_with(&o);
    char key[65];
    store_save_ok(s, "0123456789", 10, TTL, key);
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "0123456789A", 11, TTL, &k), CSESSION_ETOOBIG);
    assert_non_null(strstr(csession_last_error(), "exceeds the Redis store's limit of 10"));
    assert_int_equal(s->update(s, key, 64, "0123456789A", 11, TTL, &k), CSESSION_ETOOBIG);
    store_expect_state(s, key, "0123456789", 10); /* a refused update changes nothing */
    assert_int_equal(s->remove(s, key, 64), 0);
    csession_buf_dispose(&k);
    csession_store_free(s);
}

/* A state larger than the command buffer on the stack (and binary bytes)
 * goes out and comes back whole, through save and update. */
static void test_large_state(void **state)
{
    (void)state;
    csession_store *s = new_store();
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + 1);
    char key[65];
    store_save_ok(s, big, sizeof big, TTL, key);
    store_expect_state(s, key, big, sizeof big);
    big[0] = 'x';
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, key, 64, big, sizeof big, TTL, &k), 0);
    store_expect_state(s, key, big, sizeof big);
    assert_int_equal(s->remove(s, key, 64), 0);
    csession_buf_dispose(&k);
    csession_store_free(s);
}

/* ---- actix-session's layout --------------------------------------------- */

/* A state written by actix-session (SET by a plain client under a 64-character
 * key, no prefix) loads, and decodes into its values. */
static void test_actix_layout(void **state)
{
    (void)state;
    /* A fresh key: runs that share one server must not meet. */
    char key[CSESSION_SESSION_KEY_LEN + 1];
    assert_int_equal(csession_session_key_generate(key, sizeof key), 0);
    const char *stored = "{\"v\":1,\"state\":{\"user_id\":\"alice\",\"counter\":41}}";
    redisReply *r = cmd("SET %s %s EX 60", key, stored);
    freeReplyObject(r);

    csession_store *s = new_store();
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, key, 64, &b), 0);
    assert_string_equal(b.ptr, stored);
    csession *sess = NULL;
    assert_int_equal(csession_decode(&sess, b.ptr, b.size), 0);
    int64_t n = 0;
    assert_int_equal(csession_get_int64(sess, "counter", &n), 0);
    assert_int_equal(n, 41);
    const char *user = NULL;
    size_t user_len = 0;
    assert_int_equal(csession_get_string(sess, "user_id", &user, &user_len), 0);
    assert_string_equal(user, "alice");
    csession_free(sess);

    /* actix-session's older map of JSON-encoded strings loads too. */
    r = cmd("SET %s %s EX 60", key, "{\"user_id\":\"\\\"bob\\\"\"}");
    freeReplyObject(r);
    assert_int_equal(s->load(s, key, 64, &b), 0);
    assert_int_equal(csession_decode(&sess, b.ptr, b.size), 0);
    assert_int_equal(csession_get_string(sess, "user_id", &user, &user_len), 0);
    assert_string_equal(user, "bob");
    csession_free(sess);

    assert_int_equal(s->remove(s, key, 64), 0);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* The whole request flow through a manager on the Redis store: the state a
 * request stored is in Redis under the key in the cookie, and a value put
 * there by another service is what the next request reads. */
static void test_through_manager(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    char pfx[96];
    snprintf(pfx, sizeof pfx, "%smgr:", prefix);
    o.key_prefix = pfx;
    csession_store *s = new_store_with(&o);
    csession_config *cfg = NULL;
    assert_int_equal(csession_config_new(&cfg), 0);
    unsigned char master[64];
    assert_int_equal(csession_key_generate(master, sizeof master), 0);
    assert_int_equal(csession_config_add_key(cfg, master, sizeof master), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, s), 0);
    csession_config_free(cfg);

    csession *sess = NULL;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "counter", 1), 0);
    csession_buf set_cookie = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr, sess, &set_cookie), 0);
    csession_free(sess);
    assert_true(set_cookie.size > 0);
    size_t cookie_len = strcspn(set_cookie.ptr, ";");

    /* Exactly one key under our prefix, holding the state. */
    redisReply *r = cmd("KEYS %s*", pfx);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 1);
    char rkey[160];
    snprintf(rkey, sizeof rkey, "%s", r->element[0]->str);
    freeReplyObject(r);
    assert_int_equal(strlen(rkey), strlen(pfx) + 64);
    r = cmd("GET %s", rkey);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(r->str, "\"counter\":1"));
    freeReplyObject(r);

    /* Another service changes it; the next request sees the change. */
    r = cmd("SET %s %s XX KEEPTTL", rkey, "{\"v\":1,\"state\":{\"counter\":7}}");
    freeReplyObject(r);
    assert_int_equal(csession_manager_load(mgr, set_cookie.ptr, cookie_len, &sess), 0);
    int64_t n = 0;
    assert_int_equal(csession_get_int64(sess, "counter", &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(csession_purge(sess), 0);
    csession_buf removal = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr, sess, &removal), 0);
    csession_free(sess);
    r = cmd("EXISTS %s", rkey);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);

    csession_buf_dispose(&removal);
    csession_buf_dispose(&set_cookie);
    csession_manager_free(mgr);
}

/* ---- key collisions ---------------------------------------------------- */

typedef struct scripted_keys {
    const char *const *keys;
    size_t n;
    size_t next;
} scripted_keys;

static void scripted_keygen(char out[64], void *ctx)
{
    scripted_keys *k = ctx;
    memcpy(out, k->keys[k->next < k->n ? k->next : k->n - 1], 64);
    k->next++;
}

static void test_collision(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    char pfx[96];
    snprintf(pfx, sizeof pfx, "%scollide:", prefix);
    o.key_prefix = pfx;
    csession_store *s = new_store_with(&o);
    static const char *const keys[] = {
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    };
    scripted_keys script = {keys, 2, 0};
    assert_int_equal(csession__store_redis_set_keygen(s, scripted_keygen, &script), 0);

    /* The first draw is taken: SET NX answers nil, a second key is drawn. */
    redisReply *r = cmd("SET %s%s taken EX 60", pfx, keys[0]);
    freeReplyObject(r);
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "mine", 4, TTL, &k), 0);
    assert_int_equal(script.next, 2);
    assert_string_equal(k.ptr, keys[1]);
    store_expect_state(s, keys[0], "taken", 5); /* never overwritten */
    store_expect_state(s, keys[1], "mine", 4);

    /* Every draw taken: a clean failure after 8 attempts, no key returned. */
    script.next = 0;
    script.n = 1;
    assert_int_equal(s->save(s, "x", 1, TTL, &k), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "could not draw an unused session key in 8"));
    assert_int_equal(script.next, 8);
    assert_int_equal(k.size, 0);
    store_expect_state(s, keys[0], "taken", 5);

    /* update of a vanished key collides too, and still never overwrites */
    assert_int_equal(s->remove(s, keys[1], 64), 0);
    script.next = 0;
    script.n = 2;
    assert_int_equal(s->update(s, keys[1], 64, "again", 5, TTL, &k), 0);
    assert_string_equal(k.ptr, keys[1]); /* drawn again: keys[0] was taken */
    store_expect_state(s, keys[1], "again", 5);

    assert_int_equal(s->remove(s, keys[0], 64), 0);
    assert_int_equal(s->remove(s, keys[1], 64), 0);
    csession_buf_dispose(&k);
    csession_store_free(s);
}

/* ---- key prefix and mapper ---------------------------------------------- */

static int hash_tag_mapper(const char *key, size_t len, csession_buf *out, void *payload)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "%s{%.*s}", (const char *)payload, (int)len, key);
    return csession_buf_set(out, buf, (size_t)n);
}

static int failing_mapper(const char *key, size_t len, csession_buf *out, void *payload)
{
    (void)key;
    (void)len;
    (void)out;
    int mode = *(const int *)payload;
    if (mode == 0)
        return csession_set_error(CSESSION_EINVAL, "no tenant for this key");
    if (mode == 1)
        return CSESSION_ENOMEM; /* no message of its own */
    if (mode == 2)
        return 7; /* not a code at all */
    return 0;     /* and no key */
}

static void test_key_mapping(void **state)
{
    (void)state;
    char pfx[96];
    snprintf(pfx, sizeof pfx, "%sp:", prefix);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = pfx;
    csession_store *s = new_store_with(&o);
    char key[65], rkey[200];
    store_save_ok(s, "prefixed", 8, TTL, key);
    snprintf(rkey, sizeof rkey, "%s%s", pfx, key);
    long long t = ttl_of(rkey, strlen(rkey));
    assert_true(t > TTL - 5);
    assert_int_equal(ttl_of(key, 64), -2);
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(ttl_of(rkey, strlen(rkey)), -2);
    csession_store_free(s);

    o.key_prefix = NULL;
    o.key_mapper = hash_tag_mapper;
    o.key_mapper_payload = pfx;
    s = new_store_with(&o);
    store_save_ok(s, "mapped", 6, TTL, key);
    snprintf(rkey, sizeof rkey, "%s{%s}", pfx, key);
    store_expect_state(s, key, "mapped", 6);
    assert_true(ttl_of(rkey, strlen(rkey)) > TTL - 5);
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(ttl_of(rkey, strlen(rkey)), -2);
    csession_store_free(s);

    int mode = 0;
    o.key_mapper = failing_mapper;
    o.key_mapper_payload = &mode;
    s = new_store_with(&o);
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, key, 64, &b), CSESSION_EINVAL);
    assert_string_equal(csession_last_error(), "no tenant for this key");
    mode = 1;
    assert_int_equal(s->save(s, "x", 1, TTL, &b), CSESSION_ENOMEM);
    assert_non_null(strstr(csession_last_error(), "key_mapper failed"));
    assert_int_equal(b.size, 0);
    mode = 2;
    assert_int_equal(s->remove(s, key, 64), CSESSION_ESTORE);
    mode = 3;
    assert_int_equal(s->update_ttl(s, key, 64, 5), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "empty key"));
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* A key of another type under a session key (planted, or a clash) is not a
 * session: not found, counted, so that the request gets a fresh session
 * and its holder is never stuck with errors. */
static int fixed_mapper(const char *key, size_t len, csession_buf *out, void *payload)
{
    (void)key;
    (void)len;
    return csession_buf_set(out, payload, strlen(payload));
}

static void test_error_reply(void **state)
{
    (void)state;
    char list[96];
    snprintf(list, sizeof list, "%slist", prefix);
    redisReply *r = cmd("RPUSH %s a", list);
    freeReplyObject(r);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_mapper = fixed_mapper;
    o.key_mapper_payload = list;
    csession_store *s = new_store_with(&o);
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(s->load(s, key, 64, &b), CSESSION_ENOTFOUND);
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 10, &b), CSESSION_ENOTFOUND);
    assert_int_equal(b.size, 0);
    assert_int_equal(store_redis_stats(s).refused_values, 2);
    /* An error reply leaves the connection in use: nothing was dropped. */
    csession__redis_stats st;
    assert_int_equal(csession__store_redis_stats(s, &st), 0);
    assert_int_equal(st.opened, 1);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.idle, 1);
    r = cmd("DEL %s", list);
    freeReplyObject(r);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* ---- load_touch ---------------------------------------------------------- */

/* Command counts (INFO commandstats) are server-wide, and the fixture's server
 * is shared with the tests ctest runs in parallel, whose commands would be
 * counted too. A test that counts commands points url and raw at a server of
 * its own for its duration (setup and teardown, so a failed assertion does not
 * leave the other tests on it). */
static redis_server own_server;
static char shared_url[sizeof url];
static redisContext *shared_raw;

static int own_server_setup(void **state)
{
    (void)state;
    if (redis_server_start(&own_server, NULL) != 0)
        return -1;
    redisContext *c = redis_test_connect(own_server.url);
    if (!c) {
        redis_server_stop(&own_server);
        return -1;
    }
    memcpy(shared_url, url, sizeof url);
    shared_raw = raw;
    snprintf(url, sizeof url, "%s", own_server.url);
    raw = c;
    return 0;
}

static int own_server_teardown(void **state)
{
    (void)state;
    redisFree(raw);
    raw = shared_raw;
    memcpy(url, shared_url, sizeof url);
    redis_server_stop(&own_server);
    return 0;
}

static long long command_calls(const char *name)
{
    char field[64];
    snprintf(field, sizeof field, "cmdstat_%s:calls=", name);
    long long n = redis_server_info_number(&own_server, "commandstats", field);
    assert_true(n >= 0);
    return n;
}

static void test_load_touch(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, "touch me", 8, 50, key);
    /* the server knows the script (else NOSCRIPT, then EVAL, the first time) */
    freeReplyObject(cmd("SCRIPT LOAD %s", csession__redis_read_touch_script()));
    long long scripts_before = command_calls("evalsha") + command_calls("eval");
    long long get_before = command_calls("get") + command_calls("getex");
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 7000, &b), 0);
    assert_int_equal(b.size, 8);
    assert_memory_equal(b.ptr, "touch me", 8);
    long long t = ttl_of(key, 64);
    assert_true(t > 6995 && t <= 7000);
    /* one command, the read-and-touch script, and no GET */
    assert_int_equal(command_calls("evalsha") + command_calls("eval"), scripts_before + 1);
    assert_int_equal(command_calls("get") + command_calls("getex"), get_before);

    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 10, &b), CSESSION_ENOTFOUND);
    assert_int_equal(b.size, 0);
    assert_int_equal(ttl_of(key, 64), -2);
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 0, &b), CSESSION_EINVAL);
    assert_int_equal(csession__store_redis_load_touch(s, key, 64, 10, NULL), CSESSION_EINVAL);
    csession__redis_stats st;
    assert_int_equal(csession__store_redis_stats(s, &st), 0);
    assert_int_equal(st.refused_values, 0);
    csession_store_free(s);

    /* Not a Redis store */
    csession_store *m = NULL;
    assert_int_equal(csession_store_memory_new(&m, NULL), 0);
    assert_false(csession__store_is_redis(m));
    assert_false(csession__store_is_redis(NULL));
    assert_int_equal(csession__store_redis_load_touch(m, key, 64, 10, &b), CSESSION_EINVAL);
    assert_int_equal(csession__store_redis_set_keygen(m, NULL, NULL), CSESSION_EINVAL);
    csession_store_free(m);
    csession_buf_dispose(&b);
}

/* Through the manager, a read-only request under ON_EVERY_REQUEST costs one
 * command (the read-and-touch script) that also extends the TTL; the commit
 * sends nothing. commandstats counts the commands a script runs too, so the
 * commands the client sends are the scripts, GET, GETEX and SET. */
static void test_read_only_request_one_round_trip(void **state)
{
    (void)state;
    csession_store *s = new_store();
    csession_config *cfg = NULL;
    unsigned char master[64];
    assert_int_equal(csession_key_generate(master, sizeof master), 0);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, master, sizeof master), 0);
    assert_int_equal(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST), 0);
    assert_int_equal(csession_config_set_browser_session(cfg, 9000), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, s), 0);
    csession_config_free(cfg);

    csession *sess = NULL;
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "counter", 1), 0);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    csession_free(sess);
    char cookie[512];
    snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(set.ptr, ";"), set.ptr);

    freeReplyObject(cmd("SCRIPT LOAD %s", csession__redis_read_touch_script()));
    long long total_before = command_calls("getex") + command_calls("get") +
                             command_calls("evalsha") + command_calls("eval") +
                             command_calls("set");
    assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &sess), 0);
    int64_t n = 0;
    assert_int_equal(csession_get_int64(sess, "counter", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    assert_int_equal(set.size, 0); /* browser session: nothing to re-send */
    csession_free(sess);
    long long total_after = command_calls("getex") + command_calls("get") +
                            command_calls("evalsha") + command_calls("eval") +
                            command_calls("set");
    assert_int_equal(total_after - total_before, 1);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

/* ---- threads ------------------------------------------------------------- */

#define THREADS 8
#define ROUNDS 300

typedef struct worker {
    csession_store *store;
    int id;
    int failures;
    char message[256];
} worker;

static void worker_fail(worker *w, const char *what)
{
    if (w->failures++ == 0)
        snprintf(w->message, sizeof w->message, "thread %d: %s: %s", w->id, what,
                 csession_last_error());
}

static void *work(void *arg)
{
    worker *w = arg;
    csession_store *s = w->store;
    csession_buf key = CSESSION_BUF_INIT, again = CSESSION_BUF_INIT, got = CSESSION_BUF_INIT;
    char st[96], st2[96];
    for (int i = 0; i < ROUNDS; i++) {
        int n = snprintf(st, sizeof st, "{\"thread\":%d,\"round\":%d}", w->id, i);
        if (s->save(s, st, (size_t)n, TTL, &key)) {
            worker_fail(w, "save");
            continue;
        }
        if (s->load(s, key.ptr, key.size, &got) || got.size != (size_t)n ||
            memcmp(got.ptr, st, (size_t)n) != 0)
            worker_fail(w, "load after save");
        int n2 = snprintf(st2, sizeof st2, "{\"thread\":%d,\"round\":%d,\"u\":1}", w->id, i);
        if (s->update(s, key.ptr, key.size, st2, (size_t)n2, TTL, &again) ||
            again.size != 64 || memcmp(again.ptr, key.ptr, 64) != 0)
            worker_fail(w, "update");
        if (csession__store_redis_load_touch(s, key.ptr, key.size, TTL, &got) ||
            got.size != (size_t)n2 || memcmp(got.ptr, st2, (size_t)n2) != 0)
            worker_fail(w, "load_touch after update");
        if (s->update_ttl(s, key.ptr, key.size, TTL))
            worker_fail(w, "update_ttl");
        if (s->remove(s, key.ptr, key.size))
            worker_fail(w, "remove");
        if (s->load(s, key.ptr, key.size, &got) != CSESSION_ENOTFOUND)
            worker_fail(w, "load after remove");
    }
    csession_buf_dispose(&key);
    csession_buf_dispose(&again);
    csession_buf_dispose(&got);
    return NULL;
}

/* More threads than connections: they share 4 and wait for each other. */
static void test_threads(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.pool_size = 4;
    o.pool_wait_timeout_ms = 30000;
    o.command_timeout_ms = 30000;
    csession_store *s = new_store_with(&o);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){s, i, 0, ""};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (w[i].failures)
            fprintf(stderr, "%s (%d failures)\n", w[i].message, w[i].failures);
        failures += w[i].failures;
    }
    assert_int_equal(failures, 0);
    csession__redis_stats st;
    assert_int_equal(csession__store_redis_stats(s, &st), 0);
    assert_true(st.opened >= 1 && st.opened <= 4);
    assert_int_equal(st.open, st.opened);
    assert_int_equal(st.idle, st.open);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.wait_timeouts, 0);
    csession_store_free(s);
}

/* ---- fork() ------------------------------------------------------------------ */

static void prefork_with_pool(unsigned int pool_size)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.pool_size = pool_size;
    csession_store *s = new_store_with(&o);
    csession_manager *mgr = prefork_manager(s);
    prefork_run(mgr, s, 4, 2000, 1, NULL);
    csession_manager_free(mgr);
}

static void test_prefork(void **state)
{
    prefork_with_pool(*(unsigned int *)*state);
}

/* PING on `c`: 1 when it answered PONG. */
static int ping(csession__redis_conn *c)
{
    static const char *const argv[] = {"PING"};
    static const size_t lens[] = {4};
    csession__redis_cmd cmd = {1, (const char **)argv, lens};
    redisReply *r = NULL;
    csession__redis_failure failure;
    if (csession__redis_conn_run(c, "PING", &cmd, 1, &r, &failure) != 0)
        return 0;
    int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    return ok;
}

/* A thread that holds the pool's only connection, then its lock, until told. */
typedef struct holder {
    csession__redis_pool *pool;
    csession__redis_conn *conn;
    latch holding, release;
} holder;

static void *hold_pool(void *arg)
{
    holder *h = arg;
    csession__redis_failure failure;
    if (csession__redis_pool_acquire(h->pool, 0, &h->conn, &failure) != 0)
        h->conn = NULL;
    pthread_mutex_lock(&h->pool->lock);
    latch_open(&h->holding);
    latch_wait(&h->release);
    pthread_mutex_unlock(&h->pool->lock);
    return NULL;
}

/*
 * fork() while another thread holds the pool's lock and its only
 * connection (pool_size 1): the child must neither wait for that lock nor
 * for that connection, nor use it; it closes it and opens its own. The
 * parent's thread then gives the connection back, and it still works.
 */
static void test_fork_while_pool_busy(void **state)
{
    (void)state;
    char host[64];
    int port = 0;
    assert_int_equal(sscanf(url, "redis://%63[^:]:%d", host, &port), 2);
    csession__redis_target target;
    memset(&target, 0, sizeof target);
    target.host = host;
    target.port = port;
    target.connect_timeout_ms = 2000;
    target.command_timeout_ms = 2000;
    csession__redis_pool pool;
    assert_int_equal(csession__redis_pool_init(&pool, &target, 1, 2000), 0);

    holder h = {&pool, NULL, LATCH_INIT, LATCH_INIT};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_pool, &h), 0);
    latch_wait(&h.holding);
    assert_non_null(h.conn);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a hang on the inherited lock becomes a failure */
        int inherited_fd = csession__redis_conn_fd(h.conn);
        csession__redis_conn *c = NULL;
        csession__redis_failure failure;
        int code = 0;
        if (csession__redis_pool_acquire(&pool, 0, &c, &failure) != 0)
            code = 2;
        else if (!ping(c))
            code = 3;
        /* The inherited descriptor is closed (a new one may take its number). */
        else if (csession__redis_conn_fd(c) != inherited_fd && fcntl(inherited_fd, F_GETFD) != -1)
            code = 5;
        if (c)
            csession__redis_pool_release(&pool, c);
        csession__redis_stats st;
        memset(&st, 0, sizeof st);
        csession__redis_pool_add_stats(&pool, &st);
        if (code == 0 && (st.inherited != 1 || st.opened != 2 || st.open != 1))
            code = 4;
        csession__redis_pool_dispose(&pool);
        _exit(code);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    latch_open(&h.release);
    pthread_join(t, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child: %s %d", WIFSIGNALED(status) ? "killed by signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));

    /* The parent's connection, untouched by the child. */
    csession__redis_conn *back = h.conn;
    assert_true(ping(back));
    csession__redis_pool_release(&pool, back);
    csession__redis_conn *c = NULL;
    csession__redis_failure failure;
    assert_int_equal(csession__redis_pool_acquire(&pool, 0, &c, &failure), 0);
    assert_ptr_equal(c, back);
    assert_true(ping(c));
    csession__redis_pool_release(&pool, c);
    csession__redis_stats st;
    memset(&st, 0, sizeof st);
    csession__redis_pool_add_stats(&pool, &st);
    assert_int_equal(st.opened, 1);
    assert_int_equal(st.inherited, 0);
    csession__redis_pool_dispose(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_invalid_keys_no_io),
        cmocka_unit_test(test_update_vanished),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_state_limit),
        cmocka_unit_test(test_large_state),
        cmocka_unit_test(test_actix_layout),
        cmocka_unit_test(test_through_manager),
        cmocka_unit_test(test_collision),
        cmocka_unit_test(test_key_mapping),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test_setup_teardown(test_load_touch, own_server_setup, own_server_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_request_one_round_trip, own_server_setup, own_server_teardown),
        cmocka_unit_test(test_threads),
        PREFORK_TESTS(test_prefork),
        cmocka_unit_test(test_fork_while_pool_busy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
