/*
 * The SQLite store: requests per second against the memory store, bytes on
 * disk per session, and the size of the file under churn.
 *
 * Requests: a full request (load from the Cookie header, read two values,
 * write one, commit: Set-Cookie) and a read-only one (load, read two,
 * commit without a write), through a manager, on the memory store and on
 * the SQLite store (WAL, synchronous NORMAL: the defaults) in the same run:
 * one thread, two threads (each on sessions of its own), and for SQLite two
 * processes on one file. Each figure is the median of REPS runs; the
 * multi-thread and multi-process ones are wall time divided by all the
 * requests made (aggregate).
 *
 * Bytes per session: N sessions of the typical login state (user_id,
 * counter, roles, csrf: the state csession-bench uses) saved, the WAL
 * checkpointed into the file, file size / N.
 *
 * Churn: CHURN store requests with expiring sessions on a clock that moves
 * 10 ms per request (so 1,000,000 requests span about 2.8 hours): 30 % are
 * new visitors (save, TTL 30 minutes), 70 % returning ones (load_rev +
 * update_if of a recent session, which may have expired). The size of the
 * database file and of its WAL is printed every tenth of the run, then once
 * more after csession_store_sqlite_cleanup().
 *
 * usage: csession-bench-store-sqlite [--requests N] [--sessions N] [--churn N] [--dir DIR]
 *        (defaults: 20000 requests per run, 100000 sessions, 1000000 churn
 *        requests, a new directory under $TMPDIR or /tmp)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_util.h"
#include "csession.h"
#include "csession/store_sqlite.h"
#include "stores/sqlite/sqlite_store.h"

#define REPS 5
#define SESSIONS_PER_WORKER 64
#define TTL 1800

static long requests_per_run = 20000;
static long sessions_on_disk = 100000;
static long churn_requests = 1000000;
static char work_dir[512];

static unsigned char master_key[CSESSION_KEY_BYTES];
static volatile int sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- requests through a manager --------------------------------------------- */

typedef struct visitor {
    char header[512];
    size_t header_len;
} visitor;

typedef struct worker {
    csession_manager *mgr;
    visitor v[SESSIONS_PER_WORKER];
    csession_buf set_cookie;
    int write;
    long iters;
    pthread_barrier_t *start;
} worker;

static csession_manager *new_manager(csession_store *store)
{
    csession_config *cfg;
    csession_manager *mgr;
    int rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, master_key, sizeof master_key);
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, store);
    if (rc)
        bench_die("manager", rc);
    csession_config_free(cfg);
    return mgr;
}

/* The typical login state (csession-bench's): user_id, counter, roles, csrf. */
static int fill_login(csession *s)
{
    int rc = csession_insert_string(s, "user_id", "u-4f1c2a9e-7b3d-4c1e-9a57-d2a0");
    if (!rc)
        rc = csession_insert_int64(s, "counter", 7);
    if (!rc)
        rc = csession_insert_json(s, "roles", "[\"reader\",\"editor\"]", 19);
    if (!rc)
        rc = csession_insert_string(s, "csrf", "b1946ac92492d2347c6235b4d2611184");
    return rc;
}

/* The first request of each visitor: a login that creates its session. */
static void login_all(worker *w)
{
    csession_buf_init(&w->set_cookie);
    for (int i = 0; i < SESSIONS_PER_WORKER; i++) {
        csession *s;
        int rc = csession_manager_load(w->mgr, NULL, 0, &s);
        if (!rc)
            rc = fill_login(s);
        if (!rc)
            rc = csession_manager_commit(w->mgr, s, &w->set_cookie);
        if (rc)
            bench_die("login", rc);
        size_t pair = strcspn(w->set_cookie.ptr, ";");
        int n = snprintf(w->v[i].header, sizeof w->v[i].header, "_ga=GA1.2.1234567890; %.*s",
                         (int)pair, w->set_cookie.ptr);
        w->v[i].header_len = (size_t)n;
        csession_free(s);
    }
}

