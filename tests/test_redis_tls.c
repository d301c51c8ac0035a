/*
 * The TLS transport against real TLS redis-servers: each test connects a
 * non-blocking socket, drives the handshake with poll() as the connection
 * engine does, sends PING and reads +PONG. Certificates are made with the
 * openssl command (tests/support/tls_certs.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "csession.h"
#include "log_capture.h"
#include "redis_server.h"
#include "stores/redis/tls.h"
#include "tls_certs.h"

/* Longest a test waits for one connection's handshake and PONG. */
#define DEADLINE_MS 3000

typedef struct servers {
    tls_certs certs;
    redis_server good;     /* the server certificate, client certificates optional */
    redis_server expired;  /* the expired certificate */
    redis_server other;    /* the certificate from the other CA */
    redis_server mutual;   /* client certificates required */
    redis_server plain;    /* no TLS at all */
} servers;

static int setup(void **state)
{
    servers *s = calloc(1, sizeof *s);
    *state = s; /* for teardown, also after a failure below */
    if (!s || tls_certs_make(&s->certs) != 0)
        return -1;
    const tls_certs *c = &s->certs;
    if (redis_server_start_tls(&s->good, c->server_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->expired, c->expired_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->other, c->other_ca_cert, c->server_key, c->ca, 0, NULL) ||
        redis_server_start_tls(&s->mutual, c->server_cert, c->server_key, c->ca, 1, NULL) ||
        redis_server_start(&s->plain, NULL))
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    servers *s = *state;
    if (!s)
        return 0;
    redis_server_stop(&s->good);
    redis_server_stop(&s->expired);
    redis_server_stop(&s->other);
    redis_server_stop(&s->mutual);
    redis_server_stop(&s->plain);
    tls_certs_remove(&s->certs);
    free(s);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until `fd` is ready for what `want` (a CSESSION__IO_WANT_*) asks,
 * or the deadline passes: 0, or -1 on timeout. */
static int wait_for(int fd, int want, long long deadline)
{
    struct pollfd p = {fd, want == CSESSION__IO_WANT_WRITE ? POLLOUT : POLLIN, 0};
    long long left = deadline - now_ms();
    if (left <= 0)
        return -1;
    int n = poll(&p, 1, (int)left);
    return n > 0 ? 0 : -1;
}

/* A non-blocking socket connected to 127.0.0.1:port, or -1. */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        assert_int_equal(errno, EINPROGRESS);
        struct pollfd p = {fd, POLLOUT, 0};
        assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
        int soerr = 0;
        socklen_t len = sizeof soerr;
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len), 0);
        assert_int_equal(soerr, 0);
    }
    return fd;
}

/* One open connection: the socket and its transport, handshake done. */
typedef struct conn {
    int fd;
    csession__redis_transport *t;
} conn;

/* Connects and completes the handshake; 0, or -1 with a message in err
 * ("timed out" when the deadline passed). */
static int tls_open(conn *c, const csession__redis_tls *tls, int port, const char *name,
                    char *err, size_t err_size)
{
    long long deadline = now_ms() + DEADLINE_MS;
    c->fd = connect_to(port);
    c->t = csession__redis_tls_transport(tls, c->fd, name, err, err_size);
    assert_non_null(c->t);
    for (;;) {
        int rc = c->t->ops->handshake(c->t, err, err_size);
        if (rc == 0)
            return 0;
        if (rc == CSESSION__IO_FAILED)
            return -1;
        if (wait_for(c->fd, rc, deadline) != 0) {
            snprintf(err, err_size, "timed out");
            return -1;
        }
    }
}

static void conn_close(conn *c)
{
    if (c->t)
        c->t->ops->free(c->t, 1);
    if (c->fd >= 0)
        close(c->fd);
    c->t = NULL;
    c->fd = -1;
}

