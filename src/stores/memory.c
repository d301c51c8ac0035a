/*
 * The in-memory session store: sharded, TTL-aware, bounded.
 *
 * Concurrency: sessions are spread over shards by a keyed hash; each shard
 * has its own mutex, so threads working on different sessions rarely wait
 * for each other. The only state shared by all shards is the session count
 * (an atomic, touched by save and by deletions, not by load).
 *
 * Lock hold times are kept short: states are copied into new entries and
 * keys are drawn before a shard is locked, and entries taken out of a shard
 * are wiped and freed after it is unlocked.
 */
#include "csession/store_memory.h"
#include "csession/library.h"

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "user_index.h"
#include "error.h"
#include "memory.h"
#include "memory_table.h"
#include "session_key.h"

/* Attempts to find an unused key before giving up. With 381 random bits a
 * second attempt is already unheard of; the bound only stops a broken
 * generator from looping forever. */
#define KEY_ATTEMPTS 8

typedef struct shard {
    pthread_mutex_t lock;
    csession__mem_table table;
    size_t reclaimed;
    size_t reclaim_checks;
} shard;

/* Each shard on cache lines of its own (the array is 64-byte aligned and
 * each slot a multiple of 64 bytes), so that locking one does not slow down
 * threads working on its neighbours. */
typedef union shard_slot {
    shard s;
    char pad[(sizeof(shard) + 63) / 64 * 64];
} shard_slot;

typedef struct memory_store {
    csession_store base; /* first: the vtable the library sees */
    /* Read by every operation, written only at creation. */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    unsigned int shard_bits;
    size_t shard_count;
    size_t max_sessions;
    size_t max_anonymous;
    size_t max_state_bytes;
    csession__clock_fn now_ms;
    void *now_ctx;
    csession__keygen_fn keygen;
    void *keygen_ctx;
    shard_slot *shards; /* 64-byte aligned, inside shards_block */
    void *shards_block;
    csession__user_index *users; /* the user_* members (user_index.h) */
    /* Written by every save and delete: kept off the cache lines above,
     * which would otherwise bounce between cores on each write. */
    char pad_before[64];
    atomic_size_t live;
    atomic_size_t anonymous; /* of them, sessions that never renewed */
    char pad_after[64];
} memory_store;

static uint64_t hash_key(const memory_store *m, const char *key)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, (const unsigned char *)key, CSESSION__SESSION_KEY_LEN, m->hash_key);
    memcpy(&v, h, sizeof v);
    return v;
}

/* The top bits choose the shard, the bottom bits the bucket within it. */
static shard *shard_of(const memory_store *m, uint64_t hash)
{
    size_t i = m->shard_bits ? (size_t)(hash >> (64 - m->shard_bits)) : 0;
    return &m->shards[i].s;
}

static int expired(const csession__mem_entry *e, int64_t now_ms)
{
    return e->deadline_ms <= now_ms;
}

/* Gives back the place of a session that leaves the store. */
static void release_slot(memory_store *m, int anonymous)
{
    atomic_fetch_sub(&m->live, 1);
    if (anonymous)
        atomic_fetch_sub(&m->anonymous, 1);
}

/* Takes `e` out of the shard onto the `garbage` list, to be freed unlocked. */
static void drop(memory_store *m, shard *sh, csession__mem_entry *e,
                 csession__mem_entry **garbage)
{
    csession__mem_table_unlink(&sh->table, e);
    e->next = *garbage;
    *garbage = e;
    release_slot(m, e->anonymous);
}

/* drop() for an entry found expired on lookup. */
static void drop_expired(memory_store *m, shard *sh, csession__mem_entry *e,
                         csession__mem_entry **garbage)
{
    sh->reclaimed++;
    drop(m, sh, e, garbage);
}

/*
 * Amortised expiry: each operation frees at most a few sessions from the
 * top of its shard's expiry heap. Every save adds one session and reclaims
 * up to CSESSION__MEMORY_RECLAIM_PER_OP, so expired sessions cannot pile
 * up under load, and no single request pays for a large batch.
 */
static void reclaim(memory_store *m, shard *sh, int64_t now_ms, size_t budget,
                    csession__mem_entry **garbage)
{
    while (budget-- > 0) {
        sh->reclaim_checks++;
        csession__mem_entry *e = csession__mem_table_pop_expired(&sh->table, now_ms);
        if (!e)
            return;
        e->next = *garbage;
        *garbage = e;
        sh->reclaimed++;
        release_slot(m, e->anonymous);
    }
}

