/*
 * The Redis store against the physical limit of the same server, in one run
 * (each figure the median of REPS repetitions):
 *
 *  1. A request that changes its session, through a manager on the Redis
 *     store (csession_manager_load with the previous response's cookie, a
 *     counter incremented, csession_manager_commit: GET + SET XX EX), against
 *     raw hiredis GET + SET XX EX on one connection: the same two round trips
 *     with nothing around them; and the manager on the memory store, for
 *     the part of a request that is not Redis.
 *  2. A read-only request with the ON_EVERY_REQUEST TTL policy through the
 *     manager, with the Redis commands it sends per request (read from INFO
 *     commandstats); and the store's one-round-trip load_touch (a script: GETRANGE
 *     up to the state limit, then EXPIRE) alone,
 *     against raw GETEX.
 *  3. 8 threads through one store (pool of 8): load + update per iteration,
 *     in operations per second, against `redis-benchmark -c 8 -n N -t get,set
 *     -q` on the same server (run from here when it is installed).
 *
 * Usage: csession-bench-redis [URL [N]]   (URL also from $CSESSION_BENCH_REDIS_URL;
 *        default redis://127.0.0.1:6379; N requests per repetition, default 20000)
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
#include "stores/redis/redis_store.h"
#include "stores/redis/url.h"

#define REPS 5

static csession__redis_url parsed;





static redisContext *raw_connect(void)
{
    struct timeval tv = {5, 0};
    redisContext *c = parsed.is_unix ? redisConnectUnixWithTimeout(parsed.path, tv)
                                     : redisConnectWithTimeout(parsed.host, parsed.port, tv);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to %s: %s\n", url, c ? c->errstr : "out of memory");
        exit(1);
    }
    redisReply *r = NULL;
    if (parsed.password) {
        const char *argv[3] = {"AUTH", parsed.user, parsed.password};
        size_t lens[3] = {4, parsed.user_len, parsed.password_len};
        if (!parsed.user) {
            argv[1] = parsed.password;
            lens[1] = parsed.password_len;
        }
        r = redisCommandArgv(c, parsed.user ? 3 : 2, argv, lens);
        freeReplyObject(r);
    }
    if (parsed.db) {
        r = redisCommand(c, "SELECT %d", parsed.db);
        freeReplyObject(r);
    }
    return c;
}


/* On the Redis store, or on the memory store (`memory` non-zero) for the
 * cost of everything around the store: cookie, crypto, JSON. */
static csession_manager *new_manager(int policy, int memory)
{
    csession_config *cfg = NULL;
    unsigned char key[64];
    int rc;
    if ((rc = csession_config_new(&cfg)) || (rc = csession_key_generate(key, sizeof key)) ||
        (rc = csession_config_add_key(cfg, key, sizeof key)) ||
        (rc = csession_config_set_ttl_policy(cfg, policy)))
        die("configuration", rc);
    csession_manager *mgr = NULL;
    if ((rc = csession_manager_new(&mgr, cfg, memory ? NULL : new_store(4))))
        die("csession_manager_new", rc);
    csession_config_free(cfg);
    return mgr;
}



/* ns per request: load with the cookie, read a value, commit (no change). */
static double manager_reading(csession_manager *mgr, csession_buf *cookie)
{
    csession_buf set = CSESSION_BUF_INIT;
    double t0 = seconds();
    for (long i = 0; i < n_requests; i++) {
        csession *s = NULL;
        int64_t n = 0;
        int rc;
        if ((rc = csession_manager_load(mgr, cookie->ptr, cookie->size, &s)) ||
            (rc = csession_get_int64(s, "counter", &n)) ||
            (rc = csession_manager_commit(mgr, s, &set)))
            die("request", rc);
        csession_free(s);
    }
    double ns = (seconds() - t0) * 1e9 / (double)n_requests;
    csession_buf_dispose(&set);
    return ns;
}


static double raw_getex(redisContext *c, const char *key)
{
    double t0 = seconds();
    for (long i = 0; i < n_requests; i++) {
        const char *argv[4] = {"GETEX", key, "EX", "86400"};
        size_t lens[4] = {5, strlen(key), 2, 5};
        redisReply *r = redisCommandArgv(c, 4, argv, lens);
        if (!r || r->type != REDIS_REPLY_STRING)
            exit(1);
        freeReplyObject(r);
    }
    return (seconds() - t0) * 1e9 / (double)n_requests;
}

static double store_load_touch(csession_store *s, const char *key)
{
    csession_buf b = CSESSION_BUF_INIT;
    double t0 = seconds();
    for (long i = 0; i < n_requests; i++) {
        int rc = csession__store_redis_load_touch(s, key, 64, 86400, &b);
        if (rc)
            die("load_touch", rc);
    }
    double ns = (seconds() - t0) * 1e9 / (double)n_requests;
    csession_buf_dispose(&b);
    return ns;
}

/* Calls of each command so far, from INFO commandstats. */
static long long calls(redisContext *c, const char *command)
{
    redisReply *r = redisCommand(c, "INFO commandstats");
    char needle[64];
    snprintf(needle, sizeof needle, "cmdstat_%s:calls=", command);
    const char *p = r && r->str ? strstr(r->str, needle) : NULL;
    long long n = p ? atoll(p + strlen(needle)) : 0;
    freeReplyObject(r);
    return n;
}

/* Runs redis-benchmark; averages its GET and SET requests per second. */
static double redis_benchmark(char *command, size_t size)
{
    if (parsed.is_unix)
        snprintf(command, size, "redis-benchmark -s %s -c %d -n %ld -t get,set -q", parsed.path,
                 BENCH_THREADS, n_requests);
    else
        snprintf(command, size, "redis-benchmark -h %s -p %d -c %d -n %ld -t get,set -q",
                 parsed.host, parsed.port, BENCH_THREADS, n_requests);
    if (parsed.password)
        return 0; /* not passing the password on a command line */
    return redis_benchmark_rate(command);
}

