/*
 * Session lifetimes on every store, with a moved clock: the absolute
 * timeout beside the idle one, a lifetime chosen per session ("remember
 * me"), the touch interval, key rotation with its grace period and the
 * revocation of a retired key presented later, and the public id.
 */
#include "conformance_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "log_capture.h"
#include "manager_stats.h"

#define TTL 60 /* the suite's configured TTL (conformance.c) */

typedef struct lifetimes {
    int64_t absolute;
    int64_t touch_after;
    int64_t rotate_every, rotate_grace;
    int persistent; /* configured lifecycle persistent (TTL 60) */
    int every_request;
} lifetimes;

static void tune(csession_config *cfg, void *ctx)
{
    const lifetimes *l = ctx;
    if (l->persistent)
        assert_int_equal(csession_config_set_persistent(cfg, TTL), 0);
    if (l->every_request)
        assert_int_equal(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST), 0);
    assert_int_equal(csession_config_set_absolute_timeout(cfg, l->absolute), 0);
    assert_int_equal(csession_config_set_touch_after(cfg, l->touch_after), 0);
    assert_int_equal(csession_config_set_rotation(cfg, l->rotate_every, l->rotate_grace), 0);
}

static csession_manager *manager(const lifetimes *l, csession_store **st)
{
    *st = conformance_new_store();
    return conformance_manager_tuned(*st, 40, tune, (void *)l);
}

static int server_side(void)
{
    return conformance_target_under_test()->can_invalidate;
}

/* What a request saw of the session. */
typedef struct view {
    int64_t counter;  /* -1 when absent */
    char id[CSESSION_PUBLIC_ID_LEN + 1];
    int64_t created;  /* -1 when unknown */
    int64_t last_seen;
    int persistent;
} view;

static void observe(csession *s, view *v)
{
    const char *id;
    v->counter = -1;
    if (csession_get_int64(s, "counter", &v->counter) != 0)
        v->counter = -1;
    v->id[0] = '\0';
    if (csession_count(s) > 0 && csession_id(s, &id) == 0)
        snprintf(v->id, sizeof v->id, "%s", id);
    if (csession_created(s, &v->created) != 0)
        v->created = -1;
    if (csession_last_seen(s, &v->last_seen) != 0)
        v->last_seen = -1;
    v->persistent = csession_is_persistent(s);
}

static void look(csession *s, void *ctx)
{
    if (ctx)
        observe(s, ctx);
}

static void bump(csession *s, void *ctx)
{
    int64_t n = 0;
    int rc = csession_get_int64(s, "counter", &n);
    assert_true(rc == 0 || rc == CSESSION_ENOTFOUND);
    assert_int_equal(csession_insert_int64(s, "counter", n + 1), 0);
    if (ctx)
        observe(s, ctx);
}

static void remember_me(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_string(s, "user_id", "alice"), 0);
    assert_int_equal(csession_renew(s), 0);
    assert_int_equal(csession_set_persistent(s, *(int64_t *)ctx), 0);
}

static void login(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_string(s, "user_id", "alice"), 0);
    assert_int_equal(csession_renew(s), 0);
    if (ctx)
        observe(s, ctx);
}

static view request(csession_manager *mgr, test_client *c, test_handler h)
{
    view v;
    memset(&v, 0, sizeof v);
    assert_int_equal(client_request(mgr, c, NULL, h, &v), 0);
    return v;
}

static int64_t max_age(const test_client *c)
{
    char attr[64];
    client_attr(c, "Max-Age", attr, sizeof attr);
    return attr[0] ? (int64_t)strtoll(attr, NULL, 10) : -1;
}

/* ---- absolute timeout ------------------------------------------------------ */

static void test_absolute_timeout_while_active(void **state)
{
    (void)state;
    /* every request extends the TTL, also past the absolute timeout where
     * the store does it while reading (the load check still holds) */
    lifetimes l = {.absolute = 100, .every_request = 1};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    view first = request(mgr, &c, look);
    assert_int_equal(first.counter, 1);
    /* a request every 30 s keeps it well within the idle timeout of 60 s */
    for (int i = 0; i < 3; i++) {
        conformance_advance(st, 30);
        assert_int_equal(client_request(mgr, &c, NULL, i == 0 ? bump : look, NULL), 0);
    }
    view v = request(mgr, &c, look); /* 90 s old */
    assert_int_equal(v.counter, 2);
    assert_int_equal(v.created, first.created); /* writes keep the creation time */
    conformance_advance(st, 15);
    v = request(mgr, &c, look); /* 105 s old: over, however active */
    assert_int_equal(v.counter, -1);
    assert_int_equal(v.created, -1);
    csession_manager_free(mgr);
}

