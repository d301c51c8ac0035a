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

/* "unknown" for the times of csession__state_meta. */
#define CSESSION__NO_TIME INT64_MIN
/* csession__state_meta.life when the session follows the configuration. */
#define CSESSION__LIFE_DEFAULT (-1)
/* Length of a public session id: 16 random bytes in unpadded base64url. */
#define CSESSION__PUBLIC_ID_LEN 22
/* Longest session key a retired record can name. */
#define CSESSION__RETIRED_KEY_MAX 128
/* Longest user id and label of a bound session (csession/users.h). */
#define CSESSION__USER_MAX 128
#define CSESSION__LABEL_MAX 64

/*
 * What the envelope says about a session besides its map (its lifetime).
 * States written by earlier versions and by actix-session carry none of
 * it: they decode with an empty id and unknown times.
 */
typedef struct csession__state_meta {
    char id[CSESSION__PUBLIC_ID_LEN + 1]; /* "id": the public id, "" when none */
    int64_t created;  /* "c": unix s the session was created */
    int64_t seen;     /* "t": unix s of the last write or recorded touch */
    int64_t keyed;    /* "k": unix s its current key was issued */
    int64_t life;     /* "p": > 0 persistent with this TTL, 0 browser session,
                       * CSESSION__LIFE_DEFAULT (absent) the configuration's */
    /* A retired key's record (key rotation): "to" names the key the
     * session moved to, "until" the unix s its grace period ends.
     * to_len 0: a live state. */
    size_t to_len;
    char to[CSESSION__RETIRED_KEY_MAX + 1];
    int64_t until;
    /* The user the session is bound to ("u", user_len 0: none) and the
     * application's label for it ("l", label_len 0: none). Both hold
     * printable ASCII without '"' or '\\' (csession__user_id_valid(),
     * csession__label_valid()), so they are written unescaped. */
    size_t user_len;
    char user[CSESSION__USER_MAX + 1];
    size_t label_len;
    char label[CSESSION__LABEL_MAX + 1];
} csession__state_meta;

/* 1 when user[0..len) may be a user id: 1 to CSESSION__USER_MAX bytes in
 * 0x21..0x7e, none of them '"', '\\', '{' or '}' (a Redis Cluster hash tag). */
int csession__user_id_valid(const char *user, size_t len);

/* 1 when label[0..len) may be a label: at most CSESSION__LABEL_MAX bytes
 * in 0x20..0x7e, none of them '"' or '\\'. */
int csession__label_valid(const char *label, size_t len);

/* A meta with nothing known. */
void csession__state_meta_init(csession__state_meta *meta);

/* Room for the longest envelope head csession__state_head() writes. */
#define CSESSION__STATE_HEAD_MAX \
    (256 + CSESSION__RETIRED_KEY_MAX + CSESSION__USER_MAX + CSESSION__LABEL_MAX)

/* Writes the text an encoded state starts with, up to its map:
 * {"v":1,  then "exp":<exp>, unless exp is CSESSION__NO_EXP, then the
 * members of `meta` that are known (none when `meta` is NULL), then
 * "state":  . Returns its length (no NUL is written). */
size_t csession__state_head(char out[CSESSION__STATE_HEAD_MAX],
                            const csession__state_meta *meta, int64_t exp);

/*
 * Writes {"v":1,...,"state":<map>} (see csession__state_head()) into `out`,
 * replacing its contents. `meta` may be NULL.
 * 0, CSESSION_ETOOBIG (out emptied) or CSESSION_ENOMEM.
 */
int csession__state_encode(const cJSON *map, const csession__state_meta *meta, int64_t exp,
                           csession_buf *out);

/*
 * Decodes any accepted form (see include/csession/state.h) into a new JSON
 * object owned by the caller (*map). *exp (if not NULL) receives the
 * envelope's "exp" or CSESSION__NO_EXP. Codes as csession_decode().
 */
int csession__state_decode(const char *data, size_t len, cJSON **map, int64_t *exp);

/* csession__state_decode() that also fills `meta` (if not NULL) from the
 * envelope; members that are absent stay unknown. */
int csession__state_decode_meta(const char *data, size_t len, cJSON **map, int64_t *exp,
                                csession__state_meta *meta);

/* csession__state_decode_meta() (`meta` may be NULL) without its shortcut
 * for the head this library writes (src/state_head.c): the whole text goes
 * through the JSON parser. Same results; kept apart so that tests and the
 * fuzzer can hold the shortcut to it. */
int csession__state_decode_generic(const char *data, size_t len, cJSON **map, int64_t *exp,
                                   csession__state_meta *meta);

#endif
