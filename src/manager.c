/*
 * The request flow: Cookie header -> session, session -> store calls and a
 * Set-Cookie header, following actix-session's middleware rules.
 */
#include "csession/manager.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "config.h"
#include "cookie/header.h"
#include "cookie/keyring.h"
#include "cookie/seal.h"
#include "csession/cookie_security.h"
#include "csession/library.h"
#include "csession/store_memory.h"
#include "error.h"
#include "session.h"
#include "session_key.h"
#include "state_format.h"
#include "clock.h"
#include "flow/decide.h"
#include "flow/lifetime.h"
#include "flow/merge.h"
#include "log.h"
#include "manager_stats.h"
#include "store.h"
#include "store_users.h"
#include "users.h"

struct csession_manager {
    csession_config *cfg;          /* private copy, never modified */
    csession__cookie_attrs attrs;  /* Set-Cookie attributes; strings point into cfg */
    csession_store *store;
    /* What the store can do, read once by its version. */
    csession__store_caps caps;
    /* What the commit decisions depend on besides the session. */
    csession__flow_policy policy;
    /* Tells this manager from every other one of the process, also from a
     * later one at the same address: a session remembers which manager's
     * key sealed its cookie (see remember_sealed). Never 0. */
    uint64_t id;
    /* Counted only on the paths of parallel requests (csession__manager_stats). */
    atomic_uint_fast64_t merges, conflicts, gone, rotations, thefts;
};

static atomic_uint_fast64_t last_manager_id;

static int copy_config(const csession_config *src, csession_config **out)
{
    int rc = csession_config_new(out);
    if (rc)
        return rc;
    csession_config *dst = *out;
    csession_keyring_free(dst->keys);
    dst->keys = NULL;
    if ((rc = csession_config_set_cookie_name(dst, src->cookie_name)) ||
        (rc = csession_config_set_path(dst, src->path)) ||
        (rc = csession_config_set_domain(dst, src->domain)) ||
        (rc = csession__keyring_copy(src->keys, &dst->keys))) {
        csession_config_free(dst);
        *out = NULL;
        return rc;
    }
    dst->secure = src->secure;
    dst->http_only = src->http_only;
    dst->partitioned = src->partitioned;
    dst->same_site = src->same_site;
    dst->security = src->security;
    dst->lifecycle = src->lifecycle;
    dst->ttl = src->ttl;
    dst->ttl_policy = src->ttl_policy;
    dst->absolute_timeout = src->absolute_timeout;
    dst->touch_after = src->touch_after;
    dst->rotate_every = src->rotate_every;
    dst->rotate_grace = src->rotate_grace;
    return 0;
}

static csession__same_site header_same_site(int same_site)
{
    switch (same_site) {
    case CSESSION_SAME_SITE_STRICT: return CSESSION__SAME_SITE_STRICT;
    case CSESSION_SAME_SITE_LAX: return CSESSION__SAME_SITE_LAX;
    case CSESSION_SAME_SITE_NONE: return CSESSION__SAME_SITE_NONE;
    default: return CSESSION__SAME_SITE_UNSET;
    }
}

/* Every combination is checked once here, so that requests cannot fail on
 * configuration: formatting a removal cookie runs every attribute check. */
static int check_config(csession_manager *mgr)
{
    const csession_config *cfg = mgr->cfg;
    if (csession_keyring_count(cfg->keys) == 0)
        return csession__error(CSESSION_EINVAL,
                               "no cookie key: add one with csession_config_add_key()");
    int rc = csession_cookie_security_check(cfg->security);
    if (rc)
        return rc;
    csession_buf probe = CSESSION_BUF_INIT;
    rc = csession__cookie_format_removal(&probe, &mgr->attrs);
    csession_buf_dispose(&probe);
    return rc;
}

int csession_manager_new(csession_manager **out, const csession_config *cfg,
                         csession_store *store)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (!cfg)
        return csession__error(CSESSION_EINVAL, "configuration is NULL");
    int rc = csession_init();
    if (rc)
        return rc;
    if (store && (rc = csession__store_check(store)))
        return rc;
    csession_manager *mgr = csession__calloc(1, sizeof *mgr);
    if (!mgr)
        return csession__oom();
    if ((rc = copy_config(cfg, &mgr->cfg))) {
        csession__free(mgr);
        return rc;
    }
    const csession_config *c = mgr->cfg;
    mgr->id = atomic_fetch_add(&last_manager_id, 1) + 1;
    atomic_init(&mgr->merges, 0);
    atomic_init(&mgr->conflicts, 0);
    atomic_init(&mgr->gone, 0);
    atomic_init(&mgr->rotations, 0);
    atomic_init(&mgr->thefts, 0);
    mgr->attrs.name = c->cookie_name;
    mgr->attrs.name_len = strlen(c->cookie_name);
    mgr->attrs.path = c->path;
    mgr->attrs.path_len = strlen(c->path);
    mgr->attrs.domain = c->domain;
    mgr->attrs.domain_len = c->domain ? strlen(c->domain) : 0;
    mgr->attrs.secure = c->secure;
    mgr->attrs.http_only = c->http_only;
    mgr->attrs.partitioned = c->partitioned;
    mgr->attrs.same_site = header_same_site(c->same_site);
    if ((rc = check_config(mgr)) ||
        (!store && (rc = csession_store_memory_new(&mgr->store, NULL)))) {
        csession_config_free(mgr->cfg);
        csession__free(mgr);
        return rc;
    }
    if (store)
        mgr->store = store;
    csession__store_caps_of(mgr->store, &mgr->caps);
    mgr->policy.touch_every_request = c->ttl_policy == CSESSION_TTL_ON_EVERY_REQUEST;
    mgr->policy.persistent = c->lifecycle == CSESSION_LIFECYCLE_PERSISTENT;
    mgr->policy.state_in_cookie = (mgr->caps.flags & CSESSION_STORE_STATE_IN_COOKIE) != 0;
    mgr->policy.touch_on_load = mgr->caps.load_rev;
    mgr->policy.ttl = c->ttl;
    mgr->policy.absolute = c->absolute_timeout;
    mgr->policy.touch_after = c->touch_after;
    mgr->policy.rotate_every = c->rotate_every;
    mgr->policy.rotate_grace = c->rotate_grace;
    /* A retired key's record needs a conditional write beside the state. */
    mgr->policy.can_rotate = mgr->caps.update_if && !mgr->policy.state_in_cookie;
    *out = mgr;
    return 0;
}

