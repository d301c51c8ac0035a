/*
 * The manager's non-blocking calls on the internal poll() loop: every call
 * on stores that complete inline (memory, cookie: `done` deferred to the
 * loop's next turn), on a store with non-blocking members (async_store.c),
 * failures and their messages, interleaved commits that merge or
 * conflict, CSESSION_EGONE, abandoning a request at each of its steps, and
 * version 1 and 2 stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "async_store.h"
#include "csession.h"
#include "csession/store_cookie.h"
#include "loop/poll_loop.h"
#include "manager_stats.h"
#include "session.h"

static csession__poll_loop pl;

static int setup(void **state)
{
    (void)state;
    csession__poll_loop_init(&pl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* every request closed what it opened */
    assert_int_equal(csession__poll_loop_pending(&pl), 0);
    csession__poll_loop_dispose(&pl);
    return 0;
}

static csession_manager *manager_on(csession_store *st, int policy)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_ttl_policy(cfg, policy), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, st), 0);
    csession_config_free(cfg);
    return mgr;
}

static csession_store *memory_store(void)
{
    csession_store *st = NULL;
    assert_int_equal(csession_store_memory_new(&st, NULL), 0);
    return st;
}

static async_store *async_on_memory(int turns)
{
    async_store *a = async_store_new(memory_store(), turns);
    assert_non_null(a);
    return a;
}

/* What `done` was given. */
typedef struct outcome {
    int calls;
    int code;
    char message[512];
    csession *session;
} outcome;

static void on_done(void *arg, int code, const char *message, csession *s)
{
    outcome *o = arg;
    o->calls++;
    o->code = code;
    o->session = s;
    snprintf(o->message, sizeof o->message, "%s", message ? message : "");
    if (code)
        assert_non_null(message);
    else
        assert_null(message);
}

/* Turns of the loop until `done` ran (at most 100). */
static int turns_until_done(const outcome *o)
{
    int turns = 0;
    while (o->calls == 0 && turns < 100) {
        assert_true(csession__poll_loop_run_once(&pl, -1) >= 0);
        turns++;
    }
    assert_int_equal(o->calls, 1);
    return turns;
}

/* A started call whose `done` has not run yet. */
static void started(int rc, const outcome *o)
{
    assert_int_equal(rc, 0);
    assert_int_equal(o->calls, 0);
}

static csession *load(csession_manager *mgr, const char *cookie, int *turns)
{
    outcome o = { 0 };
    started(csession_manager_load_async(mgr, &pl.loop, cookie, cookie ? strlen(cookie) : 0,
                                        on_done, &o, NULL),
            &o);
    *turns = turns_until_done(&o);
    assert_int_equal(o.code, 0);
    assert_non_null(o.session);
    return o.session;
}

static int commit(csession_manager *mgr, csession *s, csession_buf *set, int *turns)
{
    outcome o = { 0 };
    started(csession_manager_commit_async(mgr, &pl.loop, s, set, on_done, &o, NULL), &o);
    *turns = turns_until_done(&o);
    assert_ptr_equal(o.session, s);
    return o.code;
}

/* "id=<value>" of a Set-Cookie value. */
static void cookie_of(const csession_buf *set, char *out, size_t size)
{
    const char *semi = strchr(set->ptr, ';');
    snprintf(out, size, "%.*s", (int)(semi ? (size_t)(semi - set->ptr) : set->size), set->ptr);
}

/*
 * Every call once, as a browser's requests would make them: a new session
 * saved, loaded back from its cookie, changed, reloaded, committed through
 * a token, loaded from that token, purged. `inline_turns`: the turns each
 * `done` may take at most (1 for a store that completes inline). Returns
 * the manager (which owns `st`), for the caller to free.
 */
