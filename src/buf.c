/* csession_buf: growable result buffers that are wiped when released. */
#include "buf.h"

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "error.h"

void csession_buf_init(csession_buf *buf)
{
    if (buf)
        memset(buf, 0, sizeof *buf);
}

void csession_buf_dispose(csession_buf *buf)
{
    if (!buf)
        return;
    if (buf->ptr) {
        /* Buffers carry session state and cookie secrets: wipe before free. */
        sodium_memzero(buf->ptr, buf->capacity);
        csession__free(buf->ptr);
    }
    memset(buf, 0, sizeof *buf);
}

int csession_buf_set(csession_buf *buf, const char *data, size_t len)
{
    if (!buf || (!data && len))
        return csession__error(CSESSION_EINVAL, "csession_buf_set: NULL argument");
    return csession__buf_set(buf, data, len);
}

int csession__buf_grow(csession_buf *buf, size_t extra)
{
    if (extra > SIZE_MAX - 1 - buf->size)
        return csession__oom();
    size_t need = buf->size + extra + 1;
    if (need <= buf->capacity)
        return 0;
    size_t cap = buf->capacity ? buf->capacity : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Not realloc: the old block may hold secrets and must be wiped. */
    char *p = csession__malloc(cap);
    if (!p)
        return csession__oom();
    if (buf->ptr) {
        memcpy(p, buf->ptr, buf->size);
        sodium_memzero(buf->ptr, buf->capacity);
        csession__free(buf->ptr);
    }
    p[buf->size] = '\0';
    buf->ptr = p;
    buf->capacity = cap;
    return 0;
}

int csession__buf_set(csession_buf *buf, const void *data, size_t len)
{
    csession__buf_clear(buf);
    return csession__buf_append(buf, data, len);
}

int csession__buf_append(csession_buf *buf, const void *data, size_t len)
{
    int rc = csession__buf_grow(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->ptr + buf->size, data, len);
    buf->size += len;
    buf->ptr[buf->size] = '\0';
    return 0;
}

int csession__buf_puts(csession_buf *buf, const char *s)
{
    return csession__buf_append(buf, s, strlen(s));
}

void csession__buf_clear(csession_buf *buf)
{
    if (buf->ptr) {
        sodium_memzero(buf->ptr, buf->size);
        buf->ptr[0] = '\0';
    }
    buf->size = 0;
}
