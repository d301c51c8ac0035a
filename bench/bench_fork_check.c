/*
 * What telling a forked process from its parent costs at each pool
 * checkout, two ways (each figure the median of REPS repetitions, in ns):
 *
 *  1. the fork guard csession uses: this process' generation (bumped by a
 *     pthread_atfork() child handler) against the pool's, two loads;
 *  2. getpid() against the pid the pool was made in: a system call on
 *     glibc 2.25 and later, which no longer caches the pid;
 *  3. a whole checkout and return of an idle pooled connection (lock,
 *     pop, unlock; lock, push, signal, unlock), with the guard as built;
 *  4. the same with a getpid() comparison added: what the other way would
 *     cost a checkout.
 *
 * Usage: csession-bench-fork-check [URL [N]]   (URL also from
 *        $CSESSION_BENCH_REDIS_URL; default redis://127.0.0.1:6379; N
 *        iterations per repetition, default 2000000). The server is needed
 *        for the one connection of figures 3 and 4; nothing is sent on it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "csession.h"
#include "fork_guard.h"
#include "stores/redis/pool.h"
#include "stores/redis/url.h"

#define REPS 11

static void no_reset(void *object)
{
    (void)object;
}

static csession__fork_guard guard;
static pid_t made_in;
static csession__redis_pool pool;
static long iterations;
static atomic_long sink; /* keeps the loops' results observable */

static double guard_only(void)
{
    long changed = 0;
    double t0 = bench_seconds();
    for (long i = 0; i < iterations; i++)
        changed += csession__fork_guard_check(&guard, no_reset, NULL);
    double t = bench_seconds() - t0;
    atomic_fetch_add(&sink, changed);
    return t;
}

static double getpid_only(void)
{
    long changed = 0;
    double t0 = bench_seconds();
    for (long i = 0; i < iterations; i++)
        changed += getpid() != made_in;
    double t = bench_seconds() - t0;
    atomic_fetch_add(&sink, changed);
    return t;
}

static void checkout(void)
{
    csession__redis_conn *c;
    csession__redis_failure failure;
    if (csession__redis_pool_acquire(&pool, 0, &c, &failure) != 0) {
        fprintf(stderr, "checkout: %s\n", csession_last_error());
        exit(1);
    }
    csession__redis_pool_release(&pool, c);
}

static double checkouts(void)
{
    double t0 = bench_seconds();
    for (long i = 0; i < iterations; i++)
        checkout();
    return bench_seconds() - t0;
}

static double checkouts_getpid(void)
{
    long changed = 0;
    double t0 = bench_seconds();
    for (long i = 0; i < iterations; i++) {
        changed += getpid() != made_in;
        checkout();
    }
    double t = bench_seconds() - t0;
    atomic_fetch_add(&sink, changed);
    return t;
}

static double ns_per_iteration(double (*fn)(void))
{
    double v[REPS];
    fn(); /* warm up */
    for (int r = 0; r < REPS; r++)
        v[r] = fn() * 1e9 / (double)iterations;
    return bench_median(v, REPS);
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : getenv("CSESSION_BENCH_REDIS_URL");
    if (!url)
        url = "redis://127.0.0.1:6379";
    iterations = argc > 2 ? atol(argv[2]) : 2000000;
    if (iterations < 1000)
        iterations = 1000;
    csession__redis_url u;
    if (csession__redis_url_parse(&u, url) != 0 || u.kind != CSESSION__REDIS_SINGLE) {
        fprintf(stderr, "%s: %s\n", url, csession_last_error());
        return 1;
    }
    csession__redis_target t;
    memset(&t, 0, sizeof t);
    t.host = u.host;
    t.port = u.port;
    t.path = u.path;
    t.user = u.user;
    t.user_len = u.user_len;
    t.password = u.password;
    t.password_len = u.password_len;
    t.db = u.db;
    t.connect_timeout_ms = 2000;
    t.command_timeout_ms = 2000;
    if (csession__redis_pool_init(&pool, &t, 1, 2000) != 0)
        return 1;
    checkout(); /* opens the connection every later checkout reuses */
    csession__fork_guard_init(&guard);
    made_in = getpid();

    printf("%ld iterations, median of %d repetitions\n", iterations, REPS);
    printf("  fork guard (generation) check      %7.2f ns\n", ns_per_iteration(guard_only));
    printf("  getpid() check                     %7.2f ns\n", ns_per_iteration(getpid_only));
    printf("  checkout + return, guard as built  %7.2f ns\n", ns_per_iteration(checkouts));
    printf("  the same + a getpid() check        %7.2f ns\n", ns_per_iteration(checkouts_getpid));
    csession__redis_pool_dispose(&pool);
    csession__redis_url_dispose(&u);
    return atomic_load(&sink) != 0;
}
