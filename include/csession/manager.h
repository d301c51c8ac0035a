/*
 * manager.h: the request flow. One manager per server, shared by all its
 * threads; two calls per request:
 *
 *   csession *s;
 *   rc = csession_manager_load(mgr, cookie_header, cookie_header_len, &s);
 *   ... the handler reads and writes s ...
 *   csession_buf set_cookie = CSESSION_BUF_INIT;
 *   rc = csession_manager_commit(mgr, s, &set_cookie);
 *   if (set_cookie.size) add "Set-Cookie: <set_cookie.ptr>" to the response;
 *   csession_buf_dispose(&set_cookie);
 *   csession_free(s);
 *
 * Load rules (actix-session's): a missing, invalid, tampered, foreign-key or
 * expired cookie gives a fresh empty session - not an error; a valid cookie
 * whose state the store no longer has gives a fresh session and the key is
 * forgotten; a state that cannot be decoded gives an empty session that
 * keeps its key; a store failure is an error (answer 500).
 *
 * Commit rules (the decision table of docs/request-flow.md):
 *   no session key yet, empty state      -> nothing stored, no header;
 *   no session key yet, state not empty  -> save, new cookie;
 *   CHANGED                              -> update, cookie;
 *   PURGED                               -> delete, removal cookie;
 *   RENEWED                              -> save under a new key, then retire
 *                                           the old one, new cookie;
 *   UNCHANGED                            -> with CSESSION_TTL_ON_EVERY_REQUEST the
 *       TTL is extended and a persistent cookie re-sent; a cookie opened
 *       with an old key of the ring is re-sent sealed with the current one.
 *
 * Parallel requests on one session (tabs, XHR, a stolen cookie). On a store
 * that keeps revisions (memory, Redis; sys/store.h) a commit writes back
 * only if nobody wrote the session since this request loaded it. If
 * somebody did, the commit reads the newer state and re-applies this
 * request's own changes (the keys it inserted or removed, or its clear) on
 * top, as long as the other request changed none of those keys: both
 * updates are kept. If both changed the same key, the commit returns
 * CSESSION_ECONFLICT and changes nothing; the handler reloads and runs
 * again, a few times at most:
 *
 *   for (int tries = 0;; tries++) {
 *       handle(s);                                    // reads and writes s
 *       rc = csession_manager_commit(mgr, s, &set_cookie);
 *       if (rc != CSESSION_ECONFLICT || tries == 4)
 *           break;                                    // 409 when still in conflict
 *       if ((rc = csession_manager_reload(mgr, s)))
 *           break;                                    // 500
 *   }
 *
 * A logout or a renewal by one request is final for all the others: their
 * commits store nothing and return CSESSION_EGONE with a removal cookie.
 * On a store without revisions (the cookie store, version 1 stores) the
 * last write wins, as in actix-session.
 *
 * Blocking: load, commit and reload run the store's operations on the
 * calling thread and return when they are done. The memory and cookie
 * stores do no I/O (the memory store holds a lock for one table operation).
 * On the Redis store, load and reload make one store operation (none when
 * the request carries no session cookie); a commit makes one, a renewal
 * two, and each merge after a conflict two more (at most 8 merges). Each
 * operation is a round trip normally and, when Redis stalls, takes up to
 * pool_wait_timeout_ms + 2 x (2 x connect_timeout_ms + command_timeout_ms),
 * 14 s with the defaults (csession/store_redis.h). Do not call them on an
 * event loop's thread: use the non-blocking calls below. csession_manager_new()
 * and csession_manager_free() do not wait for the network.
 *
 * Thread safety: a manager is immutable once created; every function here
 * may be called concurrently on the same manager. A csession belongs to one
 * request (one thread at a time).
 */
#ifndef CSESSION_MANAGER_H
#define CSESSION_MANAGER_H

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/config.h"
#include "csession/loop.h"
#include "csession/session.h"
#include "csession/sys/store.h"

CSESSION_BEGIN_DECLS

typedef struct csession_manager csession_manager;

/*
 * Creates a manager from `cfg` (copied: it may be freed afterwards) and
 * `store`. `store` may be NULL for an in-memory store with its defaults.
 * On success the manager owns `store` and frees it with itself; on failure
 * the caller still owns it.
 *
 * Every combination is checked here: returns 0, or
 *  CSESSION_EINVAL        no key in the configuration, SameSite=None or
 *                         Partitioned without Secure, a Path or Domain that
 *                         cannot go into a header, a store of an unknown
 *                         version or with a missing member;
 *  CSESSION_EUNSUPPORTED  AES-256-GCM on a CPU without AES-NI;
 *  CSESSION_ENOMEM.
 * The message says which setting is wrong. On failure *out is NULL.
 */
