/*
 * The store conformance suite: actix-session's acceptance workflows, run
 * through a manager on the store under test, for signed and private cookies.
 */
#include "conformance.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client.h"
#include "conformance_internal.h"
#include "clock.h"
#include "cookie/header.h"

static const conformance_target *target;
static int security; /* the csession_cookie_security of the running group */

#define TTL 60

typedef struct settings {
    int lifecycle;
    int policy;
} settings;

static void fill_key(unsigned char key[CSESSION_KEY_BYTES], unsigned char seed)
{
    for (size_t i = 0; i < CSESSION_KEY_BYTES; i++)
        key[i] = (unsigned char)(seed + i * 3);
}

/* A manager on `st` (taken), configured as manager_with() does. */
static csession_manager *manager_on(const settings *set, unsigned char key_seed,
                                    csession_store *st);
static csession_manager *manager_tuned(const settings *set, unsigned char key_seed,
                                       csession_store *st, conformance_tune tune, void *ctx);

/* A manager on a fresh store of the target; `store` (optional) receives the
 * store, still usable for advance_time(). */
static csession_manager *manager_with(const settings *set, unsigned char key_seed,
                                      csession_store **store)
{
    csession_store *st = NULL;
    assert_int_equal(target->new_store(&st, target->ctx), 0);
    if (store)
        *store = st;
    return manager_on(set, key_seed, st);
}

csession_store *conformance_new_store(void)
{
    csession_store *st = NULL;
    assert_int_equal(target->new_store(&st, target->ctx), 0);
    return st;
}

csession_manager *conformance_manager_on(csession_store *st, unsigned char key_seed)
{
    return manager_on(NULL, key_seed, st);
}

csession_manager *conformance_manager_tuned(csession_store *st, unsigned char key_seed,
                                            conformance_tune tune, void *ctx)
{
    return manager_tuned(NULL, key_seed, st, tune, ctx);
}

static csession_manager *manager_on(const settings *set, unsigned char key_seed,
                                    csession_store *st)
{
    return manager_tuned(set, key_seed, st, NULL, NULL);
}

static csession_manager *manager_tuned(const settings *set, unsigned char key_seed,
                                       csession_store *st, conformance_tune tune, void *ctx)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    fill_key(key, key_seed);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_cookie_name(cfg, "test-session"), 0);
    assert_int_equal(csession_config_set_path(cfg, "/app"), 0);
    assert_int_equal(csession_config_set_domain(cfg, "example.com"), 0);
    assert_int_equal(csession_config_set_security(cfg, security), 0);
    if (set && set->lifecycle == CSESSION_LIFECYCLE_PERSISTENT)
        assert_int_equal(csession_config_set_persistent(cfg, TTL), 0);
    else
        assert_int_equal(csession_config_set_browser_session(cfg, TTL), 0);
    assert_int_equal(csession_config_set_ttl_policy(cfg, set ? set->policy : 0), 0);
    if (tune)
        tune(cfg, ctx);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, st), 0);
    csession_config_free(cfg);
    return mgr;
}

/* The request flow's wall clock, moved with the store's. It stands still
 * otherwise: with real seconds added, a scenario that moves it 19 s on a
 * 20 s interval would cross it on a slow machine. */
static int64_t clock_base, clock_offset;

static int64_t moved_clock(void)
{
    return clock_base + clock_offset;
}

static void advance(csession_store *store, int64_t seconds)
{
    target->advance_time(store, seconds, target->ctx);
    clock_offset += seconds;
}

void conformance_advance(csession_store *store, int64_t seconds)
{
    advance(store, seconds);
}

/* ---- blocking or non-blocking calls ---------------------------------------- */

typedef struct conf_wait {
    int finished;
    int code;
    csession *session;
} conf_wait;

static void conf_done(void *arg, int code, const char *message, csession *s)
{
    conf_wait *w = arg;
    assert_false(w->finished);
    w->finished = 1;
    w->code = code;
    w->session = s;
    if (code) {
        assert_non_null(message);
        csession_set_error(code, message);
    }
}

