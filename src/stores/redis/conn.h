/*
 * Internal: one connection to a Redis server, as a state machine over a
 * non-blocking socket: connect (with a deadline), the transport's handshake
 * (TLS), the AUTH / SELECT / ROLE login in one round trip, then commands
 * pipelined in order, their replies parsed by hiredis' reader and handed to
 * each request's callback in the order the requests were sent.
 *
 * The machine does no waiting of its own. Whoever drives it asks which
 * socket events it wants (csession__redis_conn_events), waits for them its
 * own way, and feeds them back (csession__redis_conn_io), and calls
 * csession__redis_conn_expire when the deadline it gives has passed. Two
 * drivers exist: a csession_loop (loop.h), used by the store's non-blocking
 * calls (redis_async.c), and poll() on the one descriptor, used by the
 * blocking functions below (csession__redis_conn_open, _run), which the
 * pool and the topologies call. Both run the same code.
 *
 * All socket I/O goes through a transport (transport.h): plain, or TLS
 * when the target has TLS settings.
 */
#ifndef CSESSION_SRC_STORES_REDIS_CONN_H
#define CSESSION_SRC_STORES_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct csession__redis_tls;

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
    /* TLS settings (tls.h), shared and read-only; NULL: a plain connection. */
    const struct csession__redis_tls *tls;
} csession__redis_target;

typedef struct csession__redis_conn csession__redis_conn;
typedef struct csession__redis_req csession__redis_req;

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

/* Most commands one request may pipeline (ASKING + command, twice, + WAIT). */
#define CSESSION__REDIS_MAX_PIPELINE 5

/*
 * What a request's callback receives. rc 0: the replies, replies[0 .. n)
 * (error replies included), now the callback's to free. rc < 0: the
 * request failed with `failure`, and the calling thread's last error
 * (csession_last_error()) says why, prefixed with the request's `what`.
 * Runs on the thread that drives the connection, possibly inside
 * csession__redis_conn_send() (a connection already broken).
 */
typedef void (*csession__redis_reply_cb)(void *arg, int rc, csession__redis_failure failure,
                                         redisReply **replies, size_t n);

struct csession__redis_conn {
    /* ---- the pool's (pool.c) ---- */
    unsigned long epoch;               /* the pool's epoch when it was opened */
    csession__redis_conn *next;        /* in the pool's idle list */
    /* In the pool's list of every connection it has, idle or in use. */
    csession__redis_conn *all_prev, *all_next;
    /* ---- a non-blocking driver's (redis_async.c) ---- */
    void *owner;      /* the driver's record of the connection */
    void *io, *timer; /* its watcher and timer on the loop */
    int io_fd;        /* the descriptor `io` watches */
    unsigned int watching;
    long long armed_ms; /* the deadline `timer` is armed for, 0: none */
    int reaping;        /* broken, out of use, freed from its timer */
    /* ---- the machine's (conn.c) ---- */
    struct csession__redis_conn_state *s;
};

/*
 * Starts connecting to `t` without waiting: the socket is made and the
 * connect begun, the login commands queued. Returns 0 with the connection
 * in *out (possibly already broken: requests sent on it then fail at once
 * with the reason), or CSESSION_ENOMEM.
 */
int csession__redis_conn_start(csession__redis_conn **out, const csession__redis_target *t);

/*
 * Queues `n` commands (at most CSESSION__REDIS_MAX_PIPELINE) as one request
 * whose replies go to `cb`. The bytes are formatted at once: `cmds` is not
 * kept. `what` (static, or alive until the callback) names the request in
 * messages. Returns the request, to cancel it, or NULL when `cb` already
 * ran (a broken connection, out of memory).
 */
csession__redis_req *csession__redis_conn_send(csession__redis_conn *c, const char *what,
                                               const csession__redis_cmd *cmds, size_t n,
                                               csession__redis_reply_cb cb, void *arg);

/* The request's callback will not run; its replies are read and dropped. */
void csession__redis_req_cancel(csession__redis_req *r);

/* The CSESSION_IO_READ / CSESSION_IO_WRITE events the connection waits for
 * (0 once broken). */
unsigned int csession__redis_conn_events(const csession__redis_conn *c);

/* Makes progress after `events` (CSESSION_IO_* bits) on the socket: writes,
 * reads, and runs the callbacks of the requests answered or failed. */
