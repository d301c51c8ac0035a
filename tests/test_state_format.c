/* The stored form of a session: round trips, accepted legacy forms, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "oom.h"
#include "state_format.h"

static csession *decode_ok(const char *text)
{
    csession *s = NULL;
    int rc = csession_decode(&s, text, strlen(text));
    if (rc)
        fail_msg("decoding %s failed: %d %s", text, rc, csession_last_error());
    assert_int_equal(csession_status(s), CSESSION_STATUS_UNCHANGED);
    return s;
}

static void expect_encoding(const csession *s, const char *want)
{
    csession_buf buf = CSESSION_BUF_INIT;
    assert_int_equal(csession_encode(s, &buf), 0);
    assert_string_equal(buf.ptr, want);
    assert_int_equal(buf.size, strlen(want));
    csession_buf_dispose(&buf);
}

static void test_encode_envelope(void **state)
{
    (void)state;
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    expect_encoding(s, "{\"v\":1,\"state\":{}}");
    assert_int_equal(csession_insert_string(s, "user_id", "alice"), 0);
    assert_int_equal(csession_insert_int64(s, "counter", 7), 0);
    assert_int_equal(csession_insert_json(s, "roles", "[\"a\",\"b\"]", 9), 0);
    expect_encoding(s, "{\"v\":1,\"state\":{\"user_id\":\"alice\",\"counter\":7,\"roles\":[\"a\",\"b\"]}}");
    csession_free(s);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *text = "{\"v\":1,\"state\":{\"s\":\"h\\u00e9 \\\"q\\\" \\n\",\"i\":-12,\"d\":0.25,"
                       "\"t\":true,\"f\":false,\"z\":null,\"o\":{\"a\":[1,{\"b\":[]}]}}}";
    csession *s = decode_ok(text);
    assert_int_equal(csession_count(s), 7);
    const char *str;
    assert_int_equal(csession_get_string(s, "s", &str, NULL), 0);
    assert_string_equal(str, "h\xc3\xa9 \"q\" \n");
    int64_t i;
    assert_int_equal(csession_get_int64(s, "i", &i), 0);
    assert_int_equal(i, -12);
    csession_buf a = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    assert_int_equal(csession_encode(s, &a), 0);
    csession *again = decode_ok(a.ptr);
    assert_int_equal(csession_encode(again, &b), 0);
    assert_string_equal(a.ptr, b.ptr); /* encode . decode is the identity on our output */
    csession_buf_dispose(&a);
    csession_buf_dispose(&b);
    csession_free(again);
    csession_free(s);
}

/* actix-session's older Redis/cookie state: values are JSON-encoded strings. */
/* Numbers come back as exactly the numbers stored: the largest safe
 * integers and doubles that differ from a 15-digit text in the last bit. */
static void test_numbers_exact(void **state)
{
    (void)state;
    static const int64_t ints[] = { 9007199254740991LL, -9007199254740991LL,
                                    5000000000000001LL, 1234567890123457LL, 0 };
    static const double doubles[] = { 1.0000000000000002, 0.30000000000000004, 1e-320,
                                      1.7976931348623157e308, -0.0 };
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    char key[16];
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(key, sizeof key, "i%zu", i);
        assert_int_equal(csession_insert_int64(s, key, ints[i]), 0);
    }
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        snprintf(key, sizeof key, "d%zu", i);
        assert_int_equal(csession_insert_double(s, key, doubles[i]), 0);
    }
    csession_buf buf = CSESSION_BUF_INIT;
    assert_int_equal(csession_encode(s, &buf), 0);
    csession *back = decode_ok(buf.ptr);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v = 1;
        snprintf(key, sizeof key, "i%zu", i);
        assert_int_equal(csession_get_int64(back, key, &v), 0);
        assert_int_equal(v, ints[i]);
    }
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        double v = 1;
        snprintf(key, sizeof key, "d%zu", i);
        assert_int_equal(csession_get_double(back, key, &v), 0);
        assert_memory_equal(&v, &doubles[i], sizeof v);
    }
    assert_non_null(strstr(buf.ptr, "\"i0\":9007199254740991,"));
    csession_buf_dispose(&buf);
    csession_free(back);
    csession_free(s);
}

