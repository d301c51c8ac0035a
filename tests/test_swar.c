/*
 * The word-at-a-time byte tests (src/swar.h) against the byte-by-byte
 * answer, and the three loops built on them (JSON strings in and out,
 * cookie percent-decoding) with the byte they stop at in every position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "buf.h"
#include "cookie/header.h"
#include "csession/errors.h"
#include "json_text.h"
#include "swar.h"

/* Bytes that sit at the edges of the tests: around '"', '%', '\\', 0x20,
 * 0x80 and zero. */
static const unsigned char edges[] = { 0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                                       0x26, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0x9F, 0xA0, 0xFF };

static unsigned reference_run(const unsigned char w[8], int (*flag)(unsigned char))
{
    unsigned k = 0;
    while (k < 8 && !flag(w[k]))
        k++;
    return k;
}

static int is_json_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

static int is_percent(unsigned char c)
{
    return c == '%';
}

static void check_word(const unsigned char w[8])
{
    /* csession__json_plain_run() must give the exact run on this
     * (little-endian) machine; on others at most the run. */
    unsigned want = reference_run(w, is_json_special);
    unsigned got = csession__json_plain_run((const char *)w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (got != want)
        fail_msg("json run %u, want %u for %02x %02x %02x %02x %02x %02x %02x %02x", got, want,
                 w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
#else
    assert_true(got <= want && (want < 8 || got == 8));
#endif
    uint64_t word = csession__swar_load((const char *)w);
    uint64_t pct = csession__swar_eq(word, '%');
    unsigned pct_want = reference_run(w, is_percent);
    assert_int_equal(pct == 0, pct_want == 8);
    if (pct) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        assert_int_equal(csession__swar_skip(pct), pct_want);
#else
        assert_true(csession__swar_skip(pct) <= pct_want);
#endif
    }
}

/* Every word of two edge bytes in any two positions over a plain filler,
 * and random words. */
static void test_words(void **state)
{
    (void)state;
    size_t n = sizeof edges;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++) {
                    unsigned char w[8];
                    memset(w, 'x', sizeof w);
                    w[i] = edges[a];
                    w[j] = edges[b];
                    check_word(w);
                }
    for (int r = 0; r < 200000; r++) {
        unsigned char w[8];
        randombytes_buf(w, sizeof w);
        for (int k = 0; k < 8; k++) /* more edge bytes than chance gives */
            if (w[k] < 0x60)
                w[k] = edges[w[k] % n];
        check_word(w);
    }
}

/* A string of `len` 'a's with `special` at `at`, as cJSON writes and reads
 * it: our printer and scanner must agree with cJSON at every offset. */
static void test_json_strings_every_offset(void **state)
{
    (void)state;
    static const char specials[] = { '"', '\\', '\n', 0x01, 0x1F, '/', 0x7F };
    for (size_t s = 0; s < sizeof specials; s++)
        for (size_t len = 1; len <= 24; len++)
            for (size_t at = 0; at < len; at++) {
                char text[32];
                memset(text, 'a', len);
                text[len] = '\0';
                text[at] = specials[s];
                cJSON *item = cJSON_CreateString(text);
                assert_non_null(item);
                char *theirs = cJSON_PrintUnformatted(item);
                assert_non_null(theirs);
                csession_buf ours = CSESSION_BUF_INIT;
                assert_int_equal(csession__json_print_append(item, &ours), 0);
                assert_string_equal(ours.ptr, theirs);

                cJSON *back = NULL;
                assert_int_equal(csession__json_parse(theirs, strlen(theirs), 4, &back), 0);
                assert_true(cJSON_IsString(back));
                assert_string_equal(back->valuestring, text);

                cJSON_Delete(back);
                csession_buf_dispose(&ours);
                cJSON_free(theirs);
                cJSON_Delete(item);
            }
}

/* An unescaped control or a missing closing quote at every offset is
 * refused, never read past. */
static void test_json_refusals_every_offset(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 24; len++) {
        for (size_t at = 0; at < len; at++) {
            char text[32];
            text[0] = '"';
            memset(text + 1, 'a', len);
            text[1 + at] = '\t';
            text[1 + len] = '"';
            cJSON *out = NULL;
            assert_int_equal(csession__json_validate(text, len + 2, 4), CSESSION_EFORMAT);
            assert_int_equal(csession__json_parse(text, len + 2, 4, &out), CSESSION_EFORMAT);
            assert_null(out);
        }
        /* Unterminated: the buffer holds exactly the text, so ASan sees a
         * read past it. */
        char *text = malloc(len + 1);
        assert_non_null(text);
        text[0] = '"';
        memset(text + 1, 'a', len);
        assert_int_equal(csession__json_validate(text, len + 1, 4), CSESSION_EFORMAT);
        free(text);
    }
}

/* "%41" at every offset of a run of 'x's decodes to 'A' there, out of place
 * and in place. */
static void test_percent_decode_every_offset(void **state)
{
    (void)state;
    for (size_t len = 3; len <= 27; len++)
        for (size_t at = 0; at + 3 <= len; at++) {
            char in[32], want[32], out[32];
            memset(in, 'x', len);
            memcpy(in + at, "%41", 3);
            memset(want, 'x', len - 2);
            want[at] = 'A';
            size_t out_len = 0;
            assert_int_equal(csession__cookie_decode(in, len, out, sizeof out, &out_len), 0);
            assert_int_equal(out_len, len - 2);
            assert_memory_equal(out, want, len - 2);
            /* Exactly enough room, then one byte less. */
            assert_int_equal(csession__cookie_decode(in, len, out, len - 2, &out_len), 0);
            assert_int_equal(csession__cookie_decode(in, len, out, len - 3, &out_len),
                             CSESSION_ETOOBIG);
            assert_int_equal(csession__cookie_decode(in, len, in, len, &out_len), 0);
            assert_int_equal(out_len, len - 2);
            assert_memory_equal(in, want, len - 2);
        }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_json_strings_every_offset),
        cmocka_unit_test(test_json_refusals_every_offset),
        cmocka_unit_test(test_percent_decode_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
