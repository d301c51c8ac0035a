/*
 * Validated JSON text. cJSON does not check UTF-8, truncates strings at an
 * escaped NUL and recurses up to 1000 levels; sessions must not silently
 * change or be a stack hazard, so every text is screened here first.
 */
#include "json_text.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "digits.h"
#include "error.h"
#include "utf8.h"

/*
 * A strict RFC 8259 scanner that also builds the cJSON tree, so that a text
 * is read once (cJSON_Parse() would read it a second time). Text cJSON would
 * accept but change is refused: "\u0000" (cJSON cuts the string there),
 * lone surrogates, invalid UTF-8, numbers longer than cJSON's 63-character
 * number buffer and numbers beyond the range of a double (printed as null).
 * The tree is cJSON's own (nodes from cJSON_Create*, strings from
 * cJSON_malloc), freed by cJSON_Delete() like any other.
 */
#define NUMBER_MAX_CHARS 63

typedef struct scanner {
    const char *s;
    size_t len;
    size_t pos;
    int max_depth;
    int build; /* 0: only check; 1: also build the tree */
} scanner;

static int syntax_error(const scanner *sc, const char *what)
{
    return csession__error(CSESSION_EFORMAT, "malformed JSON at byte %zu: %s", sc->pos, what);
}

static void skip_space(scanner *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

static int hex4(const char *s, size_t avail, unsigned *out)
{
    if (avail < 4)
        return 0;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int d = csession__hex_digit((unsigned char)s[i]);
        if (d < 0)
            return 0;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 1;
}

static char *put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | cp >> 12);
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | cp >> 18);
        *d++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* The contents of a string that scan_string() accepted, escapes decoded,
 * NUL-terminated, from cJSON_malloc (NULL: out of memory). The text never
 * grows: every escape is at least as long as the UTF-8 it stands for. */
static char *decode_string(const char *s, size_t len)
{
    char *out = cJSON_malloc(len + 1);
    if (!out)
        return NULL;
    char *d = out;
    size_t i = 0;
    while (i < len) {
        const char *esc = memchr(s + i, '\\', len - i);
        size_t run = esc ? (size_t)(esc - (s + i)) : len - i;
        memcpy(d, s + i, run);
        d += run;
        i += run;
        if (i == len)
            break;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            unsigned cp = 0, lo = 0;
            hex4(s + i, len - i, &cp);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair, checked by the scan */
                hex4(s + i + 2, len - i - 2, &lo);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            d = put_utf8(d, cp);
            break;
        }
        default: *d++ = e; break; /* " \ / */
        }
    }
    *d = '\0';
    return out;
}

/* Scans the string at sc->pos; when building, *out is its decoded text. */
static int scan_string(scanner *sc, char **out)
{
    size_t start = ++sc->pos; /* past the opening quote */
    while (sc->pos < sc->len) {
        if (sc->len - sc->pos >= 8) {
            unsigned run = csession__json_plain_run(sc->s + sc->pos);
            sc->pos += run;
            if (run == 8)
                continue;
        }
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            size_t end = sc->pos++;
            if (!sc->build)
                return 0;
            *out = decode_string(sc->s + start, end - start);
            return *out ? 0 : csession__oom();
        }
        if (c < 0x20)
            return syntax_error(sc, "control character in string");
        if (c != '\\') {
            sc->pos++;
            continue;
        }
        if (sc->pos + 1 >= sc->len)
            break;
        char e = sc->s[sc->pos + 1];
        if (strchr("\"\\/bfnrt", e) && e != '\0') {
            sc->pos += 2;
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || !hex4(sc->s + sc->pos + 2, sc->len - sc->pos - 2, &cp))
            return syntax_error(sc, "invalid escape");
        if (cp == 0)
            return csession__error(CSESSION_EFORMAT,
                                   "JSON string contains a NUL character (\\u0000) at byte %zu",
                                   sc->pos);
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return syntax_error(sc, "lone low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            size_t next = sc->pos + 6;
            if (sc->len - next < 6 || sc->s[next] != '\\' || sc->s[next + 1] != 'u' ||
                !hex4(sc->s + next + 2, sc->len - next - 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return syntax_error(sc, "lone high surrogate");
            sc->pos += 12;
        } else {
            sc->pos += 6;
        }
    }
    return syntax_error(sc, "unterminated string");
}

static int digits(scanner *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos > start;
}

/*
 * The double a number text stands for. An integer of at most 15 digits is
 * exact in a double and converted here (most session numbers are); anything
 * else goes to strtod(), with '.' made the locale's decimal point as cJSON
 * does. ERANGE for a number beyond a double (1e400): it would print as null.
 */
static int number_value(const char *text, size_t len, int integer, double *out)
{
    int negative = text[0] == '-';
    if (integer && len - (size_t)negative <= 15) {
        uint64_t v = 0;
        for (size_t i = (size_t)negative; i < len; i++)
            v = v * 10 + (uint64_t)(text[i] - '0');
        *out = negative ? -(double)v : (double)v;
        return 0;
    }
    char buf[NUMBER_MAX_CHARS + 1];
    memcpy(buf, text, len);
    buf[len] = '\0';
    char point = localeconv()->decimal_point[0];
    if (point != '.') {
        char *dot = memchr(buf, '.', len);
        if (dot)
            *dot = point;
    }
    double d = strtod(buf, NULL);
    if (!isfinite(d))
        return csession__error(CSESSION_ERANGE, "JSON number out of the range of a double");
    *out = d;
    return 0;
}

static int scan_number(scanner *sc, cJSON **out)
{
    size_t start = sc->pos;
    int integer = 1;
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '0')
        sc->pos++;
    else if (!digits(sc))
        return syntax_error(sc, "invalid number");
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        integer = 0;
        if (!digits(sc))
            return syntax_error(sc, "invalid number");
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        integer = 0;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!digits(sc))
            return syntax_error(sc, "invalid number");
    }
    size_t len = sc->pos - start;
    if (len > NUMBER_MAX_CHARS)
        return csession__error(CSESSION_EFORMAT, "JSON number longer than %d characters at byte %zu",
                               NUMBER_MAX_CHARS, start);
    double d = 0;
    int rc = number_value(sc->s + start, len, integer, &d);
    if (rc || !sc->build)
        return rc;
    *out = cJSON_CreateNumber(d);
    return *out ? 0 : csession__oom();
}

