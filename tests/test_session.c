/* The session object: status transitions, typed values, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "oom.h"

static csession *fresh(void)
{
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    assert_non_null(s);
    return s;
}

/* Brings a new session into `status` by the public operations only. */
static csession *with_status(int status)
{
    csession *s = fresh();
    switch (status) {
    case CSESSION_STATUS_CHANGED: assert_int_equal(csession_insert_int64(s, "a", 1), 0); break;
    case CSESSION_STATUS_RENEWED: assert_int_equal(csession_renew(s), 0); break;
    case CSESSION_STATUS_PURGED: assert_int_equal(csession_purge(s), 0); break;
    default: break;
    }
    assert_int_equal(csession_status(s), status);
    return s;
}

enum op { OP_INSERT, OP_REMOVE, OP_CLEAR, OP_PURGE, OP_RENEW };

static int apply(csession *s, enum op op)
{
    switch (op) {
    case OP_INSERT: return csession_insert_string(s, "k", "v");
    case OP_REMOVE: return csession_remove(s, "a");
    case OP_CLEAR: return csession_clear(s);
    case OP_PURGE: return csession_purge(s);
    case OP_RENEW: return csession_renew(s);
    }
    return -1;
}

/* The transition table of actix-session's Session, row by row. */
static void test_status_transitions(void **state)
{
    (void)state;
    static const struct {
        int from;
        enum op op;
        int to;
        int rc;
    } table[] = {
        { CSESSION_STATUS_UNCHANGED, OP_INSERT, CSESSION_STATUS_CHANGED, 0 },
        { CSESSION_STATUS_UNCHANGED, OP_REMOVE, CSESSION_STATUS_CHANGED, CSESSION_ENOTFOUND },
        { CSESSION_STATUS_UNCHANGED, OP_CLEAR, CSESSION_STATUS_CHANGED, 0 },
        { CSESSION_STATUS_UNCHANGED, OP_PURGE, CSESSION_STATUS_PURGED, 0 },
        { CSESSION_STATUS_UNCHANGED, OP_RENEW, CSESSION_STATUS_RENEWED, 0 },
        { CSESSION_STATUS_CHANGED, OP_INSERT, CSESSION_STATUS_CHANGED, 0 },
        { CSESSION_STATUS_CHANGED, OP_REMOVE, CSESSION_STATUS_CHANGED, 0 },
        { CSESSION_STATUS_CHANGED, OP_CLEAR, CSESSION_STATUS_CHANGED, 0 },
        { CSESSION_STATUS_CHANGED, OP_PURGE, CSESSION_STATUS_PURGED, 0 },
        { CSESSION_STATUS_CHANGED, OP_RENEW, CSESSION_STATUS_RENEWED, 0 },
        { CSESSION_STATUS_RENEWED, OP_INSERT, CSESSION_STATUS_RENEWED, 0 },
        { CSESSION_STATUS_RENEWED, OP_REMOVE, CSESSION_STATUS_RENEWED, CSESSION_ENOTFOUND },
        { CSESSION_STATUS_RENEWED, OP_CLEAR, CSESSION_STATUS_RENEWED, 0 },
        { CSESSION_STATUS_RENEWED, OP_PURGE, CSESSION_STATUS_PURGED, 0 },
        { CSESSION_STATUS_RENEWED, OP_RENEW, CSESSION_STATUS_RENEWED, 0 },
        { CSESSION_STATUS_PURGED, OP_INSERT, CSESSION_STATUS_PURGED, CSESSION_EPURGED },
        { CSESSION_STATUS_PURGED, OP_REMOVE, CSESSION_STATUS_PURGED, CSESSION_EPURGED },
        { CSESSION_STATUS_PURGED, OP_CLEAR, CSESSION_STATUS_PURGED, CSESSION_EPURGED },
        { CSESSION_STATUS_PURGED, OP_PURGE, CSESSION_STATUS_PURGED, 0 },
        { CSESSION_STATUS_PURGED, OP_RENEW, CSESSION_STATUS_PURGED, CSESSION_EPURGED },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        csession *s = with_status(table[i].from);
        int rc = apply(s, table[i].op);
        if (rc != table[i].rc || csession_status(s) != table[i].to)
            fail_msg("row %zu: from %s got rc %d status %s, want rc %d status %s", i,
                     csession_status_name(table[i].from), rc, csession_status_name(csession_status(s)),
                     table[i].rc, csession_status_name(table[i].to));
        csession_free(s);
    }
}

