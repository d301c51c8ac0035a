/* Sentinel groups and clusters for tests: see redis_topology.h. */
#include "redis_topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

long long test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

/* The value of `key` in a RESP2 array of alternating keys and values. */
static const char *field(const redisReply *r, const char *key)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && strcmp(k->str, key) == 0 &&
            v->type == REDIS_REPLY_STRING)
            return v->str;
    }
    return NULL;
}

/* ---- Sentinel --------------------------------------------------------------------- */

int sentinel_group_master_port(sentinel_group *g, int i)
{
    redisReply *r = redis_test_command(g->sentinels[i].port, or_null(g->sentinel_password),
                                       "SENTINEL get-master-addr-by-name %s", g->name);
    int port = 0;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        port = atoi(r->element[1]->str);
    if (r)
        freeReplyObject(r);
    return port;
}

redis_server *sentinel_group_node(sentinel_group *g, int port)
{
    for (int i = 0; i < 2; i++) {
        if (g->data[i].port == port)
            return &g->data[i];
    }
    return NULL;
}

/* INFO replication of the node on `port` has `needle`. */
static int info_has(sentinel_group *g, int port, const char *needle)
{
    redisReply *r = redis_test_command(port, or_null(g->password), "INFO replication");
    int yes = r && r->type == REDIS_REPLY_STRING && strstr(r->str, needle) != NULL;
    if (r)
        freeReplyObject(r);
    return yes;
}

/* Sentinel `i` knows the replica on `port` as in sync, and the other
 * sentinels. */
static int sentinel_ready(sentinel_group *g, int i, int replica_port)
{
    const char *pw = or_null(g->sentinel_password);
    int ok = 0;
    redisReply *r = redis_test_command(g->sentinels[i].port, pw, "SENTINEL REPLICAS %s", g->name);
    for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements; k++) {
        const char *port = field(r->element[k], "port");
        const char *flags = field(r->element[k], "flags");
        const char *link = field(r->element[k], "master-link-status");
        if (port && atoi(port) == replica_port && flags && strcmp(flags, "slave") == 0 && link &&
            strcmp(link, "ok") == 0)
            ok = 1;
    }
    if (r)
        freeReplyObject(r);
    if (!ok)
        return 0;
    r = redis_test_command(g->sentinels[i].port, pw, "SENTINEL SENTINELS %s", g->name);
    ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == SENTINELS - 1;
    if (r)
        freeReplyObject(r);
    return ok;
}

int sentinel_group_wait_settled(sentinel_group *g, int timeout_ms)
{
    long long deadline = test_now_ms() + timeout_ms;
    do {
        int master = sentinel_group_master_port(g, 0);
        int agreed = master != 0;
        for (int i = 1; i < SENTINELS && agreed; i++)
            agreed = sentinel_group_master_port(g, i) == master;
        redis_server *m = agreed ? sentinel_group_node(g, master) : NULL;
        if (m && info_has(g, master, "role:master")) {
            redis_server *other = &g->data[m == &g->data[0] ? 1 : 0];
            int ready = other->pid <= 0;
            if (!ready && info_has(g, other->port, "role:slave") &&
                info_has(g, other->port, "master_link_status:up")) {
                ready = 1;
                for (int i = 0; i < SENTINELS && ready; i++)
                    ready = sentinel_ready(g, i, other->port);
            }
            if (ready)
                return master;
        }
        test_sleep_ms(100);
    } while (test_now_ms() < deadline);
    return 0;
}

/* A data node: plain, or TLS only with `certs`. */
static int start_data_node(redis_server *s, const tls_certs *certs, const char *const *args)
{
    if (!certs)
        return redis_server_start(s, args);
    return redis_server_start_tls(s, certs->server_cert, certs->server_key, certs->ca, 0, args);
}