void csession__manager_get_stats(const csession_manager *mgr, csession__manager_stats *out)
{
    csession_manager *m = (csession_manager *)mgr; /* atomics are read, not changed */
    out->merges = atomic_load_explicit(&m->merges, memory_order_relaxed);
    out->conflicts = atomic_load_explicit(&m->conflicts, memory_order_relaxed);
    out->gone = atomic_load_explicit(&m->gone, memory_order_relaxed);
    out->rotations = atomic_load_explicit(&m->rotations, memory_order_relaxed);
    out->thefts = atomic_load_explicit(&m->thefts, memory_order_relaxed);
}

csession_store *csession__manager_store(csession_manager *mgr)
{
    return mgr->store;
}

void csession_manager_free(csession_manager *mgr)
{
    if (!mgr)
        return;
    csession_store_free(mgr->store);
    csession_config_free(mgr->cfg);
    csession__free(mgr);
}

/* ---- load ------------------------------------------------------------- */

/*
 * Remembers `sealed`, the cookie value that carries s->key under the ring's
 * first key, so that a commit keeping the key can send it again: the same
 * bytes csession__cookie_seal() would give with that nonce (the base64
 * decoder accepts one text per value), valid for exactly as long. Sealing
 * anew would only change the nonce, at the cost of drawing it, encrypting
 * and encoding. Not for the cookie store, whose value is the state.
 */
static void remember_sealed(const csession_manager *mgr, csession *s, const char *sealed,
                            size_t len)
{
    s->sealed_len = 0;
    if (mgr->policy.state_in_cookie || len > sizeof s->sealed)
        return;
    memcpy(s->sealed, sealed, len);
    s->sealed_len = len;
    s->sealed_by = mgr->id;
}

/* The remembered cookie value when it carries `key` for this manager. */
static int can_resend(const csession_manager *mgr, const csession *s, const csession_buf *key)
{
    return s->sealed_len > 0 && s->sealed_by == mgr->id && !s->reissue &&
           key->size == s->key.size &&
           csession__key_equal(key->ptr, s->key.ptr, key->size);
}

/*
 * Decodes a stored state by the load rules: a state that does not decode
 * gives an empty map (the session keeps its key, so that the next write
 * replaces the bad state), and then an empty merge base too.
 */
static int decode_state(csession_buf *state, cJSON **map, csession__state_meta *meta)
{
    int rc = csession__state_decode_meta(state->ptr, state->size, map, NULL, meta);
    if (rc == CSESSION_ENOMEM)
        return rc;
    if (rc) {
        csession__state_meta_init(meta);
        csession__buf_clear(state);
        if (!(*map = cJSON_CreateObject()))
            return csession__oom();
    }
    return 0;
}

/* The state of s->key as the store has it now, given to `s`: the map was
 * decoded from `state`, which is taken (kept as the base of a merge). */
static void install_state(const csession_manager *mgr, csession *s, cJSON *map,
                          csession_buf *state, uint64_t revision)
{
    csession__session_set_map(s, map);
    s->revision = revision;
    csession_buf_dispose(&s->base);
    if (mgr->caps.update_if) { /* only a merge reads it */
        s->base = *state;
        csession_buf_init(state);
    }
    csession_buf_dispose(state);
    csession__session_forget_changes(s);
    s->status = CSESSION_STATUS_UNCHANGED;
}

/* Reads the state of `key` from the store, extending its TTL in the same
 * call when the policy wants that on every request. */
static int read_state(csession_manager *mgr, const csession_buf *key, int64_t touch_ttl,
                      csession_buf *state, uint64_t *revision, int *touched)
{
    return csession__store_load_rev(mgr->store, &mgr->caps, key->ptr, key->size, touch_ttl,
                                    state, revision, touched);
}

/* A fresh session, with the manager's lifecycle. */
static int new_session(const csession_manager *mgr, csession **out)
{
    int rc = csession__session_new_with_map(out, NULL);
    if (!rc)
        (*out)->default_persistent = mgr->policy.persistent;
    return rc;
}

/* Retired records followed from one key at most (a key rotated again
 * within the grace period of the one before). */
#define RETIRED_HOPS 4

/* A session read from the store: its state and what it says. */
typedef struct stored_state {
    csession_buf state;    /* as stored (the base of a merge) */
    cJSON *map;
    csession__state_meta meta;
    uint64_t revision;
    int touched;           /* the read extended the TTL */
    csession_buf live;     /* the key it lives under (another one after a rotation) */
} stored_state;