static void test_idle_and_absolute_together(void **state)
{
    (void)state;
    lifetimes l = {.absolute = 100};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client idle = {0};
    assert_int_equal(client_request(mgr, &idle, NULL, bump, NULL), 0);
    conformance_advance(st, 61); /* idle past the TTL, well before the absolute timeout */
    assert_int_equal(request(mgr, &idle, look).counter, -1);
    /* the TTL of the state never outlives created + absolute: a change at
     * 50 s asks for 60 s more, gets 50 */
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    conformance_advance(st, 50);
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    conformance_advance(st, 49);
    assert_int_equal(request(mgr, &c, look).counter, 2);
    conformance_advance(st, 2);
    assert_int_equal(request(mgr, &c, look).counter, -1);
    csession_manager_free(mgr);
}

/* ---- remember me ------------------------------------------------------------- */

static void test_remember_me_on_browser_session_server(void **state)
{
    (void)state;
    lifetimes l = {0};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0}, other = {0};
    int64_t days = 200;
    assert_int_equal(client_request(mgr, &c, NULL, remember_me, &days), 0);
    assert_int_equal(max_age(&c), 200);
    assert_int_equal(client_request(mgr, &other, NULL, login, NULL), 0);
    assert_int_equal(max_age(&other), -1); /* the server's default: browser session */
    conformance_advance(st, 100); /* past the configured TTL of 60 s */
    view v = request(mgr, &c, look);
    assert_int_equal(v.persistent, 1);
    assert_true(v.created > 0);
    assert_int_equal(request(mgr, &other, look).created, -1); /* expired: fresh */
    /* a later change keeps the choice: Max-Age and store TTL again 200 */
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    assert_int_equal(max_age(&c), 200);
    conformance_advance(st, 150);
    assert_int_equal(request(mgr, &c, look).counter, 1);
    conformance_advance(st, 51);
    assert_int_equal(request(mgr, &c, look).counter, -1);
    csession_manager_free(mgr);
}

static void test_remember_me_capped_by_absolute_timeout(void **state)
{
    (void)state;
    lifetimes l = {.absolute = 150};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0};
    int64_t days = 1000;
    assert_int_equal(client_request(mgr, &c, NULL, remember_me, &days), 0);
    assert_int_equal(max_age(&c), 150);
    conformance_advance(st, 50);
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    assert_int_equal(max_age(&c), 100);
    conformance_advance(st, 99);
    assert_int_equal(request(mgr, &c, look).counter, 1);
    conformance_advance(st, 2);
    assert_int_equal(request(mgr, &c, look).counter, -1);
    csession_manager_free(mgr);
}

/* ---- touch interval ----------------------------------------------------------- */

static void test_touch_at_most_once_per_interval(void **state)
{
    (void)state;
    lifetimes l = {.touch_after = 20, .persistent = 1, .every_request = 1};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    view made = request(mgr, &c, look);
    /* within the interval: no extension, no Set-Cookie */
    conformance_advance(st, 10);
    assert_int_equal(request(mgr, &c, look).counter, 1);
    assert_false(c.got_set_cookie);
    conformance_advance(st, 9);
    assert_int_equal(request(mgr, &c, look).counter, 1);
    assert_false(c.got_set_cookie);
    /* none of them extended it: 61 s after the write it is gone */
    test_client copy = c;
    conformance_advance(st, 42);
    assert_int_equal(request(mgr, &copy, look).counter, -1);

    /* past the interval, one extension (and the cookie again) */
    test_client d = {0};
    assert_int_equal(client_request(mgr, &d, NULL, bump, NULL), 0);
    conformance_advance(st, 25);
    view touched = request(mgr, &d, look);
    assert_true(d.got_set_cookie);
    assert_int_equal(max_age(&d), TTL);
    conformance_advance(st, 5);
    view after = request(mgr, &d, look);
    assert_false(d.got_set_cookie);
    assert_true(after.last_seen >= touched.last_seen + 25);
    conformance_advance(st, 50); /* 80 s after the write, 55 after the touch */
    assert_int_equal(request(mgr, &d, look).counter, 1);
    assert_true(d.got_set_cookie); /* 55 s since the touch: due again */
    (void)made;
    csession_manager_free(mgr);
}

/* ---- rotation ------------------------------------------------------------------- */

