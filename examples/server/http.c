/*
 * Request plumbing: reading bodies with a cap and queueing responses (with
 * the one log line per request).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ------------------------------------------------------- */

mhd_result http_respond(struct MHD_Connection *conn, request *req, const char *method,
                        const char *url, const reply *r)
{
    const char *body = r->body.ptr ? r->body.ptr : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->body.len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    /* Every answer depends on the session: no shared cache may keep one. */
    int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ok && r->set_cookie && *r->set_cookie)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (ok && r->allow)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    mhd_result ret = ok ? MHD_queue_response(conn, r->status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    req->answered = 1;
    demo_log_request(&req->start, method, url, ret == MHD_YES ? r->status : 0, req->session_log);
    return ret;
}

mhd_result http_respond_text(struct MHD_Connection *conn, request *req, const char *method,
                             const char *url, unsigned status, const char *body)
{
    reply r = { 0 };
    demo_reply_text(&r, status, body); /* borrows the literal: nothing can fail here */
    return http_respond(conn, req, method, url, &r);
}

/* ---- libmicrohttpd callbacks ---------------------------------------- */

/* The Content-Length announces a body over the cap: refuse before reading. */
static int announced_too_big(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl && strtoull(cl, NULL, 10) > BODY_MAX;
}

mhd_result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls)
{
    const app *a = cls;
    request *req = *con_cls;
    (void)version;
    if (!req) {
        /* First call: the headers are in, the body (if any) is not. */
        if (!(req = calloc(1, sizeof *req)))
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &req->start);
        *con_cls = req;
        if (announced_too_big(conn))
            return http_respond_text(conn, req, method, url, 413, DEMO_BODY_TOO_BIG);
        return MHD_YES;
    }
    if (req->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A chunked body has no Content-Length: past the cap, drop the rest
         * and answer once it is over (no response may be queued here). */
        size_t n = *upload_data_size;
        if (req->too_big || n > BODY_MAX - req->body_len) {
            req->too_big = 1;
        } else {
            memcpy(req->body + req->body_len, upload_data, n);
            req->body_len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_big)
        return http_respond_text(conn, req, method, url, 413, DEMO_BODY_TOO_BIG);
    return routes_dispatch(a, conn, req, method, url);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request *req = *con_cls;
    if (!req)
        return;
    /* The body may hold a login: overwrite it before the memory is reused.
     * The volatile pointer keeps the compiler from dropping the stores. */
    volatile char *p = req->body;
    for (size_t i = 0; i < req->body_len; i++)
        p[i] = 0;
    free(req);
    *con_cls = NULL;
}
