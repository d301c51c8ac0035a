/*
 * One Redis connection as a state machine over a non-blocking socket: see
 * conn.h.
 *
 *   CONNECTING  connect() in progress (each address of the name in turn)
 *   HANDSHAKE   the transport's own handshake (TLS); plain skips it
 *   LOGIN       AUTH / SELECT / ROLE sent in one write, replies awaited;
 *               requests queued meanwhile wait in `out`, unsent, so that no
 *               command runs before the login said yes
 *   READY       requests written as they come, replies matched in order
 *   BROKEN      every request failed; the owner closes the connection
 *
 * Replies are parsed by hiredis' reader alone (redisReaderCreate, Feed,
 * GetReply: in both hiredis 0.14 and 1.x); hiredis does no I/O here.
 * Commands are formatted in RESP here (what redisFormatCommandArgv() would
 * give, without its printf calls), and written through the transport.
 */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "csession/loop.h"
#include "digits.h"
#include "error.h"
#include "tls.h"
#include "topology.h"
#include "transport.h"

enum { CONNECTING, HANDSHAKE, LOGIN, READY, BROKEN };

struct csession__redis_req {
    csession__redis_req *next;
    csession__redis_reply_cb cb; /* NULL: cancelled (or the login's) */
    void *arg;
    const char *what;
    size_t n, got;
    redisReply *replies[CSESSION__REDIS_MAX_PIPELINE];
    long long deadline_ms; /* 0 until the connection is READY */
    int login;
};

typedef struct outbuf {
    char *ptr;
    size_t len, off, cap;
} outbuf;

struct csession__redis_conn_state {
    int state;
    int fd;
    csession__redis_transport *tr;
    redisReader *reader;
    struct addrinfo *addrs, *next_addr;
    int last_errno;
    const struct csession__redis_tls *tls;
    char host[CSESSION__REDIS_MAX_HOST + 1]; /* TLS server name */
    char server[300];                         /* for messages */
    unsigned int connect_timeout_ms, command_timeout_ms;
    long long connect_deadline_ms;
    unsigned int handshake_wants; /* HANDSHAKE: the transport's WANT */
    int write_wants_read;         /* the transport's write asked for READ */
    int read_wants_write;         /* and its read for WRITE */
    outbuf pre;                   /* the login's bytes */
    outbuf out;                   /* the requests' */
    csession__redis_req *head, *tail;
    unsigned int depth;
    /* The login: names of the commands sent ('A'UTH, 'S'ELECT, 'R'OLE). */
    char login_names[3];
    size_t login_n;
    /* Once BROKEN: why, for requests sent afterwards. */
    int fail_rc;
    csession__redis_failure failure;
    int fail_prefixed; /* the message is a command's ("<what>: <reason>") */
    char fail_msg[720];
    int in_io;
};

/* ---- helpers ------------------------------------------------------------ */

void csession__redis_describe(const csession__redis_target *t, char *out, size_t size)
{
    if (t->path)
        snprintf(out, size, "unix:%s", t->path);
    else if (strchr(t->host, ':'))
        snprintf(out, size, "[%s]:%d", t->host, t->port);
    else
        snprintf(out, size, "%s:%d", t->host, t->port);
}

int csession__redis_reply_error(const redisReply *r, const char *what)
{
    if (r->type == REDIS_REPLY_ERROR)
        return csession__error(CSESSION_ESTORE, "%s: %.*s", what,
                               (int)(r->len > 400 ? 400 : r->len), r->str ? r->str : "");
    return csession__error(CSESSION_ESTORE, "%s: unexpected reply of type %d from Redis", what,
                           r->type);
}

int csession__redis_error_is(const redisReply *r, const char *code)
{
    size_t n = strlen(code);
    return r && r->type == REDIS_REPLY_ERROR && (size_t)r->len >= n &&
           memcmp(r->str, code, n) == 0 && ((size_t)r->len == n || r->str[n] == ' ');
}

void csession__redis_reply_free(redisReply *r)
{
    if (!r)
        return;
    if (r->type == REDIS_REPLY_STRING && r->str)
        sodium_memzero(r->str, (size_t)r->len);
    freeReplyObject(r);
}

static void req_free(csession__redis_req *r)
{
    for (size_t i = 0; i < r->got; i++)
        csession__redis_reply_free(r->replies[i]);
    csession__free(r);
}

