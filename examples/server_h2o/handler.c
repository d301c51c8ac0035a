/*
 * The request frame on the non-blocking calls. A request that needs its
 * session goes through these steps, each started on the loop thread and
 * continued in the completion callback, so the thread never waits for the
 * store:
 *
 *   load_async -> run the route -> commit_async -+-> answer
 *                     ^                          | conflict
 *                     +-- reload_async <- timer -+
 *
 * The back-off between runs is a timer on the loop, not a sleep. When the
 * client goes away first, h2o disposes of the request's memory pool; the
 * call lives in that pool and its dispose hook abandons what is in flight
 * (csession_request_abandon(): its callback then never runs).
 */
#include "server_h2o.h"

#include <stdio.h>
#include <string.h>

/* Longest method and path kept for the log line (it shortens them anyway). */
#define LOG_METHOD_MAX 32
#define LOG_PATH_MAX 512
/* Longest User-Agent kept for a login's label (the library keeps 64 bytes). */
#define LOG_AGENT_MAX 256
/* The back-off between runs, against the blocking server's (see committed()). */
#define BACK_OFF_SCALE 10

/* One request on its session. Allocated in the request's pool, so it goes
 * with the request; `answered` tells the dispose hook there is nothing
 * left to release. */
typedef struct call {
    h2o_req_t *req;
    worker *w;
    struct timespec start;
    char method[LOG_METHOD_MAX];
    char path[LOG_PATH_MAX];
    char agent[LOG_AGENT_MAX]; /* the User-Agent, a login's label */
    demo_call route;
    reply r;
    csession *s;            /* owned once loaded */
    csession_buf set_cookie;
    int run;                /* runs of the route so far */
    int status;             /* the session's status before the last commit */
    const char *session_log;
    csession_request *op;   /* the operation in flight, or NULL */
    void *timer;            /* the back-off timer (csession_loop), or NULL */
    int counted;            /* counted in w->in_flight */
    int answered;
} call;

/* ---- answering ------------------------------------------------------- */

static const char *reason(unsigned status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
    }
}

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_iovec_t v = h2o_strdup(&req->pool, value, strlen(value));
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, v.base, v.len);
}

/* Everything the call holds, released; the request is no longer counted. */
static void release(call *c)
{
    if (c->timer) {
        c->w->loop.timer_close(&c->w->loop, c->timer);
        c->timer = NULL;
    }
    csession_free(c->s);
    c->s = NULL;
    csession_buf_dispose(&c->set_cookie);
    text_free(&c->r.body);
    if (c->counted) {
        c->counted = 0;
        worker_request_done(c->w);
    }
}

/* Sends c->r with the log line, releases the call. The call may be gone
 * once h2o_send_inline() returns: nothing touches it afterwards. */
static void respond(call *c)
{
    h2o_req_t *req = c->req;
    const reply *r = &c->r;
    req->res.status = (int)r->status;
    req->res.reason = reason(r->status);
    /* Every answer depends on the session: no shared cache may keep one. */
    add_header(req, H2O_TOKEN_CONTENT_TYPE, r->content_type);
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    if (r->set_cookie && *r->set_cookie)
        add_header(req, H2O_TOKEN_SET_COOKIE, r->set_cookie);
    if (r->allow)
        add_header(req, H2O_TOKEN_ALLOW, r->allow);
    h2o_iovec_t body = h2o_strdup(&req->pool, r->body.ptr ? r->body.ptr : "", r->body.len);
    demo_log_request(&c->start, c->method, c->path, r->status, c->session_log);
    c->answered = 1;
    release(c);
    req->res.content_length = body.len;
    h2o_send_inline(req, body.base, body.len);
}

/* The last commit (or a route, or a reload) ended with `rc`. */
static void finish(call *c, int rc)
{
    demo_commit_done(rc, c->status, &c->set_cookie, &c->r, &c->session_log);
    respond(c);
}

/* ---- the frame ------------------------------------------------------- */

static void committed(void *arg, int code, const char *message, csession *s);

/* Runs the route once more on the loaded session and starts its commit. */
static void run_route(call *c)
{
    c->run++;
    int rc = demo_call_run(&c->route, c->s, &c->r);
    if (rc) {
        finish(c, rc);
        return;
    }
    c->status = csession_status(c->s);
    rc = csession_manager_commit_async(c->w->mgr, &c->w->loop, c->s, &c->set_cookie,
                                       committed, c, &c->op);
    if (rc) {
        demo_report("saving the session", rc, NULL);
        finish(c, rc);
    }
}

