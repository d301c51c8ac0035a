#include "oom.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"

/* Each block carries a header so that frees can be counted. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

static size_t calls;
static size_t fail_at;
static int fail_sticky;
static long live;

static int should_fail(void)
{
    calls++;
    if (fail_at == 0)
        return 0;
    return fail_sticky ? calls >= fail_at : calls == fail_at;
}

static void *oom_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    header *h = malloc(sizeof(header) + size);
    if (!h)
        return NULL;
    h->size = size;
    live++;
    return h + 1;
}

static void oom_free(void *p)
{
    if (!p)
        return;
    live--;
    free((header *)p - 1);
}

static void *oom_realloc(void *p, size_t size)
{
    if (!p)
        return oom_malloc(size);
    if (should_fail())
        return NULL;
    header *h = realloc((header *)p - 1, sizeof(header) + size);
    if (!h)
        return NULL;
    h->size = size;
    return h + 1;
}

void oom_install(void)
{
    calls = 0;
    fail_at = 0;
    live = 0;
    assert_int_equal(csession_set_allocator(oom_malloc, oom_realloc, oom_free), 0);
}

void oom_uninstall(void)
{
    assert_int_equal(csession_set_allocator(NULL, NULL, NULL), 0);
}

void oom_fail_at(size_t n, int sticky)
{
    calls = 0;
    fail_at = n;
    fail_sticky = sticky;
}

size_t oom_count(void)
{
    return calls;
}

long oom_live_blocks(void)
{
    return live;
}

size_t oom_run_each_failure(int (*body)(void *ctx), void *ctx)
{
    size_t n;
    for (n = 1;; n++) {
        long before = live;
        oom_fail_at(n, 1);
        int rc = body(ctx);
        size_t used = calls;
        oom_fail_at(0, 0);
        if (live != before) /* something leaked on this path */
            fail_msg("failing allocation %zu (rc %d: %s) leaked %ld block(s)", n, rc,
                     csession_last_error(), live - before);
        if (used < n) {
            /* The n-th allocation never happened: the run was complete. */
            assert_int_equal(rc, 0);
            break;
        }
        if (rc != 0 && rc != CSESSION_ENOMEM)
            fail_msg("allocation %zu failed but the call returned %d (%s)", n, rc,
                     csession_strerror(rc));
    }
    return n - 1;
}
