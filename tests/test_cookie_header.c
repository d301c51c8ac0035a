/* Cookie: parsing, percent-coding, IMF-fixdate and Set-Cookie formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "csession.h"
#include "buf.h"
#include "cookie/header.h"
#include "oom.h"

/* ---- helpers ------------------------------------------------------------ */

#define MAX_HITS 4
#define TOOBIG ((const char *)1) /* marks an expected CSESSION_ETOOBIG hit */

typedef struct find_case {
    const char *header;
    size_t len; /* 0: strlen(header) */
    const char *name;
    const char *hits[MAX_HITS + 1]; /* expected values in order, NULL-terminated */
} find_case;

/* Collects every hit of `name` and compares with `want`. */
static void check_find(const char *header, size_t len, const char *name,
                       const char *const *want, const char *label)
{
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    size_t i = 0;
    for (;;) {
        const char *v = (const char *)&cur; /* must be reset by the call */
        size_t vlen = 12345;
        int rc = csession__cookie_find(header, len, name, strlen(name), &cur, &v, &vlen);
        if (rc == CSESSION_ENOTFOUND) {
            assert_null(v);
            assert_int_equal(vlen, 0);
            break;
        }
        if (!want[i])
            fail_msg("%s: unexpected extra hit #%zu (rc %d)", label, i, rc);
        if (want[i] == TOOBIG) {
            if (rc != CSESSION_ETOOBIG)
                fail_msg("%s: hit #%zu: expected ETOOBIG, got %d", label, i, rc);
            assert_null(v);
            assert_int_equal(vlen, 0);
        } else {
            if (rc != 0)
                fail_msg("%s: hit #%zu: rc %d (%s)", label, i, rc, csession_last_error());
            /* The value points into the header. */
            assert_true(v >= header && v + vlen <= header + len);
            if (vlen != strlen(want[i]) || memcmp(v, want[i], vlen) != 0)
                fail_msg("%s: hit #%zu: got '%.*s', want '%s'", label, i, (int)vlen, v, want[i]);
        }
        i++;
        assert_true(i <= MAX_HITS + 1);
    }
    if (want[i])
        fail_msg("%s: missing hit #%zu '%s'", label, i, want[i] == TOOBIG ? "<too big>" : want[i]);
    /* Exhausted stays exhausted. */
    const char *v;
    size_t vlen;
    assert_int_equal(csession__cookie_find(header, len, name, strlen(name), &cur, &v, &vlen),
                     CSESSION_ENOTFOUND);
}

static const char GA[] = "_ga=GA1.2.123456789.1234567890; _gid=GA1.2.987654321.0987654321; "
                         "id=QRuaUehWXh/HlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4=hello%20world; "
                         "theme=dark";

static const find_case find_cases[] = {
    { "id=abc", 0, "id", { "abc" } },
    { "  id=abc  ", 0, "id", { "abc" } },
    { "id=abc;", 0, "id", { "abc" } },
    { "id=abc; ", 0, "id", { "abc" } },
    { "a=1; id=abc; b=2", 0, "id", { "abc" } },
    { "a=1;id=abc;b=2", 0, "id", { "abc" } },            /* no space after ';' */
    { "a=1;\tid=abc\t;b=2", 0, "id", { "abc" } },        /* tabs */
    { "a=1;   id   =   abc   ; b=2", 0, "id", { "abc" } },
    { "id=\"abc\"", 0, "id", { "abc" } },                /* quotes stripped */
    { "id= \"a b\" ", 0, "id", { "a b" } },
    { "id=\"\"", 0, "id", { "" } },
    { "id=", 0, "id", { "" } },
    { "id=  ", 0, "id", { "" } },
    { "id=\"", 0, "id", { "\"" } },                      /* a lone quote is data */
    { "id=\"abc", 0, "id", { "\"abc" } },
    { "id=abc\"", 0, "id", { "abc\"" } },
    { "a=\"x;id=y\"", 0, "id", { "y\"" } },             /* quotes do not protect ';' */
    { "id=first; id=second; id=third", 0, "id", { "first", "second", "third" } },
    { "id=1; other=2; id=; id=\"3\"", 0, "id", { "1", "", "3" } },
    { "idx=1; xid=2; i=3; id=4; ids=5", 0, "id", { "4" } }, /* prefixes and suffixes */
    { "ids=1; iid=2", 0, "id", { NULL } },
    { "id=a=b=c", 0, "id", { "a=b=c" } },                /* '=' inside the value */
    { "id==", 0, "id", { "=" } },
    { "id", 0, "id", { NULL } },                         /* no '=': skipped */
    { "id; id=x; id", 0, "id", { "x" } },
    { "=x; id=y", 0, "id", { "y" } },
    { "ID=x; Id=y", 0, "id", { NULL } },                 /* names are case-sensitive */
    { "i%64=x", 0, "id", { "x" } },                      /* names are percent-decoded */
    { "i%6=x; %69%64=y", 0, "id", { "y" } },
    { "a%23b=1; a#b=2", 0, "a#b", { "1", "2" } },
    { "id=x y", 0, "id", { "x y" } },                    /* inner spaces are kept */
    { "", 0, "id", { NULL } },
    { ";;;", 0, "id", { NULL } },
    { " ; ;\t;", 0, "id", { NULL } },
    { "other=1", 0, "id", { NULL } },
    { GA, 0, "id", { "QRuaUehWXh/HlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4=hello%20world" } },
    { GA, 0, "theme", { "dark" } },
    { GA, 0, "_ga", { "GA1.2.123456789.1234567890" } },
    { "id=%FF%FE; id=ok", 0, "id", { "%FF%FE", "ok" } }, /* raw: decoding is separate */
    { "id=a\r\nb", 0, "id", { "a\r\nb" } },              /* opaque bytes, decode refuses later */
};

