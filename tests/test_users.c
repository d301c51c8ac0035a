/* Binding a session to a user: the checks of csession_bind(), the label,
 * the binding in the state envelope (both decoders), and the JSON of a
 * listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "oom.h"
#include "session.h"
#include "state_format.h"

static csession *fresh(void)
{
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    return s;
}

static void test_user_ids(void **state)
{
    (void)state;
    csession *s = fresh();
    char longest[CSESSION_USER_ID_MAX + 2];
    memset(longest, 'u', sizeof longest);
    static const char *const bad[] = {"", "a b", "a\"b", "a\\b", "{tag}", "x}", "caf\xc3\xa9",
                                      "tab\t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(csession_bind(s, bad[i], strlen(bad[i]), NULL, 0), CSESSION_EINVAL);
    assert_int_equal(csession_bind(s, longest, CSESSION_USER_ID_MAX + 1, NULL, 0),
                     CSESSION_EINVAL);
    assert_int_equal(csession_bind(NULL, "a", 1, NULL, 0), CSESSION_EINVAL);
    assert_int_equal(csession_status(s), CSESSION_STATUS_UNCHANGED);
    const char *u;
    assert_int_equal(csession_user(s, &u, NULL), CSESSION_ENOTFOUND);

    assert_int_equal(csession_bind(s, longest, CSESSION_USER_ID_MAX, NULL, 0), 0);
    assert_int_equal(csession_bind(s, "user@example.com", 16, NULL, 0), 0);
    size_t len = 0;
    assert_int_equal(csession_user(s, &u, &len), 0);
    assert_string_equal(u, "user@example.com");
    assert_int_equal(len, 16);
    assert_int_equal(csession_status(s), CSESSION_STATUS_RENEWED);
    csession_free(s);
}

static void test_label_kept_printable(void **state)
{
    (void)state;
    csession *s = fresh();
    const char agent[] = "Mozilla \"5.0\" \\ caf\xc3\xa9\x01";
    assert_int_equal(csession_bind(s, "alice", 5, agent, sizeof agent - 1), 0);
    const char *label;
    assert_int_equal(csession_user_label(s, &label, NULL), 0);
    assert_string_equal(label, "Mozilla ?5.0? ? caf???");
    char lengthy[200];
    memset(lengthy, 'x', sizeof lengthy);
    assert_int_equal(csession_bind(s, "alice", 5, lengthy, sizeof lengthy), 0);
    size_t n = 0;
    assert_int_equal(csession_user_label(s, &label, &n), 0);
    assert_int_equal(n, CSESSION_USER_LABEL_MAX);
    assert_int_equal(strlen(label), CSESSION_USER_LABEL_MAX);
    csession_free(s);
}

static void test_unbind_and_purge(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_unbind(s), 0);
    assert_int_equal(csession_status(s), CSESSION_STATUS_UNCHANGED); /* nothing to undo */
    assert_int_equal(csession_bind(s, "alice", 5, "x", 1), 0);
    assert_int_equal(csession_unbind(s), 0);
    const char *u;
    assert_int_equal(csession_user(s, &u, NULL), CSESSION_ENOTFOUND);
    assert_int_equal(csession_status(s), CSESSION_STATUS_RENEWED);
    assert_int_equal(csession_purge(s), 0);
    assert_int_equal(csession_bind(s, "alice", 5, NULL, 0), CSESSION_EPURGED);
    csession_free(s);
}

/* The binding goes into the envelope and comes back out of both decoders. */
static void test_envelope(void **state)
{
    (void)state;
    cJSON *map = cJSON_CreateObject();
    assert_non_null(map);
    csession__state_meta meta, fast, slow;
    csession__state_meta_init(&meta);
    strcpy(meta.id, "abcdefghijklmnopqrstuv");
    meta.created = 100;
    strcpy(meta.user, "alice");
    meta.user_len = 5;
    strcpy(meta.label, "Phone (home)");
    meta.label_len = 12;
    csession_buf text = CSESSION_BUF_INIT;
    assert_int_equal(csession__state_encode(map, &meta, CSESSION__NO_EXP, &text), 0);
    assert_non_null(strstr(text.ptr, "\"u\":\"alice\",\"l\":\"Phone (home)\","));
    cJSON *m1 = NULL, *m2 = NULL;
    assert_int_equal(csession__state_decode_meta(text.ptr, text.size, &m1, NULL, &fast), 0);
    assert_int_equal(csession__state_decode_generic(text.ptr, text.size, &m2, NULL, &slow), 0);
    for (const csession__state_meta *m = &fast; m; m = m == &fast ? &slow : NULL) {
        assert_string_equal(m->user, "alice");
        assert_int_equal(m->user_len, 5);
        assert_string_equal(m->label, "Phone (home)");
        assert_int_equal(m->label_len, 12);
        assert_int_equal(m->created, 100);
    }
    cJSON_Delete(m1);
    cJSON_Delete(m2);
    /* a state without a binding, and actix-session's, load unbound */
    static const char *const unbound[] = {"{\"v\":1,\"id\":\"abc\",\"state\":{}}",
                                          "{\"user_id\":\"\\\"x\\\"\"}"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(
            csession__state_decode_meta(unbound[i], strlen(unbound[i]), &m1, NULL, &fast), 0);
        assert_int_equal(fast.user_len, 0);
        cJSON_Delete(m1);
    }
    /* a binding the library could not have written is refused by both */
    static const char *const bad[] = {"{\"v\":1,\"u\":\"a{b}\",\"state\":{}}",
                                      "{\"v\":1,\"u\":\"a\\u0022b\",\"state\":{}}",
                                      "{\"v\":1,\"u\":5,\"state\":{}}",
                                      "{\"v\":1,\"u\":\"a\",\"l\":\"\\u0001\",\"state\":{}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(csession__state_decode_meta(bad[i], strlen(bad[i]), &m1, NULL, &fast),
                         CSESSION_EFORMAT);
        assert_int_equal(
            csession__state_decode_generic(bad[i], strlen(bad[i]), &m1, NULL, &fast),
            CSESSION_EFORMAT);
    }
    csession_buf_dispose(&text);
    cJSON_Delete(map);
}