static void stored_init(stored_state *st)
{
    csession_buf_init(&st->state);
    st->map = NULL;
    csession__state_meta_init(&st->meta);
    st->revision = 0;
    st->touched = 0;
    csession_buf_init(&st->live);
}

static void stored_dispose(stored_state *st)
{
    csession_buf_dispose(&st->state);
    csession__json_delete_wiped(st->map);
    st->map = NULL;
    csession_buf_dispose(&st->live);
}

/* The one message of the lifetime rules: it names the session by its
 * public id, never by a key. */
static void log_stolen(const char *public_id)
{
    csession__log(CSESSION_LOG_WARN,
                  "session %s revoked: a retired key was presented after its grace period "
                  "(stolen cookie?)",
                  public_id[0] ? public_id : "(no id)");
}

/* A retired key presented after its grace period: whoever holds it stole
 * it, or the owner is using a cookie it should no longer have. Either way
 * the session is revoked under every key, and the event is logged by its
 * public id (never a key). `st` holds the first record; best effort. */
static void revoke_stolen(csession_manager *mgr, const csession_buf *key, stored_state *st)
{
    char id[CSESSION__PUBLIC_ID_LEN + 1];
    memcpy(id, st->meta.id, sizeof id);
    csession__store_remove(mgr->store, key->ptr, key->size);
    for (int hop = 0; hop < RETIRED_HOPS && st->meta.to_len; hop++) {
        csession_buf next = CSESSION_BUF_INIT;
        uint64_t rev;
        int touched;
        if (csession__buf_set(&next, st->meta.to, st->meta.to_len))
            break;
        csession_buf_dispose(&st->state);
        csession__state_meta_init(&st->meta);
        if (read_state(mgr, &next, 0, &st->state, &rev, &touched) == 0) {
            cJSON *map = NULL;
            if (csession__state_decode_meta(st->state.ptr, st->state.size, &map, NULL,
                                            &st->meta) != 0)
                csession__state_meta_init(&st->meta);
            csession__json_delete_wiped(map);
        }
        csession__store_remove(mgr->store, next.ptr, next.size);
        csession_buf_dispose(&next);
    }
    atomic_fetch_add_explicit(&mgr->thefts, 1, memory_order_relaxed);
    log_stolen(id);
}

/*
 * Reads the state of `key`, following retired records within their grace
 * period to the key the session lives under now (st->live). Returns 0,
 * CSESSION_ENOTFOUND (no session: unknown, expired, ended, or revoked now
 * as a stolen key) or a failure. An undecodable state gives an empty map.
 */
static int read_live(csession_manager *mgr, const csession_buf *key, int64_t touch_ttl,
                     int64_t now, stored_state *st)
{
    int rc = csession__buf_set(&st->live, key->ptr, key->size);
    for (int hop = 0; !rc; hop++) {
        csession_buf_dispose(&st->state);
        csession__json_delete_wiped(st->map);
        st->map = NULL;
        rc = read_state(mgr, &st->live, touch_ttl, &st->state, &st->revision, &st->touched);
        if (!rc)
            rc = decode_state(&st->state, &st->map, &st->meta);
        if (rc || !st->meta.to_len)
            break;
        if (csession__flow_retired_use(&st->meta, now) == CSESSION__RETIRED_STOLEN) {
            revoke_stolen(mgr, &st->live, st);
            return CSESSION_ENOTFOUND;
        }
        if (hop + 1 == RETIRED_HOPS)
            return CSESSION_ENOTFOUND;
        rc = csession__buf_set(&st->live, st->meta.to, st->meta.to_len);
    }
    return rc;
}

/* A session's lifetime members once loaded at `now`, and what its commit
 * owes them. */
static void install_meta(const csession_manager *mgr, csession *s,
                         const csession__state_meta *meta, int64_t now)
{
    const csession__flow_policy *p = &mgr->policy;
    s->meta = *meta;
    s->default_persistent = p->persistent;
    s->life_changed = 0;
    s->meta_due = csession__flow_touch_due(meta, p, now) || csession__flow_meta_missing(meta, p);
    s->rotate_due = csession__flow_rotate_due(meta, p, now);
    if (!s->meta.id[0] && s->meta_due)
        csession__public_id_new(s->meta.id);
}

/*
 * Builds the session for a session key that opened: asks the store for the
 * state and applies the load rules. Takes `key` (its buffer is moved into
 * the session or disposed). `sealed` is the cookie value it came in.
 */
