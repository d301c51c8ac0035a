/*
 * One Redis connection through hiredis' blocking API.
 *
 * Only functions present in both hiredis 0.14 and 1.x are used
 * (redisConnect{,Unix}WithTimeout, redisSetTimeout, redisGetReply,
 * freeReplyObject, redisFree, and the context's fd). Timeouts are socket timeouts
 * (SO_RCVTIMEO / SO_SNDTIMEO, set by redisSetTimeout): hiredis reports one
 * as an I/O error with errno EAGAIN (REDIS_ERR_TIMEOUT in some 1.x paths).
 * Commands are formatted (RESP) and written here, not by hiredis: see
 * send_commands().
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"
#include "digits.h"
#include "error.h"

static struct timeval tv_of_ms(unsigned int ms)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

void csession__redis_describe(const csession__redis_target *t, char *out, size_t size)
{
    if (t->path)
        snprintf(out, size, "unix:%s", t->path);
    else if (strchr(t->host, ':'))
        snprintf(out, size, "[%s]:%d", t->host, t->port);
    else
        snprintf(out, size, "%s:%d", t->host, t->port);
}

static int timed_out(const redisContext *ctx, int err)
{
#ifdef REDIS_ERR_TIMEOUT
    if (ctx->err == REDIS_ERR_TIMEOUT)
        return 1;
#endif
    if (ctx->err != REDIS_ERR_IO)
        return 0;
    /* errno is what hiredis' failing read, write or poll left. */
    return err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT ||
           strstr(ctx->errstr, "timed out") != NULL ||
           strstr(ctx->errstr, "temporarily unavailable") != NULL;
}

/* Classifies the error hiredis recorded in `ctx` and reports it. */
static int context_error(const redisContext *ctx, int err, const char *what,
                         csession__redis_failure *failure)
{
    if (timed_out(ctx, err)) {
        *failure = CSESSION__REDIS_TIMEOUT;
        return csession__error(CSESSION_ETIMEOUT, "%s: Redis did not answer in time (%s)", what,
                               ctx->errstr);
    }
    if (ctx->err == REDIS_ERR_OOM) {
        *failure = CSESSION__REDIS_FAILED;
        return csession__oom();
    }
    *failure = (ctx->err == REDIS_ERR_EOF || ctx->err == REDIS_ERR_IO)
                   ? CSESSION__REDIS_DROPPED
                   : CSESSION__REDIS_FAILED;
    if (ctx->err == REDIS_ERR_EOF)
        return csession__error(CSESSION_ESTORE, "%s: connection closed by the Redis server",
                               what);
    return csession__error(CSESSION_ESTORE, "%s: %s", what,
                           ctx->errstr[0] ? ctx->errstr : "Redis connection failed");
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

/*
 * hiredis writes with write() or send() without MSG_NOSIGNAL: on a
 * connection the peer has closed that raises SIGPIPE, whose default action
 * ends the process, and a library must not change the process' signal
 * dispositions. So commands never go through hiredis' output buffer: they
 * are formatted (send_commands) and written here with
 * MSG_NOSIGNAL (SO_NOSIGPIPE, set at connect, where there is no such flag),
 * which fails with EPIPE instead; redisGetReply() then finds nothing to
 * write and only reads, and reading never raises SIGPIPE. Unlike blocking
 * the signal around each command, this costs no system call but the write.
 */
#if !defined(MSG_NOSIGNAL) && !defined(SO_NOSIGPIPE)
#error "the Redis store needs MSG_NOSIGNAL or SO_NOSIGPIPE to write without SIGPIPE"
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

/* Writes all of iov[0 .. cnt) to `fd`; 0, or -1 with errno set. The socket
 * timeout (SO_SNDTIMEO, from redisSetTimeout) bounds each wait. */
static int send_all(int fd, struct iovec *iov, size_t cnt)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = cnt;
    while (m.msg_iovlen > 0) {
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (m.msg_iovlen > 0 && left >= m.msg_iov->iov_len) {
            left -= m.msg_iov->iov_len;
            m.msg_iov++;
            m.msg_iovlen--;
        }
        if (m.msg_iovlen > 0) {
            m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + left;
            m.msg_iov->iov_len -= left;
        }
    }
    return 0;
}

