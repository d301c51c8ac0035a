/*
 * Internal: the Redis commands of the session store, each one round trip
 * to the server the topology (topology.h) routes its key to, with one retry
 * on a new connection when the connection drops or a failover is seen, and
 * Redis Cluster's redirects followed. Keys here are Redis keys (prefixed or
 * mapped), not session keys. With wait_replicas in the URL, SET and DEL are
 * followed by WAIT in the same round trip; a write that too few replicas
 * acknowledged fails with CSESSION_ETIMEOUT (it may be lost on failover).
 *
 * Retrying is safe because every command sent is idempotent or as good as:
 * GET, GETEX EX, EXPIRE, DEL and SET XX with the same value give the same
 * result twice. SET NX of a freshly drawn key may have landed before the
 * connection dropped; the retry then answers "exists" and the caller draws
 * another key, leaving the first copy to expire by its TTL unreferenced.
 */
#ifndef CSESSION_SRC_STORES_REDIS_COMMANDS_H
#define CSESSION_SRC_STORES_REDIS_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "csession/buf.h"
#include "topology.h"

/* SET modes. */
#define CSESSION__REDIS_SET_NX 0 /* only when the key does not exist */
#define CSESSION__REDIS_SET_XX 1 /* only when it does */

/* GET key into `value`. 0, CSESSION_ENOTFOUND, or a failure. */
int csession__redis_get(csession__redis_topology *t, const char *key, size_t key_len,
                        csession_buf *value);

/*
 * SET key value NX|XX EX ttl. 0 with *stored = 1 when it was set, 0 with
 * *stored = 0 when the condition did not hold (NX: the key exists; XX: it
 * does not), or a failure.
 */
int csession__redis_set(csession__redis_topology *t, const char *key, size_t key_len,
                        const char *value, size_t value_len, int64_t ttl_seconds, int mode,
                        int *stored);

/* EXPIRE key ttl (also 0 when the key does not exist), or a failure. */
int csession__redis_expire(csession__redis_topology *t, const char *key, size_t key_len,
                           int64_t ttl_seconds);

/* DEL key (also 0 when the key does not exist), or a failure. */
int csession__redis_del(csession__redis_topology *t, const char *key, size_t key_len);

/*
 * GETEX key EX ttl (Redis 6.2+): the value into `value` and the TTL reset in
 * one command. 0, CSESSION_ENOTFOUND, CSESSION_EUNSUPPORTED when the server
 * does not know the command, or a failure.
 */
int csession__redis_getex(csession__redis_topology *t, const char *key, size_t key_len,
                          int64_t ttl_seconds, csession_buf *value);

/* GET and EXPIRE pipelined (one round trip, two commands): GETEX for older
 * servers. Same results as csession__redis_get(). */
int csession__redis_get_expire(csession__redis_topology *t, const char *key, size_t key_len,
                               int64_t ttl_seconds, csession_buf *value);

/* Modes of csession__redis_write_if(). */
#define CSESSION__REDIS_WRITE_IF_REV 0   /* update when the revision is `expected` */
#define CSESSION__REDIS_WRITE_ANY 1      /* update whatever the revision */
#define CSESSION__REDIS_DELETE_IF_REV 2  /* delete when the revision is `expected` */

/*
 * The conditional write of the store's revisions (revision.h), one script
 * run by EVALSHA (EVAL once when the server does not know it yet). `state`
 * is the state as the library wrote it (unused for a delete). 0 with
 * *result: 0 the key does not exist, -1 its revision is not `expected`,
 * otherwise the new revision (1 for a delete); or a failure.
 * Unlike the other commands, a conditional write is not idempotent: a
 * retry after a dropped connection may find the first attempt's write
 * done. An update recognises that by the tag each write stores with it
 * (revision.h); a retried delete that finds no key takes it as its own.
 */
int csession__redis_write_if(csession__redis_topology *t, const char *key, size_t key_len,
                             int mode, uint64_t expected, const char *state, size_t state_len,
                             int64_t ttl_seconds, long long *result);

/* The script and its SHA-1, for the tests. */
const char *csession__redis_write_if_script(void);
const char *csession__redis_write_if_sha(void);

#endif