static int load_with_key(csession_manager *mgr, csession_buf *key, int reissue,
                         const char *sealed, size_t sealed_len, csession **out)
{
    stored_state st;
    stored_init(&st);
    csession *s = NULL;
    int64_t now = csession__wall_now();
    int64_t touch = csession__flow_load_touch(&mgr->policy, mgr->policy.ttl);
    /* A sealed value that opens to nothing is no session key: nothing to
     * look up (only a holder of the cookie key can make one). */
    int rc = key->size == 0 ? CSESSION_ENOTFOUND : read_live(mgr, key, touch, now, &st);
    if (!rc && csession__flow_past_absolute(&st.meta, &mgr->policy, now)) {
        /* Too old, however active: gone for good. */
        rc = csession__store_remove(mgr->store, st.live.ptr, st.live.size);
        if (!rc)
            rc = CSESSION_ENOTFOUND;
    }
    if (rc == CSESSION_ENOTFOUND) {
        /* expired or unknown: a fresh session, and the key is forgotten */
        csession_buf_dispose(key);
        stored_dispose(&st);
        return new_session(mgr, out);
    }
    if (!rc && !(rc = csession__session_new_with_map(&s, st.map)))
        st.map = NULL;
    if (rc) {
        stored_dispose(&st);
        csession_buf_dispose(key);
        return rc;
    }
    s->revision = st.revision;
    if (mgr->caps.update_if) { /* only a merge reads it */
        s->base = st.state;
        csession_buf_init(&st.state);
    }
    /* After a rotation the session lives under another key than the
     * cookie's: the commit sends that one. */
    int moved = st.live.size != key->size ||
                !csession__key_equal(st.live.ptr, key->ptr, key->size);
    s->key = st.live;
    csession_buf_init(&st.live);
    csession_buf_dispose(key);
    s->reissue = reissue || moved;
    if (!s->reissue)
        remember_sealed(mgr, s, sealed, sealed_len);
    install_meta(mgr, s, &st.meta, now);
    /* A load that extended the TTL by the configured one does for a
     * session whose own lifetime is that. */
    s->ttl_touched = st.touched && csession__flow_ttl(&s->meta, &mgr->policy, now) == touch;
    stored_dispose(&st);
    *out = s;
    return 0;
}

/* Opens one sealed value. 0 with the key in `key`, or CSESSION_EINVALIDCOOKIE. */
static int open_sealed(csession_manager *mgr, const char *sealed, size_t len, csession_buf *key,
                       size_t *key_index)
{
    return csession__cookie_open(key, key_index, mgr->cfg->keys, mgr->cfg->security,
                                 mgr->attrs.name, mgr->attrs.name_len, sealed, len);
}

/* What the request flow absorbs, counted: they can come at any rate (a
 * forged cookie per request under attack). */
static csession__log_counter unopened = CSESSION__LOG_COUNTER(
    CSESSION_LOG_WARN, "session cookies that did not open (tampered, forged, or sealed with "
                       "a key no longer in the ring) taken as no session");
static csession__log_counter ended_elsewhere = CSESSION__LOG_COUNTER(
    CSESSION_LOG_INFO, "commits of sessions another request had ended (logout or renewal): "
                       "nothing stored");
static csession__log_counter conflicts = CSESSION__LOG_COUNTER(
    CSESSION_LOG_DEBUG, "commits that met another request's change of the same keys");

/* Failures of an untrusted value that mean "no session", not "error". */
static int is_bad_value(int rc)
{
    return rc == CSESSION_EINVALIDCOOKIE || rc == CSESSION_ETOOBIG || rc == CSESSION_EFORMAT;
}

int csession_manager_load(csession_manager *mgr, const char *header, size_t header_len,
                          csession **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (!mgr || (!header && header_len))
        return csession__error(CSESSION_EINVAL, "NULL manager or header");
    if (header_len > CSESSION__COOKIE_HEADER_MAX)
        return csession__error(CSESSION_ETOOBIG, "Cookie header of %zu bytes is longer than %d",
                               header_len, CSESSION__COOKIE_HEADER_MAX);
    csession__cookie_cursor cursor = CSESSION__COOKIE_CURSOR_INIT;
    csession_buf key = CSESSION_BUF_INIT;
    const char *raw;
    size_t raw_len;
    int rc;
    /* Duplicates are common (a cookie set for two paths): try each. */
    while ((rc = csession__cookie_find(header, header_len, mgr->attrs.name, mgr->attrs.name_len,
                                       &cursor, &raw, &raw_len)) != CSESSION_ENOTFOUND) {
        if (rc == CSESSION_ETOOBIG)
            continue; /* an oversized value cannot be ours */
        if (rc)
            break;
        char decoded[CSESSION__COOKIE_VALUE_MAX];
        size_t decoded_len;
        size_t key_index = 0;
        rc = csession__cookie_decode(raw, raw_len, decoded, sizeof decoded, &decoded_len);
        if (!rc)
            rc = open_sealed(mgr, decoded, decoded_len, &key, &key_index);
        if (!rc)
            return load_with_key(mgr, &key, key_index != 0, decoded, decoded_len, out);
        if (!is_bad_value(rc))
            break;
        csession__log_count(&unopened);
    }
    csession_buf_dispose(&key); /* a failed open leaves it empty, not unallocated */
    if (rc != CSESSION_ENOTFOUND && !is_bad_value(rc))
        return rc;
    return new_session(mgr, out);
}

int csession_manager_load_token(csession_manager *mgr, const char *token, size_t token_len,
                                csession **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (!mgr || (!token && token_len))
        return csession__error(CSESSION_EINVAL, "NULL manager or token");
    if (token_len) {
        csession_buf key = CSESSION_BUF_INIT;
        size_t key_index = 0;
        int rc = open_sealed(mgr, token, token_len, &key, &key_index);
        if (!rc)
            return load_with_key(mgr, &key, key_index != 0, token, token_len, out);
        csession_buf_dispose(&key);
        if (!is_bad_value(rc))
            return rc;
        csession__log_count(&unopened);
    }
    return new_session(mgr, out);
}

