/*
 * The stored form of a session: {"v":1,"state":{...}} out; that, a bare
 * object, or actix-session's map of JSON-encoded strings in.
 */
#include "state_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "csession/library.h"
#include "csession/state.h"
#include "digits.h"
#include "error.h"
#include "json_text.h"
#include "session.h"
#include "state_head.h"

/* The envelope adds two levels ({"state":{ ... }}) above the values. */
#define DOCUMENT_MAX_DEPTH (CSESSION__MAX_DEPTH + 2)

size_t csession_max_state_bytes(void)
{
    return CSESSION__STATE_MAX_BYTES;
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

void csession__state_meta_init(csession__state_meta *meta)
{
    meta->id[0] = '\0';
    meta->created = meta->seen = meta->keyed = CSESSION__NO_TIME;
    meta->life = CSESSION__LIFE_DEFAULT;
    meta->to_len = 0;
    meta->to[0] = '\0';
    meta->until = CSESSION__NO_TIME;
    meta->user_len = meta->label_len = 0;
    meta->user[0] = meta->label[0] = '\0';
}

/* Bytes that go into the head unescaped: printable ASCII but '"' and '\\'. */
static int plain_text(const char *text, size_t len, unsigned char lowest)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < lowest || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

int csession__user_id_valid(const char *user, size_t len)
{
    return user && len >= 1 && len <= CSESSION__USER_MAX && plain_text(user, len, 0x21) &&
           !memchr(user, '{', len) && !memchr(user, '}', len);
}

int csession__label_valid(const char *label, size_t len)
{
    return len <= CSESSION__LABEL_MAX && (len == 0 || (label && plain_text(label, len, 0x20)));
}

/* Appends text to the head being written at out[*n]. */
static void put(char *out, size_t *n, const char *text, size_t len)
{
    memcpy(out + *n, text, len);
    *n += len;
}

/* Appends "name":"<text>", for text that needs no escaping. */
static void put_text(char *out, size_t *n, const char *name, const char *text, size_t len)
{
    put(out, n, name, strlen(name));
    put(out, n, "\"", 1);
    put(out, n, text, len);
    put(out, n, "\",", 2);
}

/* Appends "name":<v>, (the name written with its quotes and colon). */
static void put_int(char *out, size_t *n, const char *name, int64_t v)
{
    char digits[CSESSION__DECIMAL_MAX];
    const char *d = csession__decimal_i64(digits, v);
    put(out, n, name, strlen(name));
    put(out, n, d, (size_t)(digits + sizeof digits - d));
    put(out, n, ",", 1);
}

size_t csession__state_head(char out[CSESSION__STATE_HEAD_MAX],
                            const csession__state_meta *meta, int64_t exp)
{
    static const char head[] = "{\"v\":" STRINGIFY(CSESSION__STATE_VERSION) ",";
    size_t n = 0;
    put(out, &n, head, sizeof head - 1);
    if (exp != CSESSION__NO_EXP)
        put_int(out, &n, "\"exp\":", exp);
    if (meta) {
        /* The id is base64url and a key [A-Za-z0-9]: neither needs escaping. */
        if (meta->id[0])
            put_text(out, &n, "\"id\":", meta->id, strlen(meta->id));
        if (meta->created != CSESSION__NO_TIME)
            put_int(out, &n, "\"c\":", meta->created);
        if (meta->seen != CSESSION__NO_TIME)
            put_int(out, &n, "\"t\":", meta->seen);
        if (meta->keyed != CSESSION__NO_TIME)
            put_int(out, &n, "\"k\":", meta->keyed);
        if (meta->life != CSESSION__LIFE_DEFAULT)
            put_int(out, &n, "\"p\":", meta->life);
        if (meta->user_len)
            put_text(out, &n, "\"u\":", meta->user, meta->user_len);
        if (meta->label_len)
            put_text(out, &n, "\"l\":", meta->label, meta->label_len);
        if (meta->to_len) {
            put_text(out, &n, "\"to\":", meta->to, meta->to_len);
            put_int(out, &n, "\"until\":", meta->until);
        }
    }
    put(out, &n, "\"state\":", 8);
    return n;
}

int csession__state_encode(const cJSON *map, const csession__state_meta *meta, int64_t exp,
                           csession_buf *out)
{
    char head[CSESSION__STATE_HEAD_MAX];
    csession__buf_clear(out);
    size_t n = csession__state_head(head, meta, exp);
    int rc = csession__buf_append(out, head, n);
    if (!rc)
        rc = csession__json_print_append(map, out);
    if (!rc)
        rc = csession__buf_append(out, "}", 1);
    if (!rc && out->size > CSESSION__STATE_MAX_BYTES)
        rc = csession__error(CSESSION_ETOOBIG, "encoded state is %zu bytes, more than the limit of %zu",
                             out->size, CSESSION__STATE_MAX_BYTES);
    if (rc)
        csession__buf_clear(out);
    return rc;
}

static int is_envelope(const cJSON *doc)
{
    return cJSON_GetObjectItemCaseSensitive(doc, "v") != NULL &&
           cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "state"));
}

