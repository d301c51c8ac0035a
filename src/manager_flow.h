/*
 * Internal: the request flow as a resumable step machine, between the
 * manager's two drivers.
 *
 * A flow is one call of the manager (load, load_token, commit,
 * commit_token, reload) from its arguments to its outcome. Every store
 * operation it needs is a yield point: csession__flow_step() returns
 * CSESSION__FLOW_YIELD with the operation described in
 * csession__flow_call(), and the driver carries it out and records the
 * answer with csession__flow_answer() before stepping again. The blocking
 * driver (manager.c) runs each operation inline through the store
 * wrappers; the non-blocking one (manager_async.c) starts it on an event
 * loop and steps again from the completion. The rules live once, in the
 * step functions.
 */
#ifndef CSESSION_SRC_MANAGER_FLOW_H
#define CSESSION_SRC_MANAGER_FLOW_H

#include "csession/manager.h"
#include "store.h"

/* csession__flow_step(): a store operation is due. */
#define CSESSION__FLOW_YIELD 1

typedef struct csession__flow csession__flow;

/* A flow on the heap (for the non-blocking driver), or NULL when out of
 * memory. Start it with one of the begin functions. */
csession__flow *csession__flow_new(void);

/* Releases everything the flow holds, also half-way through (an abandoned
 * request: a load's new session too); then the flow itself. NULL: no-op. */
void csession__flow_free(csession__flow *f);

/*
 * Prepares a flow for one call; the arguments were checked by the caller
 * (csession__flow_check_*). `header` (the Cookie header, or the token) is
 * read only by the first step; outputs and `s` are borrowed until the
 * flow ends.
 */
void csession__flow_begin_load(csession__flow *f, csession_manager *mgr, const char *header,
                               size_t header_len, int token, csession **out);
void csession__flow_begin_commit(csession__flow *f, csession_manager *mgr, csession *s,
                                 csession_buf *set_cookie, csession_buf *token, int *action);
void csession__flow_begin_reload(csession__flow *f, csession_manager *mgr, csession *s);

/* Argument checks of the calls, shared by both drivers: 0 or CSESSION_EINVAL. */
int csession__flow_check_load(const csession_manager *mgr, const char *header,
                              size_t header_len, csession **out);
int csession__flow_check_commit(const csession_manager *mgr, const csession *s,
                                const void *out, const int *action, int token);
int csession__flow_check_reload(const csession_manager *mgr, const csession *s);

/*
 * Runs the flow up to its next store operation (CSESSION__FLOW_YIELD) or to
 * its end: then the call's code, its outputs written (a load's session in
 * *out), and the thread's last error describing a failure.
 */
int csession__flow_step(csession__flow *f);

/* The store operation due after CSESSION__FLOW_YIELD; the driver may fill
 * its loop, complete and library_data members. */
csession_store_call *csession__flow_call(csession__flow *f);

/* Records the outcome of that operation (as the store wrappers give it;
 * `touched`: a LOAD_REV extended the TTL). */
void csession__flow_answer(csession__flow *f, int code, int touched);

/* The manager's store and, when `caps` is not NULL, what it can do. */
csession_store *csession__manager_store(const csession_manager *mgr,
                                        const csession__store_caps **caps);

#endif
