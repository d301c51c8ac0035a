/*
 * sys/store.h: the session store interface, for authors of storage backends.
 *
 * Applications only construct a store (csession_store_memory_new(), ...) and
 * hand it to the manager; they never call these members. This header is for
 * code that implements a store: in C by embedding `csession_store` as the
 * first member of its own struct, or from another language through the FFI
 * by filling a `csession_store` and keeping its data behind `payload`.
 * docs/writing-a-store.md walks through both; examples/example_store.c is a
 * complete small store.
 *
 * The semantics are those of actix-session's SessionStore: the store maps an
 * opaque session key to the bytes of one session's state, with a time to
 * live, and chooses the keys itself.
 */
#ifndef CSESSION_SYS_STORE_H
#define CSESSION_SYS_STORE_H

#include <stdint.h>

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/loop.h"

CSESSION_BEGIN_DECLS

/* The layout described here; set `version` to it (or to 1 for a store that
 * fills only the version 1 members). */
#define CSESSION_STORE_VERSION 3

/* Capability flags of the `flags` member (version 2). */
/* The key that save/update return is the state itself, sealed into the
 * cookie (the cookie store): the library re-seals it when the TTL policy
 * extends a session, instead of calling update_ttl, and never remembers
 * the sealed value to send it again. */
#define CSESSION_STORE_STATE_IN_COOKIE 0x1u

/* Flags of save_ex (version 2). */
/* The state comes from a renewal (csession_renew(), typically a login): a
 * store that limits sessions keeps room for these however many sessions
 * that never renewed (anonymous visitors, a flood of them) it holds. */
#define CSESSION_SAVE_RENEWED 0x1u

/* Length of the keys made by csession_session_key_generate(). */
#define CSESSION_SESSION_KEY_LEN 64

typedef struct csession_store csession_store;
struct csession_store_call;

/*
 * The store vtable.
 *
 * Ownership. Whoever creates a store owns it until it is handed to a
 * function documented to take it (csession_manager_new()); the owner
 * releases it with csession_store_free(), which calls `free`.
 *
 * Arguments. Every operation receives the store itself first, so an
 * implementation reaches its own data (a C struct that embeds this one
 * first, or `payload`). Keys and states are bytes with explicit lengths;
 * they are borrowed for the duration of the call, need not be
 * NUL-terminated, and are never NULL (a zero-length state may come with any
 * pointer). Keys are at least one byte. A TTL is a number of seconds from
 * now, at least 1 (the library never passes less; a store may refuse less
 * with CSESSION_EINVAL); a store may cap very long ones. Results go into a caller's csession_buf; fill it with
 * csession_buf_set() (replacing what is there) and do not keep the pointer.
 *
 * Return codes. 0 on success; CSESSION_ENOTFOUND where stated below (an
 * expected outcome, not a failure: no error message is needed); any other
 * outcome is a failure: return
 * a negative CSESSION_E* code (CSESSION_ESTORE for I/O or server errors,
 * CSESSION_ETIMEOUT, CSESSION_ENOMEM, CSESSION_ETOOBIG for a state over the
 * store's limit, ...) after describing it with csession_set_error(). A
 * failing operation leaves the stored data as it was, as far as the backend
 * can promise it, and may leave result buffers in any state: the caller
 * disregards them.
 *
 * Thread safety. The library calls every operation from whichever thread
 * serves the request, concurrently, on the same store: operations must be
 * safe to run in parallel with each other. `free` is called once, when no
 * other operation is running.
 *
 * Keys. A key is a secret bearer token: whoever presents it owns the
 * session. Stores that mint keys use csession_session_key_generate() (64
 * characters [A-Za-z0-9] from libsodium's CSPRNG) and check incoming ones
 * with csession_session_key_valid() before any I/O. Keys a store did not
 * mint simply do not exist: load answers CSESSION_ENOTFOUND for them.
 *
 * Versioning. New members are only ever appended, with a new version
 * number; the library refuses a store whose `version` it does not know, or
 * whose required members are NULL, with CSESSION_EINVAL when it is given
 * one. It reads no member beyond those of the store's own `version`: a
 * version 1 store is a struct that ends after `payload`.
 *
 * Revisions (version 2). A store that fills `update_if` keeps, with each
 * state, a revision: a counter that a save starts at 1 and every successful
 * write advances by one (update_if writes expected + 1; the version 1
 * `update` writes the stored revision + 1). States written before the store
 * kept revisions (by earlier versions, or by actix-session) have revision 0.
 * The library loads a state with its revision and writes it back only if
 * the revision is still the one it loaded: that is how parallel requests on
 * one session neither lose each other's updates nor bring back a session
 * that a logout ended (docs/request-flow.md). A version 1 store, or one
 * without `update_if`, is last-write-wins.
 */
