/*
 * The Cookie: / Set-Cookie: header codec: finding a cookie in a request
 * header, percent-decoding and -encoding values the way the Rust `cookie`
 * crate does (for wire compatibility with actix-web services), and writing
 * Set-Cookie values. Every input byte is treated as hostile: lengths are
 * explicit, nothing is read past them, and parsing allocates nothing.
 */
#include "header.h"

#include <stdint.h>
#include <string.h>

#include "digits.h"
#include "error.h"
#include "buf.h"
#include "swar.h"
#include "utf8.h"

/* ---- character classes ------------------------------------------------- */

/* RFC 9110 tchar, which is what RFC 6265 calls a cookie-name token. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

int csession__cookie_is_token(const char *name, size_t len)
{
    if (!name || len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return 0;
    return 1;
}

/*
 * The `cookie` crate (0.16.1 and later, src/lib.rs, mod encoding) encodes
 * names and values with percent_encoding::percent_encode() and this set:
 *
 *   const FRAGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<')
 *       .add(b'>').add(b'`');
 *   const PATH: &AsciiSet = &FRAGMENT.add(b'#').add(b'?').add(b'{').add(b'}');
 *   const USERINFO: &AsciiSet = &PATH.add(b'/').add(b':').add(b';').add(b'=')
 *       .add(b'@').add(b'[').add(b'\\').add(b']').add(b'^').add(b'|').add(b'%');
 *   const COOKIE: &AsciiSet = &USERINFO.add(b'(').add(b')').add(b',');
 *
 * CONTROLS is 0x00-0x1F and 0x7F; percent_encode() also encodes every byte
 * >= 0x80. Hex digits are upper case.
 */
/* must_encode_table[c] is 1 for the bytes above: CONTROLS, the COOKIE set
 * and every byte >= 0x7F. A table rather than a switch: every byte of every
 * Set-Cookie value goes through here, and a JSON state is mostly bytes of
 * the set. */
static const unsigned char must_encode_table[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int must_encode(unsigned char c)
{
    return must_encode_table[c];
}

/*
 * Decodes the byte at s[*i], advancing *i: a `%` with two hex digits after it
 * is one byte, anything else stands for itself (percent_encoding's rule).
 */
static unsigned char decode_at(const char *s, size_t len, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%' && len - *i >= 3) {
        int hi = csession__hex_digit((unsigned char)s[*i + 1]);
        int lo = csession__hex_digit((unsigned char)s[*i + 2]);
        if (hi >= 0 && lo >= 0) {
            *i += 3;
            return (unsigned char)(hi << 4 | lo);
        }
    }
    *i += 1;
    return c;
}

/* ---- Cookie: request header -------------------------------------------- */

/* RFC 6265 §5.2 trims WSP (space and horizontal tab) around names and values. */
static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char *s, size_t *start, size_t *end)
{
    while (*start < *end && is_wsp(s[*start]))
        (*start)++;
    while (*end > *start && is_wsp(s[*end - 1]))
        (*end)--;
}

/* Compares the percent-decoded `raw` with `want` without decoding into memory. */
static int name_matches(const char *raw, size_t raw_len, const char *want, size_t want_len)
{
    size_t i = 0, j = 0;
    while (i < raw_len) {
        unsigned char c = decode_at(raw, raw_len, &i);
        if (j == want_len || (unsigned char)want[j] != c)
            return 0;
        j++;
    }
    return j == want_len;
}

/* Names are tokens, so printing them is safe; very long ones are cut. */
#define NAME_FMT_LEN(len) ((int)((len) > 64 ? 64 : (len)))

