/*
 * The head of the envelope in the form csession__state_head() writes, read
 * directly: every load of a session starts with it, and building a JSON
 * tree for its few members (an allocation each) costs more than the
 * members are worth. Anything unusual is left to the generic decoder.
 */
#include "state_head.h"

#include <string.h>

#include "json_text.h"
#include "swar.h"

/* What a member's value must be. */
enum value_kind {
    ANY,      /* an integer or a string, not kept ("rev" and "w") */
    INTEGER,  /* a safe integer */
    LIFE,     /* a safe integer, not below CSESSION__LIFE_DEFAULT */
    ID,       /* a string of 1 to CSESSION__PUBLIC_ID_LEN bytes */
    KEY,      /* a string of 1 to CSESSION__RETIRED_KEY_MAX bytes */
    USER_ID,  /* a string of 1 to CSESSION__USER_MAX bytes */
    LABEL     /* a string of 1 to CSESSION__LABEL_MAX bytes */
};

enum member_id {
    REV, TAG, EXP, PUBLIC_ID, CREATED, SEEN, KEYED, PERIOD, USER, LABEL_TEXT, TO, UNTIL, STATE,
    MEMBERS
};

/* The members in the order they are written, each with its quotes and
 * colon; "state" ends the head. */
static const struct member {
    const char *name;
    unsigned char len;
    unsigned char kind;
} MEMBER[MEMBERS] = {
    [REV] = {"\"rev\":", 6, ANY},          [TAG] = {"\"w\":", 4, ANY},
    [EXP] = {"\"exp\":", 6, INTEGER},      [PUBLIC_ID] = {"\"id\":", 5, ID},
    [CREATED] = {"\"c\":", 4, INTEGER},    [SEEN] = {"\"t\":", 4, INTEGER},
    [KEYED] = {"\"k\":", 4, INTEGER},      [PERIOD] = {"\"p\":", 4, LIFE},
    [USER] = {"\"u\":", 4, USER_ID},        [LABEL_TEXT] = {"\"l\":", 4, LABEL},
    [TO] = {"\"to\":", 5, KEY},            [UNTIL] = {"\"until\":", 8, INTEGER},
    [STATE] = {"\"state\":", 8, ANY},
};

static const char HEAD[] = "{\"v\":1,";

/* Which member's name (with its quotes and colon) starts at p, or -1. The
 * first letter tells which it can be; the loop is shorter than a call to
 * memcmp() for these few bytes. */
static int member_at(const char *p, const char *end)
{
    int m;
    if (end - p < 4 || p[0] != '"')
        return -1;
    switch (p[1]) {
    case 'r': m = REV; break;
    case 'w': m = TAG; break;
    case 'e': m = EXP; break;
    case 'i': m = PUBLIC_ID; break;
    case 'c': m = CREATED; break;
    case 't': m = p[2] == 'o' ? TO : SEEN; break;
    case 'k': m = KEYED; break;
    case 'p': m = PERIOD; break;
    case 'u': m = p[2] == '"' ? USER : UNTIL; break;
    case 'l': m = LABEL_TEXT; break;
    case 's': m = STATE; break;
    default: return -1;
    }
    if (end - p < MEMBER[m].len)
        return -1;
    for (int i = 2; i < MEMBER[m].len; i++)
        if (p[i] != MEMBER[m].name[i])
            return -1;
    return m;
}

/* An integer the way the JSON parser would read it exactly: an optional
 * '-', no leading zero, at most 16 digits (the safe integers have no more),
 * within +-CSESSION__MAX_SAFE_INTEGER. Returns the length read, or 0. A
 * fraction, an exponent or a 17th digit is left for the caller to find:
 * it is not the ',' that must follow. */
static size_t read_integer(const char *p, const char *end, int64_t *out)
{
    const char *start = p;
    int negative = p < end && *p == '-';
    p += negative;
    const char *digits = p;
    const char *stop = end - p > 16 ? p + 16 : end;
    int64_t v = 0;
    unsigned d;
    while (p < stop && (d = (unsigned)(unsigned char)*p - '0') < 10) {
        v = v * 10 + (int64_t)d;
        p++;
    }
    if (p == digits || (*digits == '0' && p - digits > 1) || v > CSESSION__MAX_SAFE_INTEGER)
        return 0;
    *out = negative ? -v : v;
    return (size_t)(p - start);
}

/* A string of 1 to `max` ASCII bytes, none of them a control, '"' or '\\'
 * (nothing to unescape, nothing the UTF-8 check could refuse), its quotes
 * included. Returns the length read, or 0. */
static size_t read_string(const char *p, const char *end, size_t max)
{
    if (p >= end || *p != '"')
        return 0;
    const char *s = ++p;
    /* eight bytes a step up to the first that could end the run (a public
     * id is 22 bytes), then byte by byte */
    while (end - p >= 8) {
        uint64_t w = csession__swar_load(p);
        uint64_t hit = csession__swar_eq(w, '"') | csession__swar_eq(w, '\\') |
                       csession__swar_below(w, 0x20) | (w & CSESSION__SWAR_HIGH);
        if (hit) {
            p += csession__swar_skip(hit);
            break;
        }
        p += 8;
    }
    while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
           *p != '\\')
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
    if (len < sizeof HEAD - 1 + 8 + 3 || memcmp(p, HEAD, sizeof HEAD - 1) != 0 ||
        end[-1] != '}')
        return 0;
    p += sizeof HEAD - 1;
    end--; /* the envelope's own '}' */
    *exp = CSESSION__NO_EXP;
    csession__state_meta_init(meta);
    for (int next = 0;;) {
        int m = member_at(p, end);
        if (m < next)
            return 0; /* unknown, repeated or out of order */
        if (m == STATE)
            break;
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
            n = read_string(p, end, MEMBER[m].kind == ID        ? CSESSION__PUBLIC_ID_LEN
                                    : MEMBER[m].kind == USER_ID ? CSESSION__USER_MAX
                                    : MEMBER[m].kind == LABEL   ? CSESSION__LABEL_MAX
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
        case USER:
            memcpy(meta->user, p + 1, n - 2);
            meta->user[n - 2] = '\0';
            meta->user_len = n - 2;
            break;
        case LABEL_TEXT:
            memcpy(meta->label, p + 1, n - 2);
            meta->label[n - 2] = '\0';
            meta->label_len = n - 2;
            break;
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
    p += MEMBER[STATE].len;
    if (p >= end || *p != '{')
        return 0;
    *map_at = (size_t)(p - data);
    *map_len = (size_t)(end - p);
    return 1;
}
