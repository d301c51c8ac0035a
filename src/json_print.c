/*
 * Compact JSON text of a cJSON tree, appended to a csession_buf.
 *
 * Written here rather than calling cJSON_PrintUnformatted() because cJSON
 * 1.7's number printer changes values: it prints with 15 significant digits
 * and keeps that text when it reads back "equal within DBL_EPSILON", so
 * 9007199254740991 (2^53 - 1) is printed as 9.00719925474099e+15 and comes
 * back as ...990, and 1.0000000000000002 comes back as 1. Here every number
 * is printed in the fewest digits that read back as exactly the same double.
 * Strings are escaped as cJSON escapes them, so everything else is byte for
 * byte cJSON's text (tests/test_json_print.c compares the two). Printing
 * straight into the buffer also saves cJSON's two allocations and a copy.
 */
#include "json_text.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digits.h"
#include "error.h"

#define PRINT_ROOM 256

typedef struct printer {
    csession_buf *out;
    int failed; /* 0, or the error code (already reported) */
} printer;

static void put(printer *p, const char *s, size_t n)
{
    if (!p->failed && csession__buf_append(p->out, s, n) != 0)
        p->failed = CSESSION_ENOMEM;
}

static void invalid(printer *p)
{
    if (!p->failed)
        p->failed = csession__error(CSESSION_EINVAL, "cannot print an invalid JSON node");
}

static void put_char(printer *p, char c)
{
    csession_buf *b = p->out;
    if (!p->failed && b->size + 1 < b->capacity) {
        b->ptr[b->size++] = c;
        b->ptr[b->size] = '\0';
        return;
    }
    put(p, &c, 1);
}

/* 1 for the bytes cJSON writes as an escape: controls, '"' and '\\'. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_string(printer *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put_char(p, '"');
    size_t len = strlen(s), i = 0, run = 0;
    while (i < len) {
        if (len - i >= 8) {
            unsigned plain = csession__json_plain_run(s + i);
            i += plain;
            if (plain == 8)
                continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c)) {
            i++;
            continue;
        }
        put(p, s + run, i - run);
        char esc[6] = { '\\', 0 };
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: /* the other controls, as cJSON writes them */
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0x0F];
            n = 6;
            break;
        }
        put(p, esc, n);
        run = ++i;
    }
    put(p, s + run, len - run);
    put_char(p, '"');
}

/* Every integer the session API stores is printed here. */
static void put_integer(printer *p, int64_t v)
{
    char digits[CSESSION__DECIMAL_MAX];
    const char *d = csession__decimal_i64(digits, v);
    put(p, d, (size_t)(digits + sizeof digits - d));
}

/* The shortest of %.15g, %.16g and %.17g that reads back as `d` exactly
 * (%.17g always does), with the locale's decimal point made '.'. */
static void put_double(printer *p, double d)
{
    char text[32];
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(text, sizeof text, "%.*g", digits, d);
        if (digits == 17 || strtod(text, NULL) == d)
            break;
    }
    if (n <= 0 || (size_t)n >= sizeof text) { /* cannot happen for a finite double */
        invalid(p);
        return;
    }
    char point = localeconv()->decimal_point[0];
    if (point != '.')
        for (int i = 0; i < n; i++)
            if (text[i] == point)
                text[i] = '.';
    put(p, text, (size_t)n);
}

static void put_number(printer *p, double d)
{
    if (!isfinite(d)) /* what cJSON prints; csession never stores one */
        put(p, "null", 4);
    else if (csession__json_is_safe_integer(d) && !(d == 0 && signbit(d)))
        put_integer(p, (int64_t)d);
    else
        put_double(p, d);
}

static void put_value(printer *p, const cJSON *item)
{
    switch (item->type & 0xFF) {
    case cJSON_False: put(p, "false", 5); break;
    case cJSON_True: put(p, "true", 4); break;
    case cJSON_NULL: put(p, "null", 4); break;
    case cJSON_Number: put_number(p, item->valuedouble); break;
    case cJSON_String: put_string(p, item->valuestring ? item->valuestring : ""); break;
    case cJSON_Raw:
        if (item->valuestring)
            put(p, item->valuestring, strlen(item->valuestring));
        else
            invalid(p);
        break;
    case cJSON_Array:
    case cJSON_Object: {
        int object = (item->type & 0xFF) == cJSON_Object;
        put_char(p, object ? '{' : '[');
        for (const cJSON *c = item->child; c && !p->failed; c = c->next) {
            if (c != item->child)
                put_char(p, ',');
            if (object) {
                put_string(p, c->string ? c->string : "");
                put_char(p, ':');
            }
            put_value(p, c);
        }
        put_char(p, object ? '}' : ']');
        break;
    }
    default: invalid(p); break;
    }
}

int csession__json_print_append(const cJSON *item, csession_buf *out)
{
    size_t start = out->size;
    /* Room for a typical session up front: growing 64 -> 128 -> 256 would
     * allocate, copy and wipe twice more. */
    if (csession__buf_grow(out, PRINT_ROOM) != 0)
        return CSESSION_ENOMEM;
    printer p = { out, 0 };
    put_value(&p, item);
    if (!p.failed)
        return 0;
    /* Contents unchanged on failure; what was appended is wiped. */
    if (out->ptr) {
        memset(out->ptr + start, 0, out->size - start);
        out->size = start;
    }
    return p.failed;
}