/* Wipes (it may hold a state) and frees. */
static void outbuf_dispose(outbuf *b)
{
    if (b->ptr) {
        sodium_memzero(b->ptr, b->cap);
        csession__free(b->ptr);
    }
    memset(b, 0, sizeof *b);
}

static int outbuf_reserve(outbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    if (b->off > 0 && b->cap - (b->len - b->off) >= more) {
        /* Move the unsent bytes to the front, wiping what was sent. */
        size_t left = b->len - b->off;
        memmove(b->ptr, b->ptr + b->off, left);
        sodium_memzero(b->ptr + left, b->len - left);
        b->len = left;
        b->off = 0;
        return 0;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len < more)
        cap *= 2;
    char *p = csession__malloc(cap);
    if (!p)
        return -1;
    if (b->ptr) {
        memcpy(p, b->ptr, b->len);
        sodium_memzero(b->ptr, b->cap);
        csession__free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    return 0;
}

/* Writes `n` in decimal at `dst`; the number of characters. */
static size_t put_decimal(char *dst, size_t n)
{
    char digits[CSESSION__DECIMAL_MAX];
    const char *d = csession__decimal_u64(digits, n);
    size_t len = (size_t)(digits + sizeof digits - d);
    memcpy(dst, d, len);
    return len;
}

/* Bytes of the RESP array of bulk strings that carries `cmd`: "*<argc>\r\n",
 * then "$<len>\r\n<bytes>\r\n" for each argument. */
static size_t resp_len(const csession__redis_cmd *cmd)
{
    size_t n = 1 + CSESSION__DECIMAL_MAX + 2;
    for (int i = 0; i < cmd->argc; i++)
        n += 1 + CSESSION__DECIMAL_MAX + 2 + cmd->lens[i] + 2;
    return n;
}

static size_t resp_format(char *dst, const csession__redis_cmd *cmd)
{
    char *p = dst;
    *p++ = '*';
    p += put_decimal(p, (size_t)cmd->argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < cmd->argc; i++) {
        *p++ = '$';
        p += put_decimal(p, cmd->lens[i]);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, cmd->argv[i], cmd->lens[i]);
        p += cmd->lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t)(p - dst);
}

static int append_cmds(outbuf *b, const csession__redis_cmd *cmds, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += resp_len(&cmds[i]);
    if (outbuf_reserve(b, need) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        b->len += resp_format(b->ptr + b->len, &cmds[i]);
    return 0;
}

/* ---- failing ------------------------------------------------------------ */

/* Records the calling thread's error for request `r` of a broken `s`. */
static int set_failure(const struct csession__redis_conn_state *s, const csession__redis_req *r)
{
    if (s->fail_rc == CSESSION_ENOMEM)
        return csession__oom();
    if (s->fail_prefixed)
        return csession__error(s->fail_rc, "%s: %s", r->what, s->fail_msg);
    return csession__error(s->fail_rc, "%s", s->fail_msg);
}

/*
 * Breaks the connection: every request fails with `rc` / `failure`, the
 * message `msg` (prefixed with each request's `what` when `prefixed`).
 * The callbacks run here.
 */
static void break_conn(csession__redis_conn *c, int rc, csession__redis_failure failure,
                       int prefixed, const char *msg)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->state == BROKEN)
        return;
    s->state = BROKEN;
    s->fail_rc = rc;
    s->failure = failure;
    s->fail_prefixed = prefixed;
    snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
    outbuf_dispose(&s->pre);
    outbuf_dispose(&s->out);
    while (s->head) {
        csession__redis_req *r = s->head;
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
        s->depth--;
        if (r->cb) {
            set_failure(s, r);
            r->cb(r->arg, s->fail_rc, s->failure, NULL, 0);
        }
        req_free(r);
    }
}

/* A failure before the login completed: the server cannot be used. */
static void fail_connect(csession__redis_conn *c, int rc, csession__redis_failure failure,
                         const char *reason)
{
    char msg[720];
    snprintf(msg, sizeof msg, "cannot connect to Redis at %s: %s", c->s->server, reason);
    break_conn(c, rc, failure, 0, msg);
}

/* The stream broke (closed, reset, unreadable). Before the login is done,
 * a server that closed the connection is as good as unreachable. */
static void fail_stream(csession__redis_conn *c, const char *reason)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->state != READY) {
        char msg[720];
        snprintf(msg, sizeof msg, "connecting to Redis at %s: %s", s->server, reason);
        break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, 0, msg);
    } else {
        break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_DROPPED, 1, reason);
    }
}