CSESSION_EXTERN(int) csession_manager_new(csession_manager **out, const csession_config *cfg,
                                          csession_store *store);

/* Releases the manager and its store. NULL is a no-op. No other call on the
 * manager may be running. */
CSESSION_EXTERN(void) csession_manager_free(csession_manager *mgr);

/*
 * Loads the session of a request from its Cookie header value
 * (`header`/`header_len`, without "Cookie: "; NULL/0 when the request has
 * none). Every cookie with the configured name is tried until one opens.
 * On success *out is a new session owned by the caller (csession_free()).
 * Returns 0, or:
 *  CSESSION_ETOOBIG  the header is longer than 8192 bytes (answer 431);
 *  CSESSION_ESTORE / CSESSION_ETIMEOUT / other store codes (answer 500);
 *  CSESSION_ENOMEM, CSESSION_EINVAL.
 * On failure *out is NULL.
 */
CSESSION_EXTERN(int) csession_manager_load(csession_manager *mgr, const char *header,
                                           size_t header_len, csession **out);

/*
 * Writes what the request did to the session back to the store and puts
 * the Set-Cookie header value that is due (without "Set-Cookie: ") into
 * `set_cookie`, replacing its contents; it is left empty when no header is
 * due. The session must come from this manager's load functions.
 * Returns 0, or:
 *  CSESSION_ECONFLICT another request changed the same keys since this one
 *                     loaded the session (or kept changing it through 8
 *                     merges): nothing was stored; reload and run again, or
 *                     answer 409;
 *  CSESSION_EGONE     another request ended the session (logout, renewal):
 *                     nothing was stored, and `set_cookie` holds the removal
 *                     cookie, to be sent (the only failure that fills it);
 *                     the session is now an empty one without a key;
 *  CSESSION_ETOOBIG  the cookie store's state does not fit a cookie;
 *  store codes (CSESSION_ESTORE, CSESSION_ETIMEOUT, ...);
 *  CSESSION_ENOMEM, CSESSION_EINVAL.
 * On any other failure the session is left exactly as it was (values and
 * status), so the caller may retry or answer 500; `set_cookie` is empty.
 * On success the session is marked as committed: committing it again
 * writes nothing new. After a merge, the session holds the merged state.
 */
CSESSION_EXTERN(int) csession_manager_commit(csession_manager *mgr, csession *s,
                                             csession_buf *set_cookie);

/*
 * Replaces the contents of `s` with the newest state the store has under
 * its key, for running a request again after CSESSION_ECONFLICT: values,
 * revision, status UNCHANGED, no pending changes; the key and cookie stay.
 * When the store no longer has the key (another request ended the
 * session), `s` becomes empty and its next commit stores nothing and
 * returns CSESSION_EGONE with the removal cookie. A session without a key
 * just becomes empty. Blocks like load (one store read).
 * Returns 0, or store codes, CSESSION_ENOMEM, CSESSION_EINVAL (then `s` is
 * unchanged).
 */
CSESSION_EXTERN(int) csession_manager_reload(csession_manager *mgr, csession *s);

/* What the client should do with the token after csession_manager_commit_token(). */
typedef enum csession_token_action {
    CSESSION_TOKEN_KEEP = 0,  /* nothing to send: the client keeps what it has */
    CSESSION_TOKEN_SET = 1,   /* send the new token */
    CSESSION_TOKEN_CLEAR = 2  /* tell the client to drop its token */
} csession_token_action;

/*
 * For servers that carry the session in another header (for example
 * "Authorization: Bearer <token>") instead of a cookie: the token is the
 * sealed value a cookie would hold, as printable ASCII without
 * percent-encoding. Same rules and codes as csession_manager_load().
 */
CSESSION_EXTERN(int) csession_manager_load_token(csession_manager *mgr, const char *token,
                                                 size_t token_len, csession **out);

/*
 * Like csession_manager_commit(), but writes the sealed token (when
 * *action is CSESSION_TOKEN_SET) into `token` instead of a Set-Cookie value.
 * *action receives a csession_token_action; with CSESSION_EGONE it is
 * CSESSION_TOKEN_CLEAR (the client drops its token). Same codes, same
 * merge and conflict rules.
 */
