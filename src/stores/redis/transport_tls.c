/*
 * TLS for Redis connections with OpenSSL (3.0 or later): the store's TLS
 * context (trust, client certificate, minimum version, a cache of sessions
 * to resume) and the transport (transport.h) of one connection.
 *
 * OpenSSL never touches the socket itself: a BIO of our own moves the
 * bytes, writing with send(MSG_NOSIGNAL) so that a peer that has gone
 * never raises SIGPIPE, and reporting EAGAIN as "retry" so that every SSL
 * call returns at once on the non-blocking socket.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "alloc.h"
#include "csession/errors.h"
#include "log.h"

/* Sessions kept for resumption, one per server (address and name): enough
 * for a Sentinel group or a mid-size cluster; beyond it the least recently
 * stored is dropped, which only costs that server a full handshake. */
#define SESSION_SLOTS 64
/* "address port name": an IPv6 address, a port, a DNS name. */
#define PEER_KEY_MAX (INET6_ADDRSTRLEN + 8 + 254)
/* One TLS record: what writev() gathers from several buffers at most. */
#define GATHER_MAX 16384

/* TLS 1.3 tickets kept per server. A ticket is used once (RFC 8446, C.4:
 * OpenSSL's server refuses a second use while its session cache is on, as
 * Redis has it), and the server hands out two per handshake; a few in
 * reserve let connections opened at the same time all resume. */
#define TICKETS_PER_SLOT 4

typedef struct session_slot {
    char peer[PEER_KEY_MAX]; /* "" when free */
    /* Owned, oldest first. A TLS 1.2 session is kept alone and reused. */
    SSL_SESSION *sessions[TICKETS_PER_SLOT];
    int n;
    unsigned long stamp; /* when stored, for replacing the oldest */
} session_slot;

struct csession__redis_tls {
    SSL_CTX *ctx;
    char *server_name; /* the settings' name, or NULL: the host connected to */
    int verify;
    /* The one part that changes after creation: sessions to resume. The
     * lock is held only to look up or store one, never across I/O, and
     * taken by cache_lock(), which gives up rather than wait long. */
    pthread_mutex_t lock;
    unsigned long clock;
    session_slot slots[SESSION_SLOTS];
};

typedef struct tls_transport {
    csession__redis_transport base; /* first: what the connection sees */
    csession__redis_tls *tls;
    SSL *ssl;
    int handshake_done;
    /* The server asked for a client certificate and there is none; with TLS
     * 1.3 it refuses the connection only after the handshake, and may close
     * it before its alert can be read, so this is how a failure then says
     * why. */
    int cert_missing;
    int got_data; /* a read has returned data */
    char peer[PEER_KEY_MAX];
    char name[256]; /* the name verified (or connected to), for messages */
    unsigned char gather[GATHER_MAX];
} tls_transport;

/* ---- the socket BIO ------------------------------------------------------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_fd(BIO *b)
{
    return *(const int *)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do {
        n = send(bio_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do {
        n = recv(bio_fd(b), buf, (size_t)len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* Writes go straight to the socket: nothing to flush. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void bio_method_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "csession socket");
    if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
              !BIO_meth_set_ctrl(m, bio_ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    bio_method = m;
}

/* ---- the context ---------------------------------------------------------- */

static void cache_store(csession__redis_tls *tls, const char *peer, SSL_SESSION *session);

/* OpenSSL hands a client every session the server offers to resume (TLS
 * 1.3: tickets after the handshake, while reading). Returns 1: the
 * reference is ours. */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
    tls_transport *t = SSL_get_app_data(ssl);
    if (!t || !SSL_SESSION_is_resumable(session))
        return 0;
    cache_store(t->tls, t->peer, session);
    return 1;
}

/* OpenSSL asks when the server wants a client certificate and the context
 * has none: note it, and go on without one (the server decides). */
static int on_cert_request(SSL *ssl, X509 **cert, EVP_PKEY **key)
{
    (void)cert;
    (void)key;
    tls_transport *t = SSL_get_app_data(ssl);
    if (t)
        t->cert_missing = 1;
    return 0;
}

/* A key file with a passphrase would otherwise make OpenSSL prompt on the
 * terminal, blocking the process: refuse it instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *payload)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)payload;
    return 0;
}

/* Why OpenSSL refused the last thing, without the file names and other
 * data it attaches to its errors. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* Checks that the file named by setting `what` can be read, to say so
 * plainly (OpenSSL's "system lib" says little). Never names the file. */