/* Writes all of iov[0..cnt) (which it advances), waiting as asked. */
static int write_all(conn *c, struct iovec *iov, int cnt, char *err, size_t err_size)
{
    long long deadline = now_ms() + DEADLINE_MS;
    while (cnt > 0) {
        ssize_t n = c->t->ops->writev(c->t, iov, cnt, err, err_size);
        if (n == CSESSION__IO_FAILED)
            return -1;
        if (n < 0) {
            if (wait_for(c->fd, (int)n, deadline) != 0) {
                snprintf(err, err_size, "timed out");
                return -1;
            }
            continue;
        }
        size_t left = (size_t)n;
        while (cnt > 0 && left >= iov[0].iov_len) {
            left -= iov[0].iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov[0].iov_base = (char *)iov[0].iov_base + left;
            iov[0].iov_len -= left;
        }
    }
    return 0;
}

/* Reads until `expect` has arrived; 0, or -1 with err set. */
static int read_reply(conn *c, const char *expect, char *err, size_t err_size)
{
    long long deadline = now_ms() + DEADLINE_MS;
    char buf[256];
    size_t have = 0, want = strlen(expect);
    while (have < want) {
        ssize_t n = c->t->ops->read(c->t, buf + have, sizeof buf - 1 - have, err, err_size);
        if (n == 0) {
            snprintf(err, err_size, "end of stream");
            return -1;
        }
        if (n == CSESSION__IO_FAILED)
            return -1;
        if (n < 0) {
            if (wait_for(c->fd, (int)n, deadline) != 0) {
                snprintf(err, err_size, "timed out");
                return -1;
            }
            continue;
        }
        have += (size_t)n;
    }
    buf[have] = '\0';
    if (strcmp(buf, expect) != 0) {
        snprintf(err, err_size, "unexpected reply: %.200s", buf);
        return -1;
    }
    return 0;
}

/* PING as two buffers (the transport gathers them), then +PONG. */
static int ping(conn *c, char *err, size_t err_size)
{
    char a[] = "PI", b[] = "NG\r\n";
    struct iovec iov[2] = {{a, 2}, {b, 4}};
    if (write_all(c, iov, 2, err, err_size) != 0)
        return -1;
    return read_reply(c, "+PONG\r\n", err, err_size);
}

/* A new context from `s`, which must be accepted. */
static csession__redis_tls *context(const csession__redis_tls_settings *s)
{
    csession__redis_tls *tls = NULL;
    char err[256] = "";
    if (csession__redis_tls_new(&tls, s, err, sizeof err) != 0)
        fail_msg("csession__redis_tls_new: %s", err);
    return tls;
}

/* Connects to `port` with `s` as `name`, then PING: 0, or -1 with err
 * set. *resumed (when not NULL) says whether the handshake resumed. */
static int try_ping(const csession__redis_tls *tls, int port, const char *name, char *err,
                    size_t err_size, int *resumed)
{
    conn c = {-1, NULL};
    err[0] = '\0';
    int rc = tls_open(&c, tls, port, name, err, err_size);
    if (rc == 0)
        rc = ping(&c, err, err_size);
    if (resumed)
        *resumed = csession__redis_tls_resumed(c.t);
    conn_close(&c);
    return rc;
}

static csession__redis_tls_settings with_ca(const servers *s)
{
    csession__redis_tls_settings st;
    csession__redis_tls_settings_init(&st);
    st.ca_file = s->certs.ca;
    return st;
}

/* Expects the connection to fail with `needle` in the message. */
static void expect_refused(const csession__redis_tls_settings *st, int port, const char *name,
                           const char *needle)
{
    csession__redis_tls *tls = context(st);
    char err[256];
    long long start = now_ms();
    int rc = try_ping(tls, port, name, err, sizeof err, NULL);
    csession__redis_tls_free(tls);
    if (rc == 0)
        fail_msg("connected, expected \"%s\"", needle);
    if (!strstr(err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err, needle);
    assert_true(now_ms() - start < DEADLINE_MS);
}

static void test_right_ca_works(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    char err[256];
    /* By name and by address: the certificate carries both. */
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, NULL) != 0)
        fail_msg("localhost: %s", err);
    if (try_ping(tls, s->good.port, "127.0.0.1", err, sizeof err, NULL) != 0)
        fail_msg("127.0.0.1: %s", err);
    csession__redis_tls_free(tls);

    /* A CA directory (hashed names, as c_rehash makes them) works as well. */
    char dir[TLS_CERTS_PATH + 8], cmd[6 * TLS_CERTS_PATH];
    snprintf(dir, sizeof dir, "%s/cadir", s->certs.dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/'$(openssl x509 -hash -noout -in '%s').0",
             dir, s->certs.ca, dir, s->certs.ca);
    assert_int_equal(system(cmd), 0);
    csession__redis_tls_settings by_dir;
    csession__redis_tls_settings_init(&by_dir);
    by_dir.ca_dir = dir;
    tls = context(&by_dir);
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, NULL) != 0)
        fail_msg("CA directory: %s", err);
    csession__redis_tls_free(tls);
}