static void test_find_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof find_cases / sizeof find_cases[0]; i++) {
        const find_case *c = &find_cases[i];
        if (c->len) /* cases with embedded NULs are checked separately */
            continue;
        char label[64];
        snprintf(label, sizeof label, "case %zu", i);
        check_find(c->header, strlen(c->header), c->name, c->hits, label);
    }
}

static void test_find_embedded_nul(void **state)
{
    (void)state;
    static const char h[] = "x=1\0; id=a\0b; y=2";
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    const char *v;
    size_t vlen;
    assert_int_equal(csession__cookie_find(h, sizeof h - 1, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, 3);
    assert_memory_equal(v, "a\0b", 3);
    /* A length that stops before the cookie hides it: nothing past len is read. */
    cur.pos = 0;
    assert_int_equal(csession__cookie_find(h, 8, "id", 2, &cur, &v, &vlen), CSESSION_ENOTFOUND);
    /* "id=ab" cut to "id=a" by the length. */
    cur.pos = 0;
    assert_int_equal(csession__cookie_find("id=ab", 4, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, 1);
    assert_memory_equal(v, "a", 1);
}

static void test_find_arguments(void **state)
{
    (void)state;
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    const char *v;
    size_t vlen;
    assert_int_equal(csession__cookie_find("id=1", 4, "id", 2, NULL, &v, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("id=1", 4, "id", 2, &cur, NULL, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("id=1", 4, "id", 2, &cur, &v, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("id=1", 4, NULL, 2, &cur, &v, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find(NULL, 4, "id", 2, &cur, &v, &vlen), CSESSION_EINVAL);
    /* The wanted name must be a token. */
    assert_int_equal(csession__cookie_find("id=1", 4, "", 0, &cur, &v, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("i d=1", 5, "i d", 3, &cur, &v, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("a=1", 3, "a;b", 3, &cur, &v, &vlen), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_find("a=1", 3, "a=", 2, &cur, &v, &vlen), CSESSION_EINVAL);
    /* No header at all is simply "not found". */
    assert_int_equal(csession__cookie_find(NULL, 0, "id", 2, &cur, &v, &vlen), CSESSION_ENOTFOUND);
    assert_int_equal(csession_last_error_code(), CSESSION_ENOTFOUND);
    /* A cursor past the end finds nothing. */
    cur.pos = 100;
    assert_int_equal(csession__cookie_find("id=1", 4, "id", 2, &cur, &v, &vlen), CSESSION_ENOTFOUND);
}

static char *filled(size_t n, char c)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static void test_find_limits(void **state)
{
    (void)state;
    char *h = filled(CSESSION__COOKIE_HEADER_MAX + 1, ' ');
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    const char *v;
    size_t vlen;

    /* Exactly at the header limit: accepted, cookie at the very end found. */
    memcpy(h + CSESSION__COOKIE_HEADER_MAX - 4, "id=1", 4);
    assert_int_equal(csession__cookie_find(h, CSESSION__COOKIE_HEADER_MAX, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, 1);
    /* One byte more: the whole header is refused, nothing scanned. */
    cur.pos = 0;
    memcpy(h, "id=0;", 5);
    assert_int_equal(csession__cookie_find(h, CSESSION__COOKIE_HEADER_MAX + 1, "id", 2, &cur, &v, &vlen),
                     CSESSION_ETOOBIG);
    assert_null(v);
    assert_int_equal(cur.pos, 0);
    free(h);

    /* Values: 4096 accepted, 4097 refused for that cookie and the scan goes on. */
    size_t max = CSESSION__COOKIE_VALUE_MAX;
    h = malloc(max + 32);
    assert_non_null(h);
    memcpy(h, "id=", 3);
    memset(h + 3, 'a', max + 1);
    memcpy(h + 3 + max + 1, "; id=ok", 7);
    cur.pos = 0;
    assert_int_equal(csession__cookie_find(h, max + 11, "id", 2, &cur, &v, &vlen), CSESSION_ETOOBIG);
    assert_null(v);
    assert_int_equal(cur.pos, max + 5); /* past the refused pair */
    assert_int_equal(csession__cookie_find(h, max + 11, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, 2);
    assert_memory_equal(v, "ok", 2);
    /* 4096 exactly. */
    cur.pos = 0;
    assert_int_equal(csession__cookie_find(h, 3 + max, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, max);
    /* A quoted value is measured without its quotes. */
    h[3] = '"';
    h[3 + max + 1] = '"';
    cur.pos = 0;
    assert_int_equal(csession__cookie_find(h, 3 + max + 2, "id", 2, &cur, &v, &vlen), 0);
    assert_int_equal(vlen, max);
    assert_ptr_equal(v, h + 4);
    h[3 + max + 2] = '"';
    cur.pos = 0;
    assert_int_equal(csession__cookie_find(h, 3 + max + 3, "id", 2, &cur, &v, &vlen), CSESSION_ETOOBIG);
    free(h);
}

/* ---- percent-decoding --------------------------------------------------- */

typedef struct decode_case {
    const char *in;
    const char *out; /* NULL: CSESSION_EFORMAT expected */
    size_t out_len;  /* 0: strlen(out) */
} decode_case;

static const decode_case decode_cases[] = {
    { "", "", 0 },
    { "plain", "plain", 0 },
    { "hello%20world", "hello world", 0 },
    { "%41%42%43", "ABC", 0 },
    { "%61%6a%6A", "ajj", 0 },             /* both hex cases */
    { "%4", "%4", 0 },                     /* truncated: kept */
    { "a%", "a%", 0 },
    { "%", "%", 0 },
    { "%zz", "%zz", 0 },                   /* not hex: kept */
    { "%4g", "%4g", 0 },
    { "%g4", "%g4", 0 },
    { "%%41", "%A", 0 },                   /* the first '%' is data */
    { "%2541", "%41", 0 },                 /* decoded once only */
    { "+", "+", 0 },                       /* not form encoding */
    { "%00", "\0", 1 },                    /* NUL is valid UTF-8 */
    { "a%00b", "a\0b", 3 },
    { "%e2%82%ac", "\xe2\x82\xac", 0 },    /* euro sign */
    { "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", 0 }, /* raw UTF-8 passes */
    { "%F0%9F%8D%AA", "\xf0\x9f\x8d\xaa", 0 },       /* U+1F36A */
    { "%F4%8F%BF%BF", "\xf4\x8f\xbf\xbf", 0 },       /* U+10FFFF */
    { "%E2%82", NULL, 0 },                 /* truncated sequence */
    { "%C0%AF", NULL, 0 },                 /* overlong '/' */
    { "%E0%80%AF", NULL, 0 },              /* overlong */
    { "%ED%A0%80", NULL, 0 },              /* surrogate */
    { "%F4%90%80%80", NULL, 0 },           /* above U+10FFFF */
    { "%F5%80%80%80", NULL, 0 },
    { "%FF", NULL, 0 },
    { "%80", NULL, 0 },                    /* lone continuation byte */
    { "\xff", NULL, 0 },                   /* raw invalid byte */
    { "ok\xc3", NULL, 0 },
};

static void test_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const decode_case *c = &decode_cases[i];
        char out[64];
        size_t out_len = 999;
        int rc = csession__cookie_decode(c->in, strlen(c->in), out, sizeof out, &out_len);
        if (!c->out) {
            if (rc != CSESSION_EFORMAT)
                fail_msg("decode case %zu (%s): rc %d, want EFORMAT", i, c->in, rc);
            assert_int_equal(out_len, 0);
            continue;
        }
        size_t want_len = c->out_len ? c->out_len : strlen(c->out);
        if (rc != 0)
            fail_msg("decode case %zu (%s): rc %d", i, c->in, rc);
        assert_int_equal(out_len, want_len);
        assert_memory_equal(out, c->out, want_len);
    }
}

static void test_decode_limits(void **state)
{
    (void)state;
    char out[CSESSION__COOKIE_VALUE_MAX + 1];
    size_t out_len;
    char *in = filled(CSESSION__COOKIE_VALUE_MAX + 1, 'x');

    assert_int_equal(csession__cookie_decode(in, CSESSION__COOKIE_VALUE_MAX, out, sizeof out, &out_len), 0);
    assert_int_equal(out_len, CSESSION__COOKIE_VALUE_MAX);
    assert_int_equal(csession__cookie_decode(in, CSESSION__COOKIE_VALUE_MAX + 1, out, sizeof out, &out_len),
                     CSESSION_ETOOBIG);
    assert_int_equal(out_len, 0);
    /* Output bound: "%41%41" needs 2 bytes, "ab" needs 2. */
    assert_int_equal(csession__cookie_decode("%41%41", 6, out, 2, &out_len), 0);
    assert_int_equal(csession__cookie_decode("%41%41", 6, out, 1, &out_len), CSESSION_ETOOBIG);
    assert_int_equal(csession__cookie_decode("ab", 2, out, 1, &out_len), CSESSION_ETOOBIG);
    /* A plain run that fills the output, then an escape past it. */
    assert_int_equal(csession__cookie_decode("ab%41", 5, out, 2, &out_len), CSESSION_ETOOBIG);
    assert_int_equal(csession__cookie_decode("ab%41c", 6, out, 3, &out_len), CSESSION_ETOOBIG);
    assert_int_equal(csession__cookie_decode("ab%41c", 6, out, 4, &out_len), 0);
    assert_int_equal(out_len, 4);
    assert_memory_equal(out, "abAc", 4);
    assert_int_equal(csession__cookie_decode("", 0, out, 0, &out_len), 0);
    assert_int_equal(out_len, 0);
    /* Arguments. */
    assert_int_equal(csession__cookie_decode(NULL, 1, out, sizeof out, &out_len), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_decode("a", 1, NULL, sizeof out, &out_len), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_decode("a", 1, out, sizeof out, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_decode(NULL, 0, out, 0, &out_len), 0);
    free(in);

    /* In place. */
    char buf[] = "a%20b%2Fc%zz";
    assert_int_equal(csession__cookie_decode(buf, strlen(buf), buf, sizeof buf, &out_len), 0);
    assert_int_equal(out_len, 8);
    assert_memory_equal(buf, "a b/c%zz", 8);
}

/* ---- percent-encoding --------------------------------------------------- */

static void expect_encode(const char *in, size_t len, const char *want)
{
    csession_buf b = CSESSION_BUF_INIT;
    int rc = csession__cookie_encode(&b, in, len);
    if (rc != 0)
        fail_msg("encode '%s': rc %d (%s)", in, rc, csession_last_error());
    assert_string_equal(b.ptr, want);
    assert_int_equal(b.size, strlen(want));
    csession_buf_dispose(&b);
}

static void test_encode(void **state)
{
    (void)state;
    expect_encode("", 0, "");
    expect_encode("hello world", 11, "hello%20world");
    /* The cookie crate's own documentation example. */
    expect_encode("this; value%?", 13, "this%3B%20value%25%3F");
    /* Every member of the set above CONTROLS, in ASCII order. */
    expect_encode(" \"#%(),/:;<=>?@[\\]^`{|}", 23,
                  "%20%22%23%25%28%29%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D");
    /* Printable ASCII left alone. */
    expect_encode("!$&'*+-.0123456789ABCXYZ_abcxyz~", 32, "!$&'*+-.0123456789ABCXYZ_abcxyz~");
    /* Controls, DEL and non-ASCII. */
    expect_encode("\t\r\n\x7f", 4, "%09%0D%0A%7F");
    expect_encode("\0", 1, "%00");
    expect_encode("\xc3\xa9", 2, "%C3%A9");
    /* Base64 of a sealed value. */
    expect_encode("QRuaUehWXh/HlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4=hello world", 55,
                  "QRuaUehWXh%2FHlkOypsRnL0o8Plc8M9CZWgh0jLYSjo4%3Dhello%20world");
}

static void test_encode_refusals(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_encode(&b, "x", 1), 0);
    assert_int_equal(csession__cookie_encode(&b, "\xff", 1), CSESSION_EINVAL);
    assert_int_equal(b.size, 0); /* emptied on failure */
    assert_int_equal(csession__cookie_encode(&b, "\xed\xa0\x80", 3), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_encode(&b, NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_encode(NULL, "x", 1), CSESSION_EINVAL);

    /* Encoded length: 1365 spaces + 1 = 4096 is fine, one more space is not. */
    char *sp = filled(1366, ' ');
    sp[1365] = 'a';
    assert_int_equal(csession__cookie_encode(&b, sp, 1366), 0);
    assert_int_equal(b.size, CSESSION__COOKIE_VALUE_MAX);
    sp[1365] = ' ';
    assert_int_equal(csession__cookie_encode(&b, sp, 1366), CSESSION_ETOOBIG);
    free(sp);
    char *big = filled(CSESSION__COOKIE_VALUE_MAX + 1, 'a');
    assert_int_equal(csession__cookie_encode(&b, big, CSESSION__COOKIE_VALUE_MAX), 0);
    assert_int_equal(csession__cookie_encode(&b, big, CSESSION__COOKIE_VALUE_MAX + 1), CSESSION_ETOOBIG);
    free(big);
    csession_buf_dispose(&b);
}

/* A tiny deterministic generator, so that failures reproduce. */
static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Appends one random code point as UTF-8; returns bytes written. */
static size_t random_utf8(char *p)
{
    uint32_t cp;
    switch (rng() % 4) {
    case 0: cp = rng() % 0x80; break;
    case 1: cp = 0x80 + rng() % (0x800 - 0x80); break;
    case 2:
        do cp = 0x800 + rng() % (0x10000 - 0x800); while (cp >= 0xD800 && cp <= 0xDFFF);
        break;
    default: cp = 0x10000 + rng() % (0x110000 - 0x10000); break;
    }
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | cp >> 12);
        p[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | cp >> 18);
    p[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_encode_decode_round_trip(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    char in[512], out[CSESSION__COOKIE_VALUE_MAX];
    size_t out_len;

    /* Every single ASCII byte. */
    for (int c = 0; c < 0x80; c++) {
        in[0] = (char)c;
        assert_int_equal(csession__cookie_encode(&b, in, 1), 0);
        assert_int_equal(csession__cookie_decode(b.ptr, b.size, out, sizeof out, &out_len), 0);
        assert_int_equal(out_len, 1);
        assert_int_equal(out[0], c);
    }
    /* Random UTF-8 strings. */
    for (int round = 0; round < 2000; round++) {
        size_t n = 0, target = rng() % 100;
        while (n < target)
            n += random_utf8(in + n);
        assert_int_equal(csession__cookie_encode(&b, in, n), 0);
        /* The encoded form is plain header-safe ASCII. */
        for (size_t i = 0; i < b.size; i++) {
            unsigned char c = (unsigned char)b.ptr[i];
            assert_true(c > 0x20 && c < 0x7F && c != ';' && c != '"' && c != ',' && c != '\\');
        }
        assert_int_equal(csession__cookie_decode(b.ptr, b.size, out, sizeof out, &out_len), 0);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, in, n);
    }
    csession_buf_dispose(&b);
}

/* ---- IMF-fixdate -------------------------------------------------------- */

static void expect_date(int64_t t, const char *want)
{
    char out[CSESSION__HTTP_DATE_SIZE];
    memset(out, 'x', sizeof out);
    assert_int_equal(csession__http_date(t, out), 0);
    assert_string_equal(out, want);
}

static void test_http_date(void **state)
{
    (void)state;
    expect_date(0, "Thu, 01 Jan 1970 00:00:00 GMT");
    expect_date(784111777, "Sun, 06 Nov 1994 08:49:37 GMT");    /* RFC 9110's example */
    expect_date(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");    /* leap century */
    expect_date(1709164800, "Thu, 29 Feb 2024 00:00:00 GMT");
    expect_date(1234567890, "Fri, 13 Feb 2009 23:31:30 GMT");
    expect_date(2147483647, "Tue, 19 Jan 2038 03:14:07 GMT");
    expect_date(2147483648, "Tue, 19 Jan 2038 03:14:08 GMT");  /* past 32-bit time_t */
    expect_date(4107542399, "Sun, 28 Feb 2100 23:59:59 GMT");  /* 2100 is not leap */
    expect_date(4107542400, "Mon, 01 Mar 2100 00:00:00 GMT");
    expect_date(CSESSION__HTTP_DATE_MAX, "Fri, 31 Dec 9999 23:59:59 GMT");

    char out[CSESSION__HTTP_DATE_SIZE];
    assert_int_equal(csession__http_date(-1, out), CSESSION_EINVAL);
    assert_int_equal(csession__http_date(CSESSION__HTTP_DATE_MAX + 1, out), CSESSION_EINVAL);
    assert_int_equal(csession__http_date(INT64_MIN, out), CSESSION_EINVAL);
    assert_int_equal(csession__http_date(0, NULL), CSESSION_EINVAL);
}

/* Cross-checks the arithmetic with the C library over a wide sweep. */
static void test_http_date_matches_gmtime(void **state)
{
    (void)state;
    static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    if (sizeof(time_t) < 8)
        skip();
    for (int64_t t = 0; t <= CSESSION__HTTP_DATE_MAX; t += 86400 * 97 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        assert_non_null(gmtime_r(&tt, &tm));
        char want[64], got[CSESSION__HTTP_DATE_SIZE];
        snprintf(want, sizeof want, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday],
                 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_int_equal(csession__http_date(t, got), 0);
        if (strcmp(got, want) != 0)
            fail_msg("t=%lld: got '%s', want '%s'", (long long)t, got, want);
    }
}

/* ---- Set-Cookie --------------------------------------------------------- */

static csession__cookie_attrs attrs_named(const char *name)
{
    csession__cookie_attrs a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.name_len = strlen(name);
    return a;
}

/* actix-session's defaults. */
static csession__cookie_attrs default_attrs(void)
{
    csession__cookie_attrs a = attrs_named("id");
    a.path = "/";
    a.path_len = 1;
    a.secure = 1;
    a.http_only = 1;
    a.same_site = CSESSION__SAME_SITE_LAX;
    return a;
}

static void expect_format(const csession__cookie_attrs *a, const char *value, const char *want)
{
    csession_buf b = CSESSION_BUF_INIT;
    int rc = csession__cookie_format(&b, a, value, strlen(value));
    if (rc != 0)
        fail_msg("format: rc %d (%s)", rc, csession_last_error());
    assert_string_equal(b.ptr, want);
    assert_int_equal(b.size, strlen(want));
    csession_buf_dispose(&b);
}

static void test_format(void **state)
{
    (void)state;
    csession__cookie_attrs a = default_attrs();
    expect_format(&a, "v", "id=v; HttpOnly; SameSite=Lax; Secure; Path=/");

    /* Everything, in the cookie crate's order. */
    a.same_site = CSESSION__SAME_SITE_NONE;
    a.partitioned = 1;
    a.path = "/app";
    a.path_len = 4;
    a.domain = "example.com";
    a.domain_len = 11;
    a.has_max_age = 1;
    a.max_age = 86400;
    a.has_expires = 1;
    a.expires = 784111777;
    expect_format(&a, "hello world",
                  "id=hello%20world; HttpOnly; SameSite=None; Partitioned; Secure; Path=/app; "
                  "Domain=example.com; Max-Age=86400; Expires=Sun, 06 Nov 1994 08:49:37 GMT");

    /* Nothing but the pair. */
    csession__cookie_attrs m = attrs_named("session");
    expect_format(&m, "", "session=");
    expect_format(&m, "this; value%?", "session=this%3B%20value%25%3F");

    /* Strict without Secure is fine; a leading dot of Domain is dropped. */
    m.same_site = CSESSION__SAME_SITE_STRICT;
    m.domain = ".example.org";
    m.domain_len = 12;
    expect_format(&m, "1", "session=1; SameSite=Strict; Domain=example.org");

    /* Extremes: Max-Age prints whole, Expires is clamped to 9999. */
    csession__cookie_attrs x = attrs_named("n");
    x.has_max_age = 1;
    x.max_age = INT64_MAX;
    x.has_expires = 1;
    x.expires = INT64_MAX;
    expect_format(&x, "v", "n=v; Max-Age=9223372036854775807; Expires=Fri, 31 Dec 9999 23:59:59 GMT");
    x.max_age = 0;
    x.expires = 2147483648;
    expect_format(&x, "v", "n=v; Max-Age=0; Expires=Tue, 19 Jan 2038 03:14:08 GMT");

    /* Token names with characters of the encode set are encoded like the crate does. */
    csession__cookie_attrs t = attrs_named("a#b|c");
    expect_format(&t, "\r\n", "a%23b%7Cc=%0D%0A");
}

static void test_format_removal(void **state)
{
    (void)state;
    csession__cookie_attrs a = default_attrs();
    a.has_max_age = 1; /* ignored for removal */
    a.max_age = 3600;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_format_removal(&b, &a), 0);
    assert_string_equal(b.ptr, "id=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0; "
                               "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    a.domain = "example.com";
    a.domain_len = 11;
    a.partitioned = 1;
    assert_int_equal(csession__cookie_format_removal(&b, &a), 0);
    assert_string_equal(b.ptr, "id=; HttpOnly; SameSite=Lax; Partitioned; Secure; Path=/; "
                               "Domain=example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    /* Removal validates like format. */
    a.name = "bad name";
    a.name_len = 8;
    assert_int_equal(csession__cookie_format_removal(&b, &a), CSESSION_EINVAL);
    assert_int_equal(b.size, 0);
    assert_int_equal(csession__cookie_format_removal(NULL, &a), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_format_removal(&b, NULL), CSESSION_EINVAL);
    csession_buf_dispose(&b);
}

static void test_format_reuses_buffer(void **state)
{
    (void)state;
    csession__cookie_attrs a = default_attrs();
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__buf_set(&b, "previous contents", 17), 0);
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    assert_string_equal(b.ptr, "id=v; HttpOnly; SameSite=Lax; Secure; Path=/");
    /* A failure leaves the buffer empty but usable. */
    a.same_site = CSESSION__SAME_SITE_NONE;
    a.secure = 0;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);
    assert_int_equal(b.size, 0);
    assert_string_equal(b.ptr, "");
    csession_buf_dispose(&b);
    assert_null(b.ptr);
}

typedef struct bad_case {
    const char *what;
    const char *name;
    size_t name_len; /* 0: strlen */
    const char *path;
    size_t path_len;
    const char *domain;
    size_t domain_len;
    int expect;
} bad_case;

#define S(x) x, sizeof(x) - 1

static const bad_case bad_cases[] = {
    { "empty name", S(""), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "space in name", S("a b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "CR in name", S("a\rb"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "LF in name", S("a\nSet-Cookie: x=y"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "';' in name", S("a;b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "'=' in name", S("a=b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "NUL in name", S("a\0b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "quote in name", S("\"a\""), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "comma in name", S("a,b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "paren in name", S("a(b)"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "slash in name", S("a/b"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "DEL in name", S("a\x7f"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "UTF-8 in name", S("caf\xc3\xa9"), NULL, 0, NULL, 0, CSESSION_EINVAL },
    { "';' in path", S("id"), S("/a;Domain=evil.com"), NULL, 0, CSESSION_EINVAL },
    { "CR LF in path", S("id"), S("/\r\nSet-Cookie: x=y"), NULL, 0, CSESSION_EINVAL },
    { "LF in path", S("id"), S("/\n"), NULL, 0, CSESSION_EINVAL },
    { "NUL in path", S("id"), S("/\0"), NULL, 0, CSESSION_EINVAL },
    { "tab in path", S("id"), S("/\t"), NULL, 0, CSESSION_EINVAL },
    { "DEL in path", S("id"), S("/\x7f"), NULL, 0, CSESSION_EINVAL },
    { "UTF-8 in path", S("id"), S("/caf\xc3\xa9"), NULL, 0, CSESSION_EINVAL },
    { "relative path", S("id"), S("app"), NULL, 0, CSESSION_EINVAL },
    { "empty path", S("id"), S(""), NULL, 0, CSESSION_EINVAL },
    { "';' in domain", S("id"), NULL, 0, S("a.com;Secure"), CSESSION_EINVAL },
    { "space in domain", S("id"), NULL, 0, S("a.com x"), CSESSION_EINVAL },
    { "CR LF in domain", S("id"), NULL, 0, S("a.com\r\nX: y"), CSESSION_EINVAL },
    { "NUL in domain", S("id"), NULL, 0, S("a.com\0"), CSESSION_EINVAL },
    { "slash in domain", S("id"), NULL, 0, S("a.com/x"), CSESSION_EINVAL },
    { "port in domain", S("id"), NULL, 0, S("a.com:80"), CSESSION_EINVAL },
    { "UTF-8 in domain", S("id"), NULL, 0, S("b\xc3\xbc.de"), CSESSION_EINVAL },
    { "empty domain", S("id"), NULL, 0, S(""), CSESSION_EINVAL },
    { "dot domain", S("id"), NULL, 0, S("."), CSESSION_EINVAL },
};

static void test_format_refuses_injection(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        csession__cookie_attrs a;
        memset(&a, 0, sizeof a);
        a.name = c->name;
        a.name_len = c->name_len;
        a.path = c->path;
        a.path_len = c->path_len;
        a.domain = c->domain;
        a.domain_len = c->domain_len;
        int rc = csession__cookie_format(&b, &a, "v", 1);
        if (rc != c->expect)
            fail_msg("%s: rc %d, want %d", c->what, rc, c->expect);
        assert_int_equal(b.size, 0);
        /* The message never echoes the raw bytes (they may hold CR/LF). */
        assert_null(strchr(csession_last_error(), '\r'));
        assert_null(strchr(csession_last_error(), '\n'));
    }
    csession_buf_dispose(&b);
}

static void test_format_refusals(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    csession__cookie_attrs a = default_attrs();

    /* SameSite=None and Partitioned need Secure. */
    a.secure = 0;
    a.same_site = CSESSION__SAME_SITE_NONE;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "SameSite=None requires Secure"));
    a.same_site = CSESSION__SAME_SITE_LAX;
    a.partitioned = 1;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "Partitioned requires Secure"));
    a = default_attrs();
    a.same_site = (csession__same_site)7;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);
    a.same_site = (csession__same_site)-1;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);

    /* Negative Max-Age and Expires. */
    a = default_attrs();
    a.has_max_age = 1;
    a.max_age = -1;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);
    a.has_max_age = 0; /* ignored when not set */
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    a.has_expires = 1;
    a.expires = -1;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_EINVAL);

    /* Values: UTF-8 only, encoded length bounded. */
    a = default_attrs();
    assert_int_equal(csession__cookie_format(&b, &a, "\xc3", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_format(&b, &a, NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_format(&b, &a, NULL, 0), 0);
    assert_string_equal(b.ptr, "id=; HttpOnly; SameSite=Lax; Secure; Path=/");
    char *big = filled(CSESSION__COOKIE_VALUE_MAX, 'a');
    assert_int_equal(csession__cookie_format(&b, &a, big, CSESSION__COOKIE_VALUE_MAX), 0);
    big[0] = ','; /* 4095 + 3 encoded bytes */
    assert_int_equal(csession__cookie_format(&b, &a, big, CSESSION__COOKIE_VALUE_MAX), CSESSION_ETOOBIG);
    assert_int_equal(csession__cookie_format(&b, &a, big + 1, CSESSION__COOKIE_VALUE_MAX - 1), 0);
    free(big);

    /* Name, Path and Domain limits. */
    char *name = filled(CSESSION__COOKIE_NAME_MAX + 1, 'n');
    a.name = name;
    a.name_len = CSESSION__COOKIE_NAME_MAX;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    a.name_len++;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_ETOOBIG);
    free(name);
    a = default_attrs();
    char *path = filled(CSESSION__COOKIE_ATTR_MAX + 1, 'p');
    path[0] = '/';
    a.path = path;
    a.path_len = CSESSION__COOKIE_ATTR_MAX;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    a.path_len++;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_ETOOBIG);
    a = default_attrs();
    a.domain = path + 1; /* "ppp..." is a valid host name */
    a.domain_len = CSESSION__COOKIE_ATTR_MAX;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    a.domain_len++;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), CSESSION_ETOOBIG);
    free(path);

    assert_int_equal(csession__cookie_format(NULL, &a, "v", 1), CSESSION_EINVAL);
    assert_int_equal(csession__cookie_format(&b, NULL, "v", 1), CSESSION_EINVAL);
    csession_buf_dispose(&b);
}

/* The RFC 6265bis name prefixes: what browsers would drop is refused, in
 * the formatter and in the removal cookie alike. */
static void expect_prefix_refused(const csession__cookie_attrs *a, const char *why)
{
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_format(&b, a, "v", 1), CSESSION_EINVAL);
    if (!strstr(csession_last_error(), why))
        fail_msg("'%.*s': message '%s' lacks '%s'", (int)a->name_len, a->name,
                 csession_last_error(), why);
    assert_int_equal(b.size, 0);
    assert_int_equal(csession__cookie_format_removal(&b, a), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), why));
    csession_buf_dispose(&b);
}

