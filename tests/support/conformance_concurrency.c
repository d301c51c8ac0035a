/*
 * Parallel requests on one session, interleaved step by step through the
 * API: two loads of one cookie, then their commits in a chosen order. On a
 * store that keeps revisions no acknowledged update is lost and a logout
 * or renewal is final; on one that does not, the last write wins.
 */
#include "conformance_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "faulty_store.h"

static int has_revisions(const csession_store *st)
{
    return st->version >= 2 && st->update_if != NULL;
}

/* A manager on a fresh store with revisions, or the test is skipped. */
static csession_manager *revision_manager(unsigned char seed)
{
    csession_store *st = conformance_new_store();
    if (!has_revisions(st)) {
        csession_store_free(st);
        skip();
    }
    return conformance_manager_on(st, seed);
}

static int64_t get(const csession *s, const char *key)
{
    int64_t v = -1;
    if (csession_get_int64(s, key, &v) != 0)
        return -1;
    return v;
}

static void put(csession *s, const char *key, int64_t v)
{
    assert_int_equal(csession_insert_int64(s, key, v), 0);
}

/* The stored value of `key` as a new request of `c` sees it (-1: absent). */
static int64_t stored(csession_manager *mgr, const test_client *c, const char *key)
{
    csession *s;
    assert_int_equal(client_load(mgr, c, &s), 0);
    int64_t v = get(s, key);
    csession_free(s);
    return v;
}

static size_t stored_count(csession_manager *mgr, const test_client *c)
{
    csession *s;
    assert_int_equal(client_load(mgr, c, &s), 0);
    size_t n = csession_count(s);
    csession_free(s);
    return n;
}

/* A client with a stored session {"a": 1, "b": 1}. */
static void start(csession_manager *mgr, test_client *c)
{
    memset(c, 0, sizeof *c);
    csession *s;
    assert_int_equal(client_load(mgr, c, &s), 0);
    put(s, "a", 1);
    put(s, "b", 1);
    assert_int_equal(client_commit(mgr, c, s), 0);
    csession_free(s);
    assert_true(c->cookie[0] != '\0');
}

static void test_disjoint_changes_both_kept(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(40);
    test_client c, c1, c2;
    start(mgr, &c);
    c1 = c2 = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    put(s1, "a", 2);
    put(s2, "b", 2);
    assert_int_equal(csession_remove(s2, "nothing"), CSESSION_ENOTFOUND);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    /* the second commit merged: its session shows both changes */
    assert_int_equal(get(s2, "a"), 2);
    assert_int_equal(get(s2, "b"), 2);
    assert_int_equal(csession_status(s2), CSESSION_STATUS_UNCHANGED);
    assert_int_equal(stored(mgr, &c, "a"), 2);
    assert_int_equal(stored(mgr, &c, "b"), 2);
    /* a removal merges like an insertion */
    csession_free(s1);
    csession_free(s2);
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    assert_int_equal(csession_remove(s1, "a"), 0);
    put(s2, "c", 3);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    assert_int_equal(stored(mgr, &c, "a"), -1);
    assert_int_equal(stored(mgr, &c, "c"), 3);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_same_key_conflicts_and_retry_wins(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(41);
    test_client c, c1, c2;
    start(mgr, &c);
    c1 = c2 = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    put(s1, "a", get(s1, "a") + 1);
    put(s2, "a", get(s2, "a") + 1);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    c2.got_set_cookie = 0;
    assert_int_equal(client_commit(mgr, &c2, s2), CSESSION_ECONFLICT);
    assert_int_equal(csession_last_error_code(), CSESSION_ECONFLICT);
    assert_false(c2.got_set_cookie);
    /* left as it was: the handler can see what it wanted to write */
    assert_int_equal(get(s2, "a"), 2);
    assert_int_equal(csession_status(s2), CSESSION_STATUS_CHANGED);
    assert_int_equal(stored(mgr, &c, "a"), 2);
    /* reload gives the newest state; the handler runs again and wins */
    assert_int_equal(conf_reload(mgr, s2), 0);
    assert_int_equal(csession_status(s2), CSESSION_STATUS_UNCHANGED);
    assert_int_equal(get(s2, "a"), 2);
    put(s2, "a", get(s2, "a") + 1);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    assert_int_equal(stored(mgr, &c, "a"), 3);
    /* a clear conflicts with any change made meanwhile */
    csession_free(s1);
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(conf_reload(mgr, s2), 0);
    put(s1, "b", 9);
    assert_int_equal(csession_clear(s2), 0);
    put(s2, "z", 1);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), CSESSION_ECONFLICT);
    assert_int_equal(stored(mgr, &c, "b"), 9);
    assert_int_equal(stored(mgr, &c, "z"), -1);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_commit_token_same_rules(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(42);
    test_client c;
    start(mgr, &c);
    csession *s1, *s2, *s3;
    assert_int_equal(client_load(mgr, &c, &s1), 0);
    assert_int_equal(client_load(mgr, &c, &s2), 0);
    assert_int_equal(client_load(mgr, &c, &s3), 0);
    put(s1, "a", 5);
    put(s2, "a", 6);
    csession_buf token = CSESSION_BUF_INIT;
    int action = -1;
    assert_int_equal(conf_commit_token(mgr, s1, &token, &action), 0);
    assert_int_equal(conf_commit_token(mgr, s2, &token, &action),
                     CSESSION_ECONFLICT);
    assert_int_equal(action, CSESSION_TOKEN_KEEP);
    assert_int_equal(token.size, 0);
    assert_int_equal(csession_purge(s1), 0);
    assert_int_equal(conf_commit_token(mgr, s1, &token, &action), 0);
    assert_int_equal(action, CSESSION_TOKEN_CLEAR);
    put(s3, "b", 7);
    assert_int_equal(conf_commit_token(mgr, s3, &token, &action), CSESSION_EGONE);
    assert_int_equal(action, CSESSION_TOKEN_CLEAR);
    assert_int_equal(token.size, 0);
    csession_buf_dispose(&token);
    csession_free(s1);
    csession_free(s2);
    csession_free(s3);
    csession_manager_free(mgr);
}