static csession_manager *every_call(csession_store *st, int inline_turns)
{
    csession_manager *mgr = manager_on(st, CSESSION_TTL_ON_STATE_CHANGES);
    int turns;
    csession_buf set = CSESSION_BUF_INIT;
    char cookie[4200];

    csession *s = load(mgr, NULL, &turns);
    assert_true(turns <= inline_turns);
    assert_int_equal(csession_insert_int64(s, "n", 1), 0);
    assert_int_equal(commit(mgr, s, &set, &turns), 0);
    assert_true(turns <= inline_turns);
    assert_true(set.size > 0);
    cookie_of(&set, cookie, sizeof cookie);
    csession_free(s);

    s = load(mgr, cookie, &turns);
    assert_true(turns <= inline_turns);
    int64_t n = 0;
    assert_int_equal(csession_get_int64(s, "n", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(csession_insert_int64(s, "n", 2), 0);

    outcome o = { 0 };
    started(csession_manager_reload_async(mgr, &pl.loop, s, on_done, &o, NULL), &o);
    assert_true(turns_until_done(&o) <= inline_turns);
    assert_int_equal(o.code, 0);
    assert_ptr_equal(o.session, s);
    assert_int_equal(csession_get_int64(s, "n", &n), 0);
    assert_int_equal(n, 1); /* the stored value again */

    assert_int_equal(csession_insert_int64(s, "n", 3), 0);
    csession_buf token = CSESSION_BUF_INIT;
    int action = -1;
    memset(&o, 0, sizeof o);
    started(csession_manager_commit_token_async(mgr, &pl.loop, s, &token, &action, on_done, &o,
                                                NULL),
            &o);
    assert_true(turns_until_done(&o) <= inline_turns);
    assert_int_equal(o.code, 0);
    assert_int_equal(action, CSESSION_TOKEN_SET);
    assert_true(token.size > 0);
    csession_free(s);

    memset(&o, 0, sizeof o);
    started(csession_manager_load_token_async(mgr, &pl.loop, token.ptr, token.size, on_done, &o,
                                              NULL),
            &o);
    assert_true(turns_until_done(&o) <= inline_turns);
    assert_int_equal(o.code, 0);
    s = o.session;
    assert_int_equal(csession_get_int64(s, "n", &n), 0);
    assert_int_equal(n, 3);
    csession_purge(s);
    assert_int_equal(commit(mgr, s, &set, &turns), 0);
    assert_non_null(strstr(set.ptr, "Max-Age=0"));
    csession_free(s);

    csession_buf_dispose(&token);
    csession_buf_dispose(&set);
    return mgr;
}

static void test_every_call_on_the_memory_store(void **state)
{
    (void)state;
    csession_manager *mgr = every_call(memory_store(), 1);
    csession_manager_free(mgr);
}

static void test_every_call_on_the_cookie_store(void **state)
{
    (void)state;
    csession_store *st = NULL;
    assert_int_equal(csession_store_cookie_new(&st), 0);
    csession_manager *mgr = every_call(st, 1);
    csession_manager_free(mgr);
}

/* every_call() on the store with non-blocking members, set up by `mode`;
 * `started`: whether its calls went through start. */
static void every_call_async(int turns, void (*mode)(async_store *, int), int started)
{
    async_store *a = async_on_memory(turns);
    if (mode)
        mode(a, 1);
    csession_manager *mgr = every_call(async_store_base(a), mode ? 1 : 100);
    if (started)
        assert_true(async_store_started(a, 0) >= 5);
    else
        assert_int_equal(async_store_started(a, 0), 0);
    csession_manager_free(mgr);
}

static void test_every_call_on_a_non_blocking_store(void **state)
{
    (void)state;
    every_call_async(3, NULL, 1);
}

static void test_store_that_completes_inside_start(void **state)
{
    (void)state;
    every_call_async(1, async_store_set_inline, 1);
}

static void test_store_that_answers_unsupported(void **state)
{
    (void)state;
    every_call_async(1, async_store_set_unsupported, 0);
}

/* A store call takes the turns it was given: done waits for the store. */
static void test_done_waits_for_the_store(void **state)
{
    (void)state;
    async_store *a = async_on_memory(4);
    csession_manager *mgr = manager_on(async_store_base(a), CSESSION_TTL_ON_STATE_CHANGES);
    int turns;
    csession *s = load(mgr, NULL, &turns); /* no cookie: no store call */
    assert_int_equal(turns, 1);
    assert_int_equal(csession_insert_int64(s, "n", 1), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(commit(mgr, s, &set, &turns), 0);
    assert_int_equal(turns, 4); /* the save's four turns, done right from its completion */
    assert_int_equal(async_store_started(a, CSESSION_CALL_SAVE), 1);
    csession_free(s);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

/* A saved session and a load of it through the store `a` wraps. */
static csession_manager *with_session(async_store *a, char *cookie, size_t size)
{
    csession_manager *mgr = manager_on(async_store_base(a), CSESSION_TTL_ON_STATE_CHANGES);
    csession *s = NULL;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &s), 0);
    assert_int_equal(csession_insert_int64(s, "a", 1), 0);
    assert_int_equal(csession_insert_int64(s, "b", 1), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr, s, &set), 0);
    cookie_of(&set, cookie, size);
    csession_buf_dispose(&set);
    csession_free(s);
    return mgr;
}

static void test_failures_carry_their_message(void **state)
{
    (void)state;
    async_store *a = async_on_memory(2);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);

    async_store_fail_next(a, 1, CSESSION_ETIMEOUT);
    outcome o = { 0 };
    started(csession_manager_load_async(mgr, &pl.loop, cookie, strlen(cookie), on_done, &o, NULL),
            &o);
    csession_set_error(CSESSION_EINVAL, "another failure of this thread meanwhile");
    turns_until_done(&o);
    assert_int_equal(o.code, CSESSION_ETIMEOUT);
    assert_null(o.session);
    assert_string_equal(o.message, "injected failure of the test store");

    /* a positive answer is no success: CSESSION_ESTORE, as the blocking wrappers give */
    async_store_fail_next(a, 1, 7);
    memset(&o, 0, sizeof o);
    started(csession_manager_load_async(mgr, &pl.loop, cookie, strlen(cookie), on_done, &o, NULL),
            &o);
    turns_until_done(&o);
    assert_int_equal(o.code, CSESSION_ESTORE);
    assert_non_null(strstr(o.message, "returned 7"));

    /* a failed commit leaves the session as it was */
    csession *s = NULL;
    assert_int_equal(csession_manager_load(mgr, cookie, strlen(cookie), &s), 0);
    assert_int_equal(csession_insert_int64(s, "a", 5), 0);
    async_store_fail_next(a, 1, CSESSION_ESTORE);
    csession_buf set = CSESSION_BUF_INIT;
    int turns;
    assert_int_equal(commit(mgr, s, &set, &turns), CSESSION_ESTORE);
    assert_int_equal(set.size, 0);
    assert_int_equal(csession_status(s), CSESSION_STATUS_CHANGED);
    csession_buf_dispose(&set);
    csession_free(s);
    csession_manager_free(mgr);
}

