/* The store's Redis commands: see commands.h. */
#include "commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "digits.h"
#include "error.h"
#include "revision.h"

/* Longest decimal int64 and its NUL. */
#define TTL_TEXT 24

#define MAX_CMDS 2 /* commands pipelined by one operation */

static const char *const asking_argv[] = {"ASKING"};
static const size_t asking_lens[] = {6};

/*
 * One attempt on `c`: the commands, each preceded by ASKING after an ASK
 * redirect (ASKING is good for one command), then WAIT when `wait` (how
 * many replicas acknowledged the write goes to *acked). On success the
 * commands' replies are in replies[0 .. n).
 */
static int attempt(csession__redis_topology *t, csession__redis_conn *c,
                   const csession__redis_route *route, int wait, const char *what,
                   const csession__redis_cmd *cmds, size_t n, redisReply **replies,
                   long long *acked, csession__redis_failure *failure)
{
    csession__redis_cmd all[2 * MAX_CMDS + 1];
    redisReply *got[2 * MAX_CMDS + 1];
    size_t at[MAX_CMDS];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (route->asking)
            all[k++] = (csession__redis_cmd){1, (const char **)asking_argv, asking_lens};
        at[i] = k;
        all[k++] = cmds[i];
    }
    char replicas[16], ms[16];
    const char *wait_argv[3] = {"WAIT", replicas, ms};
    size_t wait_lens[3] = {4, 0, 0};
    if (wait) {
        wait_lens[1] = (size_t)snprintf(replicas, sizeof replicas, "%u", t->wait_replicas);
        wait_lens[2] = (size_t)snprintf(ms, sizeof ms, "%u", t->wait_timeout_ms);
        all[k++] = (csession__redis_cmd){3, wait_argv, wait_lens};
    }
    int rc = csession__redis_conn_run(c, what, all, k, got, failure);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        replies[i] = got[at[i]];
        got[at[i]] = NULL;
    }
    if (wait)
        *acked = got[k - 1]->type == REDIS_REPLY_INTEGER ? got[k - 1]->integer : -1;
    for (size_t i = 0; i < k; i++)
        csession__redis_reply_free(got[i]); /* ASKING's OK, WAIT's count */
    return 0;
}

static csession__redis_event event_of(csession__redis_failure failure)
{
    switch (failure) {
    case CSESSION__REDIS_DROPPED:
        return CSESSION__REDIS_EV_DROPPED;
    case CSESSION__REDIS_TIMEOUT:
        return CSESSION__REDIS_EV_TIMEOUT;
    case CSESSION__REDIS_UNREACHABLE:
        return CSESSION__REDIS_EV_UNREACHABLE;
    case CSESSION__REDIS_NOT_MASTER:
        return CSESSION__REDIS_EV_NOT_MASTER;
    case CSESSION__REDIS_FAILED:
    default:
        return CSESSION__REDIS_EV_FAILED;
    }
}

static void free_replies(redisReply **replies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        csession__redis_reply_free(replies[i]);
        replies[i] = NULL;
    }
}

/*
 * Runs `n` pipelined commands on `key` (all on that key) on a pooled
 * connection of the server the topology routes it to. `write`: a change
 * that WAIT must see replicated, when the URL asks for it.
 *
 * What the topology makes of a failure decides what follows: one more
 * attempt on a fresh route and connection (a dropped connection; after a
 * failover, on the new master), following a redirect (at most
 * CSESSION__REDIS_MAX_REDIRECTS), or giving up. A timeout is never retried:
 * the server may be busy carrying the command out, and retrying would
 * double the wait the caller configured.
 *
 * Returns 0 with the replies (error replies included, except those the
 * topology acted on), or a failure with its message.
 */
