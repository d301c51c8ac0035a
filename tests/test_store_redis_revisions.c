/* The Redis store's revisions against a redis-server of its own: the value
 * layout, the conditional writes and their script (EVALSHA, EVAL after
 * NOSCRIPT), states of earlier versions, a write's tag, and a commit in one
 * round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "log_capture.h"
#include "redis_server.h"
#include "stores/redis/commands.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

static redis_server server;
static redisContext *raw;

static int setup(void **state)
{
    (void)state;
    if (redis_server_start(&server, NULL) != 0)
        return -1;
    raw = redis_test_connect(server.url);
    return raw ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (raw)
        redisFree(raw);
    redis_server_stop(&server);
    return 0;
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

/* The value Redis holds under a session key (the store has no prefix). */
static void raw_value(const char *key, char *out, size_t size)
{
    redisReply *r = cmd("GET %s", key);
    out[0] = '\0';
    if (r->type == REDIS_REPLY_STRING)
        snprintf(out, size, "%.*s", (int)r->len, r->str);
    freeReplyObject(r);
}

static long long calls(const char *name)
{
    char field[64];
    snprintf(field, sizeof field, "cmdstat_%s:calls=", name);
    long long n = redis_server_info_number(&server, "commandstats", field);
    return n < 0 ? 0 : n; /* never called yet: no line */
}

static csession_store *new_store(void)
{
    csession_store *s = NULL;
    if (csession_store_redis_new(&s, server.url, NULL) != 0)
        fail_msg("csession_store_redis_new: %s", csession_last_error());
    assert_true(s->version >= 2);
    assert_non_null(s->load_rev);
    assert_non_null(s->update_if);
    assert_non_null(s->remove_if);
    assert_int_equal(s->flags & CSESSION_STORE_STATE_IN_COOKIE, 0);
    return s;
}

/* A manager with a fresh key on `store` (taken). */
static csession_manager *manager_on(csession_store *store)
{
    csession_config *cfg = NULL;
    unsigned char master[64];
    assert_int_equal(csession_key_generate(master, sizeof master), 0);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, master, sizeof master), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, store), 0);
    csession_config_free(cfg);
    return mgr;
}

/* The name=value pair of a Set-Cookie value, as a browser sends it back. */
static void cookie_of(const csession_buf *set, char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)strcspn(set->ptr, ";"), set->ptr);
}

static const char STATE1[] = "{\"v\":1,\"state\":{\"n\":1}}";
static const char STATE2[] = "{\"v\":1,\"state\":{\"n\":2}}";
static const char STATE3[] = "{\"v\":1,\"state\":{\"n\":3}}";

static void load_expect(csession_store *s, const char *key, const char *state, uint64_t rev)
{
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t got = 99;
    assert_int_equal(s->load_rev(s, key, 64, 0, &b, &got), 0);
    assert_string_equal(b.ptr, state);
    assert_int_equal(got, rev);
    csession_buf_dispose(&b);
}

static void test_script_sha(void **state)
{
    (void)state;
    redisReply *r = cmd("SCRIPT LOAD %s", csession__redis_write_if_script());
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, csession__redis_write_if_sha());
    freeReplyObject(r);
    r = cmd("SCRIPT LOAD %s", csession__redis_read_touch_script());
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, csession__redis_read_touch_sha());
    freeReplyObject(r);
}

static long long net_output_bytes(void)
{
    return redis_server_info_number(&server, "stats", "total_net_output_bytes:");
}

/* A value far over the store's limit, planted under a session key, is
 * refused without being read whole: the request gets a fresh session. */