static void test_format_prefixes(void **state)
{
    (void)state;
    static const char *const secure_names[] = { "__Secure-id", "__secure-id", "__SECURE-id",
                                                "__sEcUrE-", "__Secure-x-__Host-y" };
    static const char *const host_names[] = { "__Host-id", "__host-id", "__HOST-id", "__hOsT-" };
    static const char secure_rule[] = "starting with __Secure- requires Secure";
    static const char host_rule[] = "starting with __Host- requires Secure, Path=/ and no Domain";
    csession__cookie_attrs a;

    for (size_t i = 0; i < sizeof secure_names / sizeof secure_names[0]; i++) {
        /* Secure is all __Secure- asks for: any Path, a Domain are fine. */
        a = default_attrs();
        a.name = secure_names[i];
        a.name_len = strlen(a.name);
        a.path = "/app";
        a.path_len = 4;
        a.domain = "example.com";
        a.domain_len = 11;
        csession_buf b = CSESSION_BUF_INIT;
        assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
        csession_buf_dispose(&b);
        a.secure = 0;
        expect_prefix_refused(&a, secure_rule);
    }

    for (size_t i = 0; i < sizeof host_names / sizeof host_names[0]; i++) {
        a = default_attrs();
        a.name = host_names[i];
        a.name_len = strlen(a.name);
        char want[64];
        snprintf(want, sizeof want, "%s=v; HttpOnly; SameSite=Lax; Secure; Path=/", a.name);
        expect_format(&a, "v", want);

        a.secure = 0;
        expect_prefix_refused(&a, host_rule);
        expect_prefix_refused(&a, "this one is not Secure");
        a = default_attrs();
        a.name = host_names[i];
        a.name_len = strlen(a.name);
        a.path = NULL; /* no Path attribute at all */
        a.path_len = 0;
        expect_prefix_refused(&a, "this one has no Path=/");
        a.path = "/app";
        a.path_len = 4;
        expect_prefix_refused(&a, "this one has no Path=/");
        a.path = "//";
        a.path_len = 2;
        expect_prefix_refused(&a, host_rule);
        a.path = "/";
        a.path_len = 1;
        a.domain = "example.com";
        a.domain_len = 11;
        expect_prefix_refused(&a, "this one has a Domain");
        a.domain = ".example.com"; /* the dropped dot does not make it host-only */
        a.domain_len = 12;
        expect_prefix_refused(&a, "this one has a Domain");
    }

    /* Only a prefix at the start counts, and only the whole prefix. */
    static const char *const plain[] = { "id", "x__Host-id", "_Host-id", "__Host", "__Hostid",
                                         "__Secure", "__Secureid", "Secure-id", "__Host_id" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        a = default_attrs();
        a.name = plain[i];
        a.name_len = strlen(a.name);
        a.secure = 0;
        a.path = "/app";
        a.path_len = 4;
        a.domain = "example.com";
        a.domain_len = 11;
        csession_buf b = CSESSION_BUF_INIT;
        if (csession__cookie_format(&b, &a, "v", 1) != 0)
            fail_msg("'%s' refused: %s", plain[i], csession_last_error());
        csession_buf_dispose(&b);
    }
    /* A name cut before the prefix is complete has none. */
    a = default_attrs();
    a.name = "__Host-id";
    a.name_len = 6;
    a.secure = 0;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__cookie_format(&b, &a, "v", 1), 0);
    assert_string_equal(b.ptr, "__Host=v; HttpOnly; SameSite=Lax; Path=/");
    csession_buf_dispose(&b);
}

