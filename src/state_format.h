/* Internal: encoding and decoding of stored session state. */
#ifndef CSESSION_SRC_STATE_FORMAT_H
#define CSESSION_SRC_STATE_FORMAT_H

#include <stdint.h>

#include <cJSON.h>

#include "csession/buf.h"

#define CSESSION__STATE_MAX_BYTES ((size_t)1 << 20)
#define CSESSION__STATE_VERSION 1
/* "no expiry" for the exp arguments below. */
#define CSESSION__NO_EXP INT64_MIN

/* Room for the longest envelope head csession__state_head() writes. */
#define CSESSION__STATE_HEAD_MAX 64

/* Writes the text an encoded state starts with, up to its map:
 * {"v":1,"state":  or, unless exp is CSESSION__NO_EXP, {"v":1,"exp":<exp>,"state":
 * Returns its length (no NUL is written). */
size_t csession__state_head(char out[CSESSION__STATE_HEAD_MAX], int64_t exp);

/*
 * Writes {"v":1,"state":<map>} (with "exp":<exp> after "v" unless exp is
 * CSESSION__NO_EXP) into `out`, replacing its contents.
 * 0, CSESSION_ETOOBIG (out emptied) or CSESSION_ENOMEM.
 */
int csession__state_encode(const cJSON *map, int64_t exp, csession_buf *out);

/*
 * Decodes any accepted form (see include/csession/state.h) into a new JSON
 * object owned by the caller (*map). *exp (if not NULL) receives the
 * envelope's "exp" or CSESSION__NO_EXP. Codes as csession_decode().
 */
int csession__state_decode(const char *data, size_t len, cJSON **map, int64_t *exp);

#endif
