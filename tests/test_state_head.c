/*
 * The envelope head read without a JSON tree (src/state_head.c): it takes
 * every head the writer produces, and a decode through it gives exactly
 * what the generic decoder gives, for the heads it takes and for every
 * text it leaves to the generic decoder.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "json_text.h"
#include "oom.h"
#include "state_compare.h"
#include "state_format.h"
#include "state_head.h"

#define TEXT_MAX 4096

/* The map every generated envelope carries. */
static const char MAP[] = "{\"user\":\"alice\",\"n\":[1,2.5,{\"x\":null}],\"user\":true}";

/* Decodes `text` both ways and fails unless the results are the same.
 * Returns the code. */
static int expect_same(const char *text, size_t len)
{
    int code;
    char why[1024];
    if (!state_compare(text, len, &code, why, sizeof why))
        fail_msg("%.*s: %s", (int)len, text, why);
    return code;
}

/* What one generated member holds: its text, as written. */
typedef struct member {
    const char *name;
    const char *value;
} member;

static const char *const NAMES[] = {"rev", "w", "exp", "id", "c", "t", "k", "p", "to", "until"};
#define NAME_COUNT (sizeof NAMES / sizeof NAMES[0])

/* A typical valid value of each member of NAMES. */
static const char *const TYPICAL[NAME_COUNT] = {
    "7", "\"0123456789abcdef\"", "1700000000", "\"AAAAAAAAAAAAAAAAAAAAAA\"", "1699990000",
    "1699999999", "1699995000", "86400", "\"k3y\"", "1700000300",
};

/* {"v":1, the members, "state":<map>} into out; returns its length. */
static size_t envelope(char out[TEXT_MAX], const member *m, size_t count, const char *map)
{
    size_t n = (size_t)snprintf(out, TEXT_MAX, "{\"v\":1,");
    for (size_t i = 0; i < count; i++)
        n += (size_t)snprintf(out + n, TEXT_MAX - n, "\"%s\":%s,", m[i].name, m[i].value);
    n += (size_t)snprintf(out + n, TEXT_MAX - n, "\"state\":%s}", map);
    assert_true(n < TEXT_MAX);
    return n;
}

static int takes_shortcut(const char *text, size_t len)
{
    int64_t exp;
    csession__state_meta meta;
    size_t at, n;
    return csession__state_head_read(text, len, &exp, &meta, &at, &n);
}

/* Every subset of the members, in the writer's order: taken, and decoded
 * as the generic decoder does. */
static void test_every_member_combination(void **state)
{
    (void)state;
    char text[TEXT_MAX];
    for (unsigned mask = 0; mask < 1u << NAME_COUNT; mask++) {
        member m[NAME_COUNT];
        size_t count = 0;
        for (size_t i = 0; i < NAME_COUNT; i++)
            if (mask & (1u << i))
                m[count++] = (member){NAMES[i], TYPICAL[i]};
        size_t len = envelope(text, m, count, MAP);
        if (!takes_shortcut(text, len))
            fail_msg("%s: not read by the shortcut", text);
        assert_int_equal(expect_same(text, len), 0);
    }
}

/* What the writer produces is read back by the shortcut, member for member. */
static void test_writer_output(void **state)
{
    (void)state;
    static const int64_t times[] = {0, 1, -1, 1700000000, CSESSION__MAX_SAFE_INTEGER,
                                    -CSESSION__MAX_SAFE_INTEGER};
    cJSON *map;
    assert_int_equal(csession__json_parse(MAP, strlen(MAP), 8, &map), 0);
    for (size_t t = 0; t < sizeof times / sizeof times[0]; t++) {
        for (int retired = 0; retired < 2; retired++) {
            csession__state_meta meta, back;
            csession__state_meta_init(&meta);
            memcpy(meta.id, "abcdefghijklmnopqrstu-", CSESSION__PUBLIC_ID_LEN + 1);
            meta.created = times[t];
            meta.seen = times[t] / 2;
            meta.keyed = -times[t];
            meta.life = t % 2 ? 0 : 1209600;
            if (retired) {
                memset(meta.to, 'Z', CSESSION__RETIRED_KEY_MAX);
                meta.to[CSESSION__RETIRED_KEY_MAX] = '\0';
                meta.to_len = CSESSION__RETIRED_KEY_MAX;
                meta.until = times[t];
            }
            csession_buf text = CSESSION_BUF_INIT;
            assert_int_equal(csession__state_encode(map, &meta, times[t], &text), 0);
            int64_t exp;
            size_t at, n;
            assert_int_equal(csession__state_head_read(text.ptr, text.size, &exp, &back, &at, &n), 1);
            assert_true(state_same_meta(&meta, &back));
            assert_int_equal(exp, times[t]);
            assert_memory_equal(text.ptr + at, MAP, n);
            assert_int_equal(n, strlen(MAP));
            assert_int_equal(expect_same(text.ptr, text.size), 0);
            csession_buf_dispose(&text);
        }
    }
    cJSON_Delete(map);
}