/* A formatted Set-Cookie comes back, as a browser would send it, to the same value. */
static void test_format_parse_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = { "id", "a#b", "x%y", "~^`|" };
    csession_buf b = CSESSION_BUF_INIT;
    char value[600], out[CSESSION__COOKIE_VALUE_MAX];
    for (int round = 0; round < 500; round++) {
        const char *name = names[round % 4];
        csession__cookie_attrs a = default_attrs();
        a.name = name;
        a.name_len = strlen(name);
        size_t n = 0, target = rng() % 120;
        while (n < target)
            n += random_utf8(value + n);
        assert_int_equal(csession__cookie_format(&b, &a, value, n), 0);
        /* The name=value part is what a browser sends back. */
        const char *semi = strchr(b.ptr, ';');
        assert_non_null(semi);
        char header[2048];
        int hl = snprintf(header, sizeof header, "other=1; %.*s; last=2", (int)(semi - b.ptr), b.ptr);
        csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
        const char *v;
        size_t vlen, out_len;
        assert_int_equal(csession__cookie_find(header, (size_t)hl, name, strlen(name), &cur, &v, &vlen), 0);
        assert_int_equal(csession__cookie_decode(v, vlen, out, sizeof out, &out_len), 0);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, value, n);
    }
    csession_buf_dispose(&b);
}

