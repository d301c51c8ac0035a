/* Where the Redis store keeps a revision inside a value (revision.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "stores/redis/revision.h"

static void expect_unwrap(const char *value, const char *state, uint64_t rev)
{
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession_buf_set(&b, value, strlen(value)), 0);
    uint64_t got = 12345;
    csession__redis_rev_unwrap(&b, &got);
    assert_int_equal(got, rev);
    assert_int_equal(b.size, strlen(state));
    assert_string_equal(b.ptr, state);
    csession_buf_dispose(&b);
}

static void test_wrap_and_unwrap(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    const char s[] = "{\"v\":1,\"state\":{\"a\":1}}";
    assert_int_equal(csession__redis_rev_wrap(s, strlen(s), 7, &b), 0);
    assert_string_equal(b.ptr, "{\"v\":1,\"rev\":7,\"state\":{\"a\":1}}");
    uint64_t rev = 0;
    csession__redis_rev_unwrap(&b, &rev);
    assert_int_equal(rev, 7);
    assert_string_equal(b.ptr, s);
    /* not an envelope: kept as it is */
    assert_int_equal(csession__redis_rev_wrap("raw", 3, 7, &b), 0);
    assert_string_equal(b.ptr, "raw");
    assert_int_equal(csession__redis_rev_wrap("{\"v\":1,", 7, 7, &b), 0);
    assert_string_equal(b.ptr, "{\"v\":1,");
    csession_buf_dispose(&b);

    expect_unwrap("{\"v\":1,\"rev\":12,\"w\":\"0123456789abcdef\",\"state\":{}}",
                  "{\"v\":1,\"state\":{}}", 12);
    expect_unwrap("{\"v\":1,\"rev\":18446744073709551,\"state\":{}}", "{\"v\":1,\"state\":{}}",
                  UINT64_C(18446744073709551));
    /* what is not our head is left alone, at revision 0 */
    expect_unwrap("{\"v\":1,\"state\":{}}", "{\"v\":1,\"state\":{}}", 0);
    expect_unwrap("{\"v\":1,\"rev\":,\"state\":{}}", "{\"v\":1,\"rev\":,\"state\":{}}", 0);
    expect_unwrap("{\"v\":1,\"rev\":\"3\",\"state\":{}}", "{\"v\":1,\"rev\":\"3\",\"state\":{}}",
                  0);
    expect_unwrap("{\"v\":1,\"rev\":12345678901234567890,\"state\":{}}",
                  "{\"v\":1,\"rev\":12345678901234567890,\"state\":{}}", 0);
    expect_unwrap("{\"v\":1,\"rev\":5", "{\"v\":1,\"rev\":5", 0);
    expect_unwrap("{\"rev\":5,\"v\":1,\"state\":{}}", "{\"rev\":5,\"v\":1,\"state\":{}}", 0);
    expect_unwrap("", "", 0);
    /* a malformed tag stays in the state (the decoder then refuses it) */
    expect_unwrap("{\"v\":1,\"rev\":3,\"w\":\"x-y\",\"state\":{}}",
                  "{\"v\":1,\"w\":\"x-y\",\"state\":{}}", 3);
}

static void test_tags_differ(void **state)
{
    (void)state;
    char a[CSESSION__REDIS_TAG_LEN], b[CSESSION__REDIS_TAG_LEN];
    csession__redis_write_tag(a);
    for (int i = 0; i < 1000; i++) {
        csession__redis_write_tag(b);
        assert_memory_not_equal(a, b, sizeof a);
        for (size_t j = 0; j < sizeof b; j++)
            assert_non_null(strchr("0123456789abcdef", b[j]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_and_unwrap),
        cmocka_unit_test(test_tags_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
