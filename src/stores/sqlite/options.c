/* The SQLite store's options: see options.h. */
#include "options.h"

#include <string.h>

#include "error.h"

/* Bytes of the struct that a caller of `version` has: the store never
 * reads past them, so a struct from an older header (shorter) is read
 * safely by a newer library. 0 for a version this library does not know. */
static size_t options_size(unsigned int version)
{
    switch (version) {
    case 1:
        return offsetof(csession_store_sqlite_options, cleanup_budget) +
               sizeof(unsigned int);
    default:
        return 0;
    }
}

unsigned int csession_store_sqlite_options_version(void)
{
    return CSESSION_STORE_SQLITE_OPTIONS_VERSION;
}

int csession_store_sqlite_options_init(csession_store_sqlite_options *opts, unsigned int version)
{
    if (!opts)
        return csession__error(CSESSION_EINVAL, "NULL options");
    size_t size = options_size(version);
    if (!size)
        return csession__error(CSESSION_EINVAL, "unknown SQLite store options version %u",
                               version);
    memset(opts, 0, size);
    opts->version = version;
    return 0;
}

const char *csession__sqlite_journal_name(int journal_mode)
{
    switch (journal_mode) {
    case CSESSION_STORE_SQLITE_JOURNAL_DELETE:
        return "delete";
    case CSESSION_STORE_SQLITE_JOURNAL_TRUNCATE:
        return "truncate";
    case CSESSION_STORE_SQLITE_JOURNAL_PERSIST:
        return "persist";
    default:
        return "wal";
    }
}

const char *csession__sqlite_sync_name(int synchronous)
{
    switch (synchronous) {
    case CSESSION_STORE_SQLITE_SYNC_NORMAL:
        return "normal";
    case CSESSION_STORE_SQLITE_SYNC_EXTRA:
        return "extra";
    default:
        return "full";
    }
}

int csession__sqlite_read_options(const csession_store_sqlite_options *opts,
                                  csession__sqlite_settings *out)
{
    csession_store_sqlite_options o;
    memset(&o, 0, sizeof o);
    if (opts) {
        /* The version first, alone: it says how much of *opts exists. */
        size_t size = options_size(opts->version);
        if (!size)
            return csession__error(CSESSION_EINVAL, "unknown SQLite store options version %u",
                                   opts->version);
        memcpy(&o, opts, size);
    }
    out->busy_timeout_ms =
        o.busy_timeout_ms ? o.busy_timeout_ms : CSESSION_STORE_SQLITE_DEFAULT_BUSY_TIMEOUT_MS;
    if (out->busy_timeout_ms > CSESSION_STORE_SQLITE_LIMIT_BUSY_TIMEOUT_MS)
        return csession__error(CSESSION_EINVAL, "SQLite store option busy_timeout_ms above %d ms",
                               CSESSION_STORE_SQLITE_LIMIT_BUSY_TIMEOUT_MS);

    out->journal_mode = o.journal_mode ? o.journal_mode : CSESSION_STORE_SQLITE_JOURNAL_WAL;
    if (out->journal_mode < CSESSION_STORE_SQLITE_JOURNAL_WAL ||
        out->journal_mode > CSESSION_STORE_SQLITE_JOURNAL_PERSIST)
        return csession__error(CSESSION_EINVAL, "SQLite store option journal_mode: unknown mode %d",
                               o.journal_mode);
    int wal = out->journal_mode == CSESSION_STORE_SQLITE_JOURNAL_WAL;

    out->synchronous = o.synchronous ? o.synchronous
                                     : wal ? CSESSION_STORE_SQLITE_SYNC_NORMAL
                                           : CSESSION_STORE_SQLITE_SYNC_FULL;
    if (out->synchronous < CSESSION_STORE_SQLITE_SYNC_NORMAL ||
        out->synchronous > CSESSION_STORE_SQLITE_SYNC_EXTRA)
        return csession__error(CSESSION_EINVAL, "SQLite store option synchronous: unknown level %d",
                               o.synchronous);
    if (!wal && out->synchronous == CSESSION_STORE_SQLITE_SYNC_NORMAL)
        return csession__error(CSESSION_EINVAL,
                               "SQLite store: synchronous NORMAL is safe only with the WAL "
                               "journal; use FULL with journal mode %s",
                               csession__sqlite_journal_name(out->journal_mode));

    out->max_state_bytes =
        o.max_state_bytes ? o.max_state_bytes : CSESSION_STORE_SQLITE_DEFAULT_MAX_STATE_BYTES;
    if (out->max_state_bytes > CSESSION_STORE_SQLITE_LIMIT_MAX_STATE_BYTES)
        return csession__error(CSESSION_EINVAL, "SQLite store option max_state_bytes above %u",
                               CSESSION_STORE_SQLITE_LIMIT_MAX_STATE_BYTES);

    out->cleanup_budget =
        o.cleanup_budget ? o.cleanup_budget : CSESSION_STORE_SQLITE_DEFAULT_CLEANUP_BUDGET;
    if (out->cleanup_budget > CSESSION_STORE_SQLITE_LIMIT_CLEANUP_BUDGET)
        return csession__error(CSESSION_EINVAL, "SQLite store option cleanup_budget above %d",
                               CSESSION_STORE_SQLITE_LIMIT_CLEANUP_BUDGET);
    return 0;
}