static void test_is_token(void **state)
{
    (void)state;
    assert_true(csession__cookie_is_token("id", 2));
    assert_true(csession__cookie_is_token("!#$%&'*+-.^_`|~09AZaz", 21));
    assert_false(csession__cookie_is_token("", 0));
    assert_false(csession__cookie_is_token(NULL, 1));
    for (int c = 0; c < 256; c++) {
        char s[1] = { (char)c };
        int expect = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        assert_int_equal(csession__cookie_is_token(s, 1), expect);
    }
}

/* ---- out of memory ------------------------------------------------------ */

static int oom_format_body(void *ctx)
{
    (void)ctx;
    csession__cookie_attrs a = default_attrs();
    a.domain = "example.com";
    a.domain_len = 11;
    a.has_expires = 1;
    a.expires = 784111777;
    csession_buf b = CSESSION_BUF_INIT;
    int rc = csession__cookie_format(&b, &a, "a value; with things to encode", 30);
    if (rc == 0 && strcmp(b.ptr, "id=a%20value%3B%20with%20things%20to%20encode; HttpOnly; SameSite=Lax; "
                                 "Secure; Path=/; Domain=example.com; "
                                 "Expires=Sun, 06 Nov 1994 08:49:37 GMT") != 0)
        rc = CSESSION_ERROR;
    if (rc == CSESSION_ENOMEM && b.size != 0)
        rc = CSESSION_ERROR;
    if (rc == 0 && (rc = csession__cookie_format_removal(&b, &a)) == 0 &&
        strncmp(b.ptr, "id=; HttpOnly", 13) != 0)
        rc = CSESSION_ERROR;
    csession_buf_dispose(&b);
    return rc;
}

