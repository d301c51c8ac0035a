/*
 * Internal: the Redis commands of the session store, each one round trip
 * to the server the topology (topology.h) routes its key to, with one retry
 * on a new connection when the connection drops or a failover is seen, and
 * Redis Cluster's redirects followed. Keys here are Redis keys (prefixed or
 * mapped), not session keys. With wait_replicas in the URL, SET and DEL are
 * followed by WAIT in the same round trip; a write that too few replicas
 * acknowledged fails with CSESSION_ETIMEOUT (it may be lost on failover).
 *
 * Retrying is safe because every command sent is idempotent or as good as:
 * GET, GETRANGE, the read-and-touch script, EXPIRE, DEL and SET XX with the
 * same value give the same result twice. SET NX of a freshly drawn key may have landed before the
 * connection dropped; the retry then answers "exists" and the caller draws
 * another key, leaving the first copy to expire by its TTL unreferenced.
 */
#ifndef CSESSION_SRC_STORES_REDIS_COMMANDS_H
#define CSESSION_SRC_STORES_REDIS_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "csession/buf.h"
#include "csession/loop.h"
#include "topology.h"

struct csession__redis_async;

/* SET modes. */
#define CSESSION__REDIS_SET_NX 0 /* only when the key does not exist */
#define CSESSION__REDIS_SET_XX 1 /* only when it does */

/*
 * SET key value NX|XX EX ttl. 0 with *stored = 1 when it was set, 0 with
 * *stored = 0 when the condition did not hold (NX: the key exists; XX: it
 * does not), or a failure.
 */
int csession__redis_set(csession__redis_topology *t, const char *key, size_t key_len,
                        const char *value, size_t value_len, int64_t ttl_seconds, int mode,
                        int *stored);

/* EXPIRE key ttl (also 0 when the key does not exist), or a failure. */
int csession__redis_expire(csession__redis_topology *t, const char *key, size_t key_len,
                           int64_t ttl_seconds);

/* DEL key (also 0 when the key does not exist), or a failure. */
int csession__redis_del(csession__redis_topology *t, const char *key, size_t key_len);

/* Why csession__redis_read() refused a value. */
#define CSESSION__REDIS_READ_TOO_BIG 1    /* longer than max_bytes */
#define CSESSION__REDIS_READ_WRONG_TYPE 2 /* the key holds another type (a hash, a list...) */

/*
 * Reads at most max_bytes + 1 bytes of the value of `key` (GETRANGE), so
 * that a value planted under a session key costs no more memory than a
 * state may take; with `touch_ttl_seconds` > 0, also resets its TTL in the
 * same command (a script: GETRANGE, then EXPIRE when the key exists).
 * 0 with the value; CSESSION_ENOTFOUND for no key, and also, with
 * *refused set to a CSESSION__REDIS_READ_* reason, for a value longer than
 * max_bytes or a key of another type; or a failure.
 */
int csession__redis_read(csession__redis_topology *t, const char *key, size_t key_len,
                         size_t max_bytes, int64_t touch_ttl_seconds, csession_buf *value,
                         int *refused);

/* The read-and-touch script and its SHA-1, for the tests. */
const char *csession__redis_read_touch_script(void);
const char *csession__redis_read_touch_sha(void);

/* Modes of csession__redis_write_if(). */
#define CSESSION__REDIS_WRITE_IF_REV 0   /* update when the revision is `expected` */
#define CSESSION__REDIS_WRITE_ANY 1      /* update whatever the revision */
#define CSESSION__REDIS_DELETE_IF_REV 2  /* delete when the revision is `expected` */

/*
 * The conditional write of the store's revisions (revision.h), one script
 * run by EVALSHA (EVAL once when the server does not know it yet). `state`
 * is the state as the library wrote it (unused for a delete). 0 with
 * *result: 0 the key does not exist, -1 its revision is not `expected`,
 * otherwise the new revision (1 for a delete); or a failure.
 * Unlike the other commands, a conditional write is not idempotent: a
 * retry after a dropped connection may find the first attempt's write
 * done. An update recognises that by the tag each write stores with it
 * (revision.h); a retried delete that finds no key takes it as its own.
 */
int csession__redis_write_if(csession__redis_topology *t, const char *key, size_t key_len,
                             int mode, uint64_t expected, const char *state, size_t state_len,
                             int64_t ttl_seconds, long long *result);

/*
 * One command (a script by EVAL, typically) on the server the topology
 * routes `route_key` to, with the retries and redirects of every command
 * above; `write`: followed by WAIT when the URL asks for it. 0 with
 * *reply (error replies included; free it with csession__redis_reply_free()),
 * or a failure with its message. For the user index (users.c).
 */
