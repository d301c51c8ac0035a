/* The SQLite store across processes: forked workers on their own sessions
 * and on one shared session, a child that keeps writing after the parent
 * let go of the file, a writer killed with SIGKILL in the middle of a
 * burst, a file that cannot be written and a disk that is full. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "csession.h"
#include "csession/store_sqlite.h"
#include "sqlite_support.h"
#include "store_calls.h"
#include "stores/sqlite/sqlite_store.h"
#include "temp_dir.h"

#define TTL 3600
#define CHILDREN 4
#define REQUESTS 2000

static char dir[512];

static const char *path_of(char *buf, size_t size, const char *name)
{
    return sqlite_test_path(buf, size, dir, name);
}

static csession_manager *manager_on(csession_store *store)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_secure(cfg, 0), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, store), 0);
    csession_config_free(cfg);
    return mgr;
}

/* ---- pipes between parent and children ------------------------------------- */

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(90);
        c += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes; 0, or -1 at the end of the pipe. */
static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* A child with a pipe to its parent: fds[1] stays open in the child,
 * fds[0] in the parent. Returns the pid (0 in the child). */
static pid_t spawn(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    close(pid == 0 ? fds[0] : fds[1]);
    return pid;
}

static int exit_code_of(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- requests ---------------------------------------------------------------- */

static void increment(csession *s, void *ctx)
{
    (void)ctx;
    int64_t n = 0;
    csession_get_int64(s, "counter", &n);
    csession_insert_int64(s, "counter", n + 1);
}

static int64_t counter_of(csession_manager *mgr, const char *cookie)
{
    csession *s = NULL;
    assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &s), 0);
    int64_t n = -1;
    csession_get_int64(s, "counter", &n);
    csession_free(s);
    return n;
}

/* One increment with the reload-and-retry loop of docs/request-flow.md:
 * 0 when acknowledged, else the last code. */
static int increment_with_retries(csession_manager *mgr, test_client *c, int max_tries)
{
    csession *s = NULL;
    int rc = client_load(mgr, c, &s);
    if (rc)
        return rc;
    for (int tries = 0;; tries++) {
        increment(s, NULL);
        rc = client_commit(mgr, c, s);
        if (rc != CSESSION_ECONFLICT || tries + 1 == max_tries)
            break;
        if ((rc = csession_manager_reload(mgr, s)))
            break;
    }
    csession_free(s);
    return rc;
}

/* ---- workers on their own sessions ------------------------------------------- */

/* Every child counts to REQUESTS on a session of its own, through a manager
 * on the store the parent made and used before forking; the parent checks
 * each count from its side. */
static void test_fork_own_sessions(void **state)
{
    (void)state;
    char path[600];
    path_of(path, sizeof path, "own.db");
    csession_store *store = sqlite_test_store(path, NULL);
    char warm[65];
    store_save_str(store, "the parent's own", TTL, warm); /* an idle connection now */
    csession_manager *mgr = manager_on(store);
    int pipes[CHILDREN][2];
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        if ((pids[i] = spawn(pipes[i])) == 0) {
            test_client c = { 0 };
            for (int r = 0; r < REQUESTS; r++) {
                if (client_request(mgr, &c, NULL, increment, NULL) != 0) {
                    fprintf(stderr, "child %d request %d: %s\n", i, r, csession_last_error());
                    _exit(1);
                }
            }
            int ok = counter_of(mgr, c.cookie) == REQUESTS;
            write_all(pipes[i][1], c.cookie, sizeof c.cookie);
            _exit(ok ? 0 : 2);
        }
    }
    /* The parent goes on using the store meanwhile. */
    test_client p = { 0 };
    for (int r = 0; r < 200; r++)
        assert_int_equal(client_request(mgr, &p, NULL, increment, NULL), 0);
    for (int i = 0; i < CHILDREN; i++) {
        test_client c;
        assert_int_equal(read_all(pipes[i][0], c.cookie, sizeof c.cookie), 0);
        close(pipes[i][0]);
        assert_int_equal(exit_code_of(pids[i]), 0);
        assert_int_equal(counter_of(mgr, c.cookie), REQUESTS);
    }
    assert_int_equal(counter_of(mgr, p.cookie), 200);
    /* The parent's idle connection was closed before the first fork. */
    csession__sqlite_stats st;
    assert_int_equal(csession__store_sqlite_stats(store, &st), 0);
    assert_true(st.closed_for_fork >= 1);
    store_expect_str(store, warm, "the parent's own");
    csession_manager_free(mgr);
    assert_true(sqlite_test_intact(path));
}

/* ---- workers on one session ---------------------------------------------------- */

