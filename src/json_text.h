/* Internal: validated JSON text in and out of cJSON. */
#ifndef CSESSION_SRC_JSON_TEXT_H
#define CSESSION_SRC_JSON_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "csession/buf.h"
#include "swar.h"

/* 2^53 - 1: the largest integer every JSON implementation reads exactly. */
#define CSESSION__MAX_SAFE_INTEGER 9007199254740991LL

/* 1 when `d` is an integer within +-CSESSION__MAX_SAFE_INTEGER. */
int csession__json_is_safe_integer(double d);

/* Deepest nesting of a value stored in a session (documented in session.h). */
#define CSESSION__MAX_DEPTH 32

/*
 * Checks that `text[0..len)` is exactly one JSON value (RFC 8259, surrounding
 * whitespace allowed) that cJSON would read back unchanged. Returns 0, or
 * CSESSION_EFORMAT (invalid UTF-8, a NUL byte, bad syntax, a "\u0000"
 * escape, a lone surrogate, a number of more than 63 characters),
 * CSESSION_ERANGE (a number beyond the range of a double) or
 * CSESSION_ETOOBIG (nested deeper than `max_depth`), with the byte offset
 * in the message.
 */
int csession__json_validate(const char *text, size_t len, int max_depth);

/*
 * Checks (as above) and builds the cJSON tree in the same pass: a new tree
 * owned by the caller, freed with cJSON_Delete() (*out, NULL on failure).
 * The codes of csession__json_validate(), and CSESSION_ENOMEM.
 */
int csession__json_parse(const char *text, size_t len, int max_depth, cJSON **out);

/*
 * How many of the 8 bytes at p come before the first '"', '\\' or control
 * (< 0x20): the bytes a JSON string ends at or escapes (see swar.h; 8 when
 * there is none).
 */
static inline unsigned csession__json_plain_run(const char *p)
{
    uint64_t w = csession__swar_load(p);
    uint64_t hit = csession__swar_eq(w, '"') | csession__swar_eq(w, '\\') |
                   csession__swar_below(w, 0x20);
    return hit ? csession__swar_skip(hit) : 8;
}

/* Depth of a tree: 0 for scalars, 1 + the deepest child for containers.
 * Stops counting past `limit` (returns limit + 1) so that it is bounded. */
int csession__json_depth(const cJSON *item, int limit);

/*
 * Appends the compact JSON text of `item` to `out` (src/json_print.c):
 * cJSON's text, except that numbers use the fewest digits that read back as
 * exactly the same double. 0, CSESSION_ENOMEM, or CSESSION_EINVAL for a node
 * of no JSON type; `out` is unchanged on failure.
 */
int csession__json_print_append(const cJSON *item, csession_buf *out);

#endif
