/*
 * A read-only request under CSESSION_TTL_ON_EVERY_REQUEST, with and without
 * a touch interval (csession_config_set_touch_after): load, read two
 * values, commit. Without the interval every request extends the TTL (a
 * store call at load on the memory and Redis stores, a re-sealed cookie
 * and a Set-Cookie on the cookie store); with it, at most one request per
 * interval does. Reported: requests/s (median of the repetitions), the
 * ratio throttled / every request from repetitions run side by side, and
 * how many requests sent a Set-Cookie.
 *
 * Usage: csession-bench-touch [--redis URL] [--requests N] [--reps N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "csession.h"
#include "csession/store_redis.h"

static long requests = 20000;
static int reps = 5;

typedef struct setup {
    csession_manager *mgr;
    char cookie[4096];
} setup;

static void make(setup *st, csession_store *store, int64_t touch_after)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    int rc = csession_key_generate(key, sizeof key);
    if (!rc)
        rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, key, sizeof key);
    if (!rc)
        rc = csession_config_set_persistent(cfg, 3600);
    if (!rc)
        rc = csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST);
    if (!rc && touch_after)
        rc = csession_config_set_touch_after(cfg, touch_after);
    if (!rc)
        rc = csession_manager_new(&st->mgr, cfg, store);
    if (rc)
        bench_die("manager", rc);
    csession_config_free(cfg);
    csession *s;
    csession_buf set = CSESSION_BUF_INIT;
    rc = csession_manager_load(st->mgr, NULL, 0, &s);
    if (!rc)
        rc = csession_insert_string(s, "user_id", "bench");
    if (!rc)
        rc = csession_insert_int64(s, "counter", 1);
    if (!rc)
        rc = csession_manager_commit(st->mgr, s, &set);
    if (rc)
        bench_die("first request", rc);
    snprintf(st->cookie, sizeof st->cookie, "%.*s", (int)strcspn(set.ptr, ";"), set.ptr);
    csession_buf_dispose(&set);
    csession_free(s);
}

/* One repetition: requests/s, and the Set-Cookie headers sent. */
static double run(setup *st, long *set_cookies)
{
    csession_buf set = CSESSION_BUF_INIT;
    double t0 = bench_seconds();
    for (long i = 0; i < requests; i++) {
        csession *s;
        int rc = csession_manager_load(st->mgr, st->cookie, strlen(st->cookie), &s);
        if (rc)
            bench_die("load", rc);
        const char *user;
        int64_t n = 0;
        if ((rc = csession_get_string(s, "user_id", &user, NULL)) ||
            (rc = csession_get_int64(s, "counter", &n)))
            bench_die("the session did not load", rc);
        if ((rc = csession_manager_commit(st->mgr, s, &set)))
            bench_die("commit", rc);
        if (set.size) {
            (*set_cookies)++;
            /* a browser keeps the newest cookie (the cookie store's changes) */
            snprintf(st->cookie, sizeof st->cookie, "%.*s", (int)strcspn(set.ptr, ";"), set.ptr);
        }
        csession_free(s);
    }
    double rps = (double)requests / (bench_seconds() - t0);
    csession_buf_dispose(&set);
    return rps;
}

typedef int (*store_fn)(csession_store **out, const void *arg);

static void bench(const char *name, store_fn new_store, const void *arg)
{
    setup every, throttled;
    csession_store *a = NULL, *b = NULL;
    if (new_store(&a, arg) || new_store(&b, arg))
        bench_die("store", CSESSION_ESTORE);
    make(&every, a, 0);
    make(&throttled, b, 60);
    double e[64], t[64], ratio[64];
    long e_sets = 0, t_sets = 0;
    for (int r = 0; r < reps; r++) {
        e[r] = run(&every, &e_sets);
        t[r] = run(&throttled, &t_sets);
        ratio[r] = t[r] / e[r];
    }
    qsort(e, (size_t)reps, sizeof(double), bench_cmp_double);
    qsort(t, (size_t)reps, sizeof(double), bench_cmp_double);
    qsort(ratio, (size_t)reps, sizeof(double), bench_cmp_double);
    long total = requests * reps;
    printf("%-7s every request %9.0f req/s, Set-Cookie on %ld of %ld\n", name, e[reps / 2],
           e_sets, total);
    printf("%-7s touch_after 60 %9.0f req/s, Set-Cookie on %ld of %ld   x%.2f\n", name,
           t[reps / 2], t_sets, total, ratio[reps / 2]);
    csession_manager_free(every.mgr);
    csession_manager_free(throttled.mgr);
}

static int memory_store(csession_store **out, const void *arg)
{
    (void)arg;
    return csession_store_memory_new(out, NULL);
}

static int cookie_store(csession_store **out, const void *arg)
{
    (void)arg;
    return csession_store_cookie_new(out);
}

static int redis_store(csession_store **out, const void *arg)
{
    return csession_store_redis_new(out, arg, NULL);
}

int main(int argc, char **argv)
{
    const char *redis = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--redis") && i + 1 < argc)
            redis = argv[++i];
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            requests = atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--redis URL] [--requests N] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64 || requests < 1)
        return 2;
    printf("read-only request, ON_EVERY_REQUEST, persistent cookie; %ld requests, median of %d\n",
           requests, reps);
    bench("memory", memory_store, NULL);
    bench("cookie", cookie_store, NULL);
    if (redis) {
        long saved = requests;
        requests = requests / 10 > 0 ? requests / 10 : 1; /* round trips: fewer */
        bench("redis", redis_store, redis);
        requests = saved;
    }
    return 0;
}
