/*
 * Internal: one shard of the memory store, without its lock. A hash table
 * of entries (chained, keyed by a precomputed hash) plus a binary min-heap
 * of the same entries ordered by expiry time, so that the entry closest to
 * expiry is always at hand and any entry can leave the heap in O(log n).
 * The caller serialises all access (the shard's mutex).
 */
#ifndef CSESSION_SRC_STORES_MEMORY_TABLE_H
#define CSESSION_SRC_STORES_MEMORY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "session_key.h"

typedef struct csession__mem_entry {
    struct csession__mem_entry *next; /* bucket chain, then a free list */
    uint64_t hash;                    /* SipHash of key */
    int64_t deadline_ms;              /* expired once the clock reaches it */
    uint64_t revision;                /* 1 at save, +1 on every write */
    uint32_t heap_index;              /* position in the heap */
    uint32_t state_len;
    uint8_t anonymous;                /* saved without a renewal: counts in that budget */
    char key[CSESSION__SESSION_KEY_LEN];
    char state[];                     /* state_len bytes */
} csession__mem_entry;

typedef struct csession__mem_table {
    csession__mem_entry **buckets; /* NULL until the first insertion */
    size_t bucket_count;           /* 0 or a power of two */
    csession__mem_entry **heap;
    size_t heap_capacity;
    size_t count; /* entries in both the buckets and the heap */
} csession__mem_table;

/* A new entry holding a copy of `state`; hash, key and deadline are left for
 * the caller. NULL when out of memory. */
csession__mem_entry *csession__mem_entry_new(const char *state, size_t state_len);
/* Wipes (key and state are secrets) and frees an entry; NULL is a no-op. */
void csession__mem_entry_free(csession__mem_entry *e);
/* Frees a list of entries linked through `next`. */
void csession__mem_entry_free_list(csession__mem_entry *list);

/* Frees every entry (wiped) and the table's arrays; leaves it empty. */
void csession__mem_table_dispose(csession__mem_table *t);

/* The entry with this hash and key, expired or not, or NULL. */
csession__mem_entry *csession__mem_table_find(const csession__mem_table *t, uint64_t hash,
                                              const char *key);

/* Makes room so that the next insert cannot fail. 0 or CSESSION_ENOMEM. */
int csession__mem_table_reserve(csession__mem_table *t);

/* Adds `e` (hash, key, deadline set; key not present). Needs a successful
 * reserve() since the last insert. */
void csession__mem_table_insert(csession__mem_table *t, csession__mem_entry *e);

/* Takes `e` out of the table; the caller owns it afterwards. */
void csession__mem_table_unlink(csession__mem_table *t, csession__mem_entry *e);

/* Puts `replacement` (same hash and key, its own deadline) in the place of
 * `old`, which the caller owns afterwards. Cannot fail. */
void csession__mem_table_replace(csession__mem_table *t, csession__mem_entry *old,
                                 csession__mem_entry *replacement);

/* Moves `e` to a new expiry time. */
void csession__mem_table_set_deadline(csession__mem_table *t, csession__mem_entry *e,
                                      int64_t deadline_ms);

/* Unlinks and returns the entry closest to expiry if it has expired at
 * `now_ms`, else NULL. */
csession__mem_entry *csession__mem_table_pop_expired(csession__mem_table *t, int64_t now_ms);

#endif
