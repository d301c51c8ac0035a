/*
 * The Redis session store: options, session key -> Redis key, and the
 * vtable operations in terms of the commands of commands.c. Where a command
 * goes (one server, Sentinel's master, a Cluster node) is the topology's
 * business (topology.h), picked from the URL's scheme.
 */
#include "redis_store.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "commands.h"
#include "conn.h"
#include "redis_async.h"
#include "csession/errors.h"
#include "csession/library.h"
#include "error.h"
#include "log.h"
#include "revision.h"
#include "session_key.h"
#include "tls.h"
#include "topology.h"
#include "url.h"
#include "redis_users.h"

/* Attempts to find an unused key before giving up. With 381 random bits a
 * second attempt is already unheard of; the bound only stops a broken
 * generator from looping forever. */
#define KEY_ATTEMPTS 8

/* Longer TTLs are cut to a century: Redis refuses an EX whose deadline
 * overflows its millisecond clock. */
#define MAX_TTL_SECONDS INT64_C(3155760000)

#define KEY_LEN CSESSION_SESSION_KEY_LEN

typedef struct redis_store {
    csession_store base; /* first: the vtable the library sees */
    csession__redis_url url;
    csession__redis_tls *tls; /* rediss URLs: shared by the connections; else NULL */
    csession__redis_topology *topology;
    csession__redis_async async; /* connections of the non-blocking calls */
    size_t max_state_bytes;
    char prefix[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX];
    size_t prefix_len;
    csession_store_redis_key_mapper mapper;
    void *mapper_payload;
    csession__redis_keygen_fn keygen;
    void *keygen_ctx;
    atomic_ulong refused_values; /* too big, or of another type */
} redis_store;

static int64_t capped(int64_t ttl_seconds)
{
    return ttl_seconds > MAX_TTL_SECONDS ? MAX_TTL_SECONDS : ttl_seconds;
}

/* ---- session key -> Redis key ----------------------------------------- */

typedef struct redis_key {
    char inline_key[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX + KEY_LEN];
    csession_buf mapped;
    const char *ptr;
    size_t len;
} redis_key;

/* `key` is a valid session key (KEY_LEN bytes). */
static int redis_key_make(const redis_store *r, const char *key, redis_key *k)
{
    csession_buf_init(&k->mapped);
    if (!r->mapper) {
        memcpy(k->inline_key, r->prefix, r->prefix_len);
        memcpy(k->inline_key + r->prefix_len, key, KEY_LEN);
        k->ptr = k->inline_key;
        k->len = r->prefix_len + KEY_LEN;
        return 0;
    }
    char text[KEY_LEN + 1];
    memcpy(text, key, KEY_LEN);
    text[KEY_LEN] = '\0';
    csession_clear_error();
    int rc = r->mapper(text, KEY_LEN, &k->mapped, r->mapper_payload);
    sodium_memzero(text, sizeof text);
    if (rc == 0 && k->mapped.size == 0)
        rc = csession__error(CSESSION_ESTORE, "Redis key_mapper made an empty key");
    if (rc != 0) {
        if (rc > 0)
            rc = CSESSION_ESTORE;
        if (csession_last_error_code() != rc)
            csession__error(rc, "Redis key_mapper failed: %s", csession_strerror(rc));
        csession_buf_dispose(&k->mapped);
        return rc;
    }
    k->ptr = k->mapped.ptr;
    k->len = k->mapped.size;
    return 0;
}

static void redis_key_dispose(redis_key *k)
{
    csession_buf_dispose(&k->mapped);
}

/* ---- operations ---------------------------------------------------------- */