static int exec_retried(csession__redis_topology *t, const char *key, size_t key_len,
                        const char *what, const csession__redis_cmd *cmds, size_t n, int write,
                        redisReply **replies, int *retried_out)
{
    csession__redis_route route;
    int rc = t->route(t, key, key_len, &route);
    if (rc)
        return rc;
    int wait = write && t->wait_replicas > 0;
    int retried = 0, redirects = 0, fresh = 0;
    for (;;) {
        csession__redis_conn *c;
        csession__redis_failure failure;
        csession__redis_event event;
        const redisReply *bad = NULL;
        long long acked = 0;
        int have_replies = 0;
        rc = csession__redis_pool_acquire(route.pool, fresh, &c, &failure);
        if (rc) {
            event = event_of(failure);
        } else if ((rc = attempt(t, c, &route, wait, what, cmds, n, replies, &acked,
                                 &failure)) != 0) {
            int dropped = failure == CSESSION__REDIS_DROPPED;
            csession__redis_pool_discard(route.pool, c, dropped);
            event = event_of(failure);
        } else {
            csession__redis_pool_release(route.pool, c);
            have_replies = 1;
            for (size_t i = 0; i < n && !bad; i++) {
                if (replies[i]->type == REDIS_REPLY_ERROR)
                    bad = replies[i];
            }
            if (bad) {
                event = CSESSION__REDIS_EV_ERROR_REPLY;
            } else if (wait && acked < (long long)t->wait_replicas) {
                event = CSESSION__REDIS_EV_NOT_REPLICATED;
                atomic_fetch_add(&t->not_replicated, 1);
            } else {
                return 0;
            }
        }
        csession__redis_next next = t->failed(t, &route, event, bad);
        if (next == CSESSION__REDIS_RETRY && !retried) {
            retried = 1;
            if (retried_out)
                *retried_out = 1;
            fresh = 1;
        } else if (next == CSESSION__REDIS_REDIRECT && redirects < CSESSION__REDIS_MAX_REDIRECTS) {
            redirects++;
            fresh = 0;
        } else if (event == CSESSION__REDIS_EV_ERROR_REPLY && next != CSESSION__REDIS_REDIRECT) {
            return 0; /* the caller reports the server's text */
        } else {
            if (next == CSESSION__REDIS_REDIRECT)
                rc = csession__error(CSESSION_ESTORE,
                                     "%s: more than %d Redis Cluster redirections (%.*s)", what,
                                     CSESSION__REDIS_MAX_REDIRECTS,
                                     (int)(bad->len > 200 ? 200 : bad->len), bad->str);
            else if (event == CSESSION__REDIS_EV_NOT_REPLICATED)
                rc = csession__error(CSESSION_ETIMEOUT,
                                     "%s: the write reached %lld of %u replicas within %u ms "
                                     "(it may be lost if the master fails)",
                                     what, acked < 0 ? 0 : acked, t->wait_replicas,
                                     t->wait_timeout_ms);
            if (have_replies)
                free_replies(replies, n);
            return rc;
        }
        if (have_replies)
            free_replies(replies, n);
        if (next == CSESSION__REDIS_RETRY && (rc = t->route(t, key, key_len, &route)) != 0)
            return rc;
    }
}

static int exec(csession__redis_topology *t, const char *key, size_t key_len, const char *what,
                const csession__redis_cmd *cmds, size_t n, int write, redisReply **replies)
{
    return exec_retried(t, key, key_len, what, cmds, n, write, replies, NULL);
}

static int exec1(csession__redis_topology *t, const char *what, int argc, const char **argv,
                 const size_t *lens, int write, redisReply **reply)
{
    csession__redis_cmd cmd = {argc, argv, lens};
    return exec(t, argv[1], lens[1], what, &cmd, 1, write, reply);
}

int csession__redis_command(csession__redis_topology *t, const char *route_key,
                            size_t route_key_len, const char *what, int argc, const char **argv,
                            const size_t *lens, int write, redisReply **reply)
{
    csession__redis_cmd cmd = {argc, argv, lens};
    return exec(t, route_key, route_key_len, what, &cmd, 1, write, reply);
}

static size_t ttl_text(char out[TTL_TEXT], int64_t ttl_seconds)
{
    return (size_t)snprintf(out, TTL_TEXT, "%" PRId64, ttl_seconds);
}

