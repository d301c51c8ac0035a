/*
 * Internal: hooks into the SQLite store for tests and benchmarks. The
 * setters may not be called while other threads use the store.
 */
#ifndef CSESSION_SRC_STORES_SQLITE_STORE_H
#define CSESSION_SRC_STORES_SQLITE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "csession/store_sqlite.h"
#include "session_key.h"

/* Wall-clock time in unix milliseconds (what expiry is measured in). */
typedef int64_t (*csession__sqlite_clock_fn)(void *ctx);

/* A session key generator (64 characters, no NUL). */
typedef void (*csession__sqlite_keygen_fn)(char out[CSESSION__SESSION_KEY_LEN], void *ctx);

typedef struct csession__sqlite_stats {
    unsigned long opened;          /* connections opened so far */
    unsigned long closed_for_fork; /* idle connections closed before a fork() */
    unsigned long idle;            /* idle connections now */
    unsigned long reclaimed;       /* expired rows deleted by saves */
} csession__sqlite_stats;

/* 1 when `store` is an SQLite store, else 0. */
int csession__store_is_sqlite(const csession_store *store);

/* Replaces the clock (NULL restores the system's). 0 or EINVAL. */
int csession__store_sqlite_set_clock(csession_store *store, csession__sqlite_clock_fn now_ms,
                                     void *ctx);

/* Replaces the key generator (NULL restores the CSPRNG one). 0 or EINVAL. */
int csession__store_sqlite_set_keygen(csession_store *store, csession__sqlite_keygen_fn keygen,
                                      void *ctx);

/* Counters. 0 or EINVAL. */
int csession__store_sqlite_stats(csession_store *store, csession__sqlite_stats *out);

/* The resolved path of the database file (borrowed from the store), or
 * NULL for another store. */
const char *csession__store_sqlite_path(const csession_store *store);

/* The value of `PRAGMA <name>` on one of the store's connections, as
 * text into out[0..size) (for checking what a connection is set to).
 * 0 or a failure. */
int csession__store_sqlite_pragma(csession_store *store, const char *name, char *out,
                                  size_t size);

/* The row id of a session key: its SHA-256 (32 bytes). */
#define CSESSION__SQLITE_ID_BYTES 32
void csession__sqlite_row_id(const char *key, unsigned char id[CSESSION__SQLITE_ID_BYTES]);

#endif