static int readable(const char *path, const char *what, char *err, size_t err_size)
{
    if (access(path, R_OK) == 0)
        return 0;
    snprintf(err, err_size, "TLS: cannot read the %s (%s)", what, strerror(errno));
    return -1;
}

static int load_files(csession__redis_tls *tls, const csession__redis_tls_settings *s, char *err,
                      size_t err_size)
{
    if ((s->ca_file && readable(s->ca_file, "CA file (tls_ca_file)", err, err_size)) ||
        (s->ca_dir && readable(s->ca_dir, "CA directory (tls_ca_dir)", err, err_size)) ||
        (s->cert_file && readable(s->cert_file, "client certificate (tls_cert_file)", err,
                                  err_size)) ||
        (s->key_file && readable(s->key_file, "client key (tls_key_file)", err, err_size)))
        return -1;
    if (s->ca_file || s->ca_dir) {
        if (SSL_CTX_load_verify_locations(tls->ctx, s->ca_file, s->ca_dir) != 1) {
            snprintf(err, err_size, "TLS: cannot load the CA %s (%s)",
                     s->ca_file ? "file (tls_ca_file)" : "directory (tls_ca_dir)", ssl_reason());
            return -1;
        }
    } else if (SSL_CTX_set_default_verify_paths(tls->ctx) != 1) {
        snprintf(err, err_size, "TLS: cannot load the system's trusted CAs (%s)", ssl_reason());
        return -1;
    }
    if (s->cert_file &&
        SSL_CTX_use_certificate_chain_file(tls->ctx, s->cert_file) != 1) {
        snprintf(err, err_size, "TLS: cannot load the client certificate (tls_cert_file: %s)",
                 ssl_reason());
        return -1;
    }
    if (s->key_file) {
        /* Loading checks the key against the certificate already. */
        int loaded = SSL_CTX_use_PrivateKey_file(tls->ctx, s->key_file, SSL_FILETYPE_PEM) == 1;
        if (!loaded && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
            snprintf(err, err_size,
                     "TLS: cannot load the client key (tls_key_file: %s; it must be PEM "
                     "without a passphrase)",
                     ssl_reason());
            return -1;
        }
        if (!loaded || SSL_CTX_check_private_key(tls->ctx) != 1) {
            snprintf(err, err_size,
                     "TLS: the client key (tls_key_file) does not match the client "
                     "certificate (tls_cert_file)");
            return -1;
        }
    }
    return 0;
}