/* sentinel_group_start() and sentinel_group_start_tls() (`certs` not NULL). */
static int group_start(sentinel_group *g, const char *name, const char *password,
                       const char *sentinel_password, const tls_certs *certs)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->password, sizeof g->password, "%s", password ? password : "");
    snprintf(g->sentinel_password, sizeof g->sentinel_password, "%s",
             sentinel_password ? sentinel_password : "");
    /* Both data nodes require the password and use it on their master:
     * failovers swap their roles. */
    const char *master_args[8] = {NULL};
    int n = 0;
    if (certs) {
        master_args[n++] = "--tls-replication";
        master_args[n++] = "yes";
    }
    if (password) {
        master_args[n++] = "--requirepass";
        master_args[n++] = password;
        master_args[n++] = "--masterauth";
        master_args[n++] = password;
    }
    if (start_data_node(&g->data[0], certs, master_args) != 0)
        return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", g->data[0].port);
    const char *replica_args[12];
    memcpy(replica_args, master_args, sizeof master_args);
    replica_args[n++] = "--replicaof";
    replica_args[n++] = "127.0.0.1";
    replica_args[n++] = port;
    replica_args[n] = NULL;
    if (start_data_node(&g->data[1], certs, replica_args) != 0)
        return -1;

    char conf[1024];
    int len = snprintf(conf, sizeof conf,
                       "sentinel monitor %s 127.0.0.1 %d 2\n"
                       "sentinel down-after-milliseconds %s 1000\n"
                       "sentinel failover-timeout %s 5000\n",
                       name, g->data[0].port, name, name);
    if (password)
        len += snprintf(conf + len, sizeof conf - (size_t)len, "sentinel auth-pass %s %s\n", name,
                        password);
    if (sentinel_password) /* also what the sentinels use with each other */
        snprintf(conf + len, sizeof conf - (size_t)len, "requirepass %s\n", sentinel_password);
    len = 0;
    for (int i = 0; i < SENTINELS; i++) {
        int rc = certs ? redis_sentinel_start_tls(&g->sentinels[i], conf, certs->server_cert,
                                                  certs->server_key, certs->ca)
                       : redis_sentinel_start(&g->sentinels[i], conf);
        if (rc != 0)
            return -1;
        len += snprintf(g->hosts + len, sizeof g->hosts - (size_t)len, "%s127.0.0.1:%d",
                        i ? "," : "", g->sentinels[i].port);
    }
    if (sentinel_group_wait_settled(g, 20000) != g->data[0].port) {
        fprintf(stderr, "the Sentinel group did not settle (logs in %s, %s, %s)\n",
                g->data[0].dir, g->data[1].dir, g->sentinels[0].dir);
        return -1;
    }
    return 0;
}

int sentinel_group_start(sentinel_group *g, const char *name, const char *password,
                         const char *sentinel_password)
{
    return group_start(g, name, password, sentinel_password, NULL);
}

int sentinel_group_start_tls(sentinel_group *g, const char *name, const tls_certs *certs)
{
    return group_start(g, name, NULL, NULL, certs);
}

void sentinel_group_stop(sentinel_group *g)
{
    for (int i = 0; i < SENTINELS; i++)
        redis_server_stop(&g->sentinels[i]);
    redis_server_stop(&g->data[0]);
    redis_server_stop(&g->data[1]);
}

/* ---- Cluster ---------------------------------------------------------------------- */

pid_t redis_cli_spawn(const char *const *args)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = "redis-cli";
    if (redis_test_tls_ca()) {
        argv[n++] = "--tls";
        argv[n++] = "--cacert";
        argv[n++] = redis_test_tls_ca();
    }
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return test_spawn(argv, 1);
}