static void requests(worker *w, long iters)
{
    for (long i = 0; i < iters; i++) {
        const visitor *v = &w->v[i % SESSIONS_PER_WORKER];
        csession *s;
        int rc = csession_manager_load(w->mgr, v->header, v->header_len, &s);
        if (rc)
            bench_die("load", rc);
        const char *user;
        size_t len;
        int64_t counter = 0;
        if ((rc = csession_get_string(s, "user_id", &user, &len)) ||
            (rc = csession_get_int64(s, "counter", &counter)))
            bench_die("the session did not load", rc);
        sink += user[len - 1] + (int)counter;
        if (w->write && (rc = csession_insert_int64(s, "counter", counter + 1)))
            bench_die("insert", rc);
        if ((rc = csession_manager_commit(w->mgr, s, &w->set_cookie)))
            bench_die("commit", rc);
        csession_free(s);
    }
}

static void *thread_main(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->start);
    requests(w, w->iters);
    pthread_barrier_wait(w->start);
    return NULL;
}

/* ns per request over `threads` workers (wall time / all requests). */
static double run_threads(worker *w, int threads, int write)
{
    double runs[REPS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int r = 0; r < REPS; r++) {
        pthread_t t[2];
        for (int i = 0; i < threads; i++) {
            w[i].write = write;
            w[i].iters = requests_per_run;
            w[i].start = &start;
            pthread_create(&t[i], NULL, thread_main, &w[i]);
        }
        pthread_barrier_wait(&start);
        double t0 = now_ns();
        pthread_barrier_wait(&start);
        runs[r] = (now_ns() - t0) / ((double)requests_per_run * threads);
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&start);
    return bench_median(runs, REPS);
}

/* ns per request over two processes on the store made here (a store
 * carried into the children: each opens its own connections). */
static double run_processes(csession_store *store, int writes)
{
    csession_manager *mgr = new_manager(store);
    double runs[REPS];
    for (int r = 0; r < REPS; r++) {
        int go[2], done[2];
        if (pipe(go) || pipe(done))
            bench_die("pipe", CSESSION_ERROR);
        pid_t pid[2];
        for (int p = 0; p < 2; p++) {
            pid[p] = fork();
            if (pid[p] < 0)
                bench_die("fork", CSESSION_ERROR);
            if (pid[p] == 0) {
                worker w = { 0 };
                w.mgr = mgr;
                w.write = writes;
                login_all(&w);
                if (write(done[1], "r", 1) != 1)
                    _exit(1);
                char c;
                if (read(go[0], &c, 1) != 1)
                    _exit(1);
                requests(&w, requests_per_run);
                _exit(write(done[1], "d", 1) == 1 ? 0 : 1);
            }
        }
        char c;
        for (int p = 0; p < 2; p++)
            if (read(done[0], &c, 1) != 1)
                bench_die("child", CSESSION_ERROR);
        double t0 = now_ns();
        if (write(go[1], "gg", 2) != 2)
            bench_die("pipe", CSESSION_ERROR);
        for (int p = 0; p < 2; p++)
            if (read(done[0], &c, 1) != 1)
                bench_die("child", CSESSION_ERROR);
        runs[r] = (now_ns() - t0) / ((double)requests_per_run * 2);
        for (int p = 0; p < 2; p++) {
            int status;
            waitpid(pid[p], &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status))
                bench_die("child failed", CSESSION_ERROR);
        }
        close(go[0]);
        close(go[1]);
        close(done[0]);
        close(done[1]);
    }
    csession_manager_free(mgr);
    return bench_median(runs, REPS);
}

static csession_store *sqlite_store(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", work_dir, name);
    csession_store *s;
    int rc = csession_store_sqlite_new(&s, path, NULL);
    if (rc)
        bench_die("sqlite store", rc);
    return s;
}