CSESSION_EXTERN(int) csession_manager_commit_token(csession_manager *mgr, csession *s,
                                                   csession_buf *token, int *action);

/* ---- non-blocking calls, for event loops (docs/event-loops.md) ---------- */

/*
 * The same request flow without waiting, for a thread that runs an event
 * loop (loop.h):
 *
 *   static void loaded(void *arg, int rc, const char *msg, csession *s) { ...;
 *       csession_manager_commit_async(mgr, loop, s, &r->set_cookie, committed, r, &r->op); }
 *   csession_manager_load_async(mgr, loop, cookie, cookie_len, loaded, r, &r->op);
 *
 * Same rules, codes, merges and conflicts as the blocking calls. Each call
 * returns at once: 0 when the operation started, and then `done` runs
 * exactly once, on the loop's thread, from the loop and never before the
 * call returned, whatever the store (a store that never waits completes on
 * the loop's next turn), unless the request is abandoned first. A negative
 * code (CSESSION_EINVAL for a bad argument, CSESSION_ENOMEM) means nothing
 * started and `done` will not run.
 * Stores with non-blocking members (sys/store.h version 3: the Redis store)
 * never block the loop; other stores run their blocking members on the
 * loop's thread (the memory and cookie stores never wait).
 * Thread safety: call them on the loop's thread only; one manager and one
 * store may serve several loops, each on its own thread.
 */

/* An operation in flight, for csession_request_abandon(). */
typedef struct csession_request csession_request;

/*
 * The outcome: `code` as the blocking call would return it, `message` its
 * text (borrowed for the callback; NULL when code is 0) and `session`: for
 * a load, the new session, owned by the callback from then on (NULL on
 * failure); for a commit or reload, the session that was passed in. The
 * request handle is no longer valid once the callback runs.
 */
typedef void (*csession_done_cb)(void *arg, int code, const char *message, csession *session);

/*
 * csession_manager_load() without waiting. `header` is copied. On success
 * *request (when `request` is not NULL) receives the handle, valid until
 * `done` starts or csession_request_abandon() returns.
 */
CSESSION_EXTERN(int) csession_manager_load_async(csession_manager *mgr, csession_loop *loop,
                                                 const char *header, size_t header_len,
                                                 csession_done_cb done, void *arg,
                                                 csession_request **request);

/* csession_manager_load_token() without waiting; as above. */
CSESSION_EXTERN(int) csession_manager_load_token_async(csession_manager *mgr,
                                                       csession_loop *loop, const char *token,
                                                       size_t token_len, csession_done_cb done,
                                                       void *arg, csession_request **request);

/*
 * csession_manager_commit() without waiting. `s` and `set_cookie` are
 * borrowed until `done` starts or the request is abandoned: do not touch
 * or free them meanwhile. `set_cookie` is filled as by the blocking call.
 */
CSESSION_EXTERN(int) csession_manager_commit_async(csession_manager *mgr, csession_loop *loop,
                                                   csession *s, csession_buf *set_cookie,
                                                   csession_done_cb done, void *arg,
                                                   csession_request **request);

/* csession_manager_commit_token() without waiting; `token` and `action`
 * are borrowed as `set_cookie` above. */
CSESSION_EXTERN(int) csession_manager_commit_token_async(csession_manager *mgr,
                                                         csession_loop *loop, csession *s,
                                                         csession_buf *token, int *action,
                                                         csession_done_cb done, void *arg,
                                                         csession_request **request);

/* csession_manager_reload() without waiting; `s` borrowed as above. */
CSESSION_EXTERN(int) csession_manager_reload_async(csession_manager *mgr, csession_loop *loop,
                                                   csession *s, csession_done_cb done,
                                                   void *arg, csession_request **request);

/*
 * Abandons a request in flight (the client went away), on the loop's
 * thread: `done` will not run, the borrowed session and buffers are free
 * to release once this returns, and everything the request held is freed
 * (a store operation already sent may still take effect on the server; a
 * commit abandoned half-way leaves the store as one of its steps left it,
 * never a resurrected session). NULL, or a handle whose callback already
 * started, must not be passed.
 */
CSESSION_EXTERN(void) csession_request_abandon(csession_request *request);

CSESSION_END_DECLS

#endif /* CSESSION_MANAGER_H */
