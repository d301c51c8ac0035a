/*
 * The session object: a JSON object map plus the status that drives the
 * request flow. Status rules mirror actix-session's Session exactly.
 */
#include "session.h"

#include <math.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "csession/config.h"
#include "csession/errors.h"
#include "csession/library.h"
#include "error.h"
#include "json_text.h"
#include "utf8.h"

size_t csession_max_key_bytes(void)
{
    return CSESSION__MAX_KEY_BYTES;
}

int csession_max_depth(void)
{
    return CSESSION__MAX_DEPTH;
}

int csession__session_new_with_map(csession **out, cJSON *map)
{
    *out = NULL;
    csession *s = csession__calloc(1, sizeof *s);
    if (!s)
        return csession__oom();
    if (!map) {
        map = cJSON_CreateObject();
        if (!map) {
            csession__free(s);
            return csession__oom();
        }
    }
    s->map = map;
    s->status = CSESSION_STATUS_UNCHANGED;
    csession__state_meta_init(&s->meta);
    *out = s;
    return 0;
}

int csession_new(csession **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "csession_new: out is NULL");
    *out = NULL;
    int rc = csession_init();
    if (rc)
        return rc;
    return csession__session_new_with_map(out, NULL);
}

/* Strings may hold secrets (tokens, CSRF values): wipe them before release.
 * Recursion is bounded by the depth limit enforced on every value. */
static void wipe_item(cJSON *item)
{
    if (item->string)
        sodium_memzero(item->string, strlen(item->string));
    if (cJSON_IsString(item) && item->valuestring)
        sodium_memzero(item->valuestring, strlen(item->valuestring));
    for (cJSON *c = item->child; c; c = c->next)
        wipe_item(c);
}

/* Frees a detached item (or a whole map) after wiping it. */
static void delete_wiped(cJSON *item)
{
    if (!item)
        return;
    wipe_item(item);
    cJSON_Delete(item);
}

void csession__json_wipe_value(cJSON *item)
{
    if (cJSON_IsString(item) && item->valuestring)
        sodium_memzero(item->valuestring, strlen(item->valuestring));
    for (cJSON *c = item->child; c; c = c->next)
        wipe_item(c);
}

void csession__json_delete_wiped(cJSON *item)
{
    delete_wiped(item);
}

void csession__session_set_map(csession *s, cJSON *map)
{
    delete_wiped(s->map);
    s->map = map;
    s->iter_item = NULL;
}

void csession_free(csession *s)
{
    if (!s)
        return;
    delete_wiped(s->map);
    csession_buf_dispose(&s->key);
    csession_buf_dispose(&s->base);
    csession_buf_dispose(&s->touched);
    sodium_memzero(s, sizeof *s);
    csession__free(s);
}

int csession_status(const csession *s)
{
    return s ? s->status : CSESSION_STATUS_UNCHANGED;
}

const char *csession_status_name(int status)
{
    switch (status) {
    case CSESSION_STATUS_UNCHANGED: return "unchanged";
    case CSESSION_STATUS_CHANGED: return "changed";
    case CSESSION_STATUS_RENEWED: return "renewed";
    case CSESSION_STATUS_PURGED: return "purged";
    default: return "unknown";
    }
}

size_t csession_count(const csession *s)
{
    return s ? (size_t)cJSON_GetArraySize(s->map) : 0;
}

static int check_key(const char *key)
{
    if (!key)
        return csession__error(CSESSION_EINVAL, "key is NULL");
    size_t len = strnlen(key, CSESSION__MAX_KEY_BYTES + 1);
    if (len > CSESSION__MAX_KEY_BYTES)
        return csession__error(CSESSION_ETOOBIG, "key longer than %d bytes",
                               CSESSION__MAX_KEY_BYTES);
    if (!csession__utf8_text(key, len))
        return csession__error(CSESSION_EINVAL, "key is not valid UTF-8");
    return 0;
}

/* Looks a key up for a getter: 0 with *item, or an error code. */
static int find(const csession *s, const char *key, cJSON **item)
{
    if (!s || !key)
        return csession__error(CSESSION_EINVAL, "NULL session or key");
    *item = cJSON_GetObjectItemCaseSensitive(s->map, key);
    if (!*item)
        return csession__error(CSESSION_ENOTFOUND, "no value under key \"%.64s\"", key);
    return 0;
}

