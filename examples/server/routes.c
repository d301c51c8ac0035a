/*
 * What each URL does. Every route that touches the session runs the same
 * frame: load the session from the Cookie header, let the route read and
 * write it, commit it (which yields the Set-Cookie header), answer.
 */
#include "server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char JSON[] = "application/json";
static const char TEXT[] = "text/plain; charset=utf-8";

/* A route's work on the session. Returns 0 or a CSESSION_E* code (500). */
typedef int (*route_fn)(csession *s, const char *arg, reply *r);

/* ---- the session's values -------------------------------------------- */

/* The logged-in user (NULL when none) and the counter (0 when absent). */
static int read_values(const csession *s, const char **user, size_t *user_len, int64_t *counter)
{
    int rc = csession_get_string(s, "user_id", user, user_len);
    if (rc == CSESSION_ENOTFOUND || rc == CSESSION_ETYPE)
        *user = NULL; /* a value of another type is not a login */
    else if (rc)
        return rc;
    *counter = 0;
    rc = csession_get_int64(s, "counter", counter);
    if (rc && rc != CSESSION_ENOTFOUND && rc != CSESSION_ETYPE && rc != CSESSION_ERANGE)
        return rc;
    return 0;
}

/* Answers {"user_id": <string or null>, "counter": <int>}. */
static int answer_values(const csession *s, reply *r)
{
    const char *user;
    size_t user_len = 0;
    int64_t counter;
    int rc = read_values(s, &user, &user_len, &counter);
    if (rc)
        return rc;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)counter);
    text_append_str(&r->body, "{\"user_id\": ");
    if (user)
        text_append_json_string(&r->body, user, user_len);
    else
        text_append_str(&r->body, "null");
    text_append_str(&r->body, ", \"counter\": ");
    text_append_str(&r->body, num);
    text_append_str(&r->body, "}\n");
    r->content_type = JSON;
    return r->body.failed ? CSESSION_ENOMEM : 0;
}

/* ---- routes ---------------------------------------------------------- */

static int get_index(csession *s, const char *arg, reply *r)
{
    (void)arg;
    return answer_values(s, r);
}

static int post_do_something(csession *s, const char *arg, reply *r)
{
    (void)arg;
    int64_t counter = 0;
    int rc = csession_get_int64(s, "counter", &counter);
    if (rc && rc != CSESSION_ENOTFOUND && rc != CSESSION_ETYPE && rc != CSESSION_ERANGE)
        return rc;
    if ((rc = csession_insert_int64(s, "counter", rc ? 1 : counter + 1)))
        return rc;
    return answer_values(s, r);
}

/* A parsed login body; routes get a pointer to `user`, its first member. */
typedef struct login_body {
    char user[USER_ID_MAX + 1];
    int remember; /* "remember": true */
    const char *agent; /* the User-Agent header, or NULL: the binding's label */
} login_body;

static int post_login(csession *s, const char *user, reply *r)
{
    const login_body *body = (const login_body *)(const void *)user;
    int rc = csession_insert_string(s, "user_id", body->user);
    /* A new session key at every login: a key planted before it (session
     * fixation) is worth nothing afterwards. */
    if (!rc)
        rc = csession_renew(s);
    /* The session belongs to the user now: GET /sessions lists it. */
    if (!rc)
        rc = routes_users_bind(s, body->user, body->agent);
    /* "Remember me": this session's cookie is persistent, whatever the
     * server's default (never past the absolute timeout). */
    if (!rc && body->remember)
        rc = csession_set_persistent(s, REMEMBER_TTL);
    return rc ? rc : answer_values(s, r);
}

/* Answers the session's public id and times:
 * {"id": ..., "created": ..., "last_seen": ..., "persistent": ...},
 * or 401 with nulls when there is no stored session. */