static int write_error(int err, const char *what, csession__redis_failure *failure)
{
    if (err == EAGAIN || err == EWOULDBLOCK) {
        *failure = CSESSION__REDIS_TIMEOUT;
        return csession__error(CSESSION_ETIMEOUT,
                               "%s: Redis did not answer in time (the write timed out)", what);
    }
    *failure = CSESSION__REDIS_DROPPED;
    if (err == EPIPE || err == ECONNRESET)
        return csession__error(CSESSION_ESTORE, "%s: connection closed by the Redis server",
                               what);
    return csession__error(CSESSION_ESTORE, "%s: writing to Redis failed (errno %d)", what, err);
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
 * then "$<len>\r\n<bytes>\r\n" for each argument (numbers of at most
 * CSESSION__DECIMAL_MAX digits). */
static size_t resp_len(const csession__redis_cmd *cmd)
{
    size_t n = 1 + CSESSION__DECIMAL_MAX + 2;
    for (int i = 0; i < cmd->argc; i++)
        n += 1 + CSESSION__DECIMAL_MAX + 2 + cmd->lens[i] + 2;
    return n;
}

/* Formats `cmd` at `dst` (resp_len() bytes of room); the bytes written. */
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

/*
 * Formats the commands in RESP (what redisFormatCommandArgv() would give,
 * without its printf calls) and writes them in one system call. A request's
 * commands fit the stack buffer; larger states take an allocation, wiped
 * after use (it holds the state).
 */
static int send_commands(redisContext *ctx, const char *what, const csession__redis_cmd *cmds,
                         size_t n, csession__redis_failure *failure)
{
    char stack[2048];
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += resp_len(&cmds[i]);
    char *buf = need <= sizeof stack ? stack : csession__malloc(need);
    if (!buf)
        return csession__oom();
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += resp_format(buf + len, &cmds[i]);
    struct iovec iov = {buf, len};
    int rc = send_all(ctx->fd, &iov, 1) != 0 ? write_error(errno, what, failure) : 0;
    sodium_memzero(buf, len);
    if (buf != stack)
        csession__free(buf);
    return rc;
}

int csession__redis_conn_run(csession__redis_conn *c, const char *what,
                             const csession__redis_cmd *cmds, size_t n, redisReply **replies,
                             csession__redis_failure *failure)
{
    redisContext *ctx = c->ctx;
    size_t got = 0;
    int rc = 0;
    *failure = CSESSION__REDIS_FAILED;
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if ((rc = send_commands(ctx, what, cmds, n, failure)))
        return rc;
    for (; got < n; got++) {
        void *reply = NULL;
        errno = 0;
        if (redisGetReply(ctx, &reply) != REDIS_OK || !reply) {
            int err = errno;
            rc = ctx->err ? context_error(ctx, err, what, failure) : csession__oom();
            break;
        }
        replies[got] = reply;
    }
    if (rc) {
        for (size_t i = 0; i < got; i++) {
            csession__redis_reply_free(replies[i]);
            replies[i] = NULL;
        }
    }
    return rc;
}

/* ROLE's answer is an array whose first element names the role. */
static int is_master_role(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 6 &&
           memcmp(r->element[0]->str, "master", 6) == 0;
}

/* AUTH, SELECT and ROLE (each when needed), pipelined in one round trip. */
static int handshake(csession__redis_conn *c, const csession__redis_target *t,
                     const char *server, csession__redis_failure *failure)
{
    csession__redis_cmd cmds[3];
    const char *names[3];
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
        names[n] = "AUTH";
        cmds[n++] = (csession__redis_cmd){argc, auth_argv, auth_lens};
    }
    if (t->db != 0) {
        select_argv[0] = "SELECT";
        select_lens[0] = 6;
        select_argv[1] = db;
        select_lens[1] = (size_t)snprintf(db, sizeof db, "%d", t->db);
        names[n] = "SELECT";
        cmds[n++] = (csession__redis_cmd){2, select_argv, select_lens};
    }
    if (t->require_master) {
        names[n] = "ROLE";
        cmds[n++] = (csession__redis_cmd){1, (const char **)role_argv, role_lens};
    }
    if (n == 0)
        return 0;

    char what[360];
    snprintf(what, sizeof what, "connecting to Redis at %s", server);
    redisReply *replies[3];
    int rc = csession__redis_conn_run(c, what, cmds, n, replies, failure);
    if (rc) {
        /* The server closed the connection or never answered the login:
         * as good as unreachable. */
        if (*failure != CSESSION__REDIS_FAILED)
            *failure = CSESSION__REDIS_UNREACHABLE;
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const redisReply *r = replies[i];
        if (names[i][0] == 'R') {
            if (r->type == REDIS_REPLY_ERROR) {
                snprintf(what, sizeof what, "Redis ROLE refused at %s", server);
                rc = csession__redis_reply_error(r, what);
            } else if (!is_master_role(r)) {
                *failure = CSESSION__REDIS_NOT_MASTER;
                rc = csession__error(CSESSION_ESTORE, "Redis at %s is not a master (%s)", server,
                                     r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                                             r->element[0]->type == REDIS_REPLY_STRING
                                         ? r->element[0]->str
                                         : "unexpected ROLE reply");
            }
            continue;
        }
        if (r->type == REDIS_REPLY_STATUS)
            continue;
        snprintf(what, sizeof what, "Redis %s refused at %s", names[i], server);
        rc = csession__redis_reply_error(r, what);
    }
    for (size_t i = 0; i < n; i++)
        csession__redis_reply_free(replies[i]);
    return rc;
}

