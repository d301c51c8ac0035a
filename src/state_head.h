/* Internal: the envelope head this library writes, read without a JSON tree. */
#ifndef CSESSION_SRC_STATE_HEAD_H
#define CSESSION_SRC_STATE_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "state_format.h"

/*
 * Reads `data[0..len)` when it has exactly the form csession__state_head()
 * writes (and the Redis store's "rev" and "w" after {"v":1,): {"v":1, then
 * some of "rev", "w", "exp", "id", "c", "t", "k", "p", "u", "l", "to", "until", each
 * at most once and in that order, each "name":<integer>, or
 * "name":"<ASCII, no control, no escape>", then "state":{ ... and a '}' as
 * the last byte.
 *
 * Returns 1 when the head has that form and every member holds a value the
 * generic decoder accepts (the same limits: safe integers, string lengths,
 * "p" not below -1): *exp and *meta are filled as the generic decoder
 * would fill them, and data[*map_at .. *map_at + *map_len) is the text of
 * the state, not yet checked (it starts with '{'). Returns 0 for any other
 * text, leaving the outputs unspecified: the caller decodes it in full,
 * which accepts or refuses it. Pure: no allocation, no error is set.
 * Thread-safe.
 */
int csession__state_head_read(const char *data, size_t len, int64_t *exp,
                              csession__state_meta *meta, size_t *map_at, size_t *map_len);

#endif
