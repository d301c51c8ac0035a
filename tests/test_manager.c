/*
 * The request flow against a store that counts calls: the decision table
 * row by row, the load rules, tokens, key rotation, store failures, and one
 * manager shared by 8 threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "cookie/seal.h"
#include "csession.h"
#include "fake_store.h"
#include "log_capture.h"
#include "oom.h"

static unsigned char key_a[CSESSION_KEY_BYTES], key_b[CSESSION_KEY_BYTES];

static int setup_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < CSESSION_KEY_BYTES; i++) {
        key_a[i] = (unsigned char)i;
        key_b[i] = (unsigned char)(255 - i);
    }
    return 0;
}

typedef struct fixture {
    fake_store *fake;
    csession_manager *mgr;
} fixture;

static csession_config *config_with(const unsigned char *first, const unsigned char *second)
{
    csession_config *cfg = NULL;
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, first, CSESSION_KEY_BYTES), 0);
    if (second)
        assert_int_equal(csession_config_add_key(cfg, second, CSESSION_KEY_BYTES), 0);
    return cfg;
}

static fixture make(csession_config *cfg)
{
    fixture f;
    f.fake = fake_store_new();
    assert_int_equal(csession_manager_new(&f.mgr, cfg, fake_store_base(f.fake)), 0);
    csession_config_free(cfg);
    return f;
}

static void done(fixture *f)
{
    csession_manager_free(f->mgr); /* frees the fake store too */
}

static void put_counter(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_insert_int64(s, "counter", 1), 0);
}

static void expect_counts(const fixture *f, int load, int save, int update, int update_ttl,
                          int remove)
{
    fake_counts c = fake_store_counts(f->fake);
    if (c.load != load || c.save != save || c.update != update || c.update_ttl != update_ttl ||
        c.remove != remove)
        fail_msg("store calls load %d save %d update %d update_ttl %d remove %d, want %d %d %d %d %d",
                 c.load, c.save, c.update, c.update_ttl, c.remove, load, save, update, update_ttl,
                 remove);
}

/* A client that already holds a session with counter = 1. */
static test_client logged(fixture *f)
{
    test_client c = { 0 };
    assert_int_equal(client_request(f->mgr, &c, NULL, put_counter, NULL), 0);
    fake_store_reset_counts(f->fake);
    return c;
}

/* ---- decision table --------------------------------------------------- */

static void noop(csession *s, void *ctx)
{
    (void)s;
    (void)ctx;
}

static void insert_then_remove(csession *s, void *ctx)
{
    (void)ctx;
    csession_insert_int64(s, "x", 1);
    csession_remove(s, "x");
    assert_int_equal(csession_status(s), CSESSION_STATUS_CHANGED);
}

static void renew_only(csession *s, void *ctx)
{
    (void)ctx;
    csession_renew(s);
}

static void purge_only(csession *s, void *ctx)
{
    (void)ctx;
    csession_purge(s);
}

static void test_no_key_empty_state_stores_nothing(void **state)
{
    (void)state;
    test_handler handlers[] = { noop, insert_then_remove, renew_only, purge_only };
    for (size_t i = 0; i < 4; i++) {
        fixture f = make(config_with(key_a, NULL));
        test_client c = { 0 };
        assert_int_equal(client_request(f.mgr, &c, NULL, handlers[i], NULL), 0);
        assert_false(c.got_set_cookie);
        expect_counts(&f, 0, 0, 0, 0, 0);
        done(&f);
    }
}

static void test_no_key_with_state_saves(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = { 0 };
    assert_int_equal(client_request(f.mgr, &c, NULL, put_counter, NULL), 0);
    assert_true(c.got_set_cookie);
    expect_counts(&f, 0, 1, 0, 0, 0);
    assert_true(fake_store_last_ttl(f.fake) == CSESSION_DEFAULT_TTL);
    done(&f);
}

