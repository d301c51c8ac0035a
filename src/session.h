/* Internal: the session object, shared with the request flow. */
#ifndef CSESSION_SRC_SESSION_H
#define CSESSION_SRC_SESSION_H

#include <stdint.h>

#include <cJSON.h>

#include "csession/buf.h"
#include "csession/session.h"
#include "state_format.h"

/* Largest key in bytes (documented in session.h). */
#define CSESSION__MAX_KEY_BYTES 256

/* Room for the sealed session key a session remembers: a 64-character key
 * seals to 108 (signed), 124 (AES-256-GCM) or 140 (XChaCha20-Poly1305)
 * characters. A longer sealed value is not remembered, only sealed anew. */
#define CSESSION__SEALED_KEY_MAX 192

struct csession {
    cJSON *map;   /* a JSON object: the state, in insertion order */
    int status;   /* csession_status_code */
    /* csession_key_at() walks the list; remembering the last position makes
     * an in-order walk O(1) per step. Reset by every modification. */
    size_t iter_index;
    const cJSON *iter_item;
    /* Set by the request flow: the session key this session was loaded
     * under (size 0: none), and whether its cookie was opened by an old key
     * of the ring and must be sealed again with the current one. */
    csession_buf key;
    int reissue;
    /* The store already extended the TTL while loading (one round trip for
     * a read-only request): commit must not do it again. */
    int ttl_touched;
    /* The cookie value (percent-decoded) that carries `key` sealed under
     * the first key of the ring of the manager whose id is `sealed_by`: the incoming
     * one when that key opened it, or the one the last commit sent. A
     * commit through that manager that keeps the key sends it again rather
     * than sealing the key anew. sealed_len 0: none (server-side stores
     * only; never for a cookie opened by an older key). */
    uint64_t sealed_by;
    size_t sealed_len;
    char sealed[CSESSION__SEALED_KEY_MAX];
    /* For stores that keep revisions: the revision the state was loaded at,
     * and the state's bytes as loaded (size 0: none, an empty base), which
     * a commit that meets a newer revision compares with the newer state. */
    uint64_t revision;
    csession_buf base;
    /* What this request changed, for re-applying it on a newer state:
     * the keys it inserted or removed (each once, NUL-terminated, one after
     * the other), and whether it cleared the map. Kept only for a session
     * with a key (a new one cannot meet another writer). */
    csession_buf touched;
    int cleared;
    /* Another request ended the session (csession_manager_reload() found
     * its key gone): a commit stores nothing and removes the cookie. */
    int ended;
    /* Lifetime: what the envelope said (or what this request set). */
    csession__state_meta meta;
    /* The request chose a lifetime (csession_set_persistent(), ...). */
    int life_changed;
    /* The manager's lifecycle, for csession_is_persistent(). */
    int default_persistent;
    /* The commit writes the state back even if the map did not change
     * (a due touch under a touch interval, lifetime members to add). */
    int meta_due;
    /* The key has been in use for the rotation interval: renew it. */
    int rotate_due;
};

/* Writes a fresh public id (CSESSION__PUBLIC_ID_LEN characters and a NUL). */
void csession__public_id_new(char out[CSESSION__PUBLIC_ID_LEN + 1]);

/* Wipes (values may be secrets) and frees a JSON tree; NULL is a no-op. */
void csession__json_delete_wiped(cJSON *item);

/* Wipes a member's value, not its key, before cJSON releases it. */
void csession__json_wipe_value(cJSON *item);

/* Replaces the session's map with `map` (taken), wiping the old one. */
void csession__session_set_map(csession *s, cJSON *map);

/* Empties the session's map in place (wiped; cannot fail). */
void csession__session_empty_map(csession *s);

/* 1 when `key` is among the keys this request inserted or removed. */
int csession__session_touched(const csession *s, const char *key);

/* Forgets what the request changed (after a commit or a reload). */
void csession__session_forget_changes(csession *s);

/*
 * Creates a session (status UNCHANGED) that takes ownership of `map`, which
 * must be a JSON object (an empty one is created when `map` is NULL).
 * On failure `map` is still owned by the caller.
 */
int csession__session_new_with_map(csession **out, cJSON *map);

#endif
