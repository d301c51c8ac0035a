/* Internal: clocks. The wall clock of session lifetimes (unix seconds),
 * the stores' millisecond clocks, and expiry deadlines on them. */
#ifndef CSESSION_SRC_CLOCK_H
#define CSESSION_SRC_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (expiry within one process: setting the
 * system time neither expires nor revives anything) and on CLOCK_REALTIME
 * (expiry stored for other processes and later runs). `ctx` is unused: the
 * shape of the stores' replaceable clock hooks. */
int64_t csession__monotonic_ms(void *ctx);
int64_t csession__realtime_ms(void *ctx);

/* now + ttl, saturating: a TTL of centuries means "never" rather than a
 * deadline in the past. */
static inline int64_t csession__deadline_ms(int64_t now_ms, int64_t ttl_seconds)
{
    if (ttl_seconds > (INT64_MAX - now_ms) / 1000)
        return INT64_MAX;
    return now_ms + ttl_seconds * 1000;
}

/* Creation, last-seen, rotation and grace times are wall-clock seconds:
 * they are stored and outlive the process. Tests replace it. */
extern int64_t (*csession__wall_now)(void);

#endif