static void test_rotation_grace_and_theft(void **state)
{
    (void)state;
    if (!server_side())
        skip();
    lifetimes l = {.rotate_every = 30, .rotate_grace = 10};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, login, NULL), 0);
    view before = request(mgr, &c, look);
    test_client old = c;
    conformance_advance(st, 31);
    view v = request(mgr, &c, look); /* due: a new key, same session */
    assert_true(c.got_set_cookie);
    assert_string_not_equal(c.cookie, old.cookie);
    assert_string_equal(v.id, before.id);
    assert_int_equal(v.created, before.created);
    /* within grace the old cookie sees the latest state, and its change
     * reaches the session under its new key */
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    conformance_advance(st, 3);
    test_client late = old;
    view o = request(mgr, &late, look);
    assert_int_equal(o.counter, 1);
    assert_string_equal(o.id, before.id);
    assert_true(late.got_set_cookie); /* it is given the new key */
    late = old;
    assert_int_equal(client_request(mgr, &late, NULL, bump, NULL), 0);
    assert_int_equal(request(mgr, &c, look).counter, 2);
    /* after grace the old key is a stolen cookie: both keys revoked */
    csession__manager_stats stats;
    conformance_advance(st, 10);
    late = old;
    static log_capture logged;
    log_capture_start(&logged);
    assert_int_equal(request(mgr, &late, look).counter, -1);
    log_capture_stop(&logged);
    csession__manager_get_stats(mgr, &stats);
    assert_int_equal(stats.thefts, 1);
    /* logged by its public id, never by a key */
    assert_int_equal(log_capture_find(&logged, CSESSION_LOG_WARN, before.id), 1);
    char key[16];
    snprintf(key, sizeof key, "%.12s", strchr(old.cookie, '=') + 1);
    assert_int_equal(log_capture_find(&logged, 0, key), 0);
    assert_int_equal(request(mgr, &c, look).counter, -1);
    csession_manager_free(mgr);
}

static void test_cookie_store_does_not_rotate(void **state)
{
    (void)state;
    if (server_side())
        skip();
    lifetimes l = {.rotate_every = 30, .rotate_grace = 10};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, bump, NULL), 0);
    conformance_advance(st, 45);
    assert_int_equal(request(mgr, &c, look).counter, 1);
    assert_false(c.got_set_cookie);
    csession_manager_free(mgr);
}

/* ---- public id ------------------------------------------------------------------- */

static void test_public_id_stable_and_distinct(void **state)
{
    (void)state;
    lifetimes l = {.rotate_every = 30, .rotate_grace = 10};
    csession_store *st;
    csession_manager *mgr = manager(&l, &st);
    test_client a = {0}, b = {0};
    view first;
    assert_int_equal(client_request(mgr, &a, NULL, bump, &first), 0);
    assert_int_equal(strlen(first.id), CSESSION_PUBLIC_ID_LEN);
    assert_null(strstr(a.cookie, first.id));
    view seen = request(mgr, &a, look);
    assert_string_equal(seen.id, first.id);
    assert_int_equal(client_request(mgr, &a, NULL, login, NULL), 0); /* renewal */
    view renewed = request(mgr, &a, look);
    assert_string_equal(renewed.id, first.id);
    assert_int_equal(renewed.created, seen.created);
    conformance_advance(st, 31);
    assert_int_equal(client_request(mgr, &a, NULL, bump, NULL), 0); /* rotation, where it applies */
    assert_string_equal(request(mgr, &a, look).id, first.id);
    view other;
    assert_int_equal(client_request(mgr, &b, NULL, bump, &other), 0);
    assert_int_equal(strlen(other.id), CSESSION_PUBLIC_ID_LEN);
    assert_string_not_equal(other.id, first.id);
    csession_manager_free(mgr);
}

const struct CMUnitTest conformance_lifetime_tests[] = {
    cmocka_unit_test(test_absolute_timeout_while_active),
    cmocka_unit_test(test_idle_and_absolute_together),
    cmocka_unit_test(test_remember_me_on_browser_session_server),
    cmocka_unit_test(test_remember_me_capped_by_absolute_timeout),
    cmocka_unit_test(test_touch_at_most_once_per_interval),
    cmocka_unit_test(test_rotation_grace_and_theft),
    cmocka_unit_test(test_cookie_store_does_not_rotate),
    cmocka_unit_test(test_public_id_stable_and_distinct),
};
const size_t conformance_lifetime_count =
    sizeof conformance_lifetime_tests / sizeof conformance_lifetime_tests[0];
