/*
 * Internal: the SQLite store's options, read by their version and checked.
 * Compiled in every build, so that csession_store_sqlite_options_init()
 * works also where the store itself is not available.
 */
#ifndef CSESSION_SRC_STORES_SQLITE_OPTIONS_H
#define CSESSION_SRC_STORES_SQLITE_OPTIONS_H

#include <stddef.h>

#include "csession/store_sqlite.h"

/* The options with every default filled in and every value checked. */
typedef struct csession__sqlite_settings {
    unsigned int busy_timeout_ms;
    int journal_mode;   /* CSESSION_STORE_SQLITE_JOURNAL_*, never DEFAULT */
    int synchronous;    /* CSESSION_STORE_SQLITE_SYNC_*, never DEFAULT */
    size_t max_state_bytes;
    unsigned int cleanup_budget;
} csession__sqlite_settings;

/*
 * Reads `opts` (NULL: the defaults) into `out`: only the fields of the
 * version `opts` says it has, the rest taking their defaults.
 * Returns 0 or CSESSION_EINVAL with a message naming the option.
 */
int csession__sqlite_read_options(const csession_store_sqlite_options *opts,
                                  csession__sqlite_settings *out);

/* The pragma value of a journal mode or synchronous level ("wal", "full"). */
const char *csession__sqlite_journal_name(int journal_mode);
const char *csession__sqlite_sync_name(int synchronous);

#endif
