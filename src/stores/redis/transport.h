/*
 * Internal: the byte stream under one Redis connection, on a non-blocking
 * socket that the connection layer has already connected (TCP or Unix).
 * Plain sockets (transport_plain.c) and TLS (transport_tls.c) implement
 * it; the connection state machine only ever calls these members, and
 * waits on the socket for what they ask (read or write readiness) through
 * the loop (loop.h) or poll() in blocking mode.
 *
 * No member blocks, none raises SIGPIPE (writes use MSG_NOSIGNAL, TLS
 * included), and none keeps a pointer to the caller's buffers.
 */
#ifndef CSESSION_SRC_STORES_REDIS_TRANSPORT_H
#define CSESSION_SRC_STORES_REDIS_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Results of the members below, besides a byte count. */
#define CSESSION__IO_WANT_READ (-1)  /* try again when the socket is readable */
#define CSESSION__IO_WANT_WRITE (-2) /* try again when the socket is writable */
#define CSESSION__IO_FAILED (-3)     /* the stream is broken; see the message */

typedef struct csession__redis_transport csession__redis_transport;

typedef struct csession__redis_transport_ops {
    /*
     * Continues the handshake (nothing to do for plain sockets): 0 when the
     * stream is ready for data, CSESSION__IO_WANT_READ/WRITE, or
     * CSESSION__IO_FAILED with a message in err (certificate refused,
     * name mismatch, not TLS on the other side, ...; never a secret).
     */
    int (*handshake)(csession__redis_transport *t, char *err, size_t err_size);

    /*
     * Reads at most `n` bytes: the count (> 0), 0 at end of stream,
     * CSESSION__IO_WANT_READ/WRITE, or CSESSION__IO_FAILED (err set).
     */
    ssize_t (*read)(csession__redis_transport *t, void *buf, size_t n, char *err,
                    size_t err_size);

    /*
     * Writes from iov[0 .. cnt): the count written (> 0, possibly less
     * than asked), CSESSION__IO_WANT_READ/WRITE, or CSESSION__IO_FAILED
     * (err set; a peer that closed gives "connection closed"). Called again
     * with the remaining bytes after a short write or a WANT: TLS requires
     * the same bytes again after a WANT, which the caller's retry with the
     * unchanged remainder gives.
     */
    ssize_t (*writev)(csession__redis_transport *t, const struct iovec *iov, int cnt,
                      char *err, size_t err_size);

    /*
     * Frees the transport. `polite` 1: the connection is being closed in
     * its own process (a TLS close_notify may be attempted without
     * waiting); 0: it was inherited across fork(), so no byte may be
     * written (the parent still uses the session). Never closes the fd:
     * the connection layer does.
     */
    void (*free)(csession__redis_transport *t, int polite);
} csession__redis_transport_ops;

struct csession__redis_transport {
    const csession__redis_transport_ops *ops;
    int fd;
};

/* A plain transport over `fd`. NULL when out of memory. */
csession__redis_transport *csession__redis_transport_plain(int fd);

#endif
