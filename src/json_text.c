/*
 * Validated JSON text. cJSON does not check UTF-8, truncates strings at an
 * escaped NUL and recurses up to 1000 levels; sessions must not silently
 * change or be a stack hazard, so every text is screened here first.
 */
#include "json_text.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "utf8.h"

/*
 * A strict RFC 8259 validator. It runs before cJSON so that (1) a cJSON
 * failure on screened text can only mean out-of-memory - cJSON itself does
 * not tell the two apart - and (2) text cJSON would accept but change is
 * refused: "\u0000" (cJSON cuts the string there), lone surrogates, numbers
 * longer than cJSON's 63-character number buffer.
 */
#define NUMBER_MAX_CHARS 63

typedef struct scanner {
    const char *s;
    size_t len;
    size_t pos;
    int max_depth;
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

static int hex4(const scanner *sc, size_t at, unsigned *out)
{
    if (sc->len - at < 4)
        return 0;
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        char c = sc->s[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static int scan_string(scanner *sc)
{
    sc->pos++; /* opening quote */
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 0;
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
        if (e != 'u' || !hex4(sc, sc->pos + 2, &cp))
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
                !hex4(sc, next + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
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

static int scan_number(scanner *sc)
{
    size_t start = sc->pos;
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '0')
        sc->pos++;
    else if (!digits(sc))
        return syntax_error(sc, "invalid number");
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!digits(sc))
            return syntax_error(sc, "invalid number");
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!digits(sc))
            return syntax_error(sc, "invalid number");
    }
    if (sc->pos - start > NUMBER_MAX_CHARS)
        return csession__error(CSESSION_EFORMAT, "JSON number longer than %d characters at byte %zu",
                               NUMBER_MAX_CHARS, start);
    return 0;
}

static int scan_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return syntax_error(sc, "unexpected character");
    sc->pos += n;
    return 0;
}

static int scan_value(scanner *sc, int depth);

/* Arrays and objects share one loop; `close` tells which. */
static int scan_container(scanner *sc, int depth, char close)
{
    if (depth >= sc->max_depth)
        return csession__error(CSESSION_ETOOBIG, "JSON nests deeper than the limit of %d levels",
                               sc->max_depth);
    sc->pos++;
    skip_space(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return 0;
    }
    for (;;) {
        int rc;
        if (close == '}') {
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
                return syntax_error(sc, "expected a member name");
            if ((rc = scan_string(sc)))
                return rc;
            skip_space(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                return syntax_error(sc, "expected ':'");
            sc->pos++;
        }
        if ((rc = scan_value(sc, depth + 1)))
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

static int scan_value(scanner *sc, int depth)
{
    skip_space(sc);
    if (sc->pos >= sc->len)
        return syntax_error(sc, "unexpected end");
    switch (sc->s[sc->pos]) {
    case '{': return scan_container(sc, depth, '}');
    case '[': return scan_container(sc, depth, ']');
    case '"': return scan_string(sc);
    case 't': return scan_literal(sc, "true");
    case 'f': return scan_literal(sc, "false");
    case 'n': return scan_literal(sc, "null");
    default:
        if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9'))
            return scan_number(sc);
        return syntax_error(sc, "unexpected character");
    }
}

int csession__json_validate(const char *text, size_t len, int max_depth)
{
    if (!csession__utf8_text(text, len))
        return csession__error(CSESSION_EFORMAT, "JSON text is not valid UTF-8 or contains NUL");
    scanner sc = { text, len, 0, max_depth };
    int rc = scan_value(&sc, 0);
    if (rc)
        return rc;
    skip_space(&sc);
    if (sc.pos != len)
        return syntax_error(&sc, "unexpected data after the value");
    return 0;
}

/* Numbers like 1e400 are valid JSON but become infinity, which cJSON would
 * print as null: refuse rather than change the value. */
static int all_numbers_finite(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return isfinite(item->valuedouble);
    for (const cJSON *c = item->child; c; c = c->next)
        if (!all_numbers_finite(c))
            return 0;
    return 1;
}

int csession__json_parse(const char *text, size_t len, int max_depth, cJSON **out)
{
    *out = NULL;
    int rc = csession__json_validate(text, len, max_depth);
    if (rc)
        return rc;
    cJSON *item = cJSON_ParseWithLength(text, len);
    if (!item)
        return csession__oom(); /* the text is valid: only allocation can fail */
    if (!all_numbers_finite(item)) {
        cJSON_Delete(item);
        return csession__error(CSESSION_ERANGE, "JSON number out of the range of a double");
    }
    *out = item;
    return 0;
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
