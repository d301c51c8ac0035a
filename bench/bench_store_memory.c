/*
 * The memory store: bytes held per session, and operations per second.
 *
 * Memory: N sessions of a 110-byte state are saved into a fresh store while
 * a counting allocator (installed through csession_set_allocator) records
 * every block; glibc's mallinfo2() gives the same figure from the heap's
 * side, malloc's own chunk overhead included.
 *
 * Speed: save, load, update and remove of N sessions, in one thread and
 * then split over two threads working on one store (the median of REPS
 * runs). Save includes drawing a key from the CSPRNG. For scale, the gain
 * of a second thread on a loop that shares nothing is printed last: on a
 * loaded or shared machine it is well below 2.
 *
 * Usage: csession-bench-store-memory [sessions]   (default 100000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "csession.h"
#include "csession/store_memory.h"
#include "csession/sys/store.h"

#define REPS 5
#define KEY_LEN CSESSION_SESSION_KEY_LEN

/* 110 bytes: the stored form of a small login session. */
static const char state[] =
    "{\"v\":1,\"state\":{\"user_id\":\"\\\"4f1c2a9e-7b3d-4c1e\\\"\",\"role\":\"\\\"editor\\\"\","
    "\"csrf\":\"\\\"b1946ac92492d2347c62d7e1\\\"\"}}";
_Static_assert(sizeof state - 1 == 110, "the benchmark state is 110 bytes");

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, csession_strerror(rc), csession_last_error());
    exit(1);
}

/* ---- memory ---------------------------------------------------------------- */

/* Counts live blocks and their requested bytes; a header keeps the size. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

static atomic_long live_blocks;
static atomic_long live_bytes;

static void *count_malloc(size_t n)
{
    header *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    atomic_fetch_add(&live_blocks, 1);
    atomic_fetch_add(&live_bytes, (long)n);
    return h + 1;
}

static void count_free(void *p)
{
    if (!p)
        return;
    header *h = (header *)p - 1;
    atomic_fetch_sub(&live_blocks, 1);
    atomic_fetch_sub(&live_bytes, (long)h->size);
    free(h);
}

static void *count_realloc(void *p, size_t n)
{
    if (!p)
        return count_malloc(n);
    header *old = (header *)p - 1;
    size_t was = old->size;
    header *h = realloc(old, sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    atomic_fetch_add(&live_bytes, (long)n - (long)was);
    return h + 1;
}

static void fill(csession_store *s, size_t n, char *keys)
{
    csession_buf key = CSESSION_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        int rc = s->save(s, state, sizeof state - 1, 3600, &key);
        if (rc)
            die("save", rc);
        if (keys)
            memcpy(keys + i * KEY_LEN, key.ptr, KEY_LEN);
    }
    csession_buf_dispose(&key);
}

static void measure_memory(size_t n)
{
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = n;
    csession_store *s;

    /* Requested bytes, through the allocator hook. */
    if (csession_set_allocator(count_malloc, count_realloc, count_free) != 0)
        die("allocator", CSESSION_ERROR);
    int rc = csession_store_memory_new(&s, &o);
    if (rc)
        die("new", rc);
    long blocks0 = atomic_load(&live_blocks), bytes0 = atomic_load(&live_bytes);
    fill(s, n, NULL);
    long blocks = atomic_load(&live_blocks) - blocks0;
    long bytes = atomic_load(&live_bytes) - bytes0;
    csession_store_free(s);
    csession_set_allocator(NULL, NULL, NULL);

    printf("memory, %zu sessions of a %zu-byte state (%u shards):\n", n, sizeof state - 1,
           CSESSION_STORE_MEMORY_DEFAULT_SHARDS);
    printf("  requested   %7.1f bytes/session in %.2f blocks/session\n", (double)bytes / (double)n,
           (double)blocks / (double)n);

#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
    /* The heap's view: chunk headers and rounding included. */
    rc = csession_store_memory_new(&s, &o);
    if (rc)
        die("new", rc);
    struct mallinfo2 before = mallinfo2();
    fill(s, n, NULL);
    struct mallinfo2 after = mallinfo2();
    printf("  malloc heap %7.1f bytes/session (mallinfo2 uordblks + hblkhd)\n",
           (double)((after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd)) /
               (double)n);
    csession_store_free(s);
#endif
#endif
}