struct csession_store {
    /* CSESSION_STORE_VERSION. */
    unsigned int version;

    /*
     * Reads the state saved under `key` into `state`.
     * Returns 0, or CSESSION_ENOTFOUND when no live state has this key
     * (unknown, expired, deleted, or a key this store could not have made).
     */
    int (*load)(csession_store *store, const char *key, size_t key_len, csession_buf *state);

    /*
     * Stores a copy of `state` under a new key that lives `ttl_seconds`, and
     * writes the key into `key_out`. The key must be new: on the rare
     * collision with a live key, draw another one, never overwrite.
     */
    int (*save)(csession_store *store, const char *state, size_t state_len,
                int64_t ttl_seconds, csession_buf *key_out);

    /*
     * Replaces the state under `key` with a copy of `state`, resets its TTL
     * to `ttl_seconds`, and writes the key into `key_out`. If `key` no longer
     * exists (it expired or was deleted since it was loaded), behaves as
     * save: the state goes under a new key, written into `key_out`. Callers
     * therefore always use the key returned.
     */
    int (*update)(csession_store *store, const char *key, size_t key_len, const char *state,
                  size_t state_len, int64_t ttl_seconds, csession_buf *key_out);

    /*
     * Sets the TTL of `key` to `ttl_seconds` from now, keeping its state.
     * Returns 0 also when the key does not exist (there is nothing to keep
     * alive, and the next load will say so).
     */
    int (*update_ttl)(csession_store *store, const char *key, size_t key_len,
                      int64_t ttl_seconds);

    /*
     * Deletes the state under `key` (logout, renewal). Returns 0 also when
     * the key does not exist: the outcome the caller wants already holds.
     */
    int (*remove)(csession_store *store, const char *key, size_t key_len);

    /*
     * Releases the store and everything it holds; required. Stored states
     * are secrets: wipe them. Called once, by csession_store_free().
     */
    void (*free)(csession_store *store);

    /*
     * Free for the implementation's use (typically the object of a store
     * written in another language). The library never reads or writes it.
     */
    void *payload;

    /* ---- version 2: every member below is optional (0 / NULL) ---------- */

    /* CSESSION_STORE_* capability flags. */
    unsigned int flags;

    /*
     * Reads the state under `key` into `state` and its revision into
     * *revision (0 for a state stored without one). When `touch_ttl_seconds`
     * is above 0, also resets the key's TTL to it in the same operation
     * (one round trip for a read-only request under
     * CSESSION_TTL_ON_EVERY_REQUEST); 0 leaves the TTL alone.
     * Returns 0, or CSESSION_ENOTFOUND as load does.
     * NULL: the library calls load, takes revision 0, and extends the TTL
     * with update_ttl at commit.
     */
    int (*load_rev)(csession_store *store, const char *key, size_t key_len,
                    int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision);

    /*
     * Conditional update: replaces the state under `key` with a copy of
     * `state`, gives it revision `expected_revision` + 1 and resets its TTL
     * to `ttl_seconds`, in one atomic step, but only if the stored revision
     * is `expected_revision`. The key never changes.
     * Returns 0 when written; CSESSION_ECONFLICT (no message needed) when
     * the stored revision is another one, leaving it untouched;
     * CSESSION_ENOTFOUND when the key no longer exists (deleted by a logout
     * or a renewal, or expired): never recreate it. Any other outcome is a
     * failure, as for the other members.
     * NULL: the store is last-write-wins (the library calls update).
     */
    int (*update_if)(csession_store *store, const char *key, size_t key_len,
                     uint64_t expected_revision, const char *state, size_t state_len,
                     int64_t ttl_seconds);

    /*
     * Conditional delete: deletes `key` only if its stored revision is
     * `expected_revision`, in one atomic step. Returns 0 when deleted,
     * CSESSION_ECONFLICT when the revision is another one (nothing
     * deleted), CSESSION_ENOTFOUND when the key does not exist.
     * The library uses it to retire the old key of a renewal only once no
     * other request has written to it meanwhile. NULL: the library calls
     * remove (a change written by a parallel request just before a renewal
     * may then be left behind under the old key).
     */
    int (*remove_if)(csession_store *store, const char *key, size_t key_len,
                     uint64_t expected_revision);