/* A store without revisions that leaves the fallback of an update whose
 * key is gone to the library: the state is saved under a new key. */
static void test_update_of_a_vanished_key_saves(void **state)
{
    (void)state;
    async_store *a = async_on_memory(2);
    async_store_drop_revisions(a);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    int turns;
    csession *s = load(mgr, cookie, &turns);
    csession_store *mem = async_store_inner(a);
    assert_int_equal(mem->remove(mem, s->key.ptr, s->key.size), 0); /* gone behind its back */
    assert_int_equal(csession_insert_int64(s, "a", 9), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(commit(mgr, s, &set, &turns), 0);
    assert_int_equal(async_store_started(a, CSESSION_CALL_UPDATE), 1);
    assert_int_equal(async_store_started(a, CSESSION_CALL_SAVE), 1);
    char moved[4200];
    cookie_of(&set, moved, sizeof moved);
    assert_string_not_equal(moved, cookie);
    csession *again = load(mgr, moved, &turns);
    int64_t v = 0;
    assert_int_equal(csession_get_int64(again, "a", &v), 0);
    assert_int_equal(v, 9);
    csession_free(again);
    csession_free(s);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

static void test_bad_arguments_start_nothing(void **state)
{
    (void)state;
    csession_manager *mgr = manager_on(memory_store(), CSESSION_TTL_ON_STATE_CHANGES);
    outcome o = { 0 };
    csession_request *req = (csession_request *)&o;
    assert_int_equal(csession_manager_load_async(mgr, NULL, NULL, 0, on_done, &o, &req),
                     CSESSION_EINVAL);
    assert_null(req);
    assert_int_equal(csession_manager_load_async(mgr, &pl.loop, NULL, 0, NULL, &o, NULL),
                     CSESSION_EINVAL);
    assert_int_equal(csession_manager_commit_async(mgr, &pl.loop, NULL, NULL, on_done, &o, NULL),
                     CSESSION_EINVAL);
    assert_int_equal(csession_manager_reload_async(NULL, &pl.loop, NULL, on_done, &o, NULL),
                     CSESSION_EINVAL);
    assert_int_equal(csession__poll_loop_pending(&pl), 0);
    assert_int_equal(o.calls, 0);
    /* a header too long is an outcome, given to done like the blocking call returns it */
    static char big[9000];
    memset(big, 'x', sizeof big);
    started(csession_manager_load_async(mgr, &pl.loop, big, sizeof big, on_done, &o, NULL), &o);
    turns_until_done(&o);
    assert_int_equal(o.code, CSESSION_ETOOBIG);
    csession_manager_free(mgr);
}

/* Two requests load one session; their commits run interleaved on the loop. */
static void interleaved(const char *key1, const char *key2, int expect2, uint64_t merges,
                        uint64_t conflicts)
{
    async_store *a = async_on_memory(2);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    int turns;
    csession *s1 = load(mgr, cookie, &turns);
    csession *s2 = load(mgr, cookie, &turns);
    assert_int_equal(csession_insert_int64(s1, key1, 10), 0);
    assert_int_equal(csession_insert_int64(s2, key2, 20), 0);
    csession_buf set1 = CSESSION_BUF_INIT, set2 = CSESSION_BUF_INIT;
    outcome o1 = { 0 }, o2 = { 0 };
    started(csession_manager_commit_async(mgr, &pl.loop, s1, &set1, on_done, &o1, NULL), &o1);
    started(csession_manager_commit_async(mgr, &pl.loop, s2, &set2, on_done, &o2, NULL), &o2);
    /* both write conditionally on the revision they loaded: one of them meets the other's */
    assert_int_equal(async_store_pending(a), 2);
    while (o1.calls == 0 || o2.calls == 0)
        assert_true(csession__poll_loop_run_once(&pl, -1) >= 0);
    assert_int_equal(o1.code, 0);
    assert_int_equal(o2.code, expect2);
    csession__manager_stats stats;
    csession__manager_get_stats(mgr, &stats);
    assert_int_equal(stats.merges, merges);
    assert_int_equal(stats.conflicts, conflicts);

    csession *check = load(mgr, cookie, &turns);
    int64_t v = 0;
    assert_int_equal(csession_get_int64(check, key1, &v), 0);
    assert_int_equal(v, expect2 == 0 && !strcmp(key1, key2) ? 20 : 10);
    if (expect2 == 0) {
        assert_int_equal(csession_get_int64(check, key2, &v), 0);
        assert_int_equal(v, 20);
    }
    csession_free(check);
    csession_free(s1);
    csession_free(s2);
    csession_buf_dispose(&set1);
    csession_buf_dispose(&set2);
    csession_manager_free(mgr);
}

static void test_interleaved_commits_merge(void **state)
{
    (void)state;
    interleaved("a", "b", 0, 1, 0);
}

static void test_interleaved_commits_of_one_key_conflict(void **state)
{
    (void)state;
    interleaved("a", "a", CSESSION_ECONFLICT, 0, 1);
}

static void test_commit_of_a_session_another_request_ended(void **state)
{
    (void)state;
    async_store *a = async_on_memory(2);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    int turns;
    csession *s1 = load(mgr, cookie, &turns);
    csession *s2 = load(mgr, cookie, &turns);
    csession_purge(s1);
    csession_buf set1 = CSESSION_BUF_INIT, set2 = CSESSION_BUF_INIT;
    assert_int_equal(commit(mgr, s1, &set1, &turns), 0);
    assert_int_equal(csession_insert_int64(s2, "a", 2), 0);
    assert_int_equal(commit(mgr, s2, &set2, &turns), CSESSION_EGONE);
    assert_non_null(strstr(set2.ptr, "Max-Age=0")); /* the removal cookie comes with it */
    assert_int_equal(csession_count(s2), 0);
    csession__manager_stats stats;
    csession__manager_get_stats(mgr, &stats);
    assert_int_equal(stats.gone, 1);
    csession_free(s1);
    csession_free(s2);
    csession_buf_dispose(&set1);
    csession_buf_dispose(&set2);
    csession_manager_free(mgr);
}

static void never_called(void *arg, int code, const char *message, csession *s)
{
    (void)arg;
    (void)code;
    (void)message;
    (void)s;
    fail_msg("done ran for an abandoned request");
}

/* Runs the loop until nothing is left to run. */
static void drain(void)
{
    while (csession__poll_loop_pending(&pl) > 0)
        assert_true(csession__poll_loop_run_once(&pl, -1) >= 0);
}

/* Turns the loop until `kind` was started `n` times. */
static void until_started(async_store *a, int kind, int n)
{
    for (int i = 0; i < 100 && async_store_started(a, kind) < n; i++)
        assert_true(csession__poll_loop_run_once(&pl, -1) >= 0);
    assert_int_equal(async_store_started(a, kind), n);
}

/* Abandons `req`, whose one store call is in flight: the call is
 * cancelled, and nothing runs afterwards. */
static void abandon_in_flight(async_store *a, csession_request *req)
{
    int cancelled = async_store_cancelled(a);
    assert_int_equal(async_store_pending(a), 1);
    csession_request_abandon(req);
    assert_int_equal(async_store_pending(a), 0);
    assert_int_equal(async_store_cancelled(a), cancelled + 1);
    drain();
}

static void test_abandon_a_load_in_flight(void **state)
{
    (void)state;
    async_store *a = async_on_memory(3);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    csession_request *req = NULL;
    assert_int_equal(csession_manager_load_async(mgr, &pl.loop, cookie, strlen(cookie),
                                                 never_called, NULL, &req),
                     0);
    assert_non_null(req);
    abandon_in_flight(a, req);
    csession_manager_free(mgr);
}

static void test_abandon_a_commit_waiting_for_its_second_call(void **state)
{
    (void)state;
    async_store *a = async_on_memory(2);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    int turns;
    csession *s1 = load(mgr, cookie, &turns);
    csession *s2 = load(mgr, cookie, &turns);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_insert_int64(s1, "a", 2), 0);
    assert_int_equal(commit(mgr, s1, &set, &turns), 0);
    /* s2's write meets s1's revision: its second call reads the newest state */
    assert_int_equal(csession_insert_int64(s2, "b", 2), 0);
    int reads = async_store_started(a, CSESSION_CALL_LOAD_REV);
    csession_request *req = NULL;
    assert_int_equal(
        csession_manager_commit_async(mgr, &pl.loop, s2, &set, never_called, NULL, &req), 0);
    until_started(a, CSESSION_CALL_LOAD_REV, reads + 1);
    abandon_in_flight(a, req);
    csession_free(s2); /* free to release once abandoned */
    csession_free(s1);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

static void test_abandon_a_renewal_between_save_and_retirement(void **state)
{
    (void)state;
    async_store *a = async_on_memory(2);
    char cookie[4200];
    csession_manager *mgr = with_session(a, cookie, sizeof cookie);
    int turns;
    csession *s = load(mgr, cookie, &turns);
    csession_renew(s);
    csession_buf set = CSESSION_BUF_INIT;
    csession_request *req = NULL;
    assert_int_equal(
        csession_manager_commit_async(mgr, &pl.loop, s, &set, never_called, NULL, &req), 0);
    until_started(a, CSESSION_CALL_REMOVE_IF, 1);
    assert_int_equal(async_store_started(a, CSESSION_CALL_SAVE), 1);
    abandon_in_flight(a, req);
    /* the old session is still there, as the step before left it */
    csession *again = load(mgr, cookie, &turns);
    int64_t v = 0;
    assert_int_equal(csession_get_int64(again, "a", &v), 0);
    csession_free(again);
    csession_free(s);
    csession_buf_dispose(&set);
    csession_manager_free(mgr);
}

/* A request whose store calls completed inline waits for its deferred done:
 * abandoning it then runs nothing either. */
static void test_abandon_before_the_deferred_done(void **state)
{
    (void)state;
    csession_manager *mgr = manager_on(memory_store(), CSESSION_TTL_ON_STATE_CHANGES);
    csession_request *req = NULL;
    assert_int_equal(csession_manager_load_async(mgr, &pl.loop, NULL, 0, never_called, NULL, &req),
                     0);
    assert_int_equal(csession__poll_loop_pending(&pl), 1); /* the deferral */
    csession_request_abandon(req); /* frees the session the load made */
    assert_int_equal(csession__poll_loop_pending(&pl), 0);
    drain();
    csession_manager_free(mgr);
}

/* Stores of the earlier versions, through the non-blocking calls: their
 * blocking members run inline, and nothing past their version is read. */
static void test_version_1_and_2_stores(void **state)
{
    (void)state;
    for (unsigned int version = 1; version <= 2; version++) {
        async_store *a = async_on_memory(1);
        async_store_set_version(a, version);
        csession_manager *mgr = every_call(async_store_base(a), 1);
        assert_int_equal(async_store_started(a, 0), 0);
        csession_manager_free(mgr);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_call_on_the_memory_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_call_on_the_cookie_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_call_on_a_non_blocking_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_that_completes_inside_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_that_answers_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_waits_for_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_carry_their_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_of_a_vanished_key_saves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments_start_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_commits_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_commits_of_one_key_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_of_a_session_another_request_ended, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abandon_a_load_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandon_a_commit_waiting_for_its_second_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abandon_a_renewal_between_save_and_retirement, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abandon_before_the_deferred_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_1_and_2_stores, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