static void test_unknown_ca_refused(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    expect_refused(&st, s->other.port, "localhost", "signed by an unknown CA");
    /* The system's trust store does not know the test CA either. */
    csession__redis_tls_settings system;
    csession__redis_tls_settings_init(&system);
    expect_refused(&system, s->good.port, "localhost", "signed by an unknown CA");
}

static void test_name_mismatch_refused(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    expect_refused(&st, s->good.port, "redis.example.com", "name mismatch");
    expect_refused(&st, s->good.port, "127.0.0.2", "name mismatch");
    /* The settings' server name wins over the host connected to. */
    st.server_name = "redis.example.com";
    expect_refused(&st, s->good.port, "localhost", "name mismatch");
    st.server_name = "localhost";
    csession__redis_tls *tls = context(&st);
    char err[256];
    if (try_ping(tls, s->good.port, "127.0.0.2", err, sizeof err, NULL) != 0)
        fail_msg("server_name: %s", err);
    csession__redis_tls_free(tls);
}

static void test_expired_refused(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    expect_refused(&st, s->expired.port, "localhost", "certificate has expired");
}

static void test_client_certificate(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    /* With TLS 1.3 the refusal comes after the handshake, on the first
     * read: it says the same as one during the handshake, also when the
     * server's reset to the PING that followed the handshake has thrown
     * its alert away (as it usually does). */
    expect_refused(&st, s->mutual.port, "localhost", "requires a client certificate");
    st.cert_file = s->certs.client_cert;
    st.key_file = s->certs.client_key;
    csession__redis_tls *tls = context(&st);
    char err[256];
    if (try_ping(tls, s->mutual.port, "localhost", err, sizeof err, NULL) != 0)
        fail_msg("with a client certificate: %s", err);
    csession__redis_tls_free(tls);
}

static void test_plain_port_refused(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    char err[256];
    long long start = now_ms();
    int rc = try_ping(tls, s->plain.port, "localhost", err, sizeof err, NULL);
    csession__redis_tls_free(tls);
    assert_int_not_equal(rc, 0);
    /* Redis answers a ClientHello it takes for a command with an error
     * reply, which is no TLS record, or waits for the rest of the line:
     * either way it fails within the deadline, and never hangs. */
    assert_true(now_ms() - start < DEADLINE_MS + 500);
    if (!strstr(err, "does not speak TLS") && !strstr(err, "closed the connection during") &&
        strcmp(err, "timed out") != 0)
        fail_msg("unexpected message: %s", err);

    /* What a plain server answers, when it does, is named for what it is.
     * (Redis' reply to a line it cannot parse, on the other end of a socket
     * pair: Redis itself usually waits for the line's end, as above.) */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
    static const char reply[] = "-ERR unknown command '\x16\x03\x01', with args beginning with:\r\n";
    assert_int_equal(write(sv[1], reply, sizeof reply - 1), (ssize_t)(sizeof reply - 1));
    tls = context(&st);
    csession__redis_transport *t = csession__redis_tls_transport(tls, sv[0], "localhost", err,
                                                                 sizeof err);
    assert_non_null(t);
    long long deadline = now_ms() + DEADLINE_MS;
    for (;;) {
        rc = t->ops->handshake(t, err, sizeof err);
        if (rc == 0 || rc == CSESSION__IO_FAILED)
            break;
        assert_int_equal(wait_for(sv[0], rc, deadline), 0);
    }
    assert_int_equal(rc, CSESSION__IO_FAILED);
    if (!strstr(err, "does not speak TLS"))
        fail_msg("unexpected message: %s", err);
    t->ops->free(t, 1);
    csession__redis_tls_free(tls);
    close(sv[0]);
    close(sv[1]);
}

