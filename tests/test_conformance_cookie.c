/* The conformance suite on the cookie store, with a clock the test moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "conformance.h"
#include "stores/cookie_store.h"

static int64_t offset_s;

static int64_t test_clock(void)
{
    return (int64_t)time(NULL) + offset_s;
}

static int new_store(csession_store **out, void *ctx)
{
    (void)ctx;
    csession__cookie_store_now = test_clock;
    return csession_store_cookie_new(out);
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)store;
    (void)ctx;
    offset_s += seconds;
}

int main(void)
{
    conformance_target t = { "cookie", new_store, advance_time, NULL, 0, NULL };
    return conformance_run(&t);
}
