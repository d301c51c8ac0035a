/*
 * The request frame on the blocking calls: load the session from the
 * Cookie header, run the route (examples/common/routes.c), commit, and on
 * a conflict wait a little, reload and run again; then answer. Each
 * request runs on one of libmicrohttpd's threads, which waits for the
 * store.
 */
#include "server.h"

#include <string.h>
#include <time.h>

static void back_off(int run)
{
    static _Thread_local unsigned int seed;
    struct timespec ts = { 0, demo_back_off_us(run, &seed) * 1000L };
    nanosleep(&ts, NULL);
}

/* Runs the route on the loaded session and commits, again after a reload
 * as long as the commit reports a conflict, so that no change a client
 * was told about is lost. Returns the last code. */
static int run_and_commit(const app *a, csession *s, const demo_call *call, reply *r,
                          csession_buf *set_cookie, int *status)
{
    for (int run = 1;; run++) {
        int rc = demo_call_run(call, s, r);
        if (rc)
            return rc;
        *status = csession_status(s);
        rc = csession_manager_commit(a->mgr, s, set_cookie);
        if (!demo_commit_retry(rc, NULL, run, r))
            return rc;
        back_off(run);
        if ((rc = csession_manager_reload(a->mgr, s))) {
            demo_report("reloading the session", rc, NULL);
            return rc;
        }
    }
}

static mhd_result serve(const app *a, struct MHD_Connection *conn, request *req,
                        const char *method, const char *url, const demo_call *call, reply *r)
{
    csession_buf set_cookie = CSESSION_BUF_INIT;
    csession *s = NULL;
    const char *cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    int rc = csession_manager_load(a->mgr, cookie, cookie ? strlen(cookie) : 0, &s);
    if (rc) {
        demo_load_failed(rc, NULL, r, &req->session_log);
        return http_respond(conn, req, method, url, r);
    }
    int status = CSESSION_STATUS_UNCHANGED;
    rc = run_and_commit(a, s, call, r, &set_cookie, &status);
    demo_commit_done(rc, status, &set_cookie, r, &req->session_log);
    mhd_result ret = http_respond(conn, req, method, url, r);
    csession_buf_dispose(&set_cookie);
    csession_free(s);
    return ret;
}

mhd_result routes_dispatch(const app *a, struct MHD_Connection *conn, request *req,
                           const char *method, const char *url)
{
    reply r = { 0 };
    demo_call call;
    mhd_result ret;
    const char *agent =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    if (demo_route_pick(method, url, req->body, req->body_len, agent, a->mgr, &call, &r) ==
        DEMO_ANSWERED)
        ret = http_respond(conn, req, method, url, &r);
    else
        ret = serve(a, conn, req, method, url, &call, &r);
    text_free(&r.body);
    return ret;
}