static int scan_literal(scanner *sc, const char *word, int type, cJSON **out)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return syntax_error(sc, "unexpected character");
    sc->pos += n;
    if (!sc->build)
        return 0;
    *out = type == cJSON_NULL ? cJSON_CreateNull() : cJSON_CreateBool(type == cJSON_True);
    return *out ? 0 : csession__oom();
}

static int scan_value(scanner *sc, int depth, cJSON **out);

/* Appends `item` to the children of `c` (cJSON keeps the last one in the
 * first child's prev). */
static void append_child(cJSON *c, cJSON *item)
{
    if (!c->child) {
        c->child = item;
    } else {
        item->prev = c->child->prev;
        c->child->prev->next = item;
    }
    c->child->prev = item;
}

/* Arrays and objects share one loop; `close` tells which. When building,
 * *out is the container, owned by the caller even on failure. */
static int scan_container(scanner *sc, int depth, char close, cJSON **out)
{
    if (depth >= sc->max_depth)
        return csession__error(CSESSION_ETOOBIG, "JSON nests deeper than the limit of %d levels",
                               sc->max_depth);
    cJSON *c = NULL;
    if (sc->build) {
        *out = c = close == '}' ? cJSON_CreateObject() : cJSON_CreateArray();
        if (!c)
            return csession__oom();
    }
    sc->pos++;
    skip_space(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return 0;
    }
    for (;;) {
        int rc;
        char *name = NULL;
        cJSON *item = NULL;
        if (close == '}') {
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
                return syntax_error(sc, "expected a member name");
            if ((rc = scan_string(sc, &name)))
                return rc;
            skip_space(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
                cJSON_free(name);
                return syntax_error(sc, "expected ':'");
            }
            sc->pos++;
        }
        rc = scan_value(sc, depth + 1, &item);
        if (sc->build && item) {
            item->string = name; /* the node owns it from here */
            append_child(c, item);
        } else {
            cJSON_free(name);
        }
        if (rc)
            return rc;
        skip_space(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            skip_space(sc);
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
            sc->pos++;
            return 0;
        }
        return syntax_error(sc, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int scan_value(scanner *sc, int depth, cJSON **out)
{
    skip_space(sc);
    if (sc->pos >= sc->len)
        return syntax_error(sc, "unexpected end");
    switch (sc->s[sc->pos]) {
    case '{': return scan_container(sc, depth, '}', out);
    case '[': return scan_container(sc, depth, ']', out);
    case '"': {
        char *text = NULL;
        int rc = scan_string(sc, &text);
        if (rc || !sc->build)
            return rc;
        if (!(*out = cJSON_CreateNull())) {
            cJSON_free(text);
            return csession__oom();
        }
        (*out)->type = cJSON_String;
        (*out)->valuestring = text;
        return 0;
    }
    case 't': return scan_literal(sc, "true", cJSON_True, out);
    case 'f': return scan_literal(sc, "false", cJSON_False, out);
    case 'n': return scan_literal(sc, "null", cJSON_NULL, out);
    default:
        if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9'))
            return scan_number(sc, out);
        return syntax_error(sc, "unexpected character");
    }
}

static int scan_text(const char *text, size_t len, int max_depth, cJSON **out)
{
    if (!csession__utf8_text(text, len))
        return csession__error(CSESSION_EFORMAT, "JSON text is not valid UTF-8 or contains NUL");
    scanner sc = { text, len, 0, max_depth, out != NULL };
    cJSON *root = NULL;
    int rc = scan_value(&sc, 0, &root);
    if (!rc) {
        skip_space(&sc);
        if (sc.pos != len)
            rc = syntax_error(&sc, "unexpected data after the value");
    }
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    if (out)
        *out = root;
    return 0;
}

int csession__json_validate(const char *text, size_t len, int max_depth)
{
    return scan_text(text, len, max_depth, NULL);
}

int csession__json_parse(const char *text, size_t len, int max_depth, cJSON **out)
{
    *out = NULL;
    return scan_text(text, len, max_depth, out);
}

int csession__json_is_safe_integer(double d)
{
    return d == floor(d) && fabs(d) <= (double)CSESSION__MAX_SAFE_INTEGER;
}

int csession__json_depth(const cJSON *item, int limit)
{
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item))
        return 0;
    if (limit <= 0)
        return 1;
    int deepest = 0;
    for (const cJSON *c = item->child; c; c = c->next) {
        int d = csession__json_depth(c, limit - 1);
        if (d > deepest)
            deepest = d;
    }
    return 1 + deepest;
}