static void test_legacy_map(void **state)
{
    (void)state;
    csession *s = decode_ok("{\"user_id\":\"\\\"alice\\\"\",\"counter\":\"3\",\"roles\":\"[\\\"a\\\"]\"}");
    const char *str;
    int64_t n;
    assert_int_equal(csession_get_string(s, "user_id", &str, NULL), 0);
    assert_string_equal(str, "alice");
    assert_int_equal(csession_get_int64(s, "counter", &n), 0);
    assert_int_equal(n, 3);
    expect_encoding(s, "{\"v\":1,\"state\":{\"user_id\":\"alice\",\"counter\":3,\"roles\":[\"a\"]}}");
    csession_free(s);
}

static void test_bare_object(void **state)
{
    (void)state;
    /* "hello" is not JSON text, so this is a bare object, not the legacy form */
    csession *s = decode_ok("{\"greeting\":\"hello\",\"counter\":3}");
    const char *str;
    assert_int_equal(csession_get_string(s, "greeting", &str, NULL), 0);
    assert_string_equal(str, "hello");
    csession_free(s);
    s = decode_ok("{}");
    assert_int_equal(csession_count(s), 0);
    csession_free(s);
}

static void test_duplicate_keys_last_wins(void **state)
{
    (void)state;
    csession *s = decode_ok("{\"v\":1,\"state\":{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"a\":5}}");
    int64_t n;
    assert_int_equal(csession_count(s), 3);
    assert_int_equal(csession_get_int64(s, "a", &n), 0);
    assert_int_equal(n, 5);
    expect_encoding(s, "{\"v\":1,\"state\":{\"b\":2,\"c\":4,\"a\":5}}");
    csession_free(s);
    /* more members than the small-map path takes: sorted there */
    s = decode_ok("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"a\":5,\"e\":6,\"f\":7,\"g\":8,"
                  "\"b\":9,\"h\":10,\"a\":11}");
    assert_int_equal(csession_count(s), 8);
    expect_encoding(s, "{\"v\":1,\"state\":{\"c\":3,\"d\":4,\"e\":6,\"f\":7,\"g\":8,"
                       "\"b\":9,\"h\":10,\"a\":11}}");
    csession_free(s);
}

static void test_exp_member(void **state)
{
    (void)state;
    csession_buf buf = CSESSION_BUF_INIT;
    cJSON *map = cJSON_CreateObject();
    cJSON_AddNumberToObject(map, "n", 1);
    assert_int_equal(csession__state_encode(map, NULL, 1700000000, &buf), 0);
    assert_string_equal(buf.ptr, "{\"v\":1,\"exp\":1700000000,\"state\":{\"n\":1}}");
    cJSON_Delete(map);
    int64_t exp = 0;
    assert_int_equal(csession__state_decode(buf.ptr, buf.size, &map, &exp), 0);
    assert_true(exp == 1700000000);
    assert_int_equal(cJSON_GetObjectItem(map, "n")->valueint, 1);
    cJSON_Delete(map);
    assert_int_equal(csession__state_decode("{\"v\":1,\"state\":{}}", 18, &map, &exp), 0);
    assert_true(exp == CSESSION__NO_EXP);
    cJSON_Delete(map);
    assert_int_equal(csession__state_decode("{\"v\":1,\"exp\":1.5,\"state\":{}}", 28, &map, &exp),
                     CSESSION_EFORMAT);
    assert_null(map);
    csession_buf_dispose(&buf);
}

static void expect_refusal(const char *text, size_t len, int code)
{
    csession *s = (csession *)1;
    int rc = csession_decode(&s, text, len);
    if (rc != code)
        fail_msg("decoding %.80s gave %d (%s), want %d", text, rc, csession_last_error(), code);
    assert_null(s);
    assert_true(strlen(csession_last_error()) > 0);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *format[] = {
        "", "[]", "\"state\"", "42", "null", "{\"a\":", "{\"a\":1}x", "{\"a\":1,}",
        "{\"v\":2,\"state\":{}}",                 /* unknown version */
        "{\"v\":\"1\",\"state\":{}}",             /* version of the wrong type */
        "{\"v\":1,\"state\":{},\"extra\":true}",  /* unknown envelope member */
        "{\"a\":\"\\u0000\"}",                    /* NUL would be cut by cJSON */
        "{\"a\":\"\\ud83d\"}",                    /* lone surrogate */
        "{\"a\":\"\xc3\x28\"}",                   /* invalid UTF-8 */
        "{\"a\":\"\xf5\x80\x80\x80\"}",           /* above U+10FFFF */
        "\xef\xbb\xbf{}",                         /* byte order mark */
    };
    for (size_t i = 0; i < sizeof format / sizeof format[0]; i++)
        expect_refusal(format[i], strlen(format[i]), CSESSION_EFORMAT);
    expect_refusal("{\"a\":\"x\0\"}", 10, CSESSION_EFORMAT); /* raw NUL byte */
    expect_refusal("{\"a\":1e999}", 11, CSESSION_ERANGE);
    assert_int_equal(csession_decode(NULL, "{}", 2), CSESSION_EINVAL);
}