int csession_manager_reload(csession_manager *mgr, csession *s)
{
    if (!mgr || !s)
        return csession__error(CSESSION_EINVAL, "NULL manager or session");
    stored_state st;
    stored_init(&st);
    int64_t now = csession__wall_now();
    int rc = s->key.size == 0 || s->ended ? CSESSION_ENOTFOUND : read_live(mgr, &s->key, 0, now, &st);
    if (rc == 0) {
        if (st.live.size != s->key.size ||
            !csession__key_equal(st.live.ptr, s->key.ptr, s->key.size)) {
            /* rotated meanwhile: the session lives under the new key */
            csession_buf_dispose(&s->key);
            s->key = st.live;
            csession_buf_init(&st.live);
            s->reissue = 1;
            s->sealed_len = 0;
        }
        install_state(mgr, s, st.map, &st.state, st.revision);
        st.map = NULL;
        install_meta(mgr, s, &st.meta, now);
        stored_dispose(&st);
        return 0;
    }
    stored_dispose(&st);
    if (rc != CSESSION_ENOTFOUND)
        return rc;
    /* Nothing stored: start again from an empty session. A key that is
     * gone was ended by another request: the commit then removes the
     * cookie rather than storing anything. */
    csession__session_empty_map(s);
    csession__session_forget_changes(s);
    csession_buf_dispose(&s->base);
    s->status = CSESSION_STATUS_UNCHANGED;
    s->revision = 0;
    s->ended = s->key.size > 0;
    return 0;
}

/* ---- commit ----------------------------------------------------------- */

/* Merges a commit tries before it answers CSESSION_ECONFLICT. */
#define MERGE_ATTEMPTS 8

/* The outcome of a commit, applied to the session only once all succeeded. */
typedef struct commit_result {
    int action;          /* csession_token_action */
    int gone;            /* another request ended the session: CSESSION_EGONE */
    csession_buf key;    /* the session key from now on (SET) */
    csession_buf sealed; /* the key sealed anew for the client (SET) */
    const char *value;   /* what the client gets (SET): sealed, or the session's */
    size_t value_len;
    /* What the store holds now, when the commit wrote it: */
    int wrote;
    cJSON *merged;       /* the map, when a merge made it (else the session's) */
    csession_buf stored; /* the encoded state, the base of the next merge */
    uint64_t revision;
    /* The lifetime members written, and what follows from them. */
    csession__state_meta meta;
    int64_t now;
    int64_t ttl;         /* of the state, and Max-Age of a persistent cookie */
    int persistent;
} commit_result;

static void result_init(commit_result *r)
{
    memset(r, 0, sizeof *r);
    r->action = CSESSION_TOKEN_KEEP;
    csession_buf_init(&r->key);
    csession_buf_init(&r->sealed);
    csession_buf_init(&r->stored);
}

static void result_dispose(commit_result *r)
{
    csession_buf_dispose(&r->key);
    csession_buf_dispose(&r->sealed);
    csession_buf_dispose(&r->stored);
    csession__json_delete_wiped(r->merged);
}

/* The TTL and lifecycle that follow from r->meta. */
static void settle_lifetime(const csession_manager *mgr, commit_result *r)
{
    r->ttl = csession__flow_ttl(&r->meta, &mgr->policy, r->now);
    r->persistent = csession__flow_persistent(&r->meta, &mgr->policy);
}

static int encode(const cJSON *map, const commit_result *r, csession_buf *out)
{
    return csession__state_encode(map, &r->meta, CSESSION__NO_EXP, out);
}

/* A decoded state for merging; an undecodable one counts as empty. */
static int decode_for_merge(const csession_buf *state, cJSON **map)
{
    int rc = state->size ? csession__state_decode(state->ptr, state->size, map, NULL)
                         : CSESSION_EFORMAT;
    if (rc == CSESSION_ENOMEM)
        return rc;
    if (rc) {
        *map = cJSON_CreateObject();
        if (!*map)
            return csession__oom();
    }
    return 0;
}

/* 1 when `a` and `b` hold the same key. */
static int same_key(const csession_buf *a, const csession_buf *b)
{
    return a->size == b->size && csession__key_equal(a->ptr, b->ptr, a->size);
}

/*
 * After a write of `key` met a newer revision: reads the newest state (into
 * `latest`, following a rotation to the key it moved to: latest->live) and
 * re-applies the request's changes on it, relative to `base`, into *merged.
 * The lifetime chosen by another request stays unless this one chose one.
 * Returns 0, CSESSION_ENOTFOUND (the key is gone), CSESSION_ECONFLICT, or
 * a failure.
 */
static int merge_newest(csession_manager *mgr, const csession *s, const csession_buf *key,
                        const csession_buf *base, stored_state *latest, commit_result *r,
                        cJSON **merged)
{
    stored_dispose(latest);
    int rc = read_live(mgr, key, 0, r->now, latest);
    if (rc)
        return rc;
    cJSON *b = NULL;
    if ((rc = decode_for_merge(base, &b)))
        return rc;
    rc = csession__flow_merge(s, b, latest->map, merged);
    csession__json_delete_wiped(b);
    if (rc == CSESSION_ECONFLICT)
        rc = csession__error(CSESSION_ECONFLICT,
                             "another request changed the same session keys: reload the "
                             "session with csession_manager_reload() and run the request again");
    if (!rc && !s->life_changed) {
        r->meta.life = latest->meta.life;
        settle_lifetime(mgr, r);
    }
    return rc;
}

/*
 * CHANGED on a store with revisions: writes the state back if nobody wrote
 * since it was loaded; otherwise merges onto the newest state and tries
 * again, at most MERGE_ATTEMPTS times. When the key was rotated meanwhile,
 * the write goes to the key the session moved to. The session is not
 * touched: the result says what the store holds afterwards.
 */
