/*
 * session.h: the session object, a map from UTF-8 keys to JSON values with
 * a status that tells the request flow what to do with it.
 *
 * Thread safety: a csession belongs to one request; it may move between
 * threads but must not be used by two threads at once.
 *
 * Limits (documented, enforced with CSESSION_ETOOBIG / CSESSION_EINVAL):
 *  - keys: valid UTF-8, no NUL, at most csession_max_key_bytes() bytes;
 *  - values: JSON nested at most csession_max_depth() levels of arrays and
 *    objects; strings valid UTF-8 without NUL characters;
 *  - integers: exactly representable in JSON (|n| <= 2^53 - 1);
 *    csession_insert_int64() refuses larger magnitudes with CSESSION_ERANGE
 *    rather than store a value that would read back different.
 */
#ifndef CSESSION_SESSION_H
#define CSESSION_SESSION_H

#include "csession/buf.h"
#include "csession/common.h"

CSESSION_BEGIN_DECLS

/* What the request flow has to do with a session; see csession_status(). */
typedef enum csession_status_code {
    CSESSION_STATUS_UNCHANGED = 0, /* nothing to write back */
    CSESSION_STATUS_CHANGED = 1,   /* state modified: save or update it */
    CSESSION_STATUS_RENEWED = 2,   /* keep the state under a new session key */
    CSESSION_STATUS_PURGED = 3     /* delete the state and remove the cookie */
} csession_status_code;

/* Type of a stored value, as returned by csession_type(). */
typedef enum csession_value_type {
    CSESSION_TYPE_NULL = 0,
    CSESSION_TYPE_BOOL = 1,
    CSESSION_TYPE_NUMBER = 2,
    CSESSION_TYPE_STRING = 3,
    CSESSION_TYPE_ARRAY = 4,
    CSESSION_TYPE_OBJECT = 5
} csession_value_type;

typedef struct csession csession;

/* Largest key, in bytes (256). */
CSESSION_EXTERN(size_t) csession_max_key_bytes(void);
/* Deepest nesting of arrays/objects inside one value (32). */
CSESSION_EXTERN(int) csession_max_depth(void);

/*
 * Creates an empty session with status UNCHANGED, not tied to any store.
 * The request flow creates sessions itself; this constructor is for tests
 * and for code that uses the session map on its own.
 * Returns 0, or CSESSION_ENOMEM. On failure *out is NULL.
 * The caller owns *out and releases it with csession_free().
 */
CSESSION_EXTERN(int) csession_new(csession **out);

/* Releases a session and wipes its values. NULL is a no-op. */
CSESSION_EXTERN(void) csession_free(csession *s);

/* The current status (a csession_status_code). */
CSESSION_EXTERN(int) csession_status(const csession *s);

/* Static name of a status: "unchanged", "changed", "renewed", "purged". */
CSESSION_EXTERN(const char *) csession_status_name(int status);

/*
 * Status rules (the same as actix-session's):
 *  - insert, remove and clear set the status to CHANGED unless it is RENEWED
 *    (which stays) or PURGED;
 *  - on a PURGED session they change nothing and return CSESSION_EPURGED;
 *  - purge clears the state and sets PURGED; renew sets RENEWED unless PURGED.
 * A call that fails for any other reason (bad argument, out of memory)
 * changes neither the values nor the status.
 */

/* Number of keys. */
CSESSION_EXTERN(size_t) csession_count(const csession *s);

/* 1 if `key` is present, else 0 (also 0 for a NULL session or key). */
CSESSION_EXTERN(int) csession_contains(const csession *s, const char *key);

/*
 * The type of the value under `key` in *type (a csession_value_type).
 * Returns 0, CSESSION_ENOTFOUND, or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_type(const csession *s, const char *key, int *type);

/*
 * Key iteration: *key receives the index-th key (0-based, in insertion
 * order). The pointer is borrowed from the session and stays valid until the
 * session is modified or freed. Walking indexes 0, 1, 2, ... in order costs
 * O(1) per step.
 * Returns 0, CSESSION_ENOTFOUND when index >= csession_count(), or EINVAL.
 */
CSESSION_EXTERN(int) csession_key_at(const csession *s, size_t index, const char **key);

/*
 * Typed getters. Each returns 0 and writes *out, or:
 *  CSESSION_ENOTFOUND  no such key (*out untouched);
 *  CSESSION_ETYPE      the value has another type (*out untouched) - values
 *                      are never converted, e.g. "1" is not the number 1;
 *  CSESSION_ERANGE     (int64 only) a non-integral number or one outside
 *                      +-(2^53 - 1);
 *  CSESSION_EINVAL     NULL argument.
 * csession_get_double() accepts every number; csession_get_int64() only
 * integral ones.
 */
CSESSION_EXTERN(int) csession_get_int64(const csession *s, const char *key, int64_t *out);
CSESSION_EXTERN(int) csession_get_double(const csession *s, const char *key, double *out);
/* *out is 1 for true, 0 for false. */
CSESSION_EXTERN(int) csession_get_bool(const csession *s, const char *key, int *out);
/* Returns 0 when the value is JSON null, CSESSION_ETYPE when it is not. */
CSESSION_EXTERN(int) csession_get_null(const csession *s, const char *key);
/*
 * *out receives the string, borrowed from the session: valid until the
 * session is modified or freed. `len` (may be NULL) receives its length in
 * bytes. The string is NUL-terminated and contains no NUL.
 */
CSESSION_EXTERN(int) csession_get_string(const csession *s, const char *key, const char **out,
                                         size_t *len);