static void test_fork_shared_session(void **state)
{
    (void)state;
    char path[600];
    path_of(path, sizeof path, "shared.db");
    csession_manager *mgr = manager_on(sqlite_test_store(path, NULL));
    test_client first = { 0 };
    assert_int_equal(client_request(mgr, &first, NULL, increment, NULL), 0); /* counter 1 */
    int pipes[CHILDREN][2];
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        if ((pids[i] = spawn(pipes[i])) == 0) {
            test_client c = first;
            long acked = 0, refused = 0;
            for (int r = 0; r < REQUESTS; r++) {
                int rc = increment_with_retries(mgr, &c, 1000);
                if (rc == 0)
                    acked++;
                else if (rc == CSESSION_ECONFLICT)
                    refused++;
                else {
                    fprintf(stderr, "child %d request %d: %s\n", i, r, csession_last_error());
                    _exit(1);
                }
            }
            long counts[2] = { acked, refused };
            write_all(pipes[i][1], counts, sizeof counts);
            _exit(0);
        }
    }
    long acked = 0, refused = 0;
    for (int i = 0; i < CHILDREN; i++) {
        long counts[2];
        assert_int_equal(read_all(pipes[i][0], counts, sizeof counts), 0);
        close(pipes[i][0]);
        assert_int_equal(exit_code_of(pids[i]), 0);
        acked += counts[0];
        refused += counts[1];
    }
    /* No acknowledged increment lost, none counted twice. */
    int64_t final = counter_of(mgr, first.cookie);
    printf("   %d processes x %d increments on one session: %ld acknowledged, %ld refused "
           "after 1000 tries, counter %lld\n",
           CHILDREN, REQUESTS, acked, refused, (long long)final);
    assert_int_equal(final, 1 + acked);
    assert_int_equal(acked + refused, CHILDREN * REQUESTS);
    assert_int_equal(refused, 0);
    csession_manager_free(mgr);
    assert_true(sqlite_test_intact(path));
}

/* ---- a child that outlives its parent's connections -------------------------------- */

/*
 * The parent has used the store (so it held a connection) when it forks.
 * The child writes, the parent then closes everything it has on the file,
 * and the child writes more. A connection carried across the fork would
 * leave the child without locks of its own on the file: the parent's last
 * close would checkpoint and delete the WAL under the child, and the
 * child's later commits would be lost. Every one of them must be there.
 */
static void test_child_outlives_parent_connections(void **state)
{
    (void)state;
    char path[600];
    path_of(path, sizeof path, "outlive.db");
    csession_store *store = sqlite_test_store(path, NULL);
    char parent_key[65];
    store_save_str(store, "parent", TTL, parent_key);
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        char key[65];
        csession_buf k = CSESSION_BUF_INIT;
        if (store->save(store, "child-0", 7, TTL, &k) != 0)
            _exit(1);
        memcpy(key, k.ptr, 65);
        write_all(up[1], key, 64);
        char go;
        if (read_all(down[0], &go, 1) != 0)
            _exit(2);
        for (int i = 1; i <= 20; i++) {
            char text[16];
            snprintf(text, sizeof text, "child-%d", i);
            if (store->save(store, text, strlen(text), TTL, &k) != 0)
                _exit(3);
            write_all(up[1], k.ptr, 64);
        }
        csession_buf_dispose(&k);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char keys[21][65];
    assert_int_equal(read_all(up[0], keys[0], 64), 0);
    keys[0][64] = '\0';
    /* The parent lets go of the file entirely. */
    csession_store_free(store);
    assert_int_equal(write(down[1], "g", 1), 1);
    for (int i = 1; i <= 20; i++) {
        assert_int_equal(read_all(up[0], keys[i], 64), 0);
        keys[i][64] = '\0';
    }
    assert_int_equal(exit_code_of(pid), 0);
    close(up[0]);
    close(down[1]);
    /* A newcomer sees every commit the child made. */
    store = sqlite_test_store(path, NULL);
    store_expect_str(store, parent_key, "parent");
    for (int i = 0; i <= 20; i++) {
        char text[16];
        snprintf(text, sizeof text, "child-%d", i);
        store_expect_str(store, keys[i], text);
    }
    csession_store_free(store);
    assert_true(sqlite_test_intact(path));
}

/* ---- SIGKILL in the middle of writes ------------------------------------------------ */

/* What the writer reports after each commit returned: a new session, or a
 * new value of its counter session. */
typedef struct ack {
    char kind; /* 'S' or 'U' */
    char key[65];
    long value;
} ack;

