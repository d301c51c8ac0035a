/*
 * Internal: the library's side of the log hook (include/csession/log.h).
 *
 * A message must never carry a secret: no session key, no password, no
 * state, no cookie value. Name servers by host:port.
 */
#ifndef CSESSION_SRC_LOG_H
#define CSESSION_SRC_LOG_H

#include <stdatomic.h>

#include "csession/log.h"
#include "error.h"

/* Non-zero while a handler is set. Read relaxed: a message sent just as
 * the handler changes may go to either. */
extern atomic_int csession__log_enabled;

/* 1 when a handler is set: test it before preparing a message's arguments
 * when that costs anything. */
static inline int csession__log_on(void)
{
    return atomic_load_explicit(&csession__log_enabled, memory_order_relaxed) != 0;
}

/* Formats the message and passes it to the handler; nothing when none is
 * set (the format is then not even looked at). Never call it with a lock
 * held that a handler calling back into the library could need. */
void csession__log(int level, const char *fmt, ...) CSESSION__PRINTF(2, 3);

/*
 * An event that may come at a high rate (a forged cookie per request under
 * attack): counted always, reported at most once per interval, with the
 * count since the last report and since the start. The first one is
 * reported at once. Define one per kind of event, with static storage:
 *
 *   static csession__log_counter forged =
 *       CSESSION__LOG_COUNTER(CSESSION_LOG_WARN, "invalid session cookies ignored");
 *   ...
 *   csession__log_count(&forged);
 *
 * which reports "invalid session cookies ignored: 1 (1 in all)", then at
 * most once a minute "invalid session cookies ignored: 4211 in the last
 * 60 s (4212 in all)".
 */
typedef struct csession__log_counter {
    int level;
    const char *what;          /* static text, no secret */
    atomic_ullong total;       /* events since the start */
    atomic_ullong reported;    /* `total` at the last report */
    atomic_llong next_ms;      /* monotonic ms before which nothing is reported; 0: at once */
    atomic_llong last_ms;      /* monotonic ms of the last report */
} csession__log_counter;

#define CSESSION__LOG_COUNTER(level, what) {(level), (what), 0, 0, 0, 0}

/* Least time between two reports of one counter. */
#define CSESSION__LOG_COUNT_INTERVAL_MS 60000

/* Counts one event and reports it when due (see above). Thread-safe. */
void csession__log_count(csession__log_counter *c);

#endif
