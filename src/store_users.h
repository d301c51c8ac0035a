/*
 * Internal: the store members of a user's sessions (sys/store.h, version 3
 * user_*), checked and called like the others (store.h), and the two calls
 * of the commit path that go through them for a bound session.
 */
#ifndef CSESSION_SRC_STORE_USERS_H
#define CSESSION_SRC_STORE_USERS_H

#include "state_format.h"
#include "store.h"

/* 1 when the store has all four user_* members (version 3), else 0. */
int csession__store_has_users(const csession_store *store);

/* user_save and user_remove, checked like the other members (store.h);
 * CSESSION_EUNSUPPORTED when the store has no user_* members. A remove of a
 * key that is gone is 0. */
int csession__store_user_save(csession_store *store, const char *user, size_t user_len,
                              const char *state, size_t state_len, int64_t ttl_seconds,
                              unsigned int save_flags, csession_buf *key_out);
int csession__store_user_remove(csession_store *store, const char *user, size_t user_len,
                                const char *key, size_t key_len);

/* The call kind of a SAVE or REMOVE for a session whose envelope says
 * `meta`: CSESSION_CALL_USER_SAVE / USER_REMOVE when it is bound to a user
 * and the store keeps an index of users' sessions, else `kind`. */
int csession__store_call_kind_for(const csession_store *store, const csession__state_meta *meta,
                                  int kind);

/* The walk of user_list (see sys/store.h). */
typedef int (*csession__user_each_fn)(const char *key, size_t key_len, const char *state,
                                      size_t state_len, void *payload);

/*
 * user_list and user_end, with the user id checked (CSESSION_EINVAL) and
 * CSESSION_EUNSUPPORTED when the store has no user_* members. A failure
 * always comes with a message; a non-zero return of `each` is passed on.
 */
int csession__store_user_list(csession_store *store, const char *user, size_t user_len,
                              csession__user_each_fn each, void *payload);
int csession__store_user_end(csession_store *store, const char *user, size_t user_len,
                             const char *keep_key, size_t keep_key_len, uint64_t *ended);

#endif