void csession__redis_conn_io(csession__redis_conn *c, unsigned int events);

/* The next deadline (monotonic ms, csession__redis_now_ms()), 0 for none. */
long long csession__redis_conn_deadline(const csession__redis_conn *c);

/* Fails what is overdue at `now_ms`: the connect, or the oldest request
 * (with CSESSION__REDIS_TIMEOUT, and every request behind it on the
 * connection: they wait behind a server that does not answer). */
void csession__redis_conn_expire(csession__redis_conn *c, long long now_ms);

/* Fails every request with CSESSION_ESTORE / CSESSION__REDIS_FAILED and the
 * message "<what>: <reason>"; the connection is broken from then on. */
void csession__redis_conn_fail(csession__redis_conn *c, const char *reason);

/* 1 once the connection is broken (closed, failed, timed out). */
int csession__redis_conn_broken(const csession__redis_conn *c);

/* 1 once the login is done and commands flow. */
int csession__redis_conn_ready(const csession__redis_conn *c);

/* Requests sent and not yet answered (cancelled ones included). */
unsigned int csession__redis_conn_depth(const csession__redis_conn *c);

/* The socket, or -1. */
int csession__redis_conn_fd(const csession__redis_conn *c);

/* Once broken: why (DROPPED for a connection closed or reset). */
csession__redis_failure csession__redis_conn_failure(const csession__redis_conn *c);

/*
 * Writes what is queued, if the socket takes it now; nothing while a
 * callback of this connection runs (the write follows when it returns).
 * May run callbacks (a write that finds the connection broken).
 */
void csession__redis_conn_flush(csession__redis_conn *c);

/*
 * In a process forked from the one that opened `c`: closes its descriptor
 * without a byte on it (as abandon), and drops its requests without their
 * callbacks; the memory stays (requests of the parent's operations may
 * still be referred to), and is never freed.
 */
void csession__redis_conn_forget(csession__redis_conn *c);

/* ---- blocking: the same machine, driven by poll() --------------------- */

/*
 * Connects to `t`, authenticates, selects the database and, with
 * `require_master`, checks that ROLE says master (all in one round trip).
 * Returns 0 with a new connection in *out, or CSESSION_ESTORE (refused,
 * unreachable, AUTH or SELECT refused, not a master; the message names the
 * server and the reason), CSESSION_ETIMEOUT, or CSESSION_ENOMEM, with
 * *failure saying which: UNREACHABLE, NOT_MASTER or FAILED. Blocks up to
 * the connect timeout.
 */
int csession__redis_conn_open(csession__redis_conn **out, const csession__redis_target *t,
                              csession__redis_failure *failure);

/* "host:port", "[v6]:port" or "unix:/path" of `t`, for messages. */
void csession__redis_describe(const csession__redis_target *t, char *out, size_t size);

/* Closes and frees `c` (its pending requests are dropped, callbacks not
 * run); NULL is a no-op. */
void csession__redis_conn_close(csession__redis_conn *c);

/*
 * Closes and frees `c`, a connection inherited from the process this one
 * was forked from, without a byte on it: the descriptor is closed here
 * (which leaves the socket open in the parent, whose connection it still
 * is) and the transport frees only memory. NULL is a no-op.
 */
void csession__redis_conn_abandon(csession__redis_conn *c);

/*
 * Sends `n` commands in one write and reads their `n` replies, blocking up
 * to the command timeout. Returns 0 with replies[0 .. n) set (free each
 * with csession__redis_reply_free(); error replies included: they leave the
 * connection usable). On failure returns CSESSION_ESTORE, CSESSION_ETIMEOUT
 * or CSESSION_ENOMEM with a message starting with `what`, sets *failure,
 * and the connection is unusable: close it. SIGPIPE is never raised.
 */
int csession__redis_conn_run(csession__redis_conn *c, const char *what,
                             const csession__redis_cmd *cmds, size_t n, redisReply **replies,
                             csession__redis_failure *failure);

/*
 * Polls `c` until *done becomes non-zero (a callback of a request on it
 * sets it) or the connection breaks (which runs the callbacks). Blocks up
 * to the connection's deadlines.
 */
void csession__redis_conn_wait(csession__redis_conn *c, const int *done);

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
