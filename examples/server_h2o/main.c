/*
 * session_server_h2o: the csession demo on h2o and libuv - the same routes,
 * answers, flags and log lines as session_server (examples/server), served
 * by event loops with csession's non-blocking calls.
 *
 *   session_server_h2o --insecure --threads 2    then try the curl lines it prints
 *
 * --threads N starts N loop threads. Each has its own libuv loop, h2o
 * context and listening socket; the sockets share the address through
 * SO_REUSEPORT, so the kernel hands each new connection to one of them and
 * no thread accepts for another. One csession_manager serves every loop;
 * each thread passes its own csession_loop to the non-blocking calls.
 * Nothing on a loop thread waits for the store (handler.c).
 *
 * Stopping (SIGINT, SIGTERM): every thread closes its listening socket,
 * lets the requests in flight finish and waits up to LINGER_MS for its
 * connections to close; then the manager and the loops are freed.
 */
#include "server_h2o.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csession/loop_uv.h>

/* How long a stopping thread waits for clients to close their connections.
 * h2o 2.2 has no call that closes an idle keep-alive connection (its
 * h2o_context_request_shutdown() leaves a timer entry that its own
 * h2o_context_dispose() then asserts on): one still open after this long
 * is left to the end of the process, with a message. */
#define LINGER_MS 1000
/* Largest request body h2o buffers; between BODY_MAX and this we answer
 * 413 ourselves, past it h2o does. */
#define ENTITY_MAX (1024 * 1024)

/* ---- stopping -------------------------------------------------------- */

static void maybe_end(worker *w)
{
    if (w->stopping && w->in_flight == 0 && w->conns == 0)
        uv_stop(&w->uv);
}

void worker_request_done(worker *w)
{
    w->in_flight--;
    maybe_end(w);
}

static void on_linger_over(uv_timer_t *t)
{
    worker *w = t->data;
    if (w->in_flight == 0)
        uv_stop(&w->uv);
}

static void on_stop(uv_async_t *a)
{
    worker *w = a->data;
    w->stopping = 1;
    uv_close((uv_handle_t *)&w->listener, NULL);
    uv_timer_start(&w->linger, on_linger_over, LINGER_MS, LINGER_MS);
    maybe_end(w);
}

/* ---- connections ----------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
    worker *w = h->loop->data;
    free(h);
    w->conns--;
    maybe_end(w);
}

static void on_accept(uv_stream_t *listener, int status)
{
    worker *w = listener->loop->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = malloc(sizeof *conn);
    if (!conn)
        return;
    uv_tcp_init(listener->loop, conn);
    w->conns++;
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, on_conn_closed);
        return;
    }
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, on_conn_closed);
    h2o_accept(&w->accept, sock);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    uv_run(&w->uv, UV_RUN_DEFAULT);
    return NULL;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Frees what is left on a loop whose thread has ended. */
static void worker_dispose(worker *w)
{
    uv_walk(&w->uv, close_handle, NULL);
    uv_run(&w->uv, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->uv) != 0)
        fprintf(stderr, "%s: a loop still had handles at exit\n", demo_program);
}

/* ---- start-up -------------------------------------------------------- */

/*
 * One listening socket per thread on the same address (SO_REUSEPORT). The
 * first one binds the port (a free one for --port 0), the others join it.
 * Returns the port, or 0 after a message.
 */