/* Runs the target's loop until `done` ran, and gives its code. */
static int conf_wait_for(conf_wait *w, int started)
{
    const conformance_loop *l = target->loop;
    assert_false(w->finished); /* never inside the call, nor after a failure to start */
    if (started)
        return started;
    while (!w->finished)
        assert_true(l->run_once(l->ctx) >= 0);
    return w->code;
}

static int load_either(csession_manager *mgr, const char *header, size_t len, int token,
                       csession **out)
{
    if (!target->loop)
        return token ? csession_manager_load_token(mgr, header, len, out)
                     : csession_manager_load(mgr, header, len, out);
    conf_wait w = { 0, 0, NULL };
    csession_loop *loop = target->loop->loop;
    int rc = token ? csession_manager_load_token_async(mgr, loop, header, len, conf_done, &w, NULL)
                   : csession_manager_load_async(mgr, loop, header, len, conf_done, &w, NULL);
    rc = conf_wait_for(&w, rc);
    *out = w.session;
    assert_true(rc ? *out == NULL : *out != NULL);
    return rc;
}

int conf_load(csession_manager *mgr, const char *header, size_t header_len, csession **out)
{
    return load_either(mgr, header, header_len, 0, out);
}

int conf_load_token(csession_manager *mgr, const char *token, size_t token_len, csession **out)
{
    return load_either(mgr, token, token_len, 1, out);
}

int conf_commit(csession_manager *mgr, csession *s, csession_buf *set_cookie)
{
    if (!target->loop)
        return csession_manager_commit(mgr, s, set_cookie);
    conf_wait w = { 0, 0, NULL };
    int rc = csession_manager_commit_async(mgr, target->loop->loop, s, set_cookie, conf_done, &w,
                                           NULL);
    rc = conf_wait_for(&w, rc);
    assert_ptr_equal(w.session, rc == 0 || w.finished ? s : NULL);
    return rc;
}

int conf_commit_token(csession_manager *mgr, csession *s, csession_buf *token, int *action)
{
    if (!target->loop)
        return csession_manager_commit_token(mgr, s, token, action);
    conf_wait w = { 0, 0, NULL };
    int rc = csession_manager_commit_token_async(mgr, target->loop->loop, s, token, action,
                                                 conf_done, &w, NULL);
    return conf_wait_for(&w, rc);
}

int conf_reload(csession_manager *mgr, csession *s)
{
    if (!target->loop)
        return csession_manager_reload(mgr, s);
    conf_wait w = { 0, 0, NULL };
    int rc = csession_manager_reload_async(mgr, target->loop->loop, s, conf_done, &w, NULL);
    return conf_wait_for(&w, rc);
}

static const client_calls async_calls = { conf_load, conf_commit };

const conformance_target *conformance_target_under_test(void)
{
    return target;
}

/* ---- handlers ------------------------------------------------------------ */

static void set_counter(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_int64(s, "counter", *(int64_t *)ctx), 0);
}

static void increment(csession *s, void *ctx)
{
    (void)ctx;
    int64_t n = 0;
    int rc = csession_get_int64(s, "counter", &n);
    assert_true(rc == 0 || rc == CSESSION_ENOTFOUND);
    assert_int_equal(csession_insert_int64(s, "counter", n + 1), 0);
}

static void login(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_string(s, "user_id", (const char *)ctx), 0);
    assert_int_equal(csession_renew(s), 0);
}

static void logout(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_purge(s), 0);
}

typedef struct seen {
    int64_t counter; /* -1 when absent */
    char user[64];   /* "" when absent */
    size_t count;
} seen;

static void look(csession *s, void *ctx)
{
    seen *v = ctx;
    const char *user;
    v->counter = -1;
    v->user[0] = '\0';
    if (csession_get_int64(s, "counter", &v->counter) != 0)
        v->counter = -1;
    if (csession_get_string(s, "user_id", &user, NULL) == 0)
        snprintf(v->user, sizeof v->user, "%s", user);
    v->count = csession_count(s);
}

static seen request_look(csession_manager *mgr, test_client *c)
{
    seen v;
    assert_int_equal(client_request(mgr, c, NULL, look, &v), 0);
    return v;
}