static int oom_encode_body(void *ctx)
{
    (void)ctx;
    csession_buf b = CSESSION_BUF_INIT;
    char long_value[300];
    memset(long_value, '/', sizeof long_value);
    int rc = csession__cookie_encode(&b, long_value, sizeof long_value);
    if (rc == 0 && b.size != 3 * sizeof long_value)
        rc = CSESSION_ERROR;
    csession_buf_dispose(&b);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    oom_install();
    /* Formatting allocates exactly once, whatever the attributes. */
    assert_int_equal(oom_run_each_failure(oom_format_body, NULL), 1);
    assert_int_equal(oom_run_each_failure(oom_encode_body, NULL), 1);
    /* Parsing and decoding never allocate. */
    oom_fail_at(1, 1);
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    const char *v;
    size_t vlen;
    char out[16];
    assert_int_equal(csession__cookie_find(GA, sizeof GA - 1, "theme", 5, &cur, &v, &vlen), 0);
    assert_int_equal(csession__cookie_decode("a%20b", 5, out, sizeof out, &vlen), 0);
    assert_int_equal(oom_count(), 0);
    oom_fail_at(0, 0);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_table),
        cmocka_unit_test(test_find_embedded_nul),
        cmocka_unit_test(test_find_arguments),
        cmocka_unit_test(test_find_limits),
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_limits),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_encode_decode_round_trip),
        cmocka_unit_test(test_http_date),
        cmocka_unit_test(test_http_date_matches_gmtime),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_removal),
        cmocka_unit_test(test_format_reuses_buffer),
        cmocka_unit_test(test_format_refuses_injection),
        cmocka_unit_test(test_format_refusals),
        cmocka_unit_test(test_format_prefixes),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_is_token),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
