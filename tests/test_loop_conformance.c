/*
 * The conformance suite through the manager's non-blocking calls, on the
 * loop named by the first argument ("poll", "uv", "event", "ev": see
 * tests/support/loop_adapters.h): on the memory store and the cookie store (no
 * `start`: their blocking members run on the loop's thread, `done` on the
 * next turn) and on a store with non-blocking members (tests/support/
 * async_store.c over a memory store: every call completes turns later).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "async_store.h"
#include "conformance.h"
#include "loop_adapters.h"
#include "stores/cookie_store.h"
#include "stores/memory.h"

static int64_t offset_s;

static int64_t memory_clock(void *ctx)
{
    (void)ctx;
    return 1000000 + offset_s * 1000;
}

static int64_t cookie_clock(void)
{
    return (int64_t)time(NULL) + offset_s;
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)store;
    (void)ctx;
    offset_s += seconds;
}

static int memory_store(csession_store **out, void *ctx)
{
    (void)ctx;
    int rc = csession_store_memory_new(out, NULL);
    if (!rc)
        rc = csession__store_memory_set_clock(*out, memory_clock, NULL);
    return rc;
}

static int cookie_store(csession_store **out, void *ctx)
{
    (void)ctx;
    csession__cookie_store_now = cookie_clock;
    return csession_store_cookie_new(out);
}

/* A memory store behind non-blocking members that answer two turns later. */
static int async_memory_store(csession_store **out, void *ctx)
{
    csession_store *inner;
    int rc = memory_store(&inner, ctx);
    if (rc)
        return rc;
    async_store *a = async_store_new(inner, 2);
    if (!a) {
        csession_store_free(inner);
        return CSESSION_ENOMEM;
    }
    *out = async_store_base(a);
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "poll";
    conformance_loop loop;
    if (loop_adapter_create(&loop, name) != 0) {
        fprintf(stderr, "no %s loop in this build\n", name);
        return 77;
    }
    const conformance_target targets[] = {
        { "memory", memory_store, advance_time, NULL, 1, &loop },
        { "cookie", cookie_store, advance_time, NULL, 0, &loop },
        { "async store", async_memory_store, advance_time, NULL, 1, &loop },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        failed += conformance_run(&targets[i]);
    loop_adapter_destroy(&loop);
    return failed;
}
