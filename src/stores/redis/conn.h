/*
 * Internal: one connection to a Redis server (a hiredis context): opening it
 * with AUTH and SELECT, running commands with timeouts, and telling apart
 * the ways a command can fail.
 */
#ifndef CSESSION_SRC_STORES_REDIS_CONN_H
#define CSESSION_SRC_STORES_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/*
 * Where to connect, how to log in and how long to wait. Every pointer is
 * borrowed (from the store's parsed URL, or a caller's buffer) and must
 * outlive the connections opened with it.
 */
typedef struct csession__redis_target {
    const char *host; /* TCP: name or address (IPv6 without brackets); NULL for unix */
    int port;
    const char *path; /* Unix socket path, or NULL */
    const char *user; /* ACL user, or NULL; any byte (user_len) */
    size_t user_len;
    const char *password; /* or NULL; any byte (password_len) */
    size_t password_len;
    int db;                          /* SELECT when not 0 */
    int require_master;              /* ROLE must answer "master" (Sentinel) */
    unsigned int connect_timeout_ms; /* connect, and the AUTH / SELECT / ROLE replies */
    unsigned int command_timeout_ms; /* each command's reply */
} csession__redis_target;

typedef struct csession__redis_conn {
    redisContext *ctx;
    unsigned long epoch;               /* the pool's epoch when it was opened */
    struct csession__redis_conn *next; /* in the pool's idle list */
    /* In the pool's list of every connection it has, idle or in use. */
    struct csession__redis_conn *all_prev, *all_next;
} csession__redis_conn;

/* One command: `argc` arguments with explicit lengths (binary-safe). */
typedef struct csession__redis_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
} csession__redis_cmd;

/* Why an attempt failed: tells whether trying again elsewhere may work. */
typedef enum csession__redis_failure {
    CSESSION__REDIS_FAILED = 0,      /* protocol error, out of memory, AUTH refused, ...: final */
    CSESSION__REDIS_DROPPED = 1,     /* closed or reset under us: a new connection may work */
    CSESSION__REDIS_TIMEOUT = 2,     /* no answer in time: the command may have run */
    CSESSION__REDIS_UNREACHABLE = 3, /* could not connect (refused, timed out, closed at once) */
    CSESSION__REDIS_NOT_MASTER = 4   /* connected, but ROLE says it is not a master */
} csession__redis_failure;

/*
 * Connects to `t`, authenticates, selects the database and, with
 * `require_master`, checks that ROLE says master (all in one round trip).
 * Returns 0 with a new connection in *out, or CSESSION_ESTORE (refused,
 * unreachable, AUTH or SELECT refused, not a master; the message names the
 * server and the reason), CSESSION_ETIMEOUT, or CSESSION_ENOMEM, with
 * *failure saying which: UNREACHABLE, NOT_MASTER or FAILED.
 */
int csession__redis_conn_open(csession__redis_conn **out, const csession__redis_target *t,
                              csession__redis_failure *failure);

/* "host:port", "[v6]:port" or "unix:/path" of `t`, for messages. */
void csession__redis_describe(const csession__redis_target *t, char *out, size_t size);

/* Closes and frees `c`; NULL is a no-op. */
void csession__redis_conn_close(csession__redis_conn *c);

/*
 * Closes and frees `c`, a connection inherited from the process this one
 * was forked from, without a byte on it: the descriptor is closed here
 * (which leaves the socket open in the parent, whose connection it still
 * is) and hiredis only frees memory. NULL is a no-op.
 */
void csession__redis_conn_abandon(csession__redis_conn *c);

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

/* 1 when `r` is an error reply whose first word is `code` ("MOVED",
 * "READONLY", ...), else 0. */
int csession__redis_error_is(const redisReply *r, const char *code);

#endif
