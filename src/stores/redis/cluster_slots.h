/*
 * Internal: Redis Cluster's key space. Hash slots (CRC16 of the key or of
 * its {hash tag}), the parsing of CLUSTER SLOTS and of MOVED/ASK replies
 * (no I/O), and the slot map: which node serves each of the 16384 slots,
 * each node with its pool of connections.
 *
 * The map is read without a lock by every command: slots and nodes are
 * atomics, nodes are only ever added (and freed with the map), so a node a
 * thread found stays valid while it uses it.
 */
#ifndef CSESSION_SRC_STORES_REDIS_CLUSTER_SLOTS_H
#define CSESSION_SRC_STORES_REDIS_CLUSTER_SLOTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "pool.h"
#include "url.h"

#define CSESSION__REDIS_SLOTS 16384

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the Redis
 * Cluster specification. crc16("123456789") is 0x31C3. */
unsigned int csession__redis_crc16(const char *buf, size_t len);

/* The hash slot of `key`: CRC16 mod 16384 of the part between the first
 * '{' and the first '}' after it when that part is not empty, else of the
 * whole key. */
unsigned int csession__redis_key_slot(const char *key, size_t len);

/* A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381". */
typedef struct csession__redis_redirect {
    int ask;          /* 1: ASK (this command only), 0: MOVED (the slot moved) */
    unsigned int slot;
    const char *host; /* in the reply, not NUL-terminated; empty: the same host */
    size_t host_len;
    int port;
} csession__redis_redirect;

/* 0 with `out` filled (pointing into `r`), or -1 when `r` is not a well-formed
 * MOVED or ASK reply (a host with a NUL, space or control byte included). */
int csession__redis_redirect_parse(const redisReply *r, csession__redis_redirect *out);

/* A range of slots served by one master, as CLUSTER SLOTS gives it. */
typedef struct csession__redis_slot_range {
    unsigned int first, last;
    const char *host; /* in the reply, NUL-terminated; empty or "?": unknown */
    size_t host_len;
    int port;
} csession__redis_slot_range;

/*
 * Parses a CLUSTER SLOTS reply into `out` (r->elements entries at most),
 * masters only. 0 with *n set, or -1 when the reply is malformed (a slot
 * out of range, a port that is not one, a host with a NUL, space or control
 * byte, ...). Pointers stay in `r`.
 */
int csession__redis_slots_parse(const redisReply *r, csession__redis_slot_range *out, size_t *n);

/* ---- the slot map -------------------------------------------------------------- */

typedef struct csession__redis_cluster_node {
    char host[CSESSION__REDIS_MAX_HOST + 1];
    int port;
    unsigned short id; /* its index in the map + 1, as the slots hold it */
    csession__redis_pool pool;
} csession__redis_cluster_node;

#define CSESSION__REDIS_MAP_NODES 1024

typedef struct csession__redis_slot_map {
    pthread_mutex_t lock; /* held to add a node */
    _Atomic(csession__redis_cluster_node *) nodes[CSESSION__REDIS_MAP_NODES];
    atomic_uint n_nodes;
    atomic_ushort slots[CSESSION__REDIS_SLOTS]; /* node index + 1; 0: unknown */
    csession__redis_target node_target;         /* login and timeouts for every node */
    unsigned int pool_size, pool_wait_timeout_ms;
} csession__redis_slot_map;

/* Empty map; `node_target` is copied (its strings stay borrowed). 0 or ENOMEM. */
int csession__redis_slot_map_init(csession__redis_slot_map *m,
                                  const csession__redis_target *node_target,
                                  unsigned int pool_size, unsigned int pool_wait_timeout_ms);

/* In a process forked while another thread may have held the map's lock:
 * makes the lock again. The nodes and slots are kept (data, not
 * connections: each node's pool looks after its own, pool.h). */
void csession__redis_slot_map_after_fork(csession__redis_slot_map *m);

/* Frees every node and its pool; no connection may be in use. */
void csession__redis_slot_map_dispose(csession__redis_slot_map *m);

/* The node at host:port (`host_len` bytes), added with an empty pool when
 * new. 0 with *out, CSESSION_ESTORE (more than 1024 nodes, host too long)
 * or CSESSION_ENOMEM. */
int csession__redis_slot_map_node(csession__redis_slot_map *m, const char *host,
                                  size_t host_len, int port, csession__redis_cluster_node **out);

/* The node serving `slot`, or NULL when unknown. */
csession__redis_cluster_node *csession__redis_slot_map_lookup(csession__redis_slot_map *m,
                                                              unsigned int slot);

/* `slot` is served by `node` (after a MOVED). */
void csession__redis_slot_map_set(csession__redis_slot_map *m, unsigned int slot,
                                  const csession__redis_cluster_node *node);

/* Replaces the whole map with `ranges`; slots in none become unknown. Ranges
 * with an unknown host get `asked_host`. 0, or what adding a node returned
 * (the map is then unchanged). */
int csession__redis_slot_map_load(csession__redis_slot_map *m,
                                  const csession__redis_slot_range *ranges, size_t n,
                                  const char *asked_host);

/* Nodes known now. */
unsigned int csession__redis_slot_map_size(csession__redis_slot_map *m);

/* Node `i` (< size), for probing and stats. */
csession__redis_cluster_node *csession__redis_slot_map_at(csession__redis_slot_map *m,
                                                          unsigned int i);

#endif