int csession__redis_tls_new(csession__redis_tls **out, const csession__redis_tls_settings *s,
                            char *err, size_t err_size)
{
    *out = NULL;
    csession__redis_tls *tls = csession__calloc(1, sizeof *tls);
    if (!tls) {
        snprintf(err, err_size, "out of memory");
        return CSESSION_ENOMEM;
    }
    if (pthread_mutex_init(&tls->lock, NULL) != 0) {
        csession__free(tls);
        snprintf(err, err_size, "out of memory");
        return CSESSION_ENOMEM;
    }
    tls->verify = s->verify;
    int rc = CSESSION_ENOMEM;
    ERR_clear_error();
    tls->ctx = SSL_CTX_new(TLS_client_method());
    if (!tls->ctx || (s->server_name && !(tls->server_name = csession__strndup(s->server_name, strlen(s->server_name))))) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    rc = CSESSION_EINVAL;
    int min = s->min_version == CSESSION__REDIS_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(tls->ctx, min) != 1) {
        snprintf(err, err_size, "TLS: this OpenSSL cannot set the minimum version");
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb(tls->ctx, no_passphrase);
    SSL_CTX_set_verify(tls->ctx, s->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(tls->ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(tls->ctx, on_new_session);
    SSL_CTX_set_client_cert_cb(tls->ctx, on_cert_request);
    if (load_files(tls, s, err, err_size) != 0)
        goto fail;
    ERR_clear_error();
    *out = tls;
    return 0;
fail:
    ERR_clear_error();
    csession__redis_tls_free(tls);
    return rc;
}

void csession__redis_tls_free(csession__redis_tls *tls)
{
    if (!tls)
        return;
    for (size_t i = 0; i < SESSION_SLOTS; i++)
        for (int j = 0; j < tls->slots[i].n; j++)
            SSL_SESSION_free(tls->slots[i].sessions[j]);
    SSL_CTX_free(tls->ctx);
    csession__free(tls->server_name);
    pthread_mutex_destroy(&tls->lock);
    csession__free(tls);
}

int csession__redis_tls_available(void)
{
    return 1;
}

/* ---- the session cache ---------------------------------------------------- */

/*
 * Takes the cache's lock: 0, or -1 when it stays busy, and then the caller
 * goes without (one full handshake, or one session not kept). Holders only
 * copy a few pointers, so it is free again within a few tries; the one way
 * it stays busy is a fork() that caught it held by a thread the child does
 * not have, and the child must not hang on that.
 */
static int cache_lock(csession__redis_tls *tls)
{
    for (int i = 0; i < 1000; i++) {
        if (pthread_mutex_trylock(&tls->lock) == 0)
            return 0;
        sched_yield();
    }
    return -1;
}

static int is_ticket(const SSL_SESSION *session)
{
    return SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION;
}

static void cache_store(csession__redis_tls *tls, const char *peer, SSL_SESSION *session)
{
    SSL_SESSION *old[TICKETS_PER_SLOT];
    int n_old = 0;
    if (cache_lock(tls) != 0) {
        SSL_SESSION_free(session);
        return;
    }
    session_slot *slot = &tls->slots[0];
    for (size_t i = 0; i < SESSION_SLOTS; i++) {
        session_slot *s = &tls->slots[i];
        if (strcmp(s->peer, peer) == 0) {
            slot = s;
            break;
        }
        if (s->stamp < slot->stamp) /* free slots have stamp 0: taken first */
            slot = s;
    }
    if (strcmp(slot->peer, peer) != 0) { /* another server's: forget its sessions */
        for (int j = 0; j < slot->n; j++)
            old[n_old++] = slot->sessions[j];
        slot->n = 0;
        snprintf(slot->peer, sizeof slot->peer, "%s", peer);
    }
    /* A TLS 1.2 session replaces everything; a ticket joins the others,
     * pushing out the oldest when there is no room. */
    int keep_from = !is_ticket(session) || (slot->n > 0 && !is_ticket(slot->sessions[0]))
                        ? slot->n
                        : slot->n == TICKETS_PER_SLOT;
    for (int j = 0; j < keep_from; j++)
        old[n_old++] = slot->sessions[j];
    memmove(slot->sessions, slot->sessions + keep_from,
            (size_t)(slot->n - keep_from) * sizeof slot->sessions[0]);
    slot->n -= keep_from;
    slot->sessions[slot->n++] = session;
    slot->stamp = ++tls->clock;
    pthread_mutex_unlock(&tls->lock);
    for (int j = 0; j < n_old; j++)
        SSL_SESSION_free(old[j]);
}

/* Offers the session kept for `peer`, if any, to `ssl`. */
static void cache_offer(csession__redis_tls *tls, const char *peer, SSL *ssl)
{
    SSL_SESSION *session = NULL;
    if (cache_lock(tls) != 0)
        return;
    for (size_t i = 0; i < SESSION_SLOTS; i++) {
        session_slot *s = &tls->slots[i];
        if (s->n > 0 && strcmp(s->peer, peer) == 0) {
            /* The newest; a ticket leaves the cache with it (the reference
             * moves to us), a TLS 1.2 session stays. */
            session = s->sessions[s->n - 1];
            if (is_ticket(session))
                s->n--;
            else
                SSL_SESSION_up_ref(session);
            break;
        }
    }
    pthread_mutex_unlock(&tls->lock);
    if (session) {
        SSL_set_session(ssl, session);
        SSL_SESSION_free(session);
    }
}

/* "address port name" of the server on `fd`; just the name when the
 * address is unknown. */
static void peer_key(int fd, const char *name, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, size, "%s %d %s", addr, port, name);
}

/* ---- errors --------------------------------------------------------------- */

static int is_ip(const char *name)
{
    unsigned char bin[16];
    return inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1;
}

/* Says why the certificate was refused. */
static void describe_verify(const tls_transport *t, long result, char *err, size_t err_size)
{
    switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        snprintf(err, err_size,
                 "TLS to %s: the server's certificate is for another name (name mismatch; "
                 "tls_server_name sets the name to verify)",
                 t->name);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        snprintf(err, err_size, "TLS to %s: the server's certificate has expired", t->name);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        snprintf(err, err_size, "TLS to %s: the server's certificate is not valid yet", t->name);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
        snprintf(err, err_size,
                 "TLS to %s: the server's certificate is signed by an unknown CA (tls_ca_file "
                 "names the CA to trust)",
                 t->name);
        break;
    default:
        snprintf(err, err_size, "TLS to %s: the server's certificate was refused (%s)", t->name,
                 X509_verify_cert_error_string(result));
        break;
    }
}