static void loaded(void *arg, int code, const char *message, csession *s)
{
    call *c = arg;
    c->op = NULL;
    if (code) {
        demo_load_failed(code, message, &c->r, &c->session_log);
        respond(c);
        return;
    }
    c->s = s;
    run_route(c);
}

static void reloaded(void *arg, int code, const char *message, csession *s)
{
    call *c = arg;
    (void)s; /* c->s */
    c->op = NULL;
    if (code) {
        demo_report("reloading the session", code, message);
        finish(c, code);
        return;
    }
    run_route(c);
}

/* The back-off is over: read the newest state and run again. */
static void back_off_done(void *arg)
{
    call *c = arg;
    int rc = csession_manager_reload_async(c->w->mgr, &c->w->loop, c->s, reloaded, c, &c->op);
    if (rc) {
        demo_report("reloading the session", rc, NULL);
        finish(c, rc);
    }
}

static void committed(void *arg, int code, const char *message, csession *s)
{
    call *c = arg;
    (void)s; /* c->s */
    c->op = NULL;
    if (!demo_commit_retry(code, message, c->run, &c->r)) {
        finish(c, code);
        return;
    }
    csession_loop *loop = &c->w->loop;
    if (!c->timer && !(c->timer = loop->timer_open(loop, back_off_done, c))) {
        finish(c, CSESSION_ENOMEM);
        return;
    }
    /* The loop counts milliseconds, too coarse for the spread of up to
     * 100 us per run: rounded, the requests of one session on a loop all
     * wait the same 1 ms, wake in the same turn and meet again. Ten times
     * the spread (up to 1 ms per run, at most 50 ms) keeps them apart. */
    long us = demo_back_off_us(c->run, &c->w->seed) * BACK_OFF_SCALE;
    if (loop->timer_set(loop, c->timer, (uint64_t)(us + 500) / 1000) != 0)
        finish(c, CSESSION_ENOMEM);
}

/* h2o disposes of the request's pool: after the answer was sent, or
 * because the client went away first. */
static void on_dispose(void *p)
{
    call *c = p;
    if (c->answered)
        return;
    if (c->op) {
        csession_request_abandon(c->op);
        c->op = NULL;
    }
    demo_log_request(&c->start, c->method, c->path, 0, "session=abandoned");
    release(c);
}

/* ---- h2o ------------------------------------------------------------- */

/* `v` as a NUL-terminated string in `out`, cut to its size. */
static void copy_str(char *out, size_t size, h2o_iovec_t v)
{
    size_t n = v.len < size - 1 ? v.len : size - 1;
    if (n)
        memcpy(out, v.base, n);
    out[n] = '\0';
}

int handler_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    call *c = h2o_mem_alloc_shared(&req->pool, sizeof *c, on_dispose);
    memset(c, 0, sizeof *c);
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->req = req;
    c->w = worker_of(req->conn->ctx);
    c->set_cookie = (csession_buf)CSESSION_BUF_INIT;
    copy_str(c->method, sizeof c->method, req->method);
    copy_str(c->path, sizeof c->path, req->path_normalized);

    if (req->entity.len > BODY_MAX) {
        demo_reply_text(&c->r, 413, DEMO_BODY_TOO_BIG);
        respond(c);
        return 0;
    }
    const char *body = req->entity.base ? req->entity.base : "";
    ssize_t ua = h2o_find_header(&req->headers, H2O_TOKEN_USER_AGENT, -1);
    if (ua >= 0)
        copy_str(c->agent, sizeof c->agent, req->headers.entries[ua].value);
    if (demo_route_pick(c->method, c->path, body, req->entity.len, ua >= 0 ? c->agent : NULL,
                        c->w->mgr, &c->route, &c->r) ==
        DEMO_ANSWERED) {
        respond(c);
        return 0;
    }
    const char *cookie = NULL;
    size_t cookie_len = 0;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, -1);
    if (i >= 0) {
        cookie = req->headers.entries[i].value.base;
        cookie_len = req->headers.entries[i].value.len;
    }
    c->counted = 1;
    c->w->in_flight++;
    int rc = csession_manager_load_async(c->w->mgr, &c->w->loop, cookie, cookie_len, loaded, c,
                                         &c->op);
    if (rc) {
        demo_load_failed(rc, NULL, &c->r, &c->session_log);
        respond(c);
    }
    return 0;
}