static int write_back(csession_manager *mgr, const csession *s, commit_result *r)
{
    uint64_t rev = s->revision;
    /* The state the next conflict is measured from: as loaded, then the
     * newest one merged onto. */
    const csession_buf *base = &s->base;
    const csession_buf *target = &s->key;
    stored_state newest[2];
    stored_init(&newest[0]);
    stored_init(&newest[1]);
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        const cJSON *map = r->merged ? r->merged : s->map;
        if ((rc = encode(map, r, &r->stored)))
            break;
        rc = csession__store_update_if(mgr->store, target->ptr, target->size, rev, r->stored.ptr,
                                       r->stored.size, r->ttl);
        if (rc != CSESSION_ECONFLICT)
            break;
        if (attempt + 1 == MERGE_ATTEMPTS) {
            rc = csession__error(CSESSION_ECONFLICT,
                                 "the session kept changing under this commit (%d merges)",
                                 MERGE_ATTEMPTS);
            break;
        }
        stored_state *latest = &newest[attempt % 2];
        cJSON *merged = NULL;
        rc = merge_newest(mgr, s, target, base, latest, r, &merged);
        if (rc)
            break;
        csession__json_delete_wiped(r->merged);
        r->merged = merged;
        rev = latest->revision;
        base = &latest->state;
        target = &latest->live;
        atomic_fetch_add_explicit(&mgr->merges, 1, memory_order_relaxed);
    }
    if (rc == 0) {
        r->wrote = 1;
        r->revision = rev + 1;
        rc = csession__buf_set(&r->key, target->ptr, target->size);
    } else if (rc == CSESSION_ENOTFOUND) {
        r->gone = 1;
    }
    stored_dispose(&newest[0]);
    stored_dispose(&newest[1]);
    return rc;
}

/* Another request rotated the key first: this one writes to that key. */
#define ROTATED_BY_OTHER 1

/* Replaces the state of `key` (at `rev`) with a record naming the new key
 * r->key for the grace period, kept as long as the session would be. */
static int retire_key(csession_manager *mgr, const csession_buf *key, uint64_t rev,
                      commit_result *r)
{
    csession__state_meta record;
    csession__state_meta_init(&record);
    memcpy(record.id, r->meta.id, sizeof record.id);
    record.created = r->meta.created;
    if (r->key.size > CSESSION__RETIRED_KEY_MAX)
        return csession__error(CSESSION_EINVAL, "session key too long to rotate");
    memcpy(record.to, r->key.ptr, r->key.size);
    record.to_len = r->key.size;
    record.until = r->now + mgr->policy.rotate_grace;
    cJSON *empty = cJSON_CreateObject();
    if (!empty)
        return csession__oom();
    csession_buf text = CSESSION_BUF_INIT;
    int rc = csession__state_encode(empty, &record, CSESSION__NO_EXP, &text);
    cJSON_Delete(empty);
    if (!rc)
        rc = csession__store_update_if(mgr->store, key->ptr, key->size, rev, text.ptr, text.size,
                                       r->ttl);
    csession_buf_dispose(&text);
    return rc;
}

/*
 * RENEWED, and ROTATE (`rotate`): the state under a new key first, so that
 * a failure leaves the old session as it was; then the old key retired:
 * deleted, or for a rotation replaced by a record naming the new key. On a
 * store with revisions the old key goes only if nobody wrote to it since it
 * was loaded; a parallel write is merged into the new key first, so that
 * it is not left behind under the old one. A rotation that finds the key
 * rotated by another request already gives up its new key and answers
 * ROTATED_BY_OTHER.
 */
static int renew(csession_manager *mgr, const csession *s, commit_result *r, int rotate)
{
    csession_store *st = mgr->store;
    int rc = encode(s->map, r, &r->stored);
    if (!rc)
        rc = csession__store_save_meta(st, &mgr->caps, &r->meta, r->stored.ptr, r->stored.size,
                                       r->ttl, CSESSION_SAVE_RENEWED, &r->key);
    if (rc)
        return rc;
    uint64_t new_rev = 1; /* a save starts at 1 */
    uint64_t rev = s->revision;
    const csession_buf *base = &s->base;
    const csession_buf *target = &s->key;
    stored_state newest[2];
    stored_init(&newest[0]);
    stored_init(&newest[1]);
    for (int attempt = 0;; attempt++) {
        if (rotate) {
            rc = retire_key(mgr, target, rev, r);
        } else if (!mgr->caps.remove_if) {
            rc = csession__store_remove(st, target->ptr, target->size);
            break;
        } else {
            rc = csession__store_remove_if(st, target->ptr, target->size, rev);
        }
        if (rc != CSESSION_ECONFLICT)
            break;
        if (attempt + 1 == MERGE_ATTEMPTS) {
            rc = csession__error(CSESSION_ECONFLICT,
                                 "the session kept changing under this renewal (%d merges)",
                                 MERGE_ATTEMPTS);
            break;
        }
        stored_state *latest = &newest[attempt % 2];
        cJSON *merged = NULL;
        rc = merge_newest(mgr, s, target, base, latest, r, &merged);
        if (rc)
            break;
        csession__json_delete_wiped(r->merged);
        r->merged = merged;
        if (rotate && !same_key(&latest->live, target)) {
            rc = ROTATED_BY_OTHER;
            break;
        }
        if ((rc = encode(merged, r, &r->stored)))
            break;
        /* Nobody else knows the new key: this write cannot conflict. */
        rc = csession__store_update_if(st, r->key.ptr, r->key.size, new_rev, r->stored.ptr,
                                       r->stored.size, r->ttl);
        if (rc == CSESSION_ECONFLICT || rc == CSESSION_ENOTFOUND)
            rc = csession__error(CSESSION_ESTORE,
                                 "the renewed session changed or vanished in the store");
        if (rc)
            break;
        new_rev++;
        rev = latest->revision;
        base = &latest->state;
        target = &latest->live;
        atomic_fetch_add_explicit(&mgr->merges, 1, memory_order_relaxed);
    }
    stored_dispose(&newest[0]);
    stored_dispose(&newest[1]);
    if (rc == 0) {
        r->wrote = 1;
        r->revision = new_rev;
        if (rotate)
            atomic_fetch_add_explicit(&mgr->rotations, 1, memory_order_relaxed);
        return 0;
    }
    if (rc == CSESSION_ENOTFOUND)
        r->gone = 1; /* ended by another request meanwhile: no new session either */
    /* The new key must not outlive a renewal that did not happen; the old
     * session stays as it was (unless another request ended it). The
     * removal is best effort and must not replace the error reported. */
    char message[512];
    snprintf(message, sizeof message, "%s", csession_last_error());
    csession__store_remove(st, r->key.ptr, r->key.size);
    if (rc != CSESSION_ENOTFOUND && rc != ROTATED_BY_OTHER)
        csession__error(rc, "%s", message);
    csession__buf_clear(&r->key);
    csession__json_delete_wiped(r->merged);
    r->merged = NULL;
    return rc;
}