static int get_session(csession *s, const char *arg, reply *r)
{
    (void)arg;
    int64_t created = 0, seen = 0;
    const char *id;
    int rc = csession_created(s, &created);
    r->content_type = JSON;
    if (rc == CSESSION_ENOTFOUND || csession_count(s) == 0) {
        r->status = 401;
        text_append_str(&r->body, "{\"id\": null, \"created\": null, \"last_seen\": null, "
                                  "\"persistent\": false}\n");
        return r->body.failed ? CSESSION_ENOMEM : 0;
    }
    if (rc || (rc = csession_last_seen(s, &seen)) || (rc = csession_id(s, &id)))
        return rc;
    char line[160];
    snprintf(line, sizeof line,
             "{\"id\": \"%s\", \"created\": %lld, \"last_seen\": %lld, \"persistent\": %s}\n",
             id, (long long)created, (long long)seen,
             csession_is_persistent(s) == 1 ? "true" : "false");
    text_append_str(&r->body, line);
    return r->body.failed ? CSESSION_ENOMEM : 0;
}

static int post_logout(csession *s, const char *arg, reply *r)
{
    (void)arg;
    const char *user;
    size_t user_len = 0;
    int64_t counter;
    int rc = read_values(s, &user, &user_len, &counter);
    if (rc)
        return rc;
    /* Build the answer first: purging frees the user id's memory. */
    if (user) {
        text_append_str(&r->body, "Logged out: ");
        text_append(&r->body, user, user_len);
        text_append_str(&r->body, "\n");
    } else {
        text_append_str(&r->body, "Logged out (nobody was logged in)\n");
    }
    r->content_type = TEXT;
    if (r->body.failed)
        return CSESSION_ENOMEM;
    return csession_purge(s);
}

static int get_protected_count(csession *s, const char *arg, reply *r)
{
    (void)arg;
    const char *user;
    size_t user_len = 0;
    int64_t counter;
    int rc = read_values(s, &user, &user_len, &counter);
    if (rc)
        return rc;
    if (!user) {
        r->status = 401;
        r->content_type = TEXT;
        text_append_str(&r->body, "log in first: POST /login\n");
        return r->body.failed ? CSESSION_ENOMEM : 0;
    }
    return answer_values(s, r);
}

/* ---- the login body -------------------------------------------------- */

/*
 * Reads a request body that must be one JSON object into *out, a session
 * whose map is that object (free it with csession_free()). Returns NULL,
 * or why the body is refused (answer 400); *out is then NULL.
 *
 * The library parses it, strictly: csession_insert_json() takes exactly one
 * JSON value and says whether it is an object; wrapped in the stored-state
 * envelope, csession_decode() then turns that object into a map whose
 * members can be read with their types checked.
 */
static const char NOT_AN_OBJECT[] = "the body must be a JSON object";

const char *routes_body_object(const request *req, csession **out)
{
    const char *why = NULL;
    csession *scratch = NULL;
    text wrapped = { 0 };
    int type = -1;
    *out = NULL;
    if (csession_new(&scratch))
        return "out of memory";
    if (csession_insert_json(scratch, "body", req->body, req->body_len) ||
        csession_type(scratch, "body", &type) || type != CSESSION_TYPE_OBJECT) {
        why = NOT_AN_OBJECT;
        goto done;
    }
    static const char head[] = "{\"v\":1,\"state\":";
    text_append(&wrapped, head, sizeof head - 1);
    text_append(&wrapped, req->body, req->body_len);
    text_append(&wrapped, "}", 1);
    if (wrapped.failed || csession_decode(out, wrapped.ptr, wrapped.len))
        why = "the body could not be read";
done:
    text_free(&wrapped);
    csession_free(scratch);
    return why;
}

/* Reads {"user_id": "<1..USER_ID_MAX bytes>"} (other members ignored) into
 * `login`. Returns NULL, or why the body is refused (answer 400). */