static void reclaim_all(memory_store *m)
{
    int64_t now = m->now_ms(m->now_ctx);
    for (size_t i = 0; i < m->shard_count; i++) {
        shard *sh = &m->shards[i].s;
        csession__mem_entry *garbage = NULL;
        pthread_mutex_lock(&sh->lock);
        reclaim(m, sh, now, SIZE_MAX, &garbage);
        pthread_mutex_unlock(&sh->lock);
        csession__mem_entry_free_list(garbage);
    }
}

/*
 * One operation on the shard that holds a key: op_begin() locks it,
 * reclaims up to CSESSION__MEMORY_RECLAIM_PER_OP expired sessions there and
 * finds the key's entry; op_end() unlocks and frees what was dropped
 * meanwhile, outside the lock.
 */
typedef struct shard_op {
    shard *sh;
    int64_t now;
    csession__mem_entry *garbage;
} shard_op;

/* The entry of `key` (expired or not) in its locked shard, or NULL. */
static csession__mem_entry *op_begin(memory_store *m, shard_op *op, uint64_t hash,
                                     const char *key)
{
    op->sh = shard_of(m, hash);
    op->garbage = NULL;
    op->now = m->now_ms(m->now_ctx);
    pthread_mutex_lock(&op->sh->lock);
    reclaim(m, op->sh, op->now, CSESSION__MEMORY_RECLAIM_PER_OP, &op->garbage);
    return csession__mem_table_find(&op->sh->table, hash, key);
}

/* `e` when it is live; an expired one is dropped and NULL returned. */
static csession__mem_entry *op_live(memory_store *m, shard_op *op, csession__mem_entry *e)
{
    if (e && expired(e, op->now)) {
        drop_expired(m, op->sh, e, &op->garbage);
        return NULL;
    }
    return e;
}

static void op_end(shard_op *op)
{
    pthread_mutex_unlock(&op->sh->lock);
    csession__mem_entry_free_list(op->garbage);
}

/* Counts one against `counter` if it stays below `limit`. */
static int take_one(atomic_size_t *counter, size_t limit)
{
    size_t n = atomic_load(counter);
    while (n < limit) {
        if (atomic_compare_exchange_weak(counter, &n, n + 1))
            return 1;
    }
    return 0;
}

/* Counts one more session against max_sessions (and an anonymous one
 * against max_anonymous too), or refuses. The count is taken before the
 * entry is inserted, so that concurrent saves can never exceed the limits
 * together. */
static int take_slot(memory_store *m, int anonymous)
{
    for (int pass = 0; pass < 2; pass++) {
        if (!anonymous || take_one(&m->anonymous, m->max_anonymous)) {
            if (take_one(&m->live, m->max_sessions))
                return 0;
            if (anonymous)
                atomic_fetch_sub(&m->anonymous, 1);
        }
        /* Full: expired sessions still count until reclaimed; reclaim them
         * all before refusing. */
        if (pass == 0)
            reclaim_all(m);
    }
    if (anonymous && m->max_anonymous < m->max_sessions &&
        atomic_load(&m->anonymous) >= m->max_anonymous)
        return csession__error(CSESSION_ESTORE,
                               "memory store: the %zu sessions for visitors who have not "
                               "logged in (renewed) are taken; the rest is kept for logins",
                               m->max_anonymous);
    return csession__error(CSESSION_ESTORE,
                           "memory store is full (%zu sessions); sessions are not evicted",
                           m->max_sessions);
}

