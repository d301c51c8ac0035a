/*
 * session_server_h2o: the demo server on h2o and libuv. Declarations shared
 * by main.c (flags, listening sockets, the loop threads, shutdown) and
 * handler.c (the request frame on the non-blocking calls). Routes, answers,
 * flags and the log line are the demos' common code (examples/common).
 */
#ifndef SESSION_SERVER_H2O_H
#define SESSION_SERVER_H2O_H

#include <pthread.h>

#include <h2o.h>
#include <uv.h>

#include <csession.h>

#include "demo.h"

/*
 * One event-loop thread: its libuv loop, its h2o context, its own
 * listening socket (SO_REUSEPORT: the kernel spreads new connections over
 * the threads' sockets) and the csession_loop over the same libuv loop.
 * Everything in it is used by its thread only, once the thread runs.
 */
typedef struct worker {
    h2o_context_t ctx; /* first: a request finds its worker from req->conn->ctx */
    h2o_accept_ctx_t accept;
    uv_loop_t uv;
    uv_tcp_t listener;
    uv_async_t stop;       /* main() asks the thread to stop through it */
    uv_timer_t linger;     /* how long stopping waits for open connections */
    csession_loop loop;
    csession_manager *mgr; /* shared by every thread */
    int fd;                /* the listening socket */
    pthread_t thread;
    unsigned in_flight;    /* requests waiting for the store or a back-off */
    unsigned conns;        /* open client connections */
    int stopping;
    unsigned int seed;     /* for the back-off between runs */
} worker;

/* The worker of the thread that runs `ctx`. */
static inline worker *worker_of(h2o_context_t *ctx)
{
    return (worker *)(void *)ctx;
}

/* ---- handler.c ------------------------------------------------------- */

/* h2o's on_req for every path: answers at once or starts the session
 * frame. Returns 0 (the request is always taken). */
int handler_on_req(h2o_handler_t *self, h2o_req_t *req);

/* Called when a request the worker counted in `in_flight` has been
 * answered or abandoned: a stopping worker may then end. */
void worker_request_done(worker *w);

#endif /* SESSION_SERVER_H2O_H */
