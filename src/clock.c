/* Clocks: see clock.h. */
#include "clock.h"

#include <time.h>

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t csession__monotonic_ms(void *ctx)
{
    (void)ctx;
    return ms_of(CLOCK_MONOTONIC);
}

int64_t csession__realtime_ms(void *ctx)
{
    (void)ctx;
    return ms_of(CLOCK_REALTIME);
}

static int64_t system_now(void)
{
    return (int64_t)time(NULL);
}

int64_t (*csession__wall_now)(void) = system_now;