/* Writes the session's state: under a new key (old_key NULL) or through
 * the version 1 update (last write wins; a vanished key falls back to save). */
static int store_state(csession_manager *mgr, const csession *s, const csession_buf *old_key,
                       commit_result *r)
{
    int rc = encode(s->map, r, &r->stored);
    if (rc)
        return rc;
    /* a first session that renewed already (a login on the first visit) */
    unsigned int flags = s->status == CSESSION_STATUS_RENEWED ? CSESSION_SAVE_RENEWED : 0;
    rc = old_key ? csession__store_update(mgr->store, old_key->ptr, old_key->size,
                                          r->stored.ptr, r->stored.size, r->ttl, &r->key)
                 : csession__store_save_meta(mgr->store, &mgr->caps, &r->meta, r->stored.ptr,
                                             r->stored.size, r->ttl, flags, &r->key);
    if (!rc) {
        r->wrote = 1;
        r->revision = 1; /* a new key; for a version 1 update, unused */
        /* the version 1 update does not say the revision: no merge base */
        if (old_key)
            csession__buf_clear(&r->stored);
    }
    return rc;
}

/* 1 for the operations that write the state (and so its lifetime members). */
static int op_writes(csession__flow_op op)
{
    return op == CSESSION__FLOW_SAVE || op == CSESSION__FLOW_UPDATE ||
           op == CSESSION__FLOW_RENEW || op == CSESSION__FLOW_ROTATE ||
           op == CSESSION__FLOW_RESEAL;
}

/* The lifetime members the commit writes, and the TTL they give. */
static void prepare_lifetime(const csession_manager *mgr, const csession *s,
                             csession__flow_op op, commit_result *r)
{
    r->now = csession__wall_now();
    r->meta = s->meta;
    if (op_writes(op)) {
        if (!r->meta.id[0])
            csession__public_id_new(r->meta.id);
        int new_key = op == CSESSION__FLOW_SAVE || op == CSESSION__FLOW_RENEW ||
                      op == CSESSION__FLOW_ROTATE;
        csession__flow_meta_for_write(&r->meta, new_key, r->now);
    }
    settle_lifetime(mgr, r);
}

/* Carries out the decision of the table for `s` and seals the key. */
static int commit_core(csession_manager *mgr, const csession *s, commit_result *r)
{
    const csession__flow_policy *p = &mgr->policy;
    int rc = 0;
    r->action = CSESSION_TOKEN_KEEP;
    csession__flow_op op = csession__flow_decide(s, p);
    prepare_lifetime(mgr, s, op, r);
    switch (op) {
    case CSESSION__FLOW_NOTHING:
        return 0;
    case CSESSION__FLOW_ENDED:
        r->gone = 1;
        rc = CSESSION_ENOTFOUND;
        break;
    case CSESSION__FLOW_SAVE:
        rc = store_state(mgr, s, NULL, r);
        break;
    case CSESSION__FLOW_UPDATE:
        rc = mgr->caps.update_if ? write_back(mgr, s, r) : store_state(mgr, s, &s->key, r);
        break;
    case CSESSION__FLOW_REMOVE:
        rc = csession__store_remove_meta(mgr->store, &s->meta, s->key.ptr, s->key.size);
        if (!rc)
            r->action = CSESSION_TOKEN_CLEAR;
        return rc;
    case CSESSION__FLOW_RENEW:
        rc = renew(mgr, s, r, 0);
        break;
    case CSESSION__FLOW_ROTATE:
        rc = renew(mgr, s, r, 1);
        if (rc == ROTATED_BY_OTHER) {
            prepare_lifetime(mgr, s, CSESSION__FLOW_UPDATE, r);
            rc = write_back(mgr, s, r);
        }
        break;
    case CSESSION__FLOW_RESEAL:
        rc = store_state(mgr, s, &s->key, r);
        break;
    case CSESSION__FLOW_TOUCH:
        rc = csession__store_update_ttl(mgr->store, s->key.ptr, s->key.size, r->ttl);
        if (rc || !csession__flow_touch_resends(s, p))
            return rc;
        rc = csession__buf_set(&r->key, s->key.ptr, s->key.size);
        break;
    case CSESSION__FLOW_RESEND:
        rc = csession__buf_set(&r->key, s->key.ptr, s->key.size);
        break;
    }
    if (rc == CSESSION_ECONFLICT) {
        atomic_fetch_add_explicit(&mgr->conflicts, 1, memory_order_relaxed);
        csession__log_count(&conflicts);
    }
    if (r->gone) {
        /* Another request ended this session (logout, renewal): nothing is
         * stored, and the client is told to drop its cookie. */
        atomic_fetch_add_explicit(&mgr->gone, 1, memory_order_relaxed);
        csession__log_count(&ended_elsewhere);
        r->action = CSESSION_TOKEN_CLEAR;
        return csession__error(CSESSION_EGONE,
                               "the session was ended by another request (logout or renewal); "
                               "nothing was stored");
    }
    if (rc)
        return rc;
    if (can_resend(mgr, s, &r->key)) {
        r->value = s->sealed;
        r->value_len = s->sealed_len;
    } else {
        rc = csession__cookie_seal(&r->sealed, mgr->cfg->keys, mgr->cfg->security,
                                   mgr->attrs.name, mgr->attrs.name_len, r->key.ptr,
                                   r->key.size);
        if (rc)
            return rc;
        r->value = r->sealed.ptr;
        r->value_len = r->sealed.size;
    }
    r->action = CSESSION_TOKEN_SET;
    return 0;
}