/* An integer member of the envelope into *out, or an error. */
static int int_member(const cJSON *e, int64_t *out)
{
    if (!cJSON_IsNumber(e) || !csession__json_is_safe_integer(e->valuedouble))
        return csession__error(CSESSION_EFORMAT, "state \"%s\" is not an integer", e->string);
    *out = (int64_t)e->valuedouble;
    return 0;
}

/* A string member of 1 to `max` bytes into out[max + 1] and *len, or an error. */
static int string_member(const cJSON *e, char *out, size_t max, size_t *len)
{
    size_t n = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
    if (n == 0 || n > max)
        return csession__error(CSESSION_EFORMAT, "state \"%s\" is not a string of 1 to %zu bytes",
                               e->string, max);
    memcpy(out, e->valuestring, n + 1);
    *len = n;
    return 0;
}

/* Where a member of the envelope goes: one pass over the members, which
 * every load of a session makes. */
typedef struct envelope {
    const cJSON *v, *state;
    int64_t exp;
    csession__state_meta meta;
} envelope;

static int read_member(const cJSON *m, envelope *env)
{
    const char *n = m->string;
    size_t len;
    /* "rev" and "w" are a store's revision and write tag (the Redis store
     * keeps them there): the store reads them, the state does not. */
    switch (n[0]) {
    case 'v': if (!n[1]) { env->v = m; return 0; } break;
    case 's': if (!strcmp(n, "state")) { env->state = m; return 0; } break;
    case 'e': if (!strcmp(n, "exp")) return int_member(m, &env->exp); break;
    case 'r': if (!strcmp(n, "rev")) return 0; break;
    case 'w': if (!n[1]) return 0; break;
    case 'i':
        if (n[1] == 'd' && !n[2])
            return string_member(m, env->meta.id, CSESSION__PUBLIC_ID_LEN, &len);
        break;
    case 'c': if (!n[1]) return int_member(m, &env->meta.created); break;
    case 't':
        if (!n[1])
            return int_member(m, &env->meta.seen);
        if (n[1] == 'o' && !n[2])
            return string_member(m, env->meta.to, CSESSION__RETIRED_KEY_MAX, &env->meta.to_len);
        break;
    case 'k': if (!n[1]) return int_member(m, &env->meta.keyed); break;
    case 'p':
        if (!n[1]) {
            int rc = int_member(m, &env->meta.life);
            if (!rc && env->meta.life < CSESSION__LIFE_DEFAULT)
                rc = csession__error(CSESSION_EFORMAT, "state \"p\" is negative");
            return rc;
        }
        break;
    case 'u':
        if (!n[1]) {
            int rc = string_member(m, env->meta.user, CSESSION__USER_MAX, &env->meta.user_len);
            if (!rc && !csession__user_id_valid(env->meta.user, env->meta.user_len))
                rc = csession__error(CSESSION_EFORMAT, "state \"u\" is not a user id");
            return rc;
        }
        if (!strcmp(n, "until"))
            return int_member(m, &env->meta.until);
        break;
    case 'l':
        if (!n[1]) {
            int rc = string_member(m, env->meta.label, CSESSION__LABEL_MAX, &env->meta.label_len);
            if (!rc && !csession__label_valid(env->meta.label, env->meta.label_len))
                rc = csession__error(CSESSION_EFORMAT, "state \"l\" is not a label");
            return rc;
        }
        break;
    default: break;
    }
    return csession__error(CSESSION_EFORMAT, "unknown member \"%.64s\" in state envelope", n);
}

