/*
 * csession-bench-users: what binding sessions to users costs.
 *
 *   full_unbound / full_bound  one request through the manager (load from a
 *       Cookie header, read "user_id" and "counter", write counter + 1,
 *       commit): of a session that is not bound, and of one bound to a
 *       user with csession_bind(); their ratio is the median of the ratios
 *       of repetitions run side by side
 *   round trips (Redis)  commands sent to the server by a login, a request
 *       and a logout, bound and not, counted with MONITOR
 *   end_all_N  csession_manager_end_user_sessions() for a user with N
 *       sessions (1, 10, 1000), each repetition on sessions made anew
 *
 * on the memory store and, with --redis URL (redis://host:port), on Redis.
 * Every figure is the median of --reps repetitions (default 7).
 *
 *   csession-bench-users [--redis redis://127.0.0.1:6379] [--reps N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "csession.h"
#include "redis_monitor.h"

#define MAX_REPS 31

static csession_manager *manager_on(csession_store *st)
{
    unsigned char key[CSESSION_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 5 + 3);
    csession_config *cfg;
    csession_manager *mgr;
    int rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, key, sizeof key);
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, st);
    if (rc)
        bench_die("manager", rc);
    csession_config_free(cfg);
    return mgr;
}

/* The Cookie header for the Set-Cookie value `set` (its "name=value"). */
static void cookie_of(const csession_buf *set, char *out, size_t size)
{
    size_t n = strcspn(set->ptr, ";");
    if (n >= size)
        n = size - 1;
    memcpy(out, set->ptr, n);
    out[n] = '\0';
}

/* One request on `cookie` (updated when a new cookie comes back); `what`
 * 0: the counter, 1: login (bound to `user` when not NULL), 2: logout. */
static void request(csession_manager *mgr, char *cookie, size_t size, int what,
                    const char *user)
{
    csession *s;
    int rc = csession_manager_load(mgr, cookie, strlen(cookie), &s);
    if (rc)
        bench_die("load", rc);
    const char *u;
    size_t ul;
    int64_t n = 0;
    csession_get_string(s, "user_id", &u, &ul);
    csession_get_int64(s, "counter", &n);
    if (what == 1) {
        rc = user ? csession_bind(s, user, strlen(user), "bench agent", 11) : csession_renew(s);
        if (!rc)
            rc = csession_insert_string(s, "user_id", user ? user : "anonymous");
    } else if (what == 2) {
        rc = csession_purge(s);
    } else {
        rc = csession_insert_int64(s, "counter", n + 1);
    }
    if (rc)
        bench_die("handler", rc);
    csession_buf set = CSESSION_BUF_INIT;
    if ((rc = csession_manager_commit(mgr, s, &set)))
        bench_die("commit", rc);
    if (set.size)
        cookie_of(&set, cookie, size);
    if (what == 2)
        cookie[0] = '\0';
    csession_buf_dispose(&set);
    csession_free(s);
}

/* A client logged in (bound to `user`, or not bound for NULL). */
static void log_in(csession_manager *mgr, char *cookie, size_t size, const char *user)
{
    cookie[0] = '\0';
    request(mgr, cookie, size, 0, NULL);
    request(mgr, cookie, size, 1, user);
}

static double per_request(csession_manager *mgr, char *cookie, size_t size, int n)
{
    double t0 = bench_seconds();
    for (int i = 0; i < n; i++)
        request(mgr, cookie, size, 0, NULL);
    return (bench_seconds() - t0) / n;
}

