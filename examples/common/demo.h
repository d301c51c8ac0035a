/*
 * What the two demo servers share: examples/server (libmicrohttpd, worker
 * threads, blocking calls) and examples/server_h2o (h2o on libuv, event
 * loops, non-blocking calls). Nothing here knows an HTTP library: flags
 * (options.c), the session manager they build (setup.c), text and the log
 * line (text.c), what each URL does and answers (routes.c) and the browser
 * page (app_page.c). Each server only reads requests, waits in its own way
 * and writes the replies built here.
 */
#ifndef SESSION_DEMO_H
#define SESSION_DEMO_H

#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <csession.h>

/* Largest request body read; longer ones are answered 413. */
#define BODY_MAX 4096
/* Lifetime of a session whose login said "remember": true (30 days). */
#define REMEMBER_TTL 2592000
/* Longest user_id accepted at login, in bytes. */
#define USER_ID_MAX 128

/* The body of a 413. */
#define DEMO_BODY_TOO_BIG "request body too large\n"

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
    unsigned threads;     /* worker threads, or event-loop threads */
    size_t max_sessions;  /* memory store limit; 0: its default */
    unsigned max_conns;   /* open connections at most; 0: from the open-files limit */
    unsigned max_conns_per_ip; /* open connections per client address at most */
    unsigned idle_timeout;     /* seconds before an idle connection is closed */
    /* --redis-tls-*: the Redis store's TLS options (NULL: the URL's or the default) */
    const char *redis_tls_ca;
    const char *redis_tls_cert;
    const char *redis_tls_key;
    const char *redis_tls_server_name;
} server_options;

/* What a server takes beyond the flags every demo has. */
#define OPTIONS_CONN_LIMITS 0x1u /* --max-conns and --max-conns-per-ip */

enum { OPTIONS_OK = 0, OPTIONS_HELP = 1, OPTIONS_BAD = 2 };

/* The program's name in messages ("session_server"); set before anything
 * else runs, by main(). */
extern const char *demo_program;

/* Parses argv into *opts, accepting the flags of `extras` (OPTIONS_*)
 * beyond the common ones; `threads_what` says in the usage what --threads
 * counts. Returns OPTIONS_OK, OPTIONS_HELP (usage printed on stdout) or
 * OPTIONS_BAD (message and usage printed on stderr). */
int options_parse(server_options *opts, int argc, char **argv, unsigned extras,
                  const char *threads_what);

/* ---- setup.c --------------------------------------------------------- */

/* The manager the flags describe: key, cookie settings, lifetimes, store.
 * Messages go to stderr. 0 or a CSESSION_E* code. */
int demo_manager_new(const server_options *o, csession_manager **out);

/* The start-up lines on stdout: the URL and curl lines to try. */
void demo_print_banner(const server_options *o, unsigned port);

/*
 * The start of main(), before any other thread: names the program, parses
 * the flags (options_parse()), then blocks SIGINT and SIGTERM - every
 * thread inherits the mask, so only a sigwait() on *stop sees them and
 * shutting down runs as ordinary code, not in a signal handler - and
 * ignores SIGPIPE (a client that hangs up is not fatal). Returns -1 to go
 * on, else the exit status (0 after --help, 2 for bad flags).
 */
int demo_start(server_options *opts, int argc, char **argv, const char *program,
               unsigned extras, const char *threads_what, sigset_t *stop);

/* The address of --host and --port for a listening socket. 0, or -1 after
 * a message. *out is freed with freeaddrinfo(). */
int demo_resolve(const server_options *o, struct addrinfo **out);

/* Writes "<program>: <what>: <code>: <message>" to stderr; `message` NULL
 * stands for csession_last_error() (right after a blocking call; a
 * completion callback passes the message it received). */
void demo_report(const char *what, int rc, const char *message);

/* ---- text.c ---------------------------------------------------------- */

/* A growable piece of text; `failed` records an allocation failure so that
 * appends can be chained and checked once. A text whose `cap` is 0 and
 * `ptr` set borrows a literal (text_free leaves it alone). */
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

/* Writes the request's log line on stderr: method, path (escaped), status,
 * time since `start` (CLOCK_MONOTONIC) and what happened to the session
 * (NULL: "session=-"). */
void demo_log_request(const struct timespec *start, const char *method, const char *path,
                      unsigned status, const char *session_log);

/* ---- routes.c -------------------------------------------------------- */