static int check_state(const redis_store *r, const char *state, size_t state_len,
                       int64_t ttl_seconds, const csession_buf *key_out)
{
    if ((!state && state_len) || !key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (state_len > r->max_state_bytes)
        return csession__error(CSESSION_ETOOBIG,
                               "session state of %zu bytes exceeds the Redis store's limit of "
                               "%zu",
                               state_len, r->max_state_bytes);
    return 0;
}

/* Room for what the store adds to a state in the value: the revision and
 * the write's tag (revision.h). */
#define STORED_HEAD_EXTRA 64

/*
 * One operation of the store, of any kind (a csession_store_call), as a
 * state machine over the command operations of commands.h. The same
 * machine serves both ways of calling: `start` runs it with the call's
 * loop, and the blocking members run it with no loop, each command then
 * waiting on the thread-shared pool, so that it has completed when
 * run_call() returns.
 */
typedef struct rcall {
    redis_store *r;
    csession_store_call *call;
    csession__redis_op op;
    csession_buf value; /* SAVE: the state at revision 1 */
    char key[KEY_LEN];  /* SAVE: the key being tried */
    int attempts;
} rcall;

/* Ends the call: frees what it held, then calls complete with the outcome
 * and, for a failure, the thread's last error. */
static void finish(rcall *rc_, int code)
{
    csession_store_call *call = rc_->call;
    char msg[520];
    int has_msg = code < 0 && code != CSESSION_ENOTFOUND && code != CSESSION_ECONFLICT;
    if (has_msg)
        snprintf(msg, sizeof msg, "%s", csession_last_error());
    /* A failed save or update leaves no key to use. */
    if (code && (call->kind == CSESSION_CALL_SAVE || call->kind == CSESSION_CALL_UPDATE))
        csession__buf_clear(call->key_out);
    csession__redis_op_dispose(&rc_->op);
    csession_buf_dispose(&rc_->value);
    sodium_memzero(rc_->key, sizeof rc_->key);
    csession__free(rc_);
    call->store_data = NULL;
    call->complete(call, code, has_msg ? msg : NULL);
}

typedef int (*build_fn)(rcall *c, const redis_key *k);

/* Builds the next command of `c` on the Redis key of session key `key` and
 * starts it; its reply goes to `then`. */
static void send_on(rcall *c, const char *key, build_fn build, csession__redis_op_cb then)
{
    csession__redis_op_dispose(&c->op);
    c->op.t = c->r->topology;
    c->op.loop = c->call->loop;
    c->op.async = &c->r->async;
    c->op.cb = then;
    c->op.arg = c;
    redis_key k;
    int rc = redis_key_make(c->r, key, &k);
    if (rc == 0) {
        rc = build(c, &k);
        redis_key_dispose(&k);
    }
    if (rc) {
        finish(c, rc);
        return;
    }
    csession__redis_op_start(&c->op);
}

/* ---- SAVE: SET NX under fresh keys until one is new, at revision 1 ------- */

static void save_try(rcall *c);

static void save_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    rcall *c = op->arg;
    int stored = 0;
    if (rc == 0)
        rc = csession__redis_set_result(reply, CSESSION__REDIS_SET_NX, &stored);
    if (rc || stored) {
        finish(c, rc);
        return;
    }
    /* A live session has this key: never overwrite, draw again. */
    save_try(c);
}

static int build_set(rcall *c, const redis_key *k)
{
    return csession__redis_op_set(&c->op, k->ptr, k->len, c->value.ptr, c->value.size,
                                  capped(c->call->ttl_seconds), CSESSION__REDIS_SET_NX);
}

/* The key goes to the caller before it is stored, so that a stored session
 * always has an owner. */
static void save_try(rcall *c)
{
    if (c->attempts++ == KEY_ATTEMPTS) {
        finish(c, csession__error(CSESSION_ESTORE,
                                  "could not draw an unused session key in %d attempts",
                                  KEY_ATTEMPTS));
        return;
    }
    c->r->keygen(c->key, c->r->keygen_ctx);
    int rc = csession__buf_set(c->call->key_out, c->key, KEY_LEN);
    if (rc) {
        finish(c, rc);
        return;
    }
    send_on(c, c->key, build_set, save_replied);
}

static void save_start(rcall *c)
{
    const csession_store_call *call = c->call;
    int rc = csession__redis_rev_wrap(call->state, call->state_len, 1, &c->value);
    if (rc) {
        finish(c, rc);
        return;
    }
    c->attempts = 0;
    save_try(c);
}

/* ---- LOAD_REV ------------------------------------------------------------- */

static size_t max_value(const redis_store *r)
{
    return r->max_state_bytes + STORED_HEAD_EXTRA;
}

/*
 * The value of a valid session key, its TTL reset in the same command when
 * touch_ttl_seconds > 0, the revision taken out. A value longer than a
 * state may be, or a key of another type, is not read into memory whole: it
 * counts as not found, so that the request gets a fresh session and the
 * next commit a new key.
 */