static void test_oversized_value_not_read(void **state)
{
    (void)state;
    csession_store *s = new_store(); /* max_state_bytes: 1 MiB */
    char key[CSESSION_SESSION_KEY_LEN + 1];
    assert_int_equal(csession_session_key_generate(key, sizeof key), 0);
    freeReplyObject(cmd("SET %s x", key));
    freeReplyObject(cmd("SETRANGE %s %d y", key, 20 * 1024 * 1024)); /* 20 MiB */
    long long before = net_output_bytes();
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t rev;
    static log_capture logs;
    log_capture_start(&logs);
    assert_int_equal(s->load_rev(s, key, 64, 0, &b, &rev), CSESSION_ENOTFOUND);
    log_capture_stop(&logs);
    /* counted, reported (the first at once), never with the key */
    assert_int_equal(log_capture_find(&logs, CSESSION_LOG_WARN, "refused unread"), 1);
    assert_int_equal(log_capture_find(&logs, 0, key), 0);
    assert_int_equal(s->load_rev(s, key, 64, 60, &b, &rev), CSESSION_ENOTFOUND);
    long long sent = net_output_bytes() - before;
    /* two reads of at most 1 MiB + 65 bytes, and the INFO replies */
    assert_true(sent > 2 * 1024 * 1024 && sent < 2 * 1024 * 1024 + 64 * 1024);
    assert_int_equal(store_redis_stats(s).refused_values, 2);
    assert_int_equal(b.size, 0);
    /* exactly at the limit is a state; one byte over is not */
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.max_state_bytes = 100;
    csession_store *small = NULL;
    assert_int_equal(csession_store_redis_new(&small, server.url, &o), 0);
    char state100[101], state101[102];
    memset(state100, 'a', 100);
    memset(state101, 'a', 101);
    freeReplyObject(cmd("SET %s %b", key, state100, (size_t)100));
    assert_int_equal(small->load_rev(small, key, 64, 0, &b, &rev), 0);
    assert_int_equal(b.size, 100);
    freeReplyObject(cmd("SET %s %b", key, state101, (size_t)101));
    assert_int_equal(small->load_rev(small, key, 64, 0, &b, &rev), CSESSION_ENOTFOUND);
    /* ... also with the head the store adds (a state of 100 bytes with a
     * revision is longer than 100 bytes in Redis) */
    char env[101];
    memcpy(env, "{\"v\":1,\"state\":{\"a\":\"", 21);
    memset(env + 21, 'b', 100 - 21 - 3);
    memcpy(env + 97, "\"}}", 3);
    env[100] = '\0';
    char k2[65];
    store_save_ok(small, env, 100, 60, k2);
    assert_int_equal(small->update_if(small, k2, 64, 1, env, 100, 60), 0);
    load_expect(small, k2, env, 2);
    freeReplyObject(cmd("DEL %s", key));
    csession_buf_dispose(&b);
    csession_store_free(small);
    csession_store_free(s);
}

/* A key of another type under a session key: no session, and through the
 * manager a fresh one under a new key; the holder is never stuck. */
static void test_wrong_type_value(void **state)
{
    (void)state;
    csession_store *st = NULL;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = "wrongtype:";
    assert_int_equal(csession_store_redis_new(&st, server.url, &o), 0);
    csession_manager *mgr = manager_on(st);
    csession *sess;
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "n", 1), 0);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    char cookie[512];
    cookie_of(&set, cookie, sizeof cookie);
    csession_free(sess);
    /* the key now holds a hash */
    redisReply *keys = cmd("KEYS wrongtype:*");
    assert_int_equal(keys->elements, 1);
    freeReplyObject(cmd("DEL %s", keys->element[0]->str));
    freeReplyObject(cmd("HSET %s f v", keys->element[0]->str));
    static log_capture logs;
    log_capture_start(&logs);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &sess), 0);
        assert_int_equal(csession_count(sess), 0);
        assert_int_equal(csession_insert_int64(sess, "n", 5), 0);
        assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
        assert_true(set.size > 0);
        char fresh[512];
        cookie_of(&set, fresh, sizeof fresh);
        assert_string_not_equal(fresh, cookie);
        csession_free(sess);
        /* the new cookie works */
        assert_int_equal(csession_manager_load(mgr, fresh, strlen(fresh), &sess), 0);
        assert_int_equal(csession_count(sess), 1);
        assert_int_equal(csession_purge(sess), 0);
        assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
        csession_free(sess);
    }
    log_capture_stop(&logs);
    assert_int_equal(log_capture_find(&logs, CSESSION_LOG_WARN, "of another type"), 1);
    assert_int_equal(store_redis_stats(st).refused_values, 2);
    freeReplyObject(cmd("DEL %s", keys->element[0]->str));
    freeReplyObject(keys);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

/* Empty states, and states that start with a NUL byte, come back as they
 * were (GETRANGE of a missing key is empty too). */
static void test_empty_and_nul_states(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, "", 0, 60, key);
    load_expect(s, key, "", 0); /* not an envelope: no revision */
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t rev;
    assert_int_equal(s->update_if(s, key, 64, 0, "\0ab", 3, 60), 0);
    assert_int_equal(s->load_rev(s, key, 64, 0, &b, &rev), 0);
    assert_int_equal(b.size, 3);
    assert_memory_equal(b.ptr, "\0ab", 3);
    assert_int_equal(s->update_if(s, key, 64, 0, "", 0, 60), 0);
    assert_int_equal(s->load_rev(s, key, 64, 0, &b, &rev), 0);
    assert_int_equal(b.size, 0);
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(s->load_rev(s, key, 64, 0, &b, &rev), CSESSION_ENOTFOUND);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