/* ---- (a) basic ----------------------------------------------------------- */

static void test_basic_value_comes_back(void **state)
{
    (void)state;
    csession_manager *mgr = manager_with(NULL, 1, NULL);
    test_client c = { 0 };
    int64_t hundred = 100;
    char attr[256];
    assert_int_equal(client_request(mgr, &c, NULL, set_counter, &hundred), 0);
    assert_true(c.got_set_cookie);
    assert_int_equal(strncmp(c.last_set, "test-session=", 13), 0);
    assert_string_equal(client_attr(&c, "Path", attr, sizeof attr), "/app");
    assert_string_equal(client_attr(&c, "Domain", attr, sizeof attr), "example.com");
    assert_string_equal(client_attr(&c, "Secure", attr, sizeof attr), "<flag>");
    assert_string_equal(client_attr(&c, "HttpOnly", attr, sizeof attr), "<flag>");
    assert_string_equal(client_attr(&c, "SameSite", attr, sizeof attr), "Lax");
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), ""); /* browser session */
    seen v = request_look(mgr, &c);
    assert_int_equal(v.counter, 100);
    assert_false(c.got_set_cookie); /* nothing changed, nothing re-sent */
    csession_manager_free(mgr);
}

/* ---- (b) persistent lifecycle and the TTL policies ----------------------- */

static void test_persistent_refreshed_on_change_only(void **state)
{
    (void)state;
    settings set = { CSESSION_LIFECYCLE_PERSISTENT, CSESSION_TTL_ON_STATE_CHANGES };
    csession_store *store;
    csession_manager *mgr = manager_with(&set, 2, &store);
    test_client c = { 0 };
    char attr[256];
    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), "60");
    assert_string_not_equal(client_attr(&c, "Expires", attr, sizeof attr), "");
    seen v = request_look(mgr, &c);
    assert_false(c.got_set_cookie);
    assert_int_equal(v.counter, 1);
    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    assert_true(c.got_set_cookie);
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), "60");
    if (target->advance_time) {
        /* a change extends the TTL; reading alone does not */
        advance(store, 40);
        assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0); /* counter 3 */
        advance(store, 40);
        v = request_look(mgr, &c); /* 40 s after the change: alive */
        assert_int_equal(v.counter, 3);
        advance(store, 30);
        v = request_look(mgr, &c); /* 70 s after the change: expired */
        assert_int_equal(v.count, 0);
    }
    csession_manager_free(mgr);
}

static void test_persistent_refreshed_on_every_request(void **state)
{
    (void)state;
    settings set = { CSESSION_LIFECYCLE_PERSISTENT, CSESSION_TTL_ON_EVERY_REQUEST };
    csession_store *store;
    csession_manager *mgr = manager_with(&set, 3, &store);
    test_client c = { 0 };
    char attr[256];
    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    seen v = request_look(mgr, &c);
    assert_true(c.got_set_cookie); /* re-sent although unchanged */
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), "60");
    assert_int_equal(v.counter, 1);
    if (target->advance_time) {
        for (int i = 0; i < 3; i++) { /* 120 s in all, never 60 s idle */
            advance(store, 40);
            v = request_look(mgr, &c);
            assert_int_equal(v.counter, 1);
        }
        advance(store, 61);
        v = request_look(mgr, &c);
        assert_int_equal(v.count, 0);
    }
    csession_manager_free(mgr);
}

/* ---- (c) the long flow --------------------------------------------------- */