static const char *parse_login(const request *req, login_body *login)
{
    char *user = login->user;
    size_t user_size = sizeof login->user;
    csession *body;
    const char *why = routes_body_object(req, &body);
    if (why == NOT_AN_OBJECT)
        return "the body must be a JSON object: {\"user_id\": \"...\"}";
    if (why)
        return why;
    const char *value;
    size_t len = 0;
    int rc = csession_get_string(body, "user_id", &value, &len);
    if (rc == CSESSION_ENOTFOUND)
        why = "user_id is missing";
    else if (rc)
        why = "user_id must be a string";
    else if (len == 0 || len > USER_ID_MAX || len >= user_size)
        why = "user_id must have 1 to 128 bytes";
    else
        memcpy(user, value, len + 1);
    int remember = 0;
    rc = csession_get_bool(body, "remember", &remember);
    if (!why && rc && rc != CSESSION_ENOTFOUND)
        why = "remember must be true or false";
    login->remember = rc == 0 && remember;
    csession_free(body);
    return why;
}

/* ---- dispatch -------------------------------------------------------- */

static const struct route {
    const char *path;
    const char *method; /* GET routes answer HEAD as well */
    route_fn fn;
    int reads_login;    /* the body is a login (1) or the arguments of a user
                         * sessions route (2), read before the session loads */
} ROUTES[] = {
    { "/", "GET", get_index, 0 },
    { "/do_something", "POST", post_do_something, 0 },
    { "/login", "POST", post_login, 1 },
    { "/logout", "POST", post_logout, 0 },
    { "/protected/count", "GET", get_protected_count, 0 },
    { "/session", "GET", get_session, 0 },
    { "/app", "GET", NULL, 0 }, /* no session: app_page_respond() */
    { "/sessions", "GET", routes_users_list, 2 },
    { "/sessions/end", "POST", routes_users_end, 2 },
    { "/logout_all", "POST", routes_users_logout_all, 2 },
};

/* What happened to the session, for the log line. */
static const char *session_log(int status, int cookie_sent)
{
    static const char *const lines[4][2] = {
        { "session=unchanged", "session=unchanged cookie=reissued" },
        { "session=changed", "session=changed cookie=set" },
        { "session=renewed", "session=renewed cookie=set" },
        { "session=purged", "session=purged cookie=removed" },
    };
    if (status < 0 || status > 3)
        return "session=?";
    return lines[status][cookie_sent != 0];
}

static void report(const char *what, int rc)
{
    fprintf(stderr, "session_server: %s: %s: %s\n", what, csession_strerror(rc),
            csession_last_error());
}

/* Runs of a route on one request before it answers 409: a commit that
 * meets a parallel request's change of the same key (two clicks on
 * /do_something) reloads the session and runs the route again. Between
 * runs the request waits a random while that grows with each conflict, so
 * that writers who keep meeting spread out: with 16 clients on one key
 * through Redis on a loaded machine, 32 runs with waits of up to 50 us per
 * run still ran out for 1 to 3 requests in 3,200. */
#define ROUTE_RUNS 64

/* Up to 100 us times the run number, at most 5 ms (spread, not secret:
 * rand_r on a per-thread seed). */
static void back_off(int run)
{
    static _Thread_local unsigned int seed;
    if (!seed) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        seed = (unsigned int)now.tv_nsec ^ (unsigned int)(uintptr_t)&now;
    }
    long cap_us = 100L * run;
    if (cap_us > 5000)
        cap_us = 5000;
    struct timespec ts = {0, (rand_r(&seed) % (cap_us + 1)) * 1000L};
    nanosleep(&ts, NULL);
}

/*
 * Runs the route on the loaded session and commits, again after a reload
 * as long as the commit reports a conflict (a parallel request changed
 * the same keys), so that no change a client was told about is lost.
 * Returns the commit's code.
 */
static int run_and_commit(const app *a, csession *s, route_fn fn, const char *arg, reply *r,
                          csession_buf *set_cookie, int *status)
{
    for (int run = 1;; run++) {
        int rc = fn(s, arg, r);
        if (rc) {
            report("handling the session", rc);
            return rc;
        }
        *status = csession_status(s);
        rc = csession_manager_commit(a->mgr, s, set_cookie);
        if (rc != CSESSION_ECONFLICT || run == ROUTE_RUNS) {
            if (rc && rc != CSESSION_EGONE)
                report("saving the session", rc);
            return rc;
        }
        /* the answer is built again from the newest state */
        text_free(&r->body);
        *r = (reply){ .status = 200, .content_type = JSON };
        back_off(run);
        if ((rc = csession_manager_reload(a->mgr, s))) {
            report("reloading the session", rc);
            return rc;
        }
    }
}