/* The message for a failed SSL call: what went wrong, in the terms of the
 * settings, never with file names. Empties OpenSSL's error queue. */
static void describe(const tls_transport *t, int ssl_error, const char *doing, char *err,
                     size_t err_size)
{
    unsigned long e = ERR_peek_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    long verify = SSL_get_verify_result(t->ssl);
    int no_cert = SSL_CTX_get0_certificate(t->tls->ctx) == NULL;
    if (ssl_error == SSL_ERROR_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
        verify != X509_V_OK) {
        describe_verify(t, verify, err, err_size);
    } else if (t->cert_missing && !t->got_data) {
        snprintf(err, err_size,
                 "TLS to %s: the server requires a client certificate (tls_cert_file and "
                 "tls_key_file), and none is set",
                 t->name);
    } else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
               reason == SSL_R_HTTP_REQUEST || reason == SSL_R_RECORD_LENGTH_MISMATCH) {
        snprintf(err, err_size,
                 "TLS to %s: the server does not speak TLS (a plain Redis port?)", t->name);
    } else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
               (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && no_cert)) {
        snprintf(err, err_size,
                 "TLS to %s: the server requires a client certificate (tls_cert_file and "
                 "tls_key_file)%s",
                 t->name, no_cert ? ", and none is set" : "");
    } else if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
               reason == SSL_R_UNSUPPORTED_PROTOCOL) {
        snprintf(err, err_size,
                 "TLS to %s: no TLS version in common with the server (tls_min_version)",
                 t->name);
    } else if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
               reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
               reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR) {
        snprintf(err, err_size, "TLS to %s: the server refused the client certificate (%s)",
                 t->name, ERR_reason_error_string(e));
    } else if ((ssl_error == SSL_ERROR_SYSCALL && !e) ||
               reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        if (errno && ssl_error == SSL_ERROR_SYSCALL && errno != EPIPE && errno != ECONNRESET)
            snprintf(err, err_size, "TLS to %s: %s: %s", t->name, doing, strerror(errno));
        else if (!t->handshake_done)
            snprintf(err, err_size,
                     "TLS to %s: the server closed the connection during the handshake (not "
                     "a TLS port, or it refused the handshake)",
                     t->name);
        else
            snprintf(err, err_size, "connection closed");
    } else if (e) {
        const char *r = ERR_reason_error_string(e);
        snprintf(err, err_size, "TLS to %s: %s failed (%s)", t->name, doing,
                 r ? r : "unknown error");
    } else {
        snprintf(err, err_size, "TLS to %s: %s failed", t->name, doing);
    }
    ERR_clear_error();
}

/* Maps the result of an SSL call that did not succeed. */
static int failed(tls_transport *t, int ret, const char *doing, char *err, size_t err_size)
{
    int e = SSL_get_error(t->ssl, ret);
    if (e == SSL_ERROR_WANT_READ)
        return CSESSION__IO_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return CSESSION__IO_WANT_WRITE;
    describe(t, e, doing, err, err_size);
    return CSESSION__IO_FAILED;
}

/* ---- the transport -------------------------------------------------------- */

static int tls_handshake(csession__redis_transport *base, char *err, size_t err_size)
{
    tls_transport *t = (tls_transport *)base;
    if (t->handshake_done)
        return 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(t->ssl);
    if (ret == 1) {
        t->handshake_done = 1;
        return 0;
    }
    return failed(t, ret, "handshake", err, err_size);
}