/* Takes the state out of a versioned envelope; `doc` keeps the rest. */
static int unwrap_envelope(cJSON *doc, cJSON **map, int64_t *exp, csession__state_meta *meta)
{
    envelope env;
    memset(&env, 0, sizeof env);
    env.exp = CSESSION__NO_EXP;
    csession__state_meta_init(&env.meta);
    for (const cJSON *m = doc->child; m; m = m->next) {
        int rc = read_member(m, &env);
        if (rc)
            return rc;
    }
    if (!cJSON_IsNumber(env.v) || env.v->valuedouble != CSESSION__STATE_VERSION)
        return csession__error(CSESSION_EFORMAT, "unknown state format version (supported: %d)",
                               CSESSION__STATE_VERSION);
    if (exp)
        *exp = env.exp;
    if (meta)
        *meta = env.meta;
    *map = cJSON_DetachItemViaPointer(doc, (cJSON *)env.state);
    return 0;
}

/* actix-session before its JSON-value maps stored every value as a string
 * holding the value's JSON text. */
static int is_legacy_map(const cJSON *map)
{
    if (!map->child)
        return 0;
    for (const cJSON *m = map->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return 0;
        /* failing here only means "not the legacy form" */
        if (csession__json_validate(m->valuestring, strlen(m->valuestring), CSESSION__MAX_DEPTH))
            return 0;
    }
    return 1;
}

/* Replaces each string value by the JSON value it encodes. */
static int unwrap_legacy(cJSON *map)
{
    for (cJSON *m = map->child; m; m = m->next) {
        cJSON *value;
        int rc = csession__json_parse(m->valuestring, strlen(m->valuestring),
                                      CSESSION__MAX_DEPTH, &value);
        if (rc)
            return rc;
        /* Swap the payloads so that `m` keeps its key and list position. */
        cJSON tmp = *m;
        m->type = value->type;
        m->valuestring = value->valuestring;
        m->valuedouble = value->valuedouble;
        m->valueint = value->valueint;
        m->child = value->child;
        value->type = tmp.type;
        value->valuestring = tmp.valuestring;
        value->child = tmp.child;
        cJSON_Delete(value);
    }
    return 0;
}

typedef struct member_ref {
    cJSON *item;
    size_t position;
} member_ref;