/* The listing's JSON, field by field, as the demo serves it. */
static void test_listing_json(void **state)
{
    (void)state;
    unsigned char key[CSESSION_KEY_BYTES] = {1};
    csession_config *cfg;
    csession_manager *mgr;
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    csession *s;
    assert_int_equal(csession_manager_load(mgr, NULL, 0, &s), 0);
    assert_int_equal(csession_bind(s, "alice", 5, "Laptop", 6), 0);
    csession_buf set = CSESSION_BUF_INIT, json = CSESSION_BUF_INIT;
    assert_int_equal(csession_manager_commit(mgr, s, &set), 0); /* an empty map is kept */
    assert_true(set.size > 0);
    csession_user_sessions *l;
    assert_int_equal(csession_manager_user_sessions(mgr, s, "alice", 5, &l), 0);
    assert_int_equal(csession_user_sessions_count(l), 1);
    const char *id;
    int64_t created, seen;
    assert_int_equal(csession_user_sessions_get(l, 0, &id, NULL, &created, &seen, NULL), 0);
    assert_int_equal(csession_user_sessions_get(l, 1, &id, NULL, NULL, NULL, NULL),
                     CSESSION_EINVAL);
    char expected[256];
    snprintf(expected, sizeof expected,
             "[{\"id\":\"%s\",\"label\":\"Laptop\",\"created\":%lld,\"last_seen\":%lld,"
             "\"current\":true}]",
             id, (long long)created, (long long)seen);
    assert_int_equal(csession_user_sessions_json(l, &json), 0);
    assert_string_equal(json.ptr, expected);
    csession_user_sessions_free(l);
    assert_int_equal(csession_manager_user_sessions(mgr, s, "no{t}", 5, &l), CSESSION_EINVAL);
    assert_null(l);
    csession_buf_dispose(&set);
    csession_buf_dispose(&json);
    csession_free(s);
    csession_manager_free(mgr);
}

/* ---- out of memory ------------------------------------------------------- */

static csession_manager *oom_mgr;

static int list_body(void *ctx)
{
    (void)ctx;
    csession_user_sessions *l = NULL;
    csession_buf json = CSESSION_BUF_INIT;
    int rc = csession_manager_user_sessions(oom_mgr, NULL, "alice", 5, &l);
    if (!rc)
        rc = csession_user_sessions_json(l, &json);
    if (!rc && csession_user_sessions_count(l) != 3)
        rc = CSESSION_ERROR;
    csession_buf_dispose(&json);
    csession_user_sessions_free(l);
    return rc;
}

static int end_unknown_body(void *ctx)
{
    (void)ctx;
    int rc = csession_manager_end_user_session(oom_mgr, "alice", 5, "no-such-id", 10);
    return rc == CSESSION_ENOTFOUND ? 0 : rc;
}

static int bind_body(void *ctx)
{
    (void)ctx;
    csession *s = NULL;
    int rc = csession_new(&s);
    if (!rc)
        rc = csession_bind(s, "alice", 5, "label", 5);
    csession_free(s);
    return rc;
}

/* Every allocation of a listing, of ending by id and of binding may fail:
 * each failure is CSESSION_ENOMEM and leaks nothing. */
static void test_out_of_memory(void **state)
{
    (void)state;
    unsigned char key[CSESSION_KEY_BYTES] = {2};
    csession_config *cfg;
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_manager_new(&oom_mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    for (int i = 0; i < 3; i++) {
        csession *s;
        csession_buf set = CSESSION_BUF_INIT;
        assert_int_equal(csession_manager_load(oom_mgr, NULL, 0, &s), 0);
        assert_int_equal(csession_bind(s, "alice", 5, "device", 6), 0);
        assert_int_equal(csession_insert_int64(s, "n", i), 0);
        assert_int_equal(csession_manager_commit(oom_mgr, s, &set), 0);
        csession_buf_dispose(&set);
        csession_free(s);
    }
    oom_install();
    assert_true(oom_run_each_failure(list_body, NULL) > 3);
    assert_true(oom_run_each_failure(end_unknown_body, NULL) > 1);
    oom_run_each_failure(bind_body, NULL);
    oom_uninstall();
    csession_manager_free(oom_mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_ids),
        cmocka_unit_test(test_label_kept_printable),
        cmocka_unit_test(test_unbind_and_purge),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_listing_json),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