/* Boundary values of each member, valid or not: taken or left, the same
 * result either way. */
static void test_boundary_values(void **state)
{
    (void)state;
    static const char *const integers[] = {
        "0", "-0", "1", "-1", "-2", "9007199254740991", "-9007199254740991", "9007199254740992",
        "-9007199254740992", "9999999999999999", "10000000000000000", "00", "01", "-01", "1.0",
        "1e3", "1E3", "-", "+1", "0x10", "1.5", "\"1\"", "null", "true", "[]", "{}", " 1",
        "12345678901234567890123", "18446744073709551621", /* 2^64 + 5 */
    };
    static const char *const strings[] = {
        "\"\"", "\"a\"", "\"AAAAAAAAAAAAAAAAAAAAAA\"", "\"AAAAAAAAAAAAAAAAAAAAAAA\"",
        "\"A-_z09AAAAAAAAAAAAAAAA\"", "\"a\\\"b\"", "\"a\\u0041\"", "\"\\u0000\"", "\"a\tb\"",
        "\"\x7f\"", "\"h\xc3\xa9\"", "\"\xc3\x28\"", "\"a b\"", "\"unterminated", "1", "null",
        "\"AAAAAAAA\\\"AAAAAAAAAAAAA\"", "\"AAAAAAAAAAAAAAAAAAAAA\xc3\xa9\"",
    };
    char text[TEXT_MAX], big[2 * CSESSION__RETIRED_KEY_MAX];
    for (size_t i = 0; i < NAME_COUNT; i++) {
        for (size_t v = 0; v < sizeof integers / sizeof integers[0]; v++) {
            member m[] = {{"exp", "5"}, {NAMES[i], integers[v]}};
            size_t len = envelope(text, m + (i <= 2), i <= 2 ? 1 : 2, MAP);
            expect_same(text, len);
        }
        for (size_t v = 0; v < sizeof strings / sizeof strings[0]; v++) {
            member m[] = {{NAMES[i], strings[v]}, {"until", "9"}};
            size_t len = envelope(text, m, i == NAME_COUNT - 1 ? 1 : 2, MAP);
            expect_same(text, len);
        }
        /* keys of 127 to 130 bytes for "to" */
        for (size_t n = CSESSION__RETIRED_KEY_MAX - 1; n <= CSESSION__RETIRED_KEY_MAX + 2; n++) {
            big[0] = '"';
            memset(big + 1, 'k', n);
            memcpy(big + 1 + n, "\"", 2);
            member m[] = {{NAMES[i], big}};
            size_t len = envelope(text, m, 1, MAP);
            expect_same(text, len);
        }
    }
    /* the ones that must be taken */
    member ok[] = {{"exp", "-9007199254740991"}, {"id", "\"A\""}, {"c", "9007199254740991"},
                   {"p", "-1"}, {"to", "\"\x7f\""}};
    size_t len = envelope(text, ok, 5, MAP);
    assert_true(takes_shortcut(text, len));
    /* and some that must not be, though the generic decoder accepts them */
    static const char *const left[] = {"1.0", "1e3", "-0.0", "9007199254740991.0"};
    for (size_t v = 0; v < sizeof left / sizeof left[0]; v++) {
        member m[] = {{"c", left[v]}};
        len = envelope(text, m, 1, MAP);
        assert_false(takes_shortcut(text, len));
        assert_int_equal(expect_same(text, len), 0);
    }
}

