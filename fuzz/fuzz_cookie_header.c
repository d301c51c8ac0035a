/*
 * Fuzzes the Cookie:/Set-Cookie: codec (src/cookie/header.c).
 *
 * The whole input is parsed as a Cookie: header and compared with a naive
 * reference scan; every value found is decoded, re-encoded and decoded again.
 * The input also describes a Set-Cookie (layout below) that is formatted,
 * checked for header safety, and parsed back to the same value.
 *
 * Input layout for the Set-Cookie part (missing bytes read as zero):
 *   [0] flags: secure, http_only, partitioned, same_site (2 bits),
 *       has_max_age, has_expires, has_path
 *   [1] bit 0: has_domain
 *   [2..9] a 64-bit number: expires, and max_age (rotated)
 *   [10] [11] [12] lengths of name, path, domain taken from the bytes after
 *   [13..] name, path, domain, then the value
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "cookie/header.h"
#include "csession.h"
#include "fuzz_check.h"


/* ---- a deliberately naive reference of the Cookie: rules ---------------- */

static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes into out (big enough: never longer than the input); returns the length. */
static size_t ref_decode(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%' && len - i >= 3 && ref_hex(in[i + 1]) >= 0 && ref_hex(in[i + 2]) >= 0) {
            out[n++] = (uint8_t)(ref_hex(in[i + 1]) * 16 + ref_hex(in[i + 2]));
            i += 2;
        } else {
            out[n++] = in[i];
        }
    }
    return n;
}

typedef struct ref_hit {
    size_t off, len;
} ref_hit;

/* All values of `name` in header order. Returns the number of hits. */
static size_t ref_find(const uint8_t *h, size_t len, const char *name, ref_hit *hits, size_t max)
{
    size_t count = 0, start = 0;
    uint8_t *dec = malloc(len + 1);
    CHECK(dec != NULL);
    while (start <= len) {
        size_t end = start;
        while (end < len && h[end] != ';')
            end++;
        size_t eq = start;
        while (eq < end && h[eq] != '=')
            eq++;
        if (eq < end) {
            size_t ns = start, ne = eq, vs = eq + 1, ve = end;
            while (ns < ne && (h[ns] == ' ' || h[ns] == '\t')) ns++;
            while (ne > ns && (h[ne - 1] == ' ' || h[ne - 1] == '\t')) ne--;
            while (vs < ve && (h[vs] == ' ' || h[vs] == '\t')) vs++;
            while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
            if (ve - vs >= 2 && h[vs] == '"' && h[ve - 1] == '"') {
                vs++;
                ve--;
            }
            size_t dn = ref_decode(h + ns, ne - ns, dec);
            if (dn == strlen(name) && memcmp(dec, name, dn) == 0 && count < max) {
                hits[count].off = vs;
                hits[count].len = ve - vs;
                count++;
            }
        }
        start = end + 1;
    }
    free(dec);
    return count;
}

/* ---- checks --------------------------------------------------------------- */

static void check_value_coding(const char *v, size_t vlen)
{
    static char out[CSESSION__COOKIE_VALUE_MAX], again[CSESSION__COOKIE_VALUE_MAX];
    static char inplace[CSESSION__COOKIE_VALUE_MAX];
    static uint8_t ref[CSESSION__COOKIE_VALUE_MAX];
    size_t out_len = 1, again_len, inplace_len;

    int rc = csession__cookie_decode(v, vlen, out, sizeof out, &out_len);
    size_t ref_len = ref_decode((const uint8_t *)v, vlen, ref);
    CHECK(rc == 0 || rc == CSESSION_EFORMAT);
    if (rc != 0) {
        CHECK(out_len == 0);
        return;
    }
    CHECK(out_len == ref_len && memcmp(out, ref, ref_len) == 0);
    CHECK(out_len <= vlen);

    /* Decoding in place gives the same bytes. */
    memcpy(inplace, v, vlen);
    CHECK(csession__cookie_decode(inplace, vlen, inplace, vlen, &inplace_len) == 0);
    CHECK(inplace_len == out_len && memcmp(inplace, out, out_len) == 0);

    /* Re-encoding: valid UTF-8 always encodes, unless it grows past the limit. */
    csession_buf enc = CSESSION_BUF_INIT;
    rc = csession__cookie_encode(&enc, out, out_len);
    CHECK(rc == 0 || rc == CSESSION_ETOOBIG);
    if (rc == 0) {
        CHECK(enc.size <= CSESSION__COOKIE_VALUE_MAX);
        for (size_t i = 0; i < enc.size; i++) {
            unsigned char c = (unsigned char)enc.ptr[i];
            CHECK(c > 0x20 && c < 0x7F && c != ';' && c != '"' && c != ',' && c != '\\');
        }
        CHECK(csession__cookie_decode(enc.ptr, enc.size, again, sizeof again, &again_len) == 0);
        CHECK(again_len == out_len && memcmp(again, out, out_len) == 0);
    } else {
        CHECK(enc.size == 0);
    }
    csession_buf_dispose(&enc);
}