static void load_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    rcall *c = op->arg;
    redis_store *r = c->r;
    csession_store_call *call = c->call;
    int refused = 0;
    if (rc == 0)
        rc = csession__redis_read_result(reply, max_value(r), call->touch_ttl_seconds > 0,
                                         call->state_out, &refused);
    if (rc == 0) {
        csession__redis_rev_unwrap(call->state_out, &call->revision_out);
        if (call->state_out->size > r->max_state_bytes)
            refused = CSESSION__REDIS_READ_TOO_BIG;
    }
    if (refused) {
        static csession__log_counter too_big = CSESSION__LOG_COUNTER(
            CSESSION_LOG_WARN, "Redis values under session keys longer than the store's "
                               "max_state_bytes, refused unread (the request got a fresh session)");
        static csession__log_counter wrong_type = CSESSION__LOG_COUNTER(
            CSESSION_LOG_WARN, "Redis keys of another type under session keys, taken as no "
                               "session");
        csession__log_count(refused == CSESSION__REDIS_READ_TOO_BIG ? &too_big : &wrong_type);
        atomic_fetch_add(&r->refused_values, 1);
        rc = CSESSION_ENOTFOUND;
    }
    if (rc) {
        csession__buf_clear(call->state_out);
        call->revision_out = 0;
    }
    finish(c, rc);
}

static int build_read(rcall *c, const redis_key *k)
{
    int64_t touch = c->call->touch_ttl_seconds;
    return csession__redis_op_read(&c->op, k->ptr, k->len, max_value(c->r),
                                   touch > 0 ? capped(touch) : 0);
}

/* ---- UPDATE, UPDATE_IF, REMOVE_IF: the conditional write script ----------- */

/* The script's answer as a store code: 0, CSESSION_ENOTFOUND, CSESSION_ECONFLICT. */
static int write_if_code(long long result)
{
    return result > 0 ? 0 : result == 0 ? CSESSION_ENOTFOUND : CSESSION_ECONFLICT;
}

static int write_mode(const rcall *c)
{
    switch (c->call->kind) {
    case CSESSION_CALL_UPDATE:
        return CSESSION__REDIS_WRITE_ANY;
    case CSESSION_CALL_REMOVE_IF:
        return CSESSION__REDIS_DELETE_IF_REV;
    default:
        return CSESSION__REDIS_WRITE_IF_REV;
    }
}

static void write_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    rcall *c = op->arg;
    long long result = 0;
    if (rc == 0)
        rc = csession__redis_write_if_result(op, reply, write_mode(c), &result);
    if (rc == 0 && c->call->kind == CSESSION_CALL_UPDATE && result <= 0) {
        /* The key expired or was deleted since it was loaded: as save, under
         * a new key (never recreate the old one, which its owner gave up). */
        save_start(c);
        return;
    }
    finish(c, rc ? rc : c->call->kind == CSESSION_CALL_UPDATE ? 0 : write_if_code(result));
}

static int build_write(rcall *c, const redis_key *k)
{
    const csession_store_call *call = c->call;
    int remove = call->kind == CSESSION_CALL_REMOVE_IF;
    return csession__redis_op_write_if(&c->op, k->ptr, k->len, write_mode(c),
                                       call->expected_revision, remove ? "" : call->state,
                                       remove ? 0 : call->state_len,
                                       remove ? 1 : capped(call->ttl_seconds));
}

/* ---- UPDATE_TTL, REMOVE -------------------------------------------------- */

static void integer_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    rcall *c = op->arg;
    finish(c, rc ? rc : csession__redis_integer_result(reply, op->what));
}

static int build_expire(rcall *c, const redis_key *k)
{
    return csession__redis_op_expire(&c->op, k->ptr, k->len, capped(c->call->ttl_seconds));
}

static int build_del(rcall *c, const redis_key *k)
{
    return csession__redis_op_del(&c->op, k->ptr, k->len);
}

/* ---- any kind --------------------------------------------------------------- */

/*
 * What each kind checks before any I/O, as the blocking members always
 * did: 1 with *code when the call is decided without the server.
 */