static void test_changed_updates(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    assert_int_equal(client_request(f.mgr, &c, NULL, put_counter, NULL), 0);
    assert_true(c.got_set_cookie);
    expect_counts(&f, 1, 0, 1, 0, 0);
    done(&f);
}

static void test_purged_deletes_and_removes_cookie(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    assert_int_equal(client_request(f.mgr, &c, NULL, purge_only, NULL), 0);
    expect_counts(&f, 1, 0, 0, 0, 1);
    assert_string_equal(c.last_set, "id=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0; "
                                    "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    assert_int_equal(fake_store_size(f.fake), 0);
    done(&f);
}

static void test_renewed_deletes_old_and_saves(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    char before[8192];
    snprintf(before, sizeof before, "%s", c.cookie);
    assert_int_equal(client_request(f.mgr, &c, NULL, renew_only, NULL), 0);
    expect_counts(&f, 1, 1, 0, 0, 1);
    assert_string_not_equal(c.cookie, before);
    assert_int_equal(fake_store_size(f.fake), 1);
    done(&f);
}

static void test_unchanged_policies(void **state)
{
    (void)state;
    /* ON_STATE_CHANGES: nothing at all */
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    assert_int_equal(client_request(f.mgr, &c, NULL, noop, NULL), 0);
    expect_counts(&f, 1, 0, 0, 0, 0);
    assert_false(c.got_set_cookie);
    done(&f);

    /* ON_EVERY_REQUEST, browser session: TTL extended, no cookie */
    csession_config *cfg = config_with(key_a, NULL);
    assert_int_equal(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST), 0);
    assert_int_equal(csession_config_set_browser_session(cfg, 300), 0);
    f = make(cfg);
    c = logged(&f);
    assert_int_equal(client_request(f.mgr, &c, NULL, noop, NULL), 0);
    expect_counts(&f, 1, 0, 0, 1, 0);
    assert_true(fake_store_last_ttl(f.fake) == 300);
    assert_false(c.got_set_cookie);
    done(&f);

    /* ON_EVERY_REQUEST, persistent: TTL extended and the cookie re-sent */
    cfg = config_with(key_a, NULL);
    assert_int_equal(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST), 0);
    assert_int_equal(csession_config_set_persistent(cfg, 600), 0);
    f = make(cfg);
    c = logged(&f);
    assert_int_equal(client_request(f.mgr, &c, NULL, noop, NULL), 0);
    expect_counts(&f, 1, 0, 0, 1, 0);
    assert_true(c.got_set_cookie);
    assert_non_null(strstr(c.last_set, "; Max-Age=600; Expires="));
    done(&f);
}

/* ---- load rules -------------------------------------------------------- */

static void test_state_not_found_forgets_key(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    csession_store *st = fake_store_base(f.fake);
    /* the store lost the state (expiry): empty all keys through the vtable */
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(st->save(st, "x", 1, 1, &k), 0);
    assert_int_equal(st->remove(st, "fake-key-1", 10), 0);
    csession_buf_dispose(&k);
    fake_store_reset_counts(f.fake);
    /* a write after that is a save of a new session, not an update */
    assert_int_equal(client_request(f.mgr, &c, NULL, put_counter, NULL), 0);
    expect_counts(&f, 1, 1, 0, 0, 0);
    done(&f);
}

static void test_undecodable_state_keeps_key(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    fake_store_put(f.fake, "fake-key-1", "this is not JSON");
    csession *s = NULL;
    assert_int_equal(csession_manager_load(f.mgr, c.cookie, strlen(c.cookie), &s), 0);
    assert_int_equal(csession_count(s), 0);
    assert_int_equal(csession_insert_int64(s, "fixed", 1), 0);
    csession_buf set = CSESSION_BUF_INIT;
    fake_store_reset_counts(f.fake);
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), 0);
    expect_counts(&f, 0, 0, 1, 0, 0); /* the bad state is replaced under its key */
    csession_buf_dispose(&set);
    csession_free(s);
    done(&f);
}