/* ---- speed ----------------------------------------------------------------- */

typedef enum { OP_SAVE, OP_LOAD, OP_UPDATE, OP_REMOVE, OPS } op;
static const char *op_names[OPS] = { "save", "load", "update", "remove" };

typedef struct job {
    csession_store *store;
    char *keys; /* this job's share */
    size_t count;
    op what;
} job;

static void *run(void *arg)
{
    job *j = arg;
    csession_store *s = j->store;
    csession_buf out = CSESSION_BUF_INIT;
    for (size_t i = 0; i < j->count; i++) {
        char *k = j->keys + i * KEY_LEN;
        int rc = 0;
        switch (j->what) {
        case OP_SAVE:
            rc = s->save(s, state, sizeof state - 1, 3600, &out);
            if (rc == 0)
                memcpy(k, out.ptr, KEY_LEN);
            break;
        case OP_LOAD: rc = s->load(s, k, KEY_LEN, &out); break;
        case OP_UPDATE: rc = s->update(s, k, KEY_LEN, state, sizeof state - 1, 3600, &out); break;
        default: rc = s->remove(s, k, KEY_LEN); break;
        }
        if (rc)
            die(op_names[j->what], rc);
    }
    csession_buf_dispose(&out);
    return NULL;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs every operation over all n sessions with `threads` threads; fills
 * rate[op] with the median operations per second over REPS rounds. */
static void measure_speed(size_t n, int threads, double rate[OPS])
{
    char *keys = malloc(n * KEY_LEN);
    double samples[OPS][REPS];
    if (!keys)
        die("malloc", CSESSION_ENOMEM);
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = n;

    for (int r = 0; r < REPS; r++) {
        csession_store *s;
        int rc = csession_store_memory_new(&s, &o);
        if (rc)
            die("new", rc);
        for (int w = 0; w < OPS; w++) {
            pthread_t t[2];
            job j[2];
            size_t share = n / (size_t)threads;
            double t0 = seconds();
            for (int i = 0; i < threads; i++) {
                j[i] = (job){ s, keys + (size_t)i * share * KEY_LEN,
                              i == threads - 1 ? n - (size_t)i * share : share, (op)w };
                if (threads == 1)
                    run(&j[i]);
                else if (pthread_create(&t[i], NULL, run, &j[i]) != 0)
                    die("pthread_create", CSESSION_ERROR);
            }
            if (threads > 1) {
                for (int i = 0; i < threads; i++)
                    pthread_join(t[i], NULL);
            }
            samples[w][r] = (double)n / (seconds() - t0);
        }
        csession_store_free(s);
    }
    for (int w = 0; w < OPS; w++) {
        qsort(samples[w], REPS, sizeof samples[w][0], compare_double);
        rate[w] = samples[w][REPS / 2];
    }
    free(keys);
}

/* A loop that shares nothing, to tell how much a second thread can gain on
 * this machine at all (other load, frequency scaling, shared cores). */
static void *spin(void *arg)
{
    volatile uint64_t x = 1;
    for (long i = 0; i < 100000000L; i++)
        x = x * 6364136223846793005u + 1;
    (void)arg;
    return NULL;
}

static double machine_scaling(void)
{
    double t0 = seconds();
    spin(NULL);
    double one = seconds() - t0;
    pthread_t a, b;
    t0 = seconds();
    if (pthread_create(&a, NULL, spin, NULL) != 0 || pthread_create(&b, NULL, spin, NULL) != 0)
        die("pthread_create", CSESSION_ERROR);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 2 * one / (seconds() - t0);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    if (n < 2 || csession_init() != 0) {
        fprintf(stderr, "usage: %s [sessions >= 2]\n", argv[0]);
        return 2;
    }
    measure_memory(n);

    double one[OPS], two[OPS];
    measure_speed(n, 1, one);
    measure_speed(n, 2, two);
    printf("speed, %zu sessions, median of %d runs (operations per second):\n", n, REPS);
    printf("  %-8s %12s %12s\n", "", "1 thread", "2 threads");
    for (int w = 0; w < OPS; w++)
        printf("  %-8s %12.0f %12.0f   x%.2f\n", op_names[w], one[w], two[w], two[w] / one[w]);
    printf("  (a loop sharing nothing gains x%.2f from a second thread here)\n",
           machine_scaling());
    return 0;
}