static void test_layout_and_conditional_update(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65], value[256];
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    raw_value(key, value, sizeof value);
    assert_string_equal(value, "{\"v\":1,\"rev\":1,\"state\":{\"n\":1}}");
    load_expect(s, key, STATE1, 1);

    assert_int_equal(s->update_if(s, key, 64, 1, STATE2, strlen(STATE2), 60), 0);
    raw_value(key, value, sizeof value);
    /* {"v":1,"rev":2,"w":"<16 hex>","state":{"n":2}} */
    assert_int_equal(strncmp(value, "{\"v\":1,\"rev\":2,\"w\":\"", 20), 0);
    assert_int_equal(strlen(value), 20 + 16 + 2 + strlen(STATE2) - 7);
    assert_string_equal(value + 20 + 16, "\",\"state\":{\"n\":2}}");
    load_expect(s, key, STATE2, 2);
    /* the value is still an envelope the state decoder reads */
    csession *sess;
    assert_int_equal(csession_decode(&sess, value, strlen(value)), 0);
    csession_free(sess);

    /* a stale revision: refused, nothing written */
    assert_int_equal(s->update_if(s, key, 64, 1, STATE3, strlen(STATE3), 60),
                     CSESSION_ECONFLICT);
    load_expect(s, key, STATE2, 2);
    /* a deleted key: refused, never recreated */
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(s->update_if(s, key, 64, 2, STATE3, strlen(STATE3), 60),
                     CSESSION_ENOTFOUND);
    raw_value(key, value, sizeof value);
    assert_string_equal(value, "");
    /* the TTL is the one given */
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    assert_int_equal(s->update_if(s, key, 64, 1, STATE2, strlen(STATE2), 5000), 0);
    redisReply *r = cmd("TTL %s", key);
    assert_true(r->integer > 4000 && r->integer <= 5000);
    freeReplyObject(r);
    csession_store_free(s);
}

static void test_conditional_remove(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65], value[256];
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    assert_int_equal(s->update_if(s, key, 64, 1, STATE2, strlen(STATE2), 60), 0);
    assert_int_equal(s->remove_if(s, key, 64, 1), CSESSION_ECONFLICT);
    load_expect(s, key, STATE2, 2);
    assert_int_equal(s->remove_if(s, key, 64, 2), 0);
    raw_value(key, value, sizeof value);
    assert_string_equal(value, "");
    assert_int_equal(s->remove_if(s, key, 64, 2), CSESSION_ENOTFOUND);
    /* keys the store cannot have made: no I/O, not found */
    assert_int_equal(s->remove_if(s, "short", 5, 0), CSESSION_ENOTFOUND);
    assert_int_equal(s->update_if(s, "short", 5, 0, STATE1, strlen(STATE1), 60),
                     CSESSION_ENOTFOUND);
    csession_store_free(s);
}

static void test_states_of_earlier_versions(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[CSESSION_SESSION_KEY_LEN + 1], value[256];
    assert_int_equal(csession_session_key_generate(key, sizeof key), 0);
    /* written by an earlier version, or by actix-session: revision 0 */
    freeReplyObject(cmd("SET %s %s EX 60", key, STATE1));
    load_expect(s, key, STATE1, 0);
    assert_int_equal(s->update_if(s, key, 64, 1, STATE2, strlen(STATE2), 60),
                     CSESSION_ECONFLICT);
    assert_int_equal(s->update_if(s, key, 64, 0, STATE2, strlen(STATE2), 60), 0);
    load_expect(s, key, STATE2, 1);
    /* actix-session's older map of JSON-encoded strings: stored as it is */
    const char legacy[] = "{\"user_id\":\"\\\"bob\\\"\"}";
    freeReplyObject(cmd("SET %s %s EX 60", key, legacy));
    load_expect(s, key, legacy, 0);
    assert_int_equal(s->update_if(s, key, 64, 0, STATE3, strlen(STATE3), 60), 0);
    load_expect(s, key, STATE3, 1);
    /* the version 1 update advances the revision too */
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, key, 64, STATE1, strlen(STATE1), 60, &k), 0);
    assert_string_equal(k.ptr, key);
    load_expect(s, key, STATE1, 2);
    /* bytes that are not an envelope are kept exactly, at revision 0 */
    assert_int_equal(s->update_if(s, key, 64, 2, "raw bytes", 9, 60), 0);
    raw_value(key, value, sizeof value);
    assert_string_equal(value, "raw bytes");
    load_expect(s, key, "raw bytes", 0);
    csession_buf_dispose(&k);
    csession_store_free(s);
}

