/* One shard of the memory store: chained hash table plus expiry min-heap. */
#include "memory_table.h"

#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "error.h"
#include "session_key.h"

#define INITIAL_SLOTS 16

csession__mem_entry *csession__mem_entry_new(const char *state, size_t state_len)
{
    /* The caller bounds state_len (16 MiB), so neither the sum nor the
     * 32-bit length can overflow. */
    csession__mem_entry *e = csession__malloc(offsetof(csession__mem_entry, state) + state_len);
    if (!e)
        return NULL;
    e->next = NULL;
    e->hash = 0;
    e->deadline_ms = 0;
    e->revision = 1;
    e->anonymous = 1;
    e->heap_index = 0;
    e->state_len = (uint32_t)state_len;
    if (state_len)
        memcpy(e->state, state, state_len);
    return e;
}

void csession__mem_entry_free(csession__mem_entry *e)
{
    if (!e)
        return;
    sodium_memzero(e, offsetof(csession__mem_entry, state) + e->state_len);
    csession__free(e);
}

void csession__mem_entry_free_list(csession__mem_entry *list)
{
    while (list) {
        csession__mem_entry *next = list->next;
        csession__mem_entry_free(list);
        list = next;
    }
}

void csession__mem_table_dispose(csession__mem_table *t)
{
    /* Every entry is in the heap, so the heap alone enumerates them. */
    for (size_t i = 0; i < t->count; i++)
        csession__mem_entry_free(t->heap[i]);
    csession__free(t->heap);
    csession__free(t->buckets);
    memset(t, 0, sizeof *t);
}

csession__mem_entry *csession__mem_table_find(const csession__mem_table *t, uint64_t hash,
                                              const char *key)
{
    if (!t->buckets)
        return NULL;
    for (csession__mem_entry *e = t->buckets[hash & (t->bucket_count - 1)]; e; e = e->next) {
        /* The full 64-bit hash is compared first, so the key comparison
         * (constant time: keys are secrets) runs about once per lookup. */
        if (e->hash == hash && csession__key_equal(e->key, key, CSESSION__SESSION_KEY_LEN))
            return e;
    }
    return NULL;
}

/* ---- expiry heap ------------------------------------------------------- */

static void heap_put(csession__mem_table *t, size_t i, csession__mem_entry *e)
{
    t->heap[i] = e;
    e->heap_index = (uint32_t)i;
}

static void sift_up(csession__mem_table *t, size_t i)
{
    csession__mem_entry *e = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->heap[parent]->deadline_ms <= e->deadline_ms)
            break;
        heap_put(t, i, t->heap[parent]);
        i = parent;
    }
    heap_put(t, i, e);
}

static void sift_down(csession__mem_table *t, size_t i)
{
    csession__mem_entry *e = t->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->count)
            break;
        if (child + 1 < t->count && t->heap[child + 1]->deadline_ms < t->heap[child]->deadline_ms)
            child++;
        if (e->deadline_ms <= t->heap[child]->deadline_ms)
            break;
        heap_put(t, i, t->heap[child]);
        i = child;
    }
    heap_put(t, i, e);
}

/* Restores the heap order after the deadline at position i changed. If the
 * entry moved up, the one now at i came from above and sift_down leaves it. */
static void heap_fix(csession__mem_table *t, size_t i)
{
    sift_up(t, i);
    sift_down(t, i);
}

static void heap_remove(csession__mem_table *t, size_t i)
{
    t->count--;
    if (i == t->count)
        return;
    heap_put(t, i, t->heap[t->count]);
    heap_fix(t, i);
}

/* ---- hash chains ------------------------------------------------------- */

/* Doubles the bucket array to keep chains short. Failing to grow is not an
 * error: chains just get longer until the next attempt. */
static void grow_buckets(csession__mem_table *t)
{
    size_t n = t->bucket_count * 2;
    if (n < t->bucket_count || n > SIZE_MAX / sizeof *t->buckets)
        return;
    csession__mem_entry **b = csession__calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->bucket_count; i++) {
        csession__mem_entry *e = t->buckets[i];
        while (e) {
            csession__mem_entry *next = e->next;
            size_t j = e->hash & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    csession__free(t->buckets);
    t->buckets = b;
    t->bucket_count = n;
}

static csession__mem_entry **chain_link(csession__mem_table *t, const csession__mem_entry *e)
{
    csession__mem_entry **link = &t->buckets[e->hash & (t->bucket_count - 1)];
    while (*link != e)
        link = &(*link)->next;
    return link;
}

int csession__mem_table_reserve(csession__mem_table *t)
{
    if (!t->buckets) {
        t->buckets = csession__calloc(INITIAL_SLOTS, sizeof *t->buckets);
        if (!t->buckets)
            return csession__oom();
        t->bucket_count = INITIAL_SLOTS;
    }
    if (t->count == t->heap_capacity) {
        size_t cap = t->heap_capacity ? t->heap_capacity * 2 : INITIAL_SLOTS;
        if (cap > SIZE_MAX / sizeof *t->heap)
            return csession__oom();
        /* The heap holds pointers only, nothing to wipe: realloc is fine. */
        csession__mem_entry **h = csession__realloc(t->heap, cap * sizeof *h);
        if (!h)
            return csession__oom();
        t->heap = h;
        t->heap_capacity = cap;
    }
    return 0;
}

void csession__mem_table_insert(csession__mem_table *t, csession__mem_entry *e)
{
    /* Load factor at most 1. */
    if (t->count >= t->bucket_count)
        grow_buckets(t);
    csession__mem_entry **head = &t->buckets[e->hash & (t->bucket_count - 1)];
    e->next = *head;
    *head = e;
    t->count++;
    heap_put(t, t->count - 1, e);
    sift_up(t, t->count - 1);
}

void csession__mem_table_unlink(csession__mem_table *t, csession__mem_entry *e)
{
    *chain_link(t, e) = e->next;
    e->next = NULL;
    heap_remove(t, e->heap_index);
}

void csession__mem_table_replace(csession__mem_table *t, csession__mem_entry *old,
                                 csession__mem_entry *replacement)
{
    *chain_link(t, old) = replacement;
    replacement->next = old->next;
    old->next = NULL;
    size_t i = old->heap_index;
    heap_put(t, i, replacement);
    heap_fix(t, i);
}

void csession__mem_table_set_deadline(csession__mem_table *t, csession__mem_entry *e,
                                      int64_t deadline_ms)
{
    e->deadline_ms = deadline_ms;
    heap_fix(t, e->heap_index);
}

csession__mem_entry *csession__mem_table_pop_expired(csession__mem_table *t, int64_t now_ms)
{
    if (t->count == 0 || t->heap[0]->deadline_ms > now_ms)
        return NULL;
    csession__mem_entry *e = t->heap[0];
    csession__mem_table_unlink(t, e);
    return e;
}