int redis_cli_wait(pid_t pid)
{
    int status;
    if (pid <= 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* CLUSTER SLOTS of node `i` as an owner per slot (node indexes). */
static int owners(redis_cluster *c, int i, signed char owner[16384])
{
    memset(owner, -1, 16384);
    redisReply *r = redis_test_command(c->nodes[i].port, NULL, "CLUSTER SLOTS");
    int ok = r && r->type == REDIS_REPLY_ARRAY;
    for (size_t k = 0; ok && k < r->elements; k++) {
        const redisReply *e = r->element[k];
        long long first = e->element[0]->integer, last = e->element[1]->integer;
        int port = (int)e->element[2]->element[1]->integer;
        int who = -1;
        for (int j = 0; j < CLUSTER_NODES; j++) {
            if (c->nodes[j].port == port)
                who = j;
        }
        for (long long s = first; s <= last && s < 16384; s++)
            owner[s] = (signed char)who;
    }
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

int redis_cluster_owner(redis_cluster *c, unsigned int slot)
{
    static signed char owner[16384];
    if (owners(c, 0, owner) != 0 || slot >= 16384)
        return -1;
    return owner[slot];
}

int redis_cluster_slots_of(redis_cluster *c, int node)
{
    static signed char owner[16384];
    if (owners(c, 0, owner) != 0)
        return -1;
    int n = 0;
    for (int s = 0; s < 16384; s++)
        n += owner[s] == node;
    return n;
}

int redis_cluster_wait_ok(redis_cluster *c, int timeout_ms)
{
    static signed char first[16384], other[16384];
    long long deadline = test_now_ms() + timeout_ms;
    do {
        int ok = 1;
        for (int i = 0; i < CLUSTER_NODES && ok; i++) {
            redisReply *r = redis_test_command(c->nodes[i].port, NULL, "CLUSTER INFO");
            ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
                 strstr(r->str, "cluster_slots_ok:16384");
            if (r)
                freeReplyObject(r);
        }
        ok = ok && owners(c, 0, first) == 0;
        for (int i = 1; i < CLUSTER_NODES && ok; i++)
            ok = owners(c, i, other) == 0 && memcmp(first, other, sizeof first) == 0;
        for (int s = 0; s < 16384 && ok; s++)
            ok = first[s] >= 0;
        if (ok)
            return 0;
        test_sleep_ms(100);
    } while (test_now_ms() < deadline);
    return -1;
}

/* redis_cluster_start() and redis_cluster_start_tls() (`certs` not NULL). */
static int cluster_start(redis_cluster *c, const tls_certs *certs)
{
    memset(c, 0, sizeof *c);
    static const char *const args[] = {"--cluster-enabled", "yes", "--cluster-config-file",
                                       "nodes.conf", "--cluster-node-timeout", "5000",
                                       "--tls-cluster", "yes", "--tls-replication", "yes", NULL};
    /* Plain nodes take the arguments before --tls-cluster. */
    const char *plain_args[7];
    memcpy(plain_args, args, 6 * sizeof args[0]);
    plain_args[6] = NULL;
    char addr[CLUSTER_NODES][32];
    int len = snprintf(c->url, sizeof c->url, "%s+cluster://", certs ? "rediss" : "redis");
    for (int i = 0; i < CLUSTER_NODES; i++) {
        if (start_data_node(&c->nodes[i], certs, certs ? args : plain_args) != 0)
            return -1;
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d", c->nodes[i].port);
        len += snprintf(c->url + len, sizeof c->url - (size_t)len, "%s%s", i ? "," : "",
                        addr[i]);
        redisReply *r = redis_test_command(c->nodes[i].port, NULL, "CLUSTER MYID");
        if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
            fprintf(stderr, "CLUSTER MYID failed on %s\n", addr[i]);
            return -1;
        }
        memcpy(c->ids[i], r->str, 41);
        freeReplyObject(r);
    }
    const char *create[] = {"--cluster", "create", addr[0], addr[1], addr[2],
                            "--cluster-replicas", "0", "--cluster-yes", NULL};
    if (redis_cli_wait(redis_cli_spawn(create)) != 0) {
        fprintf(stderr, "redis-cli --cluster create failed\n");
        return -1;
    }
    if (redis_cluster_wait_ok(c, 20000) != 0) {
        fprintf(stderr, "the cluster did not reach cluster_state:ok\n");
        return -1;
    }
    return 0;
}

int redis_cluster_start(redis_cluster *c)
{
    return cluster_start(c, NULL);
}

int redis_cluster_start_tls(redis_cluster *c, const tls_certs *certs)
{
    return cluster_start(c, certs);
}

void redis_cluster_stop(redis_cluster *c)
{
    for (int i = 0; i < CLUSTER_NODES; i++)
        redis_server_stop(&c->nodes[i]);
}
