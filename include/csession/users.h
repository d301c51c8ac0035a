/*
 * users.h: a user's sessions. A session bound to a user (at login) can be
 * listed with the user's other sessions ("where am I logged in"), ended by
 * its public id, or ended with all the others ("log out everywhere").
 *
 *   login:   csession_bind(s, user_id, user_id_len, user_agent, ua_len);
 *            ... csession_manager_commit() as usual (the store calls of
 *            a renewal, no more)
 *   list:    csession_manager_user_sessions(mgr, s, user, len, &list);
 *   end one: csession_manager_end_user_session(mgr, user, len, id, id_len);
 *   end all: csession_manager_end_user_sessions(mgr, user, len, NULL, &n);
 *   logout:  csession_purge(s); commit (the session leaves the user's index)
 *
 * The binding travels in the session's stored state; the store keeps an
 * index from the user to the keys of the user's sessions (sys/store.h,
 * version 3 members user_*), so that listing and ending cost time in
 * proportion to that user's sessions, never to all sessions. The memory
 * and Redis stores (single server, Sentinel, Cluster) keep that index; the
 * cookie store cannot (there is no server-side record of its sessions):
 * binding works there, listing and ending answer CSESSION_EUNSUPPORTED.
 *
 * Guarantee: once csession_manager_end_user_sessions() returns 0, no
 * session of that user that existed before the call can load again, on any
 * manager sharing the store, including one whose commit (an update, a
 * renewal, a key rotation) ran at the same time; sessions of other users
 * are untouched. A login that commits while the call runs is either ended
 * by it or starts after it. docs/user-sessions.md gives the limits per store.
 *
 * Blocking: the csession_manager_* calls here run the store's operations
 * on the calling thread (see each function for how many; on Redis, a
 * listing or an ending is two round trips, a logout one), with the timeouts
 * of csession_manager_load(); do not call them on an event loop's thread.
 * The other functions never block.
 *
 * Thread safety: the manager calls may run concurrently on one manager, as
 * the rest of the manager's; a csession belongs to one request (one thread
 * at a time); a snapshot (csession_user_sessions) is immutable and may be
 * read from several threads, and freed once none reads it.
 */
#ifndef CSESSION_USERS_H
#define CSESSION_USERS_H

#include <stdint.h>

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/manager.h"
#include "csession/session.h"

CSESSION_BEGIN_DECLS

/* Longest user id and label, in bytes. */
#define CSESSION_USER_ID_MAX 128
#define CSESSION_USER_LABEL_MAX 64

/*
 * Binds `s` to the user `user` (1 to CSESSION_USER_ID_MAX bytes of
 * printable ASCII, 0x21..0x7e, without '"', '\\', '{' or '}'; an opaque id
 * such as a database key, not necessarily text the user typed) with an
 * optional `label` (NULL/0 for none) the application chooses, such as a
 * device name or a summary of the User-Agent; it is kept as given up to
 * CSESSION_USER_LABEL_MAX bytes, with every byte outside printable ASCII
 * and every '"' or '\\' replaced by '?'. Renews the session
 * (csession_renew()): its next commit stores it under a new key, in the
 * user's index, and retires the old key. Binding again replaces the user
 * and label. A bound session stays bound through renewals and key
 * rotations until csession_unbind() or its end.
 * Returns 0, CSESSION_EINVAL (NULL session, an invalid user id), or
 * CSESSION_EPURGED (the session was purged in this request). Never blocks.
 */
CSESSION_EXTERN(int) csession_bind(csession *s, const char *user, size_t user_len,
                                   const char *label, size_t label_len);

/*
 * Removes the binding and renews the session: it goes on as an anonymous
 * one under a new key, out of the user's index. A session that is not
 * bound is left alone. Returns 0, CSESSION_EINVAL or CSESSION_EPURGED.
 * (A logout usually purges instead: the session ends, and leaves the index
 * in the same store call.)
 */
CSESSION_EXTERN(int) csession_unbind(csession *s);

