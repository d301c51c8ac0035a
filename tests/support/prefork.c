/* The prefork scenario: see prefork.h. */
#include "prefork.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "log_capture.h"
#include "redis_topology.h"
#include "store_calls.h"

#define MAX_CHILDREN 16

unsigned int prefork_pool_1 = 1, prefork_pool_8 = 8;

/* What a child sends back. */
typedef struct child_report {
    int requests;             /* requests made */
    int errors;               /* of which failed (load or commit) */
    int foreign;              /* loads that found a counter other than the expected one */
    long long highest;        /* the highest counter a load found */
    long long final;          /* the counter read back at the end (-1: none) */
    unsigned long inherited;  /* connections inherited and closed unused */
    unsigned long opened;     /* connections the store opened (the parent's included) */
    int fork_logged;          /* log messages that the fork was seen */
    int secret_logged;        /* log messages with the secret in them */
    long long elapsed_ms;
    char first_error[240];
} child_report;

/* One request's view: the counter it found, and the expected one. */
typedef struct counting {
    long long expected; /* commits acknowledged so far */
    long long found;    /* -1: none */
    int increment;
} counting;

static void count_handler(csession *s, void *ctx)
{
    counting *c = ctx;
    int64_t n = 0;
    c->found = csession_get_int64(s, "counter", &n) == 0 ? n : 0;
    if (c->increment)
        csession_insert_int64(s, "counter", n + 1);
}

csession_manager *prefork_manager(csession_store *store)
{
    unsigned char key[64];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 3);
    csession_config *cfg = NULL;
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    csession_manager *mgr = NULL;
    if (csession_manager_new(&mgr, cfg, store) != 0)
        fail_msg("csession_manager_new: %s", csession_last_error());
    csession_config_free(cfg);
    return mgr;
}

static void note_error(child_report *r, const char *what)
{
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof r->first_error, "%s: %s", what, csession_last_error());
}

/* The child's work; never returns. */
static void child_main(csession_manager *mgr, csession_store *store, int cycles,
                       unsigned long inherited, const char *secret, int out)
{
    static log_capture logged;
    log_capture_start(&logged);
    child_report r;
    memset(&r, 0, sizeof r);
    r.final = -1;
    long long start = test_now_ms();
    test_client client;
    memset(&client, 0, sizeof client);
    counting c = {0, -1, 1};
    for (int i = 0; i < cycles; i++) {
        r.requests++;
        int rc = client_request(mgr, &client, NULL, count_handler, &c);
        if (c.found > r.highest)
            r.highest = c.found;
        if (c.found >= 0 && c.found != c.expected)
            r.foreign++;
        if (rc != 0) {
            note_error(&r, "request");
            continue;
        }
        c.expected = c.found + 1;
    }
    counting check = {0, -1, 0};
    if (client_request(mgr, &client, NULL, count_handler, &check) == 0)
        r.final = check.found;
    else
        note_error(&r, "reading back");
    r.elapsed_ms = test_now_ms() - start;
    csession__redis_stats st;
    if (csession__store_redis_stats(store, &st) == 0) {
        r.inherited = st.inherited;
        r.opened = st.opened;
    }
    /* Every connection of the parent was closed, none used. */
    log_capture_stop(&logged);
    r.fork_logged = log_capture_find(&logged, CSESSION_LOG_INFO, " was forked; it closed the ");
    r.secret_logged = secret ? log_capture_find(&logged, 0, secret) : 0;
    if (r.secret_logged)
        log_capture_print(&logged);
    /* Every connection of the parent was closed, none used; a message said
     * so for each pool that had one (one connection each here). */
    int ok = r.errors == 0 && r.foreign == 0 && r.final == cycles && r.inherited == inherited &&
             r.fork_logged == (int)inherited && r.secret_logged == 0;
    ssize_t w = write(out, &r, sizeof r);
    _exit(ok && w == (ssize_t)sizeof r ? 0 : 1);
}

void prefork_run(csession_manager *mgr, csession_store *store, int children, int cycles,
                 unsigned int connections, const char *secret)
{
    assert_true(children > 0 && children <= MAX_CHILDREN);
    /* 1. A request here: a session saved, a connection left in the pool. */
    test_client parent;
    memset(&parent, 0, sizeof parent);
    counting c = {0, -1, 1};
    if (client_request(mgr, &parent, NULL, count_handler, &c) != 0)
        fail_msg("request before the fork: %s", csession_last_error());
    assert_true(parent.cookie[0] != '\0');
    /* New sessions until as many connections are open (Cluster: one per
     * node, as the keys fall). */
    csession__redis_stats before = store_redis_stats(store);
    for (int tries = 0; before.open < connections && tries < 500; tries++) {
        test_client other;
        memset(&other, 0, sizeof other);
        counting o = {0, -1, 1};
        if (client_request(mgr, &other, NULL, count_handler, &o) != 0)
            fail_msg("request before the fork: %s", csession_last_error());
        before = store_redis_stats(store);
    }
    assert_int_equal(before.open, connections);
    assert_int_equal(before.idle, connections);

    /* 2. The workers. */
    long long start = test_now_ms();
    pid_t pids[MAX_CHILDREN];
    int pipes[MAX_CHILDREN];
    for (int i = 0; i < children; i++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[0]);
            for (int j = 0; j < i; j++)
                close(pipes[j]);
            child_main(mgr, store, cycles, before.open, secret, fds[1]);
        }
        close(fds[1]);
        pipes[i] = fds[0];
    }

    /* 3. Their results. */
    int failed = 0;
    child_report reports[MAX_CHILDREN];
    int status[MAX_CHILDREN];
    for (int i = 0; i < children; i++) {
        memset(&reports[i], 0, sizeof reports[i]);
        ssize_t got;
        do
            got = read(pipes[i], &reports[i], sizeof reports[i]);
        while (got < 0 && errno == EINTR);
        close(pipes[i]);
        assert_int_equal(waitpid(pids[i], &status[i], 0), pids[i]);
        if (got != (ssize_t)sizeof reports[i] || !WIFEXITED(status[i]) ||
            WEXITSTATUS(status[i]) != 0)
            failed++;
    }
    long long elapsed = test_now_ms() - start;
    for (int i = 0; i < children; i++) {
        const child_report *r = &reports[i];
        printf("  child %d: %s %d, %d requests in %lld ms, %d errors, %d counters not its "
               "own, highest %lld, read back %lld; connections inherited and closed %lu, "
               "opened %lu; fork logged %d times, secret %d times%s%s\n",
               i, WIFEXITED(status[i]) ? "exit" : "signal",
               WIFEXITED(status[i]) ? WEXITSTATUS(status[i]) : WTERMSIG(status[i]),
               r->requests, r->elapsed_ms, r->errors, r->foreign, r->highest, r->final,
               r->inherited, r->opened, r->fork_logged, r->secret_logged, r->errors ? "; first error: " : "", r->first_error);
    }
    printf("  %d children x %d requests: %lld ms\n", children, cycles, elapsed);
    if (failed)
        fail_msg("%d of %d children failed", failed, children);

    /* 4. The parent still works, on the connection it had. */
    if (client_request(mgr, &parent, NULL, count_handler, &c) != 0)
        fail_msg("request after the fork: %s", csession_last_error());
    assert_int_equal(c.found, 1);
    csession__redis_stats after = store_redis_stats(store);
    assert_int_equal(after.opened, before.opened);
    assert_int_equal(after.dropped, before.dropped);
    assert_int_equal(after.inherited, 0);
}
