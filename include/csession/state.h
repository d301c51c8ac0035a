/*
 * state.h: the stored form of a session, as stores keep it.
 *
 * Encoding writes {"v":1,"state":{...}}. Decoding accepts that, a bare JSON
 * object of values, and actix-session's older map whose values are
 * JSON-encoded strings ({"counter":"1","user":"\"alice\""}): an object in
 * which every value is a string holding valid JSON is read that way. (A bare
 * object such as {"a":"42"} is therefore read as the number 42; csession
 * itself always writes the versioned form, which is never ambiguous.)
 *
 * Limits: a state is at most csession_max_state_bytes() bytes of JSON text;
 * values nest at most csession_max_depth() levels; keys as in session.h.
 * Duplicate keys in stored data: the last one wins (as serde_json maps do).
 *
 * Thread safety: both functions only touch their arguments.
 */
#ifndef CSESSION_STATE_H
#define CSESSION_STATE_H

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/session.h"

CSESSION_BEGIN_DECLS

/* Largest encoded state accepted or produced, in bytes (1 MiB). */
CSESSION_EXTERN(size_t) csession_max_state_bytes(void);

/*
 * Encodes the values of `s` into `out` (replacing its contents) as compact
 * JSON. The status is not part of the encoding.
 * Returns 0, CSESSION_ETOOBIG (more than csession_max_state_bytes(); out is
 * left empty), CSESSION_ENOMEM, or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_encode(const csession *s, csession_buf *out);

/*
 * Decodes `len` bytes of stored state into a new session with status
 * UNCHANGED, owned by the caller (free with csession_free()).
 * Returns 0, or:
 *  CSESSION_ETOOBIG  more than csession_max_state_bytes(), nesting deeper
 *                    than allowed, or a key longer than allowed;
 *  CSESSION_EFORMAT  not valid UTF-8 / JSON, not an object, an envelope with
 *                    an unknown version or unknown members;
 *  CSESSION_ERANGE   a number beyond the range of a double;
 *  CSESSION_ENOMEM, CSESSION_EINVAL.
 * On failure *out is NULL. The message says what was refused and where.
 */
CSESSION_EXTERN(int) csession_decode(csession **out, const char *data, size_t len)
    CSESSION_WARN_UNUSED;

CSESSION_END_DECLS

#endif /* CSESSION_STATE_H */
