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

/* SET NX under fresh keys until one is new, at revision 1. The key goes to
 * the caller before it is stored, so that a stored session always has an
 * owner. */
static int save_new(redis_store *r, const char *state, size_t state_len, int64_t ttl_seconds,
                    csession_buf *key_out)
{
    csession_buf value = CSESSION_BUF_INIT;
    int rc = csession__redis_rev_wrap(state, state_len, 1, &value);
    if (rc)
        return rc;
    state = value.ptr;
    state_len = value.size;
    char key[KEY_LEN];
    for (int attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
        r->keygen(key, r->keygen_ctx);
        if ((rc = csession__buf_set(key_out, key, KEY_LEN)))
            break;
        redis_key k;
        if ((rc = redis_key_make(r, key, &k)))
            break;
        int stored = 0;
        rc = csession__redis_set(r->topology, k.ptr, k.len, state, state_len, capped(ttl_seconds),
                                 CSESSION__REDIS_SET_NX, &stored);
        redis_key_dispose(&k);
        if (rc)
            break;
        if (stored) {
            sodium_memzero(key, sizeof key);
            csession_buf_dispose(&value);
            return 0;
        }
        /* A live session has this key: never overwrite, draw again. */
    }
    sodium_memzero(key, sizeof key);
    csession_buf_dispose(&value);
    csession__buf_clear(key_out);
    if (rc == 0)
        rc = csession__error(CSESSION_ESTORE,
                             "could not draw an unused session key in %d attempts",
                             KEY_ATTEMPTS);
    return rc;
}

/* Room for what the store adds to a state in the value: the revision and
 * the write's tag (revision.h). */
#define STORED_HEAD_EXTRA 64

/*
 * Reads the value of a valid session key, its TTL reset in the same
 * command when `touch_ttl_seconds` > 0, the revision taken out. A value
 * longer than a state may be, or a key of another type, is not read into
 * memory whole: it counts as not found, so that the request gets a fresh
 * session and the next commit a new key.
 */
static int load_value(redis_store *r, const char *key, int64_t touch_ttl_seconds,
                      csession_buf *state, uint64_t *revision)
{
    redis_key k;
    int rc = redis_key_make(r, key, &k);
    if (rc)
        return rc;
    int refused = 0;
    size_t max = r->max_state_bytes + STORED_HEAD_EXTRA;
    rc = csession__redis_read(r->topology, k.ptr, k.len, max,
                              touch_ttl_seconds > 0 ? capped(touch_ttl_seconds) : 0, state,
                              &refused);
    redis_key_dispose(&k);
    if (rc == 0) {
        csession__redis_rev_unwrap(state, revision);
        if (state->size > r->max_state_bytes)
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
    if (rc)
        csession__buf_clear(state);
    return rc;
}

static int redis_load_rev(csession_store *store, const char *key, size_t key_len,
                          int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision)
{
    redis_store *r = (redis_store *)store;
    if (!state || !revision)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    *revision = 0;
    /* A key this store cannot have made does not exist: no I/O at all. */
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    return load_value(r, key, touch_ttl_seconds, state, revision);
}

static int redis_load(csession_store *store, const char *key, size_t key_len,
                      csession_buf *state)
{
    uint64_t revision;
    return redis_load_rev(store, key, key_len, 0, state, &revision);
}

/* The conditional write script on a valid session key. */
static int write_if(redis_store *r, const char *key, int mode, uint64_t expected,
                    const char *state, size_t state_len, int64_t ttl_seconds, long long *result)
{
    redis_key k;
    int rc = redis_key_make(r, key, &k);
    if (rc)
        return rc;
    rc = csession__redis_write_if(r->topology, k.ptr, k.len, mode, expected, state, state_len,
                                  capped(ttl_seconds), result);
    redis_key_dispose(&k);
    return rc;
}

/* The script's answer as a store code: 0, CSESSION_ENOTFOUND, CSESSION_ECONFLICT. */
static int write_if_code(long long result)
{
    return result > 0 ? 0 : result == 0 ? CSESSION_ENOTFOUND : CSESSION_ECONFLICT;
}

static int redis_update_if(csession_store *store, const char *key, size_t key_len,
                           uint64_t expected_revision, const char *state, size_t state_len,
                           int64_t ttl_seconds)
{
    redis_store *r = (redis_store *)store;
    csession_buf unused = CSESSION_BUF_INIT;
    int rc = check_state(r, state, state_len, ttl_seconds, &unused);
    if (rc)
        return rc;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    long long result = 0;
    rc = write_if(r, key, CSESSION__REDIS_WRITE_IF_REV, expected_revision, state, state_len,
                  ttl_seconds, &result);
    return rc ? rc : write_if_code(result);
}

static int redis_remove_if(csession_store *store, const char *key, size_t key_len,
                           uint64_t expected_revision)
{
    redis_store *r = (redis_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    long long result = 0;
    int rc = write_if(r, key, CSESSION__REDIS_DELETE_IF_REV, expected_revision, "", 0, 1,
                      &result);
    return rc ? rc : write_if_code(result);
}

static int redis_save(csession_store *store, const char *state, size_t state_len,
                      int64_t ttl_seconds, csession_buf *key_out)
{
    redis_store *r = (redis_store *)store;
    int rc = check_state(r, state, state_len, ttl_seconds, key_out);
    return rc ? rc : save_new(r, state, state_len, ttl_seconds, key_out);
}

static int redis_update(csession_store *store, const char *key, size_t key_len,
                        const char *state, size_t state_len, int64_t ttl_seconds,
                        csession_buf *key_out)
{
    redis_store *r = (redis_store *)store;
    int rc = check_state(r, state, state_len, ttl_seconds, key_out);
    if (rc)
        return rc;
    if (!csession__session_key_valid(key, key_len))
        return save_new(r, state, state_len, ttl_seconds, key_out);
    if ((rc = csession__buf_set(key_out, key, KEY_LEN)))
        return rc;
    long long result = 0;
    rc = write_if(r, key, CSESSION__REDIS_WRITE_ANY, 0, state, state_len, ttl_seconds, &result);
    if (rc) {
        csession__buf_clear(key_out);
        return rc;
    }
    if (result > 0)
        return 0;
    /* The key expired or was deleted since it was loaded: as save, under a
     * new key (never recreate the old one, which its owner gave up). */
    return save_new(r, state, state_len, ttl_seconds, key_out);
}

static int redis_update_ttl(csession_store *store, const char *key, size_t key_len,
                            int64_t ttl_seconds)
{
    redis_store *r = (redis_store *)store;
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (!csession__session_key_valid(key, key_len))
        return 0;
    redis_key k;
    int rc = redis_key_make(r, key, &k);
    if (rc)
        return rc;
    rc = csession__redis_expire(r->topology, k.ptr, k.len, capped(ttl_seconds));
    redis_key_dispose(&k);
    return rc;
}

static int redis_remove(csession_store *store, const char *key, size_t key_len)
{
    redis_store *r = (redis_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return 0;
    redis_key k;
    int rc = redis_key_make(r, key, &k);
    if (rc)
        return rc;
    rc = csession__redis_del(r->topology, k.ptr, k.len);
    redis_key_dispose(&k);
    return rc;
}

static void redis_free(csession_store *store)
{
    redis_store *r = (redis_store *)store;
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
    csession__redis_topology_config tc = {&r->url, o.connect_timeout_ms, o.command_timeout_ms,
                                          o.pool_size, o.pool_wait_timeout_ms};
    if ((rc = csession__redis_topology_new(&r->topology, &tc))) {
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