/* The check of every "final" scenario: `old` no longer opens anything. */
static void expect_ended(csession_manager *mgr, const test_client *old)
{
    assert_int_equal(stored_count(mgr, old), 0);
}

static void test_purge_then_update_is_final(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(43);
    test_client c, c1, c2;
    start(mgr, &c);
    c1 = c2 = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    assert_int_equal(csession_purge(s1), 0);
    put(s2, "a", 5);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), CSESSION_EGONE);
    /* the response removes the cookie: nothing that opens a session */
    assert_true(c2.got_set_cookie);
    assert_non_null(strstr(c2.last_set, "Max-Age=0"));
    assert_string_equal(c2.cookie, "");
    expect_ended(mgr, &c);
    /* the session is now empty, without a key: committing stores nothing */
    assert_int_equal(csession_count(s2), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    assert_false(c2.got_set_cookie);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_renew_then_update_is_final(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(44);
    test_client c, thief, owner;
    start(mgr, &c);
    thief = owner = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &owner, &s1), 0);
    assert_int_equal(client_load(mgr, &thief, &s2), 0);
    put(s1, "user", 7);
    assert_int_equal(csession_renew(s1), 0);
    put(s2, "a", 99);
    assert_int_equal(client_commit(mgr, &owner, s1), 0);
    assert_string_not_equal(owner.cookie, c.cookie);
    assert_int_equal(client_commit(mgr, &thief, s2), CSESSION_EGONE);
    assert_string_equal(thief.cookie, "");
    expect_ended(mgr, &c);
    /* the renewed session is the owner's, without the thief's write */
    assert_int_equal(stored(mgr, &owner, "user"), 7);
    assert_int_equal(stored(mgr, &owner, "a"), 1);
    /* reload of a session whose key is gone: empty, and its commit says so */
    csession *s3;
    assert_int_equal(client_load(mgr, &c, &s3), 0); /* fresh: the key is gone */
    assert_int_equal(csession_count(s3), 0);
    csession_free(s3);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_reload_of_an_ended_session(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(45);
    test_client c, c1, c2;
    start(mgr, &c);
    c1 = c2 = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    assert_int_equal(csession_purge(s1), 0);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(conf_reload(mgr, s2), 0);
    assert_int_equal(csession_count(s2), 0);
    put(s2, "a", 3); /* the handler runs again on the empty session */
    assert_int_equal(client_commit(mgr, &c2, s2), CSESSION_EGONE);
    assert_string_equal(c2.cookie, "");
    expect_ended(mgr, &c);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_update_during_renewal_is_carried_over(void **state)
{
    (void)state;
    csession_manager *mgr = revision_manager(46);
    test_client c, tab, login;
    start(mgr, &c);
    tab = login = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &tab, &s1), 0);
    assert_int_equal(client_load(mgr, &login, &s2), 0);
    put(s1, "cart", 3);
    put(s2, "user", 7);
    assert_int_equal(csession_renew(s2), 0);
    assert_int_equal(client_commit(mgr, &tab, s1), 0);
    assert_int_equal(client_commit(mgr, &login, s2), 0);
    assert_int_equal(stored(mgr, &login, "cart"), 3);
    assert_int_equal(stored(mgr, &login, "user"), 7);
    expect_ended(mgr, &c);
    /* a renewal that changed the same key as the parallel write conflicts:
     * nothing renewed, the old session keeps the other write */
    test_client d, d1, d2;
    csession_free(s1);
    csession_free(s2);
    start(mgr, &d);
    d1 = d2 = d;
    assert_int_equal(client_load(mgr, &d1, &s1), 0);
    assert_int_equal(client_load(mgr, &d2, &s2), 0);
    put(s1, "a", 5);
    put(s2, "a", 6);
    assert_int_equal(csession_renew(s2), 0);
    assert_int_equal(client_commit(mgr, &d1, s1), 0);
    assert_int_equal(client_commit(mgr, &d2, s2), CSESSION_ECONFLICT);
    assert_string_equal(d2.cookie, d.cookie);
    assert_int_equal(stored(mgr, &d, "a"), 5);
    assert_int_equal(csession_status(s2), CSESSION_STATUS_RENEWED);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