/* A cookie that opens, but to an empty session key (only a holder of the
 * cookie key can make one, or carry one over from another cookie sealed
 * with that key): a fresh session, no store call, no error. */
static void test_cookie_of_empty_key_gives_fresh_session(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    csession_keyring *ring = NULL;
    assert_int_equal(csession_keyring_new(&ring, 0), 0);
    assert_int_equal(csession_keyring_add(ring, key_a, sizeof key_a), 0);
    csession_buf sealed = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_seal(&sealed, ring, CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305,
                                           "id", 2, "", 0),
                     0);
    csession *s = NULL;
    assert_int_equal(csession_manager_load_token(f.mgr, sealed.ptr, sealed.size, &s), 0);
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
    char header[512];
    snprintf(header, sizeof header, "id=%s", sealed.ptr);
    assert_int_equal(csession_manager_load(f.mgr, header, strlen(header), &s), 0);
    assert_int_equal(csession_count(s), 0);
    /* it behaves as a new session: a write saves under a new key */
    assert_int_equal(csession_insert_int64(s, "n", 1), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), 0);
    assert_true(set.size > 0);
    expect_counts(&f, 0, 1, 0, 0, 0);
    csession_buf_dispose(&set);
    csession_free(s);
    csession_buf_dispose(&sealed);
    csession_keyring_free(ring);
    done(&f);
}

/* Cookies that do not open are counted through the log hook: the first at
 * once, then at most one line a minute, never with the cookie's value. */
static void test_unopened_cookies_counted(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    static log_capture logs;
    log_capture_start(&logs);
    for (int i = 0; i < 5; i++) {
        csession *s = NULL;
        assert_int_equal(csession_manager_load(f.mgr, "id=Zm9yZ2VkX3ZhbHVl", 18, &s), 0);
        assert_int_equal(csession_count(s), 0);
        csession_free(s);
    }
    log_capture_stop(&logs);
    assert_int_equal(log_capture_find(&logs, CSESSION_LOG_WARN, "did not open"), 1);
    assert_int_equal(log_capture_find(&logs, 0, "Zm9yZ2VkX3ZhbHVl"), 0);
    done(&f);
}

static void test_store_failure_on_load_is_an_error(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    fake_store_fail_next(f.fake, 1, CSESSION_ESTORE);
    csession *s = (csession *)1;
    assert_int_equal(csession_manager_load(f.mgr, c.cookie, strlen(c.cookie), &s),
                     CSESSION_ESTORE);
    assert_null(s);
    assert_string_equal(csession_last_error(), "fake store failure");
    done(&f);
}

static void test_store_failure_on_commit_keeps_session(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    csession *s = NULL;
    assert_int_equal(csession_manager_load(f.mgr, c.cookie, strlen(c.cookie), &s), 0);
    assert_int_equal(csession_insert_int64(s, "counter", 2), 0);
    fake_store_fail_next(f.fake, 1, CSESSION_ETIMEOUT);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), CSESSION_ETIMEOUT);
    assert_int_equal(set.size, 0);
    assert_int_equal(csession_status(s), CSESSION_STATUS_CHANGED);
    int64_t n;
    assert_int_equal(csession_get_int64(s, "counter", &n), 0);
    assert_int_equal(n, 2);
    /* the retry succeeds and a second commit writes nothing more */
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), 0);
    assert_true(set.size > 0);
    fake_store_reset_counts(f.fake);
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), 0);
    assert_int_equal(set.size, 0);
    expect_counts(&f, 0, 0, 0, 0, 0);
    csession_buf_dispose(&set);
    csession_free(s);
    done(&f);
}

