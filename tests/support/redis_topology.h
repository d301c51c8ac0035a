/*
 * Groups of Redis servers for the Sentinel and Cluster tests, each started
 * on free 127.0.0.1 ports in temporary directories and stopped by PID
 * (tests/support/redis_server.h):
 *
 *   a Sentinel group: a master, a replica and three sentinels watching them;
 *   a Redis Cluster of three masters, created with redis-cli --cluster.
 */
#ifndef CSESSION_TEST_REDIS_TOPOLOGY_H
#define CSESSION_TEST_REDIS_TOPOLOGY_H

#include <sys/types.h>

#include "redis_server.h"
#include "tls_certs.h"

#define SENTINELS 3

typedef struct sentinel_group {
    redis_server data[2]; /* started as master [0] and replica [1]; failovers swap them */
    redis_server sentinels[SENTINELS];
    char name[64];              /* the master's name */
    char password[64];          /* of the data nodes ("" for none) */
    char sentinel_password[64]; /* of the sentinels ("" for none) */
    char hosts[256];            /* "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" */
} sentinel_group;

/*
 * Starts the group with short timeouts (down-after-milliseconds 1000,
 * failover-timeout 5000) and waits until the replica is in sync and every
 * sentinel knows the replica and the other sentinels. Passwords may be NULL.
 * 0, or -1 after printing why.
 */
int sentinel_group_start(sentinel_group *g, const char *name, const char *password,
                         const char *sentinel_password);

/*
 * The same with every server listening with TLS only, with the server
 * certificate of `certs` (for 127.0.0.1) and its CA: the data nodes
 * replicate over TLS (--tls-replication yes), the sentinels listen with TLS
 * and use it towards the data nodes and each other. No passwords.
 * redis_test_use_tls(certs->ca) must have been called first (the waits
 * ask the servers over TLS). 0, or -1.
 */
int sentinel_group_start_tls(sentinel_group *g, const char *name, const tls_certs *certs);

/* Stops every server and removes their directories. */
void sentinel_group_stop(sentinel_group *g);

/* The port of the master sentinel `i` names; 0 when it cannot say. */
int sentinel_group_master_port(sentinel_group *g, int i);

/* The data node listening on `port`, or NULL. */
redis_server *sentinel_group_node(sentinel_group *g, int port);

/*
 * Waits up to `timeout_ms` until every sentinel names the same master, that
 * master says it is one, and the other data node (when running) replicates
 * from it in sync, known as a replica to every sentinel. Returns the
 * master's port, or 0 on timeout.
 */
int sentinel_group_wait_settled(sentinel_group *g, int timeout_ms);

#define CLUSTER_NODES 3

typedef struct redis_cluster {
    redis_server nodes[CLUSTER_NODES];
    char ids[CLUSTER_NODES][41]; /* CLUSTER MYID */
    char url[256];               /* "redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" */
} redis_cluster;

/*
 * Starts three cluster-enabled servers, creates the cluster with
 * `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, and
 * waits until every node says cluster_state:ok. 0, or -1.
 */
int redis_cluster_start(redis_cluster *c);

/*
 * The same with TLS only: every node listens with TLS (the server
 * certificate of `certs`), talks to the others over TLS (--tls-cluster yes,
 * which MIGRATE uses too) and announces its TLS port; the cluster is made
 * with redis-cli --tls. c->url is "rediss+cluster://...". Needs
 * redis_test_use_tls(certs->ca) first. 0, or -1.
 */
int redis_cluster_start_tls(redis_cluster *c, const tls_certs *certs);

void redis_cluster_stop(redis_cluster *c);

/* Waits up to `timeout_ms` until every node says cluster_state:ok and
 * names the same owner for every slot. 0 or -1. */
int redis_cluster_wait_ok(redis_cluster *c, int timeout_ms);

/* The node that serves `slot`, as node 0 sees it: an index, or -1. */
int redis_cluster_owner(redis_cluster *c, unsigned int slot);

/* How many slots node `node` serves, as node 0 sees it; -1 on failure. */
int redis_cluster_slots_of(redis_cluster *c, int node);

/* Runs redis-cli with `args` (NULL-terminated) as a child process, its
 * output discarded; with --tls --cacert first after redis_test_use_tls().
 * The child's PID, or -1. */
pid_t redis_cli_spawn(const char *const *args);

/* Waits for a child from redis_cli_spawn(); its exit status, or -1. */
int redis_cli_wait(pid_t pid);

/* Sleeps `ms` milliseconds; the monotonic clock in milliseconds. */
void test_sleep_ms(long ms);
long long test_now_ms(void);

#endif
