/*
 * What each URL does. Every route that touches the session runs the same
 * frame: load the session from the Cookie header, let the route read and
 * write it, commit it (which yields the Set-Cookie header), answer. The
 * servers run the frame, each waiting in its own way; what a route does
 * and answers, and how a commit's outcome is answered, is decided here.
 */
#include "demo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char JSON[] = "application/json";
static const char TEXT[] = "text/plain; charset=utf-8";

/* A route's work on the session. Returns 0 or a CSESSION_E* code (500). */
typedef int (*route_fn)(csession *s, const demo_call *call, reply *r);

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

static int get_index(csession *s, const demo_call *call, reply *r)
{
    (void)call;
    return answer_values(s, r);
}

static int post_do_something(csession *s, const demo_call *call, reply *r)
{
    (void)call;
    int64_t counter = 0;
    int rc = csession_get_int64(s, "counter", &counter);
    if (rc && rc != CSESSION_ENOTFOUND && rc != CSESSION_ETYPE && rc != CSESSION_ERANGE)
        return rc;
    if ((rc = csession_insert_int64(s, "counter", rc ? 1 : counter + 1)))
        return rc;
    return answer_values(s, r);
}

static int post_login(csession *s, const demo_call *call, reply *r)
{
    const login_body *body = &call->login;
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
static int get_session(csession *s, const demo_call *call, reply *r)
{
    (void)call;
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

static int post_logout(csession *s, const demo_call *call, reply *r)
{
    (void)call;
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

static int get_protected_count(csession *s, const demo_call *call, reply *r)
{
    (void)call;
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
 * Reads {"user_id": "<1..USER_ID_MAX bytes>"} (other members ignored) into
 * `user`. Returns NULL, or why the body is refused (answer 400).
 *
 * The library parses it, strictly: csession_insert_json() takes exactly one
 * JSON value and says whether it is an object; wrapped in the stored-state
 * envelope, csession_decode() then turns that object into a map whose
 * user_id can be read with its type checked.
 */
static const char NOT_AN_OBJECT[] = "the body must be a JSON object";

const char *demo_body_object(const char *req_body, size_t req_body_len, csession **out)
{
    const char *why = NULL;
    csession *scratch = NULL;
    text wrapped = { 0 };
    int type = -1;
    *out = NULL;
    if (csession_new(&scratch))
        return "out of memory";
    if (csession_insert_json(scratch, "body", req_body, req_body_len) ||
        csession_type(scratch, "body", &type) || type != CSESSION_TYPE_OBJECT) {
        why = NOT_AN_OBJECT;
        goto done;
    }
    static const char head[] = "{\"v\":1,\"state\":";
    text_append(&wrapped, head, sizeof head - 1);
    text_append(&wrapped, req_body, req_body_len);
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
static const char *parse_login(const char *req_body, size_t req_body_len, login_body *login)
{
    char *user = login->user;
    size_t user_size = sizeof login->user;
    csession *body;
    const char *why = demo_body_object(req_body, req_body_len, &body);
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

/* What a route is: answered without a session, or run on one. */
enum { ROUTE_SESSION, ROUTE_APP_PAGE, ROUTE_HEALTH };

struct demo_route {
    const char *path;
    const char *method; /* GET routes answer HEAD as well */
    route_fn fn;
    int kind;
    int reads_login;    /* the body is a login (1) or the arguments of a user
                         * sessions route (2), read before the session loads */
};

static const struct demo_route ROUTES[] = {
    { "/", "GET", get_index, ROUTE_SESSION, 0 },
    { "/do_something", "POST", post_do_something, ROUTE_SESSION, 0 },
    { "/login", "POST", post_login, ROUTE_SESSION, 1 },
    { "/logout", "POST", post_logout, ROUTE_SESSION, 0 },
    { "/protected/count", "GET", get_protected_count, ROUTE_SESSION, 0 },
    { "/session", "GET", get_session, ROUTE_SESSION, 0 },
    { "/sessions", "GET", routes_users_list, ROUTE_SESSION, 2 },
    { "/sessions/end", "POST", routes_users_end, ROUTE_SESSION, 2 },
    { "/logout_all", "POST", routes_users_logout_all, ROUTE_SESSION, 2 },
    { "/app", "GET", NULL, ROUTE_APP_PAGE, 0 },
    /* For load balancers and supervisors: the process answers. It touches
     * no session and no store, so it answers while the store is down. */
    { "/healthz", "GET", NULL, ROUTE_HEALTH, 0 },
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

void demo_reply_text(reply *r, unsigned status, const char *body)
{
    text_free(&r->body);
    *r = (reply){ .status = status, .content_type = TEXT };
    r->body.ptr = (char *)body; /* borrowed: cap 0 */
    r->body.len = strlen(body);
}

void demo_reply_reset(reply *r)
{
    text_free(&r->body);
    *r = (reply){ .status = 200, .content_type = JSON };
}

int demo_route_pick(const char *method, const char *path, const char *body, size_t body_len,
                    const char *user_agent, csession_manager *mgr, demo_call *call, reply *r)
{
    const struct demo_route *rt = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (!strcmp(path, ROUTES[i].path))
            rt = &ROUTES[i];
    if (!rt) {
        demo_reply_text(r, 404, "not found\n");
        return DEMO_ANSWERED;
    }
    int is_get = !strcmp(rt->method, "GET");
    if (strcmp(method, rt->method) && !(is_get && !strcmp(method, "HEAD"))) {
        demo_reply_text(r, 405, "method not allowed\n");
        r->allow = is_get ? "GET, HEAD" : "POST";
        return DEMO_ANSWERED;
    }
    if (rt->kind == ROUTE_APP_PAGE) {
        app_page_reply(r);
        return DEMO_ANSWERED;
    }
    if (rt->kind == ROUTE_HEALTH) {
        demo_reply_text(r, 200, "ok\n");
        return DEMO_ANSWERED;
    }
    *call = (demo_call){ .route = rt, .mgr = mgr };
    call->login.agent = user_agent;
    if (rt->reads_login) {
        const char *why = rt->reads_login == 1
                              ? parse_login(body, body_len, &call->login)
                              : routes_users_args(path, body, body_len, call);
        if (why) {
            text_free(&r->body);
            *r = (reply){ .status = 400, .content_type = TEXT };
            text_append_str(&r->body, "bad request: ");
            text_append_str(&r->body, why);
            text_append_str(&r->body, "\n");
            if (r->body.failed)
                demo_reply_text(r, 500, "out of memory\n");
            return DEMO_ANSWERED;
        }
    }
    demo_reply_reset(r);
    return DEMO_NEEDS_SESSION;
}

void demo_load_failed(int rc, const char *message, reply *r, const char **log)
{
    if (rc == CSESSION_ETOOBIG) {
        *log = "session=- cookie-header-too-big";
        demo_reply_text(r, 431, "Cookie header too large\n");
        return;
    }
    demo_report("loading the session", rc, message);
    *log = "session=load-failed";
    demo_reply_text(r, 500, "session store error\n");
}

int demo_call_run(const demo_call *call, csession *s, reply *r)
{
    int rc = call->route->fn(s, call, r);
    if (rc)
        demo_report("handling the session", rc, NULL);
    return rc;
}

/* Runs of a route on one request before it answers 409: a commit that
 * meets a parallel request's change of the same key (two clicks on
 * /do_something) reloads the session and runs the route again. Between
 * runs the request waits a random while that grows with each conflict, so
 * that writers who keep meeting spread out: with 16 clients on one key
 * through Redis on a loaded machine, 32 runs with waits of up to 50 us per
 * run still ran out for 1 to 3 requests in 3,200 (ROUTE_RUNS is 64). */
int demo_commit_retry(int rc, const char *message, int run, reply *r)
{
    if (rc != CSESSION_ECONFLICT || run >= ROUTE_RUNS) {
        if (rc && rc != CSESSION_EGONE)
            demo_report("saving the session", rc, message);
        return 0;
    }
    /* the answer is built again from the newest state */
    demo_reply_reset(r);
    return 1;
}

/* Spread, not secret: rand_r on the caller's seed. */
long demo_back_off_us(int run, unsigned int *seed)
{
    if (!*seed) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        *seed = (unsigned int)now.tv_nsec ^ (unsigned int)(uintptr_t)&now;
    }
    long cap_us = 100L * run;
    if (cap_us > 5000)
        cap_us = 5000;
    return rand_r(seed) % (cap_us + 1);
}

void demo_commit_done(int rc, int status, const csession_buf *set_cookie, reply *r,
                      const char **log)
{
    if (rc == CSESSION_EGONE) {
        /* Another request logged this session out (or renewed it) while
         * this one ran: nothing was stored; the client drops its cookie. */
        *log = "session=ended-elsewhere cookie=removed";
        text_free(&r->body);
        *r = (reply){ .status = 401, .content_type = TEXT, .set_cookie = set_cookie->ptr };
        text_append_str(&r->body, "the session was ended by another request\n");
    } else if (rc == CSESSION_ECONFLICT) {
        *log = "session=conflict";
        demo_reply_text(r, 409, "the session kept changing under this request: try again\n");
    } else if (rc) {
        *log = "session=save-failed";
        demo_reply_text(r, 500, "session store error\n");
    } else {
        *log = session_log(status, set_cookie->size > 0);
        r->set_cookie = set_cookie->ptr;
    }
}