/* Heads not in the writer's form: left to the generic decoder, which
 * accepts or refuses them as before. */
static void test_other_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        int head; /* in the writer's form up to the map */
    } cases[] = {
        {"{\"v\":1,\"c\":1,\"exp\":2,\"state\":{}}", 0, 0},             /* another order */
        {"{\"v\":1,\"c\":1,\"c\":2,\"state\":{}}", 0, 0},               /* repeated */
        {"{\"v\":1, \"c\":1,\"state\":{}}", 0, 0},                      /* whitespace */
        {"{\"v\":1,\"c\" :1,\"state\":{}}", 0, 0},
        {"{\"v\":1,\"c\": 1,\"state\":{}}", 0, 0},
        {"{\"v\":1,\"c\":1 ,\"state\":{}}", 0, 0},
        {"{\"v\":1,\"state\" :{}}", 0, 0},
        {"{\"v\":1,\"state\":{} }", 0, 1},
        {"{\"v\":1,\"state\":{}} ", 0, 0},
        {" {\"v\":1,\"state\":{}}", 0, 0},
        {"{ \"v\":1,\"state\":{}}", 0, 0},
        {"{\"v\":1,\"\\u0063\":1,\"state\":{}}", 0, 0},                  /* escaped name */
        {"{\"v\":1,\"id\":\"\\u0041\",\"state\":{}}", 0, 0},             /* escaped value */
        {"{\"v\":1.0,\"state\":{}}", 0, 0},
        {"{\"v\":1e0,\"state\":{}}", 0, 0},
        {"{\"state\":{},\"v\":1}", 0, 0},
        {"{\"v\":1,\"state\":{\"a\":1},\"state\":{\"b\":2}}", 0, 1},
        {"{\"v\":1,\"state\":[]}", 0, 0},                                /* a bare object */
        {"{\"v\":1,\"state\":\"x\"}", 0, 0},
        {"{\"v\":1,\"state\":null}", 0, 0},
        {"{\"a\":\"1\",\"b\":\"[true]\"}", 0, 0},                       /* actix-session's */
        {"{\"a\":1}", 0, 0},
        {"{}", 0, 0},
        {"{\"v\":1,\"state\":{\"a\":{\"b\":1}}}", 0, 1},
        {"{\"v\":2,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"x\":1,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"state\":{},\"c\":1}", 0, 1},               /* a member after the map */
        {"{\"v\":1,\"state\":{}}}", CSESSION_EFORMAT, 1},
        {"{\"v\":1,\"state\":{}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"state\":{\"a\":}}", CSESSION_EFORMAT, 1},
        {"{\"v\":1,\"state\":{\"a\":1,}}", CSESSION_EFORMAT, 1},
        {"{\"v\":1,\"state\":{\"a\":\"\\u0000\"}}", CSESSION_EFORMAT, 1},
        {"{\"v\":1,\"state\":{\"a\":\"\xc3\x28\"}}", CSESSION_EFORMAT, 1},
        {"{\"v\":1,\"state\":{\"a\":1e999}}", CSESSION_ERANGE, 1},
        {"{\"v\":1,\"p\":-2,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"id\":\"\",\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"c\":1.5,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"c\":,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"c\":1,,\"state\":{}}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"state\":", CSESSION_EFORMAT, 0},
        {"{\"v\":1,\"state\":}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,}", CSESSION_EFORMAT, 0},
        {"{\"v\":1,", CSESSION_EFORMAT, 0},
        {"", CSESSION_EFORMAT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        int rc = expect_same(t, strlen(t));
        if (rc != cases[i].code)
            fail_msg("%s: %d, want %d", t, rc, cases[i].code);
        if (takes_shortcut(t, strlen(t)) != cases[i].head)
            fail_msg("%s: the head reader says %d", t, !cases[i].head);
    }
    /* a NUL byte in the head or in the map */
    static const char nul_head[] = "{\"v\":1,\"id\":\"a\0b\",\"state\":{}}";
    static const char nul_map[] = "{\"v\":1,\"state\":{\"a\":\"\0\"}}";
    assert_int_equal(expect_same(nul_head, sizeof nul_head - 1), CSESSION_EFORMAT);
    assert_int_equal(expect_same(nul_map, sizeof nul_map - 1), CSESSION_EFORMAT);
}

