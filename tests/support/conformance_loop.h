/*
 * A csession_loop for tests, with a way to turn it: what the loop tests and
 * the non-blocking conformance suite both take. tests/support/loop_adapters.h
 * makes one for each loop library the build found.
 */
#ifndef CSESSION_TEST_CONFORMANCE_LOOP_H
#define CSESSION_TEST_CONFORMANCE_LOOP_H

#include "csession/loop.h"

typedef struct conformance_loop {
    /* "poll", "uv", "event" or "ev". */
    const char *name;
    /* The loop to hand to csession; valid until the loop is destroyed. */
    csession_loop *loop;
    /*
     * One iteration of the loop: waits, with no limit of its own, until a
     * watched descriptor is ready or a timer is due (returns at once when
     * nothing is watched or armed), then runs the callbacks that are due.
     * Returns 0, or -1 when the loop failed. Call it with `ctx`.
     */
    int (*run_once)(void *ctx);
    void *ctx;
} conformance_loop;

#endif
