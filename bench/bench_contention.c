/*
 * Parallel requests on one session: 8 threads send requests that increment
 * a counter in the same session, through one manager, as a browser with
 * many tabs (or a script hammering one cookie) does. Each request loads,
 * increments, commits, and on CSESSION_ECONFLICT reloads and runs again.
 *
 *   same_key   every thread increments "counter": only one of the parallel
 *              writers can win each round; the others conflict and redo
 *   own_keys   each thread increments its own key in the one session: every
 *              meeting of two writers merges, nobody redoes anything
 *   apart      each thread on a session of its own: no contention (the
 *              baseline of the two above)
 *
 * Reported per figure: requests/s (median of the repetitions), conflicts
 * and merges per request, and a check that the counters add up to the
 * requests acknowledged (no lost update).
 *
 * Usage: csession-bench-contention [--redis URL] [--requests N] [--reps N]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "manager_stats.h"

#define THREADS 8

static long requests_per_thread = 2000;
static int reps = 5;

typedef struct worker {
    csession_manager *mgr;
    char cookie[512];
    char key[16];
    long done;
    pthread_barrier_t *start;
} worker;

/* The first request of a session: its cookie. */
static void new_session(csession_manager *mgr, char *cookie, size_t size)
{
    csession *s;
    csession_buf set = CSESSION_BUF_INIT;
    int rc = csession_manager_load(mgr, NULL, 0, &s);
    if (!rc)
        rc = csession_insert_string(s, "user_id", "bench");
    if (!rc)
        rc = csession_manager_commit(mgr, s, &set);
    if (rc)
        bench_die("first request", rc);
    snprintf(cookie, size, "%.*s", (int)strcspn(set.ptr, ";"), set.ptr);
    csession_buf_dispose(&set);
    csession_free(s);
}

static void *run(void *arg)
{
    worker *w = arg;
    csession_buf set = CSESSION_BUF_INIT;
    pthread_barrier_wait(w->start);
    for (long i = 0; i < requests_per_thread; i++) {
        csession *s;
        int rc = csession_manager_load(w->mgr, w->cookie, strlen(w->cookie), &s);
        if (rc)
            bench_die("load", rc);
        for (;;) {
            int64_t n = 0;
            csession_get_int64(s, w->key, &n);
            if ((rc = csession_insert_int64(s, w->key, n + 1)))
                bench_die("insert", rc);
            rc = csession_manager_commit(w->mgr, s, &set);
            if (rc != CSESSION_ECONFLICT)
                break;
            if ((rc = csession_manager_reload(w->mgr, s)))
                bench_die("reload", rc);
        }
        if (rc)
            bench_die("commit", rc);
        csession_free(s);
        w->done++;
    }
    csession_buf_dispose(&set);
    return NULL;
}

static int64_t stored(csession_manager *mgr, const char *cookie, const char *key)
{
    csession *s;
    int64_t n = 0;
    int rc = csession_manager_load(mgr, cookie, strlen(cookie), &s);
    if (rc)
        bench_die("load", rc);
    csession_get_int64(s, key, &n);
    csession_free(s);
    return n;
}

enum { SAME_KEY, OWN_KEYS, APART };
static const char *const mode_names[] = {"same_key", "own_keys", "apart"};

typedef struct result {
    double rps;
    double conflicts, merges; /* per request */
} result;

static result one_run(csession_manager *mgr, int mode)
{
    worker w[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS + 1);
    char shared[512];
    new_session(mgr, shared, sizeof shared);
    for (int t = 0; t < THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].mgr = mgr;
        w[t].start = &start;
        snprintf(w[t].key, sizeof w[t].key, mode == OWN_KEYS ? "n%d" : "counter", t);
        if (mode == APART)
            new_session(mgr, w[t].cookie, sizeof w[t].cookie);
        else
            snprintf(w[t].cookie, sizeof w[t].cookie, "%s", shared);
    }
    csession__manager_stats before, after;
    csession__manager_get_stats(mgr, &before);
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, run, &w[t]);
    pthread_barrier_wait(&start);
    double t0 = bench_seconds();
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    double took = bench_seconds() - t0;
    csession__manager_get_stats(mgr, &after);
    pthread_barrier_destroy(&start);
    long total = 0;
    int64_t counted = 0;
    for (int t = 0; t < THREADS; t++) {
        total += w[t].done;
        if (mode == APART || mode == OWN_KEYS)
            counted += stored(mgr, mode == APART ? w[t].cookie : shared, w[t].key);
    }
    if (mode == SAME_KEY)
        counted = stored(mgr, shared, "counter");
    if (counted != total) {
        fprintf(stderr, "%s: %lld counted for %ld acknowledged requests\n", mode_names[mode],
                (long long)counted, total);
        exit(1);
    }
    result r = {total / took, (double)(after.conflicts - before.conflicts) / (double)total,
                (double)(after.merges - before.merges) / (double)total};
    return r;
}

static void bench(const char *store_name, csession_manager *mgr)
{
    double rps[3][64], ratio[2][64];
    result last[3];
    for (int r = 0; r < reps; r++) {
        for (int m = 0; m < 3; m++) {
            last[m] = one_run(mgr, m);
            rps[m][r] = last[m].rps;
        }
        ratio[0][r] = rps[SAME_KEY][r] / rps[APART][r];
        ratio[1][r] = rps[OWN_KEYS][r] / rps[APART][r];
    }
    for (int m = 0; m < 3; m++) {
        qsort(rps[m], (size_t)reps, sizeof(double), bench_cmp_double);
        if (m < 2)
            qsort(ratio[m], (size_t)reps, sizeof(double), bench_cmp_double);
        printf("%-7s %-9s %9.0f req/s", store_name, mode_names[m], rps[m][reps / 2]);
        if (m < 2)
            printf("  x%.2f of apart  conflicts/req %.3f  merges/req %.3f", ratio[m][reps / 2],
                   last[m].conflicts, last[m].merges);
        printf("\n");
    }
}

static csession_manager *manager(csession_store *store)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    int rc = csession_key_generate(key, sizeof key);
    if (!rc)
        rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, key, sizeof key);
    csession_manager *mgr = NULL;
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, store);
    if (rc)
        bench_die("manager", rc);
    csession_config_free(cfg);
    return mgr;
}

int main(int argc, char **argv)
{
    const char *redis = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--redis") && i + 1 < argc)
            redis = argv[++i];
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            requests_per_thread = atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--redis URL] [--requests N] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64 || requests_per_thread < 1) {
        fprintf(stderr, "--reps 1..64, --requests >= 1\n");
        return 2;
    }
    printf("%d threads, %ld requests each, median of %d\n", THREADS, requests_per_thread, reps);
    csession_manager *mgr = manager(NULL);
    bench("memory", mgr);
    csession_manager_free(mgr);
    if (redis) {
        csession_store *st = NULL;
        csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
        o.pool_size = THREADS;
        int rc = csession_store_redis_new(&st, redis, &o);
        if (rc)
            bench_die("Redis store", rc);
        mgr = manager(st);
        bench("redis", mgr);
        csession_manager_free(mgr);
    }
    return 0;
}
