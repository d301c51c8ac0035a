/*
 * The event loops the tests can run csession on: the library's own poll()
 * loop always, and libuv, libevent and libev through the header-only
 * adapters (csession/loop_uv.h, loop_event.h, loop_ev.h) when the build
 * found them. Link the csession_test_loops library to use these.
 */
#ifndef CSESSION_TEST_LOOP_ADAPTERS_H
#define CSESSION_TEST_LOOP_ADAPTERS_H

#include <stddef.h>

#include "conformance_loop.h"

/* Number of loops in this build, and the name of the i-th ("poll" first). */
size_t loop_adapter_count(void);
const char *loop_adapter_name(size_t i);

/*
 * A new loop of the kind `name` ("poll", "uv", "event", "ev") in *out.
 * Returns 0, or -1 when this build has no such loop or it could not be made.
 */
int loop_adapter_create(conformance_loop *out, const char *name);

/*
 * Turns the loop until the handles closed through it are released (libuv
 * frees them on a later turn), then destroys it. Handles still open are
 * the caller's leak. NULL members (a failed create) are fine.
 */
void loop_adapter_destroy(conformance_loop *l);

#endif