static void test_renewal_whose_save_fails_keeps_old_session(void **state)
{
    (void)state;
    faulty_store *f;
    assert_int_equal(faulty_store_new(&f, conformance_new_store()), 0);
    csession_manager *mgr = conformance_manager_on(&f->base, 47);
    test_client c;
    start(mgr, &c);
    csession *s;
    assert_int_equal(client_load(mgr, &c, &s), 0);
    put(s, "user", 7);
    assert_int_equal(csession_renew(s), 0);
    f->fail_save = 1;
    int removes = f->removes;
    c.got_set_cookie = 0;
    assert_int_equal(client_commit(mgr, &c, s), CSESSION_ESTORE);
    assert_false(c.got_set_cookie);
    assert_int_equal(f->removes, removes); /* the old key was not touched */
    f->fail_save = 0;
    assert_int_equal(stored(mgr, &c, "a"), 1);
    assert_int_equal(stored(mgr, &c, "user"), -1);
    /* the session is as it was: the same commit can be tried again */
    assert_int_equal(csession_status(s), CSESSION_STATUS_RENEWED);
    test_client before = c;
    assert_int_equal(client_commit(mgr, &c, s), 0);
    assert_string_not_equal(c.cookie, before.cookie);
    assert_int_equal(stored(mgr, &c, "user"), 7);
    if (f->base.update_if)
        expect_ended(mgr, &before);
    /* a renewal whose retirement of the old key fails leaves no new key
     * behind (where the store can say so) and reports the failure */
    csession_free(s);
    assert_int_equal(client_load(mgr, &c, &s), 0);
    assert_int_equal(csession_renew(s), 0);
    f->fail_remove = 1;
    before = c;
    assert_int_equal(client_commit(mgr, &c, s), CSESSION_ESTORE);
    assert_string_equal(c.cookie, before.cookie);
    f->fail_remove = 0;
    assert_int_equal(stored(mgr, &c, "user"), 7);
    csession_free(s);
    csession_manager_free(mgr);
}

static void test_without_revisions_last_write_wins(void **state)
{
    (void)state;
    csession_store *st = conformance_new_store();
    if (has_revisions(st)) {
        csession_store_free(st);
        skip();
    }
    csession_manager *mgr = conformance_manager_on(st, 48);
    test_client c, c1, c2;
    start(mgr, &c);
    c1 = c2 = c;
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c1, &s1), 0);
    assert_int_equal(client_load(mgr, &c2, &s2), 0);
    put(s1, "a", 2);
    put(s2, "b", 2);
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    /* each commit wrote its whole state: the client's last cookie has b's */
    assert_int_equal(stored(mgr, &c2, "a"), 1);
    assert_int_equal(stored(mgr, &c2, "b"), 2);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

const struct CMUnitTest conformance_concurrency_tests[] = {
    cmocka_unit_test(test_disjoint_changes_both_kept),
    cmocka_unit_test(test_same_key_conflicts_and_retry_wins),
    cmocka_unit_test(test_commit_token_same_rules),
    cmocka_unit_test(test_purge_then_update_is_final),
    cmocka_unit_test(test_renew_then_update_is_final),
    cmocka_unit_test(test_reload_of_an_ended_session),
    cmocka_unit_test(test_update_during_renewal_is_carried_over),
    cmocka_unit_test(test_renewal_whose_save_fails_keeps_old_session),
    cmocka_unit_test(test_without_revisions_last_write_wins),
};

const size_t conformance_concurrency_count =
    sizeof conformance_concurrency_tests / sizeof conformance_concurrency_tests[0];