    /*
     * save, with CSESSION_SAVE_* flags saying where the state comes from.
     * Same contract and codes as save. NULL: the library calls save.
     */
    int (*save_ex)(csession_store *store, const char *state, size_t state_len,
                   int64_t ttl_seconds, unsigned int save_flags, csession_buf *key_out);

    /* ---- version 3: every member below is optional (NULL) -------------- */

    /*
     * Starts `call` (a csession_store_call, below) without waiting: the
     * store watches its sockets and arms its timers on call->loop and
     * finishes the operation from the loop's callbacks. Runs on the loop's
     * thread (loop.h).
     * Returns 0 when the operation started: call->complete then runs
     * exactly once, on the loop's thread, possibly before start returns
     * (the library copes with both), unless the call is cancelled first.
     * Returns CSESSION_EUNSUPPORTED, without calling complete, for a kind
     * it does not do non-blocking: the library then runs the blocking
     * member of the same operation on the loop's thread. Any other negative
     * code is a failure to start (with csession_set_error()); complete is
     * not called.
     * NULL: the library runs the blocking members inline on the loop's
     * thread, as for version 1 and 2 stores; fine for stores that never
     * wait (memory, cookie), not for one that waits on a network.
     */
    int (*start)(csession_store *store, struct csession_store_call *call);

    /*
     * Abandons a started call whose complete has not run yet: complete
     * will not run, and the store no longer touches the call or its
     * buffers once cancel returns (an operation already sent to a server
     * may still take effect there). Runs on the loop's thread. Required
     * when `start` is set.
     */
    void (*cancel)(csession_store *store, struct csession_store_call *call);

    /*
     * ---- version 3, a user's sessions (csession/users.h): optional, all
     * four or none ----------------------------------------------------------
     *
     * A store that fills them keeps, beside the states, an index from a
     * user id (1 to 128 bytes of printable ASCII, no '"', '\\', '{' or '}';
     * borrowed, not NUL-terminated) to the keys of that user's sessions.
     * Every member costs time in proportion to that user's sessions, never
     * to all the sessions of the store. Keys of sessions that expired or
     * were deleted by the other members may linger in the index: each
     * member drops those it meets. The library only ever asks about a key
     * that user_save put under the same user.
     *
     * The guarantee the library builds on: user_end and user_save of the
     * same user are atomic with respect to each other. A session that
     * user_save stored before user_end began is deleted by it; one stored
     * after is not touched. Where the store cannot hold the two apart
     * (separate servers), it must not fill these members.
     */

    /*
     * save_ex, and the new key added to the index of `user` in the same
     * atomic step. Same contract, codes and flags as save_ex.
     */
    int (*user_save)(csession_store *store, const char *user, size_t user_len,
                     const char *state, size_t state_len, int64_t ttl_seconds,
                     unsigned int save_flags, csession_buf *key_out);

    /*
     * remove, and `key` taken out of the index of `user` (a logout).
     * Returns 0 also when the key does not exist.
     */
    int (*user_remove)(csession_store *store, const char *user, size_t user_len,
                       const char *key, size_t key_len);

    /*
     * Calls `each` once for every live session in the index of `user`,
     * with its key and its state as load would give it (both borrowed for
     * the call), in no particular order. A non-zero return from `each`
     * stops the walk and is returned. Returns 0 (also for a user without
     * sessions), or a failure.
     */
    int (*user_list)(csession_store *store, const char *user, size_t user_len,
                     int (*each)(const char *key, size_t key_len, const char *state,
                                 size_t state_len, void *each_payload),
                     void *each_payload);

    /*
     * Deletes every session in the index of `user` except `keep_key` (NULL
     * and 0: none kept), and the index entries with them, atomically with
     * respect to user_save of the same user; writes how many live sessions
     * it deleted into *ended. Returns 0, or a failure (some sessions may
     * then be deleted already; calling it again finishes the job).
     */
    int (*user_end)(csession_store *store, const char *user, size_t user_len,
                    const char *keep_key, size_t keep_key_len, uint64_t *ended);
};