static void check_parse(const uint8_t *data, size_t size, const char *name)
{
    enum { MAX_HITS = 4096 };
    static ref_hit hits[MAX_HITS];
    const char *h = (const char *)data;
    csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
    const char *v;
    size_t vlen;

    if (size > CSESSION__COOKIE_HEADER_MAX) {
        CHECK(csession__cookie_find(h, size, name, strlen(name), &cur, &v, &vlen) == CSESSION_ETOOBIG);
        CHECK(cur.pos == 0);
        return;
    }
    size_t n = ref_find(data, size, name, hits, MAX_HITS);
    size_t i = 0;
    for (;;) {
        size_t before = cur.pos;
        int rc = csession__cookie_find(h, size, name, strlen(name), &cur, &v, &vlen);
        if (rc == CSESSION_ENOTFOUND) {
            CHECK(v == NULL && vlen == 0);
            break;
        }
        CHECK(cur.pos > before && cur.pos <= size); /* always progresses, stays inside */
        CHECK(i < n);
        if (hits[i].len > CSESSION__COOKIE_VALUE_MAX) {
            CHECK(rc == CSESSION_ETOOBIG && v == NULL && vlen == 0);
        } else {
            CHECK(rc == 0);
            CHECK(v == h + hits[i].off && vlen == hits[i].len);
            CHECK(memchr(v, ';', vlen) == NULL);
            check_value_coding(v, vlen);
        }
        i++;
    }
    CHECK(i == n);
}

static int ascii_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F)
            return 0;
    return 1;
}

