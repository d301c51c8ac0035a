/*
 * A store for tests: keeps states in a list, counts every call, and fails
 * on demand. It tells the manager tests exactly which store calls a request
 * made, without I/O.
 */
#ifndef CSESSION_TEST_FAKE_STORE_H
#define CSESSION_TEST_FAKE_STORE_H

#include <stddef.h>

#include "csession.h"

typedef struct fake_counts {
    int load, save, update, update_ttl, remove;
} fake_counts;

typedef struct fake_store fake_store;

/* A new fake store; its csession_store is fake_store_base(). */
fake_store *fake_store_new(void);
csession_store *fake_store_base(fake_store *f);
/* Calls made so far; fake_store_reset_counts() zeroes them. */
fake_counts fake_store_counts(const fake_store *f);
void fake_store_reset_counts(fake_store *f);
/* Makes the next `n` calls (of any kind) fail with `code`. */
void fake_store_fail_next(fake_store *f, int n, int code);
/* Stores raw bytes under a key, bypassing the vtable (for undecodable states). */
void fake_store_put(fake_store *f, const char *key, const char *state);
/* Number of keys held. */
size_t fake_store_size(const fake_store *f);
/* The TTL given with the last save/update/update_ttl. */
int64_t fake_store_last_ttl(const fake_store *f);
/* 1 when `key` is held. */
int fake_store_has(const fake_store *f, const char *key, size_t len);

#endif