/* Where send() has no MSG_NOSIGNAL (BSDs, macOS), the socket option. */
static int no_sigpipe(redisContext *ctx)
{
#if defined(SO_NOSIGPIPE)
    int on = 1;
    if (setsockopt(ctx->fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0)
        return csession__error(CSESSION_ESTORE, "cannot set SO_NOSIGPIPE on the Redis connection");
#else
    (void)ctx;
#endif
    return 0;
}

int csession__redis_conn_open(csession__redis_conn **out, const csession__redis_target *t,
                              csession__redis_failure *failure)
{
    char server[300];
    csession__redis_describe(t, server, sizeof server);
    *out = NULL;
    *failure = CSESSION__REDIS_FAILED;
    csession__redis_conn *c = csession__calloc(1, sizeof *c);
    if (!c)
        return csession__oom();

    struct timeval connect_tv = tv_of_ms(t->connect_timeout_ms);
    errno = 0;
    c->ctx = t->path ? redisConnectUnixWithTimeout(t->path, connect_tv)
                     : redisConnectWithTimeout(t->host, t->port, connect_tv);
    int err = errno;
    int rc = 0;
    if (!c->ctx) {
        rc = csession__oom();
    } else if (c->ctx->err) {
        *failure = CSESSION__REDIS_UNREACHABLE;
        rc = timed_out(c->ctx, err)
                 ? csession__error(CSESSION_ETIMEOUT,
                                   "cannot connect to Redis at %s: no answer within %u ms",
                                   server, t->connect_timeout_ms)
                 : csession__error(CSESSION_ESTORE, "cannot connect to Redis at %s: %s", server,
                                   c->ctx->errstr);
    } else if (no_sigpipe(c->ctx) != 0 || redisSetTimeout(c->ctx, connect_tv) != REDIS_OK) {
        rc = csession__error(CSESSION_ESTORE, "cannot set a timeout on the Redis connection");
    } else if ((rc = handshake(c, t, server, failure)) == 0 &&
               redisSetTimeout(c->ctx, tv_of_ms(t->command_timeout_ms)) != REDIS_OK) {
        rc = csession__error(CSESSION_ESTORE, "cannot set a timeout on the Redis connection");
    }
    if (rc) {
        csession__redis_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}
void csession__redis_conn_close(csession__redis_conn *c)
{
    if (!c)
        return;
    if (c->ctx)
        redisFree(c->ctx);
    csession__free(c);
}

void csession__redis_conn_abandon(csession__redis_conn *c)
{
    if (!c)
        return;
    if (c->ctx) {
        /* close() alone, never shutdown(), which would end the parent's
         * connection too. With no descriptor left, redisFree() (0.14 and
         * 1.x) does no I/O: it frees the reader, the buffers and the
         * context. */
        if (c->ctx->fd >= 0)
            close(c->ctx->fd);
        c->ctx->fd = -1;
        redisFree(c->ctx);
    }
    csession__free(c);
}
