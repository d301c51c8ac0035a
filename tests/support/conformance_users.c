/*
 * A user's sessions (csession/users.h) on the store under test: bind, list,
 * end one, end all, end all but the current one, expiry, renewal, the race
 * of "end all" with commits of the same sessions, and two managers (two
 * servers) on one store. A store without a user index (the cookie store)
 * must answer CSESSION_EUNSUPPORTED and still carry the binding.
 */
#include "conformance_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "csession/users.h"
#include "latch.h"

static int has_users(const csession_store *st)
{
    return st->version >= 3 && st->user_save && st->user_remove && st->user_list &&
           st->user_end;
}

/* A manager on a fresh store with a user index, or the test is skipped. */
static csession_manager *users_manager(unsigned char seed, csession_store **store)
{
    csession_store *st = conformance_new_store();
    if (!has_users(st)) {
        csession_store_free(st);
        skip();
    }
    if (store)
        *store = st;
    return conformance_manager_on(st, seed);
}

/* ---- requests ------------------------------------------------------------ */

typedef struct login {
    const char *user;
    const char *label;
} login;

static void do_login(csession *s, void *ctx)
{
    const login *l = ctx;
    assert_int_equal(csession_bind(s, l->user, strlen(l->user), l->label,
                                   l->label ? strlen(l->label) : 0),
                     0);
    assert_int_equal(csession_insert_string(s, "who", l->user), 0);
}

static void log_in(csession_manager *mgr, test_client *c, const char *user, const char *label)
{
    memset(c, 0, sizeof *c);
    login l = {user, label};
    assert_int_equal(client_request(mgr, c, NULL, do_login, &l), 0);
    assert_true(c->cookie[0] != '\0');
}

/* The user the client's session is bound to now ("" for none). */
static const char *user_of(csession_manager *mgr, const test_client *c, char *out, size_t size)
{
    csession *s;
    const char *u = "";
    assert_int_equal(client_load(mgr, c, &s), 0);
    if (csession_user(s, &u, NULL) != 0)
        u = "";
    snprintf(out, size, "%s", u);
    csession_free(s);
    return out;
}

#define assert_user(mgr, c, expected)                                                          \
    do {                                                                                       \
        char who_[160];                                                                        \
        assert_string_equal(user_of(mgr, c, who_, sizeof who_), expected);                    \
    } while (0)

/* The user's sessions as listed by the client's request. */
static csession_user_sessions *list_of(csession_manager *mgr, const test_client *c,
                                       const char *user)
{
    csession *s = NULL;
    if (c)
        assert_int_equal(client_load(mgr, c, &s), 0);
    csession_user_sessions *l = NULL;
    assert_int_equal(csession_manager_user_sessions(mgr, s, user, strlen(user), &l), 0);
    csession_free(s);
    return l;
}

static size_t count_of(csession_manager *mgr, const char *user)
{
    csession_user_sessions *l = list_of(mgr, NULL, user);
    size_t n = csession_user_sessions_count(l);
    csession_user_sessions_free(l);
    return n;
}

/* The public id of the client's session. */
static void id_of(csession_manager *mgr, const test_client *c, char id[32])
{
    csession *s;
    const char *v;
    assert_int_equal(client_load(mgr, c, &s), 0);
    assert_int_equal(csession_id(s, &v), 0);
    snprintf(id, 32, "%s", v);
    csession_free(s);
}

static void end_all(csession_manager *mgr, const char *user, uint64_t expected)
{
    uint64_t n = 99;
    assert_int_equal(csession_manager_end_user_sessions(mgr, user, strlen(user), NULL, &n), 0);
    assert_int_equal(n, expected);
}

/* ---- scenarios ----------------------------------------------------------- */