static int compare_members(const void *a, const void *b)
{
    const member_ref *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    if (c)
        return c;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* Checks keys and value depths, and drops duplicate keys (the last one wins)
 * in O(n log n), so that a large stored state cannot cost quadratic time. */
static int normalise_members(cJSON *map)
{
    size_t n = 0;
    for (cJSON *m = map->child; m; m = m->next) {
        if (strlen(m->string) > CSESSION__MAX_KEY_BYTES)
            return csession__error(CSESSION_ETOOBIG, "stored key longer than %d bytes",
                                   CSESSION__MAX_KEY_BYTES);
        if (csession__json_depth(m, CSESSION__MAX_DEPTH) > CSESSION__MAX_DEPTH)
            return csession__error(CSESSION_ETOOBIG, "stored value nests deeper than %d levels",
                                   CSESSION__MAX_DEPTH);
        n++;
    }
    if (n < 2)
        return 0;
    if (n <= 8) { /* the usual session: a few keys, no allocation, no sort */
        for (cJSON *m = map->child; m;) {
            cJSON *next = m->next;
            for (const cJSON *later = next; later; later = later->next) {
                if (strcmp(m->string, later->string) == 0) {
                    cJSON_Delete(cJSON_DetachItemViaPointer(map, m));
                    break;
                }
            }
            m = next;
        }
        return 0;
    }
    member_ref *refs = csession__calloc(n, sizeof *refs);
    if (!refs)
        return csession__oom();
    size_t i = 0;
    for (cJSON *m = map->child; m; m = m->next, i++) {
        refs[i].item = m;
        refs[i].position = i;
    }
    qsort(refs, n, sizeof *refs, compare_members);
    /* Within a run of equal keys, positions ascend: drop all but the last. */
    for (i = 0; i + 1 < n; i++)
        if (strcmp(refs[i].item->string, refs[i + 1].item->string) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(map, refs[i].item));
    csession__free(refs);
    return 0;
}

int csession__state_decode(const char *data, size_t len, cJSON **map, int64_t *exp)
{
    return csession__state_decode_meta(data, len, map, exp, NULL);
}

/* The checks every decode starts with; 0 to go on. */
static int decode_start(const char *data, size_t len, cJSON **map, int64_t *exp,
                        csession__state_meta *meta)
{
    *map = NULL;
    if (meta)
        csession__state_meta_init(meta);
    if (exp)
        *exp = CSESSION__NO_EXP;
    if (!data)
        return csession__error(CSESSION_EINVAL, "state data is NULL");
    if (len > CSESSION__STATE_MAX_BYTES)
        return csession__error(CSESSION_ETOOBIG, "stored state is %zu bytes, more than the limit of %zu",
                               len, CSESSION__STATE_MAX_BYTES);
    return 0;
}

int csession__state_decode_meta(const char *data, size_t len, cJSON **map, int64_t *exp,
                                csession__state_meta *meta)
{
    int rc = decode_start(data, len, map, exp, meta);
    if (rc)
        return rc;
    /* The head this library writes: only the map goes through the JSON
     * parser, one level down in the document (so with one level less). */
    int64_t head_exp;
    csession__state_meta head_meta;
    size_t at, n;
    cJSON *result;
    if (csession__state_head_read(data, len, &head_exp, &head_meta, &at, &n) &&
        (!head_meta.user_len || csession__user_id_valid(head_meta.user, head_meta.user_len)) &&
        csession__label_valid(head_meta.label, head_meta.label_len) &&
        csession__json_parse(data + at, n, DOCUMENT_MAX_DEPTH - 1, &result) == 0) {
        /* The map starts with '{', so it parsed as an object. */
        rc = normalise_members(result);
        if (rc) {
            cJSON_Delete(result);
            return rc;
        }
        if (exp)
            *exp = head_exp;
        if (meta)
            *meta = head_meta;
        *map = result;
        return 0;
    }
    /* Any other text, or a map the parser refused: the generic decoder
     * says why, with the offsets of the whole text. */
    return csession__state_decode_generic(data, len, map, exp, meta);
}

int csession__state_decode_generic(const char *data, size_t len, cJSON **map, int64_t *exp,
                                   csession__state_meta *meta)
{
    int rc = decode_start(data, len, map, exp, meta);
    if (rc)
        return rc;
    cJSON *doc;
    rc = csession__json_parse(data, len, DOCUMENT_MAX_DEPTH, &doc);
    if (rc)
        return rc;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return csession__error(CSESSION_EFORMAT, "stored state is not a JSON object");
    }
    cJSON *result = NULL;
    if (is_envelope(doc)) {
        rc = unwrap_envelope(doc, &result, exp, meta);
        cJSON_Delete(doc);
    } else {
        result = doc;
        if (is_legacy_map(result))
            rc = unwrap_legacy(result);
    }
    if (!rc)
        rc = normalise_members(result);
    if (rc) {
        cJSON_Delete(result);
        return rc;
    }
    *map = result;
    return 0;
}

int csession_encode(const csession *s, csession_buf *out)
{
    if (!s || !out)
        return csession__error(CSESSION_EINVAL, "NULL session or buffer");
    return csession__state_encode(s->map, NULL, CSESSION__NO_EXP, out);
}

int csession_decode(csession **out, const char *data, size_t len)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    int rc = csession_init();
    if (rc)
        return rc;
    cJSON *map;
    rc = csession__state_decode(data, len, &map, NULL);
    if (rc)
        return rc;
    rc = csession__session_new_with_map(out, map);
    if (rc)
        cJSON_Delete(map);
    return rc;
}
