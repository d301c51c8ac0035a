/* JSON text to tree in one pass: cJSON's tree, strict checks, exact numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "csession/errors.h"
#include "json_gen.h"
#include "json_text.h"
#include "oom.h"

static cJSON *parse_ok(const char *text)
{
    cJSON *item = NULL;
    assert_int_equal(csession__json_parse(text, strlen(text), 32, &item), 0);
    assert_non_null(item);
    return item;
}

/* The same tree as cJSON_Parse() for texts of every shape, compact and
 * indented. */
static void test_same_tree_as_cjson(void **state)
{
    (void)state;
    uint32_t seed = 7;
    for (int i = 0; i < 3000; i++) {
        cJSON *tree = json_gen_tree(&seed, 5, 1);
        assert_non_null(tree);
        for (int formatted = 0; formatted < 2; formatted++) {
            char *text = formatted ? cJSON_Print(tree) : cJSON_PrintUnformatted(tree);
            assert_non_null(text);
            cJSON *theirs = cJSON_Parse(text);
            cJSON *ours = parse_ok(text);
            assert_non_null(theirs);
            assert_true(json_gen_same(ours, theirs));
            assert_true(json_gen_same(ours, tree));
            cJSON_Delete(ours);
            cJSON_Delete(theirs);
            cJSON_free(text);
        }
        cJSON_Delete(tree);
    }
}

static void test_escapes(void **state)
{
    (void)state;
    cJSON *item = parse_ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\",\"\\u00e9\\u20AC\\ud83d\\ude00\","
                           "\"\xc3\xa9 raw\",\"\",\"\\u0041\\u007f\"]");
    const char *want[] = { "a\"b\\c/d\b\f\n\r\t", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                           "\xc3\xa9 raw", "", "A\x7f" };
    const cJSON *c = item->child;
    for (size_t i = 0; i < 5; i++, c = c->next) {
        assert_true(cJSON_IsString(c));
        assert_string_equal(c->valuestring, want[i]);
    }
    assert_null(c);
    cJSON_Delete(item);
    item = parse_ok(" { \"k\\n\" : { \"\" : [ ] } , \"z\":true } ");
    assert_string_equal(item->child->string, "k\n");
    assert_string_equal(item->child->child->string, "");
    assert_true(cJSON_IsArray(item->child->child));
    assert_string_equal(item->child->next->string, "z");
    assert_true(cJSON_IsTrue(item->child->next));
    assert_ptr_equal(item->child->prev, item->child->next); /* cJSON's tail link */
    cJSON_Delete(item);
}

static void assert_number(const char *text, double want)
{
    cJSON *item = parse_ok(text);
    assert_true(cJSON_IsNumber(item));
    assert_memory_equal(&item->valuedouble, &want, sizeof want);
    cJSON_Delete(item);
}

static void test_numbers(void **state)
{
    (void)state;
    assert_number("0", 0.0);
    assert_number("-0", -0.0);
    assert_number("123456789012345", 123456789012345.0);
    assert_number("-999999999999999", -999999999999999.0);
    assert_number("9007199254740991", 9007199254740991.0);
    assert_number("9007199254740993", 9007199254740992.0); /* rounds as strtod does */
    assert_number("0.1", 0.1);
    assert_number("-2.5e-7", -2.5e-7);
    assert_number("1E+2", 100.0);
    assert_number("1e-400", 0.0); /* underflow is a number; overflow is not */
    cJSON *item = NULL;
    assert_int_equal(csession__json_parse("[1,1e400]", 9, 32, &item), CSESSION_ERANGE);
    assert_null(item);
    assert_int_equal(csession__json_parse("-1e400", 6, 32, &item), CSESSION_ERANGE);
    assert_int_equal(csession__json_validate("1e400", 5, 32), CSESSION_ERANGE);
}

/* Refusals leave nothing behind (ASan checks the partial trees are freed). */
static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "[1,]",        "{\"a\":1,}",   "{\"a\" 1}",       "[\"\\u0000\"]",
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"a\nb\"]", "[01]",        "[1.]",
        "[-]",       "[\"x\" \"y\"]", "{\"a\":[1,2}", "[1] 2",          "tru",
        "[\"\\x\"]", "\"abc",       "{1:2}",       "[\"\xc3\"]",      "[nul]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *item = (cJSON *)1;
        int rc = csession__json_parse(bad[i], strlen(bad[i]), 32, &item);
        if (rc != CSESSION_EFORMAT)
            fail_msg("'%s': %d", bad[i], rc);
        assert_null(item);
        assert_int_equal(csession__json_validate(bad[i], strlen(bad[i]), 32), CSESSION_EFORMAT);
    }
    cJSON *item = NULL;
    assert_int_equal(csession__json_parse("[[[{\"a\":[[1]]}]]]", 17, 5, &item), CSESSION_ETOOBIG);
    assert_null(item);
    assert_int_equal(csession__json_parse("[[[{\"a\":[[1]]}]]]", 17, 6, &item), 0);
    cJSON_Delete(item);
}

static const char *oom_text =
    "{\"user\":\"u-1\",\"n\":[1,2.5,{\"deep\":[\"\\u00e9\",true,null]}],\"e\":{}}";

static int parse_once(void *ctx)
{
    (void)ctx;
    cJSON *item = NULL;
    int rc = csession__json_parse(oom_text, strlen(oom_text), 32, &item);
    assert_true((rc == 0) == (item != NULL));
    cJSON_Delete(item);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oom_install();
    assert_true(oom_run_each_failure(parse_once, NULL) >= 15);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_tree_as_cjson),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