/* An answer: status, body and the headers a route may add. */
typedef struct reply {
    unsigned status;
    const char *content_type;
    text body;
    const char *set_cookie; /* NULL or empty: no Set-Cookie */
    const char *allow;      /* Allow header of a 405 */
} reply;

/* A reply of `status` with the literal `body` as text/plain (borrowed:
 * nothing can fail). */
void demo_reply_text(reply *r, unsigned status, const char *body);

/* A parsed login body. */
typedef struct login_body {
    char user[USER_ID_MAX + 1];
    int remember;      /* "remember": true */
    const char *agent; /* the User-Agent header, or NULL: the binding's label */
} login_body;

struct demo_route;

/* A request that runs on its session: which route, its login body, and
 * for the routes of a user's sessions the manager and the id to end. */
typedef struct demo_call {
    const struct demo_route *route;
    login_body login;
    csession_manager *mgr;
    char id[64]; /* POST /sessions/end: the public id to end */
} demo_call;

/* demo_route_pick()'s answers. */
enum { DEMO_ANSWERED = 0, DEMO_NEEDS_SESSION = 1 };

/*
 * Decides what a request gets from its method, path (NUL-terminated, query
 * removed, percent-decoded) and complete body. DEMO_ANSWERED: `r` holds the
 * whole answer (404, 405, 400, /app, /healthz), no session is involved.
 * DEMO_NEEDS_SESSION: `call` says what to run once the session is loaded.
 * `r` must be zeroed; the caller frees its body with text_free().
 */
int demo_route_pick(const char *method, const char *path, const char *body, size_t body_len,
                    const char *user_agent, csession_manager *mgr, demo_call *call, reply *r);

/* ---- routes_users.c: a user's sessions ------------------------------- */

/* Reads a body that must be one JSON object into *out (a session whose map
 * is that object; csession_free() it). NULL, or why not (answer 400). */
const char *demo_body_object(const char *body, size_t body_len, csession **out);

/* Reads the arguments of the user sessions route at `path` into `call`.
 * NULL, or why the request is refused (answer 400). */
const char *routes_users_args(const char *path, const char *body, size_t body_len,
                              demo_call *call);

/* At login: binds the session to `user` with the User-Agent `agent` (may
 * be NULL) as its label. 0 or a CSESSION_E* code. */
int routes_users_bind(csession *s, const char *user, const char *agent);

/* GET /sessions, POST /sessions/end, POST /logout_all. These call the
 * manager's user functions, which wait for the store (csession/users.h). */
int routes_users_list(csession *s, const demo_call *call, reply *r);
int routes_users_end(csession *s, const demo_call *call, reply *r);
int routes_users_logout_all(csession *s, const demo_call *call, reply *r);

/* The answer when loading the session failed with `rc` (and `message`, as
 * for demo_report()): 431 or 500. Sets *session_log. */
void demo_load_failed(int rc, const char *message, reply *r, const char **session_log);

/* Runs the route on the loaded session, building the answer in `r` (a
 * fresh reply, see demo_reply_reset()). 0 or a CSESSION_E* code (reported
 * on stderr: answer with demo_commit_done(rc, ...)). */
int demo_call_run(const demo_call *call, csession *s, reply *r);

/* Runs of a route on one request before it answers 409, see routes.c. */
#define ROUTE_RUNS 64

/* After run number `run` (from 1) committed with `rc` (and `message`, as
 * for demo_report()): 1 when the request reloads the session and runs
 * again (a conflict, runs left), with `r` made fresh for it; else 0, and a
 * failure is reported. */
int demo_commit_retry(int rc, const char *message, int run, reply *r);

/* How long to wait before the next run, in microseconds: a random while
 * up to 100 us times `run`, at most 5 ms. `seed` is the caller's (one per
 * thread). */
long demo_back_off_us(int run, unsigned int *seed);

/* Makes `r` the final answer after the last commit returned `rc` with the
 * session in `status` (the status before committing) and `set_cookie`
 * (borrowed by `r`). Also for a route or reload that failed with `rc`.
 * Sets *session_log. */
void demo_commit_done(int rc, int status, const csession_buf *set_cookie, reply *r,
                      const char **session_log);

/* A fresh reply for a route: 200, JSON, empty body (the old one freed). */
void demo_reply_reset(reply *r);

/* ---- app_page.c ------------------------------------------------------ */

/* The reply of GET or HEAD /app: the HTML page that calls the routes above
 * from a browser. It touches no session and sends no Set-Cookie. */
void app_page_reply(reply *r);

#endif /* SESSION_DEMO_H */