/*
 * Any value as compact JSON text, written into `out` (replacing its
 * contents). Returns 0, CSESSION_ENOTFOUND, CSESSION_ENOMEM or EINVAL.
 */
CSESSION_EXTERN(int) csession_get_json(const csession *s, const char *key, csession_buf *out);

/*
 * Setters. Each stores a copy under `key`, replacing any previous value, and
 * updates the status by the rules above. Returns 0, or:
 *  CSESSION_EPURGED  the session was purged (nothing changed);
 *  CSESSION_EINVAL   NULL argument, key or string not valid UTF-8 or with NUL;
 *  CSESSION_ETOOBIG  key longer than csession_max_key_bytes() or JSON nested
 *                    deeper than csession_max_depth();
 *  CSESSION_ERANGE   int64 beyond +-(2^53 - 1), or a non-finite double;
 *  CSESSION_EFORMAT  (json only) the text is not exactly one JSON value;
 *  CSESSION_ENOMEM.
 */
CSESSION_EXTERN(int) csession_insert_int64(csession *s, const char *key, int64_t value);
CSESSION_EXTERN(int) csession_insert_double(csession *s, const char *key, double value);
/* Any non-zero `value` stores true. */
CSESSION_EXTERN(int) csession_insert_bool(csession *s, const char *key, int value);
CSESSION_EXTERN(int) csession_insert_null(csession *s, const char *key);
/* `value` is NUL-terminated. */
CSESSION_EXTERN(int) csession_insert_string(csession *s, const char *key, const char *value);
/* `value` is `len` bytes, need not be NUL-terminated, must not contain NUL. */
CSESSION_EXTERN(int) csession_insert_string_n(csession *s, const char *key, const char *value,
                                              size_t len);
/* `json` is `len` bytes of JSON text holding exactly one value (surrounding
 * whitespace allowed). */
CSESSION_EXTERN(int) csession_insert_json(csession *s, const char *key, const char *json,
                                          size_t len);

/*
 * Removes `key`. The status changes by the rules above even when the key was
 * absent (as in actix-session). Returns 0, CSESSION_ENOTFOUND when the key
 * was absent, CSESSION_EPURGED, or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_remove(csession *s, const char *key);

/* Removes every key. Returns 0, CSESSION_EPURGED, or CSESSION_EINVAL. */
CSESSION_EXTERN(int) csession_clear(csession *s);

/*
 * Marks the session for deletion: the state is cleared, the status becomes
 * PURGED, and committing it deletes the stored state and removes the cookie.
 * Use it at logout. Returns 0, or CSESSION_EINVAL for NULL.
 */
CSESSION_EXTERN(int) csession_purge(csession *s);

/*
 * Keeps the state but asks for a new session key (status RENEWED unless
 * PURGED). Use it at login to defeat session fixation.
 * Returns 0, CSESSION_EPURGED, or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_renew(csession *s);

/* ---- lifetime: public id, times, per-session lifetime ---------------------
 * A session that went through a manager carries a public id and its
 * creation and last-seen times, kept with its state (docs/request-flow.md,
 * "Lifetimes"). The getters are cheap and never block.
 */

/* Length of a public session id (22 characters). */
#define CSESSION_PUBLIC_ID_LEN 22

/*
 * The session's public id: 22 characters of unpadded base64url (16 random
 * bytes from libsodium), unique per session, stable across renewals and
 * key rotations, and unrelated to the session key: safe to log and to show.
 * A session that has none yet (a new one) is given one now; it is stored
 * with the session's next save. *id is borrowed from `s` until it is freed.
 * Returns 0, CSESSION_EINVAL (NULL argument) or CSESSION_ERROR (libsodium
 * could not be initialised).
 */
CSESSION_EXTERN(int) csession_id(csession *s, const char **id);

/*
 * When the session was created, in unix seconds (kept through renewals and
 * rotations). Returns 0, CSESSION_ENOTFOUND for a session that was never
 * stored (or stored by a version without lifetimes, until its next write),
 * or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_created(const csession *s, int64_t *out);

/*
 * When the session was last written or its expiry last extended by a
 * write, in unix seconds: with a touch interval (csession_config_set_touch_after())
 * it lags the last request by less than the interval; under
 * CSESSION_TTL_ON_STATE_CHANGES it is the last change. Codes as
 * csession_created().
 */
CSESSION_EXTERN(int) csession_last_seen(const csession *s, int64_t *out);

/*
 * "Remember me": from the next commit on, this session's cookie is
 * persistent with Max-Age `ttl_seconds` and its state lives as long, on
 * every later commit too, whatever the configured lifecycle; never longer
 * than the absolute timeout allows. Marks the session changed.
 * Returns 0, CSESSION_EPURGED, or CSESSION_EINVAL (NULL, or a TTL outside
 * 1..CSESSION_MAX_TTL).
 */
CSESSION_EXTERN(int) csession_set_persistent(csession *s, int64_t ttl_seconds);

/*
 * The opposite choice for this session: a cookie without Max-Age (dropped
 * when the browser closes) and the configured TTL for its state. Marks the
 * session changed. Returns 0, CSESSION_EPURGED or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_set_browser_session(csession *s);

/*
 * 1 when the session's cookie carries Max-Age (its own choice, else the
 * configured lifecycle of the manager that loaded it), 0 when it is a
 * browser-session cookie, CSESSION_EINVAL for NULL.
 */
CSESSION_EXTERN(int) csession_is_persistent(const csession *s);

CSESSION_END_DECLS

#endif /* CSESSION_SESSION_H */