static void test_bind_and_list(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(70, NULL);
    test_client a, b, c, other;
    log_in(mgr, &a, "alice", "Firefox on Linux");
    log_in(mgr, &b, "alice", "Phone");
    log_in(mgr, &c, "alice", NULL);
    log_in(mgr, &other, "bob", "Bob's laptop");
    assert_user(mgr, &a, "alice");
    assert_user(mgr, &other, "bob");

    char id_b[32];
    id_of(mgr, &b, id_b);
    csession_user_sessions *l = list_of(mgr, &b, "alice");
    assert_int_equal(csession_user_sessions_count(l), 3);
    int currents = 0, labels = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *id, *label;
        int64_t created, seen;
        int current;
        assert_int_equal(csession_user_sessions_get(l, i, &id, &label, &created, &seen, &current),
                         0);
        assert_true(created > 0 && seen >= created);
        assert_int_equal(strlen(id), 22);
        currents += current;
        if (current)
            assert_string_equal(id, id_b);
        if (current)
            assert_string_equal(label, "Phone");
        labels += !strcmp(label, "Firefox on Linux") + !strcmp(label, "Phone") + !strcmp(label, "");
    }
    assert_int_equal(currents, 1);
    assert_int_equal(labels, 3);
    csession_buf json = CSESSION_BUF_INIT;
    assert_int_equal(csession_user_sessions_json(l, &json), 0);
    assert_non_null(strstr(json.ptr, "\"current\":true"));
    assert_non_null(strstr(json.ptr, id_b));
    csession_buf_dispose(&json);
    csession_user_sessions_free(l);

    assert_int_equal(count_of(mgr, "bob"), 1);
    assert_int_equal(count_of(mgr, "nobody"), 0);
    csession_manager_free(mgr);
}

static void test_end_one(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(71, NULL);
    test_client a, b, other;
    log_in(mgr, &a, "alice", "a");
    log_in(mgr, &b, "alice", "b");
    log_in(mgr, &other, "bob", "o");
    char id_b[32], id_other[32];
    id_of(mgr, &b, id_b);
    id_of(mgr, &other, id_other);
    /* another user's id is not alice's to end */
    assert_int_equal(csession_manager_end_user_session(mgr, "alice", 5, id_other,
                                                       strlen(id_other)),
                     CSESSION_ENOTFOUND);
    assert_user(mgr, &other, "bob");
    assert_int_equal(csession_manager_end_user_session(mgr, "alice", 5, id_b, strlen(id_b)), 0);
    assert_user(mgr, &b, "");
    assert_user(mgr, &a, "alice");
    assert_int_equal(count_of(mgr, "alice"), 1);
    assert_int_equal(csession_manager_end_user_session(mgr, "alice", 5, id_b, strlen(id_b)),
                     CSESSION_ENOTFOUND);
    csession_manager_free(mgr);
}

static void test_end_all(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(72, NULL);
    test_client a[3], other;
    for (int i = 0; i < 3; i++)
        log_in(mgr, &a[i], "alice", "device");
    log_in(mgr, &other, "bob", "o");
    end_all(mgr, "alice", 3);
    for (int i = 0; i < 3; i++)
        assert_user(mgr, &a[i], "");
    assert_int_equal(count_of(mgr, "alice"), 0);
    assert_user(mgr, &other, "bob");
    assert_int_equal(count_of(mgr, "bob"), 1);
    end_all(mgr, "alice", 0);
    /* a login after it is a new session */
    log_in(mgr, &a[0], "alice", "again");
    assert_int_equal(count_of(mgr, "alice"), 1);
    csession_manager_free(mgr);
}