static mhd_result serve(const app *a, struct MHD_Connection *conn, request *req,
                        const char *method, const char *url, route_fn fn, const char *arg)
{
    reply r = { .status = 200, .content_type = JSON };
    csession_buf set_cookie = CSESSION_BUF_INIT;
    csession *s = NULL;
    const char *cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    int rc = csession_manager_load(a->mgr, cookie, cookie ? strlen(cookie) : 0, &s);
    if (rc == CSESSION_ETOOBIG) {
        req->session_log = "session=- cookie-header-too-big";
        return http_respond_text(conn, req, method, url, 431, "Cookie header too large\n");
    }
    if (rc) {
        report("loading the session", rc);
        req->session_log = "session=load-failed";
        return http_respond_text(conn, req, method, url, 500, "session store error\n");
    }
    int status = CSESSION_STATUS_UNCHANGED;
    rc = run_and_commit(a, s, fn, arg, &r, &set_cookie, &status);
    mhd_result ret;
    if (rc == CSESSION_EGONE) {
        /* Another request logged this session out (or renewed it) while
         * this one ran: nothing was stored; the client drops its cookie. */
        req->session_log = "session=ended-elsewhere cookie=removed";
        text_free(&r.body);
        r = (reply){ .status = 401, .content_type = TEXT, .set_cookie = set_cookie.ptr };
        text_append_str(&r.body, "the session was ended by another request\n");
        ret = http_respond(conn, req, method, url, &r);
    } else if (rc == CSESSION_ECONFLICT) {
        req->session_log = "session=conflict";
        ret = http_respond_text(conn, req, method, url, 409,
                                "the session kept changing under this request: try again\n");
    } else if (rc) {
        req->session_log = "session=save-failed";
        ret = http_respond_text(conn, req, method, url, 500, "session store error\n");
    } else {
        req->session_log = session_log(status, set_cookie.size > 0);
        r.set_cookie = set_cookie.ptr;
        ret = http_respond(conn, req, method, url, &r);
    }
    csession_buf_dispose(&set_cookie);
    text_free(&r.body);
    csession_free(s);
    return ret;
}

mhd_result routes_dispatch(const app *a, struct MHD_Connection *conn, request *req,
                           const char *method, const char *url)
{
    const struct route *rt = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (!strcmp(url, ROUTES[i].path))
            rt = &ROUTES[i];
    if (!rt)
        return http_respond_text(conn, req, method, url, 404, "not found\n");
    int is_get = !strcmp(rt->method, "GET");
    if (strcmp(method, rt->method) && !(is_get && !strcmp(method, "HEAD"))) {
        reply r = { .status = 405, .content_type = TEXT, .allow = is_get ? "GET, HEAD" : "POST" };
        r.body.ptr = (char *)"method not allowed\n";
        r.body.len = strlen(r.body.ptr);
        return http_respond(conn, req, method, url, &r);
    }
    if (!rt->fn)
        return app_page_respond(conn, req, method, url);
    if (rt->reads_login == 2) {
        users_arg ua = { a, { 0 } };
        const char *why = routes_users_args(req, url, &ua);
        if (why)
            return http_respond_text(conn, req, method, url, 400, why);
        return serve(a, conn, req, method, url, rt->fn, (const char *)(const void *)&ua);
    }
    login_body login = {{0}, 0, NULL};
    if (rt->reads_login) {
        login.agent =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
        const char *why = parse_login(req, &login);
        if (why) {
            char msg[160];
            snprintf(msg, sizeof msg, "bad request: %s\n", why);
            return http_respond_text(conn, req, method, url, 400, msg);
        }
    }
    return serve(a, conn, req, method, url, rt->fn, rt->reads_login ? login.user : NULL);
}
