/* Between the parts of the conformance suite. */
#ifndef CSESSION_TEST_CONFORMANCE_INTERNAL_H
#define CSESSION_TEST_CONFORMANCE_INTERNAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "conformance.h"
#include "csession.h"

/* A fresh store of the target under test (owned by the caller). */
csession_store *conformance_new_store(void);

/* A manager on `st` (taken), browser-session cookies, default TTL policy. */
csession_manager *conformance_manager_on(csession_store *st, unsigned char key_seed);

/* Changes a scenario's configuration before its manager is made. */
typedef void (*conformance_tune)(csession_config *cfg, void *ctx);

/* conformance_manager_on(), after `tune` changed the configuration. */
csession_manager *conformance_manager_tuned(csession_store *st, unsigned char key_seed,
                                            conformance_tune tune, void *ctx);

/* Makes `seconds` pass for the store (its target's advance_time) and for
 * the request flow's clock. */
void conformance_advance(csession_store *store, int64_t seconds);

/*
 * The manager's calls as the scenarios make them: the blocking ones, or,
 * when the target has a loop, the non-blocking ones run until their `done`
 * (which must not have run before the call returned). Same arguments and
 * codes as csession_manager_load() and the others; after a failure the
 * thread's last error holds the message `done` was given.
 */
int conf_load(csession_manager *mgr, const char *header, size_t header_len, csession **out);
int conf_load_token(csession_manager *mgr, const char *token, size_t token_len,
                    csession **out);
int conf_commit(csession_manager *mgr, csession *s, csession_buf *set_cookie);
int conf_commit_token(csession_manager *mgr, csession *s, csession_buf *token, int *action);
int conf_reload(csession_manager *mgr, csession *s);

/* The target the suite runs on. */
const conformance_target *conformance_target_under_test(void);

/* The scenarios of session lifetimes (conformance_lifetimes.c); run only
 * on targets that can move time. */
extern const struct CMUnitTest conformance_lifetime_tests[];
extern const size_t conformance_lifetime_count;

/* The scenarios of parallel requests on one session (conformance_concurrency.c). */
extern const struct CMUnitTest conformance_concurrency_tests[];
extern const size_t conformance_concurrency_count;

/* The scenarios of a user's sessions (conformance_users.c). */
extern const struct CMUnitTest conformance_user_tests[];
extern const size_t conformance_user_count;

#endif
