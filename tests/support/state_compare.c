/* See state_compare.h. */
#include "state_compare.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csession.h"
#include "json_gen.h"
#include "state_format.h"

int state_same_meta(const csession__state_meta *a, const csession__state_meta *b)
{
    return strcmp(a->id, b->id) == 0 && a->created == b->created && a->seen == b->seen &&
           a->keyed == b->keyed && a->life == b->life && a->to_len == b->to_len &&
           memcmp(a->to, b->to, a->to_len) == 0 && a->until == b->until;
}

/* The generic decoder's map keeps the name "state" it had in the
 * document, which says nothing about the map: compare the members. */
static int same_map(const cJSON *a, const cJSON *b)
{
    return cJSON_IsObject(a) && cJSON_IsObject(b) && json_gen_same_children(a, b);
}

int state_compare(const char *text, size_t len, int *code, char *why, size_t why_size)
{
    cJSON *fast_map, *full_map;
    int64_t fast_exp, full_exp;
    csession__state_meta fast_meta, full_meta;
    char fast_error[512];
    int fast = csession__state_decode_meta(text, len, &fast_map, &fast_exp, &fast_meta);
    snprintf(fast_error, sizeof fast_error, "%s", csession_last_error());
    int full = csession__state_decode_generic(text, len, &full_map, &full_exp, &full_meta);
    int same = fast == full;
    if (!same)
        snprintf(why, why_size, "%d (%s) with the shortcut, %d (%s) without", fast, fast_error,
                 full, csession_last_error());
    else if (full && strcmp(fast_error, csession_last_error()) != 0)
        snprintf(why, why_size, "\"%s\" with the shortcut, \"%s\" without", fast_error,
                 csession_last_error());
    else if (full && (fast_map || full_map))
        snprintf(why, why_size, "a map despite code %d", full);
    else if (!full && (fast_exp != full_exp || !state_same_meta(&fast_meta, &full_meta) ||
                       !same_map(fast_map, full_map)))
        snprintf(why, why_size, "decodes differently with the shortcut");
    else
        why = NULL;
    cJSON_Delete(fast_map);
    cJSON_Delete(full_map);
    if (code)
        *code = full;
    return why == NULL;
}
