/*
 * The plain transport (transport.h): recv() and sendmsg() on the
 * non-blocking socket. Writes pass MSG_NOSIGNAL, so that a peer that closed
 * gives EPIPE instead of the SIGPIPE whose default action ends the process
 * (a library must not change the process' signal dispositions); where
 * there is no such flag the connection layer sets SO_NOSIGPIPE on the
 * socket instead.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"

#if !defined(MSG_NOSIGNAL) && !defined(SO_NOSIGPIPE)
#error "the Redis store needs MSG_NOSIGNAL or SO_NOSIGPIPE to write without SIGPIPE"
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

static int plain_handshake(csession__redis_transport *t, char *err, size_t err_size)
{
    (void)t;
    (void)err;
    (void)err_size;
    return 0;
}

/* A broken stream's reason; "connection closed" for a peer that left. */
static void describe_errno(int e, const char *doing, char *err, size_t err_size)
{
    if (e == EPIPE || e == ECONNRESET)
        snprintf(err, err_size, "connection closed by the Redis server");
    else
        snprintf(err, err_size, "%s Redis failed: %s", doing, strerror(e));
}

static ssize_t plain_read(csession__redis_transport *t, void *buf, size_t n, char *err,
                          size_t err_size)
{
    for (;;) {
        ssize_t r = recv(t->fd, buf, n, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return CSESSION__IO_WANT_READ;
        describe_errno(errno, "reading from", err, err_size);
        return CSESSION__IO_FAILED;
    }
}

static ssize_t plain_writev(csession__redis_transport *t, const struct iovec *iov, int cnt,
                            char *err, size_t err_size)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)cnt;
    for (;;) {
        ssize_t w = sendmsg(t->fd, &m, MSG_NOSIGNAL);
        if (w >= 0)
            return w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return CSESSION__IO_WANT_WRITE;
        describe_errno(errno, "writing to", err, err_size);
        return CSESSION__IO_FAILED;
    }
}

static void plain_free(csession__redis_transport *t, int polite)
{
    (void)polite;
    csession__free(t);
}

static const csession__redis_transport_ops plain_ops = {plain_handshake, plain_read,
                                                        plain_writev, plain_free};

csession__redis_transport *csession__redis_transport_plain(int fd)
{
    csession__redis_transport *t = csession__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ops = &plain_ops;
    t->fd = fd;
    return t;
}
