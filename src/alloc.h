/* Internal: the allocator every file of the library goes through. */
#ifndef CSESSION_SRC_ALLOC_H
#define CSESSION_SRC_ALLOC_H

#include <stddef.h>

void *csession__malloc(size_t size);
void *csession__calloc(size_t count, size_t size); /* overflow-checked */
void *csession__realloc(void *ptr, size_t size);
void csession__free(void *ptr);

/* Copies `len` bytes and appends a NUL; NULL when out of memory. */
char *csession__strndup(const char *s, size_t len);

#endif
