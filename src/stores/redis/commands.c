/* The store's Redis commands: see commands.h. */
#include "commands.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "digits.h"
#include "error.h"
#include "redis_async.h"
#include "revision.h"

/* Longest decimal int64 and its NUL. */
#define TTL_TEXT 24

static const char *const asking_argv[] = {"ASKING"};
static const size_t asking_lens[] = {6};

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

/* NOSCRIPT: the server has not seen the script yet (new, restarted, failed
 * over, or SCRIPT FLUSH). */
static int no_script(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && r->len >= 8 && memcmp(r->str, "NOSCRIPT", 8) == 0;
}

/* ---- the operation machine ------------------------------------------------ */

static void op_attempt(csession__redis_op *op);
static void op_route_then_attempt(csession__redis_op *op);

/* The lookup the route waited for ended. */
static void op_route_ready(csession__redis_waiter *w, int rc)
{
    csession__redis_op *op = (csession__redis_op *)(void *)((char *)w -
                                                          offsetof(csession__redis_op, waiter));
    op->waiting = 0;
    if (rc) {
        op->cb(op, rc, NULL);
        return;
    }
    op_route_then_attempt(op);
}

/* Routes the op and sends it; a route that waits for a lookup (loop mode)
 * sends it when the lookup ends; a failure to route is the op's outcome. */
static void op_route_then_attempt(csession__redis_op *op)
{
    csession__redis_topology *t = op->t;
    const char *key = op->key_arg >= 0 ? op->argv[op->key_arg] : op->route_key;
    size_t len = op->key_arg >= 0 ? op->lens[op->key_arg] : op->route_key_len;
    int rc;
    if (op->loop && t->route_async) {
        op->waiter.ready = op_route_ready;
        rc = t->route_async(t, key, len, op->loop, op->async, &op->waiter, &op->route);
        if (rc == CSESSION__REDIS_ROUTE_PENDING) {
            op->waiting = 1;
            return;
        }
    } else {
        rc = t->route(t, key, len, &op->route);
    }
    if (rc) {
        op->cb(op, rc, NULL);
        return;
    }
    op_attempt(op);
}

/* Copies argv[0 .. argc) into the op, and the key it is routed by
 * (`route_key`, when key_arg is -1). */
static int op_args_routed(csession__redis_op *op, const char *what, int write, int key_arg,
                          const char *route_key, size_t route_key_len, int argc,
                          const char **argv, const size_t *lens)
{
    size_t head = (size_t)argc * (sizeof(const char *) + sizeof(size_t));
    size_t total = head + (key_arg < 0 ? route_key_len : 0);
    for (int i = 0; i < argc; i++)
        total += lens[i];
    char *p = csession__malloc(total ? total : 1);
    if (!p)
        return csession__oom();
    op->args = p;
    op->args_size = total;
    /* Pointers first, then sizes: both aligned as the allocation is. */
    op->argv = (const char **)(void *)p;
    op->lens = (size_t *)(void *)(p + (size_t)argc * sizeof(const char *));
    p += head;
    for (int i = 0; i < argc; i++) {
        if (lens[i])
            memcpy(p, argv[i], lens[i]);
        op->argv[i] = p;
        op->lens[i] = lens[i];
        p += lens[i];
    }
    op->route_key = NULL;
    op->route_key_len = 0;
    if (key_arg < 0) {
        memcpy(p, route_key, route_key_len);
        op->route_key = p;
        op->route_key_len = route_key_len;
    }
    op->what = what;
    op->write = write;
    op->key_arg = key_arg;
    op->argc = argc;
    op->script = 0;
    op->retried = 0;
    return 0;
}

void csession__redis_op_dispose(csession__redis_op *op)
{
    if (op->args) {
        sodium_memzero(op->args, op->args_size);
        csession__free(op->args);
    }
    op->args = NULL;
    op->args_size = 0;
}

