/*
 * The cost of a TLS reconnect to Redis, with and without session
 * resumption: N times connect, handshake, PING, +PONG, close, against a
 * local TLS redis-server this program starts (certificates made with the
 * openssl command), through the library's TLS transport driven by poll()
 * as the connection engine drives it. Prints the median and the 90th
 * percentile of each, in microseconds.
 *
 * usage: csession-bench-redis-tls-handshake [N]   (default 500)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "redis_server.h"
#include "stores/redis/tls.h"
#include "tls_certs.h"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "%s: %s\n", what, why);
    exit(1);
}

static void wait_for(int fd, int want)
{
    struct pollfd p = {fd, want == CSESSION__IO_WANT_WRITE ? POLLOUT : POLLIN, 0};
    if (poll(&p, 1, 5000) != 1)
        die("poll", "timed out");
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno != EINPROGRESS)
            die("connect", strerror(errno));
        wait_for(fd, CSESSION__IO_WANT_WRITE);
    }
    return fd;
}

/* One reconnect; returns whether it resumed. */
static int reconnect(const csession__redis_tls *tls, int port)
{
    char err[256];
    int fd = connect_to(port);
    csession__redis_transport *t = csession__redis_tls_transport(tls, fd, "localhost", err,
                                                                 sizeof err);
    if (!t)
        die("transport", err);
    int rc;
    while ((rc = t->ops->handshake(t, err, sizeof err)) != 0) {
        if (rc == CSESSION__IO_FAILED)
            die("handshake", err);
        wait_for(fd, rc);
    }
    char ping[] = "PING\r\n";
    struct iovec iov = {ping, 6};
    ssize_t n;
    while ((n = t->ops->writev(t, &iov, 1, err, sizeof err)) < 0) {
        if (n == CSESSION__IO_FAILED)
            die("write", err);
        wait_for(fd, (int)n);
    }
    char buf[16];
    size_t have = 0;
    while (have < 7) {
        n = t->ops->read(t, buf + have, sizeof buf - have, err, sizeof err);
        if (n == 0 || n == CSESSION__IO_FAILED)
            die("read", n == 0 ? "end of stream" : err);
        if (n < 0)
            wait_for(fd, (int)n);
        else
            have += (size_t)n;
    }
    if (memcmp(buf, "+PONG\r\n", 7) != 0)
        die("PING", "unexpected reply");
    int resumed = csession__redis_tls_resumed(t);
    t->ops->free(t, 1);
    close(fd);
    return resumed;
}

static void run(const char *label, const csession__redis_tls_settings *st, int port, int n,
                int resume)
{
    double *us = malloc(sizeof *us * (size_t)n);
    int resumed = 0;
    csession__redis_tls *tls = NULL;
    char err[256];
    if (resume && csession__redis_tls_new(&tls, st, err, sizeof err) != 0)
        die("context", err);
    if (tls) {
        reconnect(tls, port); /* warm-up, and the session to resume */
    } else {
        csession__redis_tls *warm = NULL;
        if (csession__redis_tls_new(&warm, st, err, sizeof err) != 0)
            die("context", err);
        reconnect(warm, port);
        csession__redis_tls_free(warm);
    }
    for (int i = 0; i < n; i++) {
        /* Without resumption each reconnect gets a context with nothing to
         * offer, made outside the timed part. */
        csession__redis_tls *fresh = NULL;
        if (!resume && csession__redis_tls_new(&fresh, st, err, sizeof err) != 0)
            die("context", err);
        double t0 = bench_seconds();
        resumed += reconnect(resume ? tls : fresh, port);
        us[i] = (bench_seconds() - t0) * 1e6;
        csession__redis_tls_free(fresh);
    }
    double median = bench_median(us, n);
    printf("%-22s median %7.1f us   p90 %7.1f us   resumed %d/%d\n", label, median,
           us[n * 9 / 10], resumed, n);
    csession__redis_tls_free(tls);
    free(us);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    if (n < 1)
        die("usage", "csession-bench-redis-tls-handshake [N]");
    tls_certs certs;
    if (tls_certs_make(&certs) != 0)
        die("certificates", "the openssl command failed");
    redis_server server;
    if (redis_server_start_tls(&server, certs.server_cert, certs.server_key, certs.ca, 0, NULL))
        die("redis-server", "could not start it with TLS");
    csession__redis_tls_settings st;
    csession__redis_tls_settings_init(&st);
    st.ca_file = certs.ca;
    printf("%d reconnects (TCP connect, TLS handshake, PING, close) to a local TLS "
           "redis-server, TLS 1.3, P-256 certificates\n",
           n);
    run("full handshake", &st, server.port, n, 0);
    run("resumed session", &st, server.port, n, 1);
    redis_server_stop(&server);
    tls_certs_remove(&certs);
    return 0;
}