static ssize_t tls_read(csession__redis_transport *base, void *buf, size_t n, char *err,
                        size_t err_size)
{
    tls_transport *t = (tls_transport *)base;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read(t->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (ret > 0) {
        t->got_data = 1;
        return ret;
    }
    int e = SSL_get_error(t->ssl, ret);
    if (e == SSL_ERROR_ZERO_RETURN && !(t->cert_missing && !t->got_data))
        return 0; /* close_notify: the end of the stream */
    return failed(t, ret, "read", err, err_size);
}

/*
 * SSL has no gathering write: small buffers are copied into one record,
 * a large first buffer is written as it is. Which of the two depends only
 * on `iov`, so the caller's retry with the same remainder after a WANT
 * hands OpenSSL the same bytes again, as it requires.
 */
static ssize_t tls_writev(csession__redis_transport *base, const struct iovec *iov, int cnt,
                          char *err, size_t err_size)
{
    tls_transport *t = (tls_transport *)base;
    const void *p;
    size_t len;
    if (cnt == 1 || iov[0].iov_len >= GATHER_MAX) {
        p = iov[0].iov_base;
        len = iov[0].iov_len > INT_MAX ? INT_MAX : iov[0].iov_len;
    } else {
        len = 0;
        for (int i = 0; i < cnt && len < GATHER_MAX; i++) {
            size_t take = iov[i].iov_len < GATHER_MAX - len ? iov[i].iov_len : GATHER_MAX - len;
            memcpy(t->gather + len, iov[i].iov_base, take);
            len += take;
        }
        p = t->gather;
    }
    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write(t->ssl, p, (int)len);
    if (ret > 0)
        return ret;
    return failed(t, ret, "write", err, err_size);
}

static void tls_free(csession__redis_transport *base, int polite)
{
    tls_transport *t = (tls_transport *)base;
    if (!t)
        return;
    if (polite && t->handshake_done) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* sends close_notify if it can; does not wait */
    }
    SSL_set_app_data(t->ssl, NULL);
    SSL_free(t->ssl);
    ERR_clear_error();
    sodium_memzero(t->gather, sizeof t->gather);
    csession__free(t);
}

static const csession__redis_transport_ops tls_ops = {
    tls_handshake,
    tls_read,
    tls_writev,
    tls_free,
};

/* Names the server to SNI and to verification. */
static int set_name(tls_transport *t, char *err, size_t err_size)
{
    if (!t->name[0]) {
        if (!t->tls->verify)
            return 0;
        snprintf(err, err_size, "TLS: no server name to verify the certificate against");
        return -1;
    }
    if (is_ip(t->name)) { /* no SNI for addresses (RFC 6066) */
        if (t->tls->verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->name) != 1)
            goto oom;
        return 0;
    }
    if (SSL_set_tlsext_host_name(t->ssl, t->name) != 1)
        goto oom;
    if (t->tls->verify) {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, t->name) != 1)
            goto oom;
    }
    return 0;
oom:
    snprintf(err, err_size, "TLS: cannot set the server name (%s)", ssl_reason());
    return -1;
}

csession__redis_transport *csession__redis_tls_transport(const csession__redis_tls *ctls, int fd,
                                                         const char *server_name, char *err,
                                                         size_t err_size)
{
    /* The session cache is the context's one mutable part, behind its lock. */
    csession__redis_tls *tls = (csession__redis_tls *)ctls;
    pthread_once(&bio_once, bio_method_make);
    tls_transport *t = csession__calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    t->base.ops = &tls_ops;
    t->base.fd = fd;
    t->tls = tls;
    const char *name = tls->server_name ? tls->server_name : server_name ? server_name : "";
    snprintf(t->name, sizeof t->name, "%s", name);
    peer_key(fd, t->name, t->peer, sizeof t->peer);
    ERR_clear_error();
    BIO *bio = bio_method ? BIO_new(bio_method) : NULL;
    t->ssl = bio ? SSL_new(tls->ctx) : NULL;
    if (!t->ssl) {
        BIO_free(bio);
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    BIO_set_data(bio, &t->base.fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns it now */
    SSL_set_app_data(t->ssl, t);
    SSL_set_connect_state(t->ssl);
    if (set_name(t, err, err_size) != 0)
        goto fail;
    cache_offer(tls, t->peer, t->ssl);
    ERR_clear_error();
    if (!tls->verify)
        csession__log(CSESSION_LOG_WARN,
                      "Redis: TLS to %s without certificate verification (tls_verify=0): "
                      "anyone on the path can read and change the traffic",
                      t->name[0] ? t->name : "the server");
    return &t->base;
fail:
    ERR_clear_error();
    if (t->ssl)
        SSL_free(t->ssl);
    csession__free(t);
    return NULL;
}

int csession__redis_tls_resumed(const csession__redis_transport *base)
{
    const tls_transport *t = (const tls_transport *)base;
    return t && t->ssl && SSL_session_reused(t->ssl) == 1;
}
