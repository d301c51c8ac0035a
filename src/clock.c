/* The wall clock of session lifetimes: see clock.h. */
#include "clock.h"

#include <time.h>

static int64_t system_now(void)
{
    return (int64_t)time(NULL);
}

int64_t (*csession__wall_now)(void) = system_now;