static void writer(csession_store *store, const char *counter_key, long from, int fd)
{
    char text[64];
    csession_buf k = CSESSION_BUF_INIT;
    for (long i = from;; i++) {
        ack a = { 0 };
        snprintf(text, sizeof text, "session %ld", i);
        if (i % 2) {
            if (store->save(store, text, strlen(text), TTL, &k) != 0)
                _exit(1);
            a.kind = 'S';
            memcpy(a.key, k.ptr, 64);
        } else {
            snprintf(text, sizeof text, "%ld", i);
            csession_buf b = CSESSION_BUF_INIT;
            uint64_t rev = 0;
            if (store->load_rev(store, counter_key, 64, 0, &b, &rev) != 0 ||
                store->update_if(store, counter_key, 64, rev, text, strlen(text), TTL) != 0)
                _exit(2);
            csession_buf_dispose(&b);
            a.kind = 'U';
            a.value = i;
        }
        write_all(fd, &a, sizeof a);
    }
}

static void test_sigkill_mid_burst(void **state)
{
    (void)state;
    char path[600], counter_key[65];
    path_of(path, sizeof path, "killed.db");
    csession_store *store = sqlite_test_store(path, NULL);
    store_save_str(store, "0", TTL, counter_key);
    long next = 1, last_value = 0;
    size_t sessions = 0;
    for (int round = 0; round < 5; round++) {
        int fds[2];
        pid_t pid = spawn(fds);
        if (pid == 0)
            writer(store, counter_key, next, fds[1]);
        /* Kill it at some point after a few hundred commits, while it is
         * writing the next one. */
        int kill_after = 300 + round * 137;
        csession_store *check = sqlite_test_store(path, NULL);
        ack a;
        int got = 0, killed = 0;
        while (read_all(fds[0], &a, sizeof a) == 0) {
            if (++got == kill_after && !killed) {
                kill(pid, SIGKILL);
                killed = 1;
            }
            /* Everything acknowledged, also what was in the pipe when it
             * died, is stored. */
            if (a.kind == 'S') {
                char text[64];
                long i = next + got - 1;
                snprintf(text, sizeof text, "session %ld", i);
                store_expect_str(check, a.key, text);
                sessions++;
            } else {
                last_value = a.value;
            }
        }
        close(fds[0]);
        int code = exit_code_of(pid);
        assert_int_equal(code, 128 + SIGKILL);
        /* The counter holds the last acknowledged value, or the value of
         * the commit in flight when the writer died (if that was one of
         * the counter's). */
        long in_flight = next + got;
        csession_buf b = CSESSION_BUF_INIT;
        uint64_t rev = 0;
        assert_int_equal(check->load_rev(check, counter_key, 64, 0, &b, &rev), 0);
        long stored = atol(b.ptr);
        assert_true(stored == last_value || (in_flight % 2 == 0 && stored == in_flight));
        csession_buf_dispose(&b);
        csession_store_free(check);
        assert_true(sqlite_test_intact(path));
        last_value = stored;
        next = in_flight + 1;
    }
    printf("   5 writers killed mid-burst: %zu acknowledged sessions all present, counter "
           "intact, integrity_check ok\n",
           sessions);
    csession_store_free(store);
}

/* ---- a file that cannot be written ------------------------------------------------------ */