static int op_args(csession__redis_op *op, const char *what, int write, int key_arg, int argc,
                   const char **argv, const size_t *lens)
{
    return op_args_routed(op, what, write, key_arg, NULL, 0, argc, argv, lens);
}

/*
 * After an attempt: what the topology makes of it decides what follows:
 * one more attempt on a fresh route and connection (a dropped connection;
 * after a failover, on the new master), following a redirect (at most
 * CSESSION__REDIS_MAX_REDIRECTS), EVAL after NOSCRIPT, or the end. A
 * timeout is never retried: the server may be busy carrying the command
 * out, and retrying would double the wait the caller configured.
 */
static void op_attempted(void *arg, int rc, csession__redis_failure failure,
                         redisReply **got, size_t k)
{
    csession__redis_op *op = arg;
    csession__redis_topology *t = op->t;
    int wait = op->write && t->wait_replicas > 0;
    redisReply *reply = NULL;
    long long acked = 0;
    csession__redis_event event;
    op->req = NULL;
    if (rc == 0) {
        size_t at = op->route.asking ? 1 : 0;
        reply = got[at];
        got[at] = NULL;
        if (wait)
            acked = got[k - 1]->type == REDIS_REPLY_INTEGER ? got[k - 1]->integer : -1;
        for (size_t i = 0; i < k; i++)
            csession__redis_reply_free(got[i]); /* ASKING's OK, WAIT's count */
        if (reply->type == REDIS_REPLY_ERROR) {
            event = CSESSION__REDIS_EV_ERROR_REPLY;
            if (op->script && !op->evaled && no_script(reply)) {
                csession__redis_reply_free(reply);
                op->evaled = 1;
                op->argv[0] = "EVAL";
                op->lens[0] = 4;
                op->argv[1] = op->script_text;
                op->lens[1] = op->script_len;
                op_attempt(op);
                return;
            }
        } else if (wait && acked < (long long)t->wait_replicas) {
            event = CSESSION__REDIS_EV_NOT_REPLICATED;
            atomic_fetch_add(&t->not_replicated, 1);
        } else {
            op->cb(op, 0, reply);
            return;
        }
    } else {
        event = event_of(failure);
    }
    /* failed() may do I/O (a lookup), which sets errors of its own. */
    char msg[720] = "";
    if (rc)
        snprintf(msg, sizeof msg, "%s", csession_last_error());
    const redisReply *bad = event == CSESSION__REDIS_EV_ERROR_REPLY ? reply : NULL;
    csession__redis_next next = t->failed(t, &op->route, event, bad);
    if (next == CSESSION__REDIS_RETRY && !op->retried) {
        op->retried = 1;
        op->fresh = 1;
        csession__redis_reply_free(reply);
        op_route_then_attempt(op);
        return;
    }
    if (next == CSESSION__REDIS_REDIRECT && op->redirects < CSESSION__REDIS_MAX_REDIRECTS) {
        op->redirects++;
        op->fresh = 0;
        csession__redis_reply_free(reply);
        op_attempt(op);
        return;
    }
    if (event == CSESSION__REDIS_EV_ERROR_REPLY && next != CSESSION__REDIS_REDIRECT) {
        op->cb(op, 0, reply); /* the caller reports the server's text */
        return;
    }
    if (next == CSESSION__REDIS_REDIRECT)
        rc = csession__error(CSESSION_ESTORE, "%s: more than %d Redis Cluster redirections (%.*s)",
                             op->what, CSESSION__REDIS_MAX_REDIRECTS,
                             (int)(bad->len > 200 ? 200 : bad->len), bad->str);
    else if (event == CSESSION__REDIS_EV_NOT_REPLICATED)
        rc = csession__error(CSESSION_ETIMEOUT,
                             "%s: the write reached %lld of %u replicas within %u ms "
                             "(it may be lost if the master fails)",
                             op->what, acked < 0 ? 0 : acked, t->wait_replicas,
                             t->wait_timeout_ms);
    else
        rc = rc == CSESSION_ENOMEM ? csession__oom() : csession__error(rc, "%s", msg);
    csession__redis_reply_free(reply);
    op->cb(op, rc, NULL);
}