static int wrong_type(const char *key, const char *wanted)
{
    return csession__error(CSESSION_ETYPE, "value under key \"%.64s\" is not %s", key, wanted);
}

int csession_contains(const csession *s, const char *key)
{
    return s && key && cJSON_GetObjectItemCaseSensitive(s->map, key) != NULL;
}

int csession_type(const csession *s, const char *key, int *type)
{
    cJSON *item;
    if (!type)
        return csession__error(CSESSION_EINVAL, "type is NULL");
    int rc = find(s, key, &item);
    if (rc)
        return rc;
    if (cJSON_IsNull(item))
        *type = CSESSION_TYPE_NULL;
    else if (cJSON_IsBool(item))
        *type = CSESSION_TYPE_BOOL;
    else if (cJSON_IsNumber(item))
        *type = CSESSION_TYPE_NUMBER;
    else if (cJSON_IsString(item))
        *type = CSESSION_TYPE_STRING;
    else if (cJSON_IsArray(item))
        *type = CSESSION_TYPE_ARRAY;
    else
        *type = CSESSION_TYPE_OBJECT;
    return 0;
}

int csession_key_at(const csession *s, size_t index, const char **key)
{
    if (!s || !key)
        return csession__error(CSESSION_EINVAL, "NULL session or key");
    csession *m = (csession *)s; /* the walk cache is not observable state */
    const cJSON *item;
    size_t i;
    if (m->iter_item && index >= m->iter_index) {
        item = m->iter_item;
        i = m->iter_index;
    } else {
        item = s->map->child;
        i = 0;
    }
    for (; item && i < index; i++)
        item = item->next;
    if (!item)
        return csession__error(CSESSION_ENOTFOUND, "key index %zu out of range", index);
    m->iter_item = item;
    m->iter_index = index;
    *key = item->string;
    return 0;
}

/*
 * The common part of the typed getters: checks `out`, finds the value and
 * checks its type with `is` (named `wanted` in the message).
 */
static int find_typed(const csession *s, const char *key, const void *out,
                      cJSON_bool (*is)(const cJSON *), const char *wanted, cJSON **item)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    int rc = find(s, key, item);
    if (!rc && !is(*item))
        rc = wrong_type(key, wanted);
    return rc;
}

int csession_get_int64(const csession *s, const char *key, int64_t *out)
{
    cJSON *item = NULL;
    int rc = find_typed(s, key, out, cJSON_IsNumber, "a number", &item);
    if (rc)
        return rc;
    if (!csession__json_is_safe_integer(item->valuedouble))
        return csession__error(CSESSION_ERANGE,
                               "value under key \"%.64s\" is not an integer within +-(2^53-1)", key);
    *out = (int64_t)item->valuedouble;
    return 0;
}

int csession_get_double(const csession *s, const char *key, double *out)
{
    cJSON *item = NULL;
    int rc = find_typed(s, key, out, cJSON_IsNumber, "a number", &item);
    if (!rc)
        *out = item->valuedouble;
    return rc;
}

int csession_get_bool(const csession *s, const char *key, int *out)
{
    cJSON *item = NULL;
    int rc = find_typed(s, key, out, cJSON_IsBool, "a boolean", &item);
    if (!rc)
        *out = cJSON_IsTrue(item) ? 1 : 0;
    return rc;
}

int csession_get_null(const csession *s, const char *key)
{
    cJSON *item = NULL;
    return find_typed(s, key, &item, cJSON_IsNull, "null", &item); /* no output to check */
}

int csession_get_string(const csession *s, const char *key, const char **out, size_t *len)
{
    cJSON *item = NULL;
    int rc = find_typed(s, key, out, cJSON_IsString, "a string", &item);
    if (rc)
        return rc;
    *out = item->valuestring;
    if (len)
        *len = strlen(item->valuestring);
    return 0;
}

int csession_get_json(const csession *s, const char *key, csession_buf *out)
{
    cJSON *item;
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    csession__buf_clear(out);
    int rc = find(s, key, &item);
    if (rc)
        return rc;
    return csession__json_print_append(item, out);
}

/* The part of every mutation that decides whether it may happen at all. */
static int check_mutable(const csession *s)
{
    if (!s)
        return csession__error(CSESSION_EINVAL, "session is NULL");
    if (s->status == CSESSION_STATUS_PURGED)
        return csession__error(CSESSION_EPURGED, "the session was purged; the change is ignored");
    return 0;
}