void csession__redis_conn_fail(csession__redis_conn *c, const char *reason)
{
    break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, 1, reason);
}

/* ---- the login ---------------------------------------------------------- */

/* ROLE's answer is an array whose first element names the role. */
static int is_master_role(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 6 &&
           memcmp(r->element[0]->str, "master", 6) == 0;
}

/* Queues AUTH, SELECT and ROLE (each when needed) into `pre`. */
static int queue_login(csession__redis_conn *c, const csession__redis_target *t)
{
    struct csession__redis_conn_state *s = c->s;
    csession__redis_cmd cmds[3];
    const char *auth_argv[3];
    size_t auth_lens[3];
    const char *select_argv[2];
    size_t select_lens[2];
    static const char *const role_argv[1] = {"ROLE"};
    static const size_t role_lens[1] = {4};
    char db[16];
    size_t n = 0;
    if (t->password) {
        int argc = 0;
        auth_argv[argc] = "AUTH";
        auth_lens[argc++] = 4;
        if (t->user) {
            auth_argv[argc] = t->user;
            auth_lens[argc++] = t->user_len;
        }
        auth_argv[argc] = t->password;
        auth_lens[argc++] = t->password_len;
        s->login_names[n] = 'A';
        cmds[n++] = (csession__redis_cmd){argc, auth_argv, auth_lens};
    }
    if (t->db != 0) {
        select_argv[0] = "SELECT";
        select_lens[0] = 6;
        select_argv[1] = db;
        select_lens[1] = (size_t)snprintf(db, sizeof db, "%d", t->db);
        s->login_names[n] = 'S';
        cmds[n++] = (csession__redis_cmd){2, select_argv, select_lens};
    }
    if (t->require_master) {
        s->login_names[n] = 'R';
        cmds[n++] = (csession__redis_cmd){1, (const char **)role_argv, role_lens};
    }
    s->login_n = n;
    if (n == 0)
        return 0;
    csession__redis_req *r = csession__calloc(1, sizeof *r);
    if (!r || append_cmds(&s->pre, cmds, n) != 0) {
        csession__free(r);
        return -1;
    }
    r->login = 1;
    r->n = n;
    r->what = "login";
    s->head = s->tail = r;
    s->depth = 1;
    return 0;
}

static void become_ready(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    s->state = READY;
    long long deadline = csession__redis_now_ms() + s->command_timeout_ms;
    for (csession__redis_req *r = s->head; r; r = r->next)
        r->deadline_ms = deadline;
}

/* The login's replies: any refusal breaks the connection. */
static void login_done(csession__redis_conn *c, csession__redis_req *req)
{
    struct csession__redis_conn_state *s = c->s;
    char msg[720];
    const char *name = "";
    for (size_t i = 0; i < req->n; i++) {
        const redisReply *r = req->replies[i];
        if (s->login_names[i] == 'R') {
            if (r->type == REDIS_REPLY_ERROR) {
                snprintf(msg, sizeof msg, "Redis ROLE refused at %s: %.*s", s->server,
                         (int)(r->len > 300 ? 300 : r->len), r->str);
                break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, 0, msg);
                return;
            }
            if (!is_master_role(r)) {
                snprintf(msg, sizeof msg, "Redis at %s is not a master (%s)", s->server,
                         r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                                 r->element[0]->type == REDIS_REPLY_STRING
                             ? r->element[0]->str
                             : "unexpected ROLE reply");
                break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_NOT_MASTER, 0, msg);
                return;
            }
            continue;
        }
        if (r->type == REDIS_REPLY_STATUS)
            continue;
        name = s->login_names[i] == 'A' ? "AUTH" : "SELECT";
        if (r->type == REDIS_REPLY_ERROR)
            snprintf(msg, sizeof msg, "Redis %s refused at %s: %.*s", name, s->server,
                     (int)(r->len > 300 ? 300 : r->len), r->str ? r->str : "");
        else
            snprintf(msg, sizeof msg, "Redis %s refused at %s: unexpected reply of type %d "
                     "from Redis", name, s->server, r->type);
        break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, 0, msg);
        return;
    }
    become_ready(c);
}

/* ---- connecting --------------------------------------------------------- */