static int decided(const redis_store *r, const csession_store_call *call, int *code)
{
    int key_ok = call->key && csession__session_key_valid(call->key, call->key_len);
    *code = 0;
    switch (call->kind) {
    case CSESSION_CALL_LOAD_REV:
        if (!call->state_out) {
            *code = csession__error(CSESSION_EINVAL, "NULL argument");
            return 1;
        }
        /* A key this store cannot have made does not exist: no I/O at all. */
        *code = CSESSION_ENOTFOUND;
        return !key_ok;
    case CSESSION_CALL_SAVE:
    case CSESSION_CALL_UPDATE:
    case CSESSION_CALL_UPDATE_IF: {
        csession_buf unused = CSESSION_BUF_INIT;
        *code = check_state(r, call->state, call->state_len, call->ttl_seconds,
                            call->kind == CSESSION_CALL_UPDATE_IF ? &unused : call->key_out);
        if (*code)
            return 1;
        *code = CSESSION_ENOTFOUND;
        return call->kind == CSESSION_CALL_UPDATE_IF && !key_ok;
    }
    case CSESSION_CALL_UPDATE_TTL:
        if (call->ttl_seconds < 1) {
            *code = csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
            return 1;
        }
        return !key_ok;
    case CSESSION_CALL_REMOVE:
        return !key_ok;
    case CSESSION_CALL_REMOVE_IF:
        *code = CSESSION_ENOTFOUND;
        return !key_ok;
    default:
        *code = csession__error(CSESSION_EINVAL, "unknown store call kind %d", call->kind);
        return 1;
    }
}

/* Runs `call`: 0 when it started (complete runs, maybe already has), or a
 * failure to start (complete not called). */
static int run_call(redis_store *r, csession_store_call *call)
{
    int code;
    if (call->kind == CSESSION_CALL_LOAD_REV && call->state_out) {
        csession__buf_clear(call->state_out);
        call->revision_out = 0;
    }
    if (decided(r, call, &code)) {
        call->complete(call, code, code < 0 && code != CSESSION_ENOTFOUND
                                       ? csession_last_error()
                                       : NULL);
        return 0;
    }
    rcall *c = csession__calloc(1, sizeof *c);
    if (!c)
        return csession__oom();
    c->r = r;
    c->call = call;
    csession_buf_init(&c->value);
    call->store_data = c;
    switch (call->kind) {
    case CSESSION_CALL_LOAD_REV:
        send_on(c, call->key, build_read, load_replied);
        break;
    case CSESSION_CALL_SAVE:
        save_start(c);
        break;
    case CSESSION_CALL_UPDATE:
        if (!csession__session_key_valid(call->key, call->key_len)) {
            save_start(c);
            break;
        }
        if ((code = csession__buf_set(call->key_out, call->key, KEY_LEN)) != 0) {
            finish(c, code);
            break;
        }
        send_on(c, call->key, build_write, write_replied);
        break;
    case CSESSION_CALL_UPDATE_IF:
    case CSESSION_CALL_REMOVE_IF:
        send_on(c, call->key, build_write, write_replied);
        break;
    case CSESSION_CALL_UPDATE_TTL:
        send_on(c, call->key, build_expire, integer_replied);
        break;
    default: /* CSESSION_CALL_REMOVE */
        send_on(c, call->key, build_del, integer_replied);
        break;
    }
    return 0;
}

/* ---- the blocking members: the same machine with no loop ------------------ */

typedef struct sync_call {
    csession_store_call call; /* first */
    int code;
} sync_call;

/* The thread's last error already says why: nothing to copy. */
static void sync_complete(csession_store_call *call, int code, const char *message)
{
    (void)message;
    ((sync_call *)call)->code = code;
}

static int run_sync(redis_store *r, sync_call *sc, int kind)
{
    sc->call.version = 1;
    sc->call.kind = kind;
    sc->call.loop = NULL;
    sc->call.complete = sync_complete;
    sc->code = 0;
    int rc = run_call(r, &sc->call);
    return rc ? rc : sc->code;
}

static int redis_load_rev(csession_store *store, const char *key, size_t key_len,
                          int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision)
{
    if (!state || !revision)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    sc.call.touch_ttl_seconds = touch_ttl_seconds;
    sc.call.state_out = state;
    int rc = run_sync((redis_store *)store, &sc, CSESSION_CALL_LOAD_REV);
    *revision = sc.call.revision_out;
    return rc;
}

