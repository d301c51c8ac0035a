/*
 * The store conformance suite: the same request-flow scenarios, through a
 * real manager, against every store. A store's test program describes how
 * to make a fresh store and how to move its clock, then calls
 * conformance_run().
 */
#ifndef CSESSION_TEST_CONFORMANCE_H
#define CSESSION_TEST_CONFORMANCE_H

#include <stdint.h>

#include "csession.h"

/* An event loop to run the scenarios on, through the manager's
 * non-blocking calls (NULL in a target: the blocking calls). */
#include "conformance_loop.h"

typedef struct conformance_target {
    /* Shown in test names: "memory", "cookie", "redis", ... */
    const char *name;
    /* Makes a fresh, empty store for one scenario (owned by the caller,
     * handed to a manager). Returns 0 or an error code. */
    int (*new_store)(csession_store **out, void *ctx);
    /* Makes everything stored under `store` `seconds` older, so that TTLs
     * run out without sleeping (for example by moving an injected clock).
     * NULL: the expiry scenarios are skipped. */
    void (*advance_time)(csession_store *store, int64_t seconds, void *ctx);
    void *ctx;
    /* 1 for stores that keep state server-side and so can invalidate a key
     * (memory, Redis): a renewed or purged session's old cookie no longer
     * loads the state. 0 for the cookie store, where it still does. */
    int can_invalidate;
    /* NULL: the blocking calls; else every scenario goes through the
     * non-blocking ones on this loop. */
    const conformance_loop *loop;
} conformance_target;

/* Runs every scenario for signed and for private cookies. Returns the
 * number of failed tests (cmocka's group result), so main() can return it. */
int conformance_run(const conformance_target *target);

#endif