/* An ended session becomes a fresh empty one: no key, nothing to store. */
static void forget_session(csession *s)
{
    csession__session_empty_map(s);
    csession_buf_dispose(&s->key);
    csession_buf_dispose(&s->base);
    csession__session_forget_changes(s);
    s->sealed_len = 0;
    s->revision = 0;
    s->ended = 0;
    s->status = CSESSION_STATUS_UNCHANGED;
}

/* Marks the session committed: it now lives under the key the client has. */
static void apply_result(const csession_manager *mgr, csession *s, commit_result *r)
{
    if (r->gone) {
        forget_session(s);
    } else if (r->action == CSESSION_TOKEN_CLEAR) {
        csession_buf_dispose(&s->key);
        csession_buf_dispose(&s->base);
        s->sealed_len = 0;
    } else if (r->action == CSESSION_TOKEN_SET) {
        csession_buf_dispose(&s->key);
        s->key = r->key;
        csession_buf_init(&r->key);
        s->status = CSESSION_STATUS_UNCHANGED;
        if (r->value != s->sealed)
            remember_sealed(mgr, s, r->value, r->value_len);
    }
    if (r->wrote) {
        s->meta = r->meta;
        s->meta_due = s->rotate_due = s->life_changed = 0;
        if (r->merged) {
            csession__session_set_map(s, r->merged);
            r->merged = NULL;
        }
        s->revision = r->revision;
        csession_buf_dispose(&s->base);
        if (mgr->caps.update_if) {
            s->base = r->stored;
            csession_buf_init(&r->stored);
        }
    }
    csession__session_forget_changes(s);
    s->reissue = 0;
}

static int check_commit_args(const csession_manager *mgr, const csession *s, const void *out)
{
    if (!mgr || !s || !out)
        return csession__error(CSESSION_EINVAL, "NULL manager, session or output");
    return 0;
}

int csession_manager_commit(csession_manager *mgr, csession *s, csession_buf *set_cookie)
{
    int rc = check_commit_args(mgr, s, set_cookie);
    if (rc)
        return rc;
    csession__buf_clear(set_cookie);
    commit_result r;
    result_init(&r);
    rc = commit_core(mgr, s, &r);
    if (!rc && r.action == CSESSION_TOKEN_SET) {
        csession__cookie_attrs attrs = mgr->attrs;
        if (r.persistent) {
            attrs.has_max_age = 1;
            attrs.max_age = r.ttl;
            attrs.has_expires = 1; /* for clients that predate Max-Age */
            attrs.expires = (int64_t)time(NULL) + r.ttl;
        }
        rc = csession__cookie_format(set_cookie, &attrs, r.value, r.value_len);
    } else if ((!rc || r.gone) && r.action == CSESSION_TOKEN_CLEAR) {
        int f = csession__cookie_format_removal(set_cookie, &mgr->attrs);
        if (f)
            rc = f;
    }
    if (!rc || (rc == CSESSION_EGONE && r.gone))
        apply_result(mgr, s, &r);
    else
        csession__buf_clear(set_cookie);
    result_dispose(&r);
    return rc;
}

int csession_manager_commit_token(csession_manager *mgr, csession *s, csession_buf *token,
                                  int *action)
{
    int rc = check_commit_args(mgr, s, token);
    if (rc)
        return rc;
    if (!action)
        return csession__error(CSESSION_EINVAL, "action is NULL");
    *action = CSESSION_TOKEN_KEEP;
    csession__buf_clear(token);
    commit_result r;
    result_init(&r);
    rc = commit_core(mgr, s, &r);
    if (!rc && r.action == CSESSION_TOKEN_SET)
        rc = csession__buf_set(token, r.value, r.value_len);
    if (!rc || (rc == CSESSION_EGONE && r.gone)) {
        *action = r.action;
        apply_result(mgr, s, &r);
    }
    result_dispose(&r);
    return rc;
}