static int redis_load(csession_store *store, const char *key, size_t key_len,
                      csession_buf *state)
{
    uint64_t revision;
    return redis_load_rev(store, key, key_len, 0, state, &revision);
}

static int redis_update_if(csession_store *store, const char *key, size_t key_len,
                           uint64_t expected_revision, const char *state, size_t state_len,
                           int64_t ttl_seconds)
{
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    sc.call.expected_revision = expected_revision;
    sc.call.state = state;
    sc.call.state_len = state_len;
    sc.call.ttl_seconds = ttl_seconds;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_UPDATE_IF);
}

static int redis_remove_if(csession_store *store, const char *key, size_t key_len,
                           uint64_t expected_revision)
{
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    sc.call.expected_revision = expected_revision;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_REMOVE_IF);
}

static int redis_save(csession_store *store, const char *state, size_t state_len,
                      int64_t ttl_seconds, csession_buf *key_out)
{
    sync_call sc = {0};
    sc.call.state = state;
    sc.call.state_len = state_len;
    sc.call.ttl_seconds = ttl_seconds;
    sc.call.key_out = key_out;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_SAVE);
}

static int redis_update(csession_store *store, const char *key, size_t key_len,
                        const char *state, size_t state_len, int64_t ttl_seconds,
                        csession_buf *key_out)
{
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    sc.call.state = state;
    sc.call.state_len = state_len;
    sc.call.ttl_seconds = ttl_seconds;
    sc.call.key_out = key_out;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_UPDATE);
}

static int redis_update_ttl(csession_store *store, const char *key, size_t key_len,
                            int64_t ttl_seconds)
{
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    sc.call.ttl_seconds = ttl_seconds;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_UPDATE_TTL);
}

static int redis_remove(csession_store *store, const char *key, size_t key_len)
{
    sync_call sc = {0};
    sc.call.key = key;
    sc.call.key_len = key_len;
    return run_sync((redis_store *)store, &sc, CSESSION_CALL_REMOVE);
}

/* ---- the non-blocking members (version 3) --------------------------------- */

static int redis_start(csession_store *store, csession_store_call *call)
{
    if (!call || !call->loop || !call->complete)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    redis_store *r = (redis_store *)store;
    if (call->kind == CSESSION_CALL_USER_SAVE || call->kind == CSESSION_CALL_USER_REMOVE) {
        if (r->mapper) /* no user index without the prefix naming (users.c) */
            return CSESSION_EUNSUPPORTED;
        return csession__redis_users_start(store, call);
    }
    if (call->kind < CSESSION_CALL_LOAD_REV || call->kind > CSESSION_CALL_REMOVE_IF)
        return CSESSION_EUNSUPPORTED;
    call->store_data = NULL;
    return run_call(r, call);
}

/* The command in flight, if any, is left to run; its reply is read and
 * dropped. */
static void redis_cancel(csession_store *store, csession_store_call *call)
{
    (void)store;
    if (call &&
        (call->kind == CSESSION_CALL_USER_SAVE || call->kind == CSESSION_CALL_USER_REMOVE)) {
        csession__redis_users_cancel(call);
        return;
    }
    rcall *c = call ? call->store_data : NULL;
    if (!c)
        return;
    csession__redis_op_cancel(&c->op);
    csession__redis_op_dispose(&c->op);
    csession_buf_dispose(&c->value);
    sodium_memzero(c->key, sizeof c->key);
    csession__free(c);
    call->store_data = NULL;
}

static void redis_free(csession_store *store)
{
    redis_store *r = (redis_store *)store;
    csession__redis_async_dispose(&r->async);
    r->topology->free(r->topology);
    csession__redis_url_dispose(&r->url);
    csession__redis_tls_free(r->tls);
    sodium_memzero(r, sizeof *r);
    csession__free(r);
}

/* ---- construction -------------------------------------------------------- */

int csession_store_redis_options_init(csession_store_redis_options *opts, unsigned int version)
{
    if (!opts)
        return csession__error(CSESSION_EINVAL, "NULL options");
    if (version < 1 || version > CSESSION_STORE_REDIS_OPTIONS_VERSION)
        return csession__error(CSESSION_EINVAL, "unknown Redis store options version %u",
                               version);
    /* A version 1 struct ends before the TLS fields. */
    memset(opts, 0, version == 1 ? offsetof(csession_store_redis_options, tls_ca_file)
                                 : sizeof *opts);
    opts->version = version;
    return 0;
}