int csession__session_touched(const csession *s, const char *key)
{
    if (s->touched.size == 0)
        return 0; /* and touched.ptr may be NULL: no arithmetic on it */
    size_t n = strlen(key);
    const char *p = s->touched.ptr, *end = p + s->touched.size;
    while (p < end) {
        size_t len = strlen(p);
        if (len == n && memcmp(p, key, n) == 0)
            return 1;
        p += len + 1;
    }
    return 0;
}

void csession__session_forget_changes(csession *s)
{
    csession__buf_clear(&s->touched);
    s->cleared = 0;
}

/* Records that the request changes `key`. Called before the map changes,
 * so that a failure here changes nothing. 0 or CSESSION_ENOMEM. */
static int record_change(csession *s, const char *key)
{
    if (s->key.size == 0 || s->cleared || csession__session_touched(s, key))
        return 0;
    size_t at = s->touched.size;
    int rc = csession__buf_append(&s->touched, key, strlen(key) + 1);
    if (rc)
        s->touched.size = at;
    return rc;
}

static void mark_changed(csession *s)
{
    if (s->status != CSESSION_STATUS_RENEWED)
        s->status = CSESSION_STATUS_CHANGED;
    s->iter_item = NULL;
}

/*
 * Stores `value` (owned, freshly built) under `key`. Everything that can
 * fail happens before the map is touched, so a failure changes nothing.
 */
static int put(csession *s, const char *key, cJSON *value)
{
    int rc = check_mutable(s);
    if (!rc)
        rc = check_key(key);
    if (rc) {
        cJSON_Delete(value);
        return rc;
    }
    if (!value)
        return csession__oom();
    size_t klen = strlen(key);
    /* cJSON_AddItemToObject would copy the key after linking and leave a
     * key-less member behind if that copy failed: copy it first ourselves,
     * with cJSON's allocator since cJSON_Delete frees it. */
    value->string = cJSON_malloc(klen + 1);
    if (!value->string) {
        cJSON_Delete(value);
        return csession__oom();
    }
    memcpy(value->string, key, klen + 1);
    if ((rc = record_change(s, key))) {
        cJSON_Delete(value);
        return rc;
    }
    cJSON *old = cJSON_GetObjectItemCaseSensitive(s->map, key);
    if (old) {
        wipe_item(old);
        cJSON_ReplaceItemViaPointer(s->map, old, value); /* keeps the position */
    } else {
        cJSON_AddItemToArray(s->map, value); /* links an already-keyed member */
    }
    mark_changed(s);
    return 0;
}

int csession_insert_int64(csession *s, const char *key, int64_t value)
{
    if (value > CSESSION__MAX_SAFE_INTEGER || value < -CSESSION__MAX_SAFE_INTEGER)
        return csession__error(CSESSION_ERANGE,
                               "%lld is beyond +-(2^53-1), the integers JSON keeps exactly",
                               (long long)value);
    return put(s, key, cJSON_CreateNumber((double)value));
}

int csession_insert_double(csession *s, const char *key, double value)
{
    if (!isfinite(value))
        return csession__error(CSESSION_ERANGE, "JSON has no infinity or NaN");
    return put(s, key, cJSON_CreateNumber(value));
}

int csession_insert_bool(csession *s, const char *key, int value)
{
    return put(s, key, cJSON_CreateBool(value != 0));
}

int csession_insert_null(csession *s, const char *key)
{
    return put(s, key, cJSON_CreateNull());
}

int csession_insert_string_n(csession *s, const char *key, const char *value, size_t len)
{
    if (!value)
        return csession__error(CSESSION_EINVAL, "value is NULL");
    if (!csession__utf8_text(value, len))
        return csession__error(CSESSION_EINVAL, "string is not valid UTF-8 or contains NUL");
    /* cJSON_CreateString needs a C string; the copy is the one the tree keeps. */
    char *copy = cJSON_malloc(len + 1);
    if (!copy)
        return csession__oom();
    memcpy(copy, value, len);
    copy[len] = '\0';
    cJSON *item = cJSON_CreateNull();
    if (!item) {
        cJSON_free(copy);
        return csession__oom();
    }
    item->type = cJSON_String;
    item->valuestring = copy;
    return put(s, key, item);
}

