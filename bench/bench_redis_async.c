/*
 * The Redis store's non-blocking calls against its blocking ones, in one
 * run, on the same server. One request is what a request that changes its
 * session costs the store: LOAD_REV (the state and its revision), then
 * UPDATE_IF at that revision (the conditional write script).
 *
 *  1. One loop thread (the poll() loop of src/loop/poll_loop.h), with 1, 16
 *     and 64 requests in flight, each on a session of its own: requests per
 *     second, and the connections the store opened for them.
 *  2. The blocking members from 8 threads on one store (pool of 8), each
 *     thread on a session of its own: requests per second.
 *
 * Each figure is the median of REPS repetitions of N requests.
 * Usage: csession-bench-redis-async [URL [N]]   (URL also from
 *        $CSESSION_BENCH_REDIS_URL; default redis://127.0.0.1:6379; N default
 *        20000). Keys are written under "csession-bench-async:" and deleted.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "csession/sys/store.h"
#include "loop/poll_loop.h"
#include "stores/redis/redis_store.h"

#define REPS 3
#define THREADS 8
#define MAX_IN_FLIGHT 64
#define STATE "{\"v\":1,\"state\":{\"counter\":\"1\",\"user\":\"\\\"someone\\\"\"}}"

static const char *url = "redis://127.0.0.1:6379";
static long n_requests = 20000;

static csession_store *new_store(unsigned int pool_size)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = "csession-bench-async:";
    o.pool_size = pool_size;
    csession_store *s = NULL;
    int rc = csession_store_redis_new(&s, url, &o);
    if (rc)
        bench_die("csession_store_redis_new", rc);
    return s;
}

static void save(csession_store *s, char key[65])
{
    csession_buf k = CSESSION_BUF_INIT;
    int rc = s->save(s, STATE, strlen(STATE), 3600, &k);
    if (rc)
        bench_die("save", rc);
    memcpy(key, k.ptr, 64);
    key[64] = '\0';
    csession_buf_dispose(&k);
}

/* ---- non-blocking ------------------------------------------------------------ */

typedef struct slot {
    csession_store_call call;
    struct run *run;
    char key[65];
    csession_buf state;
} slot;

typedef struct run {
    csession_store *store;
    csession__poll_loop *pl;
    long started, done;
    int failed;
} run;

static void start_load(slot *sl);

static void completed(csession_store_call *call, int code, const char *message)
{
    slot *sl = (slot *)call;
    run *r = sl->run;
    if (code != 0) {
        fprintf(stderr, "call of kind %d: %s (%s)\n", call->kind, csession_strerror(code),
                message ? message : "");
        r->failed = 1;
        return;
    }
    if (call->kind == CSESSION_CALL_LOAD_REV) {
        /* The conditional update at the revision just read. */
        call->kind = CSESSION_CALL_UPDATE_IF;
        call->expected_revision = call->revision_out;
        if (r->store->start(r->store, call) != 0) {
            r->failed = 1;
        }
        return;
    }
    r->done++;
    if (r->started < n_requests)
        start_load(sl);
}

static void start_load(slot *sl)
{
    run *r = sl->run;
    csession_store_call *call = &sl->call;
    call->kind = CSESSION_CALL_LOAD_REV;
    r->started++;
    if (r->store->start(r->store, call) != 0)
        r->failed = 1;
}

/* Requests per second with `in_flight` requests at a time on loop `pl`
 * (which must outlive the store: the store keeps its connections). */
static double loop_rate(csession_store *s, csession__poll_loop *pl, int in_flight)
{
    static slot slots[MAX_IN_FLIGHT];
    run r;
    memset(&r, 0, sizeof r);
    r.store = s;
    r.pl = pl;
    for (int i = 0; i < in_flight; i++) {
        slot *sl = &slots[i];
        memset(sl, 0, sizeof *sl);
        csession_buf_init(&sl->state);
        save(s, sl->key);
        sl->run = &r;
        sl->call.version = 1;
        sl->call.loop = &pl->loop;
        sl->call.key = sl->key;
        sl->call.key_len = 64;
        sl->call.state = STATE;
        sl->call.state_len = strlen(STATE);
        sl->call.ttl_seconds = 3600;
        sl->call.state_out = &sl->state;
        sl->call.complete = completed;
    }
    double t0 = bench_seconds();
    for (int i = 0; i < in_flight; i++)
        start_load(&slots[i]);
    while (r.done < r.started && !r.failed)
        csession__poll_loop_run_once(pl, 1000);
    double t = bench_seconds() - t0;
    if (r.failed)
        exit(1);
    for (int i = 0; i < in_flight; i++) {
        (void)s->remove(s, slots[i].key, 64);
        csession_buf_dispose(&slots[i].state);
    }
    return (double)r.done / t;
}

/* ---- blocking, 8 threads ------------------------------------------------------ */

typedef struct worker {
    csession_store *store;
    long n;
} worker;

static void *blocking_worker(void *arg)
{
    worker *w = arg;
    char key[65];
    save(w->store, key);
    csession_buf state = CSESSION_BUF_INIT;
    for (long i = 0; i < w->n; i++) {
        uint64_t rev = 0;
        int rc = w->store->load_rev(w->store, key, 64, 0, &state, &rev);
        if (rc == 0)
            rc = w->store->update_if(w->store, key, 64, rev, STATE, strlen(STATE), 3600);
        if (rc)
            bench_die("blocking load_rev + update_if", rc);
    }
    (void)w->store->remove(w->store, key, 64);
    csession_buf_dispose(&state);
    return NULL;
}

static double threads_rate(csession_store *s)
{
    pthread_t th[THREADS];
    worker w[THREADS];
    double t0 = bench_seconds();
    for (int i = 0; i < THREADS; i++) {
        w[i].store = s;
        w[i].n = n_requests / THREADS;
        if (pthread_create(&th[i], NULL, blocking_worker, &w[i]) != 0)
            exit(1);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    return (double)(n_requests / THREADS * THREADS) / (bench_seconds() - t0);
}

int main(int argc, char **argv)
{
    const char *env = getenv("CSESSION_BENCH_REDIS_URL");
    if (argc > 1)
        url = argv[1];
    else if (env)
        url = env;
    if (argc > 2)
        n_requests = atol(argv[2]);
    if (n_requests < THREADS)
        n_requests = THREADS;
    printf("Redis store at %s, %ld requests (LOAD_REV + UPDATE_IF) per repetition, median of "
           "%d\n",
           url, n_requests, REPS);
    static const int depths[] = {1, 16, 64};
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        csession_store *s = new_store(8);
        csession__poll_loop pl;
        csession__poll_loop_init(&pl);
        double v[REPS];
        for (int i = 0; i < REPS; i++)
            v[i] = loop_rate(s, &pl, depths[d]);
        /* The loop's connections: those open beyond the pool's (idle). */
        csession__redis_stats st;
        csession__store_redis_stats(s, &st);
        unsigned long conns = st.open - st.idle;
        printf("  one loop thread, %2d in flight:   %9.0f requests/s  (%lu connection%s)\n",
               depths[d], bench_median(v, REPS), conns, conns == 1 ? "" : "s");
        csession_store_free(s);
        csession__poll_loop_dispose(&pl);
    }
    csession_store *s = new_store(THREADS);
    double v[REPS];
    for (int i = 0; i < REPS; i++)
        v[i] = threads_rate(s);
    printf("  blocking, %d threads (pool of %d): %9.0f requests/s\n", THREADS, THREADS,
           bench_median(v, REPS));
    csession_store_free(s);
    return 0;
}
