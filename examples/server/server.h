/*
 * The demo web server: csession on libmicrohttpd. Declarations shared by
 * its parts - main.c (the daemon), http.c (request plumbing) and routes.c
 * (the request frame on blocking calls); flags, routes, answers and the log
 * line are the demos' common code (examples/common/demo.h).
 */
#ifndef SESSION_SERVER_H
#define SESSION_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include <csession.h>

#include "demo.h"

/* libmicrohttpd before 0.9.71 returned int from its callbacks. */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* ---- http.c ---------------------------------------------------------- */

/* What the server shares between its threads: immutable after start-up. */
typedef struct app {
    csession_manager *mgr;
    const server_options *opts;
} app;

/* One request in flight (libmicrohttpd's per-request pointer). */
typedef struct request {
    struct timespec start;
    int answered;           /* a response was queued */
    int too_big;            /* the body passed BODY_MAX */
    size_t body_len;
    char body[BODY_MAX];
    const char *session_log; /* what happened to the session, for the log line */
} request;

/* Queues `r` on the connection and writes the request's log line. */
mhd_result http_respond(struct MHD_Connection *conn, request *req, const char *method,
                        const char *url, const reply *r);

/* Answers a short text/plain body. */
mhd_result http_respond_text(struct MHD_Connection *conn, request *req, const char *method,
                             const char *url, unsigned status, const char *body);

/* The libmicrohttpd callbacks; `cls` is the app. */
mhd_result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe);

/* ---- routes.c -------------------------------------------------------- */

/* Answers a request whose body has been read completely. */
mhd_result routes_dispatch(const app *a, struct MHD_Connection *conn, request *req,
                           const char *method, const char *url);

#endif /* SESSION_SERVER_H */