static void test_verify_off_works_and_logs(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st;
    csession__redis_tls_settings_init(&st);
    st.verify = 0;
    csession__redis_tls *tls = context(&st);
    log_capture logs;
    log_capture_start(&logs);
    char err[256];
    /* An unknown CA and a wrong name are let through, */
    if (try_ping(tls, s->other.port, "redis.example.com", err, sizeof err, NULL) != 0)
        fail_msg("verify off: %s", err);
    if (try_ping(tls, s->expired.port, "localhost", err, sizeof err, NULL) != 0)
        fail_msg("verify off: %s", err);
    log_capture_stop(&logs);
    csession__redis_tls_free(tls);
    /* but every connection says so. */
    assert_int_equal(log_capture_find(&logs, CSESSION_LOG_WARN, "without certificate verification"),
                     2);
    assert_int_equal(log_capture_find(&logs, 0, "redis.example.com"), 1);
}

static void test_resumption(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    char err[256];
    int resumed = -1;
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, &resumed) != 0)
        fail_msg("first: %s", err);
    assert_int_equal(resumed, 0);
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, &resumed) != 0)
        fail_msg("second: %s", err);
    assert_int_equal(resumed, 1);
    /* Kept per server: another server (another port) starts afresh, and
     * does not replace the first one's session. */
    if (try_ping(tls, s->mutual.port, "localhost", err, sizeof err, &resumed) == 0)
        fail_msg("mutual without a client certificate connected");
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, &resumed) != 0)
        fail_msg("third: %s", err);
    assert_int_equal(resumed, 1);
    csession__redis_tls_free(tls);

    /* A new context (a new store) has no session to offer. */
    tls = context(&st);
    if (try_ping(tls, s->good.port, "localhost", err, sizeof err, &resumed) != 0)
        fail_msg("new context: %s", err);
    assert_int_equal(resumed, 0);
    csession__redis_tls_free(tls);
}

/* Connections of one context on several threads at once share its
 * session cache. */
#define RECONNECTS 50

typedef struct worker {
    const csession__redis_tls *tls;
    int port;
    int ok, resumed;
    char err[256];
} worker;

static void *reconnect_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < RECONNECTS; i++) {
        int resumed = 0;
        if (try_ping(w->tls, w->port, "localhost", w->err, sizeof w->err, &resumed) != 0)
            break;
        w->ok++;
        w->resumed += resumed;
    }
    return NULL;
}

static void test_threads_share_sessions(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].tls = tls;
        w[i].port = s->good.port;
        assert_int_equal(pthread_create(&th[i], NULL, reconnect_loop, &w[i]), 0);
    }
    int resumed = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (w[i].ok != RECONNECTS)
            fail_msg("thread %d: %d of %d (%s)", i, w[i].ok, RECONNECTS, w[i].err);
        resumed += w[i].resumed;
    }
    /* Only each thread's first connection may find nothing to resume; a
     * ticket is used once, so without a few in reserve per server the
     * threads would take each other's and fall back to full handshakes. */
    if (resumed < 4 * RECONNECTS - 8)
        fail_msg("%d of %d connections resumed", resumed, 4 * RECONNECTS);
    csession__redis_tls_free(tls);
}

/* A write larger than any socket buffer: short writes and WANTs, retried
 * with the remainder, arrive intact. */