/* Where send() has no MSG_NOSIGNAL (BSDs, macOS), the socket option. */
static int no_sigpipe(int fd)
{
#if defined(SO_NOSIGPIPE)
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#else
    (void)fd;
    return 0;
#endif
}

static int nonblocking_socket(int domain)
{
    int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && no_sigpipe(fd) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The socket is connected: the transport, then its handshake or the login. */
static void connected(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->addrs) {
        freeaddrinfo(s->addrs);
        s->addrs = s->next_addr = NULL;
        int on = 1;
        (void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    char err[256] = "";
    s->tr = s->tls ? csession__redis_tls_transport(s->tls, s->fd, s->host, err, sizeof err)
                   : csession__redis_transport_plain(s->fd);
    if (!s->tr) {
        if (s->tls)
            fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, err);
        else
            break_conn(c, CSESSION_ENOMEM, CSESSION__REDIS_FAILED, 0, "out of memory");
        return;
    }
    s->state = s->tls ? HANDSHAKE : LOGIN;
    s->handshake_wants = CSESSION_IO_WRITE;
    if (s->state == LOGIN && s->login_n == 0)
        become_ready(c);
}

/* Tries the next address of the name; breaks the connection after the last. */
static void connect_next(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    while (s->next_addr) {
        struct addrinfo *ai = s->next_addr;
        s->next_addr = ai->ai_next;
        if (s->fd >= 0)
            close(s->fd);
        s->fd = nonblocking_socket(ai->ai_family);
        if (s->fd < 0) {
            s->last_errno = errno;
            continue;
        }
        if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            connected(c);
            return;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            s->state = CONNECTING;
            return;
        }
        s->last_errno = errno;
    }
    fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, strerror(s->last_errno));
}

static void connect_unix(csession__redis_conn *c, const char *path)
{
    struct csession__redis_conn_state *s = c->s;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, "socket path too long");
        return;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s->fd = nonblocking_socket(AF_UNIX);
    if (s->fd < 0) {
        fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, strerror(errno));
        return;
    }
    if (connect(s->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        connected(c);
        return;
    }
    if (errno == EINPROGRESS || errno == EAGAIN || errno == EINTR) {
        s->state = CONNECTING;
        return;
    }
    fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, strerror(errno));
}

/* CONNECTING and the socket became writable: done, or the next address. */
static void check_connect(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    struct pollfd p = {s->fd, POLLOUT, 0};
    if (poll(&p, 1, 0) == 0)
        return; /* still in progress */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        connected(c);
        return;
    }
    s->last_errno = err;
    if (s->next_addr)
        connect_next(c);
    else
        fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE, strerror(err));
}

