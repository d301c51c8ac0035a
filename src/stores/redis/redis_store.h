/*
 * Internal: entry points of the Redis store beyond the vtable, for the
 * request flow, tests and benchmarks.
 */
#ifndef CSESSION_SRC_STORES_REDIS_REDIS_STORE_H
#define CSESSION_SRC_STORES_REDIS_REDIS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "csession/buf.h"
#include "csession/store_redis.h"
#include "csession/sys/store.h"

/* 1 when `store` is a Redis store, else 0 (NULL gives 0). */
int csession__store_is_redis(const csession_store *store);

/*
 * Load and update_ttl in one round trip, for the ON_EVERY_REQUEST policy:
 * reads the state under `key` into `state` and resets its TTL to
 * `ttl_seconds`. Sends GETEX key EX ttl (Redis 6.2+); on a server that does
 * not know GETEX (detected from its first answer, then remembered for the
 * life of the store) GET and EXPIRE pipelined instead.
 * Returns what load returns: 0, CSESSION_ENOTFOUND (also for a key the
 * store cannot have made, without I/O), or a failure with a message
 * (CSESSION_ESTORE, CSESSION_ETIMEOUT, CSESSION_ENOMEM, CSESSION_EINVAL for
 * NULL arguments or a TTL below 1). Unless 0, `state` is left empty.
 * Thread-safe like the vtable operations.
 */
int csession__store_redis_load_touch(csession_store *store, const char *key, size_t key_len,
                                     int64_t ttl_seconds, csession_buf *state);

/* A session key generator (CSESSION_SESSION_KEY_LEN characters, no NUL). */
typedef void (*csession__redis_keygen_fn)(char out[CSESSION_SESSION_KEY_LEN], void *ctx);

struct csession__redis_topology;
struct csession__redis_async;

/* What the user index (users.c) builds on, borrowed from the store. */
typedef struct csession__redis_store_parts {
    struct csession__redis_topology *topology;
    const char *prefix; /* Redis key = prefix + session key (no key mapper) */
    size_t prefix_len;
    int cluster;        /* Redis Cluster: keys are placed by hash slot */
    size_t max_state_bytes;
    csession__redis_keygen_fn keygen;
    void *keygen_ctx;
    struct csession__redis_async *async; /* the loops' connections (redis_async.h) */
} csession__redis_store_parts;

/* Fills `out` for a Redis store (`store` must be one). */
void csession__store_redis_parts(csession_store *store, csession__redis_store_parts *out);

/* ---- for tests and benchmarks; not while other threads use the store ---- */

/* Replaces the key generator (NULL restores the CSPRNG one). 0 or EINVAL. */
int csession__store_redis_set_keygen(csession_store *store, csession__redis_keygen_fn keygen,
                                     void *ctx);

typedef struct csession__redis_stats {
    unsigned long opened;        /* connections opened (all pools) */
    unsigned long dropped;       /* connections found closed or reset */
    unsigned long wait_timeouts; /* operations that found the pool busy too long */
    unsigned int open;           /* connections open now */
    unsigned int idle;           /* of which idle */
    unsigned long refused_values; /* stored values refused: too big, or of another type */
    unsigned long inherited;     /* connections inherited across fork() and closed unused */
    unsigned long not_replicated; /* writes WAIT found short of wait_replicas */
    /* Sentinel */
    unsigned long discoveries;    /* masters looked up */
    unsigned long master_changes; /* lookups that found the master moved */
    /* Cluster */
    unsigned long refreshes; /* slot maps loaded */
    unsigned long moved;     /* MOVED answers (the map corrected; followed up to the bound) */
    unsigned long ask;       /* ASK answers */
    unsigned int nodes;      /* nodes known */
} csession__redis_stats;

/* Reads the counters (thread-safe). 0 or EINVAL. */
int csession__store_redis_stats(csession_store *store, csession__redis_stats *out);

/* The Redis key the session key `key` is stored under. 0, EINVAL (not a
 * Redis store, or not a valid session key), or what the key mapper gives. */
int csession__store_redis_key(csession_store *store, const char *key, size_t key_len,
                              csession_buf *out);

#endif