/*
 * One attempt: the command, preceded by ASKING after an ASK redirect, then
 * WAIT when the write must be replicated; on a pooled connection (blocking)
 * or one of the loop's.
 */
static void op_attempt(csession__redis_op *op)
{
    csession__redis_topology *t = op->t;
    csession__redis_cmd all[3];
    size_t k = 0;
    if (op->route.asking)
        all[k++] = (csession__redis_cmd){1, (const char **)asking_argv, asking_lens};
    all[k++] = (csession__redis_cmd){op->argc, op->argv, op->lens};
    char replicas[16], ms[16];
    const char *wait_argv[3] = {"WAIT", replicas, ms};
    size_t wait_lens[3] = {4, 0, 0};
    if (op->write && t->wait_replicas > 0) {
        wait_lens[1] = (size_t)snprintf(replicas, sizeof replicas, "%u", t->wait_replicas);
        wait_lens[2] = (size_t)snprintf(ms, sizeof ms, "%u", t->wait_timeout_ms);
        all[k++] = (csession__redis_cmd){3, wait_argv, wait_lens};
    }
    if (op->loop) {
        csession__redis_async_send(op->async, op->loop, op->route.pool, op->fresh, op->what,
                                   all, k, op_attempted, op, &op->req);
        return;
    }
    csession__redis_conn *c;
    csession__redis_failure failure;
    redisReply *got[3] = {NULL, NULL, NULL};
    int rc = csession__redis_pool_acquire(op->route.pool, op->fresh, &c, &failure);
    if (rc == 0) {
        rc = csession__redis_conn_run(c, op->what, all, k, got, &failure);
        if (rc)
            csession__redis_pool_discard(op->route.pool, c, failure == CSESSION__REDIS_DROPPED);
        else
            csession__redis_pool_release(op->route.pool, c);
    }
    op_attempted(op, rc, failure, got, k);
}

void csession__redis_op_start(csession__redis_op *op)
{
    op->redirects = 0;
    op->fresh = 0;
    op->evaled = 0;
    op->req = NULL;
    op->waiting = 0;
    op_route_then_attempt(op);
}

void csession__redis_op_cancel(csession__redis_op *op)
{
    if (op->req)
        csession__redis_req_cancel(op->req);
    op->req = NULL;
    if (op->waiting)
        op->t->unwait(op->t, op->loop, &op->waiter);
    op->waiting = 0;
}

/* The blocking functions: the op run with no loop, its callback has run
 * when csession__redis_op_start() returns. */
typedef struct sync_result {
    int rc;
    redisReply *reply;
} sync_result;

static void sync_done(csession__redis_op *op, int rc, redisReply *reply)
{
    sync_result *res = op->arg;
    res->rc = rc;
    res->reply = reply;
}

/* Runs the op built in `op` (whose `t` is set) blocking, and disposes of it. */
static int run_blocking(csession__redis_op *op, int built, redisReply **reply)
{
    *reply = NULL;
    if (built)
        return built;
    sync_result res = {0, NULL};
    op->loop = NULL;
    op->async = NULL;
    op->cb = sync_done;
    op->arg = &res;
    csession__redis_op_start(op);
    csession__redis_op_dispose(op);
    *reply = res.reply;
    return res.rc;
}

int csession__redis_op_command(csession__redis_op *op, const char *route_key,
                               size_t route_key_len, const char *what, int argc,
                               const char **argv, const size_t *lens, int write)
{
    return op_args_routed(op, what, write, -1, route_key, route_key_len, argc, argv, lens);
}

int csession__redis_command(csession__redis_topology *t, const char *route_key,
                            size_t route_key_len, const char *what, int argc, const char **argv,
                            const size_t *lens, int write, redisReply **reply)
{
    csession__redis_op op = {.t = t};
    return run_blocking(&op,
                        csession__redis_op_command(&op, route_key, route_key_len, what, argc,
                                                   argv, lens, write),
                        reply);
}