static void test_oversized_header_refused(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    static char header[8193];
    memset(header, 'a', sizeof header);
    csession *s = (csession *)1;
    assert_int_equal(csession_manager_load(f.mgr, header, sizeof header, &s), CSESSION_ETOOBIG);
    assert_null(s);
    assert_int_equal(csession_manager_load(f.mgr, header, 8192, &s), 0); /* at the limit: fine */
    csession_free(s);
    assert_int_equal(csession_manager_load(f.mgr, NULL, 0, &s), 0); /* no header at all */
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
    done(&f);
}

/* ---- keys ---------------------------------------------------------------- */

static void test_old_key_cookie_is_reissued(void **state)
{
    (void)state;
    /* issued under key A */
    csession_config *old_cfg = config_with(key_a, NULL);
    csession_store *shared = fake_store_base(fake_store_new());
    csession_manager *old_mgr;
    assert_int_equal(csession_manager_new(&old_mgr, old_cfg, shared), 0);
    csession_config_free(old_cfg);
    test_client c = { 0 };
    assert_int_equal(client_request(old_mgr, &c, NULL, put_counter, NULL), 0);
    char old_cookie[8192];
    snprintf(old_cookie, sizeof old_cookie, "%s", c.cookie);

    /* rotated: B seals, A still opens. Same store, so the state is there. */
    csession_config *cfg = config_with(key_b, key_a);
    csession_manager *mgr;
    /* the store belongs to old_mgr; borrow it by giving this manager a
     * separate fake holding the same state */
    fake_store *copy = fake_store_new();
    fake_store_put(copy, "fake-key-1", "{\"v\":1,\"state\":{\"counter\":1}}");
    assert_int_equal(csession_manager_new(&mgr, cfg, fake_store_base(copy)), 0);
    csession_config_free(cfg);
    int64_t n = 0;
    csession *s;
    assert_int_equal(csession_manager_load(mgr, c.cookie, strlen(c.cookie), &s), 0);
    assert_int_equal(csession_get_int64(s, "counter", &n), 0);
    assert_int_equal(n, 1);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr, s, &set), 0);
    assert_true(set.size > 0); /* unchanged, but re-sealed under B */
    csession_free(s);
    /* the new cookie opens with B alone; the old one does not */
    csession_config *b_only = config_with(key_b, NULL);
    fake_store *copy2 = fake_store_new();
    fake_store_put(copy2, "fake-key-1", "{\"v\":1,\"state\":{\"counter\":1}}");
    csession_manager *b_mgr;
    assert_int_equal(csession_manager_new(&b_mgr, b_only, fake_store_base(copy2)), 0);
    csession_config_free(b_only);
    char header[8192];
    snprintf(header, sizeof header, "%.*s", (int)(strchr(set.ptr, ';') - set.ptr), set.ptr);
    assert_int_equal(csession_manager_load(b_mgr, header, strlen(header), &s), 0);
    assert_int_equal(csession_count(s), 1);
    csession_free(s);
    assert_int_equal(csession_manager_load(b_mgr, old_cookie, strlen(old_cookie), &s), 0);
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
    csession_buf_dispose(&set);
    csession_manager_free(b_mgr);
    csession_manager_free(mgr);
    csession_manager_free(old_mgr);
}

/* ---- the sealed key sent again ---------------------------------------------- */

/* A manager on a fake store that holds the state of "fake-key-1". */
static csession_manager *manager_over_copy(const unsigned char *first,
                                           const unsigned char *second)
{
    fake_store *copy = fake_store_new();
    fake_store_put(copy, "fake-key-1", "{\"v\":1,\"state\":{\"counter\":1}}");
    csession_config *cfg = config_with(first, second);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, fake_store_base(copy)), 0);
    csession_config_free(cfg);
    return mgr;
}

/* 1 when the client's cookie opens with `key` alone, as the ring's first
 * key, to the session of "fake-key-1". */