int csession__cookie_find(const char *header, size_t header_len,
                          const char *name, size_t name_len,
                          csession__cookie_cursor *cursor,
                          const char **value, size_t *value_len)
{
    if (value)
        *value = NULL;
    if (value_len)
        *value_len = 0;
    if (!cursor || !value || !value_len || !name || (!header && header_len))
        return csession__error(CSESSION_EINVAL, "cookie lookup: NULL argument");
    if (!csession__cookie_is_token(name, name_len))
        return csession__error(CSESSION_EINVAL, "cookie lookup: the name is not a token");
    if (header_len > CSESSION__COOKIE_HEADER_MAX)
        return csession__error(CSESSION_ETOOBIG,
                               "Cookie header of %zu bytes exceeds the limit of %d",
                               header_len, CSESSION__COOKIE_HEADER_MAX);

    size_t pos = cursor->pos;
    while (pos < header_len) {
        const char *semi = memchr(header + pos, ';', header_len - pos);
        size_t end = semi ? (size_t)(semi - header) : header_len;
        size_t next = semi ? end + 1 : end;
        const char *eq = memchr(header + pos, '=', end - pos);
        if (eq) { /* a pair without '=' is not a cookie: skipped */
            size_t ns = pos, ne = (size_t)(eq - header);
            size_t vs = ne + 1, ve = end;
            trim(header, &ns, &ne);
            trim(header, &vs, &ve);
            if (ve - vs >= 2 && header[vs] == '"' && header[ve - 1] == '"') {
                vs++;
                ve--;
            }
            if (name_matches(header + ns, ne - ns, name, name_len)) {
                cursor->pos = next;
                if (ve - vs > CSESSION__COOKIE_VALUE_MAX)
                    return csession__error(CSESSION_ETOOBIG,
                                           "cookie '%.*s' has a value of %zu bytes, over the limit of %d",
                                           NAME_FMT_LEN(name_len), name, ve - vs,
                                           CSESSION__COOKIE_VALUE_MAX);
                *value = header + vs;
                *value_len = ve - vs;
                return 0;
            }
        }
        pos = next;
    }
    if (cursor->pos < header_len)
        cursor->pos = header_len;
    return csession__error(CSESSION_ENOTFOUND, "no (further) cookie named '%.*s'",
                           NAME_FMT_LEN(name_len), name);
}

/* ---- percent-decoding and -encoding ------------------------------------- */

int csession__cookie_decode(const char *in, size_t in_len,
                            char *out, size_t out_cap, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!out_len || !out || (!in && in_len))
        return csession__error(CSESSION_EINVAL, "cookie decode: NULL argument");
    if (in_len > CSESSION__COOKIE_VALUE_MAX)
        return csession__error(CSESSION_ETOOBIG,
                               "cookie value of %zu bytes exceeds the limit of %d",
                               in_len, CSESSION__COOKIE_VALUE_MAX);
    /* In place is safe: each output byte consumes at least one input byte
     * (and a word is loaded before any of it is stored). */
    size_t i = 0, n = 0;
    while (i < in_len) {
        /* Eight bytes a step through runs without '%' (all of a base64
         * value); a word with a '%' gives the bytes before it. */
        if (in_len - i >= 8 && out_cap - n >= 8) {
            uint64_t w = csession__swar_load(in + i);
            uint64_t pct = csession__swar_eq(w, '%');
            unsigned run = pct ? csession__swar_skip(pct) : 8;
            memcpy(out + n, &w, run);
            i += run;
            n += run;
            if (run == 8)
                continue;
        }
        unsigned char c = (unsigned char)in[i];
        if (c == '%')
            c = decode_at(in, in_len, &i);
        else
            i++;
        if (n == out_cap)
            return csession__error(CSESSION_ETOOBIG,
                                   "decoded cookie value does not fit %zu bytes", out_cap);
        out[n++] = (char)c;
    }
    if (!csession__utf8_valid(out, n))
        return csession__error(CSESSION_EFORMAT, "decoded cookie value is not valid UTF-8");
    *out_len = n;
    return 0;
}

static size_t encoded_len(const char *in, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += must_encode((unsigned char)in[i]) ? 3 : 1;
    return n;
}

/* Writes the encoding of in[0..len) at dst; enc_len is encoded_len(in, len). */
static void encode_into(char *dst, const char *in, size_t len, size_t enc_len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (enc_len == len) { /* nothing to encode, as in URL-safe base64 */
        if (len)
            memcpy(dst, in, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (must_encode(c)) {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0x0F];
        } else {
            *dst++ = (char)c;
        }
    }
}

