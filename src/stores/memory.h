/*
 * Internal: hooks into the memory store for tests and benchmarks. None of
 * these may be called while other threads use the store.
 */
#ifndef CSESSION_SRC_STORES_MEMORY_H
#define CSESSION_SRC_STORES_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "csession/store_memory.h"
#include "session_key.h"

/* Expired sessions reclaimed, at most, by one operation on a shard. */
#define CSESSION__MEMORY_RECLAIM_PER_OP 4

/* A clock in milliseconds; only differences matter. */
typedef int64_t (*csession__clock_fn)(void *ctx);

/* A session key generator (64 characters, no NUL). */
typedef void (*csession__keygen_fn)(char out[CSESSION__SESSION_KEY_LEN], void *ctx);

typedef struct csession__memory_stats {
    size_t live;           /* sessions held, expired ones not yet reclaimed included */
    size_t counted;        /* sessions counted against max_sessions (= live when idle) */
    size_t anonymous;      /* of them, sessions saved without a renewal */
    size_t reclaimed;      /* expired sessions freed so far */
    size_t reclaim_checks; /* heap tops examined to find expired sessions */
    size_t shards;
} csession__memory_stats;

/* 1 when `store` is a memory store, else 0. */
int csession__store_is_memory(const csession_store *store);

/* Replaces the clock (NULL restores the monotonic clock). 0 or EINVAL. */
int csession__store_memory_set_clock(csession_store *store, csession__clock_fn now_ms,
                                     void *ctx);

/* Replaces the key generator (NULL restores the CSPRNG one). 0 or EINVAL. */
int csession__store_memory_set_keygen(csession_store *store, csession__keygen_fn keygen,
                                      void *ctx);

/* Counters, read under each shard's lock in turn. 0 or EINVAL. */
int csession__store_memory_stats(csession_store *store, csession__memory_stats *out);

#endif