static int opens_with_only(const unsigned char *key, const test_client *c)
{
    csession_manager *mgr = manager_over_copy(key, NULL);
    csession *s;
    assert_int_equal(csession_manager_load(mgr, c->cookie, strlen(c->cookie), &s), 0);
    int ok = csession_count(s) == 1;
    csession_free(s);
    csession_manager_free(mgr);
    return ok;
}

/* A changed session whose key the store keeps gets the cookie it came
 * with: the same sealed key, not one sealed again under a fresh nonce. */
static void test_changed_resends_the_same_cookie(void **state)
{
    (void)state;
    static const int modes[] = { CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305,
                                 CSESSION_COOKIE_PRIVATE_AES256GCM, CSESSION_COOKIE_SIGNED };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (csession_cookie_security_check(modes[i]) != 0)
            continue; /* AES-256-GCM without AES-NI */
        csession_config *cfg = config_with(key_a, NULL);
        assert_int_equal(csession_config_set_security(cfg, modes[i]), 0);
        csession_manager *mgr;
        assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0); /* memory store */
        csession_config_free(cfg);
        test_client c = { 0 };
        assert_int_equal(client_request(mgr, &c, NULL, put_counter, NULL), 0);
        char first[8192];
        snprintf(first, sizeof first, "%s", c.cookie);
        for (int round = 0; round < 2; round++) {
            assert_int_equal(client_request(mgr, &c, NULL, put_counter, NULL), 0);
            assert_true(c.got_set_cookie);
            assert_string_equal(c.cookie, first);
        }
        csession_manager_free(mgr);
    }

    /* the TTL policy's re-sent cookie, too */
    csession_config *cfg = config_with(key_a, NULL);
    assert_int_equal(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST), 0);
    assert_int_equal(csession_config_set_persistent(cfg, 600), 0);
    fixture f = make(cfg);
    test_client c = logged(&f);
    char first[8192];
    snprintf(first, sizeof first, "%s", c.cookie);
    assert_int_equal(client_request(f.mgr, &c, NULL, noop, NULL), 0);
    assert_true(c.got_set_cookie);
    assert_non_null(strstr(c.last_set, "; Max-Age=600; Expires="));
    assert_string_equal(c.cookie, first);
    done(&f);
}

/* A cookie opened by an older key of the ring is sealed under the first
 * one; from then on that cookie is the one sent again. */
static void test_rotated_key_seals_anew(void **state)
{
    (void)state;
    /* a cookie for fake-key-1 under A: a fresh store's first save */
    test_client c = { 0 };
    csession_manager *old_mgr = make(config_with(key_a, NULL)).mgr;
    assert_int_equal(client_request(old_mgr, &c, NULL, put_counter, NULL), 0);
    csession_manager_free(old_mgr);
    char under_a[8192];
    snprintf(under_a, sizeof under_a, "%s", c.cookie);
    assert_true(opens_with_only(key_a, &c));

    csession_manager *mgr = manager_over_copy(key_b, key_a);
    assert_int_equal(client_request(mgr, &c, NULL, put_counter, NULL), 0);
    assert_true(c.got_set_cookie);
    assert_string_not_equal(c.cookie, under_a);
    assert_true(opens_with_only(key_b, &c));
    assert_false(opens_with_only(key_a, &c));
    char under_b[8192];
    snprintf(under_b, sizeof under_b, "%s", c.cookie);
    assert_int_equal(client_request(mgr, &c, NULL, put_counter, NULL), 0);
    assert_string_equal(c.cookie, under_b);
    csession_manager_free(mgr);
}

/* A session loaded through one manager and committed through another (a
 * different key ring) is sealed by the second. */