int main(int argc, char **argv)
{
    url = "redis://127.0.0.1:6379";
    if (getenv("CSESSION_BENCH_REDIS_URL"))
        url = getenv("CSESSION_BENCH_REDIS_URL");
    if (argc > 1)
        url = argv[1];
    if (argc > 2)
        n_requests = atol(argv[2]);
    if (n_requests < BENCH_THREADS)
        n_requests = BENCH_THREADS;
    int rc = csession__redis_url_parse(&parsed, url);
    if (rc)
        die("URL", rc);
    redisContext *raw = raw_connect();
    printf("csession Redis store, %s, %ld requests per repetition, median of %d\n\n", url,
           n_requests, REPS);

    /* 1. changing request */
    csession_manager *mgr = new_manager(CSESSION_TTL_ON_STATE_CHANGES, 1);
    csession_buf cookie = CSESSION_BUF_INIT;
    first_request(mgr, &cookie);
    double mem_ns[REPS];
    for (int i = 0; i < REPS; i++)
        mem_ns[i] = manager_changing(mgr, &cookie);
    double mm = median(mem_ns, REPS);
    csession_manager_free(mgr);

    mgr = new_manager(CSESSION_TTL_ON_STATE_CHANGES, 0);
    first_request(mgr, &cookie);
    const char *raw_key = PREFIX "raw-0123456789012345678901234567890123456789012345678901234";
    const char *value = "{\"v\":1,\"state\":{\"user_id\":\"4f1c2a9e-7b3d-4c1e\",\"counter\":12345}}";
    redisReply *r = redisCommand(raw, "SET %s %s EX 86400", raw_key, value);
    freeReplyObject(r);
    double mgr_ns[REPS], raw_ns[REPS];
    for (int i = 0; i < REPS; i++) {
        mgr_ns[i] = manager_changing(mgr, &cookie);
        raw_ns[i] = raw_get_set(raw, raw_key, value);
    }
    double m = median(mgr_ns, REPS), rw = median(raw_ns, REPS);
    printf("changing request (load + update)\n");
    printf("  manager on the Redis store   %8.1f us/request\n", m / 1000);
    printf("  raw hiredis GET + SET XX     %8.1f us/request\n", rw / 1000);
    printf("  ratio                        %8.2f\n", m / rw);
    printf("  (the same on the memory store %6.1f us/request: the cost outside the store)\n\n",
           mm / 1000);
    csession_manager_free(mgr);

    /* 2. read-only request, ON_EVERY_REQUEST */
    mgr = new_manager(CSESSION_TTL_ON_EVERY_REQUEST, 0);
    first_request(mgr, &cookie);
    /* commandstats counts the commands a script runs too */
    static const char *const counted[] = {"getrange", "evalsha", "eval", "expire", "set", "del"};
    long long before[6];
    for (int i = 0; i < 6; i++)
        before[i] = calls(raw, counted[i]);
    double read_ns[REPS];
    for (int i = 0; i < REPS; i++)
        read_ns[i] = manager_reading(mgr, &cookie);
    double rd = median(read_ns, REPS);
    printf("read-only request, TTL policy ON_EVERY_REQUEST\n");
    printf("  manager on the Redis store   %8.1f us/request; commands per request:", rd / 1000);
    for (int i = 0; i < 6; i++) {
        long long d = calls(raw, counted[i]) - before[i];
        if (d)
            printf(" %s %.2f", counted[i], (double)d / (double)(n_requests * REPS));
    }
    printf("\n");
    csession_manager_free(mgr);

    csession_store *s = new_store(4);
    csession_buf k = CSESSION_BUF_INIT;
    if ((rc = s->save(s, value, strlen(value), 86400, &k)))
        die("save", rc);
    char rkey[128];
    snprintf(rkey, sizeof rkey, PREFIX "%s", k.ptr);
    double touch_ns[REPS], getex_ns[REPS];
    for (int i = 0; i < REPS; i++) {
        touch_ns[i] = store_load_touch(s, k.ptr);
        getex_ns[i] = raw_getex(raw, rkey);
    }
    double tn = median(touch_ns, REPS), gn = median(getex_ns, REPS);
    printf("  store load_touch (script)    %8.1f us/op\n", tn / 1000);
    printf("  raw hiredis GETEX            %8.1f us/op\n", gn / 1000);
    printf("  ratio                        %8.2f\n\n", tn / gn);
    s->remove(s, k.ptr, k.size);
    csession_store_free(s);

    /* 3. threads */
    s = new_store(BENCH_THREADS);
    double o = threads_load_update(s, value, 1, REPS);
    char command[300];
    double bench[REPS];
    for (int i = 0; i < REPS; i++)
        bench[i] = redis_benchmark(command, sizeof command);
    printf("%d threads, one store with a pool of %d\n", BENCH_THREADS, BENCH_THREADS);
    print_vs_redis_benchmark(o, median(bench, REPS), command);
    csession_store_free(s);

    /* Everything under the prefix: also the manager's sessions. */
    r = redisCommand(raw, "KEYS " PREFIX "*");
    for (size_t i = 0; r && i < r->elements; i++) {
        redisReply *d = redisCommand(raw, "DEL %b", r->element[i]->str, r->element[i]->len);
        freeReplyObject(d);
    }
    freeReplyObject(r);
    redisFree(raw);
    csession_buf_dispose(&k);
    csession_buf_dispose(&cookie);
    csession__redis_url_dispose(&parsed);
    return 0;
}
