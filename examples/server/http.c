/*
 * Request plumbing: reading bodies with a cap, building responses, JSON
 * text, and the one log line per request.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text ------------------------------------------------------------ */

void text_append(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (n >= t->cap - t->len || !t->ptr) {
        size_t cap = t->cap ? t->cap : 128;
        while (cap - t->len <= n) {
            if (cap > SIZE_MAX / 2) {
                t->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(t->ptr, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->ptr = p;
        t->cap = cap;
    }
    memcpy(t->ptr + t->len, s, n);
    t->len += n;
    t->ptr[t->len] = '\0';
}

void text_append_str(text *t, const char *s)
{
    text_append(t, s, strlen(s));
}

void text_append_json_string(text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    text_append(t, "\"", 1);
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t esc_len = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x20 && c != 0x7f) {
                run++; /* UTF-8 sequences pass through: the library keeps strings valid */
                continue;
            }
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc_len = 6;
        }
        text_append(t, s + i - run, run);
        run = 0;
        text_append(t, esc, esc_len);
    }
    text_append(t, s + n - run, run);
    text_append(t, "\"", 1);
}

void text_free(text *t)
{
    free(t->ptr);
    *t = (text){ 0 };
}

/* ---- log ------------------------------------------------------------- */

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* The path arrives percent-decoded: escape what would break the log line. */
static void printable(char *out, size_t out_size, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *in && o + 5 < out_size; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (*in && o + 3 < out_size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void log_request(const request *req, const char *method, const char *url, unsigned status)
{
    char m[24], path[256];
    printable(m, sizeof m, method);
    printable(path, sizeof path, url);
    /* One fprintf: stdio locks the stream, so lines of concurrent requests
     * never interleave. */
    fprintf(stderr, "%s %s %u %.3fms %s\n", m, path, status, elapsed_ms(&req->start),
            req->session_log ? req->session_log : "session=-");
}

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
    log_request(req, method, url, ret == MHD_YES ? r->status : 0);
    return ret;
}

mhd_result http_respond_text(struct MHD_Connection *conn, request *req, const char *method,
                             const char *url, unsigned status, const char *body)
{
    /* Point at the literal instead of copying it: nothing can fail here. */
    reply r = { .status = status, .content_type = "text/plain; charset=utf-8" };
    r.body.ptr = (char *)body;
    r.body.len = strlen(body);
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
            return http_respond_text(conn, req, method, url, 413,
                                     "request body too large\n");
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
        return http_respond_text(conn, req, method, url, 413,
                                 "request body too large\n");
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