static int mount_tmpfs(const char *where, const char *size)
{
    char opts[64];
    snprintf(opts, sizeof opts, "size=%s,mode=0777", size);
    if (mkdir(where, 0777) != 0 && errno != EEXIST)
        return -1;
    if (mount("tmpfs", where, "tmpfs", 0, opts) != 0) {
        printf("   (mounting a tmpfs failed: %s)\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* The file on a file system mounted read-only (here a read-only view of
 * the directory through a bind mount): a clear error, while the store on
 * the writable view goes on. */
static void test_read_only(void **state)
{
    (void)state;
    char mnt[600], view[600], path[700], ro_path[700], key[65];
    path_of(mnt, sizeof mnt, "rw-mount");
    path_of(view, sizeof view, "ro-view");
    if (mount_tmpfs(mnt, "4m") != 0 || mkdir(view, 0755) != 0 ||
        mount(mnt, view, NULL, MS_BIND, NULL) != 0 ||
        mount(NULL, view, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) {
        printf("   (read-only bind mount not possible here: %s)\n", strerror(errno));
        skip();
        return;
    }
    snprintf(path, sizeof path, "%s/ro.db", mnt);
    snprintf(ro_path, sizeof ro_path, "%s/ro.db", view);
    csession_store *s = sqlite_test_store(path, NULL);
    store_save_str(s, "written", TTL, key);
    /* A new store on the read-only view cannot write: it says so. */
    csession_store *other = NULL;
    assert_int_equal(csession_store_sqlite_new(&other, ro_path, NULL), CSESSION_ESTORE);
    printf("   a store on a read-only file system: %s\n", csession_last_error());
    assert_non_null(strstr(csession_last_error(), "Read-only file system"));
    assert_non_null(strstr(csession_last_error(), ro_path));
    assert_null(other);
    /* A file that does not exist there cannot be created either. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/new.db", view);
    assert_int_equal(csession_store_sqlite_new(&other, missing, NULL), CSESSION_ESTORE);
    assert_null(other);
    /* The writable side is unaffected. */
    assert_int_equal(s->update_if(s, key, 64, 1, "still written", 13, TTL), 0);
    store_expect_str(s, key, "still written");
    csession_store_free(s);
    assert_true(sqlite_test_intact(path));
    assert_int_equal(umount(view), 0);
    assert_int_equal(umount(mnt), 0);
}

/* A file the process may read but not write (a user without the right).
 * As root, permissions do not apply: a child drops to nobody first. */
static void test_no_permission(void **state)
{
    (void)state;
    char sub[600], path[700];
    path_of(sub, sizeof sub, "perm");
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(sub, 0777), 0);
    snprintf(path, sizeof path, "%s/readonly.db", sub);
    csession_store_free(sqlite_test_store(path, NULL));
    assert_int_equal(chmod(path, 0444), 0);
    if (getuid() == 0)
        assert_int_equal(chown(path, 65534, 65534), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        csession_store *s = NULL;
        int rc = csession_store_sqlite_new(&s, path, NULL);
        printf("   a file without write permission: %s\n", csession_last_error());
        fflush(stdout);
        _exit(rc == CSESSION_ESTORE && s == NULL &&
                       strstr(csession_last_error(), "Permission denied") != NULL
                   ? 0
                   : 11);
    }
    assert_int_equal(exit_code_of(pid), 0);
    assert_int_equal(chmod(dir, 0700), 0);
}

/* ---- a full disk -------------------------------------------------------------------------- */

static void test_full_disk(void **state)
{
    (void)state;
    char mnt[600], path[700];
    path_of(mnt, sizeof mnt, "full-mount");
    if (mount_tmpfs(mnt, "1m") != 0) {
        skip();
        return;
    }
    snprintf(path, sizeof path, "%s/full.db", mnt);
    csession_store *s = sqlite_test_store(path, NULL);
    static char big[4000];
    memset(big, 'f', sizeof big);
    static char keys[400][65];
    int saved = 0, rc = 0;
    csession_buf k = CSESSION_BUF_INIT;
    while (saved < 400) {
        big[0] = (char)('A' + saved % 26);
        rc = s->save(s, big, sizeof big, TTL, &k);
        if (rc)
            break;
        memcpy(keys[saved++], k.ptr, 65);
    }
    printf("   %d sessions of 4000 bytes fit in 1 MB (with the WAL), then: %s\n", saved,
           csession_last_error());
    assert_int_equal(rc, CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "full"));
    assert_true(saved > 10);
    assert_int_equal(k.size, 0);
    /* What was acknowledged is there; the store keeps serving reads, and
     * writes fail cleanly while the disk stays full. */
    for (int i = 0; i < saved; i++) {
        big[0] = (char)('A' + i % 26);
        store_expect_state(s, keys[i], big, sizeof big);
    }
    for (int i = 0; i < 20; i++) {
        rc = s->save(s, big, sizeof big, TTL, &k);
        assert_true(rc == CSESSION_ESTORE || rc == 0);
    }
    /* Room again (the operator freed space): the same store goes on. */
    assert_int_equal(mount(NULL, mnt, NULL, MS_REMOUNT, "size=16m"), 0);
    big[0] = '!';
    assert_int_equal(s->save(s, big, sizeof big, TTL, &k), 0);
    store_expect_state(s, k.ptr, big, sizeof big);
    assert_int_equal(s->update_if(s, keys[0], 64, 1, "small", 5, TTL), 0);
    store_expect_str(s, keys[0], "small");
    csession_buf_dispose(&k);
    csession_store_free(s);
    assert_true(sqlite_test_intact(path));
    assert_int_equal(umount(mnt), 0);
}

/* Mounts a failed test may have left behind. */
static void unmount_leftovers(void)
{
    static const char *const names[] = { "ro-view", "rw-mount", "full-mount" };
    char p[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(p, sizeof p, names[i]);
        while (umount2(p, MNT_DETACH) == 0) {
        }
    }
}

int main(void)
{
    if (temp_dir_make(dir, sizeof dir, "store-sqlite-procs") != 0)
        return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_own_sessions),
        cmocka_unit_test(test_fork_shared_session),
        cmocka_unit_test(test_child_outlives_parent_connections),
        cmocka_unit_test(test_sigkill_mid_burst),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_no_permission),
        cmocka_unit_test(test_full_disk),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    unmount_leftovers();
    temp_dir_remove(dir);
    return failed;
}