int csession__redis_set(csession__redis_topology *t, const char *key, size_t key_len,
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
    int rc = exec1(t, what, 6, argv, lens, 1, &r);
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

int csession__redis_expire(csession__redis_topology *t, const char *key, size_t key_len,
                           int64_t ttl_seconds)
{
    char ttl[TTL_TEXT];
    const char *argv[] = {"EXPIRE", key, ttl};
    const size_t lens[] = {6, key_len, ttl_text(ttl, ttl_seconds)};
    redisReply *r;
    int rc = exec1(t, "Redis EXPIRE", 3, argv, lens, 0, &r);
    return rc ? rc : expect_integer(r, "Redis EXPIRE");
}

int csession__redis_del(csession__redis_topology *t, const char *key, size_t key_len)
{
    const char *argv[] = {"DEL", key};
    const size_t lens[] = {3, key_len};
    redisReply *r;
    int rc = exec1(t, "Redis DEL", 2, argv, lens, 1, &r);
    return rc ? rc : expect_integer(r, "Redis DEL");
}

/*
 * The store's conditional writes, in one script so that the comparison of
 * revisions and the write are one atomic step on the server, on one key
 * (any Cluster node can run it). Arguments: KEYS[1] the key; ARGV[1] the
 * mode (u: update if the revision is ARGV[2], a: update whatever the
 * revision, d: delete if the revision is ARGV[2]); ARGV[3] the state after
 * the envelope head, or the whole state when ARGV[5] is not 'e'; ARGV[4]
 * the TTL; ARGV[6] the write's tag. Answers 0 when the key does not exist,
 * -1 when its revision is another one, else the new revision (1 for a
 * delete). GETRANGE reads only the head of the value, whatever its size;
 * revision.h has the layout.
 *
 * The tag, unique to each write, is stored with it: a write retried after
 * a dropped connection that finds its own tag knows the first attempt
 * landed, where a revision alone could not tell it from another request's
 * write of the same revision.
 */
static const char WRITE_IF_SCRIPT[] =
    "local h = redis.call('GETRANGE', KEYS[1], 0, 79)\n"
    "if h == '' then return 0 end\n"
    "local cur, tag = string.match(h, '^{\"v\":1,\"rev\":(%d+),\"w\":\"(%w+)\",')\n"
    "if not cur then cur = string.match(h, '^{\"v\":1,\"rev\":(%d+),') or '0' end\n"
    "if ARGV[1] == 'u' and tag == ARGV[6] then return tonumber(cur) end\n"
    "if ARGV[1] ~= 'a' and cur ~= ARGV[2] then return -1 end\n"
    "if ARGV[1] == 'd' then redis.call('DEL', KEYS[1]) return 1 end\n"
    "local rev = string.format('%d', tonumber(cur) + 1)\n"
    "if ARGV[5] == 'e' then\n"
    "  redis.call('SET', KEYS[1], '{\"v\":1,\"rev\":' .. rev .. ',\"w\":\"' .. ARGV[6] .. '\",' .. ARGV[3], 'EX', ARGV[4])\n"
    "else\n"
    "  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])\n"
    "end\n"
    "return tonumber(rev)\n";

/* SHA-1 of WRITE_IF_SCRIPT, the name EVALSHA knows it by (test_store_redis
 * checks it against SCRIPT LOAD). */
static const char WRITE_IF_SHA[] = "30ea14bab07272ef01622f48f1a501aa97e29b9e";

const char *csession__redis_write_if_script(void)
{
    return WRITE_IF_SCRIPT;
}

const char *csession__redis_write_if_sha(void)
{
    return WRITE_IF_SHA;
}

/* NOSCRIPT: the server has not seen the script yet (new, restarted, failed
 * over, or SCRIPT FLUSH). */
static int no_script(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && r->len >= 8 && memcmp(r->str, "NOSCRIPT", 8) == 0;
}

/*
 * Runs a script by EVALSHA, and once more by EVAL (which makes the server
 * remember it) when the server does not know it. argv[0] and argv[1] are
 * set here; the rest is the caller's. *retried: whether a dropped
 * connection made the store send it again.
 */
static int run_script(csession__redis_topology *t, const char *key, size_t key_len,
                      const char *what, const char *script, size_t script_len, const char *sha,
                      const char **argv, size_t *lens, int argc, int write, redisReply **r,
                      int *retried)
{
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = sha;
    lens[1] = 40;
    const csession__redis_cmd cmd = {argc, argv, lens};
    int rc = exec_retried(t, key, key_len, what, &cmd, 1, write, r, retried);
    if (rc == 0 && no_script(*r)) {
        csession__redis_reply_free(*r);
        *r = NULL;
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = script;
        lens[1] = script_len;
        rc = exec_retried(t, key, key_len, what, &cmd, 1, write, r, retried);
    }
    return rc;
}

/*
 * Reads a value and extends its TTL in one command. pcall: a key of another
 * type answers WRONGTYPE as GETRANGE alone would, rather than a script
 * error.
 */
static const char READ_TOUCH_SCRIPT[] =
    "local v = redis.pcall('GETRANGE', KEYS[1], 0, ARGV[1])\n"
    "if type(v) == 'string' and v ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
    "return v\n";

/* SHA-1 of READ_TOUCH_SCRIPT (checked against SCRIPT LOAD by the tests). */
static const char READ_TOUCH_SHA[] = "a3f93480172ef946cd47d71676acabc23e07cf29";

const char *csession__redis_read_touch_script(void)
{
    return READ_TOUCH_SCRIPT;
}

const char *csession__redis_read_touch_sha(void)
{
    return READ_TOUCH_SHA;
}

int csession__redis_read(csession__redis_topology *t, const char *key, size_t key_len,
                         size_t max_bytes, int64_t touch_ttl_seconds, csession_buf *value,
                         int *refused)
{
    char last[CSESSION__DECIMAL_MAX], ttl[TTL_TEXT];
    const char *last_text = csession__decimal_u64(last, max_bytes);
    size_t last_len = (size_t)(last + sizeof last - last_text);
    redisReply *r = NULL;
    int rc;
    *refused = 0;
    if (touch_ttl_seconds > 0) {
        const char *argv[] = {NULL, NULL, "1", key, last_text, ttl};
        size_t lens[] = {0, 0, 1, key_len, last_len, ttl_text(ttl, touch_ttl_seconds)};
        int retried = 0;
        rc = run_script(t, key, key_len, "Redis read and touch", READ_TOUCH_SCRIPT,
                        sizeof READ_TOUCH_SCRIPT - 1, READ_TOUCH_SHA, argv, lens, 6, 0, &r,
                        &retried);
    } else {
        const char *argv[] = {"GETRANGE", key, "0", last_text};
        const size_t lens[] = {8, key_len, 1, last_len};
        rc = exec1(t, "Redis GETRANGE", 4, argv, lens, 0, &r);
    }
    if (rc)
        return rc;
    if (csession__redis_error_is(r, "WRONGTYPE")) {
        *refused = CSESSION__REDIS_READ_WRONG_TYPE;
        rc = CSESSION_ENOTFOUND;
    } else if ((r->type == REDIS_REPLY_STRING && r->len == 0) || r->type == REDIS_REPLY_NIL) {
        rc = CSESSION_ENOTFOUND; /* no such key: nothing is ever stored empty */
    } else if (r->type == REDIS_REPLY_STRING && (size_t)r->len > max_bytes) {
        *refused = CSESSION__REDIS_READ_TOO_BIG;
        rc = CSESSION_ENOTFOUND;
    } else if (r->type == REDIS_REPLY_STRING) {
        rc = csession__buf_set(value, r->str, (size_t)r->len);
    } else {
        rc = csession__redis_reply_error(r, touch_ttl_seconds > 0 ? "Redis read and touch"
                                                                  : "Redis GETRANGE");
    }
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_write_if(csession__redis_topology *t, const char *key, size_t key_len,
                             int mode, uint64_t expected, const char *state, size_t state_len,
                             int64_t ttl_seconds, long long *result)
{
    static const char modes[] = {'u', 'a', 'd'};
    char ttl[TTL_TEXT], rev[CSESSION__DECIMAL_MAX], tag[CSESSION__REDIS_TAG_LEN];
    csession__redis_write_tag(tag);
    const char *rev_text = csession__decimal_u64(rev, expected);
    int envelope = csession__redis_is_envelope(state, state_len);
    const char *body = envelope ? state + CSESSION__REDIS_ENVELOPE_HEAD_LEN : state;
    size_t body_len = envelope ? state_len - CSESSION__REDIS_ENVELOPE_HEAD_LEN : state_len;
    csession_buf escaped = CSESSION_BUF_INIT;
    if (!envelope && mode != CSESSION__REDIS_DELETE_IF_REV &&
        csession__redis_needs_escape(state, state_len)) {
        int rc = csession__redis_rev_wrap(state, state_len, 0, &escaped);
        if (rc)
            return rc;
        body = escaped.ptr;
        body_len = escaped.size;
    }
    const char *argv[] = {NULL, NULL, "1", key, &modes[mode], rev_text,
                          body ? body : "", ttl, envelope ? "e" : "r", tag};
    size_t lens[] = {0, 0, 1, key_len, 1, (size_t)(rev + sizeof rev - rev_text), body_len,
                     ttl_text(ttl, ttl_seconds), 1, sizeof tag};
    redisReply *r;
    int retried = 0;
    int rc = run_script(t, key, key_len, "Redis conditional write", WRITE_IF_SCRIPT,
                        sizeof WRITE_IF_SCRIPT - 1, WRITE_IF_SHA, argv, lens, 10, 1, &r,
                        &retried);
    csession_buf_dispose(&escaped);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        *result = r->integer;
    else
        rc = csession__redis_reply_error(r, "Redis conditional write");
    /* A delete leaves nothing to recognise it by: retried, "no such key"
     * most likely means that the first attempt deleted it. */
    if (rc == 0 && mode == CSESSION__REDIS_DELETE_IF_REV && retried && *result == 0)
        *result = 1;
    csession__redis_reply_free(r);
    return rc;
}