/* Checks a value for encoding; sets *enc_len. 0 or an error code (reported). */
static int check_value(const char *in, size_t len, size_t *enc_len)
{
    if (!in && len)
        return csession__error(CSESSION_EINVAL, "cookie value: NULL argument");
    if (len && !csession__utf8_valid(in, len))
        return csession__error(CSESSION_EINVAL, "cookie value is not valid UTF-8");
    /* Decide on the input length first so that huge inputs cannot overflow. */
    if (len > CSESSION__COOKIE_VALUE_MAX || (*enc_len = encoded_len(in, len)) > CSESSION__COOKIE_VALUE_MAX)
        return csession__error(CSESSION_ETOOBIG,
                               "encoded cookie value would exceed the limit of %d bytes",
                               CSESSION__COOKIE_VALUE_MAX);
    return 0;
}

int csession__cookie_encode(csession_buf *out, const char *in, size_t in_len)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "cookie encode: NULL argument");
    csession__buf_clear(out);
    size_t n = 0;
    int rc = check_value(in, in_len, &n);
    if (rc)
        return rc;
    if ((rc = csession__buf_grow(out, n)) != 0)
        return rc;
    encode_into(out->ptr, in, in_len, n);
    out->size = n;
    out->ptr[n] = '\0';
    return 0;
}

/* ---- IMF-fixdate -------------------------------------------------------- */

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

int csession__http_date(int64_t t, char out[CSESSION__HTTP_DATE_SIZE])
{
    static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    if (!out || t < 0 || t > CSESSION__HTTP_DATE_MAX)
        return csession__error(CSESSION_EINVAL, "date out of range for an HTTP date");

    /* Plain arithmetic instead of gmtime(): no locale, no shared buffer, no
     * time_t width questions. Civil-from-days after H. Hinnant's algorithm,
     * with days counted from 0000-03-01 so leap days fall at a year's end. */
    int64_t days = t / 86400, secs = t % 86400;
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;                                   /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                  /* [0, 11], March = 0 */
    unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));

    /* "Sun, 06 Nov 1994 08:49:37 GMT": the year has 4 digits in this range. */
    memcpy(out, wday[(days + 4) % 7], 3); /* 1970-01-01 was a Thursday */
    memcpy(out + 3, ", ", 2);
    put2(out + 5, day);
    out[7] = ' ';
    memcpy(out + 8, mon[month - 1], 3);
    out[11] = ' ';
    put2(out + 12, year / 100);
    put2(out + 14, year % 100);
    out[16] = ' ';
    put2(out + 17, (unsigned)(secs / 3600));
    out[19] = ':';
    put2(out + 20, (unsigned)(secs / 60 % 60));
    out[22] = ':';
    put2(out + 23, (unsigned)(secs % 60));
    memcpy(out + 25, " GMT", 5); /* with the NUL */
    return 0;
}

/* ---- Set-Cookie --------------------------------------------------------- */

/*
 * Output is produced twice: once to count, once to write into a buffer grown
 * to the exact size, so formatting makes a single allocation at most.
 */
typedef struct writer {
    char *dst; /* NULL while counting */
    size_t len;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->dst)
        memcpy(w->dst + w->len, s, n);
    w->len += n;
}

static void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* enc_len is encoded_len(s, n), computed once for both passes. */
static void put_encoded(writer *w, const char *s, size_t n, size_t enc_len)
{
    if (w->dst)
        encode_into(w->dst + w->len, s, n, enc_len);
    w->len += enc_len;
}

static void put_u64(writer *w, uint64_t v)
{
    char digits[CSESSION__DECIMAL_MAX];
    const char *d = csession__decimal_u64(digits, v);
    put(w, d, (size_t)(digits + sizeof digits - d));
}

