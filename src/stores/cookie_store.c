/*
 * The cookie store: the "session key" the manager seals into the cookie is
 * the encoded state itself, with its expiry added as "exp".
 */
#include "cookie_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "csession/store_cookie.h"
#include "error.h"
#include "state_format.h"

static int64_t wall_clock(void)
{
    return (int64_t)time(NULL); /* the cookie outlives the process: wall time */
}

int64_t (*csession__cookie_store_now)(void) = wall_clock;

/* What csession__state_encode() writes first, and where "exp" goes. */
static const char ENVELOPE_HEAD[] = "{\"v\":1,";
static const char EXP_HEAD[] = "{\"v\":1,\"exp\":";

/* Reads "exp" from the state: fast for our own encoding, by a full decode
 * otherwise. 0 with *exp (CSESSION__NO_EXP when absent), or an error. */
static int read_exp(const char *state, size_t len, int64_t *exp)
{
    size_t head = sizeof EXP_HEAD - 1;
    if (len > head && memcmp(state, EXP_HEAD, head) == 0) {
        int64_t v = 0;
        size_t i = head;
        while (i < len && state[i] >= '0' && state[i] <= '9' && i - head < 15)
            v = v * 10 + (state[i++] - '0');
        if (i > head && i < len && state[i] == ',') {
            *exp = v;
            return 0;
        }
    }
    cJSON *map;
    int rc = csession__state_decode(state, len, &map, exp);
    cJSON_Delete(map);
    return rc;
}

static int cookie_load(csession_store *store, const char *key, size_t key_len, csession_buf *state)
{
    (void)store;
    int64_t exp;
    /* A value that opened but does not decode is handed on: the manager
     * turns it into an empty session, as for any undecodable state. */
    if (read_exp(key, key_len, &exp) == 0 && exp != CSESSION__NO_EXP &&
        exp <= csession__cookie_store_now())
        return CSESSION_ENOTFOUND;
    return csession__buf_set(state, key, key_len);
}

static int cookie_save(csession_store *store, const char *state, size_t state_len,
                       int64_t ttl_seconds, csession_buf *key_out)
{
    (void)store;
    int64_t exp = csession__cookie_store_now() + ttl_seconds;
    size_t head = sizeof ENVELOPE_HEAD - 1;
    if (state_len >= head && memcmp(state, ENVELOPE_HEAD, head) == 0 &&
        !(state_len >= sizeof EXP_HEAD - 1 && memcmp(state, EXP_HEAD, sizeof EXP_HEAD - 1) == 0)) {
        /* Our own encoding without "exp": splice it in after the head
         * rather than parse and print (the lifetime members follow). */
        char prefix[CSESSION__STATE_HEAD_MAX];
        size_t n = csession__state_head(prefix, NULL, exp);
        n -= sizeof "\"state\":" - 1; /* the head alone, "exp" included */
        csession__buf_clear(key_out);
        int rc = csession__buf_grow(key_out, n + state_len - head);
        if (!rc)
            rc = csession__buf_append(key_out, prefix, n);
        if (!rc)
            rc = csession__buf_append(key_out, state + head, state_len - head);
        return rc;
    }
    cJSON *map;
    csession__state_meta meta;
    int rc = csession__state_decode_meta(state, state_len, &map, NULL, &meta);
    if (!rc)
        rc = csession__state_encode(map, &meta, exp, key_out);
    cJSON_Delete(map);
    return rc;
}

static int cookie_update(csession_store *store, const char *key, size_t key_len,
                         const char *state, size_t state_len, int64_t ttl_seconds,
                         csession_buf *key_out)
{
    (void)key;
    (void)key_len;
    return cookie_save(store, state, state_len, ttl_seconds, key_out);
}

/* The client holds the only copy: nothing here can change or delete it. */
static int cookie_update_ttl(csession_store *store, const char *key, size_t key_len,
                             int64_t ttl_seconds)
{
    (void)store;
    (void)key;
    (void)key_len;
    (void)ttl_seconds;
    return 0;
}

static int cookie_remove(csession_store *store, const char *key, size_t key_len)
{
    (void)store;
    (void)key;
    (void)key_len;
    return 0;
}

static void cookie_free(csession_store *store)
{
    csession__free(store);
}

int csession__store_is_cookie(const csession_store *store)
{
    return store && store->load == cookie_load;
}

int csession_store_cookie_new(csession_store **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    csession_store *st = csession__calloc(1, sizeof *st);
    *out = NULL;
    if (!st)
        return csession__oom();
    st->version = CSESSION_STORE_VERSION;
    st->load = cookie_load;
    st->save = cookie_save;
    st->update = cookie_update;
    st->update_ttl = cookie_update_ttl;
    st->remove = cookie_remove;
    st->free = cookie_free;
    /* No revisions: each client holds its only copy, so parallel requests
     * cannot be coordinated (last write wins, docs/request-flow.md). */
    st->flags = CSESSION_STORE_STATE_IN_COOKIE;
    *out = st;
    return 0;
}