static void test_script_reloaded_after_flush(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    freeReplyObject(cmd("SCRIPT FLUSH"));
    long long eval_before = calls("eval");
    assert_int_equal(s->update_if(s, key, 64, 1, STATE2, strlen(STATE2), 60), 0);
    assert_int_equal(calls("eval"), eval_before + 1);
    /* known again: EVALSHA alone */
    long long evalsha_before = calls("evalsha");
    assert_int_equal(s->update_if(s, key, 64, 2, STATE3, strlen(STATE3), 60), 0);
    assert_int_equal(calls("eval"), eval_before + 1);
    assert_int_equal(calls("evalsha"), evalsha_before + 1);
    load_expect(s, key, STATE3, 3);
    csession_store_free(s);
}

/* The script run twice with one tag, as a retry after a dropped connection
 * does: the second run recognises the first's write instead of calling it
 * a conflict; another tag at the same revision is a conflict. */
static void test_retried_write_recognised(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    const char *sha = csession__redis_write_if_sha();
    const char *tail = STATE2 + 7;
    redisReply *r = cmd("EVALSHA %s 1 %s u 1 %s 60 e 0123456789abcdef", sha, key, tail);
    if (r->type == REDIS_REPLY_ERROR) { /* not loaded yet on this server */
        freeReplyObject(r);
        freeReplyObject(cmd("SCRIPT LOAD %s", csession__redis_write_if_script()));
        r = cmd("EVALSHA %s 1 %s u 1 %s 60 e 0123456789abcdef", sha, key, tail);
    }
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, 2);
    freeReplyObject(r);
    r = cmd("EVALSHA %s 1 %s u 1 %s 60 e 0123456789abcdef", sha, key, tail);
    assert_int_equal(r->integer, 2);
    freeReplyObject(r);
    r = cmd("EVALSHA %s 1 %s u 1 %s 60 e fedcba9876543210", sha, key, tail);
    assert_int_equal(r->integer, -1);
    freeReplyObject(r);
    load_expect(s, key, STATE2, 2);
    csession_store_free(s);
}

static void test_load_with_touch(void **state)
{
    (void)state;
    csession_store *s = new_store();
    char key[65];
    store_save_ok(s, STATE1, strlen(STATE1), 60, key);
    csession_buf b = CSESSION_BUF_INIT;
    uint64_t rev = 0;
    assert_int_equal(s->load_rev(s, key, 64, 7000, &b, &rev), 0);
    assert_string_equal(b.ptr, STATE1);
    assert_int_equal(rev, 1);
    redisReply *r = cmd("TTL %s", key);
    assert_true(r->integer > 6000);
    freeReplyObject(r);
    assert_int_equal(s->remove(s, key, 64), 0);
    assert_int_equal(s->load_rev(s, key, 64, 7000, &b, &rev), CSESSION_ENOTFOUND);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

/* A changed session costs one round trip to load and one to commit:
 * GETRANGE, then EVALSHA (which reads only the value's head). */
static void test_commit_one_round_trip(void **state)
{
    (void)state;
    csession_manager *mgr = manager_on(new_store());
    csession *sess;
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "n", 1), 0);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    csession_free(sess);
    char cookie[512];
    cookie_of(&set, cookie, sizeof cookie);
    /* the script is known to the server from here on */
    assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "n", 2), 0);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    csession_free(sess);

    /* commandstats counts the commands a script runs too: GETRANGE and SET
     * inside EVALSHA */
    static const char *const names[] = {"getrange", "evalsha", "set", "get",
                                        "getex", "expire", "eval", "del"};
    static const long long expected[] = {2, 1, 1, 0, 0, 0, 0, 0};
    long long before[8], after[8];
    for (int i = 0; i < 8; i++)
        before[i] = calls(names[i]);
    assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &sess), 0);
    assert_int_equal(csession_insert_int64(sess, "n", 3), 0);
    assert_int_equal(csession_manager_commit(mgr, sess, &set), 0);
    csession_free(sess);
    for (int i = 0; i < 8; i++) {
        after[i] = calls(names[i]);
        if (after[i] - before[i] != expected[i])
            fail_msg("%s called %lld times, not %lld", names[i], after[i] - before[i],
                     expected[i]);
    }
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_sha),
        cmocka_unit_test(test_layout_and_conditional_update),
        cmocka_unit_test(test_conditional_remove),
        cmocka_unit_test(test_states_of_earlier_versions),
        cmocka_unit_test(test_script_reloaded_after_flush),
        cmocka_unit_test(test_retried_write_recognised),
        cmocka_unit_test(test_load_with_touch),
        cmocka_unit_test(test_commit_one_round_trip),
        cmocka_unit_test(test_oversized_value_not_read),
        cmocka_unit_test(test_wrong_type_value),
        cmocka_unit_test(test_empty_and_nul_states),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
