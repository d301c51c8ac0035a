/*
 * Internal: one connection to a Redis server (a hiredis context): opening it
 * with AUTH and SELECT, running commands with timeouts, and telling apart
 * the ways a command can fail.
 */
#ifndef CSESSION_SRC_STORES_REDIS_CONN_H
#define CSESSION_SRC_STORES_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "url.h"

/* Where to connect and how long to wait. Read-only once the store exists. */
typedef struct csession__redis_target {
    csession__redis_url url;
    unsigned int connect_timeout_ms; /* connect, and each AUTH / SELECT reply */
    unsigned int command_timeout_ms; /* each command's reply */
} csession__redis_target;

typedef struct csession__redis_conn {
    redisContext *ctx;
    unsigned long epoch;               /* the pool's epoch when it was opened */
    struct csession__redis_conn *next; /* in the pool's idle list */
} csession__redis_conn;

/* One command: `argc` arguments with explicit lengths (binary-safe). */
typedef struct csession__redis_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
} csession__redis_cmd;

/* How a failed run left the connection. */
typedef enum csession__redis_failure {
    CSESSION__REDIS_FAILED = 0,  /* protocol error, out of memory, ...: do not retry */
    CSESSION__REDIS_DROPPED = 1, /* closed or reset under us: a new connection may work */
    CSESSION__REDIS_TIMEOUT = 2  /* no answer in time: the command may have run */
} csession__redis_failure;

/*
 * Connects to `t`, authenticates and selects the database.
 * Returns 0 with a new connection in *out, or CSESSION_ESTORE (refused,
 * unreachable, AUTH or SELECT refused; the message names the server and the
 * reason), CSESSION_ETIMEOUT, or CSESSION_ENOMEM.
 */
int csession__redis_conn_open(csession__redis_conn **out, const csession__redis_target *t);

/* Closes and frees `c`; NULL is a no-op. */
void csession__redis_conn_close(csession__redis_conn *c);

/*
 * Sends `n` commands in one write and reads their `n` replies. Returns 0 with
 * replies[0 .. n) set (free each with freeReplyObject(); error replies
 * included: they leave the connection usable). On failure returns
 * CSESSION_ESTORE, CSESSION_ETIMEOUT or CSESSION_ENOMEM with a message
 * starting with `what`, sets *failure, frees any reply already read, and the
 * connection is unusable: close it. SIGPIPE is never raised.
 */
int csession__redis_conn_run(csession__redis_conn *c, const char *what,
                             const csession__redis_cmd *cmds, size_t n, redisReply **replies,
                             csession__redis_failure *failure);

/*
 * Turns a reply of an unexpected kind into CSESSION_ESTORE: an error reply
 * with the server's text ("<what>: <text>"), anything else naming its type.
 */
int csession__redis_reply_error(const redisReply *r, const char *what);

/* Wipes a reply's string (it may hold a state) and frees it; NULL is a no-op. */
void csession__redis_reply_free(redisReply *r);

#endif
