/* What the small benchmarks share: a clock, a way out on failure, medians. */
#ifndef CSESSION_BENCH_UTIL_H
#define CSESSION_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "csession.h"

/* Seconds on the monotonic clock. */
static inline double bench_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints what failed, with the library's message, and exits 1. */
static inline void bench_die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, csession_strerror(rc), csession_last_error());
    exit(1);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

#endif