static int check_state(const memory_store *m, const char *state, size_t state_len,
                       int64_t ttl_seconds, const csession_buf *key_out)
{
    if ((!state && state_len) || !key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (state_len > m->max_state_bytes)
        return csession__error(CSESSION_ETOOBIG,
                               "session state of %zu bytes exceeds the memory store's "
                               "limit of %zu",
                               state_len, m->max_state_bytes);
    return 0;
}

/* Stores `e` (state copied in) under a fresh key. Takes `e` in all cases. */
static int insert_new(memory_store *m, csession__mem_entry *e, int64_t ttl_seconds,
                      csession_buf *key_out)
{
    int rc = take_slot(m, e->anonymous);
    if (rc) {
        csession__mem_entry_free(e);
        return rc;
    }
    rc = CSESSION_ESTORE; /* every attempt drew a key already in use */
    for (int attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
        m->keygen(e->key, m->keygen_ctx);
        /* The key goes to the caller before the entry becomes visible, so
         * that a stored session always has someone who knows its key. */
        int set = csession__buf_set(key_out, e->key, CSESSION__SESSION_KEY_LEN);
        if (set) {
            rc = set;
            break;
        }
        e->hash = hash_key(m, e->key);
        shard_op op;
        csession__mem_entry *old = op_live(m, &op, op_begin(m, &op, e->hash, e->key));
        e->deadline_ms = csession__deadline_ms(op.now, ttl_seconds);
        int inserted = 0;
        if (!old) {
            set = csession__mem_table_reserve(&op.sh->table);
            if (set == 0) {
                csession__mem_table_insert(&op.sh->table, e);
                inserted = 1;
            }
        }
        op_end(&op);
        if (inserted)
            return 0;
        if (set) {
            rc = set;
            break;
        }
        /* A live session has this key: never overwrite, draw again. */
    }
    release_slot(m, e->anonymous);
    csession__mem_entry_free(e);
    csession__buf_clear(key_out);
    if (rc == CSESSION_ESTORE)
        return csession__error(rc, "could not draw an unused session key in %d attempts",
                               KEY_ATTEMPTS);
    return rc;
}

static int memory_load_rev(csession_store *store, const char *key, size_t key_len,
                           int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision);

static int memory_load(csession_store *store, const char *key, size_t key_len,
                       csession_buf *state)
{
    uint64_t revision;
    return memory_load_rev(store, key, key_len, 0, state, &revision);
}

static int memory_save_ex(csession_store *store, const char *state, size_t state_len,
                          int64_t ttl_seconds, unsigned int save_flags, csession_buf *key_out)
{
    memory_store *m = (memory_store *)store;
    int rc = check_state(m, state, state_len, ttl_seconds, key_out);
    if (rc)
        return rc;
    csession__mem_entry *e = csession__mem_entry_new(state, state_len);
    if (!e)
        return csession__oom();
    e->anonymous = (save_flags & CSESSION_SAVE_RENEWED) == 0;
    return insert_new(m, e, ttl_seconds, key_out);
}

static int memory_save(csession_store *store, const char *state, size_t state_len,
                       int64_t ttl_seconds, csession_buf *key_out)
{
    return memory_save_ex(store, state, state_len, ttl_seconds, 0, key_out);
}

/* Any revision: the version 1 update, last write wins. */
#define ANY_REVISION UINT64_MAX

/*
 * Puts `e` (state copied in) in the place of the live entry of `key` when
 * that entry's revision is `expected` (or any, for ANY_REVISION), with the
 * next revision. 0 (the store took `e`), or CSESSION_ECONFLICT or
 * CSESSION_ENOTFOUND (no live entry): nothing written, `e` still the
 * caller's.
 */
static int replace_entry(memory_store *m, const char *key, csession__mem_entry *e,
                         int64_t ttl_seconds, uint64_t expected)
{
    memcpy(e->key, key, CSESSION__SESSION_KEY_LEN);
    e->hash = hash_key(m, key);
    shard_op op;
    csession__mem_entry *old = op_live(m, &op, op_begin(m, &op, e->hash, key));
    int rc = CSESSION_ENOTFOUND;
    if (old && expected != ANY_REVISION && old->revision != expected) {
        rc = CSESSION_ECONFLICT;
    } else if (old) {
        e->deadline_ms = csession__deadline_ms(op.now, ttl_seconds);
        e->revision = old->revision + 1;
        e->anonymous = old->anonymous; /* its budget's place moves with it */
        /* The old state is wiped by op_end(), with the rest of the garbage. */
        csession__mem_table_replace(&op.sh->table, old, e);
        old->next = op.garbage;
        op.garbage = old;
        rc = 0;
    }
    op_end(&op);
    return rc;
}

static int memory_update(csession_store *store, const char *key, size_t key_len,
                         const char *state, size_t state_len, int64_t ttl_seconds,
                         csession_buf *key_out)
{
    memory_store *m = (memory_store *)store;
    int rc = check_state(m, state, state_len, ttl_seconds, key_out);
    if (rc)
        return rc;
    csession__mem_entry *e = csession__mem_entry_new(state, state_len);
    if (!e)
        return csession__oom();
    if (!csession__session_key_valid(key, key_len))
        return insert_new(m, e, ttl_seconds, key_out);
    if ((rc = csession__buf_set(key_out, key, CSESSION__SESSION_KEY_LEN))) {
        csession__mem_entry_free(e);
        return rc;
    }
    rc = replace_entry(m, key, e, ttl_seconds, ANY_REVISION);
    if (rc != CSESSION_ENOTFOUND)
        return rc;
    /* The key vanished since it was loaded: as save, under a new key (a
     * fresh entry starts at revision 1 again). */
    e->revision = 1;
    return insert_new(m, e, ttl_seconds, key_out);
}

static int memory_update_if(csession_store *store, const char *key, size_t key_len,
                            uint64_t expected_revision, const char *state, size_t state_len,
                            int64_t ttl_seconds)
{
    memory_store *m = (memory_store *)store;
    csession_buf unused = CSESSION_BUF_INIT;
    int rc = check_state(m, state, state_len, ttl_seconds, &unused);
    if (rc)
        return rc;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    csession__mem_entry *e = csession__mem_entry_new(state, state_len);
    if (!e)
        return csession__oom();
    rc = replace_entry(m, key, e, ttl_seconds, expected_revision);
    if (rc)
        csession__mem_entry_free(e);
    return rc;
}

static int memory_load_rev(csession_store *store, const char *key, size_t key_len,
                           int64_t touch_ttl_seconds, csession_buf *state, uint64_t *revision)
{
    memory_store *m = (memory_store *)store;
    if (!state || !revision)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    shard_op op;
    csession__mem_entry *e = op_live(m, &op, op_begin(m, &op, hash_key(m, key), key));
    int rc = CSESSION_ENOTFOUND;
    if (e) {
        rc = csession__buf_set(state, e->state, e->state_len);
        *revision = e->revision;
        if (!rc && touch_ttl_seconds > 0)
            csession__mem_table_set_deadline(&op.sh->table, e,
                                             csession__deadline_ms(op.now, touch_ttl_seconds));
    }
    op_end(&op);
    return rc;
}

static int memory_remove_if(csession_store *store, const char *key, size_t key_len,
                            uint64_t expected_revision)
{
    memory_store *m = (memory_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    shard_op op;
    csession__mem_entry *e = op_live(m, &op, op_begin(m, &op, hash_key(m, key), key));
    int rc = CSESSION_ENOTFOUND;
    if (e && e->revision != expected_revision) {
        rc = CSESSION_ECONFLICT;
    } else if (e) {
        drop(m, op.sh, e, &op.garbage);
        rc = 0;
    }
    op_end(&op);
    return rc;
}

static int memory_update_ttl(csession_store *store, const char *key, size_t key_len,
                             int64_t ttl_seconds)
{
    memory_store *m = (memory_store *)store;
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (!csession__session_key_valid(key, key_len))
        return 0;

    shard_op op;
    csession__mem_entry *e = op_live(m, &op, op_begin(m, &op, hash_key(m, key), key));
    if (e)
        csession__mem_table_set_deadline(&op.sh->table, e, csession__deadline_ms(op.now, ttl_seconds));
    op_end(&op);
    return 0;
}

static int memory_remove(csession_store *store, const char *key, size_t key_len)
{
    memory_store *m = (memory_store *)store;
    if (!csession__session_key_valid(key, key_len))
        return 0;

    shard_op op;
    csession__mem_entry *e = op_begin(m, &op, hash_key(m, key), key);
    if (e)
        drop(m, op.sh, e, &op.garbage);
    op_end(&op);
    return 0;
}

/* Frees the first `initialised` shards and the store. */
static void destroy(memory_store *m, size_t initialised)
{
    for (size_t i = 0; i < initialised; i++) {
        csession__mem_table_dispose(&m->shards[i].s.table);
        pthread_mutex_destroy(&m->shards[i].s.lock);
    }
    csession__free(m->shards_block);
    csession__user_index_free(m->users);
    sodium_memzero(m->hash_key, sizeof m->hash_key);
    csession__free(m);
}

/* ---- a user's sessions: the index beside the shards ------------------- */

static int memory_user_save(csession_store *store, const char *user, size_t user_len,
                            const char *state, size_t state_len, int64_t ttl_seconds,
                            unsigned int save_flags, csession_buf *key_out)
{
    return csession__user_index_save(((memory_store *)store)->users, store, user, user_len,
                                     state, state_len, ttl_seconds, save_flags, key_out);
}

static int memory_user_remove(csession_store *store, const char *user, size_t user_len,
                              const char *key, size_t key_len)
{
    return csession__user_index_remove(((memory_store *)store)->users, store, user, user_len,
                                       key, key_len);
}

static int memory_user_list(csession_store *store, const char *user, size_t user_len,
                            int (*each)(const char *key, size_t key_len, const char *state,
                                        size_t state_len, void *payload),
                            void *payload)
{
    return csession__user_index_list(((memory_store *)store)->users, store, user, user_len,
                                     each, payload);
}

static int memory_user_end(csession_store *store, const char *user, size_t user_len,
                           const char *keep_key, size_t keep_key_len, uint64_t *ended)
{
    return csession__user_index_end(((memory_store *)store)->users, store, user, user_len,
                                    keep_key, keep_key_len, ended);
}

static void memory_free(csession_store *store)
{
    memory_store *m = (memory_store *)store;
    destroy(m, m->shard_count);
}

unsigned int csession_store_memory_options_version(void)
{
    return CSESSION_STORE_MEMORY_OPTIONS_VERSION;
}

/* Bytes of the options struct of each version (version 1 ended at shards). */
static size_t options_size(unsigned int version)
{
    switch (version) {
    case 1: return offsetof(csession_store_memory_options, max_anonymous_sessions);
    case 2: return sizeof(csession_store_memory_options);
    default: return 0;
    }
}

int csession_store_memory_options_init(csession_store_memory_options *opts,
                                       unsigned int version)
{
    if (!opts)
        return csession__error(CSESSION_EINVAL, "NULL options");
    size_t size = options_size(version);
    if (!size)
        return csession__error(CSESSION_EINVAL, "unknown memory store options version %u",
                               version);
    memset(opts, 0, size);
    opts->version = version;
    return 0;
}

typedef struct memory_limits {
    size_t max_sessions, max_anonymous, max_state_bytes;
    unsigned int shard_bits;
} memory_limits;

static int read_options(const csession_store_memory_options *opts, memory_limits *l)
{
    /* Only the fields of the caller's version exist: read the version
     * first, then copy that much over the defaults. */
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    if (opts) {
        size_t size = options_size(opts->version);
        if (!size)
            return csession__error(CSESSION_EINVAL, "unknown memory store options version %u",
                                   opts->version);
        memcpy(&o, opts, size);
    }
    l->max_sessions = o.max_sessions ? o.max_sessions : CSESSION_STORE_MEMORY_DEFAULT_MAX_SESSIONS;
    l->max_state_bytes =
        o.max_state_bytes ? o.max_state_bytes : CSESSION_STORE_MEMORY_DEFAULT_MAX_STATE_BYTES;
    unsigned int shards = o.shards ? o.shards : CSESSION_STORE_MEMORY_DEFAULT_SHARDS;
    if (l->max_sessions > CSESSION_STORE_MEMORY_LIMIT_MAX_SESSIONS)
        return csession__error(CSESSION_EINVAL, "max_sessions above %u",
                               CSESSION_STORE_MEMORY_LIMIT_MAX_SESSIONS);
    /* at least one, so that a store of one session still takes visitors */
    l->max_anonymous = o.max_anonymous_sessions ? o.max_anonymous_sessions
                                                : (l->max_sessions + 1) / 2;
    if (l->max_anonymous > l->max_sessions)
        return csession__error(CSESSION_EINVAL,
                               "max_anonymous_sessions (%zu) above max_sessions (%zu)",
                               l->max_anonymous, l->max_sessions);
    if (l->max_state_bytes > CSESSION_STORE_MEMORY_LIMIT_MAX_STATE_BYTES)
        return csession__error(CSESSION_EINVAL, "max_state_bytes above %u",
                               CSESSION_STORE_MEMORY_LIMIT_MAX_STATE_BYTES);
    if (shards > CSESSION_STORE_MEMORY_LIMIT_SHARDS || (shards & (shards - 1)) != 0)
        return csession__error(CSESSION_EINVAL,
                               "shards must be a power of two from 1 to %d, not %u",
                               CSESSION_STORE_MEMORY_LIMIT_SHARDS, shards);
    l->shard_bits = 0;
    while ((1u << l->shard_bits) < shards)
        l->shard_bits++;
    return 0;
}

int csession_store_memory_new(csession_store **out, const csession_store_memory_options *opts)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    *out = NULL;
    memory_limits lim = {0, 0, 0, 0};
    int rc = read_options(opts, &lim);
    if (rc)
        return rc;
    rc = csession_init();
    if (rc)
        return rc;

    memory_store *m = csession__calloc(1, sizeof *m);
    if (!m)
        return csession__oom();
    m->shard_bits = lim.shard_bits;
    m->shard_count = (size_t)1 << lim.shard_bits;
    m->max_sessions = lim.max_sessions;
    m->max_anonymous = lim.max_anonymous;
    m->max_state_bytes = lim.max_state_bytes;
    atomic_init(&m->live, 0);
    atomic_init(&m->anonymous, 0);
    m->now_ms = csession__monotonic_ms;
    m->keygen = csession__session_key_draw;
    /* A secret hash key per store: nobody outside can aim keys at one
     * shard or one bucket. */
    crypto_shorthash_keygen(m->hash_key);
    /* One slot more than needed, to start the array on a 64-byte line. */
    m->shards_block = csession__calloc(m->shard_count + 1, sizeof *m->shards);
    if (!m->shards_block) {
        destroy(m, 0);
        return csession__oom();
    }
    m->shards = (shard_slot *)(((uintptr_t)m->shards_block + 63) & ~(uintptr_t)63);
    for (size_t i = 0; i < m->shard_count; i++) {
        if (pthread_mutex_init(&m->shards[i].s.lock, NULL) != 0) {
            destroy(m, i);
            return csession__oom();
        }
    }

    m->base.version = CSESSION_STORE_VERSION;
    m->base.load = memory_load;
    m->base.save = memory_save;
    m->base.update = memory_update;
    m->base.update_ttl = memory_update_ttl;
    m->base.remove = memory_remove;
    m->base.free = memory_free;
    m->base.payload = NULL;
    m->base.flags = 0;
    m->base.load_rev = memory_load_rev;
    m->base.update_if = memory_update_if;
    m->base.remove_if = memory_remove_if;
    m->base.save_ex = memory_save_ex;
    if ((rc = csession__user_index_new(&m->users))) {
        destroy(m, m->shard_count);
        return rc;
    }
    m->base.user_save = memory_user_save;
    m->base.user_remove = memory_user_remove;
    m->base.user_list = memory_user_list;
    m->base.user_end = memory_user_end;
    *out = &m->base;
    return 0;
}

/* ---- internal hooks ------------------------------------------------------ */

int csession__store_is_memory(const csession_store *store)
{
    return store && store->load == memory_load;
}

int csession__store_memory_set_clock(csession_store *store, csession__clock_fn now_ms, void *ctx)
{
    if (!csession__store_is_memory(store))
        return csession__error(CSESSION_EINVAL, "not a memory store");
    memory_store *m = (memory_store *)store;
    m->now_ms = now_ms ? now_ms : csession__monotonic_ms;
    m->now_ctx = ctx;
    return 0;
}

int csession__store_memory_set_keygen(csession_store *store, csession__keygen_fn keygen,
                                      void *ctx)
{
    if (!csession__store_is_memory(store))
        return csession__error(CSESSION_EINVAL, "not a memory store");
    memory_store *m = (memory_store *)store;
    m->keygen = keygen ? keygen : csession__session_key_draw;
    m->keygen_ctx = ctx;
    return 0;
}

int csession__store_memory_stats(csession_store *store, csession__memory_stats *out)
{
    if (!csession__store_is_memory(store) || !out)
        return csession__error(CSESSION_EINVAL, "not a memory store");
    memory_store *m = (memory_store *)store;
    memset(out, 0, sizeof *out);
    out->shards = m->shard_count;
    out->counted = atomic_load(&m->live);
    out->anonymous = atomic_load(&m->anonymous);
    for (size_t i = 0; i < m->shard_count; i++) {
        shard *sh = &m->shards[i].s;
        pthread_mutex_lock(&sh->lock);
        out->live += sh->table.count;
        out->reclaimed += sh->reclaimed;
        out->reclaim_checks += sh->reclaim_checks;
        pthread_mutex_unlock(&sh->lock);
    }
    return 0;
}