static void test_long_flow(void **state)
{
    (void)state;
    csession_manager *mgr = manager_with(NULL, 4, NULL);
    test_client c = { 0 };
    char attr[256];

    /* an empty session is neither stored nor sent */
    seen v = request_look(mgr, &c);
    assert_false(c.got_set_cookie);
    assert_int_equal(v.count, 0);

    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    assert_true(c.got_set_cookie);
    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    v = request_look(mgr, &c);
    assert_int_equal(v.counter, 2);

    /* login renews: a new cookie value, the data kept */
    test_client before_login = c;
    assert_int_equal(client_request(mgr, &c, NULL, login, "ferris"), 0);
    assert_true(c.got_set_cookie);
    assert_string_not_equal(c.cookie, before_login.cookie);
    v = request_look(mgr, &c);
    assert_int_equal(v.counter, 2);
    assert_string_equal(v.user, "ferris");

    /* the pre-login cookie: dead where the store can invalidate it */
    v = request_look(mgr, &before_login);
    if (target->can_invalidate) {
        assert_int_equal(v.count, 0);
    } else {
        assert_int_equal(v.counter, 2); /* the cookie store cannot revoke */
        assert_string_equal(v.user, "");
    }

    /* logout purges: a removal cookie with the configured Path */
    test_client before_logout = c;
    assert_int_equal(client_request(mgr, &c, NULL, logout, NULL), 0);
    assert_true(c.got_set_cookie);
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), "0");
    assert_string_equal(client_attr(&c, "Path", attr, sizeof attr), "/app");
    assert_string_equal(client_attr(&c, "Domain", attr, sizeof attr), "example.com");
    assert_int_equal(strncmp(c.last_set, "test-session=;", 14), 0);
    assert_string_equal(c.cookie, "");
    v = request_look(mgr, &c);
    assert_int_equal(v.count, 0);
    assert_false(c.got_set_cookie);

    /* replaying the purged cookie */
    v = request_look(mgr, &before_logout);
    if (target->can_invalidate)
        assert_int_equal(v.count, 0);
    else
        assert_string_equal(v.user, "ferris");
    csession_manager_free(mgr);
}

/* ---- (d) bad cookies ----------------------------------------------------- */

static void expect_fresh(csession_manager *mgr, const char *cookie_header)
{
    test_client c = { 0 };
    snprintf(c.cookie, sizeof c.cookie, "%s", cookie_header);
    seen v;
    int rc = client_request(mgr, &c, NULL, look, &v);
    if (rc != 0)
        fail_msg("cookie %.60s gave %d (%s)", cookie_header, rc, csession_last_error());
    assert_int_equal(v.count, 0);
    assert_false(c.got_set_cookie);
}

static void test_tampered_cookies_give_fresh_sessions(void **state)
{
    (void)state;
    csession_manager *mgr = manager_with(NULL, 5, NULL);
    test_client c = { 0 };
    int64_t secret = 4242;
    assert_int_equal(client_request(mgr, &c, NULL, set_counter, &secret), 0);
    /* change each byte of the sealed value (after percent-decoding, so
     * that every change is a real one) */
    const char *raw = strchr(c.cookie, '=') + 1;
    char sealed[4096];
    size_t len;
    assert_int_equal(csession__cookie_decode(raw, strlen(raw), sealed, sizeof sealed, &len), 0);
    csession_buf encoded = CSESSION_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        char saved = sealed[i];
        sealed[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(csession__cookie_encode(&encoded, sealed, len), 0);
        char header[8192];
        snprintf(header, sizeof header, "test-session=%s", encoded.ptr);
        expect_fresh(mgr, header);
        sealed[i] = saved;
    }
    csession_buf_dispose(&encoded);
    /* truncated */
    char cut[8192];
    snprintf(cut, sizeof cut, "%.*s", (int)(strlen(c.cookie) - 1), c.cookie);
    expect_fresh(mgr, cut);
    csession_manager_free(mgr);
}

static void test_foreign_key_cookie(void **state)
{
    (void)state;
    csession_manager *ours = manager_with(NULL, 6, NULL);
    csession_manager *theirs = manager_with(NULL, 7, NULL);
    test_client c = { 0 };
    int64_t n = 7;
    assert_int_equal(client_request(theirs, &c, NULL, set_counter, &n), 0);
    expect_fresh(ours, c.cookie);
    csession_manager_free(theirs);
    csession_manager_free(ours);
}