static void test_end_all_but_current(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(73, NULL);
    test_client a, b, c;
    log_in(mgr, &a, "alice", "a");
    log_in(mgr, &b, "alice", "b");
    log_in(mgr, &c, "alice", "c");
    csession *s;
    assert_int_equal(client_load(mgr, &b, &s), 0);
    uint64_t n = 0;
    assert_int_equal(csession_manager_end_user_sessions(mgr, "alice", 5, s, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(client_commit(mgr, &b, s), 0);
    csession_free(s);
    assert_user(mgr, &a, "");
    assert_user(mgr, &c, "");
    assert_user(mgr, &b, "alice");
    csession_user_sessions *l = list_of(mgr, &b, "alice");
    assert_int_equal(csession_user_sessions_count(l), 1);
    int current = 0;
    assert_int_equal(csession_user_sessions_get(l, 0, NULL, NULL, NULL, NULL, &current), 0);
    assert_true(current);
    csession_user_sessions_free(l);
    csession_manager_free(mgr);
}

static void test_expiry_leaves_the_list(void **state)
{
    (void)state;
    if (!conformance_target_under_test()->advance_time)
        skip();
    csession_store *st;
    csession_manager *mgr = users_manager(74, &st);
    test_client a, b;
    log_in(mgr, &a, "alice", "old");
    conformance_advance(st, 40); /* the TTL is 60 s */
    log_in(mgr, &b, "alice", "new");
    assert_int_equal(count_of(mgr, "alice"), 2);
    conformance_advance(st, 30); /* a is 70 s old, b 30 s */
    csession_user_sessions *l = list_of(mgr, &b, "alice");
    assert_int_equal(csession_user_sessions_count(l), 1);
    const char *label;
    int current;
    assert_int_equal(csession_user_sessions_get(l, 0, NULL, &label, NULL, NULL, &current), 0);
    assert_string_equal(label, "new");
    assert_true(current);
    csession_user_sessions_free(l);
    end_all(mgr, "alice", 1);
    csession_manager_free(mgr);
}

static void do_renew(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_renew(s), 0);
}

static void do_change(csession *s, void *ctx)
{
    int64_t n = 0;
    csession_get_int64(s, "n", &n);
    assert_int_equal(csession_insert_int64(s, "n", n + 1), 0);
    (void)ctx;
}

static void do_logout(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_purge(s), 0);
}

static void test_renewed_keeps_binding(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(75, NULL);
    test_client a;
    log_in(mgr, &a, "alice", "laptop");
    char id[32], id_after[32];
    id_of(mgr, &a, id);
    test_client before = a;
    assert_int_equal(client_request(mgr, &a, NULL, do_renew, NULL), 0);
    assert_string_not_equal(a.cookie, before.cookie);
    assert_user(mgr, &before, ""); /* the old key is retired */
    assert_user(mgr, &a, "alice");
    id_of(mgr, &a, id_after);
    assert_string_equal(id, id_after);
    csession_user_sessions *l = list_of(mgr, &a, "alice");
    assert_int_equal(csession_user_sessions_count(l), 1);
    int current = 0;
    const char *label;
    assert_int_equal(csession_user_sessions_get(l, 0, NULL, &label, NULL, NULL, &current), 0);
    assert_true(current);
    assert_string_equal(label, "laptop");
    csession_user_sessions_free(l);
    /* ordinary requests keep it too, and "end all" reaches the renewed key */
    assert_int_equal(client_request(mgr, &a, NULL, do_change, NULL), 0);
    end_all(mgr, "alice", 1);
    assert_user(mgr, &a, "");
    csession_manager_free(mgr);
}

static void test_logout_and_unbind_leave_the_index(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(76, NULL);
    test_client a, b;
    log_in(mgr, &a, "alice", "a");
    log_in(mgr, &b, "alice", "b");
    assert_int_equal(client_request(mgr, &a, NULL, do_logout, NULL), 0);
    assert_int_equal(a.cookie[0], '\0');
    assert_int_equal(count_of(mgr, "alice"), 1);
    csession *s;
    assert_int_equal(client_load(mgr, &b, &s), 0);
    assert_int_equal(csession_unbind(s), 0);
    assert_int_equal(client_commit(mgr, &b, s), 0);
    csession_free(s);
    assert_user(mgr, &b, "");
    assert_int_equal(count_of(mgr, "alice"), 0);
    /* the unbound session lives on, out of reach of "end all" */
    assert_int_equal(client_request(mgr, &b, NULL, do_change, NULL), 0);
    end_all(mgr, "alice", 0);
    csession *again;
    assert_int_equal(client_load(mgr, &b, &again), 0);
    int64_t n = 0;
    assert_int_equal(csession_get_int64(again, "n", &n), 0);
    assert_int_equal(n, 1);
    csession_free(again);
    csession_manager_free(mgr);
}

/* A commit of a session loaded before "end all" and committed after it
 * stores nothing: the session is gone for good. */
