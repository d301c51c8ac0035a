/*
 * A browser in miniature for request-flow tests: it keeps the session
 * cookie it was given and sends it back, as a browser's cookie jar would.
 */
#ifndef CSESSION_TEST_CLIENT_H
#define CSESSION_TEST_CLIENT_H

#include <stddef.h>

#include "csession.h"

typedef struct test_client {
    char cookie[8192];      /* "name=value" sent in the Cookie header, or "" */
    char last_set[8192];    /* the last Set-Cookie received, or "" */
    int got_set_cookie;     /* the last request received a Set-Cookie */
} test_client;

/* Handlers run between load and commit, like a web application's. */
typedef void (*test_handler)(csession *s, void *ctx);

/*
 * One request: loads the session from the client's cookie (plus `extra`
 * cookies in front of it when not NULL), runs `handler`, commits, and
 * applies any Set-Cookie to the client (a Max-Age=0 one deletes the cookie).
 * Returns the first non-zero code of load/commit (the client is unchanged
 * then) or 0.
 */
int client_request(csession_manager *mgr, test_client *c, const char *extra, test_handler handler,
                   void *ctx);

/*
 * The two halves of client_request(), for interleaving requests: load the
 * session from the client's cookie (a new session owned by the caller),
 * and commit it, applying any Set-Cookie to the client (also the removal
 * cookie that comes with CSESSION_EGONE). Both return the manager's code.
 */
int client_load(csession_manager *mgr, const test_client *c, csession **s);
int client_commit(csession_manager *mgr, test_client *c, csession *s);

/* The manager calls the client makes (for running the same requests
 * through the non-blocking calls); NULL, the default: the blocking ones. */
typedef struct client_calls {
    int (*load)(csession_manager *mgr, const char *header, size_t len, csession **s);
    int (*commit)(csession_manager *mgr, csession *s, csession_buf *set_cookie);
} client_calls;
void client_use_calls(const client_calls *calls);

/* The value of attribute `attr` ("Max-Age", "Path", ...) in the last
 * Set-Cookie, copied into `out`; "" when absent, "<flag>" for flags. */
const char *client_attr(const test_client *c, const char *attr, char *out, size_t out_size);

#endif