static void bench_requests(void)
{
    double fig[2][2][3]; /* [store][write][1 thread, 2 threads, 2 processes] */
    for (int k = 0; k < 2; k++) {
        csession_store *store = NULL;
        if (k == 0) {
            int rc = csession_store_memory_new(&store, NULL);
            if (rc)
                bench_die("memory store", rc);
        } else {
            store = sqlite_store("requests.db");
        }
        worker *w = calloc(2, sizeof *w);
        csession_manager *mgr = new_manager(store);
        for (int i = 0; i < 2; i++) {
            w[i].mgr = mgr;
            login_all(&w[i]);
        }
        for (int write = 1; write >= 0; write--) {
            fig[k][write][0] = run_threads(w, 1, write);
            fig[k][write][1] = run_threads(w, 2, write);
        }
        for (int i = 0; i < 2; i++)
            csession_buf_dispose(&w[i].set_cookie);
        free(w);
        csession_manager_free(mgr);
    }
    for (int write = 1; write >= 0; write--)
        fig[1][write][2] = run_processes(sqlite_store("processes.db"), write);

    printf("requests through a manager (us per request; 2 threads and 2 processes: "
           "aggregate)\n");
    printf("  %-22s %10s %10s %8s\n", "", "memory", "sqlite", "ratio");
    for (int write = 1; write >= 0; write--) {
        const char *kind = write ? "full" : "read-only";
        for (int t = 0; t < 2; t++) {
            char label[64];
            snprintf(label, sizeof label, "%s, %s", kind, t ? "2 threads" : "1 thread");
            printf("  %-22s %10.2f %10.2f %7.1fx\n", label, fig[0][write][t] / 1000,
                   fig[1][write][t] / 1000, fig[1][write][t] / fig[0][write][t]);
        }
        char label[64];
        snprintf(label, sizeof label, "%s, 2 processes", kind);
        printf("  %-22s %10s %10.2f %7.1fx (to sqlite on 1 thread)\n", label, "-",
               fig[1][write][2] / 1000, fig[1][write][2] / fig[1][write][0]);
    }
}

/* ---- bytes per session -------------------------------------------------------- */

/* The stored form of the login state (what the manager hands the store). */
static char *login_state(void)
{
    csession *s;
    csession_buf out = CSESSION_BUF_INIT;
    int rc = csession_new(&s);
    if (!rc)
        rc = fill_login(s);
    if (!rc)
        rc = csession_encode(s, &out);
    if (rc)
        bench_die("state", rc);
    char *copy = strdup(out.ptr);
    csession_buf_dispose(&out);
    csession_free(s);
    return copy;
}

