/* An allocator that fails on demand, to test every out-of-memory path. */
#ifndef CSESSION_TEST_OOM_H
#define CSESSION_TEST_OOM_H

#include <stddef.h>

/* Installs the counting allocator into csession (and so into cJSON). */
void oom_install(void);
/* Restores the C library allocator. */
void oom_uninstall(void);
/* Makes the n-th allocation from now fail (0 = never), and every later one
 * when `sticky` is non-zero. */
void oom_fail_at(size_t n, int sticky);
/* Allocations made since the last oom_fail_at(). */
size_t oom_count(void);
/* Blocks currently allocated through the hook and not yet freed. */
long oom_live_blocks(void);

/*
 * Runs `body` with the n-th allocation failing for n = 1, 2, ... until a run
 * needs no more allocations than it was allowed. For each n, body must
 * either succeed or fail cleanly, and must free everything it allocated
 * (checked: the live-block count is back to its value before the call).
 * `body` returns 0 on success or a csession error code. Returns the number
 * of failure points exercised; fails the test through cmocka on a leak or
 * when an allocation failure is not reported as CSESSION_ENOMEM.
 */
size_t oom_run_each_failure(int (*body)(void *ctx), void *ctx);

#endif