static void test_purge_clears_and_blocks_changes(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_insert_int64(s, "counter", 3), 0);
    assert_int_equal(csession_purge(s), 0);
    assert_int_equal(csession_count(s), 0);
    assert_int_equal(csession_insert_int64(s, "counter", 4), CSESSION_EPURGED);
    assert_int_equal(csession_count(s), 0);
    assert_int_equal(csession_last_error_code(), CSESSION_EPURGED);
    csession_free(s);
}

static void test_renew_keeps_state(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_insert_string(s, "user", "alice"), 0);
    assert_int_equal(csession_renew(s), 0);
    const char *v;
    assert_int_equal(csession_get_string(s, "user", &v, NULL), 0);
    assert_string_equal(v, "alice");
    csession_free(s);
}

static void test_failed_insert_changes_nothing(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_insert_json(s, "k", "{bad", 4), CSESSION_EFORMAT);
    assert_int_equal(csession_insert_string_n(s, "k", "\xff", 1), CSESSION_EINVAL);
    assert_int_equal(csession_insert_int64(s, "k", INT64_MAX), CSESSION_ERANGE);
    assert_int_equal(csession_status(s), CSESSION_STATUS_UNCHANGED);
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
}

static void test_int64(void **state)
{
    (void)state;
    csession *s = fresh();
    int64_t v = 0;
    const int64_t max = 9007199254740991LL;
    assert_int_equal(csession_insert_int64(s, "n", max), 0);
    assert_int_equal(csession_get_int64(s, "n", &v), 0);
    assert_true(v == max);
    assert_int_equal(csession_insert_int64(s, "n", -max), 0);
    assert_int_equal(csession_get_int64(s, "n", &v), 0);
    assert_true(v == -max);
    assert_int_equal(csession_insert_int64(s, "n", max + 1), CSESSION_ERANGE);
    assert_int_equal(csession_insert_int64(s, "n", -max - 1), CSESSION_ERANGE);
    /* a double that is not integral is out of range for int64, not converted */
    assert_int_equal(csession_insert_double(s, "d", 1.5), 0);
    v = 42;
    assert_int_equal(csession_get_int64(s, "d", &v), CSESSION_ERANGE);
    assert_int_equal(v, 42);
    /* integral JSON numbers written as 3.0 or 3e0 read as integers */
    assert_int_equal(csession_insert_json(s, "e", "3e0", 3), 0);
    assert_int_equal(csession_get_int64(s, "e", &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(csession_insert_json(s, "big", "1e300", 5), 0);
    assert_int_equal(csession_get_int64(s, "big", &v), CSESSION_ERANGE);
    csession_free(s);
}

static void test_double(void **state)
{
    (void)state;
    csession *s = fresh();
    double d = 0;
    assert_int_equal(csession_insert_double(s, "pi", 3.141592653589793), 0);
    assert_int_equal(csession_get_double(s, "pi", &d), 0);
    assert_true(d == 3.141592653589793);
    assert_int_equal(csession_insert_int64(s, "n", 7), 0);
    assert_int_equal(csession_get_double(s, "n", &d), 0); /* every number reads as double */
    assert_true(d == 7.0);
    assert_int_equal(csession_insert_double(s, "x", 1.0 / 0.0), CSESSION_ERANGE);
    assert_int_equal(csession_insert_double(s, "x", 0.0 / 0.0), CSESSION_ERANGE);
    assert_false(csession_contains(s, "x"));
    csession_free(s);
}

static void test_bool_null(void **state)
{
    (void)state;
    csession *s = fresh();
    int b = -1;
    assert_int_equal(csession_insert_bool(s, "t", 5), 0);
    assert_int_equal(csession_insert_bool(s, "f", 0), 0);
    assert_int_equal(csession_get_bool(s, "t", &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(csession_get_bool(s, "f", &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(csession_insert_null(s, "z"), 0);
    assert_int_equal(csession_get_null(s, "z"), 0);
    assert_int_equal(csession_get_null(s, "t"), CSESSION_ETYPE);
    assert_int_equal(csession_get_null(s, "absent"), CSESSION_ENOTFOUND);
    csession_free(s);
}

static void test_strings(void **state)
{
    (void)state;
    csession *s = fresh();
    const char *v = NULL;
    size_t len = 0;
    assert_int_equal(csession_insert_string(s, "greet", "h\xc3\xa9llo \"w\"\n"), 0);
    assert_int_equal(csession_get_string(s, "greet", &v, &len), 0);
    assert_string_equal(v, "h\xc3\xa9llo \"w\"\n");
    assert_int_equal(len, 11);
    assert_int_equal(csession_insert_string_n(s, "part", "abcdef", 3), 0);
    assert_int_equal(csession_get_string(s, "part", &v, &len), 0);
    assert_string_equal(v, "abc");
    assert_int_equal(csession_insert_string_n(s, "nul", "a\0b", 3), CSESSION_EINVAL);
    assert_int_equal(csession_insert_string(s, "overlong", "\xc0\xaf"), CSESSION_EINVAL);
    assert_int_equal(csession_insert_string(s, "surrogate", "\xed\xa0\x80"), CSESSION_EINVAL);
    assert_int_equal(csession_insert_string(s, "empty", ""), 0);
    assert_int_equal(csession_get_string(s, "empty", &v, &len), 0);
    assert_int_equal(len, 0);
    csession_free(s);
}

static void test_type_mismatch_never_converts(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_insert_string(s, "str", "1"), 0);
    assert_int_equal(csession_insert_int64(s, "num", 1), 0);
    assert_int_equal(csession_insert_bool(s, "bool", 1), 0);
    int64_t i = 99;
    double d = 99;
    int b = 99;
    const char *str = "untouched";
    assert_int_equal(csession_get_int64(s, "str", &i), CSESSION_ETYPE);
    assert_int_equal(csession_get_double(s, "bool", &d), CSESSION_ETYPE);
    assert_int_equal(csession_get_bool(s, "num", &b), CSESSION_ETYPE);
    assert_int_equal(csession_get_string(s, "num", &str, NULL), CSESSION_ETYPE);
    assert_int_equal(i, 99);
    assert_true(d == 99);
    assert_int_equal(b, 99);
    assert_string_equal(str, "untouched");
    assert_non_null(strstr(csession_last_error(), "num"));
    csession_free(s);
}

static void test_missing_keys(void **state)
{
    (void)state;
    csession *s = fresh();
    int64_t i = 5;
    double d = 5;
    int b = 5;
    const char *str = NULL;
    csession_buf buf = CSESSION_BUF_INIT;
    int type;
    assert_int_equal(csession_get_int64(s, "x", &i), CSESSION_ENOTFOUND);
    assert_int_equal(csession_get_double(s, "x", &d), CSESSION_ENOTFOUND);
    assert_int_equal(csession_get_bool(s, "x", &b), CSESSION_ENOTFOUND);
    assert_int_equal(csession_get_string(s, "x", &str, NULL), CSESSION_ENOTFOUND);
    assert_int_equal(csession_get_json(s, "x", &buf), CSESSION_ENOTFOUND);
    assert_int_equal(csession_type(s, "x", &type), CSESSION_ENOTFOUND);
    assert_int_equal(i, 5);
    assert_false(csession_contains(s, "x"));
    assert_int_equal(csession_status(s), CSESSION_STATUS_UNCHANGED);
    csession_buf_dispose(&buf);
    csession_free(s);
}

static void test_json_values(void **state)
{
    (void)state;
    csession *s = fresh();
    csession_buf buf = CSESSION_BUF_INIT;
    const char *roles = " [\"admin\", {\"x\": [1, 2.5, null, true]}] ";
    assert_int_equal(csession_insert_json(s, "roles", roles, strlen(roles)), 0);
    assert_int_equal(csession_get_json(s, "roles", &buf), 0);
    assert_string_equal(buf.ptr, "[\"admin\",{\"x\":[1,2.5,null,true]}]");
    int type = -1;
    assert_int_equal(csession_type(s, "roles", &type), 0);
    assert_int_equal(type, CSESSION_TYPE_ARRAY);
    /* refusals: not one value, trailing data, NUL escapes, bad surrogates */
    static const char *bad[] = { "", " ", "[1,]", "{\"a\"}", "1 2", "tru", "\"\\u0000\"",
                                 "\"\\ud800\"", "\"\\udc00x\"", "01", "1.", "+1", "'a'",
                                 "[1]x", "\"a\tb\"", "nul" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = csession_insert_json(s, "bad", bad[i], strlen(bad[i]));
        if (rc != CSESSION_EFORMAT)
            fail_msg("\"%s\" gave %d", bad[i], rc);
    }
    assert_false(csession_contains(s, "bad"));
    /* a number too large for a double would silently become null */
    assert_int_equal(csession_insert_json(s, "inf", "1e400", 5), CSESSION_ERANGE);
    csession_buf_dispose(&buf);
    csession_free(s);
}

static void test_depth_limit(void **state)
{
    (void)state;
    csession *s = fresh();
    char text[2 * 40 + 1];
    int max = csession_max_depth();
    assert_int_equal(max, 32);
    for (int depth = max; depth <= max + 1; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        int rc = csession_insert_json(s, "deep", text, (size_t)(2 * depth));
        assert_int_equal(rc, depth <= max ? 0 : CSESSION_ETOOBIG);
    }
    csession_free(s);
}

static void test_keys(void **state)
{
    (void)state;
    csession *s = fresh();
    char key[300];
    memset(key, 'k', sizeof key);
    key[csession_max_key_bytes()] = '\0';
    assert_int_equal(csession_insert_int64(s, key, 1), 0);
    key[csession_max_key_bytes()] = 'k';
    key[csession_max_key_bytes() + 1] = '\0';
    assert_int_equal(csession_insert_int64(s, key, 1), CSESSION_ETOOBIG);
    assert_int_equal(csession_insert_int64(s, "\xff", 1), CSESSION_EINVAL);
    assert_int_equal(csession_insert_int64(s, NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession_insert_int64(s, "", 1), 0); /* the empty key is a key */
    assert_int_equal(csession_count(s), 2);
    csession_free(s);
}

static void test_iteration_and_replace(void **state)
{
    (void)state;
    csession *s = fresh();
    const char *names[] = { "a", "b", "c", "d" };
    for (int i = 0; i < 4; i++)
        assert_int_equal(csession_insert_int64(s, names[i], i), 0);
    assert_int_equal(csession_insert_string(s, "b", "replaced"), 0); /* keeps its place */
    assert_int_equal(csession_count(s), 4);
    const char *k;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(csession_key_at(s, i, &k), 0);
        assert_string_equal(k, names[i]);
    }
    assert_int_equal(csession_key_at(s, 4, &k), CSESSION_ENOTFOUND);
    assert_int_equal(csession_key_at(s, 1, &k), 0); /* backwards after a walk */
    assert_string_equal(k, "b");
    assert_int_equal(csession_remove(s, "a"), 0);
    assert_int_equal(csession_key_at(s, 0, &k), 0);
    assert_string_equal(k, "b");
    assert_int_equal(csession_clear(s), 0);
    assert_int_equal(csession_count(s), 0);
    assert_int_equal(csession_key_at(s, 0, &k), CSESSION_ENOTFOUND);
    csession_free(s);
}

static void test_null_arguments(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(csession_new(NULL), CSESSION_EINVAL);
    assert_int_equal(csession_get_int64(NULL, "a", &v), CSESSION_EINVAL);
    assert_int_equal(csession_insert_string(NULL, "a", "b"), CSESSION_EINVAL);
    assert_int_equal(csession_purge(NULL), CSESSION_EINVAL);
    assert_int_equal(csession_count(NULL), 0);
    assert_false(csession_contains(NULL, "a"));
    csession_free(NULL);
}

static int build_session(void *ctx)
{
    (void)ctx;
    csession *s = NULL;
    csession_buf buf = CSESSION_BUF_INIT;
    int rc = csession_new(&s);
    if (!rc)
        rc = csession_insert_string(s, "user", "alice");
    if (!rc)
        rc = csession_insert_int64(s, "counter", 1);
    if (!rc)
        rc = csession_insert_json(s, "roles", "[\"a\",{\"b\":1}]", 13);
    if (!rc)
        rc = csession_insert_string(s, "user", "bob"); /* replace path */
    if (!rc)
        rc = csession_get_json(s, "roles", &buf);
    if (!rc && csession_count(s) != 3)
        rc = CSESSION_ERROR;
    csession_buf_dispose(&buf);
    csession_free(s);
    return rc;
}

static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    oom_install();
    size_t points = oom_run_each_failure(build_session, NULL);
    oom_uninstall();
    assert_true(points >= 8); /* every allocation on the path was failed once */
}

/* A failed insert under memory pressure leaves the old value and status. */
static void test_out_of_memory_keeps_session(void **state)
{
    (void)state;
    csession *s = fresh();
    assert_int_equal(csession_insert_string(s, "user", "alice"), 0);
    csession_renew(s);
    oom_install();
    oom_fail_at(1, 1);
    assert_int_equal(csession_insert_string(s, "user", "mallory"), CSESSION_ENOMEM);
    assert_int_equal(csession_insert_json(s, "x", "[1]", 3), CSESSION_ENOMEM);
    oom_fail_at(0, 0);
    oom_uninstall();
    const char *v;
    assert_int_equal(csession_get_string(s, "user", &v, NULL), 0);
    assert_string_equal(v, "alice");
    assert_int_equal(csession_count(s), 1);
    assert_int_equal(csession_status(s), CSESSION_STATUS_RENEWED);
    csession_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_transitions),
        cmocka_unit_test(test_purge_clears_and_blocks_changes),
        cmocka_unit_test(test_renew_keeps_state),
        cmocka_unit_test(test_failed_insert_changes_nothing),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_bool_null),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_type_mismatch_never_converts),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_iteration_and_replace),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_out_of_memory_everywhere),
        cmocka_unit_test(test_out_of_memory_keeps_session),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