/* Kinds of a non-blocking call: one per blocking member, same contract. */
typedef enum csession_store_call_kind {
    CSESSION_CALL_LOAD_REV = 1,   /* key, touch_ttl_seconds -> state_out, revision_out */
    CSESSION_CALL_SAVE = 2,       /* state, ttl_seconds, save_flags -> key_out */
    CSESSION_CALL_UPDATE = 3,     /* key, state, ttl_seconds -> key_out (last write wins) */
    CSESSION_CALL_UPDATE_TTL = 4, /* key, ttl_seconds */
    CSESSION_CALL_REMOVE = 5,     /* key */
    CSESSION_CALL_UPDATE_IF = 6,  /* key, expected_revision, state, ttl_seconds */
    CSESSION_CALL_REMOVE_IF = 7,  /* key, expected_revision */
    CSESSION_CALL_USER_SAVE = 8,  /* user, state, ttl_seconds, save_flags -> key_out (user_save) */
    CSESSION_CALL_USER_REMOVE = 9 /* user, key (user_remove) */
} csession_store_call_kind;

/*
 * One non-blocking store operation. The library fills it, owns it and keeps
 * it (and every buffer it points to) alive until complete runs or cancel
 * returns; the store reads the inputs and fills the outputs of its kind.
 * Codes are those of the blocking member of the same kind.
 */
typedef struct csession_store_call {
    unsigned int version; /* 1 */
    int kind;             /* a csession_store_call_kind */
    csession_loop *loop;  /* the loop of the calling thread */

    /* Inputs (borrowed until completion). */
    const char *key;
    size_t key_len;
    const char *state;
    size_t state_len;
    int64_t ttl_seconds;
    int64_t touch_ttl_seconds;
    uint64_t expected_revision;
    unsigned int save_flags;

    /* Outputs (the library's buffers, filled with csession_buf_set()). */
    csession_buf *state_out;
    csession_buf *key_out;
    uint64_t revision_out;

    /*
     * Set by the library: the store calls it once with the outcome, `code`
     * as the blocking member would return it and, for a failure, `message`
     * (NUL-terminated, borrowed for the call; NULL gives
     * csession_strerror(code)). The thread's last error is not used: a
     * completion runs long after the call that started it.
     * complete may release the call and its buffers before it returns: the
     * store does not touch them once it has called it.
     */
    void (*complete)(struct csession_store_call *call, int code, const char *message);

    /* The library's (complete's) data; the store never touches it. */
    void *library_data;
    /* The store's, for its own bookkeeping until completion. */
    void *store_data;

    /* Input of the USER_* kinds: the user id the session is bound to. */
    const char *user;
    size_t user_len;
} csession_store_call;

/* CSESSION_STORE_VERSION, for bindings that cannot read macros. */
CSESSION_EXTERN(unsigned int) csession_store_version(void);

/*
 * Releases a store by calling its `free` member. NULL is a no-op. Do not
 * call it on a store that was handed to (and so is owned by) a manager.
 */
CSESSION_EXTERN(void) csession_store_free(csession_store *store);

/*
 * Records `code` and `message` as the calling thread's last error (see
 * csession_last_error()) and returns `code`, so that an implementation can
 * end with `return csession_set_error(CSESSION_ESTORE, "connection reset");`.
 * `code` is a negative CSESSION_E* code; a `message` of NULL uses
 * csession_strerror(code); longer messages than 511 bytes are cut. A code of
 * 0 clears the last error instead. Thread-safe (the message is per thread).
 */
CSESSION_EXTERN(int) csession_set_error(int code, const char *message);

/* CSESSION_SESSION_KEY_LEN (64), for bindings that cannot read macros. */
CSESSION_EXTERN(size_t) csession_session_key_length(void);

/*
 * Writes a fresh session key into `out`: CSESSION_SESSION_KEY_LEN characters
 * drawn uniformly from [A-Za-z0-9] with libsodium's CSPRNG (about 381 bits),
 * followed by a NUL. `out_size` is the size of `out` and must be at least
 * CSESSION_SESSION_KEY_LEN + 1.
 * Returns 0, CSESSION_EINVAL (NULL or too small a buffer), or CSESSION_ERROR
 * when libsodium cannot be initialised. Thread-safe.
 */
CSESSION_EXTERN(int) csession_session_key_generate(char *out, size_t out_size);

/*
 * Returns 1 when `key` is exactly CSESSION_SESSION_KEY_LEN bytes, all in
 * [A-Za-z0-9] (the shape csession_session_key_generate() makes), else 0.
 * Stores that mint keys use it to turn away garbage before any I/O. `key`
 * may be NULL (gives 0). Thread-safe.
 */
CSESSION_EXTERN(int) csession_session_key_valid(const char *key, size_t len);

CSESSION_END_DECLS

#endif /* CSESSION_SYS_STORE_H */
