/* Store calls that must work, for the store tests. */
#include "store_calls.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"

void store_save_ok(csession_store *s, const char *state, size_t len, int64_t ttl, char key[65])
{
    csession_buf k = CSESSION_BUF_INIT;
    if (s->save(s, state, len, ttl, &k) != 0)
        fail_msg("save: %s", csession_last_error());
    assert_int_equal(k.size, 64);
    assert_true(csession_session_key_valid(k.ptr, k.size));
    memcpy(key, k.ptr, 65);
    csession_buf_dispose(&k);
}

void store_save_str(csession_store *s, const char *state, int64_t ttl, char key[65])
{
    store_save_ok(s, state, strlen(state), ttl, key);
}

void store_expect_state(csession_store *s, const char *key, const char *expected, size_t len)
{
    csession_buf b = CSESSION_BUF_INIT;
    int rc = s->load(s, key, strlen(key), &b);
    if (!expected) {
        assert_int_equal(rc, CSESSION_ENOTFOUND);
    } else {
        if (rc != 0)
            fail_msg("load: %s", csession_last_error());
        assert_int_equal(b.size, len);
        assert_memory_equal(b.ptr, expected, len);
        assert_int_equal(b.ptr[b.size], '\0');
    }
    csession_buf_dispose(&b);
}

void store_expect_str(csession_store *s, const char *key, const char *expected)
{
    store_expect_state(s, key, expected, expected ? strlen(expected) : 0);
}

csession__redis_stats store_redis_stats(csession_store *s)
{
    csession__redis_stats st;
    assert_int_equal(csession__store_redis_stats(s, &st), 0);
    return st;
}

void store_redis_prefix(csession_store *s, char *out, size_t size)
{
    static const char any[] = "0000000000000000000000000000000000000000000000000000000000000000";
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(csession__store_redis_key(s, any, 64, &k), 0);
    assert_true(k.size >= 64 && k.size - 64 < size);
    memcpy(out, k.ptr, k.size - 64);
    out[k.size - 64] = '\0';
    csession_buf_dispose(&k);
}

void store_redis_age(csession_store *store, redisContext *c, int64_t seconds)
{
    char prefix[128];
    store_redis_prefix(store, prefix, sizeof prefix);
    long long cursor = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %lld MATCH %s* COUNT 1000", cursor, prefix);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        cursor = atoll(r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const redisReply *k = keys->element[i];
            redisReply *p = redisCommand(c, "PTTL %b", k->str, k->len);
            assert_non_null(p);
            long long pttl = p->type == REDIS_REPLY_INTEGER ? p->integer : -2;
            freeReplyObject(p);
            if (pttl < 0) /* gone meanwhile, or no TTL: not ours to age */
                continue;
            long long left = pttl - (long long)seconds * 1000;
            p = left > 0 ? redisCommand(c, "PEXPIRE %b %lld", k->str, k->len, left)
                         : redisCommand(c, "DEL %b", k->str, k->len);
            assert_non_null(p);
            freeReplyObject(p);
        }
        freeReplyObject(r);
    } while (cursor != 0);
}
