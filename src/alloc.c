/* The allocator hook: one place where every allocation of the library goes. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "csession/errors.h"
#include "csession/library.h"

static csession_malloc_fn hook_malloc = malloc;
static csession_realloc_fn hook_realloc = realloc;
static csession_free_fn hook_free = free;

int csession_set_allocator(csession_malloc_fn malloc_fn, csession_realloc_fn realloc_fn,
                           csession_free_fn free_fn)
{
    if (!malloc_fn && !realloc_fn && !free_fn) {
        hook_malloc = malloc;
        hook_realloc = realloc;
        hook_free = free;
        cJSON_InitHooks(NULL);
        return CSESSION_OK;
    }
    if (!malloc_fn || !realloc_fn || !free_fn)
        return CSESSION_EINVAL;
    hook_malloc = malloc_fn;
    hook_realloc = realloc_fn;
    hook_free = free_fn;
    /* cJSON builds the session maps; its hooks must match ours so that the
     * allocator sees (and can fail) every allocation. */
    cJSON_Hooks hooks = { malloc_fn, free_fn };
    cJSON_InitHooks(&hooks);
    return CSESSION_OK;
}

void *csession__malloc(size_t size)
{
    return hook_malloc(size ? size : 1);
}

void *csession__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = csession__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *csession__realloc(void *ptr, size_t size)
{
    return hook_realloc(ptr, size ? size : 1);
}

void csession__free(void *ptr)
{
    if (ptr)
        hook_free(ptr);
}

char *csession__strndup(const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = csession__malloc(len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