static int check_name(const char *name, size_t len)
{
    if (!name || len == 0)
        return csession__error(CSESSION_EINVAL, "cookie name is empty");
    if (len > CSESSION__COOKIE_NAME_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie name of %zu bytes exceeds the limit of %d",
                               len, CSESSION__COOKIE_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return csession__error(CSESSION_EINVAL,
                                   "cookie name is not an RFC 6265 token (byte 0x%02x at offset %zu)",
                                   (unsigned char)name[i], i);
    return 0;
}

/* RFC 6265 path-value: any CHAR except CTLs or ';'. Non-ASCII is refused too. */
static int check_path(const char *path, size_t len)
{
    if (len == 0 || path[0] != '/')
        return csession__error(CSESSION_EINVAL, "cookie Path must start with '/'");
    if (len > CSESSION__COOKIE_ATTR_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie Path of %zu bytes exceeds the limit of %d",
                               len, CSESSION__COOKIE_ATTR_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c >= 0x7F || c == ';')
            return csession__error(CSESSION_EINVAL,
                                   "cookie Path has a forbidden byte 0x%02x at offset %zu", c, i);
    }
    return 0;
}

/* Host names only (IDNs in their ASCII form); anything else could break the header. */
static int check_domain(const char *domain, size_t len)
{
    if (len == 0)
        return csession__error(CSESSION_EINVAL, "cookie Domain is empty");
    if (len > CSESSION__COOKIE_ATTR_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie Domain of %zu bytes exceeds the limit of %d",
                               len, CSESSION__COOKIE_ATTR_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)domain[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_';
        if (!ok)
            return csession__error(CSESSION_EINVAL,
                                   "cookie Domain has a forbidden byte 0x%02x at offset %zu", c, i);
    }
    return 0;
}

/* Non-zero when name[0..len) starts with `lower`, a lower-case ASCII
 * prefix, in any case. */
static int has_prefix(const char *name, size_t len, const char *lower)
{
    size_t n = strlen(lower);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)lower[i])
            return 0;
    }
    return 1;
}

/*
 * The cookie name prefixes of RFC 6265bis (section 4.1.3): a browser keeps a
 * "__Secure-" cookie only when it is Secure, and a "__Host-" cookie only
 * when it is Secure, has Path=/ and no Domain. A cookie that browsers would
 * drop is a configuration error. The prefixes match in any case of their
 * ASCII letters, as the later drafts and Chromium match them: a browser
 * holds "__host-id" to the same rules as "__Host-id".
 */
static int check_prefix(const csession__cookie_attrs *a)
{
    if (has_prefix(a->name, a->name_len, "__secure-") && !a->secure)
        return csession__error(CSESSION_EINVAL,
                               "a cookie name starting with __Secure- requires Secure (this one "
                               "is not Secure): browsers reject the cookie otherwise");
    if (!has_prefix(a->name, a->name_len, "__host-"))
        return 0;
    const char *why = !a->secure                     ? "is not Secure"
                      : !a->path || a->path_len != 1 ? "has no Path=/"
                      : a->domain                    ? "has a Domain"
                                                     : NULL;
    if (why)
        return csession__error(CSESSION_EINVAL,
                               "a cookie name starting with __Host- requires Secure, Path=/ and "
                               "no Domain (this one %s): browsers reject the cookie otherwise",
                               why);
    return 0;
}

static int check_attrs(const csession__cookie_attrs *a, const char **domain, size_t *domain_len)
{
    int rc = check_name(a->name, a->name_len);
    if (rc)
        return rc;
    if (a->path && (rc = check_path(a->path, a->path_len)) != 0)
        return rc;
    *domain = a->domain;
    *domain_len = a->domain_len;
    if (*domain) {
        /* The cookie crate (0.17+) prints a Domain without its leading dot;
         * browsers ignore that dot anyway (RFC 6265 §5.2.3). */
        if (*domain_len && (*domain)[0] == '.') {
            (*domain)++;
            (*domain_len)--;
        }
        if ((rc = check_domain(*domain, *domain_len)) != 0)
            return rc;
    }
    if (a->has_max_age && a->max_age < 0)
        return csession__error(CSESSION_EINVAL, "cookie Max-Age is negative");
    if (a->has_expires && a->expires < 0)
        return csession__error(CSESSION_EINVAL, "cookie Expires is before 1970");
    switch (a->same_site) {
    case CSESSION__SAME_SITE_UNSET:
    case CSESSION__SAME_SITE_STRICT:
    case CSESSION__SAME_SITE_LAX:
        break;
    case CSESSION__SAME_SITE_NONE:
        if (!a->secure)
            return csession__error(CSESSION_EINVAL,
                                   "SameSite=None requires Secure: browsers reject the cookie otherwise");
        break;
    default:
        return csession__error(CSESSION_EINVAL, "unknown SameSite value %d", (int)a->same_site);
    }
    if (a->partitioned && !a->secure)
        return csession__error(CSESSION_EINVAL,
                               "Partitioned requires Secure: browsers reject the cookie otherwise");
    return check_prefix(a);
}

