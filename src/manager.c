/*
 * The request flow: Cookie header -> session, session -> store calls and a
 * Set-Cookie header, following actix-session's middleware rules.
 */
#include "csession/manager.h"

#include <stdatomic.h>
#include <stdint.h>
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
#include "store.h"
#include "stores/cookie_store.h"
#include "stores/redis/redis_store.h"

struct csession_manager {
    csession_config *cfg;          /* private copy, never modified */
    csession__cookie_attrs attrs;  /* Set-Cookie attributes; strings point into cfg */
    csession_store *store;
    /* The cookie store keeps the state in the cookie: its sessions are
     * re-sealed, not touched, when the TTL policy extends them. */
    int state_in_cookie;
    /* The store can load and extend the TTL in one call (Redis GETEX), and
     * the policy wants the TTL extended on every request. */
    int touch_on_load;
    /* Tells this manager from every other one of the process, also from a
     * later one at the same address: a session remembers which manager's
     * key sealed its cookie (see remember_sealed). Never 0. */
    uint64_t id;
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
    mgr->state_in_cookie = csession__store_is_cookie(mgr->store);
    mgr->touch_on_load = csession__store_is_redis(mgr->store) &&
                         mgr->cfg->ttl_policy == CSESSION_TTL_ON_EVERY_REQUEST;
    *out = mgr;
    return 0;
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
    if (mgr->state_in_cookie || len > sizeof s->sealed)
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
 * Builds the session for a session key that opened: asks the store for the
 * state and applies the load rules. Takes `key` (its buffer is moved into
 * the session or disposed). `sealed` is the cookie value it came in.
 */
static int load_with_key(csession_manager *mgr, csession_buf *key, int reissue,
                         const char *sealed, size_t sealed_len, csession **out)
{
    csession_buf state = CSESSION_BUF_INIT;
    csession *s = NULL;
    cJSON *map = NULL;
    int rc = mgr->touch_on_load
                 ? csession__store_redis_load_touch(mgr->store, key->ptr, key->size, mgr->cfg->ttl,
                                                    &state)
                 : csession__store_load(mgr->store, key->ptr, key->size, &state);
    if (rc == CSESSION_ENOTFOUND) {
        /* expired or unknown: a fresh session, and the key is forgotten */
        csession_buf_dispose(key);
        csession_buf_dispose(&state);
        return csession__session_new_with_map(out, NULL);
    }
    if (rc)
        goto done;
    rc = csession__state_decode(state.ptr, state.size, &map, NULL);
    if (rc == CSESSION_ENOMEM)
        goto done;
    /* A state that does not decode gives an empty session that keeps the
     * key, so that the next write replaces the bad state. */
    if ((rc = csession__session_new_with_map(&s, rc ? NULL : map))) {
        cJSON_Delete(map);
        goto done;
    }
    s->key = *key;
    csession_buf_init(key);
    s->reissue = reissue;
    if (!reissue)
        remember_sealed(mgr, s, sealed, sealed_len);
    s->ttl_touched = mgr->touch_on_load;
    *out = s;
done:
    csession_buf_dispose(&state);
    csession_buf_dispose(key);
    return rc;
}

/* Opens one sealed value. 0 with the key in `key`, or CSESSION_EINVALIDCOOKIE. */
static int open_sealed(csession_manager *mgr, const char *sealed, size_t len, csession_buf *key,
                       size_t *key_index)
{
    return csession__cookie_open(key, key_index, mgr->cfg->keys, mgr->cfg->security,
                                 mgr->attrs.name, mgr->attrs.name_len, sealed, len);
}

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
    }
    csession_buf_dispose(&key); /* a failed open leaves it empty, not unallocated */
    if (rc != CSESSION_ENOTFOUND && !is_bad_value(rc))
        return rc;
    return csession__session_new_with_map(out, NULL);
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
    }
    return csession__session_new_with_map(out, NULL);
}

/* ---- commit ----------------------------------------------------------- */

/* The outcome of a commit, applied to the session only once all succeeded. */
typedef struct commit_result {
    int action;         /* csession_token_action */
    csession_buf key;   /* the session key from now on (SET) */
    csession_buf sealed; /* the key sealed anew for the client (SET) */
    const char *value;  /* what the client gets (SET): sealed, or the session's */
    size_t value_len;
} commit_result;

#define COMMIT_RESULT_INIT { CSESSION_TOKEN_KEEP, CSESSION_BUF_INIT, CSESSION_BUF_INIT, NULL, 0 }

static void result_dispose(commit_result *r)
{
    csession_buf_dispose(&r->key);
    csession_buf_dispose(&r->sealed);
}

