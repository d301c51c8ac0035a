/* Compact JSON text of a tree: cJSON's text, with exact numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <sodium.h>

#include "buf.h"
#include "csession/errors.h"
#include "json_gen.h"
#include "json_text.h"
#include "oom.h"

static char *print(const cJSON *item)
{
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__json_print_append(item, &b), 0);
    assert_non_null(b.ptr);
    assert_int_equal(strlen(b.ptr), b.size);
    return b.ptr; /* the caller frees it */
}

static void assert_same_as_cjson(const cJSON *item)
{
    char *ours = print(item);
    char *theirs = cJSON_PrintUnformatted(item);
    assert_non_null(theirs);
    assert_string_equal(ours, theirs);
    cJSON_free(theirs);
    free(ours);
}

/* Trees whose numbers cJSON prints exactly: the text is byte for byte
 * cJSON's. */
static void test_same_text_as_cjson(void **state)
{
    (void)state;
    uint32_t seed = 42;
    for (int i = 0; i < 3000; i++) {
        cJSON *tree = json_gen_tree(&seed, 4, 0);
        assert_non_null(tree);
        assert_same_as_cjson(tree);
        cJSON_Delete(tree);
    }
    /* escapes, UTF-8, empty containers and names */
    cJSON *o = cJSON_Parse("{\"\":[],\"a\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\":{},"
                           "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\":[[[]],{\"x\":null}]}");
    assert_non_null(o);
    assert_same_as_cjson(o);
    char *text = print(o);
    assert_string_equal(text, "{\"\":[],\"a\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\":{},"
                              "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\":[[[]],{\"x\":null}]}");
    free(text);
    cJSON_Delete(o);
}

static void assert_prints(double d, const char *want)
{
    cJSON *n = cJSON_CreateNumber(d);
    char *text = print(n);
    assert_string_equal(text, want);
    free(text);
    cJSON_Delete(n);
}

/* The fewest digits that read back exactly. cJSON 1.7 prints the first two
 * and the fifth differently, and reads them back as other numbers. */
static void test_numbers_exact_and_short(void **state)
{
    (void)state;
    assert_prints(9007199254740991.0, "9007199254740991");
    assert_prints(5000000000000001.0, "5000000000000001");
    assert_prints(-9007199254740991.0, "-9007199254740991");
    assert_prints(9007199254740992.0, "9007199254740992");
    assert_prints(1.0000000000000002, "1.0000000000000002");
    assert_prints(0.1, "0.1");
    assert_prints(0.1 + 0.2, "0.30000000000000004");
    assert_prints(123.456, "123.456");
    assert_prints(8, "8");
    assert_prints(0, "0");
    assert_prints(-0.0, "-0");
    assert_prints(1e300, "1e+300");
    assert_prints(1e21, "1e+21");
    assert_prints(-2.5e-7, "-2.5e-07");
    assert_prints(INFINITY, "null"); /* as cJSON; never stored by csession */
}

/* Any finite double, drawn as random bits, reads back as itself. */
static void test_numbers_round_trip(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    cJSON *n = cJSON_CreateNumber(0);
    for (int i = 0; i < 200000; i++) {
        uint64_t bits;
        double d;
        randombytes_buf(&bits, sizeof bits);
        if (i % 4 == 0) /* integers of every size too */
            d = (double)(int64_t)(bits >> (i % 64));
        else
            memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        cJSON_SetNumberValue(n, d);
        b.size = 0;
        assert_int_equal(csession__json_print_append(n, &b), 0);
        assert_int_equal(csession__json_validate(b.ptr, b.size, 1), 0);
        char *end = NULL;
        double back = strtod(b.ptr, &end);
        assert_ptr_equal(end, b.ptr + b.size);
        assert_memory_equal(&back, &d, sizeof d);
    }
    cJSON_Delete(n);
    csession_buf_dispose(&b);
}

static void test_appends(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__buf_set(&b, "x=", 2), 0);
    cJSON *a = cJSON_Parse("[1,\"two\",true]");
    assert_int_equal(csession__json_print_append(a, &b), 0);
    assert_string_equal(b.ptr, "x=[1,\"two\",true]");
    assert_int_equal(b.size, 16);
    cJSON_Delete(a);
    csession_buf_dispose(&b);
}

static void test_invalid_node_leaves_buffer(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__buf_set(&b, "keep", 4), 0);
    cJSON *a = cJSON_Parse("[1,{\"a\":2}]");
    a->child->next->child->type = cJSON_Invalid;
    assert_int_equal(csession__json_print_append(a, &b), CSESSION_EINVAL);
    assert_int_equal(b.size, 4);
    assert_string_equal(b.ptr, "keep");
    cJSON_Delete(a);
    csession_buf_dispose(&b);
}

static cJSON *oom_tree;

static int print_into_fresh_buffer(void *ctx)
{
    (void)ctx;
    csession_buf b = CSESSION_BUF_INIT;
    int rc = csession__buf_set(&b, "prefix", 6);
    if (rc == 0) {
        rc = csession__json_print_append(oom_tree, &b);
        /* unchanged on failure */
        assert_true(rc == 0 || (b.size == 6 && strcmp(b.ptr, "prefix") == 0));
    }
    csession_buf_dispose(&b);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    oom_tree = cJSON_CreateObject();
    cJSON_AddStringToObject(oom_tree, "big", big);
    cJSON_AddNumberToObject(oom_tree, "n", 0.1);
    oom_install();
    assert_true(oom_run_each_failure(print_into_fresh_buffer, NULL) >= 2);
    oom_uninstall();
    cJSON_Delete(oom_tree);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_text_as_cjson),
        cmocka_unit_test(test_numbers_exact_and_short),
        cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_invalid_node_leaves_buffer),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