int csession__redis_conn_start(csession__redis_conn **out, const csession__redis_target *t)
{
    *out = NULL;
    csession__redis_conn *c = csession__calloc(1, sizeof *c);
    struct csession__redis_conn_state *s = c ? csession__calloc(1, sizeof *s) : NULL;
    redisReader *reader = s ? redisReaderCreate() : NULL;
    if (!reader) {
        csession__free(s);
        csession__free(c);
        return csession__oom();
    }
    c->s = s;
    s->reader = reader;
    s->fd = -1;
    s->tls = t->tls;
    if (t->host)
        snprintf(s->host, sizeof s->host, "%s", t->host);
    csession__redis_describe(t, s->server, sizeof s->server);
    s->connect_timeout_ms = t->connect_timeout_ms;
    s->command_timeout_ms = t->command_timeout_ms;
    s->connect_deadline_ms = csession__redis_now_ms() + t->connect_timeout_ms;
    s->state = CONNECTING;
    if (queue_login(c, t) != 0) {
        redisReaderFree(reader);
        csession__free(s);
        csession__free(c);
        return csession__oom();
    }
    *out = c;
    if (t->path) {
        connect_unix(c, t->path);
        return 0;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[16];
    snprintf(port, sizeof port, "%d", t->port);
    /* Names other than addresses are resolved here, blocking: the system
     * resolver has no non-blocking interface. Deployments that mind give
     * addresses (or names in /etc/hosts). */
    int g = getaddrinfo(t->host, port, &hints, &s->addrs);
    if (g != 0) {
        s->addrs = NULL;
        fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_UNREACHABLE,
                     g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        return 0;
    }
    s->next_addr = s->addrs;
    s->last_errno = ECONNREFUSED;
    connect_next(c);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

csession__redis_req *csession__redis_conn_send(csession__redis_conn *c, const char *what,
                                               const csession__redis_cmd *cmds, size_t n,
                                               csession__redis_reply_cb cb, void *arg)
{
    struct csession__redis_conn_state *s = c->s;
    csession__redis_req *r = s->state == BROKEN ? NULL : csession__calloc(1, sizeof *r);
    if (r && append_cmds(&s->out, cmds, n) != 0) {
        csession__free(r);
        r = NULL;
        csession__oom();
        cb(arg, CSESSION_ENOMEM, CSESSION__REDIS_FAILED, NULL, 0);
        return NULL;
    }
    if (!r) {
        csession__redis_req probe = {0};
        probe.what = what;
        int rc = s->state == BROKEN ? set_failure(s, &probe) : csession__oom();
        cb(arg, rc, s->state == BROKEN ? s->failure : CSESSION__REDIS_FAILED, NULL, 0);
        return NULL;
    }
    r->cb = cb;
    r->arg = arg;
    r->what = what;
    r->n = n;
    if (s->state == READY)
        r->deadline_ms = csession__redis_now_ms() + s->command_timeout_ms;
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->depth++;
    return r;
}

void csession__redis_req_cancel(csession__redis_req *r)
{
    r->cb = NULL;
    r->arg = NULL;
}

/* ---- I/O ---------------------------------------------------------------- */

/* Writes what is due: the login's bytes, then (READY) the requests'. */
static void flush(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    s->write_wants_read = 0;
    for (;;) {
        outbuf *b = s->pre.off < s->pre.len ? &s->pre
                    : s->state == READY && s->out.off < s->out.len ? &s->out
                                                                   : NULL;
        if (!b)
            return;
        struct iovec iov = {b->ptr + b->off, b->len - b->off};
        char err[256] = "";
        ssize_t w = s->tr->ops->writev(s->tr, &iov, 1, err, sizeof err);
        if (w == CSESSION__IO_WANT_WRITE)
            return;
        if (w == CSESSION__IO_WANT_READ) {
            s->write_wants_read = 1;
            return;
        }
        if (w < 0) {
            fail_stream(c, err);
            return;
        }
        b->off += (size_t)w;
        if (b->off == b->len) {
            sodium_memzero(b->ptr, b->len);
            b->off = b->len = 0;
        }
    }
}

/* Hands the replies parsed so far to their requests, in order. */
static void dispatch(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    while (s->state != BROKEN) {
        void *reply = NULL;
        if (redisReaderGetReply(s->reader, &reply) != REDIS_OK) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s", s->reader->errstr[0] ? s->reader->errstr
                                                                  : "Redis protocol error");
            break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, 1, msg);
            return;
        }
        if (!reply)
            return;
        csession__redis_req *r = s->head;
        if (!r) {
            csession__redis_reply_free(reply);
            break_conn(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, 1,
                       "Redis sent a reply to no command");
            return;
        }
        r->replies[r->got++] = reply;
        if (r->got < r->n)
            continue;
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
        s->depth--;
        if (r->login) {
            login_done(c, r);
        } else if (r->cb) {
            r->got = 0; /* the replies are the callback's now */
            r->cb(r->arg, 0, CSESSION__REDIS_FAILED, r->replies, r->n);
        }
        req_free(r);
    }
}

static void read_all(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    s->read_wants_write = 0;
    char buf[16384];
    while (s->state == LOGIN || s->state == READY) {
        char err[256] = "";
        ssize_t n = s->tr->ops->read(s->tr, buf, sizeof buf, err, sizeof err);
        if (n == CSESSION__IO_WANT_READ)
            return;
        if (n == CSESSION__IO_WANT_WRITE) {
            s->read_wants_write = 1;
            return;
        }
        if (n == 0) {
            fail_stream(c, "connection closed by the Redis server");
            return;
        }
        if (n < 0) {
            fail_stream(c, err);
            return;
        }
        int fed = redisReaderFeed(s->reader, buf, (size_t)n);
        sodium_memzero(buf, (size_t)n);
        if (fed != REDIS_OK) {
            break_conn(c, CSESSION_ENOMEM, CSESSION__REDIS_FAILED, 0, "out of memory");
            return;
        }
        dispatch(c);
        if ((size_t)n < sizeof buf && !s->tls)
            return; /* drained: spare the read that would say so */
    }
}

