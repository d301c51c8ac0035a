/* Random JSON trees for comparing csession's JSON code with cJSON's. */
#include "json_gen.h"

#include <string.h>

static uint32_t next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void random_text(uint32_t *seed, char *s, size_t cap, int utf8_only)
{
    static const char *const pieces[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                          "\"", "\\", "/", "\n", "\x01", "\x1f", "\x7f" };
    size_t n = next(seed) % (cap / 4), len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = next(seed);
        if (utf8_only || r % 3 == 0) {
            const char *p = r % 2 ? pieces[r % 10] : "a";
            memcpy(s + len, p, strlen(p));
            len += strlen(p);
        } else {
            s[len++] = (char)(1 + r % 255);
        }
    }
    s[len] = '\0';
}

cJSON *json_gen_tree(uint32_t *seed, int depth, int utf8_only)
{
    uint32_t r = next(seed);
    int kind = (int)(r % (depth > 0 ? 8 : 6));
    switch (kind) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateBool(r & 16);
    case 2: return cJSON_CreateNumber((double)(int32_t)(next(seed) * 2654435761u));
    case 3: return cJSON_CreateNumber((double)(int32_t)(next(seed) >> 4) / 1024.0);
    case 4:
    case 5: {
        char s[100];
        random_text(seed, s, sizeof s, utf8_only);
        return cJSON_CreateString(s);
    }
    default: {
        int object = kind == 6;
        cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
        int count = (int)(next(seed) % 5);
        for (int i = 0; c && i < count; i++) {
            cJSON *child = json_gen_tree(seed, depth - 1, utf8_only);
            if (!child) {
                cJSON_Delete(c);
                return NULL;
            }
            if (object) {
                char name[40];
                random_text(seed, name, sizeof name, 1);
                cJSON_AddItemToObject(c, name, child);
            } else {
                cJSON_AddItemToArray(c, child);
            }
        }
        return c;
    }
    }
}

int json_gen_same(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return 0;
    if ((a->string == NULL) != (b->string == NULL) ||
        (a->string && strcmp(a->string, b->string) != 0))
        return 0;
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0)
        return 0;
    if (cJSON_IsNumber(a) && memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0)
        return 0;
    return json_gen_same_children(a, b);
}

int json_gen_same_children(const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!json_gen_same(x, y))
            return 0;
    return x == NULL && y == NULL;
}