static void test_garbage_cookies(void **state)
{
    (void)state;
    csession_manager *mgr = manager_with(NULL, 8, NULL);
    static const char *garbage[] = {
        "test-session=", "test-session=garbage", "test-session=%ZZ%", "test-session=\"\"",
        "test-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "test-session=%FF%FE", "other=1", "test-session", ";;;", "test-session=a=b=c",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        expect_fresh(mgr, garbage[i]);
    char big[6000] = "test-session=";
    memset(big + 13, 'x', 5000);
    big[5013] = '\0';
    expect_fresh(mgr, big); /* an oversized value is skipped */
    csession_manager_free(mgr);
}

static void test_expired_cookie(void **state)
{
    (void)state;
    if (!target->advance_time)
        skip();
    csession_store *store;
    csession_manager *mgr = manager_with(NULL, 9, &store);
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, increment, NULL), 0);
    advance(store, TTL + 1);
    seen v = request_look(mgr, &c);
    assert_int_equal(v.count, 0);
    csession_manager_free(mgr);
}

static void test_sessions_never_cross(void **state)
{
    (void)state;
    csession_manager *mgr = manager_with(NULL, 10, NULL);
    test_client a = { 0 }, b = { 0 };
    assert_int_equal(client_request(mgr, &a, NULL, login, "alice"), 0);
    assert_int_equal(client_request(mgr, &b, NULL, login, "bob"), 0);
    assert_string_equal(request_look(mgr, &a).user, "alice");
    assert_string_equal(request_look(mgr, &b).user, "bob");
    /* a duplicate cookie in front that does not open is skipped */
    test_client both = b;
    seen v;
    assert_int_equal(client_request(mgr, &both, "test-session=forged", look, &v), 0);
    assert_string_equal(v.user, "bob");
    csession_manager_free(mgr);
}

int conformance_run(const conformance_target *t)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_value_comes_back),
        cmocka_unit_test(test_persistent_refreshed_on_change_only),
        cmocka_unit_test(test_persistent_refreshed_on_every_request),
        cmocka_unit_test(test_long_flow),
        cmocka_unit_test(test_tampered_cookies_give_fresh_sessions),
        cmocka_unit_test(test_foreign_key_cookie),
        cmocka_unit_test(test_garbage_cookies),
        cmocka_unit_test(test_expired_cookie),
        cmocka_unit_test(test_sessions_never_cross),
    };
    static const int modes[] = { CSESSION_COOKIE_SIGNED, CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305,
                                 CSESSION_COOKIE_PRIVATE_AES256GCM };
    int failed = 0;
    target = t;
    client_use_calls(t->loop ? &async_calls : NULL);
    if (!clock_base)
        clock_base = (int64_t)time(NULL);
    csession__wall_now = moved_clock;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        if (csession_cookie_security_check(modes[m]) != 0)
            continue; /* AES-256-GCM without AES-NI */
        security = modes[m];
        char name[96];
        snprintf(name, sizeof name, "conformance %s%s%s %s", t->name, t->loop ? " on " : "",
                 t->loop ? t->loop->name : "", csession_cookie_security_name(modes[m]));
        failed += _cmocka_run_group_tests(name, tests, sizeof tests / sizeof tests[0], NULL, NULL);
    }
    /* Parallel requests, once: the cookie format plays no part in them. */
    security = CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305;
    char name[96];
    snprintf(name, sizeof name, "conformance %s%s%s parallel requests", t->name,
             t->loop ? " on " : "", t->loop ? t->loop->name : "");
    failed += _cmocka_run_group_tests(name, conformance_concurrency_tests,
                                      conformance_concurrency_count, NULL, NULL);
    snprintf(name, sizeof name, "conformance %s user sessions", t->name);
    failed += _cmocka_run_group_tests(name, conformance_user_tests, conformance_user_count, NULL,
                                      NULL);
    if (t->advance_time) { /* every lifetime rule needs the clock moved */
        snprintf(name, sizeof name, "conformance %s%s%s lifetimes", t->name,
                 t->loop ? " on " : "", t->loop ? t->loop->name : "");
        failed += _cmocka_run_group_tests(name, conformance_lifetime_tests,
                                          conformance_lifetime_count, NULL, NULL);
    }
    return failed;
}
