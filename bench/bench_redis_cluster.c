/*
 * The Redis store on a Redis Cluster against the physical limit of the same
 * cluster (each figure the median of REPS repetitions):
 *
 *  1. A request that changes its session, through a manager on the store
 *     (load with the previous response's cookie, a counter incremented,
 *     commit: GET + SET XX EX on the node serving the key's slot), against
 *     raw hiredis GET + SET XX EX on one connection to that node.
 *  2. 8 threads through one store (pools of 8 per node): load + update of
 *     sessions spread over the slots, in operations per second, against
 *     `redis-benchmark --cluster -c 8 -n N -t get,set -q` on the same
 *     cluster (run from here when it is installed).
 *
 * Usage: csession-bench-redis-cluster URL [N]
 *        URL redis+cluster://host:port[,host:port...] (also from
 *        $CSESSION_BENCH_REDIS_URL); N requests per repetition, default 20000.
 * Keys are written under "csession-bench:" and deleted afterwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "csession.h"
#include "redis_bench_common.h"
#include "csession/store_redis.h"
#include "stores/redis/cluster_slots.h"
#include "stores/redis/redis_store.h"
#include "stores/redis/url.h"

#define REPS 5

static csession__redis_url parsed;





static redisContext *raw_connect(const char *host, int port)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to %s:%d\n", host, port);
        exit(1);
    }
    if (parsed.password) {
        const char *argv[3] = {"AUTH", parsed.user, parsed.password};
        size_t lens[3] = {4, parsed.user_len, parsed.password_len};
        if (!parsed.user) {
            argv[1] = parsed.password;
            lens[1] = parsed.password_len;
        }
        freeReplyObject(redisCommandArgv(c, parsed.user ? 3 : 2, argv, lens));
    }
    return c;
}

/* A connection to the node serving `key`, found with CLUSTER SLOTS. */
static redisContext *raw_connect_for(const char *key)
{
    redisContext *seed = raw_connect(parsed.nodes[0].host, parsed.nodes[0].port);
    redisReply *r = redisCommand(seed, "CLUSTER SLOTS");
    csession__redis_slot_range *ranges = r ? calloc(r->elements + 1, sizeof *ranges) : NULL;
    size_t n = 0;
    if (!ranges || csession__redis_slots_parse(r, ranges, &n) != 0) {
        fprintf(stderr, "CLUSTER SLOTS failed\n");
        exit(1);
    }
    unsigned int slot = csession__redis_key_slot(key, strlen(key));
    redisContext *c = NULL;
    for (size_t i = 0; i < n && !c; i++) {
        if (slot >= ranges[i].first && slot <= ranges[i].last)
            c = raw_connect(ranges[i].host_len ? ranges[i].host : parsed.nodes[0].host,
                            ranges[i].port);
    }
    free(ranges);
    freeReplyObject(r);
    redisFree(seed);
    if (!c) {
        fprintf(stderr, "no node serves slot %u\n", slot);
        exit(1);
    }
    return c;
}


static csession_manager *new_manager(void)
{
    csession_config *cfg = NULL;
    unsigned char key[64];
    int rc;
    if ((rc = csession_config_new(&cfg)) || (rc = csession_key_generate(key, sizeof key)) ||
        (rc = csession_config_add_key(cfg, key, sizeof key)))
        die("configuration", rc);
    csession_manager *mgr = NULL;
    if ((rc = csession_manager_new(&mgr, cfg, new_store(4))))
        die("csession_manager_new", rc);
    csession_config_free(cfg);
    return mgr;
}




/* redis-benchmark --cluster; the mean of its GET and SET requests per second. */
static double redis_benchmark(char *command, size_t size)
{
    snprintf(command, size, "redis-benchmark --cluster -h %s -p %d -c %d -n %ld -t get,set -q",
             parsed.nodes[0].host, parsed.nodes[0].port, BENCH_THREADS, n_requests);
    if (parsed.password)
        return 0; /* not passing the password on a command line */
    return redis_benchmark_rate(command);
}

int main(int argc, char **argv)
{
    url = getenv("CSESSION_BENCH_REDIS_URL");
    if (argc > 1)
        url = argv[1];
    if (argc > 2)
        n_requests = atol(argv[2]);
    if (n_requests < BENCH_THREADS)
        n_requests = BENCH_THREADS;
    int rc = url ? csession__redis_url_parse(&parsed, url) : CSESSION_EINVAL;
    if (rc || parsed.kind != CSESSION__REDIS_CLUSTER) {
        fprintf(stderr, "usage: %s redis+cluster://host:port[,host:port...] [N]\n", argv[0]);
        return 2;
    }
    printf("csession Redis store on Redis Cluster, %s, %ld requests per repetition, "
           "median of %d\n\n",
           url, n_requests, REPS);

    /* 1. changing request */
    csession_manager *mgr = new_manager();
    csession_buf cookie = CSESSION_BUF_INIT;
    first_request(mgr, &cookie);
    const char *raw_key = PREFIX "raw-0123456789012345678901234567890123456789012345678901234";
    const char *value =
        "{\"v\":1,\"state\":{\"user_id\":\"4f1c2a9e-7b3d-4c1e\",\"counter\":12345}}";
    redisContext *raw = raw_connect_for(raw_key);
    freeReplyObject(redisCommand(raw, "SET %s %s EX 86400", raw_key, value));
    double mgr_ns[REPS], raw_ns[REPS];
    for (int i = 0; i < REPS; i++) {
        mgr_ns[i] = manager_changing(mgr, &cookie);
        raw_ns[i] = raw_get_set(raw, raw_key, value);
    }
    double m = median(mgr_ns, REPS), rw = median(raw_ns, REPS);
    printf("changing request (load + update)\n");
    printf("  manager on the cluster store %8.1f us/request\n", m / 1000);
    printf("  raw hiredis GET + SET XX     %8.1f us/request (one connection to the key's node)\n",
           rw / 1000);
    printf("  ratio                        %8.2f\n\n", m / rw);
    freeReplyObject(redisCommand(raw, "DEL %s", raw_key));
    redisFree(raw);
    csession *last = NULL; /* the benchmark's session goes, as at a logout */
    csession_buf removal = CSESSION_BUF_INIT;
    if ((rc = csession_manager_load(mgr, cookie.ptr, cookie.size, &last)) ||
        (rc = csession_purge(last)) || (rc = csession_manager_commit(mgr, last, &removal)))
        die("logout", rc);
    csession_free(last);
    csession_buf_dispose(&removal);
    csession_manager_free(mgr);

    /* 2. threads */
    csession_store *s = new_store(BENCH_THREADS);
    double o = threads_load_update(s, value, BENCH_MAX_KEYS_PER_THREAD, REPS);
    char command[300];
    double bench[REPS];
    for (int i = 0; i < REPS; i++)
        bench[i] = redis_benchmark(command, sizeof command);
    csession__redis_stats st;
    csession__store_redis_stats(s, &st);
    printf("%d threads, one store (pools of %d per node, %u nodes, %lu connections)\n",
           BENCH_THREADS, BENCH_THREADS, st.nodes, st.opened);
    print_vs_redis_benchmark(o, median(bench, REPS), command);
    csession_store_free(s);
    csession_buf_dispose(&cookie);
    csession__redis_url_dispose(&parsed);
    return 0;
}
