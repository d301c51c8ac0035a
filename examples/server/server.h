/*
 * The demo web server: csession on libmicrohttpd. Declarations shared by
 * its parts - options.c (flags), http.c (request plumbing, JSON and the log
 * line), routes.c (what each URL does) and app_page.c (the browser page).
 */
#ifndef SESSION_SERVER_H
#define SESSION_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include <csession.h>

/* libmicrohttpd before 0.9.71 returned int from its callbacks. */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* Largest request body read; longer ones are answered 413. */
#define BODY_MAX 4096
/* Lifetime of a session whose login said "remember": true (30 days). */
#define REMEMBER_TTL 2592000
/* Longest user_id accepted at login, in bytes. */
#define USER_ID_MAX 128

/* ---- options.c ------------------------------------------------------- */

typedef struct server_options {
    const char *host;     /* address to bind (default 127.0.0.1) */
    unsigned port;        /* 0: let the system pick one */
    const char *store;    /* "memory", "cookie", "sqlite:PATH" or a redis:// URL */
    const char *key_file; /* NULL: CSESSION_KEY, else a generated key */
    int insecure;         /* drop the Secure attribute (plain-http testing) */
    int64_t ttl;          /* 0: the library's default */
    int persistent;
    int64_t absolute_ttl; /* --absolute-ttl; 0: none */
    int64_t touch_after;  /* --touch-after: TTL extended on every request, at most this often */
    int64_t rotate_every; /* --rotate-every; 0: no key rotation */
    int64_t rotate_grace; /* --rotate-grace */
    int security;         /* a csession_cookie_security */
    unsigned threads;     /* size of the thread pool */
    size_t max_sessions;  /* memory store limit; 0: its default */
    unsigned max_conns;   /* open connections at most; 0: from the open-files limit */
    unsigned max_conns_per_ip; /* open connections per client address at most */
    unsigned idle_timeout;     /* seconds before an idle connection is closed */
} server_options;

enum { OPTIONS_OK = 0, OPTIONS_HELP = 1, OPTIONS_BAD = 2 };

/* Parses argv into *opts. Returns OPTIONS_OK, OPTIONS_HELP (usage printed on
 * stdout) or OPTIONS_BAD (message and usage printed on stderr). */
int options_parse(server_options *opts, int argc, char **argv);

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

/* A growable piece of text; `failed` records an allocation failure so that
 * appends can be chained and checked once. */
typedef struct text {
    char *ptr;
    size_t len, cap;
    int failed;
} text;

void text_append(text *t, const char *s, size_t n);
void text_append_str(text *t, const char *s);
/* Appends `s` (`n` bytes of UTF-8) as a JSON string literal, quotes included. */
void text_append_json_string(text *t, const char *s, size_t n);
void text_free(text *t);

/* An answer: status, body and the headers a route may add. */
typedef struct reply {
    unsigned status;
    const char *content_type;
    text body;
    const char *set_cookie; /* NULL or empty: no Set-Cookie */
    const char *allow;      /* Allow header of a 405 */
} reply;

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

/* Reads a body that must be one JSON object into *out (a session whose map
 * is that object; csession_free() it). NULL, or why not (answer 400). */
const char *routes_body_object(const request *req, csession **out);

/* ---- routes_users.c: a user's sessions ------------------------------- */

/* What the user sessions routes get as their `arg`. */
typedef struct users_arg {
    const app *a;
    char id[64]; /* POST /sessions/end: the public id to end */
} users_arg;

/* Reads the arguments of the route at `url` from the request into `arg`.
 * NULL, or why the request is refused (answer 400). */
const char *routes_users_args(const request *req, const char *url, users_arg *arg);

/* At login: binds the session to `user` with the User-Agent `agent` (may
 * be NULL) as its label. 0 or a CSESSION_E* code. */
int routes_users_bind(csession *s, const char *user, const char *agent);

/* GET /sessions, POST /sessions/end, POST /logout_all; `arg` is a users_arg. */
int routes_users_list(csession *s, const char *arg, reply *r);
int routes_users_end(csession *s, const char *arg, reply *r);
int routes_users_logout_all(csession *s, const char *arg, reply *r);

/* ---- app_page.c ----------------------------------------------------- */

/* Answers GET or HEAD /app: the HTML page that calls the routes above from
 * a browser. It touches no session and sends no Set-Cookie. */
mhd_result app_page_respond(struct MHD_Connection *conn, request *req, const char *method,
                            const char *url);

#endif /* SESSION_SERVER_H */