static unsigned open_listeners(const server_options *o, worker *ws, unsigned n)
{
    struct addrinfo *addr = NULL;
    if (demo_resolve(o, &addr))
        return 0;
    struct sockaddr_storage ss;
    socklen_t len = addr->ai_addrlen;
    memcpy(&ss, addr->ai_addr, len);
    int family = addr->ai_family;
    freeaddrinfo(addr);
    unsigned bound = 0;
    for (unsigned i = 0; i < n; i++) {
        int one = 1;
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
            bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
            fprintf(stderr, "%s: cannot listen on %s port %u: %s\n", demo_program, o->host,
                    o->port, strerror(errno));
            if (fd >= 0)
                close(fd);
            for (unsigned j = 0; j < i; j++)
                close(ws[j].fd);
            return 0;
        }
        ws[i].fd = fd;
        if (i == 0) {
            /* The others join the port the first one got. */
            socklen_t got = sizeof ss;
            getsockname(fd, (struct sockaddr *)&ss, &got);
            bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    return bound;
}

static int worker_init(worker *w, h2o_globalconf_t *conf, csession_manager *mgr)
{
    w->mgr = mgr;
    if (uv_loop_init(&w->uv) != 0)
        return -1;
    w->uv.data = w;
    h2o_context_init(&w->ctx, &w->uv, conf);
    w->accept.ctx = &w->ctx;
    w->accept.hosts = conf->hosts;
    if (csession_loop_uv_init(&w->loop, &w->uv) != 0) {
        fprintf(stderr, "%s: cannot set up the csession loop\n", demo_program);
        return -1;
    }
    uv_tcp_init(&w->uv, &w->listener);
    uv_async_init(&w->uv, &w->stop, on_stop);
    w->stop.data = w;
    uv_timer_init(&w->uv, &w->linger);
    w->linger.data = w;
    int rc = uv_tcp_open(&w->listener, w->fd);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&w->listener, SOMAXCONN, on_accept);
    if (rc) {
        fprintf(stderr, "%s: listening: %s\n", demo_program, uv_strerror(rc));
        return -1;
    }
    w->fd = -1; /* the listener owns it */
    return 0;
}

static void config_init(h2o_globalconf_t *conf, const server_options *o)
{
    h2o_config_init(conf);
    conf->max_request_entity_size = ENTITY_MAX;
    conf->http1.req_timeout = (uint64_t)o->idle_timeout * 1000;
    conf->http2.idle_timeout = (uint64_t)o->idle_timeout * 1000;
    h2o_hostconf_t *host =
        h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = handler_on_req;
}

int main(int argc, char **argv)
{
    server_options opts;
    sigset_t stop; /* only sigwait() below sees these signals */
    int rc = demo_start(&opts, argc, argv, "session_server_h2o", 0, "event-loop threads", &stop);
    if (rc >= 0)
        return rc;

    csession_manager *mgr = NULL;
    if (demo_manager_new(&opts, &mgr))
        return 1;
    unsigned n = opts.threads;
    worker *ws = calloc(n, sizeof *ws);
    if (!ws) {
        csession_manager_free(mgr);
        return 1;
    }
    unsigned port = open_listeners(&opts, ws, n);
    if (!port) {
        free(ws);
        csession_manager_free(mgr);
        return 1;
    }
    h2o_globalconf_t conf;
    config_init(&conf, &opts);
    unsigned ready = 0, started = 0;
    while (ready < n && worker_init(&ws[ready], &conf, mgr) == 0)
        ready++;
    if (ready == n) {
        while (started < n && pthread_create(&ws[started].thread, NULL, worker_main,
                                             &ws[started]) == 0)
            started++;
    }
    rc = 0;
    if (started < n) {
        fprintf(stderr, "%s: cannot start the loop threads\n", demo_program);
        rc = 1;
    } else {
        fprintf(stderr, "%s: %u event-loop threads (h2o %s on libuv %s), SO_REUSEPORT\n",
                demo_program, n, H2O_VERSION, uv_version_string());
        demo_print_banner(&opts, port);
        int sig = 0;
        sigwait(&stop, &sig);
        fprintf(stderr, "%s: %s, shutting down\n", demo_program,
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    for (unsigned i = 0; i < started; i++)
        uv_async_send(&ws[i].stop);
    for (unsigned i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    /* The threads have ended: what is left runs on this one. The manager
     * goes first, while the loops it may hold watchers on still exist. */
    unsigned open_conns = 0;
    for (unsigned i = 0; i < ready; i++) {
        if (ws[i].conns)
            open_conns += ws[i].conns;
        else
            h2o_context_dispose(&ws[i].ctx);
    }
    csession_manager_free(mgr);
    for (unsigned i = 0; i < n; i++) {
        if (ws[i].uv.data && !ws[i].conns)
            worker_dispose(&ws[i]);
        if (ws[i].fd >= 0)
            close(ws[i].fd);
    }
    if (open_conns)
        fprintf(stderr, "%s: %u connections still open, dropped\n", demo_program, open_conns);
    h2o_config_dispose(&conf);
    free(ws);
    return rc;
}
