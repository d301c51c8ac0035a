/*
 * store_memory.h: the in-memory session store, the embedded default.
 *
 * Sessions live in this process only: they are lost on restart and not
 * shared between processes (use the Redis store for that). The store is
 * thread-safe and scales across threads: the table is split into shards,
 * each with its own lock, and a session's shard follows from a keyed hash
 * (SipHash with a random per-store key) of its session key.
 *
 * Expiry. A state is gone once its TTL has passed: load answers
 * CSESSION_ENOTFOUND from then on. The memory is reclaimed without ever
 * scanning the table: each shard keeps its sessions in a min-heap ordered
 * by expiry time, and every operation on a shard frees at most a few expired
 * sessions from the top of that heap (so no request pays for a large batch
 * that expired at once), while a store at its session limit reclaims every
 * expired session before it refuses a new one. Time is measured on the
 * monotonic clock, so changes to the system time neither expire nor revive
 * sessions.
 *
 * Full store. When max_sessions live sessions are held, saving a new one
 * fails with CSESSION_ESTORE ("memory store is full"); existing sessions
 * are never evicted to make room, and they can still be read, updated,
 * touched and deleted. Eviction would let anyone who can create sessions
 * (any anonymous visitor, when the application stores anything for them)
 * log every real user out by filling the store, because the sessions
 * closest to expiry are the oldest, that is the real users'. Refusing keeps
 * signed-in users signed in and makes the overload visible as an error.
 *
 * Floods. Sessions that never renewed (anonymous visitors: a session is
 * saved as renewed when csession_renew() was called on it, as at a login)
 * have a budget of their own, max_anonymous_sessions (default: half of
 * max_sessions). Once it is full, new anonymous sessions are refused while
 * the rest of the store stays free for logins: a flood of anonymous
 * requests, which can fill only its own budget, can never make a login
 * fail nor log out anybody. Renewed sessions may use the whole store.
 *
 * Memory. Each session costs its state plus about 135 bytes of heap (the
 * key, bookkeeping, malloc's own overhead and the share of the hash and
 * heap arrays; 245 bytes in all for a 110-byte state, measured by
 * bench/bench_store_memory.c with glibc), so the worst case is about
 * max_sessions * (max_state_bytes + 135) bytes: with the defaults (100000
 * sessions of up to 8 KiB) about 830 MB, while 100000 typical sessions of a
 * few hundred bytes take a few tens of MB. Size both limits for your
 * deployment. The arrays grow with the number of sessions and are not
 * shrunk when it falls again. States, keys and the hash key are wiped
 * (sodium_memzero) when deleted, replaced, expired or when the store is
 * freed.
 */
#ifndef CSESSION_STORE_MEMORY_H
#define CSESSION_STORE_MEMORY_H

#include "csession/common.h"
#include "csession/sys/store.h"

CSESSION_BEGIN_DECLS

/* Version 2 added max_anonymous_sessions. */
#define CSESSION_STORE_MEMORY_OPTIONS_VERSION 2

/* Defaults, used for option fields left at 0. */
#define CSESSION_STORE_MEMORY_DEFAULT_MAX_SESSIONS 100000
#define CSESSION_STORE_MEMORY_DEFAULT_MAX_STATE_BYTES 8192
#define CSESSION_STORE_MEMORY_DEFAULT_SHARDS 32

/* Largest accepted values. */
#define CSESSION_STORE_MEMORY_LIMIT_MAX_SESSIONS 4294967295u /* 2^32 - 1 */
#define CSESSION_STORE_MEMORY_LIMIT_MAX_STATE_BYTES 16777216u /* 16 MiB */
#define CSESSION_STORE_MEMORY_LIMIT_SHARDS 1024

/*
 * Options for csession_store_memory_new(). Initialise with
 * CSESSION_STORE_MEMORY_OPTIONS_INIT or csession_store_memory_options_init()
 * so that fields added by later versions get their defaults. Every field
 * left at 0 takes the default.
 */
typedef struct csession_store_memory_options {
    /* CSESSION_STORE_MEMORY_OPTIONS_VERSION. */
    unsigned int version;

    /* Most sessions held at once (default 100000, at most 2^32 - 1).
     * Expired sessions not yet reclaimed count until they are. */
    size_t max_sessions;

    /* Largest state accepted by save and update, in bytes (default 8192,
     * at most 16 MiB); larger ones fail with CSESSION_ETOOBIG. */
    size_t max_state_bytes;

    /* Number of shards, each with its own lock: a power of two from 1 to
     * 1024 (default 32). More shards mean less lock contention between
     * threads; a few times the number of threads is plenty. */
    unsigned int shards;

    /* ---- version 2 ---- */
    /* Most sessions that never renewed held at once (default: half of
     * max_sessions; at most max_sessions, which turns the split off). */
    size_t max_anonymous_sessions;
} csession_store_memory_options;

#define CSESSION_STORE_MEMORY_OPTIONS_INIT { CSESSION_STORE_MEMORY_OPTIONS_VERSION, 0, 0, 0, 0 }

/* CSESSION_STORE_MEMORY_OPTIONS_VERSION, for bindings that cannot read macros. */
CSESSION_EXTERN(unsigned int) csession_store_memory_options_version(void);

/*
 * Sets `opts` to the defaults of the given `version` (pass
 * CSESSION_STORE_MEMORY_OPTIONS_VERSION; 1 writes only the fields of the
 * version 1 struct).
 * Returns 0, or CSESSION_EINVAL for NULL or an unknown version.
 */
CSESSION_EXTERN(int) csession_store_memory_options_init(csession_store_memory_options *opts,
                                                        unsigned int version);

/*
 * Creates an empty memory store. `opts` may be NULL for the defaults; it is
 * only read during the call.
 * Options of version 1 (without max_anonymous_sessions) are read as such.
 * Returns 0, CSESSION_EINVAL (unknown options version, a limit out of range,
 * a shard count that is not a power of two), CSESSION_ENOMEM, or
 * CSESSION_ERROR when libsodium cannot be initialised. On failure *out is
 * NULL. The caller owns *out until it hands it to a manager; release it
 * with csession_store_free().
 *
 * Session keys it accepts are the ones it makes (64 characters
 * [A-Za-z0-9]); any other key is unknown: load answers CSESSION_ENOTFOUND,
 * update saves under a new key, update_ttl and remove do nothing.
 */
CSESSION_EXTERN(int) csession_store_memory_new(csession_store **out,
                                               const csession_store_memory_options *opts);

CSESSION_END_DECLS

#endif /* CSESSION_STORE_MEMORY_H */