/*
 * The user `s` is bound to: *user (NUL-terminated, borrowed from the
 * session until it changes or is freed) and *user_len (may be NULL).
 * Returns 0, CSESSION_ENOTFOUND when it is not bound, CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_user(const csession *s, const char **user, size_t *user_len);

/* The label of a bound session: as csession_user(); "" when it has none. */
CSESSION_EXTERN(int) csession_user_label(const csession *s, const char **label,
                                         size_t *label_len);

/* A snapshot of a user's live sessions. */
typedef struct csession_user_sessions csession_user_sessions;

/*
 * Lists the live sessions bound to `user` (oldest first) into a new
 * snapshot *out, owned by the caller (csession_user_sessions_free()).
 * `current` (may be NULL) is the session of the request asking: the entry
 * for it is marked current. Expired and ended sessions are not listed.
 * Returns 0 (an empty list for an unknown user), CSESSION_EINVAL,
 * CSESSION_EUNSUPPORTED (the store keeps no index: the cookie store, a
 * store without the user_* members), store codes, CSESSION_ENOMEM. On
 * failure *out is NULL. Blocks for one store call (two round trips on
 * Redis: the user's set, then one script over it and the sessions).
 */
CSESSION_EXTERN(int) csession_manager_user_sessions(csession_manager *mgr,
                                                    const csession *current,
                                                    const char *user, size_t user_len,
                                                    csession_user_sessions **out);

/* Entries in the snapshot; 0 for NULL. */
CSESSION_EXTERN(size_t) csession_user_sessions_count(const csession_user_sessions *list);

/*
 * Entry `i` (0 .. count - 1): its public id (csession_id(), never a key:
 * safe to show and to send back to end it), label ("" when none), created
 * and last-seen times (unix seconds; 0 when the state does not say) and
 * whether it is the `current` session of the listing. Strings are borrowed
 * from the snapshot. Any output may be NULL. Returns 0 or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_user_sessions_get(const csession_user_sessions *list, size_t i,
                                                const char **id, const char **label,
                                                int64_t *created, int64_t *last_seen,
                                                int *current);

/*
 * The snapshot as JSON text into `out` (replacing its contents):
 * [{"id":"...","label":"...","created":<s>,"last_seen":<s>,"current":true|false},...]
 * Returns 0, CSESSION_EINVAL or CSESSION_ENOMEM.
 */
CSESSION_EXTERN(int) csession_user_sessions_json(const csession_user_sessions *list,
                                                 csession_buf *out);

/* Releases a snapshot (it holds no key). NULL is a no-op. */
CSESSION_EXTERN(void) csession_user_sessions_free(csession_user_sessions *list);

/*
 * Ends the session of `user` whose public id is `id`/`id_len`: it can no
 * longer load, and leaves the index. A session of another user with that
 * id is not touched. Returns 0, CSESSION_ENOTFOUND (no live session of this
 * user has that id), CSESSION_EINVAL, CSESSION_EUNSUPPORTED (as above),
 * store codes. Blocks for two store calls (the listing, then the removal).
 */
CSESSION_EXTERN(int) csession_manager_end_user_session(csession_manager *mgr, const char *user,
                                                       size_t user_len, const char *id,
                                                       size_t id_len);

/*
 * Ends every session of `user` ("log out everywhere"), but `keep` when it
 * is not NULL (the request's own session: "log out my other devices").
 * *ended (may be NULL) receives how many live sessions were ended. See the
 * guarantee at the top. To end the request's own session too, pass NULL
 * and purge `s` before its commit, which then sends the removal cookie.
 * Returns 0, CSESSION_EINVAL, CSESSION_EUNSUPPORTED, store codes; after a
 * failure some sessions may be ended already: call it again. Blocks for
 * one store call (two round trips on Redis, whatever the number of sessions).
 */
CSESSION_EXTERN(int) csession_manager_end_user_sessions(csession_manager *mgr,
                                                        const char *user, size_t user_len,
                                                        const csession *keep, uint64_t *ended);

CSESSION_END_DECLS

#endif /* CSESSION_USERS_H */
