/* The store's Redis commands: see commands.h. */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"

/* Longest decimal int64 and its NUL. */
#define TTL_TEXT 24

/*
 * Runs `n` pipelined commands on a pooled connection. A connection that
 * drops is closed and the commands are sent once more on a new connection;
 * a timeout is not retried (the server may be busy carrying the command
 * out, and retrying would double the wait the caller configured).
 */
static int exec(csession__redis_pool *pool, const char *what, const csession__redis_cmd *cmds,
                size_t n, redisReply **replies)
{
    for (int attempt = 0;; attempt++) {
        csession__redis_conn *c;
        int rc = csession__redis_pool_acquire(pool, attempt > 0, &c);
        if (rc)
            return rc;
        csession__redis_failure failure;
        rc = csession__redis_conn_run(c, what, cmds, n, replies, &failure);
        if (rc == 0) {
            csession__redis_pool_release(pool, c);
            return 0;
        }
        int dropped = failure == CSESSION__REDIS_DROPPED;
        csession__redis_pool_discard(pool, c, dropped);
        if (!dropped || attempt > 0)
            return rc;
    }
}

static int exec1(csession__redis_pool *pool, const char *what, int argc, const char **argv,
                 const size_t *lens, redisReply **reply)
{
    csession__redis_cmd cmd = {argc, argv, lens};
    return exec(pool, what, &cmd, 1, reply);
}

static size_t ttl_text(char out[TTL_TEXT], int64_t ttl_seconds)
{
    return (size_t)snprintf(out, TTL_TEXT, "%" PRId64, ttl_seconds);
}

/* A bulk string or nil reply into `value`. */
static int take_value(const redisReply *r, const char *what, csession_buf *value)
{
    if (r->type == REDIS_REPLY_NIL)
        return CSESSION_ENOTFOUND;
    if (r->type != REDIS_REPLY_STRING)
        return csession__redis_reply_error(r, what);
    return csession__buf_set(value, r->str, (size_t)r->len);
}

int csession__redis_get(csession__redis_pool *pool, const char *key, size_t key_len,
                        csession_buf *value)
{
    const char *argv[] = {"GET", key};
    const size_t lens[] = {3, key_len};
    redisReply *r;
    int rc = exec1(pool, "Redis GET", 2, argv, lens, &r);
    if (rc)
        return rc;
    rc = take_value(r, "Redis GET", value);
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_set(csession__redis_pool *pool, const char *key, size_t key_len,
                        const char *value, size_t value_len, int64_t ttl_seconds, int mode,
                        int *stored)
{
    char ttl[TTL_TEXT];
    const char *cond = mode == CSESSION__REDIS_SET_XX ? "XX" : "NX";
    const char *argv[] = {"SET", key, value ? value : "", cond, "EX", ttl};
    const size_t lens[] = {3, key_len, value_len, 2, 2, ttl_text(ttl, ttl_seconds)};
    const char *what = mode == CSESSION__REDIS_SET_XX ? "Redis SET XX" : "Redis SET NX";
    redisReply *r;
    *stored = 0;
    int rc = exec1(pool, what, 6, argv, lens, &r);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_STATUS && r->len == 2 && memcmp(r->str, "OK", 2) == 0)
        *stored = 1;
    else if (r->type != REDIS_REPLY_NIL)
        rc = csession__redis_reply_error(r, what);
    csession__redis_reply_free(r);
    return rc;
}

/* An integer reply (EXPIRE, DEL): any value is success. */
static int expect_integer(redisReply *r, const char *what)
{
    int rc = r->type == REDIS_REPLY_INTEGER ? 0 : csession__redis_reply_error(r, what);
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_expire(csession__redis_pool *pool, const char *key, size_t key_len,
                           int64_t ttl_seconds)
{
    char ttl[TTL_TEXT];
    const char *argv[] = {"EXPIRE", key, ttl};
    const size_t lens[] = {6, key_len, ttl_text(ttl, ttl_seconds)};
    redisReply *r;
    int rc = exec1(pool, "Redis EXPIRE", 3, argv, lens, &r);
    return rc ? rc : expect_integer(r, "Redis EXPIRE");
}

int csession__redis_del(csession__redis_pool *pool, const char *key, size_t key_len)
{
    const char *argv[] = {"DEL", key};
    const size_t lens[] = {3, key_len};
    redisReply *r;
    int rc = exec1(pool, "Redis DEL", 2, argv, lens, &r);
    return rc ? rc : expect_integer(r, "Redis DEL");
}

/* "ERR unknown command ..." in every Redis version so far, also for a
 * command disabled with rename-command. */
static int unknown_command(const redisReply *r)
{
    static const char text[] = "ERR unknown command";
    return r->type == REDIS_REPLY_ERROR && r->len >= sizeof text - 1 &&
           memcmp(r->str, text, sizeof text - 1) == 0;
}

int csession__redis_getex(csession__redis_pool *pool, const char *key, size_t key_len,
                          int64_t ttl_seconds, csession_buf *value)
{
    char ttl[TTL_TEXT];
    const char *argv[] = {"GETEX", key, "EX", ttl};
    const size_t lens[] = {5, key_len, 2, ttl_text(ttl, ttl_seconds)};
    redisReply *r;
    int rc = exec1(pool, "Redis GETEX", 4, argv, lens, &r);
    if (rc)
        return rc;
    if (unknown_command(r))
        rc = csession__error(CSESSION_EUNSUPPORTED, "Redis GETEX: not known to this server");
    else
        rc = take_value(r, "Redis GETEX", value);
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_get_expire(csession__redis_pool *pool, const char *key, size_t key_len,
                               int64_t ttl_seconds, csession_buf *value)
{
    char ttl[TTL_TEXT];
    const char *get_argv[] = {"GET", key};
    const size_t get_lens[] = {3, key_len};
    const char *exp_argv[] = {"EXPIRE", key, ttl};
    const size_t exp_lens[] = {6, key_len, ttl_text(ttl, ttl_seconds)};
    const csession__redis_cmd cmds[2] = {{2, get_argv, get_lens}, {3, exp_argv, exp_lens}};
    redisReply *r[2];
    int rc = exec(pool, "Redis GET+EXPIRE", cmds, 2, r);
    if (rc)
        return rc;
    rc = take_value(r[0], "Redis GET", value);
    if (rc == 0 || rc == CSESSION_ENOTFOUND) {
        int e = r[1]->type == REDIS_REPLY_INTEGER
                    ? 0
                    : csession__redis_reply_error(r[1], "Redis EXPIRE");
        if (e)
            rc = e;
    }
    csession__redis_reply_free(r[0]);
    csession__redis_reply_free(r[1]);
    return rc;
}