static void test_end_all_beats_a_loaded_request(void **state)
{
    (void)state;
    csession_manager *mgr = users_manager(77, NULL);
    test_client a, b;
    log_in(mgr, &a, "alice", "a");
    log_in(mgr, &b, "alice", "b");
    csession *sa, *sb;
    assert_int_equal(client_load(mgr, &a, &sa), 0);
    assert_int_equal(client_load(mgr, &b, &sb), 0);
    assert_int_equal(csession_insert_int64(sa, "late", 1), 0);
    assert_int_equal(csession_renew(sb), 0);
    end_all(mgr, "alice", 2);
    assert_int_equal(client_commit(mgr, &a, sa), CSESSION_EGONE);
    assert_int_equal(client_commit(mgr, &b, sb), CSESSION_EGONE);
    csession_free(sa);
    csession_free(sb);
    assert_user(mgr, &a, "");
    assert_user(mgr, &b, "");
    assert_int_equal(count_of(mgr, "alice"), 0);
    csession_manager_free(mgr);
}

/* ---- a store in front of the target's: shared, and with a hook ----------- */

typedef struct proxy {
    csession_store base;
    csession_store *inner; /* borrowed */
    /* Runs "end all" for `end_user` on the inner store right after the
     * next user_save (between a renewal's save and the old key's removal). */
    const char *end_user;
} proxy;

#define INNER(st) (((proxy *)(st))->inner)

static int p_load(csession_store *st, const char *k, size_t kl, csession_buf *out)
{
    return INNER(st)->load(INNER(st), k, kl, out);
}
static int p_save(csession_store *st, const char *s, size_t sl, int64_t ttl, csession_buf *k)
{
    return INNER(st)->save(INNER(st), s, sl, ttl, k);
}
static int p_update(csession_store *st, const char *k, size_t kl, const char *s, size_t sl,
                    int64_t ttl, csession_buf *out)
{
    return INNER(st)->update(INNER(st), k, kl, s, sl, ttl, out);
}
static int p_update_ttl(csession_store *st, const char *k, size_t kl, int64_t ttl)
{
    return INNER(st)->update_ttl(INNER(st), k, kl, ttl);
}
static int p_remove(csession_store *st, const char *k, size_t kl)
{
    return INNER(st)->remove(INNER(st), k, kl);
}
static void p_free(csession_store *st)
{
    free(st);
}
static int p_load_rev(csession_store *st, const char *k, size_t kl, int64_t touch,
                      csession_buf *out, uint64_t *rev)
{
    return INNER(st)->load_rev(INNER(st), k, kl, touch, out, rev);
}
static int p_update_if(csession_store *st, const char *k, size_t kl, uint64_t rev,
                       const char *s, size_t sl, int64_t ttl)
{
    return INNER(st)->update_if(INNER(st), k, kl, rev, s, sl, ttl);
}
static int p_remove_if(csession_store *st, const char *k, size_t kl, uint64_t rev)
{
    return INNER(st)->remove_if(INNER(st), k, kl, rev);
}
static int p_user_save(csession_store *st, const char *u, size_t ul, const char *s, size_t sl,
                       int64_t ttl, unsigned int flags, csession_buf *k)
{
    proxy *p = (proxy *)st;
    int rc = p->inner->user_save(p->inner, u, ul, s, sl, ttl, flags, k);
    if (p->end_user) {
        uint64_t n;
        assert_int_equal(p->inner->user_end(p->inner, p->end_user, strlen(p->end_user), NULL,
                                            0, &n),
                         0);
        p->end_user = NULL;
    }
    return rc;
}
static int p_user_remove(csession_store *st, const char *u, size_t ul, const char *k, size_t kl)
{
    return INNER(st)->user_remove(INNER(st), u, ul, k, kl);
}
static int p_user_list(csession_store *st, const char *u, size_t ul,
                       int (*each)(const char *, size_t, const char *, size_t, void *), void *a)
{
    return INNER(st)->user_list(INNER(st), u, ul, each, a);
}
static int p_user_end(csession_store *st, const char *u, size_t ul, const char *k, size_t kl,
                      uint64_t *n)
{
    return INNER(st)->user_end(INNER(st), u, ul, k, kl, n);
}

