/*
 * Internal: where the Redis store keeps a state's revision, without I/O.
 *
 * A state the library wrote starts with the envelope head {"v":1, ; the
 * store writes its revision right after it:
 *
 *     {"v":1,"rev":7,"w":"3f9c0a1b2d4e5f60","state":{...}}
 *
 * so that the value stays the JSON envelope (which the state decoder reads,
 * "rev" and "w" included) and the store's script reads the revision from
 * the first bytes of the value without parsing it. "w" is the tag of the
 * write that stored the value (a save, at revision 1, has none): unique to
 * each write, it lets a write retried after a dropped connection recognise
 * its own first attempt. A value without "rev" (written by
 * an earlier version, or by actix-session) has revision 0. A state that
 * does not start with the envelope head is stored as it is, always at
 * revision 0: the library never writes one.
 */
#ifndef CSESSION_SRC_STORES_REDIS_REVISION_H
#define CSESSION_SRC_STORES_REDIS_REVISION_H

#include <stddef.h>
#include <stdint.h>

#include "csession/buf.h"

/* {"v":1,  : what an envelope starts with, and its length. */
#define CSESSION__REDIS_ENVELOPE_HEAD "{\"v\":1,"
#define CSESSION__REDIS_ENVELOPE_HEAD_LEN 7

/* Room for the head with a revision: {"v":1,"rev":<20 digits>, */
#define CSESSION__REDIS_REV_HEAD_MAX 40

/* Length of a write's tag: hexadecimal digits, no NUL. */
#define CSESSION__REDIS_TAG_LEN 16

/* A tag no other write of any process is likely to have used: a random
 * per-process start plus a counter. Thread-safe. */
void csession__redis_write_tag(char out[CSESSION__REDIS_TAG_LEN]);

/* 1 when `state` starts with the envelope head. */
int csession__redis_is_envelope(const char *state, size_t len);

/* 1 when a state that is not an envelope goes behind a NUL byte. */
int csession__redis_needs_escape(const char *state, size_t len);

/*
 * Writes `state` as the store keeps it at `revision` into `out` (replacing
 * its contents): the revision spliced after the envelope head, or `state`
 * unchanged (or behind a NUL byte) when it is not an envelope.
 * 0 or CSESSION_ENOMEM.
 */
int csession__redis_rev_wrap(const char *state, size_t len, uint64_t revision,
                             csession_buf *out);

/*
 * Takes the revision out of a stored value in place: `value` becomes the
 * state as the library wrote it and *revision its revision (0 when the
 * value has none); a NUL byte in front is taken away. Cannot fail.
 */
void csession__redis_rev_unwrap(csession_buf *value, uint64_t *revision);

#endif
