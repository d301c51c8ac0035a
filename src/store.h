/*
 * Internal: checking a store vtable and calling through it.
 *
 * The request flow calls stores through these wrappers rather than through
 * the members directly: they check the arguments once, and they hold every
 * store, including ones written in other languages, to the contract of
 * include/csession/sys/store.h, so that a faulty backend gives a clean
 * error instead of, say, an empty session key sealed into a cookie.
 */
#ifndef CSESSION_SRC_STORE_H
#define CSESSION_SRC_STORE_H

#include "csession/sys/store.h"

/*
 * 0 when `store` can be used: a known version (1 .. CSESSION_STORE_VERSION)
 * and every member but `payload` set. Otherwise CSESSION_EINVAL with a
 * message naming what is wrong. Call it where a store is handed over.
 */
int csession__store_check(const csession_store *store);

/*
 * Each wrapper returns what the member returns, except that:
 *  - arguments are checked first (CSESSION_EINVAL): non-NULL store, key of
 *    at least one byte, state pointer non-NULL unless its length is 0,
 *    ttl_seconds >= 1, non-NULL result buffers;
 *  - a failure is always negative and always comes with a message (a store
 *    that returned a positive value gives CSESSION_ESTORE);
 *  - load: on CSESSION_ENOTFOUND or failure `state` is left empty;
 *  - save, update: a success with an empty key is turned into
 *    CSESSION_ESTORE; on failure `key_out` is left empty; an update that
 *    answers CSESSION_ENOTFOUND (a store that leaves the fallback to its
 *    caller) is followed by save, as the contract requires;
 *  - update_ttl, remove: CSESSION_ENOTFOUND counts as success (0).
 */
int csession__store_load(csession_store *store, const char *key, size_t key_len,
                         csession_buf *state);
int csession__store_save(csession_store *store, const char *state, size_t state_len,
                         int64_t ttl_seconds, csession_buf *key_out);
int csession__store_update(csession_store *store, const char *key, size_t key_len,
                           const char *state, size_t state_len, int64_t ttl_seconds,
                           csession_buf *key_out);
int csession__store_update_ttl(csession_store *store, const char *key, size_t key_len,
                               int64_t ttl_seconds);
int csession__store_remove(csession_store *store, const char *key, size_t key_len);

/*
 * What a store can do, read once by its version (a version 1 store has no
 * members past `payload`, so none of them may be read).
 */
typedef struct csession__store_caps {
    unsigned int flags;   /* CSESSION_STORE_* */
    int load_rev;         /* load_rev is there: revision and touch in one call */
    int update_if;        /* conditional update: revisions are kept */
    int remove_if;        /* conditional delete */
    int save_ex;          /* save with CSESSION_SAVE_* flags */
    int start;            /* version 3: start and cancel, non-blocking calls */
} csession__store_caps;

void csession__store_caps_of(const csession_store *store, csession__store_caps *caps);

/*
 * load_rev, or load with revision 0 when the store has none (the touch is
 * then not done: *touched tells whether it was). Same rules as
 * csession__store_load(); `touch_ttl_seconds` 0 asks for no touch.
 */
int csession__store_load_rev(csession_store *store, const csession__store_caps *caps,
                             const char *key, size_t key_len, int64_t touch_ttl_seconds,
                             csession_buf *state, uint64_t *revision, int *touched);

/* save_ex with `save_flags` when the store has it, else save: same rules
 * as csession__store_save(). */
int csession__store_save_flags(csession_store *store, const csession__store_caps *caps,
                               const char *state, size_t state_len, int64_t ttl_seconds,
                               unsigned int save_flags, csession_buf *key_out);

/*
 * update_if and remove_if (the caller checked that the store has them):
 * 0, CSESSION_ECONFLICT, CSESSION_ENOTFOUND, or a failure with a message.
 */
int csession__store_update_if(csession_store *store, const char *key, size_t key_len,
                              uint64_t expected_revision, const char *state, size_t state_len,
                              int64_t ttl_seconds);
int csession__store_remove_if(csession_store *store, const char *key, size_t key_len,
                              uint64_t expected_revision);

/* ---- version 3: calls as csession_store_call ------------------------- */

/*
 * Runs `call` through the blocking members, by the wrappers above (so with
 * their checks and fallbacks): LOAD_REV by csession__store_load_rev(),
 * SAVE by csession__store_save_flags(), and so on. Returns their code; a
 * LOAD_REV fills call->revision_out and *touched. `loop`, `complete` and
 * the library's data are not used.
 */
int csession__store_run(csession_store *store, const csession__store_caps *caps,
                        csession_store_call *call, int *touched);

/*
 * Starts `call` through the store's `start` (the caller filled its inputs,
 * outputs, loop, complete and library_data). The arguments are checked
 * first as the blocking wrappers check them (CSESSION_EINVAL, complete not
 * called) and the output buffers emptied. Returns 0 when started (complete
 * then runs once, maybe before this returns), CSESSION_EUNSUPPORTED when
 * the store has no `start` or does not do this kind without blocking (run
 * it with csession__store_run()), or a failure to start: negative, with a
 * message (a positive answer gives CSESSION_ESTORE).
 */
int csession__store_start(csession_store *store, const csession__store_caps *caps,
                          csession_store_call *call);

/* An answer of csession__store_finish(): the call was turned into another
 * one (an update of a vanished key into a save, as csession__store_update()
 * does); start it again. */
#define CSESSION__STORE_AGAIN 1

/*
 * Holds a completion (`code`, `message` as given to complete) to the
 * contract, as the blocking wrappers hold a member's return: the same
 * codes come out, a failure is negative and becomes the thread's last
 * error (with `message`, or one naming the operation), outputs are emptied
 * on failure, an empty key becomes CSESSION_ESTORE. *touched tells whether
 * a LOAD_REV extended the TTL. CSESSION__STORE_AGAIN: see above.
 */
int csession__store_finish(csession_store_call *call, int code, const char *message,
                           int *touched);

/* Cancels a started call whose complete has not run. */
void csession__store_cancel(csession_store *store, csession_store_call *call);

#endif