static void full_requests(const char *name, csession_manager *mgr, int reps, int n)
{
    char unbound[512], bound[512];
    log_in(mgr, unbound, sizeof unbound, NULL);
    log_in(mgr, bound, sizeof bound, "bench-user");
    per_request(mgr, unbound, sizeof unbound, n / 10 + 1); /* warm up */
    per_request(mgr, bound, sizeof bound, n / 10 + 1);
    double u[MAX_REPS], b[MAX_REPS], ratio[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        /* side by side, the order alternating */
        if (r % 2) {
            b[r] = per_request(mgr, bound, sizeof bound, n);
            u[r] = per_request(mgr, unbound, sizeof unbound, n);
        } else {
            u[r] = per_request(mgr, unbound, sizeof unbound, n);
            b[r] = per_request(mgr, bound, sizeof bound, n);
        }
        ratio[r] = b[r] / u[r];
    }
    double mu = bench_median(u, reps), mb = bench_median(b, reps);
    printf("%-6s full_unbound  %8.2f us/request  (%.0f/s)\n", name, mu * 1e6, 1 / mu);
    printf("%-6s full_bound    %8.2f us/request  (%.0f/s)\n", name, mb * 1e6, 1 / mb);
    printf("%-6s bound/unbound %8.3f (median of %d side-by-side ratios)\n", name,
           bench_median(ratio, reps), reps);
}

static void end_all(const char *name, csession_manager *mgr, int reps)
{
    static const int counts[] = {1, 10, 1000};
    char cookie[512];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        double t[MAX_REPS];
        for (int r = 0; r < reps; r++) {
            char user[32];
            snprintf(user, sizeof user, "end-%d-%d", counts[c], r);
            for (int i = 0; i < counts[c]; i++)
                log_in(mgr, cookie, sizeof cookie, user);
            uint64_t ended = 0;
            double t0 = bench_seconds();
            int rc = csession_manager_end_user_sessions(mgr, user, strlen(user), NULL, &ended);
            t[r] = bench_seconds() - t0;
            if (rc)
                bench_die("end all", rc);
            if (ended != (uint64_t)counts[c]) {
                fprintf(stderr, "end all ended %llu of %d\n", (unsigned long long)ended,
                        counts[c]);
                exit(1);
            }
        }
        printf("%-6s end_all_%-5d %10.1f us\n", name, counts[c], bench_median(t, reps) * 1e6);
    }
}

/* ---- round trips ----------------------------------------------------------- */

typedef struct step {
    csession_manager *mgr;
    char *cookie;
    int what;
    const char *user;
} step;

static void run_step(void *arg)
{
    step *s = arg;
    request(s->mgr, s->cookie, 512, s->what, s->user);
}

static void round_trips(csession_manager *mgr, const char *host, int port)
{
    char cookie[512];
    int counted[2][3];
    for (int bound = 0; bound < 2; bound++) {
        for (int round = 0; round < 2; round++) { /* the first one loads the scripts */
            const char *user = bound ? "trips-user" : NULL;
            cookie[0] = '\0';
            request(mgr, cookie, sizeof cookie, 0, NULL);
            for (int what = 1; what <= 3; what++) {
                /* login, a request, logout */
                step s = {mgr, cookie, what == 1 ? 1 : what == 2 ? 0 : 2, user};
                counted[bound][what - 1] = redis_commands_during(host, port, run_step, &s);
            }
        }
    }
    printf("redis  round trips      login  request  logout\n");
    for (int bound = 0; bound < 2; bound++)
        printf("redis  %-15s %6d %8d %7d\n", bound ? "bound" : "unbound", counted[bound][0],
               counted[bound][1], counted[bound][2]);
}

int main(int argc, char **argv)
{
    const char *redis = NULL;
    int reps = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--redis") && i + 1 < argc)
            redis = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--redis redis://HOST:PORT] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS)
        reps = 7;
    csession_store *st;
    int rc = csession_store_memory_new(&st, NULL);
    if (rc)
        bench_die("memory store", rc);
    csession_manager *mgr = manager_on(st);
    full_requests("memory", mgr, reps, 20000);
    end_all("memory", mgr, reps);
    csession_manager_free(mgr);
    if (redis) {
        char host[128] = "127.0.0.1";
        int port = 6379;
        if (sscanf(redis, "redis://%127[^:/]:%d", host, &port) < 1) {
            fprintf(stderr, "--redis wants redis://HOST:PORT\n");
            return 2;
        }
        csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
        o.key_prefix = "bench-users:";
        if ((rc = csession_store_redis_new(&st, redis, &o)))
            bench_die("redis store", rc);
        mgr = manager_on(st);
        full_requests("redis", mgr, reps, 2000);
        round_trips(mgr, host, port);
        end_all("redis", mgr, reps);
        csession_manager_free(mgr);
    }
    return 0;
}
