/* Internal to the benchmarks: the pieces bench_redis.c and
 * bench_redis_cluster.c share. */
#ifndef CSESSION_BENCH_REDIS_COMMON_H
#define CSESSION_BENCH_REDIS_COMMON_H

#include <hiredis/hiredis.h>

#include "csession.h"

/* Keys are written under this prefix and deleted afterwards. */
#define PREFIX "csession-bench:"

/* The server (set by main) and the requests per repetition. */
extern const char *url;
extern long n_requests;

/* Monotonic time in seconds. */
double seconds(void);
/* Prints what failed with the library's message and exits. */
void die(const char *what, int rc);
/* Sorts v[0..n) and returns its median. */
double median(double *v, int n);
/* A Redis store on `url` with keys under PREFIX. */
csession_store *new_store(unsigned int pool_size);
/* A first request that creates a session; its cookie ("id=...") in `cookie`. */
void first_request(csession_manager *mgr, csession_buf *cookie);
/* ns per request: load with the cookie, counter + 1, commit. */
double manager_changing(csession_manager *mgr, csession_buf *cookie);
/* ns per GET + SET XX EX pair straight through hiredis: the same two round
 * trips as a changing request with nothing around them. */
double raw_get_set(redisContext *c, const char *key, const char *value);
/* Threads of the load + update figure, and the most sessions each works on. */
#define BENCH_THREADS 8
#define BENCH_MAX_KEYS_PER_THREAD 64

/*
 * BENCH_THREADS threads on one store, each loading and updating its
 * `keys_per_thread` sessions (made from `value`) in turn, n_requests rounds
 * in all per repetition: the median of `reps` repetitions, in operations per
 * second. The sessions are saved first and removed afterwards.
 */
double threads_load_update(csession_store *s, const char *value, int keys_per_thread, int reps);
/* Prints the store's operations per second beside redis-benchmark's
 * (bench_rate 0: it did not run) and the command line. */
void print_vs_redis_benchmark(double store_ops, double bench_rate, const char *command);
/* Runs a `redis-benchmark ... -t get,set -q` command line and returns the
 * mean of its GET and SET requests per second (0 when it could not run). */
double redis_benchmark_rate(const char *command);

#endif
