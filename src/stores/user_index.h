/*
 * Internal: an in-process index from a user id to the keys of the user's
 * sessions, kept beside a store that lives in the same process (the memory
 * store), which it calls through its own vtable. It gives that store the
 * user_* members of sys/store.h: one mutex serialises them, so that a
 * user_end never runs between the save of a user_save and the key's entry
 * in the index. Other operations of the store do not take it.
 *
 * Costs: every call walks the keys of one user (a hash table finds the
 * user), never the whole store. Keys of sessions that expired or were
 * deleted are dropped when a call meets them.
 */
#ifndef CSESSION_SRC_STORES_USER_INDEX_H
#define CSESSION_SRC_STORES_USER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "csession/sys/store.h"

typedef struct csession__user_index csession__user_index;

/* A new, empty index. 0 or CSESSION_ENOMEM. */
int csession__user_index_new(csession__user_index **out);

/* Frees the index (keys wiped). NULL is a no-op. */
void csession__user_index_free(csession__user_index *ix);

/* The user_* members of sys/store.h, for `store`, whose own load, save
 * (save_ex when it has one) and remove they call. */
int csession__user_index_save(csession__user_index *ix, csession_store *store,
                              const char *user, size_t user_len, const char *state,
                              size_t state_len, int64_t ttl_seconds, unsigned int save_flags,
                              csession_buf *key_out);
int csession__user_index_remove(csession__user_index *ix, csession_store *store,
                                const char *user, size_t user_len, const char *key,
                                size_t key_len);
int csession__user_index_list(csession__user_index *ix, csession_store *store,
                              const char *user, size_t user_len,
                              int (*each)(const char *key, size_t key_len, const char *state,
                                          size_t state_len, void *payload),
                              void *payload);
int csession__user_index_end(csession__user_index *ix, csession_store *store, const char *user,
                             size_t user_len, const char *keep_key, size_t keep_key_len,
                             uint64_t *ended);

#endif