static void handshake_step(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    char err[256] = "";
    int r = s->tr->ops->handshake(s->tr, err, sizeof err);
    if (r == 0) {
        s->state = LOGIN;
        if (s->login_n == 0)
            become_ready(c);
    } else if (r == CSESSION__IO_WANT_READ) {
        s->handshake_wants = CSESSION_IO_READ;
    } else if (r == CSESSION__IO_WANT_WRITE) {
        s->handshake_wants = CSESSION_IO_WRITE;
    } else {
        fail_connect(c, CSESSION_ESTORE, CSESSION__REDIS_FAILED, err);
    }
}

void csession__redis_conn_io(csession__redis_conn *c, unsigned int events)
{
    struct csession__redis_conn_state *s = c->s;
    /* A callback run from here may send on this connection: the outer call
     * writes it when the callbacks are done. */
    if (s->in_io)
        return;
    s->in_io = 1;
    if (s->state == CONNECTING && (events & (CSESSION_IO_WRITE | CSESSION_IO_ERROR)))
        check_connect(c);
    if (s->state == HANDSHAKE)
        handshake_step(c);
    if (s->state == LOGIN || s->state == READY) {
        flush(c);
        if (events & (CSESSION_IO_READ | CSESSION_IO_ERROR) ||
            (s->read_wants_write && (events & CSESSION_IO_WRITE)))
            read_all(c);
        if (s->state == LOGIN || s->state == READY)
            flush(c);
    }
    s->in_io = 0;
}

unsigned int csession__redis_conn_events(const csession__redis_conn *c)
{
    const struct csession__redis_conn_state *s = c->s;
    switch (s->state) {
    case CONNECTING:
        return CSESSION_IO_WRITE;
    case HANDSHAKE:
        return s->handshake_wants;
    case LOGIN:
    case READY: {
        unsigned int ev = CSESSION_IO_READ;
        int pending = s->pre.off < s->pre.len || (s->state == READY && s->out.off < s->out.len);
        if ((pending && !s->write_wants_read) || s->read_wants_write)
            ev |= CSESSION_IO_WRITE;
        return ev;
    }
    default:
        return 0;
    }
}

long long csession__redis_conn_deadline(const csession__redis_conn *c)
{
    const struct csession__redis_conn_state *s = c->s;
    if (s->state == BROKEN)
        return 0;
    if (s->state != READY)
        return s->connect_deadline_ms;
    return s->head ? s->head->deadline_ms : 0;
}

void csession__redis_conn_expire(csession__redis_conn *c, long long now_ms)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->state == BROKEN || s->in_io)
        return;
    if (s->state != READY) {
        if (now_ms >= s->connect_deadline_ms) {
            char reason[80];
            snprintf(reason, sizeof reason, "no answer within %u ms", s->connect_timeout_ms);
            fail_connect(c, CSESSION_ETIMEOUT, CSESSION__REDIS_UNREACHABLE, reason);
        }
        return;
    }
    if (s->head && s->head->deadline_ms && now_ms >= s->head->deadline_ms) {
        char reason[80];
        snprintf(reason, sizeof reason, "Redis did not answer in time (%u ms)",
                 s->command_timeout_ms);
        break_conn(c, CSESSION_ETIMEOUT, CSESSION__REDIS_TIMEOUT, 1, reason);
    }
}

int csession__redis_conn_broken(const csession__redis_conn *c)
{
    return c->s->state == BROKEN;
}

int csession__redis_conn_ready(const csession__redis_conn *c)
{
    return c->s->state == READY;
}

unsigned int csession__redis_conn_depth(const csession__redis_conn *c)
{
    return c->s->depth;
}

int csession__redis_conn_fd(const csession__redis_conn *c)
{
    return c->s->fd;
}

csession__redis_failure csession__redis_conn_failure(const csession__redis_conn *c)
{
    return c->s->failure;
}

void csession__redis_conn_flush(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->in_io || (s->state != LOGIN && s->state != READY))
        return;
    s->in_io = 1;
    flush(c);
    s->in_io = 0;
}

void csession__redis_conn_forget(csession__redis_conn *c)
{
    struct csession__redis_conn_state *s = c->s;
    if (s->tr)
        s->tr->ops->free(s->tr, 0);
    s->tr = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = BROKEN;
    s->fail_rc = CSESSION_ESTORE;
    s->failure = CSESSION__REDIS_FAILED;
    for (csession__redis_req *r = s->head; r; r = r->next)
        r->cb = NULL;
}