static int check_timeout(unsigned int *value, unsigned int dflt, const char *name)
{
    if (*value == 0)
        *value = dflt;
    if (*value > CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS)
        return csession__error(CSESSION_EINVAL, "Redis store option %s above %d ms", name,
                               CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS);
    return 0;
}

/* Validates `in` (NULL: defaults) into `o`, defaults filled in. */
static int read_options(const csession_store_redis_options *in,
                        csession_store_redis_options *o, size_t *prefix_len)
{
    /* Only the fields of the caller's version exist: read the version
     * first, then copy that much (version 1 ends before the TLS fields). */
    const csession_store_redis_options dflt = CSESSION_STORE_REDIS_OPTIONS_INIT;
    if (in && (in->version < 1 || in->version > CSESSION_STORE_REDIS_OPTIONS_VERSION))
        return csession__error(CSESSION_EINVAL, "unknown Redis store options version %u",
                               in->version);
    *o = dflt;
    if (in)
        memcpy(o, in, in->version == 1 ? offsetof(csession_store_redis_options, tls_ca_file)
                                       : sizeof *o);
    int rc;
    if ((rc = check_timeout(&o->connect_timeout_ms,
                            CSESSION_STORE_REDIS_DEFAULT_CONNECT_TIMEOUT_MS,
                            "connect_timeout_ms")) ||
        (rc = check_timeout(&o->command_timeout_ms,
                            CSESSION_STORE_REDIS_DEFAULT_COMMAND_TIMEOUT_MS,
                            "command_timeout_ms")) ||
        (rc = check_timeout(&o->pool_wait_timeout_ms,
                            CSESSION_STORE_REDIS_DEFAULT_POOL_WAIT_TIMEOUT_MS,
                            "pool_wait_timeout_ms")))
        return rc;
    if (o->pool_size == 0)
        o->pool_size = CSESSION_STORE_REDIS_DEFAULT_POOL_SIZE;
    if (o->pool_size > CSESSION_STORE_REDIS_LIMIT_POOL_SIZE)
        return csession__error(CSESSION_EINVAL, "Redis store option pool_size above %d",
                               CSESSION_STORE_REDIS_LIMIT_POOL_SIZE);
    if (o->max_state_bytes == 0)
        o->max_state_bytes = CSESSION_STORE_REDIS_DEFAULT_MAX_STATE_BYTES;
    if (o->max_state_bytes > CSESSION_STORE_REDIS_LIMIT_MAX_STATE_BYTES)
        return csession__error(CSESSION_EINVAL, "Redis store option max_state_bytes above %u",
                               CSESSION_STORE_REDIS_LIMIT_MAX_STATE_BYTES);
    *prefix_len = 0;
    if (o->key_prefix) {
        *prefix_len = strnlen(o->key_prefix, CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX + 1);
        if (*prefix_len > CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX)
            return csession__error(CSESSION_EINVAL,
                                   "Redis store option key_prefix longer than %d bytes",
                                   CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX);
    }
    if (*prefix_len > 0 && o->key_mapper)
        return csession__error(CSESSION_EINVAL,
                               "Redis store options key_prefix and key_mapper cannot be "
                               "combined (let the mapper add the prefix)");
    return 0;
}

