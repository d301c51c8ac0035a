/* Merging a request's changes onto a newer state: see merge.h. */
#include "merge.h"

#include <string.h>

#include "error.h"

/* Same value under `key` in both (absent in both counts as the same). */
static int same_value(const cJSON *a, const cJSON *b, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, key);
    if (!x || !y)
        return x == y;
    return cJSON_Compare(x, y, 1);
}

/* Sets or removes `key` in `dst` to match `src` (the request's map). */
static int apply_key(cJSON *dst, const cJSON *src, const char *key)
{
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(src, key);
    if (!mine) {
        csession__json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(dst, key));
        return 0;
    }
    cJSON *copy = cJSON_Duplicate(mine, 1);
    if (!copy)
        return csession__oom();
    cJSON *old = cJSON_GetObjectItemCaseSensitive(dst, key);
    if (old) {
        /* Keeps the position. The old value is a secret like the new one:
         * wiped first (the key stays, the replacement looks it up). */
        csession__json_wipe_value(old);
        if (cJSON_ReplaceItemInObjectCaseSensitive(dst, key, copy))
            return 0;
        csession__json_delete_wiped(copy);
        return csession__oom();
    }
    if (!cJSON_AddItemToObject(dst, key, copy)) {
        csession__json_delete_wiped(copy);
        return csession__oom();
    }
    return 0;
}

int csession__flow_merge(const csession *s, const cJSON *base, const cJSON *latest,
                         cJSON **merged)
{
    *merged = NULL;
    if (s->cleared) {
        /* The request replaced everything: only an unchanged state is safe
         * to replace. */
        if (!cJSON_Compare(base, latest, 1))
            return CSESSION_ECONFLICT;
        *merged = cJSON_Duplicate(s->map, 1);
        return *merged ? 0 : csession__oom();
    }
    /* touched.ptr is NULL while nothing was recorded: no arithmetic on it */
    const char *p = s->touched.size ? s->touched.ptr : "";
    const char *end = p + s->touched.size;
    for (const char *k = p; k < end; k += strlen(k) + 1) {
        if (!same_value(base, latest, k))
            return CSESSION_ECONFLICT;
    }
    cJSON *out = cJSON_Duplicate(latest, 1);
    if (!out)
        return csession__oom();
    for (const char *k = p; k < end; k += strlen(k) + 1) {
        int rc = apply_key(out, s->map, k);
        if (rc) {
            csession__json_delete_wiped(out);
            return rc;
        }
    }
    *merged = out;
    return 0;
}