static void test_other_manager_seals_anew(void **state)
{
    (void)state;
    csession_manager *mgr_a = manager_over_copy(key_a, NULL);
    csession_manager *mgr_b = manager_over_copy(key_b, NULL);
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f); /* fake-key-1 under A */
    done(&f);
    char under_a[8192];
    snprintf(under_a, sizeof under_a, "%s", c.cookie);
    csession *s;
    assert_int_equal(csession_manager_load(mgr_a, c.cookie, strlen(c.cookie), &s), 0);
    assert_int_equal(csession_insert_int64(s, "counter", 2), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr_b, s, &set), 0);
    snprintf(c.cookie, sizeof c.cookie, "%.*s", (int)(strchr(set.ptr, ';') - set.ptr), set.ptr);
    assert_true(opens_with_only(key_b, &c));
    csession_free(s);
    csession_manager_free(mgr_b);

    /* also when the first manager is gone and others took its place (the
     * allocator tends to hand out the same address again) */
    assert_int_equal(csession_manager_load(mgr_a, under_a, strlen(under_a), &s), 0);
    assert_int_equal(csession_count(s), 1);
    csession_manager_free(mgr_a);
    for (int i = 0; i < 4; i++) {
        const unsigned char *key = i % 2 ? key_a : key_b;
        csession_manager *mgr_c = manager_over_copy(key, NULL);
        assert_int_equal(csession_insert_int64(s, "counter", 3 + i), 0);
        assert_int_equal(csession_manager_commit(mgr_c, s, &set), 0);
        snprintf(c.cookie, sizeof c.cookie, "%.*s", (int)(strchr(set.ptr, ';') - set.ptr),
                 set.ptr);
        assert_true(opens_with_only(key, &c));
        csession_manager_free(mgr_c);
    }
    csession_buf_dispose(&set);
    csession_free(s);
}

/* A store that saved under a new key (the old one vanished) gets that key
 * sealed. */
static void test_new_key_is_sealed(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    test_client c = logged(&f);
    char before[8192];
    snprintf(before, sizeof before, "%s", c.cookie);
    csession *s;
    assert_int_equal(csession_manager_load(f.mgr, c.cookie, strlen(c.cookie), &s), 0);
    csession_store *st = fake_store_base(f.fake);
    assert_int_equal(st->remove(st, "fake-key-1", 10), 0);
    assert_int_equal(csession_insert_int64(s, "counter", 5), 0);
    csession_buf set = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(f.mgr, s, &set), 0);
    assert_true(fake_store_has(f.fake, "fake-key-2", 10));
    snprintf(c.cookie, sizeof c.cookie, "%.*s", (int)(strchr(set.ptr, ';') - set.ptr), set.ptr);
    assert_string_not_equal(c.cookie, before);
    csession_free(s);
    int64_t n = 0;
    assert_int_equal(csession_manager_load(f.mgr, c.cookie, strlen(c.cookie), &s), 0);
    assert_int_equal(csession_get_int64(s, "counter", &n), 0);
    assert_int_equal(n, 5);
    csession_free(s);
    csession_buf_dispose(&set);
    done(&f);
}

/* ---- tokens ---------------------------------------------------------------- */

static void test_token_flow(void **state)
{
    (void)state;
    fixture f = make(config_with(key_a, NULL));
    csession *s;
    csession_buf token = CSESSION_BUF_INIT;
    int action = -1;
    assert_int_equal(csession_manager_load_token(f.mgr, NULL, 0, &s), 0);
    assert_int_equal(csession_manager_commit_token(f.mgr, s, &token, &action), 0);
    assert_int_equal(action, CSESSION_TOKEN_KEEP); /* empty: nothing */
    assert_int_equal(csession_insert_string(s, "user_id", "alice"), 0);
    assert_int_equal(csession_manager_commit_token(f.mgr, s, &token, &action), 0);
    assert_int_equal(action, CSESSION_TOKEN_SET);
    assert_true(token.size > 0);
    assert_null(memchr(token.ptr, ';', token.size));
    csession_free(s);

    assert_int_equal(csession_manager_load_token(f.mgr, token.ptr, token.size, &s), 0);
    const char *user;
    assert_int_equal(csession_get_string(s, "user_id", &user, NULL), 0);
    assert_string_equal(user, "alice");
    /* a change that keeps the key hands back the same token */
    csession_buf again = CSESSION_BUF_INIT;
    assert_int_equal(csession_insert_string(s, "user_id", "bob"), 0);
    assert_int_equal(csession_manager_commit_token(f.mgr, s, &again, &action), 0);
    assert_int_equal(action, CSESSION_TOKEN_SET);
    assert_int_equal(again.size, token.size);
    assert_memory_equal(again.ptr, token.ptr, token.size);
    csession_buf_dispose(&again);
    assert_int_equal(csession_purge(s), 0);
    assert_int_equal(csession_manager_commit_token(f.mgr, s, &token, &action), 0);
    assert_int_equal(action, CSESSION_TOKEN_CLEAR);
    assert_int_equal(token.size, 0);
    csession_free(s);

    /* a garbage token is a fresh session */
    assert_int_equal(csession_manager_load_token(f.mgr, "garbage", 7, &s), 0);
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
    csession_buf_dispose(&token);
    done(&f);
}