static void test_large_write(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    conn c = {-1, NULL};
    char err[256];
    if (tls_open(&c, tls, s->good.port, "localhost", err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t n = 4 << 20;
    char *value = malloc(n);
    assert_non_null(value);
    for (size_t i = 0; i < n; i++)
        value[i] = (char)('a' + i % 26);
    char head[64], tail[] = "\r\n";
    int head_len = snprintf(head, sizeof head, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", n);
    struct iovec iov[3] = {{head, (size_t)head_len}, {value, n}, {tail, 2}};
    if (write_all(&c, iov, 3, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (read_reply(&c, "+OK\r\n", err, sizeof err) != 0)
        fail_msg("%s", err);
    char strlen_cmd[] = "STRLEN big\r\n";
    struct iovec one = {strlen_cmd, strlen(strlen_cmd)};
    assert_int_equal(write_all(&c, &one, 1, err, sizeof err), 0);
    char expect[32];
    snprintf(expect, sizeof expect, ":%zu\r\n", n);
    if (read_reply(&c, expect, err, sizeof err) != 0)
        fail_msg("%s", err);
    free(value);
    conn_close(&c);
    csession__redis_tls_free(tls);
}

/* Writing to a connection the server has closed fails, with no SIGPIPE
 * (which would end this process: its disposition is the default). */
static void test_no_sigpipe(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = context(&st);
    conn c = {-1, NULL};
    char err[256];
    if (tls_open(&c, tls, s->good.port, "localhost", err, sizeof err) != 0)
        fail_msg("%s", err);
    char quit[] = "QUIT\r\n";
    struct iovec iov = {quit, 6};
    assert_int_equal(write_all(&c, &iov, 1, err, sizeof err), 0);
    assert_int_equal(read_reply(&c, "+OK\r\n", err, sizeof err), 0);
    /* Wait for the server's close to arrive, then write on. */
    char byte;
    long long deadline = now_ms() + DEADLINE_MS;
    ssize_t r;
    while ((r = c.t->ops->read(c.t, &byte, 1, err, sizeof err)) == CSESSION__IO_WANT_READ)
        assert_int_equal(wait_for(c.fd, CSESSION__IO_WANT_READ, deadline), 0);
    assert_true(r == 0 || r == CSESSION__IO_FAILED);
    int failed = 0;
    char ping_cmd[] = "PING\r\n";
    /* The first writes may still go out, until the server's reset to them
     * has come back. */
    while (!failed) {
        assert_true(now_ms() < deadline);
        struct iovec p = {ping_cmd, 6};
        ssize_t n = c.t->ops->writev(c.t, &p, 1, err, sizeof err);
        failed = n == CSESSION__IO_FAILED;
        if (n == CSESSION__IO_WANT_WRITE)
            assert_int_equal(wait_for(c.fd, CSESSION__IO_WANT_WRITE, deadline), 0);
    }
    assert_true(failed);
    conn_close(&c);
    csession__redis_tls_free(tls);
}

/* Settings refused when the context is made, with messages that name the
 * setting and never the file (a key's path says where the secrets are). */
static void test_bad_settings(void **state)
{
    servers *s = *state;
    csession__redis_tls_settings st = with_ca(s);
    csession__redis_tls *tls = (csession__redis_tls *)state;
    char err[256];
    st.ca_file = "/nonexistent/csession-secret-ca.pem";
    assert_int_equal(csession__redis_tls_new(&tls, &st, err, sizeof err), CSESSION_EINVAL);
    assert_null(tls);
    assert_non_null(strstr(err, "cannot read the CA file (tls_ca_file)"));
    assert_null(strstr(err, "csession-secret"));

    st = with_ca(s);
    st.cert_file = s->certs.client_cert;
    st.key_file = "/nonexistent/csession-secret-key.pem";
    assert_int_equal(csession__redis_tls_new(&tls, &st, err, sizeof err), CSESSION_EINVAL);
    assert_non_null(strstr(err, "cannot read the client key (tls_key_file)"));
    assert_null(strstr(err, "csession-secret"));

    /* A key that is not the certificate's. */
    st.key_file = s->certs.server_key;
    assert_int_equal(csession__redis_tls_new(&tls, &st, err, sizeof err), CSESSION_EINVAL);
    assert_non_null(strstr(err, "does not match"));
    assert_null(strstr(err, s->certs.dir));

    /* A file that is no certificate at all. */
    st = with_ca(s);
    st.ca_file = s->certs.server_key;
    assert_int_equal(csession__redis_tls_new(&tls, &st, err, sizeof err), CSESSION_EINVAL);
    assert_non_null(strstr(err, "cannot load the CA file"));
    assert_null(strstr(err, s->certs.dir));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_ca_works),
        cmocka_unit_test(test_unknown_ca_refused),
        cmocka_unit_test(test_name_mismatch_refused),
        cmocka_unit_test(test_expired_refused),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_plain_port_refused),
        cmocka_unit_test(test_verify_off_works_and_logs),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_threads_share_sessions),
        cmocka_unit_test(test_large_write),
        cmocka_unit_test(test_no_sigpipe),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