static char *nested(int depth, const char *prefix, const char *suffix)
{
    size_t plen = strlen(prefix), slen = strlen(suffix);
    char *text = malloc(plen + slen + 2 * (size_t)depth + 2);
    memcpy(text, prefix, plen);
    memset(text + plen, '[', (size_t)depth);
    text[plen + (size_t)depth] = '1';
    memset(text + plen + (size_t)depth + 1, ']', (size_t)depth);
    memcpy(text + plen + 2 * (size_t)depth + 1, suffix, slen + 1);
    return text;
}

static void test_depth_limits(void **state)
{
    (void)state;
    int max = csession_max_depth();
    const char *forms[][2] = { { "{\"v\":1,\"state\":{\"a\":", "}}" }, { "{\"a\":", "}" } };
    for (size_t f = 0; f < 2; f++) {
        char *ok = nested(max, forms[f][0], forms[f][1]);
        char *deep = nested(max + 1, forms[f][0], forms[f][1]);
        csession *s = decode_ok(ok);
        csession_free(s);
        expect_refusal(deep, strlen(deep), CSESSION_ETOOBIG);
        free(ok);
        free(deep);
    }
    /* legacy values are held to the same limit */
    char *inner = nested(max + 1, "", "");
    size_t n = strlen(inner);
    char *legacy = malloc(n + 16);
    snprintf(legacy, n + 16, "{\"a\":\"%s\"}", inner);
    csession *s = decode_ok(legacy); /* too deep for legacy: read as a bare string */
    int type;
    assert_int_equal(csession_type(s, "a", &type), 0);
    assert_int_equal(type, CSESSION_TYPE_STRING);
    csession_free(s);
    free(inner);
    free(legacy);
}

static void test_size_limits(void **state)
{
    (void)state;
    size_t max = csession_max_state_bytes();
    assert_int_equal(max, 1u << 20);
    /* {"a":"xxxx...x"} of exactly max and max + 1 bytes */
    for (size_t total = max; total <= max + 1; total++) {
        char *text = malloc(total + 1);
        memcpy(text, "{\"a\":\"", 6);
        memset(text + 6, 'x', total - 8);
        memcpy(text + total - 2, "\"}", 3);
        csession *s = NULL;
        int rc = csession_decode(&s, text, total);
        assert_int_equal(rc, total <= max ? 0 : CSESSION_ETOOBIG);
        csession_free(s);
        free(text);
    }
    /* encoding refuses to produce what decoding would refuse */
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    char *big = malloc(max);
    memset(big, 'y', max - 1);
    big[max - 1] = '\0';
    assert_int_equal(csession_insert_string(s, "big", big), 0);
    csession_buf buf = CSESSION_BUF_INIT;
    assert_int_equal(csession_encode(s, &buf), CSESSION_ETOOBIG);
    assert_int_equal(buf.size, 0);
    csession_buf_dispose(&buf);
    csession_free(s);
    free(big);
    /* keys longer than the key limit are refused from storage too */
    char key[400];
    memset(key, 'k', 257);
    key[257] = '\0';
    char text[500];
    snprintf(text, sizeof text, "{\"%s\":1}", key);
    expect_refusal(text, strlen(text), CSESSION_ETOOBIG);
}

static int decode_encode(void *ctx)
{
    const char *text = ctx;
    csession *s = NULL;
    csession_buf buf = CSESSION_BUF_INIT;
    int rc = csession_decode(&s, text, strlen(text));
    if (!rc)
        rc = csession_encode(s, &buf);
    csession_buf_dispose(&buf);
    csession_free(s);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    static const char *inputs[] = {
        "{\"v\":1,\"state\":{\"user\":\"alice\",\"n\":1,\"roles\":[\"a\",{\"b\":null}],\"n\":2}}",
        "{\"user\":\"\\\"alice\\\"\",\"n\":\"1\"}",
        "{\"user\":\"alice\",\"n\":1}",
    };
    oom_install();
    for (size_t i = 0; i < 3; i++)
        assert_true(oom_run_each_failure(decode_encode, (void *)inputs[i]) >= 5);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_envelope),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_legacy_map),
        cmocka_unit_test(test_bare_object),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_exp_member),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_depth_limits),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("state_format", tests, NULL, NULL);
}