/* The map one level down in the document: the same depth limit. */
static void test_depth_limit(void **state)
{
    (void)state;
    char text[TEXT_MAX];
    for (int depth = CSESSION__MAX_DEPTH - 2; depth <= CSESSION__MAX_DEPTH + 3; depth++) {
        size_t n = (size_t)snprintf(text, sizeof text, "{\"v\":1,\"c\":3,\"state\":{\"a\":");
        for (int i = 0; i < depth; i++)
            text[n++] = '[';
        text[n++] = '1';
        for (int i = 0; i < depth; i++)
            text[n++] = ']';
        memcpy(text + n, "}}", 3);
        n += 2;
        assert_true(takes_shortcut(text, n));
        int rc = expect_same(text, n);
        assert_int_equal(rc, depth <= CSESSION__MAX_DEPTH ? 0 : CSESSION_ETOOBIG);
    }
}

/* Texts derived from valid envelopes by random edits, byte by byte from the
 * characters that matter to the head. */
static void test_random_edits(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[]\":,\\-+.0123456789eE tvcpkiduntoswrx\x01\x7f\xc3\xa9";
    uint32_t seed = 12345;
#define NEXT() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffffff)
    char text[TEXT_MAX];
    size_t taken = 0;
    for (int round = 0; round < 20000; round++) {
        member m[NAME_COUNT];
        size_t count = 0;
        unsigned mask = NEXT();
        for (size_t i = 0; i < NAME_COUNT; i++)
            if (mask & (1u << i))
                m[count++] = (member){NAMES[i], TYPICAL[i]};
        size_t len = envelope(text, m, count, MAP);
        unsigned edits = 1 + NEXT() % 3;
        for (unsigned e = 0; e < edits && len > 1; e++) {
            size_t at = NEXT() % len;
            char c = alphabet[NEXT() % (sizeof alphabet - 1)];
            switch (NEXT() % 3) {
            case 0: text[at] = c; break;
            case 1: memmove(text + at, text + at + 1, len - at - 1); len--; break;
            default:
                if (len + 1 < TEXT_MAX) {
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = c;
                    len++;
                }
                break;
            }
        }
        taken += (size_t)takes_shortcut(text, len);
        expect_same(text, len);
    }
    /* the edits leave many in the writer's form (a changed digit, a
     * changed letter of a string) */
    assert_true(taken > 1000);
#undef NEXT
}

/* The reason for the shortcut: no JSON node for the members of the head. */
static void test_fewer_allocations(void **state)
{
    (void)state;
    static const char text[] = "{\"v\":1,\"exp\":1700000000,\"id\":\"AAAAAAAAAAAAAAAAAAAAAA\","
                               "\"c\":1699990000,\"t\":1699999999,\"k\":1699995000,\"state\":{}}";
    cJSON *map;
    int64_t exp;
    csession__state_meta meta;
    oom_install();
    oom_fail_at(0, 0);
    assert_int_equal(csession__state_decode_meta(text, sizeof text - 1, &map, &exp, &meta), 0);
    size_t fast = oom_count();
    cJSON_Delete(map);
    oom_fail_at(0, 0);
    assert_int_equal(csession__state_decode_generic(text, sizeof text - 1, &map, &exp, &meta), 0);
    size_t full = oom_count();
    cJSON_Delete(map);
    oom_uninstall();
    /* the map itself, and nothing for the head */
    assert_int_equal(fast, 1);
    assert_true(full > fast + 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_member_combination),
        cmocka_unit_test(test_writer_output),
        cmocka_unit_test(test_boundary_values),
        cmocka_unit_test(test_other_forms),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_random_edits),
        cmocka_unit_test(test_fewer_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