static size_t ttl_text(char out[TTL_TEXT], int64_t ttl_seconds)
{
    return (size_t)snprintf(out, TTL_TEXT, "%" PRId64, ttl_seconds);
}

int csession__redis_op_set(csession__redis_op *op, const char *key, size_t key_len,
                           const char *value, size_t value_len, int64_t ttl_seconds, int mode)
{
    char ttl[TTL_TEXT];
    const char *cond = mode == CSESSION__REDIS_SET_XX ? "XX" : "NX";
    const char *argv[] = {"SET", key, value ? value : "", cond, "EX", ttl};
    const size_t lens[] = {3, key_len, value_len, 2, 2, ttl_text(ttl, ttl_seconds)};
    const char *what = mode == CSESSION__REDIS_SET_XX ? "Redis SET XX" : "Redis SET NX";
    return op_args(op, what, 1, 1, 6, argv, lens);
}

int csession__redis_set_result(redisReply *r, int mode, int *stored)
{
    int rc = 0;
    *stored = 0;
    if (r->type == REDIS_REPLY_STATUS && r->len == 2 && memcmp(r->str, "OK", 2) == 0)
        *stored = 1;
    else if (r->type != REDIS_REPLY_NIL)
        rc = csession__redis_reply_error(r, mode == CSESSION__REDIS_SET_XX ? "Redis SET XX"
                                                                           : "Redis SET NX");
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_set(csession__redis_topology *t, const char *key, size_t key_len,
                        const char *value, size_t value_len, int64_t ttl_seconds, int mode,
                        int *stored)
{
    csession__redis_op op = {.t = t};
    redisReply *r;
    *stored = 0;
    int rc = run_blocking(&op, csession__redis_op_set(&op, key, key_len, value, value_len,
                                                      ttl_seconds, mode), &r);
    return rc ? rc : csession__redis_set_result(r, mode, stored);
}

/* An integer reply (EXPIRE, DEL): any value is success. */
int csession__redis_integer_result(redisReply *r, const char *what)
{
    int rc = r->type == REDIS_REPLY_INTEGER ? 0 : csession__redis_reply_error(r, what);
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_op_expire(csession__redis_op *op, const char *key, size_t key_len,
                              int64_t ttl_seconds)
{
    char ttl[TTL_TEXT];
    const char *argv[] = {"EXPIRE", key, ttl};
    const size_t lens[] = {6, key_len, ttl_text(ttl, ttl_seconds)};
    return op_args(op, "Redis EXPIRE", 0, 1, 3, argv, lens);
}

int csession__redis_expire(csession__redis_topology *t, const char *key, size_t key_len,
                           int64_t ttl_seconds)
{
    csession__redis_op op = {.t = t};
    redisReply *r;
    int rc = run_blocking(&op, csession__redis_op_expire(&op, key, key_len, ttl_seconds), &r);
    return rc ? rc : csession__redis_integer_result(r, "Redis EXPIRE");
}

int csession__redis_op_del(csession__redis_op *op, const char *key, size_t key_len)
{
    const char *argv[] = {"DEL", key};
    const size_t lens[] = {3, key_len};
    return op_args(op, "Redis DEL", 1, 1, 2, argv, lens);
}

int csession__redis_del(csession__redis_topology *t, const char *key, size_t key_len)
{
    csession__redis_op op = {.t = t};
    redisReply *r;
    int rc = run_blocking(&op, csession__redis_op_del(&op, key, key_len), &r);
    return rc ? rc : csession__redis_integer_result(r, "Redis DEL");
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

/* An op running a script by EVALSHA, and once more by EVAL (which makes the
 * server remember it) when the server does not know it; argv[0] and argv[1]
 * are set here, KEYS[1] is argv[3]. */
static int op_script(csession__redis_op *op, const char *what, const char *script,
                     size_t script_len, const char *sha, const char **argv, size_t *lens,
                     int argc, int write)
{
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = sha;
    lens[1] = 40;
    int rc = op_args(op, what, write, 3, argc, argv, lens);
    if (rc == 0) {
        op->script = 1;
        op->script_text = script;
        op->script_len = script_len;
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

int csession__redis_op_read(csession__redis_op *op, const char *key, size_t key_len,
                            size_t max_bytes, int64_t touch_ttl_seconds)
{
    char last[CSESSION__DECIMAL_MAX], ttl[TTL_TEXT];
    const char *last_text = csession__decimal_u64(last, max_bytes);
    size_t last_len = (size_t)(last + sizeof last - last_text);
    if (touch_ttl_seconds > 0) {
        const char *argv[] = {NULL, NULL, "1", key, last_text, ttl};
        size_t lens[] = {0, 0, 1, key_len, last_len, ttl_text(ttl, touch_ttl_seconds)};
        return op_script(op, "Redis read and touch", READ_TOUCH_SCRIPT,
                         sizeof READ_TOUCH_SCRIPT - 1, READ_TOUCH_SHA, argv, lens, 6, 0);
    }
    const char *argv[] = {"GETRANGE", key, "0", last_text};
    const size_t lens[] = {8, key_len, 1, last_len};
    return op_args(op, "Redis GETRANGE", 0, 1, 4, argv, lens);
}

int csession__redis_read_result(redisReply *r, size_t max_bytes, int touch, csession_buf *value,
                                int *refused)
{
    int rc;
    *refused = 0;
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
        rc = csession__redis_reply_error(r, touch ? "Redis read and touch" : "Redis GETRANGE");
    }
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_read(csession__redis_topology *t, const char *key, size_t key_len,
                         size_t max_bytes, int64_t touch_ttl_seconds, csession_buf *value,
                         int *refused)
{
    csession__redis_op op = {.t = t};
    redisReply *r;
    *refused = 0;
    int rc = run_blocking(
        &op, csession__redis_op_read(&op, key, key_len, max_bytes, touch_ttl_seconds), &r);
    return rc ? rc
              : csession__redis_read_result(r, max_bytes, touch_ttl_seconds > 0, value, refused);
}

int csession__redis_op_write_if(csession__redis_op *op, const char *key, size_t key_len,
                                int mode, uint64_t expected, const char *state,
                                size_t state_len, int64_t ttl_seconds)
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
    int rc = op_script(op, "Redis conditional write", WRITE_IF_SCRIPT, sizeof WRITE_IF_SCRIPT - 1,
                       WRITE_IF_SHA, argv, lens, 10, 1);
    csession_buf_dispose(&escaped);
    return rc;
}

int csession__redis_write_if_result(const csession__redis_op *op, redisReply *r, int mode,
                                    long long *result)
{
    int rc = 0;
    if (r->type == REDIS_REPLY_INTEGER)
        *result = r->integer;
    else
        rc = csession__redis_reply_error(r, "Redis conditional write");
    /* A delete leaves nothing to recognise it by: retried, "no such key"
     * most likely means that the first attempt deleted it. */
    if (rc == 0 && mode == CSESSION__REDIS_DELETE_IF_REV && op->retried && *result == 0)
        *result = 1;
    csession__redis_reply_free(r);
    return rc;
}

int csession__redis_write_if(csession__redis_topology *t, const char *key, size_t key_len,
                             int mode, uint64_t expected, const char *state, size_t state_len,
                             int64_t ttl_seconds, long long *result)
{
    csession__redis_op op = {.t = t};
    redisReply *r;
    int rc = csession__redis_op_write_if(&op, key, key_len, mode, expected, state, state_len,
                                         ttl_seconds);
    /* The op's retry flag outlives its disposal. */
    rc = run_blocking(&op, rc, &r);
    return rc ? rc : csession__redis_write_if_result(&op, r, mode, result);
}