/* A store that passes every call to `inner` (which must outlive it). */
static proxy *proxy_of(csession_store *inner)
{
    proxy *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->inner = inner;
    p->base = (csession_store){
        .version = CSESSION_STORE_VERSION, .load = p_load, .save = p_save, .update = p_update,
        .update_ttl = p_update_ttl, .remove = p_remove, .free = p_free,
        .flags = inner->flags, .load_rev = p_load_rev, .update_if = p_update_if,
        .remove_if = p_remove_if, .user_save = p_user_save, .user_remove = p_user_remove,
        .user_list = p_user_list, .user_end = p_user_end};
    return p;
}

/* Two servers: two managers, each with its own store object, on one store. */
static void test_two_managers_share_one_store(void **state)
{
    (void)state;
    csession_store *shared;
    csession_manager *one = users_manager(78, &shared);
    csession_manager *two = conformance_manager_on(&proxy_of(shared)->base, 78);
    test_client a, b, other;
    log_in(one, &a, "alice", "on one");
    log_in(two, &b, "alice", "on two");
    log_in(two, &other, "bob", "bob");
    assert_user(two, &a, "alice");
    assert_int_equal(count_of(one, "alice"), 2);
    assert_int_equal(count_of(two, "alice"), 2);
    char id_a[32];
    id_of(one, &a, id_a);
    csession_user_sessions *l = list_of(two, &a, "alice");
    int currents = 0;
    for (size_t i = 0; i < csession_user_sessions_count(l); i++) {
        const char *id;
        int current;
        assert_int_equal(csession_user_sessions_get(l, i, &id, NULL, NULL, NULL, &current), 0);
        currents += current;
        if (current)
            assert_string_equal(id, id_a);
    }
    assert_int_equal(currents, 1);
    csession_user_sessions_free(l);
    end_all(two, "alice", 2);
    assert_user(one, &a, "");
    assert_user(two, &b, "");
    assert_user(one, &other, "bob");
    csession_manager_free(two);
    csession_manager_free(one);
}

/* "End all" between a renewal's save of the new key and the retirement of
 * the old one: neither key survives, and the commit says the session is gone. */
static void test_end_all_inside_a_renewal(void **state)
{
    (void)state;
    csession_store *inner = conformance_new_store();
    if (!has_users(inner)) {
        csession_store_free(inner);
        skip();
    }
    proxy *p = proxy_of(inner);
    csession_manager *owner = conformance_manager_on(inner, 79);
    csession_manager *mgr = conformance_manager_on(&p->base, 79);
    test_client a, other;
    log_in(mgr, &a, "alice", "a");
    log_in(mgr, &other, "bob", "o");
    p->end_user = "alice";
    csession *s;
    assert_int_equal(client_load(mgr, &a, &s), 0);
    assert_int_equal(csession_insert_int64(s, "x", 1), 0);
    assert_int_equal(csession_renew(s), 0);
    assert_int_equal(client_commit(mgr, &a, s), CSESSION_EGONE);
    csession_free(s);
    assert_null(p->end_user);
    assert_user(mgr, &a, "");
    assert_int_equal(count_of(mgr, "alice"), 0);
    assert_user(mgr, &other, "bob");
    csession_manager_free(mgr);
    csession_manager_free(owner);
}

/* A thread commits changes to a bound session as fast as it can while
 * "end all" runs: once both are done, the session never loads again. */