static void bench_bytes(void)
{
    char path[600], wal[700];
    snprintf(path, sizeof path, "%s/bytes.db", work_dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    csession_store *s = sqlite_store("bytes.db");
    char *state = login_state();
    size_t len = strlen(state);
    csession_buf key = CSESSION_BUF_INIT;
    for (long i = 0; i < sessions_on_disk; i++) {
        int rc = s->save(s, state, len, TTL, &key);
        if (rc)
            bench_die("save", rc);
    }
    /* Expired rows: none; this only checkpoints and empties the WAL. */
    int rc = csession_store_sqlite_cleanup(s, 0, NULL);
    if (rc)
        bench_die("cleanup", rc);
    long long bytes = file_size(path);
    printf("bytes on disk: %ld sessions of a %zu-byte state: %lld bytes, %.0f bytes per "
           "session (WAL after checkpoint: %lld bytes)\n",
           sessions_on_disk, len, bytes, (double)bytes / (double)sessions_on_disk,
           file_size(wal));
    csession_buf_dispose(&key);
    free(state);
    csession_store_free(s);
}

/* ---- churn ---------------------------------------------------------------------- */

static int64_t churn_clock_ms;

static int64_t churn_clock(void *ctx)
{
    (void)ctx;
    return churn_clock_ms;
}

#define RECENT 4096

static void bench_churn(void)
{
    char path[600], wal[700];
    snprintf(path, sizeof path, "%s/churn.db", work_dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    csession_store *s = sqlite_store("churn.db");
    churn_clock_ms = INT64_C(1700000000000);
    csession__store_sqlite_set_clock(s, churn_clock, NULL);
    char *state = login_state();
    size_t len = strlen(state);
    static char recent[RECENT][CSESSION_SESSION_KEY_LEN];
    long have = 0, saves = 0, updates = 0, gone = 0;
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    uint64_t rnd = 88172645463325252ull;
    sqlite3 *raw = NULL; /* for counting rows */
    if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        bench_die("open", CSESSION_ESTORE);
    printf("churn: %ld store requests, 30%% new sessions (TTL %d s), 70%% updates of recent "
           "ones, clock +10 ms per request\n",
           churn_requests, TTL);
    printf("  %10s %12s %12s %12s %10s\n", "requests", "db bytes", "wal bytes", "rows",
           "free pages");
    double t0 = now_ns();
    for (long i = 1; i <= churn_requests; i++) {
        churn_clock_ms += 10;
        rnd ^= rnd << 13;
        rnd ^= rnd >> 7;
        rnd ^= rnd << 17;
        if (have == 0 || rnd % 10 < 3) {
            int rc = s->save(s, state, len, TTL, &key);
            if (rc)
                bench_die("save", rc);
            memcpy(recent[have % RECENT], key.ptr, CSESSION_SESSION_KEY_LEN);
            have++;
            saves++;
        } else {
            long n = have < RECENT ? have : RECENT;
            const char *k = recent[(rnd >> 8) % (uint64_t)n];
            uint64_t rev = 0;
            int rc = s->load_rev(s, k, CSESSION_SESSION_KEY_LEN, 0, &b, &rev);
            if (rc == 0)
                rc = s->update_if(s, k, CSESSION_SESSION_KEY_LEN, rev, state, len, TTL);
            if (rc == CSESSION_ENOTFOUND)
                gone++;
            else if (rc)
                bench_die("update", rc);
            else
                updates++;
        }
        if (i % (churn_requests / 10) == 0) {
            sqlite3_stmt *st = NULL;
            long long rows = -1;
            if (sqlite3_prepare_v2(raw, "SELECT count(*) FROM csession_sessions", -1, &st,
                                   NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                rows = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
            char free_pages[32] = "";
            csession__store_sqlite_pragma(s, "freelist_count", free_pages, sizeof free_pages);
            printf("  %10ld %12lld %12lld %12lld %10s\n", i, file_size(path), file_size(wal),
                   rows, free_pages);
        }
    }
    double secs = (now_ns() - t0) / 1e9;
    printf("  %ld saves, %ld updates, %ld updates of expired sessions; %.1f s, %.1f us per "
           "request\n",
           saves, updates, gone, secs, secs * 1e6 / (double)churn_requests);
    churn_clock_ms += (int64_t)TTL * 1000;
    size_t removed = 0;
    double c0 = now_ns();
    int rc = csession_store_sqlite_cleanup(s, 0, &removed);
    if (rc)
        bench_die("cleanup", rc);
    printf("  after every session expired, csession_store_sqlite_cleanup(): %zu rows in %.0f ms; "
           "db %lld bytes, wal %lld bytes\n",
           removed, (now_ns() - c0) / 1e6, file_size(path), file_size(wal));
    sqlite3_close(raw);
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);
    free(state);
    csession_store_free(s);
}

/* The files this run made, and the directory when it made it. */
static void remove_files(int made_dir)
{
    static const char *const names[] = { "requests.db", "processes.db", "bytes.db", "churn.db" };
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char path[700];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
            snprintf(path, sizeof path, "%s/%s%s", work_dir, names[i], suffixes[j]);
            unlink(path);
        }
    if (made_dir)
        rmdir(work_dir);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            requests_per_run = atol(argv[++i]);
        else if (!strcmp(argv[i], "--sessions") && i + 1 < argc)
            sessions_on_disk = atol(argv[++i]);
        else if (!strcmp(argv[i], "--churn") && i + 1 < argc)
            churn_requests = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            snprintf(work_dir, sizeof work_dir, "%s", argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--requests N] [--sessions N] [--churn N] [--dir DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (requests_per_run < 1 || sessions_on_disk < 1 || churn_requests < 10) {
        fprintf(stderr, "counts must be positive (--churn at least 10)\n");
        return 2;
    }
    int made_dir = !work_dir[0];
    if (made_dir) {
        const char *tmp = getenv("TMPDIR");
        snprintf(work_dir, sizeof work_dir, "%s/csession-bench-sqlite-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(work_dir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    if (csession_key_generate(master_key, sizeof master_key))
        bench_die("key", CSESSION_ERROR);
    printf("csession %s, SQLite %s; files in %s\n", csession_version(), sqlite3_libversion(),
           work_dir);
    bench_requests();
    bench_bytes();
    bench_churn();
    remove_files(made_dir);
    return 0;
}