int csession_insert_string(csession *s, const char *key, const char *value)
{
    if (!value)
        return csession__error(CSESSION_EINVAL, "value is NULL");
    return csession_insert_string_n(s, key, value, strlen(value));
}

int csession_insert_json(csession *s, const char *key, const char *json, size_t len)
{
    if (!json)
        return csession__error(CSESSION_EINVAL, "json is NULL");
    int rc = check_mutable(s);
    if (rc)
        return rc;
    cJSON *item;
    rc = csession__json_parse(json, len, CSESSION__MAX_DEPTH, &item);
    if (rc)
        return rc;
    return put(s, key, item);
}

int csession_remove(csession *s, const char *key)
{
    int rc = check_mutable(s);
    if (rc)
        return rc;
    if (!key)
        return csession__error(CSESSION_EINVAL, "key is NULL");
    if ((rc = record_change(s, key)))
        return rc;
    mark_changed(s); /* even for an absent key, as actix-session does */
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(s->map, key);
    if (!item)
        return csession__error(CSESSION_ENOTFOUND, "no value under key \"%.64s\"", key);
    delete_wiped(item);
    return 0;
}

static void clear_map(csession *s)
{
    cJSON *item;
    while ((item = s->map->child) != NULL) {
        cJSON_DetachItemViaPointer(s->map, item);
        delete_wiped(item);
    }
    s->iter_item = NULL;
}

void csession__session_empty_map(csession *s)
{
    clear_map(s);
}

int csession_clear(csession *s)
{
    int rc = check_mutable(s);
    if (rc)
        return rc;
    clear_map(s);
    mark_changed(s);
    /* Every key is this request's now: the touched list says nothing more. */
    csession__buf_clear(&s->touched);
    s->cleared = s->key.size > 0;
    return 0;
}

int csession_purge(csession *s)
{
    if (!s)
        return csession__error(CSESSION_EINVAL, "session is NULL");
    clear_map(s);
    s->status = CSESSION_STATUS_PURGED;
    return 0;
}

int csession_renew(csession *s)
{
    int rc = check_mutable(s);
    if (rc)
        return rc;
    s->status = CSESSION_STATUS_RENEWED;
    return 0;
}

/* ---- lifetime ------------------------------------------------------------ */

void csession__public_id_new(char out[CSESSION__PUBLIC_ID_LEN + 1])
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, CSESSION__PUBLIC_ID_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int csession_id(csession *s, const char **id)
{
    if (!s || !id)
        return csession__error(CSESSION_EINVAL, "NULL session or output");
    if (!s->meta.id[0]) {
        int rc = csession_init();
        if (rc)
            return rc;
        csession__public_id_new(s->meta.id);
    }
    *id = s->meta.id;
    return 0;
}

static int get_time(const csession *s, const int64_t *field, int64_t *out)
{
    if (!s || !out)
        return csession__error(CSESSION_EINVAL, "NULL session or output");
    if (*field == CSESSION__NO_TIME)
        return CSESSION_ENOTFOUND;
    *out = *field;
    return 0;
}

int csession_created(const csession *s, int64_t *out)
{
    return get_time(s, s ? &s->meta.created : NULL, out);
}

int csession_last_seen(const csession *s, int64_t *out)
{
    return get_time(s, s ? &s->meta.seen : NULL, out);
}

static int set_life(csession *s, int64_t life)
{
    int rc = check_mutable(s);
    if (rc)
        return rc;
    s->meta.life = life;
    s->life_changed = 1;
    mark_changed(s);
    return 0;
}

int csession_set_persistent(csession *s, int64_t ttl_seconds)
{
    if (ttl_seconds < 1 || ttl_seconds > CSESSION_MAX_TTL)
        return csession__error(CSESSION_EINVAL, "TTL of %lld s outside 1..%d",
                               (long long)ttl_seconds, CSESSION_MAX_TTL);
    return set_life(s, ttl_seconds);
}

int csession_set_browser_session(csession *s)
{
    return set_life(s, 0);
}

int csession_is_persistent(const csession *s)
{
    if (!s)
        return csession__error(CSESSION_EINVAL, "session is NULL");
    if (s->meta.life != CSESSION__LIFE_DEFAULT)
        return s->meta.life > 0;
    return s->default_persistent != 0;
}