/* ---- configuration checked at creation ------------------------------------ */

static void expect_refused(csession_config *cfg, int code, const char *words)
{
    csession_manager *mgr = (csession_manager *)1;
    csession_store *st = fake_store_base(fake_store_new());
    int rc = csession_manager_new(&mgr, cfg, st);
    if (rc != code)
        fail_msg("manager_new gave %d (%s), want %d", rc, csession_last_error(), code);
    assert_null(mgr);
    assert_non_null(strstr(csession_last_error(), words));
    csession_store_free(st); /* still ours after a failure */
    csession_config_free(cfg);
}

static void test_invalid_combinations(void **state)
{
    (void)state;
    csession_config *cfg;
    assert_int_equal(csession_config_new(&cfg), 0);
    expect_refused(cfg, CSESSION_EINVAL, "key");

    cfg = config_with(key_a, NULL);
    csession_config_set_secure(cfg, 0);
    csession_config_set_same_site(cfg, CSESSION_SAME_SITE_NONE);
    expect_refused(cfg, CSESSION_EINVAL, "SameSite=None");

    cfg = config_with(key_a, NULL);
    csession_config_set_secure(cfg, 0);
    csession_config_set_partitioned(cfg, 1);
    expect_refused(cfg, CSESSION_EINVAL, "Partitioned");

    cfg = config_with(key_a, NULL);
    assert_int_equal(csession_config_set_path(cfg, "/a;b"), 0);
    expect_refused(cfg, CSESSION_EINVAL, "ath");

    cfg = config_with(key_a, NULL);
    assert_int_equal(csession_config_set_domain(cfg, "exa mple.com"), 0);
    expect_refused(cfg, CSESSION_EINVAL, "omain");

    cfg = config_with(key_a, NULL);
    csession_store bad = {.version = 99};
    csession_manager *mgr = (csession_manager *)1;
    assert_int_equal(csession_manager_new(&mgr, cfg, &bad), CSESSION_EINVAL);
    assert_null(mgr);
    csession_config_free(cfg);
}

static void test_default_store_and_config_independence(void **state)
{
    (void)state;
    csession_config *cfg = config_with(key_a, NULL);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0); /* memory store */
    /* the manager copied the configuration */
    assert_int_equal(csession_config_set_cookie_name(cfg, "other"), 0);
    csession_config_free(cfg);
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, put_counter, NULL), 0);
    assert_int_equal(strncmp(c.cookie, "id=", 3), 0);
    csession_manager_free(mgr);
}

/* ---- out of memory --------------------------------------------------------- */

static csession_manager *oom_mgr;

/* Under memory pressure the insert itself may fail: that is allowed. */
static void put_counter_lenient(csession *s, void *ctx)
{
    (void)ctx;
    int rc = csession_insert_int64(s, "counter", 2);
    assert_true(rc == 0 || rc == CSESSION_ENOMEM);
}

