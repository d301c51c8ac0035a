/* The conformance suite on the memory store, with a clock the test moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conformance.h"
#include "stores/memory.h"

static int64_t offset_ms;

static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return 1000000 + offset_ms;
}

static int new_store(csession_store **out, void *ctx)
{
    (void)ctx;
    int rc = csession_store_memory_new(out, NULL);
    if (!rc)
        rc = csession__store_memory_set_clock(*out, test_clock, NULL);
    return rc;
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)store;
    (void)ctx;
    offset_ms += seconds * 1000;
}

int main(void)
{
    conformance_target t = { "memory", new_store, advance_time, NULL, 1, NULL };
    return conformance_run(&t);
}