int csession__redis_command(csession__redis_topology *t, const char *route_key,
                            size_t route_key_len, const char *what, int argc, const char **argv,
                            const size_t *lens, int write, redisReply **reply);

/* The script and its SHA-1, for the tests. */
const char *csession__redis_write_if_script(void);
const char *csession__redis_write_if_sha(void);

/* ---- the same commands, one state machine for both ways of waiting ------
 *
 * An operation (csession__redis_op) is one command on one key: routed by
 * the topology, sent (after ASKING, followed by WAIT when asked), and
 * retried, redirected, or sent again by EVAL after NOSCRIPT as the rules
 * above say. How it waits depends on `loop`: NULL runs each attempt on a
 * connection of the thread-shared pool, blocking (the callback has run when
 * csession__redis_op_start() returns); a loop sends it on that loop's own
 * connections (redis_async.h) and returns at once, the callback running
 * later from the loop (or at once, for a failure found at once).
 *
 * The callback receives rc 0 and the reply (the callback's to free with
 * csession__redis_reply_free(); an error reply the topology did not act on
 * included), or rc < 0 with the message as the thread's last error.
 */
typedef struct csession__redis_op csession__redis_op;
typedef void (*csession__redis_op_cb)(csession__redis_op *op, int rc, redisReply *reply);

struct csession__redis_op {
    /* Where and how it waits (set by the caller before a builder). */
    csession__redis_topology *t;
    csession_loop *loop;                 /* NULL: blocking */
    struct csession__redis_async *async; /* the store's loop connections (loop set) */
    csession__redis_op_cb cb;
    void *arg;
    /* Filled by the builders below. */
    const char *what;
    int write;
    int argc;
    const char **argv; /* in `args` */
    size_t *lens;      /* in `args` */
    char *args;        /* owned: the two arrays, then copies of the arguments */
    size_t args_size;
    int key_arg;          /* argv[key_arg] routes it; -1: route_key does */
    const char *route_key; /* in `args` */
    size_t route_key_len;
    int script;  /* argv[0..1] are EVALSHA <sha>, EVAL <script> after NOSCRIPT */
    const char *script_text; /* static */
    size_t script_len;
    int retried; /* sent again after a dropped connection or a failover */
    /* The machine's. */
    csession__redis_waiter waiter; /* queued while the route is looked up */
    int waiting;
    csession__redis_route route;
    int redirects, fresh, evaled;
    struct csession__redis_req *req; /* in flight on a loop connection */
};

/* Builders: each copies its arguments into the op (0 or CSESSION_ENOMEM).
 * Interpreters: turn the reply into the blocking function's outcome, and
 * free it. */
int csession__redis_op_set(csession__redis_op *op, const char *key, size_t key_len,
                           const char *value, size_t value_len, int64_t ttl_seconds, int mode);
int csession__redis_set_result(redisReply *r, int mode, int *stored);
int csession__redis_op_expire(csession__redis_op *op, const char *key, size_t key_len,
                              int64_t ttl_seconds);
int csession__redis_op_del(csession__redis_op *op, const char *key, size_t key_len);
int csession__redis_integer_result(redisReply *r, const char *what);
int csession__redis_op_read(csession__redis_op *op, const char *key, size_t key_len,
                            size_t max_bytes, int64_t touch_ttl_seconds);
int csession__redis_read_result(redisReply *r, size_t max_bytes, int touch, csession_buf *value,
                                int *refused);
int csession__redis_op_write_if(csession__redis_op *op, const char *key, size_t key_len,
                                int mode, uint64_t expected, const char *state,
                                size_t state_len, int64_t ttl_seconds);
/* csession__redis_command() as an op: argv[0 .. argc) routed by
 * `route_key`; the reply as it came (error replies included). */
int csession__redis_op_command(csession__redis_op *op, const char *route_key,
                               size_t route_key_len, const char *what, int argc,
                               const char **argv, const size_t *lens, int write);
int csession__redis_write_if_result(const csession__redis_op *op, redisReply *r, int mode,
                                    long long *result);

/* Runs the op built above (see the block comment). */
void csession__redis_op_start(csession__redis_op *op);

/* Abandons an op in flight on a loop: its callback will not run. */
void csession__redis_op_cancel(csession__redis_op *op);

/* Frees the op's copies of its arguments (wiped: they may hold a state). */
void csession__redis_op_dispose(csession__redis_op *op);

#endif