typedef struct racer {
    csession_manager *mgr;
    test_client c;
    latch started; /* opened after a few commits */
    atomic_int ended; /* set once "end all" returned */
    int commits, gone;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    /* Runs until its session ended, or until it made one more request
     * after "end all" returned (then the test finds the session alive). */
    for (int after = 0; after < 2;) {
        if (after || atomic_load(&r->ended))
            after++;
        csession *s;
        if (client_load(r->mgr, &r->c, &s) != 0)
            break;
        const char *u;
        if (csession_user(s, &u, NULL) != 0) { /* a fresh session: it ended */
            csession_free(s);
            break;
        }
        int64_t n = 0;
        csession_get_int64(s, "n", &n);
        csession_insert_int64(s, "n", n + 1);
        if (r->commits % 8 == 7)
            csession_renew(s); /* renewals race too */
        int rc = client_commit(r->mgr, &r->c, s);
        csession_free(s);
        if (rc == CSESSION_EGONE) {
            r->gone++;
            break;
        }
        if (rc != 0 && rc != CSESSION_ECONFLICT)
            break;
        if (++r->commits == 4)
            latch_open(&r->started);
    }
    latch_open(&r->started);
    return NULL;
}

static void test_end_all_races_commits(void **state)
{
    (void)state;
    /* Threads racing need a loop each; an event loop serves one thread.
     * The race is the flow's, the same in both modes: the blocking suite
     * runs it. */
    if (conformance_target_under_test()->loop)
        skip();
    csession_manager *mgr = users_manager(80, NULL);
    racer r[2];
    pthread_t th[2];
    test_client other;
    log_in(mgr, &other, "bob", "o");
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].mgr = mgr;
        r[i].started = (latch)LATCH_INIT;
        atomic_init(&r[i].ended, 0);
        log_in(mgr, &r[i].c, "alice", "racer");
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        latch_wait(&r[i].started);
    uint64_t n = 0;
    int rc = csession_manager_end_user_sessions(mgr, "alice", 5, NULL, &n);
    for (int i = 0; i < 2; i++)
        atomic_store(&r[i].ended, 1);
    /* The threads first: a failed assertion leaves the test at once, and
     * racers still running would use the manager after it is gone. */
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(rc, 0);
    /* A racer in the middle of a renewal has its new key saved and its old
     * one not yet retired: two live sessions each at most. */
    assert_true(n <= 4);
    for (int i = 0; i < 2; i++) {
        assert_true(r[i].commits >= 4);
        assert_user(mgr, &r[i].c, "");
    }
    assert_int_equal(count_of(mgr, "alice"), 0);
    assert_user(mgr, &other, "bob");
    csession_manager_free(mgr);
}

/* ---- a store without an index -------------------------------------------- */

static void test_without_index_unsupported(void **state)
{
    (void)state;
    csession_store *st = conformance_new_store();
    if (has_users(st)) {
        csession_store_free(st);
        skip();
    }
    csession_manager *mgr = conformance_manager_on(st, 81);
    test_client a;
    log_in(mgr, &a, "alice", "a");
    assert_user(mgr, &a, "alice"); /* the binding travels with the state */
    csession_user_sessions *l = (void *)1;
    assert_int_equal(csession_manager_user_sessions(mgr, NULL, "alice", 5, &l),
                     CSESSION_EUNSUPPORTED);
    assert_null(l);
    assert_int_equal(csession_manager_end_user_sessions(mgr, "alice", 5, NULL, NULL),
                     CSESSION_EUNSUPPORTED);
    assert_int_equal(csession_manager_end_user_session(mgr, "alice", 5, "x", 1),
                     CSESSION_EUNSUPPORTED);
    csession_manager_free(mgr);
}

const struct CMUnitTest conformance_user_tests[] = {
    cmocka_unit_test(test_bind_and_list),
    cmocka_unit_test(test_end_one),
    cmocka_unit_test(test_end_all),
    cmocka_unit_test(test_end_all_but_current),
    cmocka_unit_test(test_expiry_leaves_the_list),
    cmocka_unit_test(test_renewed_keeps_binding),
    cmocka_unit_test(test_logout_and_unbind_leave_the_index),
    cmocka_unit_test(test_end_all_beats_a_loaded_request),
    cmocka_unit_test(test_two_managers_share_one_store),
    cmocka_unit_test(test_end_all_inside_a_renewal),
    cmocka_unit_test(test_end_all_races_commits),
    cmocka_unit_test(test_without_index_unsupported),
};

const size_t conformance_user_count =
    sizeof conformance_user_tests / sizeof conformance_user_tests[0];
