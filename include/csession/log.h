/*
 * log.h: a process-wide hook for what the library absorbs without an error
 * code: a reconnection to Redis, a failover followed, a Cluster slot map
 * reloaded, connections inherited across fork() and closed unused.
 *
 * Off by default: without a handler nothing is formatted and a log site
 * costs one relaxed atomic load. Messages never carry a secret: no session
 * key, no password, no state contents. Servers are named by host:port,
 * sessions (where a message needs one) by a public id, never by their key.
 * Events that can come at a high rate are counted and reported at most
 * once a minute with their count, rather than once each. docs/logging.md
 * lists the messages.
 */
#ifndef CSESSION_LOG_H
#define CSESSION_LOG_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/*
 * Levels, most severe first. The values are syslog(3)'s priorities
 * (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG), so a handler may pass them
 * to syslog() as they are. They are part of the ABI and never change.
 */
typedef enum csession_log_level {
    CSESSION_LOG_ERROR = 3, /* something failed that the caller is not told about */
    CSESSION_LOG_WARN = 4,  /* absorbed, but worth a look: a connection dropped, a master moved */
    CSESSION_LOG_INFO = 6,  /* the normal course of things: a master found, a map loaded, a fork */
    CSESSION_LOG_DEBUG = 7  /* detail for finding a problem */
} csession_log_level;

/*
 * A log handler: `level` is a csession_log_level, `message` one line of
 * UTF-8 without a trailing newline (borrowed: valid only during the call;
 * at most 511 bytes, longer ones are cut), `payload` what was given to
 * csession_set_log_handler().
 *
 * The handler is called from whichever thread the event happens on,
 * possibly from several threads at once: it must be thread-safe. It should
 * return quickly (it runs in the middle of a request; no lock of the
 * library is held while it runs). It may call any csession function except
 * csession_set_log_handler(), which would wait for the handler's own call
 * to end, and it must not call fork().
 */
typedef void (*csession_log_fn)(int level, const char *message, void *payload);

/*
 * Sets the process-wide log handler and its payload (borrowed: it must stay
 * valid until another handler replaces this one). `fn` NULL turns logging
 * off; `payload` is then ignored. There is one handler per process, shared
 * by every manager and store.
 *
 * Thread-safe: may be called at any time, from any thread, while other
 * threads log. When it returns, every call to the previous handler has
 * returned and none will start: the previous payload may be freed. It
 * therefore blocks until calls to the previous handler that are under way
 * in other threads return, and must not be called from a handler.
 */
CSESSION_EXTERN(void) csession_set_log_handler(csession_log_fn fn, void *payload);

/*
 * The name of a level: "error", "warn", "info" or "debug"; "unknown" for
 * any other value. A static string. Thread-safe.
 */
CSESSION_EXTERN(const char *) csession_log_level_name(int level);

CSESSION_END_DECLS

#endif /* CSESSION_LOG_H */
