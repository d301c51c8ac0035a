/* What the Redis benchmarks share: timing, medians, a store, and the
 * request loops measured against raw hiredis. See redis_bench_common.h. */
#include "redis_bench_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csession/store_redis.h"

const char *url;
long n_requests = 20000;

double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, csession_strerror(rc), csession_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

csession_store *new_store(unsigned int pool_size)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = PREFIX;
    o.pool_size = pool_size;
    csession_store *s = NULL;
    int rc = csession_store_redis_new(&s, url, &o);
    if (rc)
        die("csession_store_redis_new", rc);
    return s;
}

/* A first request that creates a session; its cookie ("id=...") in `cookie`. */
void first_request(csession_manager *mgr, csession_buf *cookie)
{
    csession *s = NULL;
    csession_buf set = CSESSION_BUF_INIT;
    int rc;
    if ((rc = csession_manager_load(mgr, NULL, 0, &s)) ||
        (rc = csession_insert_string(s, "user_id", "4f1c2a9e-7b3d-4c1e")) ||
        (rc = csession_insert_int64(s, "counter", 0)) ||
        (rc = csession_manager_commit(mgr, s, &set)))
        die("first request", rc);
    csession_free(s);
    csession_buf_set(cookie, set.ptr, strcspn(set.ptr, ";"));
    csession_buf_dispose(&set);
}

/* ns per request: load with the cookie, counter + 1, commit. */
double manager_changing(csession_manager *mgr, csession_buf *cookie)
{
    csession_buf set = CSESSION_BUF_INIT;
    double t0 = seconds();
    for (long i = 0; i < n_requests; i++) {
        csession *s = NULL;
        int64_t n = 0;
        int rc;
        if ((rc = csession_manager_load(mgr, cookie->ptr, cookie->size, &s)) ||
            (rc = csession_get_int64(s, "counter", &n)) ||
            (rc = csession_insert_int64(s, "counter", n + 1)) ||
            (rc = csession_manager_commit(mgr, s, &set)))
            die("request", rc);
        csession_free(s);
        if (set.size)
            csession_buf_set(cookie, set.ptr, strcspn(set.ptr, ";"));
    }
    double ns = (seconds() - t0) * 1e9 / (double)n_requests;
    csession_buf_dispose(&set);
    return ns;
}

/* The same two round trips as a changing request, straight through hiredis. */
double raw_get_set(redisContext *c, const char *key, const char *value)
{
    double t0 = seconds();
    for (long i = 0; i < n_requests; i++) {
        const char *get[2] = {"GET", key};
        size_t get_len[2] = {3, strlen(key)};
        const char *set[6] = {"SET", key, value, "XX", "EX", "86400"};
        size_t set_len[6] = {3, strlen(key), strlen(value), 2, 2, 5};
        redisReply *r = redisCommandArgv(c, 2, get, get_len);
        if (!r || r->type != REDIS_REPLY_STRING)
            exit(1);
        freeReplyObject(r);
        r = redisCommandArgv(c, 6, set, set_len);
        if (!r || r->type != REDIS_REPLY_STATUS)
            exit(1);
        freeReplyObject(r);
    }
    return (seconds() - t0) * 1e9 / (double)n_requests;
}

double redis_benchmark_rate(const char *command)
{
    char full[600];
    snprintf(full, sizeof full, "%s 2>/dev/null", command);
    FILE *p = popen(full, "r");
    if (!p)
        return 0;
    char line[1024];
    double sum = 0;
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        /* "GET: 123456.79 requests per second, p50=0.031 msec" (lines may
         * carry progress output before, separated by '\r') */
        char *last = strrchr(line, '\r');
        const char *text = last ? last + 1 : line;
        double v;
        if ((strncmp(text, "SET:", 4) == 0 || strncmp(text, "GET:", 4) == 0) &&
            sscanf(text + 4, "%lf", &v) == 1) {
            sum += v;
            n++;
        }
    }
    pclose(p);
    return n ? sum / n : 0;
}

typedef struct worker {
    csession_store *store;
    char keys[BENCH_MAX_KEYS_PER_THREAD][65];
    int key_count;
    long ops;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    csession_buf b = CSESSION_BUF_INIT, k = CSESSION_BUF_INIT;
    for (long i = 0; i < n_requests / BENCH_THREADS; i++) {
        const char *key = w->keys[i % w->key_count];
        int rc;
        if ((rc = w->store->load(w->store, key, 64, &b)) ||
            (rc = w->store->update(w->store, key, 64, b.ptr, b.size, 86400, &k)))
            die("thread", rc);
        w->ops += 2;
    }
    csession_buf_dispose(&b);
    csession_buf_dispose(&k);
    return NULL;
}

static double threads_ops(worker *w)
{
    pthread_t t[BENCH_THREADS];
    double t0 = seconds();
    for (int i = 0; i < BENCH_THREADS; i++) {
        w[i].ops = 0;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    long ops = 0;
    for (int i = 0; i < BENCH_THREADS; i++) {
        pthread_join(t[i], NULL);
        ops += w[i].ops;
    }
    return (double)ops / (seconds() - t0);
}

double threads_load_update(csession_store *s, const char *value, int keys_per_thread, int reps)
{
    static worker w[BENCH_THREADS];
    double ops[16];
    if (keys_per_thread < 1 || keys_per_thread > BENCH_MAX_KEYS_PER_THREAD || reps < 1 ||
        reps > 16)
        die("threads_load_update: bad arguments", CSESSION_EINVAL);
    csession_buf k = CSESSION_BUF_INIT;
    for (int i = 0; i < BENCH_THREADS; i++) {
        w[i].store = s;
        w[i].key_count = keys_per_thread;
        for (int j = 0; j < keys_per_thread; j++) {
            int rc = s->save(s, value, strlen(value), 86400, &k);
            if (rc)
                die("save", rc);
            memcpy(w[i].keys[j], k.ptr, 65);
        }
    }
    for (int i = 0; i < reps; i++)
        ops[i] = threads_ops(w);
    for (int i = 0; i < BENCH_THREADS; i++)
        for (int j = 0; j < keys_per_thread; j++)
            s->remove(s, w[i].keys[j], 64);
    csession_buf_dispose(&k);
    return median(ops, reps);
}

void print_vs_redis_benchmark(double store_ops, double bench_rate, const char *command)
{
    printf("  store (load + update)        %8.0f ops/s\n", store_ops);
    if (bench_rate > 0) {
        printf("  %s\n", command);
        printf("                               %8.0f requests/s (mean of GET and SET)\n",
               bench_rate);
        printf("  ratio                        %8.2f\n", store_ops / bench_rate);
    } else {
        printf("  (redis-benchmark not run; compare with: %s)\n", command);
    }
}
