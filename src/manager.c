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
#include "manager_flow.h"
#include "manager_stats.h"
#include "store.h"
#include "store_users.h"

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

/* ---- the flow: a step machine --------------------------------------------- */

/*
 * Every store operation of the flow is a yield point (manager_flow.h). A
 * step function keeps its position in its frame's `pc` (0: at its start)
 * and everything that must outlive a store operation in its frame, never
 * in a local variable; FLOW_STORE hands f->call to the driver and returns,
 * and the next call of the step function resumes right behind it (the
 * technique of Simon Tatham's coroutines in C). FLOW_RUN runs another step
 * function to its end, yielding whenever it yields. A yield point may sit
 * inside loops and ifs of a step function, but inside no switch statement
 * of its own, and at most one per line.
 */
#if defined(__GNUC__) || defined(__clang__)
#define FLOW_FALLTHROUGH __attribute__((fallthrough))
#else
#define FLOW_FALLTHROUGH ((void)0)
#endif
#define FLOW_BEGIN(pc)                                                                             \
    switch (pc) {                                                                                  \
    case 0:
#define FLOW_END }
#define FLOW_STORE(pc)                                                                             \
    do {                                                                                           \
        (pc) = __LINE__;                                                                           \
        return CSESSION__FLOW_YIELD;                                                               \
    case __LINE__:;                                                                                \
    } while (0)
#define FLOW_RUN(pc, rc, step)                                                                     \
    do {                                                                                           \
        (pc) = __LINE__;                                                                           \
        FLOW_FALLTHROUGH;                                                                          \
    case __LINE__:                                                                                 \
        if (((rc) = (step)) == CSESSION__FLOW_YIELD)                                               \
            return CSESSION__FLOW_YIELD;                                                           \
    } while (0)

/* Another request rotated the key first: this one writes to that key. */
#define ROTATED_BY_OTHER 2

/* Following a session's retired records (read_live). */
typedef struct live_frame {
    int pc;
    const csession_buf *key;
    int64_t touch, now;
    stored_state *st;
    int hop;
} live_frame;

/* Revoking a session whose retired key was stolen. */
typedef struct revoke_frame {
    int pc;
    const csession_buf *key;
    stored_state *st;
    int hop;
    csession_buf next;
    char id[CSESSION__PUBLIC_ID_LEN + 1];
} revoke_frame;

/* A load, or a reload. */
typedef struct load_frame {
    int pc;
    csession_buf key;    /* the key the cookie opened to */
    int found;           /* a cookie opened */
    int reissue;         /* opened by an old key of the ring */
    size_t sealed_len;   /* the value it came in (kept when it fits) */
    char sealed[CSESSION__SEALED_KEY_MAX];
    int64_t now, touch;
    stored_state st;
} load_frame;

/* Reading the newest state after a conflict and merging onto it. */
typedef struct merge_frame {
    int pc;
    const csession_buf *key, *base;
    stored_state *latest;
    cJSON *merged;
} merge_frame;

/* The loop of conditional writes and merges (write_back and renew). */
typedef struct write_frame {
    int pc;
    int attempt;
    uint64_t rev;
    const csession_buf *base, *target;
    stored_state newest[2], *latest;
    /* renew only */
    int rotate;
    uint64_t new_rev;
    csession_buf record; /* a retired key's record */
    int failed;
    char message[512];
} write_frame;

typedef struct commit_frame {
    int pc;
    csession__flow_op op;
    commit_result r;
} commit_frame;

enum { FLOW_LOAD, FLOW_LOAD_TOKEN, FLOW_RELOAD, FLOW_COMMIT, FLOW_COMMIT_TOKEN };

/* Frames that hold memory, made ready on first use (own()). */
#define OWN_LOAD 0x1u
#define OWN_COMMIT 0x2u
#define OWN_WRITE 0x4u
#define OWN_REVOKE 0x8u

struct csession__flow {
    csession_manager *mgr;
    int what;                /* FLOW_* */
    unsigned int owned;      /* OWN_* */
    /* The store operation due, and its answer. */
    csession_store_call call;
    int call_rc, call_touched;
    /* Arguments and outputs. */
    const char *header;      /* load: read by the first step only */
    size_t header_len;
    csession **out;          /* load */
    csession *s;             /* commit, reload */
    csession_buf *set_cookie, *token;
    int *action;
    /* Frames of the step functions (none runs twice at a time). */
    load_frame load;
    commit_frame commit;
    write_frame write;
    merge_frame merge;
    live_frame live;
    revoke_frame revoke;
};

static void flow_init(csession__flow *f, csession_manager *mgr, int what)
{
    f->mgr = mgr;
    f->what = what;
    f->owned = 0;
    memset(&f->call, 0, sizeof f->call);
    f->call.version = 1;
    f->call_rc = f->call_touched = 0;
    f->header = NULL;
    f->header_len = 0;
    f->out = NULL;
    f->s = NULL;
    f->set_cookie = f->token = NULL;
    f->action = NULL;
    f->merge.merged = NULL;
}

/* Makes the frames in `frames` (OWN_* bits) ready the first time a flow
 * needs them: most flows use few of them, and a blocking call pays for
 * what it uses only. */
static void own(csession__flow *f, unsigned int frames)
{
    unsigned int fresh = frames & ~f->owned;
    f->owned |= frames;
    if (fresh & OWN_LOAD) {
        f->load.pc = 0;
        csession_buf_init(&f->load.key);
        f->load.found = f->load.reissue = 0;
        f->load.sealed_len = 0;
        stored_init(&f->load.st);
    }
    if (fresh & OWN_COMMIT) {
        f->commit.pc = 0;
        result_init(&f->commit.r);
    }
    if (fresh & OWN_WRITE) {
        stored_init(&f->write.newest[0]);
        stored_init(&f->write.newest[1]);
        csession_buf_init(&f->write.record);
    }
    if (fresh & OWN_REVOKE)
        csession_buf_init(&f->revoke.next);
}

static void flow_dispose(csession__flow *f)
{
    if (f->owned & OWN_LOAD) {
        csession_buf_dispose(&f->load.key);
        stored_dispose(&f->load.st);
    }
    if (f->owned & OWN_COMMIT)
        result_dispose(&f->commit.r);
    if (f->owned & OWN_WRITE) {
        stored_dispose(&f->write.newest[0]);
        stored_dispose(&f->write.newest[1]);
        csession_buf_dispose(&f->write.record);
    }
    if (f->owned & OWN_REVOKE)
        csession_buf_dispose(&f->revoke.next);
    f->owned = 0;
    csession__json_delete_wiped(f->merge.merged);
    f->merge.merged = NULL;
}

/* Describes the store operation due: `kind` on `key` (NULL: none). */
static csession_store_call *ask(csession__flow *f, int kind, const csession_buf *key)
{
    csession_store_call *c = &f->call;
    c->kind = kind;
    c->key = key ? key->ptr : NULL;
    c->key_len = key ? key->size : 0;
    c->state = NULL;
    c->state_len = 0;
    c->ttl_seconds = c->touch_ttl_seconds = 0;
    c->expected_revision = 0;
    c->save_flags = 0;
    c->state_out = c->key_out = NULL;
    c->revision_out = 0;
    c->user = NULL;
    c->user_len = 0;
    return c;
}

/* Reads the state of `key` into `state`, extending its TTL in the same call
 * when `touch` is above 0. */
static void ask_read(csession__flow *f, const csession_buf *key, int64_t touch,
                     csession_buf *state)
{
    csession_store_call *c = ask(f, CSESSION_CALL_LOAD_REV, key);
    c->touch_ttl_seconds = touch;
    c->state_out = state;
}

/* A SAVE or REMOVE of a session bound to a user goes through the store's
 * index of users' sessions (store_users.h) when it keeps one. */
static void bind_call(csession__flow *f, const csession__state_meta *meta)
{
    csession_store_call *c = &f->call;
    c->kind = csession__store_call_kind_for(f->mgr->store, meta, c->kind);
    if (c->kind == CSESSION_CALL_USER_SAVE || c->kind == CSESSION_CALL_USER_REMOVE) {
        c->user = meta->user;
        c->user_len = meta->user_len;
    }
}

/* A write of `state`: SAVE (key NULL, the new key into `key_out`), UPDATE,
 * or UPDATE_IF at `rev`. */
static void ask_write(csession__flow *f, int kind, const csession_buf *key, uint64_t rev,
                      const csession_buf *state, int64_t ttl, csession_buf *key_out)
{
    csession_store_call *c = ask(f, kind, key);
    c->expected_revision = rev;
    c->state = state->ptr;
    c->state_len = state->size;
    c->ttl_seconds = ttl;
    c->key_out = key_out;
}

/* ---- load steps ---------------------------------------------------------- */

static void revoke_begin(csession__flow *f, const csession_buf *key, stored_state *st)
{
    own(f, OWN_REVOKE);
    f->revoke.pc = 0;
    f->revoke.key = key;
    f->revoke.st = st;
}

/* A retired key presented after its grace period: whoever holds it stole
 * it, or the owner is using a cookie it should no longer have. Either way
 * the session is revoked under every key, and the event is logged by its
 * public id (never a key). `st` holds the first record; best effort. */
static int revoke_step(csession__flow *f)
{
    revoke_frame *v = &f->revoke;
    stored_state *st = v->st;
    FLOW_BEGIN(v->pc)
    memcpy(v->id, st->meta.id, sizeof v->id);
    ask(f, CSESSION_CALL_REMOVE, v->key);
    FLOW_STORE(v->pc);
    for (v->hop = 0; v->hop < RETIRED_HOPS && st->meta.to_len; v->hop++) {
        if (csession__buf_set(&v->next, st->meta.to, st->meta.to_len))
            break;
        csession_buf_dispose(&st->state);
        csession__state_meta_init(&st->meta);
        ask_read(f, &v->next, 0, &st->state);
        FLOW_STORE(v->pc);
        if (f->call_rc == 0) {
            cJSON *map = NULL;
            if (csession__state_decode_meta(st->state.ptr, st->state.size, &map, NULL,
                                            &st->meta) != 0)
                csession__state_meta_init(&st->meta);
            csession__json_delete_wiped(map);
        }
        ask(f, CSESSION_CALL_REMOVE, &v->next);
        FLOW_STORE(v->pc);
        csession_buf_dispose(&v->next);
    }
    atomic_fetch_add_explicit(&f->mgr->thefts, 1, memory_order_relaxed);
    log_stolen(v->id);
    FLOW_END
    return 0;
}

static void live_begin(csession__flow *f, const csession_buf *key, int64_t touch, int64_t now,
                       stored_state *st)
{
    f->live.pc = 0;
    f->live.key = key;
    f->live.touch = touch;
    f->live.now = now;
    f->live.st = st;
}

/*
 * Reads the state of `key`, following retired records within their grace
 * period to the key the session lives under now (st->live). Returns 0,
 * CSESSION_ENOTFOUND (no session: unknown, expired, ended, or revoked now
 * as a stolen key) or a failure. An undecodable state gives an empty map.
 */
static int live_step(csession__flow *f)
{
    live_frame *l = &f->live;
    stored_state *st = l->st;
    int rc = 0;
    FLOW_BEGIN(l->pc)
    rc = csession__buf_set(&st->live, l->key->ptr, l->key->size);
    for (l->hop = 0; !rc; l->hop++) {
        csession_buf_dispose(&st->state);
        csession__json_delete_wiped(st->map);
        st->map = NULL;
        ask_read(f, &st->live, l->touch, &st->state);
        FLOW_STORE(l->pc);
        rc = f->call_rc;
        st->revision = f->call.revision_out;
        st->touched = f->call_touched;
        if (!rc)
            rc = decode_state(&st->state, &st->map, &st->meta);
        if (rc || !st->meta.to_len)
            break;
        if (csession__flow_retired_use(&st->meta, l->now) == CSESSION__RETIRED_STOLEN) {
            revoke_begin(f, &st->live, st);
            FLOW_RUN(l->pc, rc, revoke_step(f));
            return CSESSION_ENOTFOUND;
        }
        if (l->hop + 1 == RETIRED_HOPS)
            return CSESSION_ENOTFOUND;
        rc = csession__buf_set(&st->live, st->meta.to, st->meta.to_len);
    }
    FLOW_END
    return rc;
}

/* Keeps the key a sealed value opened to, and the value when it fits. */
static void opened(load_frame *l, const char *sealed, size_t len, size_t key_index)
{
    l->found = 1;
    l->reissue = key_index != 0;
    l->sealed_len = len;
    if (len <= sizeof l->sealed)
        memcpy(l->sealed, sealed, len);
}

/* Finds the session key of a request: the first cookie with the configured
 * name that opens, or the token. 0 (l->found tells whether one opened), or
 * a failure. */
static int find_key(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    load_frame *l = &f->load;
    size_t key_index = 0;
    int rc;
    if (f->what == FLOW_LOAD_TOKEN) {
        if (!f->header_len)
            return 0;
        rc = open_sealed(mgr, f->header, f->header_len, &l->key, &key_index);
        if (!rc) {
            opened(l, f->header, f->header_len, key_index);
            return 0;
        }
        if (!is_bad_value(rc))
            return rc;
        csession__log_count(&unopened);
        return 0;
    }
    if (f->header_len > CSESSION__COOKIE_HEADER_MAX)
        return csession__error(CSESSION_ETOOBIG, "Cookie header of %zu bytes is longer than %d",
                               f->header_len, CSESSION__COOKIE_HEADER_MAX);
    csession__cookie_cursor cursor = CSESSION__COOKIE_CURSOR_INIT;
    const char *raw;
    size_t raw_len;
    /* Duplicates are common (a cookie set for two paths): try each. */
    while ((rc = csession__cookie_find(f->header, f->header_len, mgr->attrs.name,
                                       mgr->attrs.name_len, &cursor, &raw, &raw_len)) !=
           CSESSION_ENOTFOUND) {
        if (rc == CSESSION_ETOOBIG)
            continue; /* an oversized value cannot be ours */
        if (rc)
            break;
        char decoded[CSESSION__COOKIE_VALUE_MAX];
        size_t decoded_len;
        rc = csession__cookie_decode(raw, raw_len, decoded, sizeof decoded, &decoded_len);
        if (!rc)
            rc = open_sealed(mgr, decoded, decoded_len, &l->key, &key_index);
        if (!rc) {
            opened(l, decoded, decoded_len, key_index);
            return 0;
        }
        if (!is_bad_value(rc))
            break;
        csession__log_count(&unopened);
    }
    csession_buf_dispose(&l->key); /* a failed open leaves it empty, not unallocated */
    if (rc != CSESSION_ENOTFOUND && !is_bad_value(rc))
        return rc;
    return 0;
}

/* The session of a load whose store read gave `rc`, by the load rules. */
static int load_end(csession__flow *f, int rc)
{
    csession_manager *mgr = f->mgr;
    load_frame *l = &f->load;
    stored_state *st = &l->st;
    csession *s = NULL;
    if (rc == CSESSION_ENOTFOUND) /* expired or unknown: a fresh session, the key forgotten */
        return new_session(mgr, f->out);
    if (!rc && !(rc = csession__session_new_with_map(&s, st->map)))
        st->map = NULL;
    if (rc)
        return rc;
    s->revision = st->revision;
    if (mgr->caps.update_if) { /* only a merge reads it */
        s->base = st->state;
        csession_buf_init(&st->state);
    }
    /* After a rotation the session lives under another key than the
     * cookie's: the commit sends that one. */
    int moved = !same_key(&st->live, &l->key);
    s->key = st->live;
    csession_buf_init(&st->live);
    s->reissue = l->reissue || moved;
    if (!s->reissue)
        remember_sealed(mgr, s, l->sealed, l->sealed_len);
    install_meta(mgr, s, &st->meta, l->now);
    /* A load that extended the TTL by the configured one does for a
     * session whose own lifetime is that. */
    s->ttl_touched = st->touched && csession__flow_ttl(&s->meta, &mgr->policy, l->now) == l->touch;
    *f->out = s;
    return 0;
}

/* A load: finds the key, asks the store for the state and applies the load
 * rules. */
static int load_step(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    load_frame *l = &f->load;
    stored_state *st = &l->st;
    int rc = 0;
    FLOW_BEGIN(l->pc)
    rc = find_key(f);
    f->header = NULL;
    if (rc)
        return rc;
    if (!l->found)
        return new_session(mgr, f->out);
    l->now = csession__wall_now();
    l->touch = csession__flow_load_touch(&mgr->policy, mgr->policy.ttl);
    /* A sealed value that opens to nothing is no session key: nothing to
     * look up (only a holder of the cookie key can make one). */
    if (l->key.size == 0)
        return load_end(f, CSESSION_ENOTFOUND);
    live_begin(f, &l->key, l->touch, l->now, st);
    FLOW_RUN(l->pc, rc, live_step(f));
    if (!rc && csession__flow_past_absolute(&st->meta, &mgr->policy, l->now)) {
        /* Too old, however active: gone for good. */
        ask(f, CSESSION_CALL_REMOVE, &st->live);
        FLOW_STORE(l->pc);
        rc = f->call_rc;
        if (!rc)
            rc = CSESSION_ENOTFOUND;
    }
    FLOW_END
    return load_end(f, rc);
}

static int reload_step(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    csession *s = f->s;
    load_frame *l = &f->load;
    stored_state *st = &l->st;
    int rc = CSESSION_ENOTFOUND;
    FLOW_BEGIN(l->pc)
    l->now = csession__wall_now();
    if (s->key.size > 0 && !s->ended) {
        live_begin(f, &s->key, 0, l->now, st);
        FLOW_RUN(l->pc, rc, live_step(f));
    }
    FLOW_END
    if (rc == 0) {
        if (!same_key(&st->live, &s->key)) {
            /* rotated meanwhile: the session lives under the new key */
            csession_buf_dispose(&s->key);
            s->key = st->live;
            csession_buf_init(&st->live);
            s->reissue = 1;
            s->sealed_len = 0;
        }
        install_state(mgr, s, st->map, &st->state, st->revision);
        st->map = NULL;
        install_meta(mgr, s, &st->meta, l->now);
        return 0;
    }
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

/* ---- commit steps -------------------------------------------------------- */

static void merge_begin(csession__flow *f, const csession_buf *key, const csession_buf *base,
                        stored_state *latest)
{
    f->merge.pc = 0;
    f->merge.key = key;
    f->merge.base = base;
    f->merge.latest = latest;
    csession__json_delete_wiped(f->merge.merged);
    f->merge.merged = NULL;
}

/*
 * After a write of `key` met a newer revision: reads the newest state (into
 * `latest`, following a rotation to the key it moved to: latest->live) and
 * re-applies the request's changes on it, relative to `base`, into
 * f->merge.merged. The lifetime chosen by another request stays unless
 * this one chose one. Returns 0, CSESSION_ENOTFOUND (the key is gone),
 * CSESSION_ECONFLICT, or a failure.
 */
static int merge_step(csession__flow *f)
{
    merge_frame *m = &f->merge;
    commit_result *r = &f->commit.r;
    int rc = 0;
    FLOW_BEGIN(m->pc)
    stored_dispose(m->latest);
    live_begin(f, m->key, 0, r->now, m->latest);
    FLOW_RUN(m->pc, rc, live_step(f));
    if (rc)
        return rc;
    cJSON *b = NULL;
    if ((rc = decode_for_merge(m->base, &b)))
        return rc;
    rc = csession__flow_merge(f->s, b, m->latest->map, &m->merged);
    csession__json_delete_wiped(b);
    if (rc == CSESSION_ECONFLICT)
        rc = csession__error(CSESSION_ECONFLICT,
                             "another request changed the same session keys: reload the "
                             "session with csession_manager_reload() and run the request again");
    if (!rc && !f->s->life_changed) {
        r->meta.life = m->latest->meta.life;
        settle_lifetime(f->mgr, r);
    }
    FLOW_END
    return rc;
}

/* Takes the map the last merge made as the one to write. */
static void take_merged(csession__flow *f)
{
    commit_result *r = &f->commit.r;
    csession__json_delete_wiped(r->merged);
    r->merged = f->merge.merged;
    f->merge.merged = NULL;
}

/* After a merge was written: the newest state is the base of the next
 * conflict. */
static void merged_onto(csession__flow *f, write_frame *w)
{
    w->rev = w->latest->revision;
    w->base = &w->latest->state;
    w->target = &w->latest->live;
    atomic_fetch_add_explicit(&f->mgr->merges, 1, memory_order_relaxed);
}

static void write_begin(csession__flow *f, int rotate)
{
    write_frame *w = &f->write;
    own(f, OWN_WRITE);
    w->pc = 0;
    w->rotate = rotate;
    /* The state the next conflict is measured from: as loaded, then the
     * newest one merged onto. */
    w->rev = f->s->revision;
    w->base = &f->s->base;
    w->target = &f->s->key;
    stored_dispose(&w->newest[0]);
    stored_dispose(&w->newest[1]);
}

/* The merge after a conflict of attempt w->attempt, or ECONFLICT when that
 * was the last one allowed. */
static int next_attempt(csession__flow *f, write_frame *w, const char *what)
{
    if (w->attempt + 1 == MERGE_ATTEMPTS)
        return csession__error(CSESSION_ECONFLICT,
                               "the session kept changing under this %s (%d merges)", what,
                               MERGE_ATTEMPTS);
    w->latest = &w->newest[w->attempt % 2];
    merge_begin(f, w->target, w->base, w->latest);
    return 0;
}

/*
 * CHANGED on a store with revisions: writes the state back if nobody wrote
 * since it was loaded; otherwise merges onto the newest state and tries
 * again, at most MERGE_ATTEMPTS times. When the key was rotated meanwhile,
 * the write goes to the key the session moved to. The session is not
 * touched: the result says what the store holds afterwards.
 */
static int write_back_step(csession__flow *f)
{
    write_frame *w = &f->write;
    commit_result *r = &f->commit.r;
    int rc = 0;
    FLOW_BEGIN(w->pc)
    for (w->attempt = 0;; w->attempt++) {
        const cJSON *map = r->merged ? r->merged : f->s->map;
        if ((rc = encode(map, r, &r->stored)))
            break;
        ask_write(f, CSESSION_CALL_UPDATE_IF, w->target, w->rev, &r->stored, r->ttl, NULL);
        FLOW_STORE(w->pc);
        rc = f->call_rc;
        if (rc != CSESSION_ECONFLICT || (rc = next_attempt(f, w, "commit")))
            break;
        FLOW_RUN(w->pc, rc, merge_step(f));
        if (rc)
            break;
        take_merged(f);
        merged_onto(f, w);
    }
    if (rc == 0) {
        r->wrote = 1;
        r->revision = w->rev + 1;
        rc = csession__buf_set(&r->key, w->target->ptr, w->target->size);
    } else if (rc == CSESSION_ENOTFOUND) {
        r->gone = 1;
    }
    FLOW_END
    return rc;
}

/* The record that replaces a retired key's state: it names the new key
 * r->key for the grace period. */
static int retire_record(const csession_manager *mgr, const commit_result *r, csession_buf *text)
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
    int rc = csession__state_encode(empty, &record, CSESSION__NO_EXP, text);
    cJSON_Delete(empty);
    return rc;
}

/*
 * RENEWED, and ROTATE (w->rotate): the state under a new key first, so
 * that a failure leaves the old session as it was; then the old key
 * retired: deleted, or for a rotation replaced by a record naming the new
 * key, kept as long as the session would be. On a store with revisions the
 * old key goes only if nobody wrote to it since it was loaded; a parallel
 * write is merged into the new key first, so that it is not left behind
 * under the old one. A rotation that finds the key rotated by another
 * request already gives up its new key and answers ROTATED_BY_OTHER.
 */
static int renew_step(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    write_frame *w = &f->write;
    commit_result *r = &f->commit.r;
    int rc = 0;
    FLOW_BEGIN(w->pc)
    if ((rc = encode(f->s->map, r, &r->stored)))
        return rc;
    ask_write(f, CSESSION_CALL_SAVE, NULL, 0, &r->stored, r->ttl, &r->key);
    f->call.save_flags = CSESSION_SAVE_RENEWED;
    bind_call(f, &r->meta);
    FLOW_STORE(w->pc);
    if ((rc = f->call_rc))
        return rc;
    w->new_rev = 1; /* a save starts at 1 */
    for (w->attempt = 0;; w->attempt++) {
        if (w->rotate) {
            if ((rc = retire_record(mgr, r, &w->record)))
                break;
            ask_write(f, CSESSION_CALL_UPDATE_IF, w->target, w->rev, &w->record, r->ttl, NULL);
        } else if (!mgr->caps.remove_if) {
            ask(f, CSESSION_CALL_REMOVE, w->target);
        } else {
            ask(f, CSESSION_CALL_REMOVE_IF, w->target)->expected_revision = w->rev;
        }
        FLOW_STORE(w->pc);
        rc = f->call_rc;
        if ((!w->rotate && !mgr->caps.remove_if) || rc != CSESSION_ECONFLICT ||
            (rc = next_attempt(f, w, "renewal")))
            break;
        FLOW_RUN(w->pc, rc, merge_step(f));
        if (rc)
            break;
        take_merged(f);
        if (w->rotate && !same_key(&w->latest->live, w->target)) {
            rc = ROTATED_BY_OTHER;
            break;
        }
        if ((rc = encode(r->merged, r, &r->stored)))
            break;
        /* Nobody else knows the new key: this write cannot conflict. */
        ask_write(f, CSESSION_CALL_UPDATE_IF, &r->key, w->new_rev, &r->stored, r->ttl, NULL);
        FLOW_STORE(w->pc);
        rc = f->call_rc;
        if (rc == CSESSION_ECONFLICT || rc == CSESSION_ENOTFOUND)
            rc = csession__error(CSESSION_ESTORE,
                                 "the renewed session changed or vanished in the store");
        if (rc)
            break;
        w->new_rev++;
        merged_onto(f, w);
    }
    if (rc == 0) {
        r->wrote = 1;
        r->revision = w->new_rev;
        if (w->rotate)
            atomic_fetch_add_explicit(&mgr->rotations, 1, memory_order_relaxed);
        return 0;
    }
    if (rc == CSESSION_ENOTFOUND)
        r->gone = 1; /* ended by another request meanwhile: no new session either */
    /* The new key must not outlive a renewal that did not happen; the old
     * session stays as it was (unless another request ended it). The
     * removal is best effort and must not replace the error reported. */
    w->failed = rc;
    snprintf(w->message, sizeof w->message, "%s", csession_last_error());
    ask(f, CSESSION_CALL_REMOVE, &r->key);
    FLOW_STORE(w->pc);
    rc = w->failed;
    if (rc != CSESSION_ENOTFOUND && rc != ROTATED_BY_OTHER)
        csession__error(rc, "%s", w->message);
    csession__buf_clear(&r->key);
    csession__json_delete_wiped(r->merged);
    r->merged = NULL;
    FLOW_END
    return rc;
}

/* Asks for the write of the session's state: under a new key (old_key
 * NULL) or through the version 1 update (last write wins; a vanished key
 * falls back to save). */
static int store_state(csession__flow *f, const csession_buf *old_key)
{
    commit_result *r = &f->commit.r;
    int rc = encode(f->s->map, r, &r->stored);
    if (rc)
        return rc;
    ask_write(f, old_key ? CSESSION_CALL_UPDATE : CSESSION_CALL_SAVE, old_key, 0, &r->stored,
              r->ttl, &r->key);
    /* a first session that renewed already (a login on the first visit) */
    if (!old_key && f->s->status == CSESSION_STATUS_RENEWED)
        f->call.save_flags = CSESSION_SAVE_RENEWED;
    if (!old_key)
        bind_call(f, &r->meta);
    return 0;
}

/* The outcome of store_state()'s write. */
static int state_stored(csession__flow *f, int rc)
{
    commit_result *r = &f->commit.r;
    if (!rc) {
        r->wrote = 1;
        r->revision = 1; /* a new key; for a version 1 update, unused */
        /* the version 1 update does not say the revision: no merge base */
        if (f->commit.op != CSESSION__FLOW_SAVE)
            csession__buf_clear(&r->stored);
    }
    return rc;
}

/* After the store operations: the counters, CSESSION_EGONE, and the key
 * sealed for the client. */
static int commit_settle(csession__flow *f, int rc)
{
    csession_manager *mgr = f->mgr;
    const csession *s = f->s;
    commit_result *r = &f->commit.r;
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

/* Carries out the decision of the table for the session and seals the key. */
static int commit_step(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    const csession *s = f->s;
    commit_frame *c = &f->commit;
    commit_result *r = &c->r;
    int rc = 0;
    FLOW_BEGIN(c->pc)
    r->action = CSESSION_TOKEN_KEEP;
    c->op = csession__flow_decide(s, &mgr->policy);
    prepare_lifetime(mgr, s, c->op, r);
    if (c->op == CSESSION__FLOW_NOTHING) {
        return 0;
    } else if (c->op == CSESSION__FLOW_ENDED) {
        r->gone = 1;
        rc = CSESSION_ENOTFOUND;
    } else if (c->op == CSESSION__FLOW_UPDATE && mgr->caps.update_if) {
        write_begin(f, 0);
        FLOW_RUN(c->pc, rc, write_back_step(f));
    } else if (c->op == CSESSION__FLOW_SAVE || c->op == CSESSION__FLOW_UPDATE ||
               c->op == CSESSION__FLOW_RESEAL) {
        if (!(rc = store_state(f, c->op == CSESSION__FLOW_SAVE ? NULL : &s->key))) {
            FLOW_STORE(c->pc);
            rc = state_stored(f, f->call_rc);
        }
    } else if (c->op == CSESSION__FLOW_REMOVE) {
        ask(f, CSESSION_CALL_REMOVE, &s->key);
        bind_call(f, &s->meta);
        FLOW_STORE(c->pc);
        if (!(rc = f->call_rc))
            r->action = CSESSION_TOKEN_CLEAR;
        return rc;
    } else if (c->op == CSESSION__FLOW_RENEW || c->op == CSESSION__FLOW_ROTATE) {
        write_begin(f, c->op == CSESSION__FLOW_ROTATE);
        FLOW_RUN(c->pc, rc, renew_step(f));
        if (rc == ROTATED_BY_OTHER) {
            prepare_lifetime(mgr, s, CSESSION__FLOW_UPDATE, r);
            write_begin(f, 0);
            FLOW_RUN(c->pc, rc, write_back_step(f));
        }
    } else if (c->op == CSESSION__FLOW_TOUCH) {
        ask(f, CSESSION_CALL_UPDATE_TTL, &s->key)->ttl_seconds = r->ttl;
        FLOW_STORE(c->pc);
        if ((rc = f->call_rc) || !csession__flow_touch_resends(s, &mgr->policy))
            return rc;
        rc = csession__buf_set(&r->key, s->key.ptr, s->key.size);
    } else { /* CSESSION__FLOW_RESEND */
        rc = csession__buf_set(&r->key, s->key.ptr, s->key.size);
    }
    FLOW_END
    return commit_settle(f, rc);
}

/* A commit's outcome given to the caller: the header or token, and the
 * session marked committed. */
static int commit_end(csession__flow *f, int rc)
{
    csession_manager *mgr = f->mgr;
    csession *s = f->s;
    commit_result *r = &f->commit.r;
    if (f->what == FLOW_COMMIT_TOKEN) {
        if (!rc && r->action == CSESSION_TOKEN_SET)
            rc = csession__buf_set(f->token, r->value, r->value_len);
        if (!rc || (rc == CSESSION_EGONE && r->gone)) {
            *f->action = r->action;
            apply_result(mgr, s, r);
        }
        return rc;
    }
    csession_buf *set_cookie = f->set_cookie;
    if (!rc && r->action == CSESSION_TOKEN_SET) {
        csession__cookie_attrs attrs = mgr->attrs;
        if (r->persistent) {
            attrs.has_max_age = 1;
            attrs.max_age = r->ttl;
            attrs.has_expires = 1; /* for clients that predate Max-Age */
            attrs.expires = (int64_t)time(NULL) + r->ttl;
        }
        rc = csession__cookie_format(set_cookie, &attrs, r->value, r->value_len);
    } else if ((!rc || r->gone) && r->action == CSESSION_TOKEN_CLEAR) {
        int fr = csession__cookie_format_removal(set_cookie, &mgr->attrs);
        if (fr)
            rc = fr;
    }
    if (!rc || (rc == CSESSION_EGONE && r->gone))
        apply_result(mgr, s, r);
    else
        csession__buf_clear(set_cookie);
    return rc;
}

/* ---- the flow's interface (manager_flow.h) -------------------------------- */

csession__flow *csession__flow_new(void)
{
    csession__flow *f = csession__malloc(sizeof *f);
    if (f)
        flow_init(f, NULL, FLOW_LOAD);
    return f;
}

void csession__flow_free(csession__flow *f)
{
    if (!f)
        return;
    flow_dispose(f);
    csession__free(f);
}

void csession__flow_begin_load(csession__flow *f, csession_manager *mgr, const char *header,
                               size_t header_len, int token, csession **out)
{
    f->mgr = mgr;
    f->what = token ? FLOW_LOAD_TOKEN : FLOW_LOAD;
    own(f, OWN_LOAD);
    f->header = header;
    f->header_len = header_len;
    f->out = out;
    *out = NULL;
}

void csession__flow_begin_commit(csession__flow *f, csession_manager *mgr, csession *s,
                                 csession_buf *set_cookie, csession_buf *token, int *action)
{
    f->mgr = mgr;
    f->what = set_cookie ? FLOW_COMMIT : FLOW_COMMIT_TOKEN;
    own(f, OWN_COMMIT);
    f->s = s;
    f->set_cookie = set_cookie;
    f->token = token;
    f->action = action;
    if (action)
        *action = CSESSION_TOKEN_KEEP;
    csession__buf_clear(set_cookie ? set_cookie : token);
}

void csession__flow_begin_reload(csession__flow *f, csession_manager *mgr, csession *s)
{
    f->mgr = mgr;
    f->what = FLOW_RELOAD;
    own(f, OWN_LOAD);
    f->s = s;
}

int csession__flow_check_load(const csession_manager *mgr, const char *header,
                              size_t header_len, csession **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (!mgr || (!header && header_len))
        return csession__error(CSESSION_EINVAL, "NULL manager or header");
    return 0;
}

int csession__flow_check_commit(const csession_manager *mgr, const csession *s,
                                const void *out, const int *action, int token)
{
    if (!mgr || !s || !out)
        return csession__error(CSESSION_EINVAL, "NULL manager, session or output");
    if (token && !action)
        return csession__error(CSESSION_EINVAL, "action is NULL");
    return 0;
}

int csession__flow_check_reload(const csession_manager *mgr, const csession *s)
{
    if (!mgr || !s)
        return csession__error(CSESSION_EINVAL, "NULL manager or session");
    return 0;
}

int csession__flow_step(csession__flow *f)
{
    int rc;
    switch (f->what) {
    case FLOW_LOAD:
    case FLOW_LOAD_TOKEN:
        return load_step(f);
    case FLOW_RELOAD:
        return reload_step(f);
    default:
        rc = commit_step(f);
        return rc == CSESSION__FLOW_YIELD ? rc : commit_end(f, rc);
    }
}

csession_store_call *csession__flow_call(csession__flow *f)
{
    return &f->call;
}

void csession__flow_answer(csession__flow *f, int code, int touched)
{
    f->call_rc = code;
    f->call_touched = touched;
}

csession_store *csession__manager_store(const csession_manager *mgr,
                                        const csession__store_caps **caps)
{
    if (caps)
        *caps = &mgr->caps;
    return mgr->store;
}

/* ---- the blocking driver --------------------------------------------------- */

/* Runs a flow to its end, each store operation inline on this thread. */
static int run_blocking(csession__flow *f)
{
    csession_manager *mgr = f->mgr;
    int rc;
    while ((rc = csession__flow_step(f)) == CSESSION__FLOW_YIELD)
        f->call_rc = csession__store_run(mgr->store, &mgr->caps, &f->call, &f->call_touched);
    flow_dispose(f);
    return rc;
}

static int load_blocking(csession_manager *mgr, const char *header, size_t header_len, int token,
                         csession **out)
{
    int rc = csession__flow_check_load(mgr, header, header_len, out);
    if (rc)
        return rc;
    csession__flow f;
    flow_init(&f, mgr, FLOW_LOAD);
    csession__flow_begin_load(&f, mgr, header, header_len, token, out);
    return run_blocking(&f);
}

int csession_manager_load(csession_manager *mgr, const char *header, size_t header_len,
                          csession **out)
{
    return load_blocking(mgr, header, header_len, 0, out);
}

int csession_manager_load_token(csession_manager *mgr, const char *token, size_t token_len,
                                csession **out)
{
    return load_blocking(mgr, token, token_len, 1, out);
}

int csession_manager_reload(csession_manager *mgr, csession *s)
{
    int rc = csession__flow_check_reload(mgr, s);
    if (rc)
        return rc;
    csession__flow f;
    flow_init(&f, mgr, FLOW_RELOAD);
    csession__flow_begin_reload(&f, mgr, s);
    return run_blocking(&f);
}

/* A commit that gives a Set-Cookie value (`set_cookie`) or a token. */
static int commit_blocking(csession_manager *mgr, csession *s, csession_buf *set_cookie,
                           csession_buf *token, int *action)
{
    int rc = csession__flow_check_commit(mgr, s, set_cookie ? set_cookie : token, action,
                                         set_cookie == NULL);
    if (rc)
        return rc;
    csession__flow f;
    flow_init(&f, mgr, FLOW_COMMIT);
    csession__flow_begin_commit(&f, mgr, s, set_cookie, token, action);
    return run_blocking(&f);
}

int csession_manager_commit(csession_manager *mgr, csession *s, csession_buf *set_cookie)
{
    return commit_blocking(mgr, s, set_cookie, NULL, NULL);
}

int csession_manager_commit_token(csession_manager *mgr, csession *s, csession_buf *token,
                                  int *action)
{
    return commit_blocking(mgr, s, NULL, token, action);
}