/* ---- closing ------------------------------------------------------------ */

static void destroy(csession__redis_conn *c, int polite)
{
    if (!c)
        return;
    struct csession__redis_conn_state *s = c->s;
    if (s->tr)
        s->tr->ops->free(s->tr, polite);
    /* close() alone, never shutdown(), which would end a parent's
     * connection too after fork(). */
    if (s->fd >= 0)
        close(s->fd);
    if (s->addrs)
        freeaddrinfo(s->addrs);
    while (s->head) {
        csession__redis_req *r = s->head;
        s->head = r->next;
        req_free(r);
    }
    outbuf_dispose(&s->pre);
    outbuf_dispose(&s->out);
    redisReaderFree(s->reader);
    csession__free(s);
    csession__free(c);
}

void csession__redis_conn_close(csession__redis_conn *c)
{
    destroy(c, 1);
}

void csession__redis_conn_abandon(csession__redis_conn *c)
{
    destroy(c, 0);
}

/* ---- blocking: poll() on the one descriptor ------------------------------ */

/* Polls until *done, or (`ready`) the login is done, or the connection
 * breaks. */
static void poll_until(csession__redis_conn *c, const int *done, int ready)
{
    /* What is queued can usually be written at once: no poll before. */
    csession__redis_conn_flush(c);
    while (!*done && !csession__redis_conn_broken(c) && !(ready && csession__redis_conn_ready(c))) {
        unsigned int ev = csession__redis_conn_events(c);
        long long deadline = csession__redis_conn_deadline(c);
        long long now = csession__redis_now_ms();
        int wait_ms = -1;
        if (deadline) {
            if (now >= deadline) {
                csession__redis_conn_expire(c, now);
                continue;
            }
            long long left = deadline - now;
            wait_ms = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd p = {csession__redis_conn_fd(c), 0, 0};
        if (ev & CSESSION_IO_READ)
            p.events |= POLLIN;
        if (ev & CSESSION_IO_WRITE)
            p.events |= POLLOUT;
        int n = poll(&p, 1, wait_ms);
        if (n < 0 && errno != EINTR) {
            char reason[120];
            snprintf(reason, sizeof reason, "poll() failed: %s", strerror(errno));
            csession__redis_conn_fail(c, reason);
            break;
        }
        if (n <= 0)
            continue; /* the deadline is checked above */
        unsigned int got = 0;
        if (p.revents & POLLIN)
            got |= CSESSION_IO_READ;
        if (p.revents & POLLOUT)
            got |= CSESSION_IO_WRITE;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
            got |= CSESSION_IO_ERROR;
        csession__redis_conn_io(c, got);
    }
}

void csession__redis_conn_wait(csession__redis_conn *c, const int *done)
{
    poll_until(c, done, 0);
}

int csession__redis_conn_open(csession__redis_conn **out, const csession__redis_target *t,
                              csession__redis_failure *failure)
{
    *out = NULL;
    *failure = CSESSION__REDIS_FAILED;
    csession__redis_conn *c;
    int rc = csession__redis_conn_start(&c, t);
    if (rc)
        return rc;
    int never = 0;
    poll_until(c, &never, 1);
    if (csession__redis_conn_broken(c)) {
        struct csession__redis_conn_state *s = c->s;
        csession__redis_req probe = {0};
        probe.what = "connecting to Redis";
        rc = set_failure(s, &probe);
        *failure = s->failure;
        csession__redis_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

typedef struct run_result {
    int done;
    int rc;
    csession__redis_failure failure;
    redisReply **replies;
} run_result;

static void run_done(void *arg, int rc, csession__redis_failure failure, redisReply **replies,
                     size_t n)
{
    run_result *res = arg;
    res->done = 1;
    res->rc = rc;
    res->failure = failure;
    for (size_t i = 0; i < n; i++)
        res->replies[i] = replies[i];
}

int csession__redis_conn_run(csession__redis_conn *c, const char *what,
                             const csession__redis_cmd *cmds, size_t n, redisReply **replies,
                             csession__redis_failure *failure)
{
    run_result res = {0, 0, CSESSION__REDIS_FAILED, replies};
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    csession__redis_conn_send(c, what, cmds, n, run_done, &res);
    csession__redis_conn_wait(c, &res.done);
    *failure = res.failure;
    return res.rc;
}