int csession_store_redis_new(csession_store **out, const char *url,
                             const csession_store_redis_options *opts)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    *out = NULL;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    size_t prefix_len = 0;
    int rc = read_options(opts, &o, &prefix_len);
    if (rc)
        return rc;
    csession__redis_url parsed;
    if ((rc = csession__redis_url_parse(&parsed, url)))
        return rc;
    csession__redis_tls *tls = NULL;
    if ((rc = csession_init()) || (rc = csession__redis_tls_for_store(&tls, &parsed, &o))) {
        csession__redis_url_dispose(&parsed);
        return rc;
    }
    redis_store *r = csession__calloc(1, sizeof *r);
    if (!r) {
        csession__redis_tls_free(tls);
        csession__redis_url_dispose(&parsed);
        return csession__oom();
    }
    r->url = parsed;
    r->tls = tls;
    csession__redis_topology_config tc = {&r->url,          o.connect_timeout_ms,
                                          o.command_timeout_ms, o.pool_size,
                                          o.pool_wait_timeout_ms, r->tls};
    if ((rc = csession__redis_topology_new(&r->topology, &tc))) {
        csession__redis_tls_free(r->tls);
        csession__redis_url_dispose(&r->url);
        csession__free(r);
        return rc;
    }
    if ((rc = csession__redis_async_init(&r->async))) {
        r->topology->free(r->topology);
        csession__redis_tls_free(r->tls);
        csession__redis_url_dispose(&r->url);
        csession__free(r);
        return rc;
    }
    r->max_state_bytes = o.max_state_bytes;
    if (prefix_len)
        memcpy(r->prefix, o.key_prefix, prefix_len);
    r->prefix_len = prefix_len;
    r->mapper = o.key_mapper;
    r->mapper_payload = o.key_mapper_payload;
    r->keygen = csession__session_key_draw;
    atomic_init(&r->refused_values, 0);

    r->base.version = CSESSION_STORE_VERSION;
    r->base.load = redis_load;
    r->base.save = redis_save;
    r->base.update = redis_update;
    r->base.update_ttl = redis_update_ttl;
    r->base.remove = redis_remove;
    r->base.free = redis_free;
    r->base.payload = NULL;
    r->base.flags = 0;
    r->base.load_rev = redis_load_rev;
    r->base.update_if = redis_update_if;
    r->base.remove_if = redis_remove_if;
    r->base.start = redis_start;
    r->base.cancel = redis_cancel;
    if (!r->mapper) /* the index names sessions by prefix + key */
        csession__redis_users_wire(&r->base);
    *out = &r->base;
    return 0;
}

/* ---- internal entry points ----------------------------------------------- */

int csession__store_is_redis(const csession_store *store)
{
    return store && store->load == redis_load;
}

int csession__store_redis_load_touch(csession_store *store, const char *key, size_t key_len,
                                     int64_t ttl_seconds, csession_buf *state)
{
    if (!csession__store_is_redis(store) || !state)
        return csession__error(CSESSION_EINVAL, "not a Redis store, or NULL argument");
    csession__buf_clear(state);
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    uint64_t revision;
    return redis_load_rev(store, key, key_len, ttl_seconds, state, &revision);
}

void csession__store_redis_parts(csession_store *store, csession__redis_store_parts *out)
{
    redis_store *r = (redis_store *)store;
    out->topology = r->topology;
    out->prefix = r->prefix;
    out->prefix_len = r->prefix_len;
    out->cluster = r->url.kind == CSESSION__REDIS_CLUSTER;
    out->max_state_bytes = r->max_state_bytes;
    out->keygen = r->keygen;
    out->keygen_ctx = r->keygen_ctx;
    out->async = &r->async;
}

int csession__store_redis_set_keygen(csession_store *store, csession__redis_keygen_fn keygen,
                                     void *ctx)
{
    if (!csession__store_is_redis(store))
        return csession__error(CSESSION_EINVAL, "not a Redis store");
    redis_store *r = (redis_store *)store;
    r->keygen = keygen ? keygen : csession__session_key_draw;
    r->keygen_ctx = ctx;
    return 0;
}

int csession__store_redis_stats(csession_store *store, csession__redis_stats *out)
{
    if (!csession__store_is_redis(store) || !out)
        return csession__error(CSESSION_EINVAL, "not a Redis store, or NULL argument");
    redis_store *r = (redis_store *)store;
    memset(out, 0, sizeof *out);
    r->topology->stats(r->topology, out);
    out->not_replicated = atomic_load(&r->topology->not_replicated);
    out->refused_values = atomic_load(&r->refused_values);
    return 0;
}

int csession__store_redis_key(csession_store *store, const char *key, size_t key_len,
                              csession_buf *out)
{
    if (!csession__store_is_redis(store) || !out)
        return csession__error(CSESSION_EINVAL, "not a Redis store, or NULL argument");
    if (!csession__session_key_valid(key, key_len))
        return csession__error(CSESSION_EINVAL, "not a session key");
    redis_key k;
    int rc = redis_key_make((redis_store *)store, key, &k);
    if (rc)
        return rc;
    rc = csession__buf_set(out, k.ptr, k.len);
    redis_key_dispose(&k);
    return rc;
}