static int store_state(csession_manager *mgr, const csession *s, const csession_buf *old_key,
                       csession_buf *new_key)
{
    csession_buf state = CSESSION_BUF_INIT;
    int rc = csession__state_encode(s->map, CSESSION__NO_EXP, &state);
    if (!rc) {
        rc = old_key ? csession__store_update(mgr->store, old_key->ptr, old_key->size, state.ptr,
                                              state.size, mgr->cfg->ttl, new_key)
                     : csession__store_save(mgr->store, state.ptr, state.size, mgr->cfg->ttl,
                                            new_key);
    }
    csession_buf_dispose(&state);
    return rc;
}

/* Runs the store calls the decision table asks for and seals the key. */
static int commit_core(csession_manager *mgr, const csession *s, commit_result *r)
{
    csession_store *st = mgr->store;
    const csession_config *cfg = mgr->cfg;
    int has_key = s->key.size > 0;
    int rc = 0;
    r->action = CSESSION_TOKEN_KEEP;

    if (!has_key) {
        if (csession_count(s) == 0)
            return 0; /* never store or send an empty session */
        rc = store_state(mgr, s, NULL, &r->key);
    } else {
        switch (s->status) {
        case CSESSION_STATUS_CHANGED:
            rc = store_state(mgr, s, &s->key, &r->key);
            break;
        case CSESSION_STATUS_PURGED:
            rc = csession__store_remove(st, s->key.ptr, s->key.size);
            if (!rc)
                r->action = CSESSION_TOKEN_CLEAR;
            return rc;
        case CSESSION_STATUS_RENEWED:
            /* As actix-session: drop the old key first, so that it can never
             * be used again even if saving fails. */
            rc = csession__store_remove(st, s->key.ptr, s->key.size);
            if (!rc)
                rc = store_state(mgr, s, NULL, &r->key);
            break;
        default: /* UNCHANGED */
            if (cfg->ttl_policy == CSESSION_TTL_ON_EVERY_REQUEST) {
                if (mgr->state_in_cookie) {
                    /* the expiry travels sealed in the cookie: seal anew */
                    rc = store_state(mgr, s, &s->key, &r->key);
                    break;
                }
                if (!s->ttl_touched &&
                    (rc = csession__store_update_ttl(st, s->key.ptr, s->key.size, cfg->ttl)))
                    return rc;
                if (cfg->lifecycle != CSESSION_LIFECYCLE_PERSISTENT && !s->reissue)
                    return 0;
            } else if (!s->reissue) {
                return 0;
            }
            rc = csession__buf_set(&r->key, s->key.ptr, s->key.size);
            break;
        }
    }
    if (rc)
        return rc;
    if (can_resend(mgr, s, &r->key)) {
        r->value = s->sealed;
        r->value_len = s->sealed_len;
    } else {
        rc = csession__cookie_seal(&r->sealed, cfg->keys, cfg->security, mgr->attrs.name,
                                   mgr->attrs.name_len, r->key.ptr, r->key.size);
        if (rc)
            return rc;
        r->value = r->sealed.ptr;
        r->value_len = r->sealed.size;
    }
    r->action = CSESSION_TOKEN_SET;
    return 0;
}

/* Marks the session committed: it now lives under the key the client has. */
static void apply_result(const csession_manager *mgr, csession *s, commit_result *r)
{
    if (r->action == CSESSION_TOKEN_CLEAR) {
        csession_buf_dispose(&s->key);
        s->sealed_len = 0;
    } else if (r->action == CSESSION_TOKEN_SET) {
        csession_buf_dispose(&s->key);
        s->key = r->key;
        csession_buf_init(&r->key);
        s->status = CSESSION_STATUS_UNCHANGED;
        if (r->value != s->sealed)
            remember_sealed(mgr, s, r->value, r->value_len);
    }
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
    commit_result r = COMMIT_RESULT_INIT;
    rc = commit_core(mgr, s, &r);
    if (!rc && r.action == CSESSION_TOKEN_SET) {
        csession__cookie_attrs attrs = mgr->attrs;
        if (mgr->cfg->lifecycle == CSESSION_LIFECYCLE_PERSISTENT) {
            attrs.has_max_age = 1;
            attrs.max_age = mgr->cfg->ttl;
            attrs.has_expires = 1; /* for clients that predate Max-Age */
            attrs.expires = (int64_t)time(NULL) + mgr->cfg->ttl;
        }
        rc = csession__cookie_format(set_cookie, &attrs, r.value, r.value_len);
    } else if (!rc && r.action == CSESSION_TOKEN_CLEAR) {
        rc = csession__cookie_format_removal(set_cookie, &mgr->attrs);
    }
    if (!rc)
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
    commit_result r = COMMIT_RESULT_INIT;
    rc = commit_core(mgr, s, &r);
    if (!rc && r.action == CSESSION_TOKEN_SET)
        rc = csession__buf_set(token, r.value, r.value_len);
    if (!rc) {
        *action = r.action;
        apply_result(mgr, s, &r);
    }
    result_dispose(&r);
    return rc;
}
