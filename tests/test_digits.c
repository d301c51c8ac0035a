/* Integers in decimal (src/digits.c), against printf's digits. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "digits.h"

static void expect_i64(int64_t v)
{
    char buf[CSESSION__DECIMAL_MAX], want[32];
    const char *d = csession__decimal_i64(buf, v);
    int n = snprintf(want, sizeof want, "%" PRId64, v);
    if ((size_t)n != (size_t)(buf + sizeof buf - d) || memcmp(d, want, (size_t)n) != 0)
        fail_msg("%s written as %.*s", want, (int)(buf + sizeof buf - d), d);
}

static void expect_u64(uint64_t v)
{
    char buf[CSESSION__DECIMAL_MAX], want[32];
    const char *d = csession__decimal_u64(buf, v);
    int n = snprintf(want, sizeof want, "%" PRIu64, v);
    if ((size_t)n != (size_t)(buf + sizeof buf - d) || memcmp(d, want, (size_t)n) != 0)
        fail_msg("%s written as %.*s", want, (int)(buf + sizeof buf - d), d);
}

/* Every length, each side of every power of ten, the extremes. */
static void test_decimal(void **state)
{
    (void)state;
    expect_i64(INT64_MIN);
    expect_i64(INT64_MAX);
    expect_u64(UINT64_MAX);
    uint64_t p = 1;
    for (int i = 0; i < 20; i++, p *= 10) {
        for (uint64_t d = 0; d < 3; d++) {
            expect_u64(p - d);
            expect_u64(p + d);
            expect_i64((int64_t)(p / 2) - (int64_t)d);
            expect_i64(-(int64_t)(p / 2) + (int64_t)d);
        }
    }
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        expect_u64(x >> (x & 63));
        expect_i64((int64_t)x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_decimal)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