static int one_request(void *ctx)
{
    test_client *c = ctx;
    test_client copy = *c;
    return client_request(oom_mgr, &copy, NULL, put_counter_lenient, NULL);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oom_install();
    csession_config *cfg = config_with(key_a, NULL);
    /* The fake store allocates outside the hook: a state saved before a
     * later step fails is the store's (it expires), not a leak. */
    assert_int_equal(csession_manager_new(&oom_mgr, cfg, fake_store_base(fake_store_new())), 0);
    csession_config_free(cfg);
    test_client fresh = { 0 }, existing = { 0 };
    assert_int_equal(client_request(oom_mgr, &existing, NULL, put_counter, NULL), 0);
    assert_true(oom_run_each_failure(one_request, &fresh) > 5);
    assert_true(oom_run_each_failure(one_request, &existing) > 5);
    csession_manager_free(oom_mgr);
    oom_uninstall();
}

/* ---- threads ------------------------------------------------------------- */

#define THREADS 8
#define ROUNDS 200

typedef struct worker {
    csession_manager *mgr;
    int id;
    int failures;
} worker;

static void bump(csession *s, void *ctx)
{
    worker *w = ctx;
    int64_t n = 0, owner = -1;
    if (csession_get_int64(s, "owner", &owner) == 0 && owner != w->id)
        w->failures++; /* someone else's session */
    csession_get_int64(s, "n", &n);
    csession_insert_int64(s, "owner", w->id);
    csession_insert_int64(s, "n", n + 1);
}

static void *work(void *arg)
{
    worker *w = arg;
    test_client c = { 0 };
    for (int i = 0; i < ROUNDS; i++) {
        if (client_request(w->mgr, &c, NULL, bump, w) != 0)
            w->failures++;
        if (i % 50 == 49 && client_request(w->mgr, &c, NULL, renew_only, NULL) != 0)
            w->failures++;
    }
    int64_t n = -1;
    csession *s;
    if (csession_manager_load(w->mgr, c.cookie, strlen(c.cookie), &s) == 0) {
        csession_get_int64(s, "n", &n);
        csession_free(s);
    }
    if (n != ROUNDS)
        w->failures++; /* a lost update */
    return NULL;
}

static void test_one_manager_many_threads(void **state)
{
    (void)state;
    csession_config *cfg = config_with(key_a, key_b);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ mgr, i, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    csession_manager_free(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_key_empty_state_stores_nothing),
        cmocka_unit_test(test_no_key_with_state_saves),
        cmocka_unit_test(test_changed_updates),
        cmocka_unit_test(test_purged_deletes_and_removes_cookie),
        cmocka_unit_test(test_renewed_deletes_old_and_saves),
        cmocka_unit_test(test_unchanged_policies),
        cmocka_unit_test(test_state_not_found_forgets_key),
        cmocka_unit_test(test_undecodable_state_keeps_key),
        cmocka_unit_test(test_cookie_of_empty_key_gives_fresh_session),
        cmocka_unit_test(test_unopened_cookies_counted),
        cmocka_unit_test(test_store_failure_on_load_is_an_error),
        cmocka_unit_test(test_store_failure_on_commit_keeps_session),
        cmocka_unit_test(test_oversized_header_refused),
        cmocka_unit_test(test_old_key_cookie_is_reissued),
        cmocka_unit_test(test_changed_resends_the_same_cookie),
        cmocka_unit_test(test_rotated_key_seals_anew),
        cmocka_unit_test(test_other_manager_seals_anew),
        cmocka_unit_test(test_new_key_is_sealed),
        cmocka_unit_test(test_token_flow),
        cmocka_unit_test(test_invalid_combinations),
        cmocka_unit_test(test_default_store_and_config_independence),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_one_manager_many_threads),
    };
    return cmocka_run_group_tests_name("manager", tests, setup_keys, NULL);
}
