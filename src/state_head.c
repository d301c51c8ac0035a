/*
 * The head of the envelope in the form csession__state_head() writes, read
 * directly: every load of a session starts with it, and building a JSON
 * tree for its few members (an allocation each) costs more than the
 * members are worth. Anything unusual is left to the generic decoder.
 */
#include "state_head.h"

#include <string.h>

#include "json_text.h"

/* What a member's value must be. */
enum value_kind {
    ANY,      /* an integer or a string, not kept ("rev" and "w") */
    INTEGER,  /* a safe integer */
    LIFE,     /* a safe integer, not below CSESSION__LIFE_DEFAULT */
    ID,       /* a string of 1 to CSESSION__PUBLIC_ID_LEN bytes */
    KEY       /* a string of 1 to CSESSION__RETIRED_KEY_MAX bytes */
};

enum member_id { REV, TAG, EXP, PUBLIC_ID, CREATED, SEEN, KEYED, PERIOD, TO, UNTIL, MEMBERS };

/* The members in the order they are written, each with its quotes and colon. */
static const struct member {
    const char *name;
    unsigned char len;
    unsigned char kind;
} MEMBER[MEMBERS] = {
    [REV] = {"\"rev\":", 6, ANY},          [TAG] = {"\"w\":", 4, ANY},
    [EXP] = {"\"exp\":", 6, INTEGER},      [PUBLIC_ID] = {"\"id\":", 5, ID},
    [CREATED] = {"\"c\":", 4, INTEGER},    [SEEN] = {"\"t\":", 4, INTEGER},
    [KEYED] = {"\"k\":", 4, INTEGER},      [PERIOD] = {"\"p\":", 4, LIFE},
    [TO] = {"\"to\":", 5, KEY},            [UNTIL] = {"\"until\":", 8, INTEGER},
};

static const char HEAD[] = "{\"v\":1,";
static const char STATE[] = "\"state\":";

/* An integer the way the JSON parser would read it exactly: an optional
 * '-', no leading zero, at most 16 digits (the safe integers have no more),
 * within +-CSESSION__MAX_SAFE_INTEGER. Returns the length read, or 0. */
static size_t read_integer(const char *p, const char *end, int64_t *out)
{
    const char *start = p;
    int negative = p < end && *p == '-';
    p += negative;
    const char *digits = p;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 16)
        v = v * 10 + (*p++ - '0');
    if (p == digits || (*digits == '0' && p - digits > 1) || v > CSESSION__MAX_SAFE_INTEGER)
        return 0;
    if (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))
        return 0;
    *out = negative ? -v : v;
    return (size_t)(p - start);
}

/* A string of 1 to `max` printable ASCII bytes without '"' or '\\'
 * (nothing to unescape, nothing the UTF-8 check could refuse), its quotes
 * included. Returns the length read, or 0. */
static size_t read_string(const char *p, const char *end, size_t max)
{
    if (p >= end || *p != '"')
        return 0;
    const char *s = ++p;
    while (p < end && *p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\')
        p++;
    size_t n = (size_t)(p - s);
    if (p >= end || *p != '"' || n == 0 || n > max)
        return 0;
    return n + 2;
}

int csession__state_head_read(const char *data, size_t len, int64_t *exp,
                              csession__state_meta *meta, size_t *map_at, size_t *map_len)
{
    const char *p = data, *end = data + len;
    if (len < sizeof HEAD - 1 + sizeof STATE - 1 + 3 || memcmp(p, HEAD, sizeof HEAD - 1) != 0 ||
        end[-1] != '}')
        return 0;
    p += sizeof HEAD - 1;
    end--; /* the envelope's own '}' */
    *exp = CSESSION__NO_EXP;
    csession__state_meta_init(meta);
    for (int next = 0;;) {
        if ((size_t)(end - p) > sizeof STATE - 1 && memcmp(p, STATE, sizeof STATE - 1) == 0)
            break;
        int m = next;
        while (m < MEMBERS && ((size_t)(end - p) < MEMBER[m].len ||
                               memcmp(p, MEMBER[m].name, MEMBER[m].len) != 0))
            m++;
        if (m == MEMBERS)
            return 0; /* unknown, repeated or out of order */
        next = m + 1;
        p += MEMBER[m].len;
        int64_t v = 0;
        size_t n;
        switch (MEMBER[m].kind) {
        case ANY:
            n = read_integer(p, end, &v);
            if (!n)
                n = read_string(p, end, (size_t)(end - p));
            break;
        case INTEGER:
        case LIFE:
            n = read_integer(p, end, &v);
            if (MEMBER[m].kind == LIFE && v < CSESSION__LIFE_DEFAULT)
                n = 0;
            break;
        default:
            n = read_string(p, end, MEMBER[m].kind == ID ? CSESSION__PUBLIC_ID_LEN
                                                          : CSESSION__RETIRED_KEY_MAX);
            break;
        }
        if (!n || p + n >= end || p[n] != ',')
            return 0;
        switch (m) {
        case EXP: *exp = v; break;
        case PUBLIC_ID:
            memcpy(meta->id, p + 1, n - 2);
            meta->id[n - 2] = '\0';
            break;
        case CREATED: meta->created = v; break;
        case SEEN: meta->seen = v; break;
        case KEYED: meta->keyed = v; break;
        case PERIOD: meta->life = v; break;
        case TO:
            memcpy(meta->to, p + 1, n - 2);
            meta->to[n - 2] = '\0';
            meta->to_len = n - 2;
            break;
        case UNTIL: meta->until = v; break;
        default: break;
        }
        p += n + 1;
    }
    p += sizeof STATE - 1;
    if (p >= end || *p != '{')
        return 0;
    *map_at = (size_t)(p - data);
    *map_len = (size_t)(end - p);
    return 1;
}