static size_t count_char(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

static void check_format(const uint8_t *data, size_t size)
{
    uint8_t hdr[13] = { 0 };
    memcpy(hdr, data, size < sizeof hdr ? size : sizeof hdr);
    const uint8_t *rest = size > sizeof hdr ? data + sizeof hdr : NULL;
    size_t rest_len = size > sizeof hdr ? size - sizeof hdr : 0;

    uint64_t num = 0;
    for (int i = 0; i < 8; i++)
        num = num << 8 | hdr[2 + i];

    csession__cookie_attrs a;
    memset(&a, 0, sizeof a);
    a.secure = hdr[0] & 1;
    a.http_only = hdr[0] >> 1 & 1;
    a.partitioned = hdr[0] >> 2 & 1;
    a.same_site = (csession__same_site)(hdr[0] >> 3 & 3);
    a.has_max_age = hdr[0] >> 5 & 1;
    a.has_expires = hdr[0] >> 6 & 1;
    a.expires = (int64_t)num;
    a.max_age = (int64_t)(num << 17 | num >> 47);

    /* Carve name, path and domain off the front of the rest. */
    size_t take[3] = { hdr[10], hdr[11], hdr[12] };
    const char *part[3];
    for (int i = 0; i < 3; i++) {
        if (take[i] > rest_len)
            take[i] = rest_len;
        part[i] = rest ? (const char *)rest : "";
        if (rest) {
            rest += take[i];
            rest_len -= take[i];
        }
    }
    a.name = part[0];
    a.name_len = take[0];
    if (hdr[0] >> 7 & 1) {
        a.path = part[1];
        a.path_len = take[1];
    }
    if (hdr[1] & 1) {
        a.domain = part[2];
        a.domain_len = take[2];
    }
    const char *value = rest ? (const char *)rest : NULL;
    size_t value_len = rest_len;

    csession_buf out = CSESSION_BUF_INIT;
    int rc = csession__cookie_format(&out, &a, value, value_len);
    CHECK(rc == 0 || rc == CSESSION_EINVAL || rc == CSESSION_ETOOBIG);
    if (rc == 0) {
        CHECK(out.ptr[out.size] == '\0' && strlen(out.ptr) == out.size);
        CHECK(ascii_safe(out.ptr, out.size));
        /* One "; " per attribute: nothing smuggled in a separator. */
        size_t attrs = (size_t)a.http_only + (a.same_site != CSESSION__SAME_SITE_UNSET) +
                       (size_t)a.partitioned + (size_t)a.secure + (a.path != NULL) +
                       (a.domain != NULL) + (size_t)a.has_max_age + (size_t)a.has_expires;
        CHECK(count_char(out.ptr, out.size, ';') == attrs);
        CHECK(a.same_site != CSESSION__SAME_SITE_NONE || a.secure);
        CHECK(!a.partitioned || a.secure);
        /* RFC 6265bis name prefixes, in any case: what browsers would drop. */
        if (a.name_len >= 9 && strncasecmp(a.name, "__Secure-", 9) == 0)
            CHECK(a.secure);
        if (a.name_len >= 7 && strncasecmp(a.name, "__Host-", 7) == 0)
            CHECK(a.secure && a.path && a.path_len == 1 && !a.domain);

        /* What a browser sends back is the name=value part: it must decode
         * to the value, under the name. */
        char name[CSESSION__COOKIE_NAME_MAX + 1];
        memcpy(name, a.name, a.name_len);
        name[a.name_len] = '\0';
        const char *semi = memchr(out.ptr, ';', out.size);
        size_t pair_len = semi ? (size_t)(semi - out.ptr) : out.size;
        csession__cookie_cursor cur = CSESSION__COOKIE_CURSOR_INIT;
        const char *v;
        size_t vlen, dec_len;
        static char dec[CSESSION__COOKIE_VALUE_MAX];
        CHECK(csession__cookie_find(out.ptr, pair_len, name, a.name_len, &cur, &v, &vlen) == 0);
        CHECK(csession__cookie_decode(v, vlen, dec, sizeof dec, &dec_len) == 0);
        CHECK(dec_len == value_len && (value_len == 0 || memcmp(dec, value, value_len) == 0));
        CHECK(csession__cookie_find(out.ptr, pair_len, name, a.name_len, &cur, &v, &vlen) ==
              CSESSION_ENOTFOUND);
    } else {
        CHECK(out.size == 0);
    }

    /* Removal accepts whatever format accepted (it only drops the value). */
    int rrc = csession__cookie_format_removal(&out, &a);
    CHECK(rrc == 0 || rrc == CSESSION_EINVAL || rrc == CSESSION_ETOOBIG);
    if (rc == 0)
        CHECK(rrc == 0);
    if (rrc == 0) {
        static const char tail[] = "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
        CHECK(ascii_safe(out.ptr, out.size));
        CHECK(out.size > sizeof tail - 1);
        CHECK(memcmp(out.ptr + out.size - (sizeof tail - 1), tail, sizeof tail - 1) == 0);
    } else {
        CHECK(out.size == 0);
    }
    csession_buf_dispose(&out);

    /* IMF-fixdate against the C library. */
    char date[CSESSION__HTTP_DATE_SIZE];
    int64_t t = (int64_t)num;
    if (t < 0 || t > CSESSION__HTTP_DATE_MAX) {
        CHECK(csession__http_date(t, date) == CSESSION_EINVAL);
    } else {
        CHECK(csession__http_date(t, date) == 0);
        CHECK(strlen(date) == CSESSION__HTTP_DATE_SIZE - 1);
        if (sizeof(time_t) >= 8) {
            time_t tt = (time_t)t;
            struct tm tm;
            CHECK(gmtime_r(&tt, &tm) != NULL);
            char want[64];
            static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
            static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
            snprintf(want, sizeof want, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday],
                     tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
            CHECK(strcmp(date, want) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse(data, size, "id");
    check_parse(data, size, "a");
    check_parse(data, size, "a#b");
    check_format(data, size);
    return 0;
}