/* The encoded lengths of the name and the value, computed once. */
typedef struct encoded_lens {
    size_t name, value;
} encoded_lens;

static void emit(writer *w, const csession__cookie_attrs *a, const char *domain, size_t domain_len,
                 const char *value, size_t value_len, const encoded_lens *enc, const char *date)
{
    static const char *const same_site[] = { NULL, "Strict", "Lax", "None" };

    put_encoded(w, a->name, a->name_len, enc->name);
    put(w, "=", 1);
    put_encoded(w, value, value_len, enc->value);
    /* The order of the cookie crate's fmt_parameters(). */
    if (a->http_only)
        put_str(w, "; HttpOnly");
    if (a->same_site != CSESSION__SAME_SITE_UNSET) {
        put_str(w, "; SameSite=");
        put_str(w, same_site[a->same_site]);
    }
    if (a->partitioned)
        put_str(w, "; Partitioned");
    if (a->secure)
        put_str(w, "; Secure");
    if (a->path) {
        put_str(w, "; Path=");
        put(w, a->path, a->path_len);
    }
    if (domain) {
        put_str(w, "; Domain=");
        put(w, domain, domain_len);
    }
    if (a->has_max_age) {
        put_str(w, "; Max-Age=");
        put_u64(w, (uint64_t)a->max_age);
    }
    if (a->has_expires) {
        put_str(w, "; Expires=");
        put(w, date, CSESSION__HTTP_DATE_SIZE - 1);
    }
}

int csession__cookie_format(csession_buf *out, const csession__cookie_attrs *attrs,
                            const char *value, size_t value_len)
{
    if (!out || !attrs)
        return csession__error(CSESSION_EINVAL, "cookie format: NULL argument");
    csession__buf_clear(out);

    const char *domain;
    size_t domain_len, enc_len;
    int rc = check_attrs(attrs, &domain, &domain_len);
    if (rc || (rc = check_value(value, value_len, &enc_len)) != 0)
        return rc;
    char date[CSESSION__HTTP_DATE_SIZE] = "";
    if (attrs->has_expires) {
        int64_t t = attrs->expires > CSESSION__HTTP_DATE_MAX ? CSESSION__HTTP_DATE_MAX : attrs->expires;
        if ((rc = csession__http_date(t, date)) != 0)
            return rc;
    }

    encoded_lens enc = { encoded_len(attrs->name, attrs->name_len), enc_len };
    writer count = { NULL, 0 };
    emit(&count, attrs, domain, domain_len, value, value_len, &enc, date);
    if ((rc = csession__buf_grow(out, count.len)) != 0)
        return rc;
    writer w = { out->ptr, 0 };
    emit(&w, attrs, domain, domain_len, value, value_len, &enc, date);
    out->size = w.len;
    out->ptr[w.len] = '\0';
    return 0;
}

int csession__cookie_format_removal(csession_buf *out, const csession__cookie_attrs *attrs)
{
    if (!out || !attrs)
        return csession__error(CSESSION_EINVAL, "cookie format: NULL argument");
    csession__cookie_attrs removal = *attrs;
    removal.has_max_age = 1;
    removal.max_age = 0;
    /* A fixed date keeps the codec free of clocks; any past date expires it. */
    removal.has_expires = 1;
    removal.expires = 0;
    return csession__cookie_format(out, &removal, "", 0);
}
