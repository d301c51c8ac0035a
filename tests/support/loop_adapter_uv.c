/* The libuv loop for tests: see loop_adapters.h. Its own file: libev's and
 * libevent's headers cannot be included together (both define EV_READ). */
#include <stdlib.h>

#include <uv.h>

#include "csession/loop_uv.h"
#include "loop_adapters_each.h"

typedef struct with_uv_ctx {
    uv_loop_t uv;
    csession_loop loop;
} with_uv_ctx;

static int with_uv_run_once(void *ctx)
{
    uv_loop_t *uv = &((with_uv_ctx *)ctx)->uv;
    /* UV_RUN_ONCE runs the timers that are due and then still polls until
     * the next event: with something due now, a turn that does not block
     * is the one iteration wanted. */
    uv_update_time(uv);
    uv_run(uv, uv_backend_timeout(uv) == 0 ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    return 0;
}

int loop_adapter_uv_create(conformance_loop *out)
{
    with_uv_ctx *c = malloc(sizeof *c);
    if (!c || uv_loop_init(&c->uv) != 0) {
        free(c);
        return -1;
    }
    csession_loop_uv_init(&c->loop, &c->uv);
    out->loop = &c->loop;
    out->run_once = with_uv_run_once;
    out->ctx = c;
    return 0;
}

void loop_adapter_uv_destroy(conformance_loop *l)
{
    with_uv_ctx *c = l->ctx;
    /* Closed handles are freed by their close callbacks, which run on the
     * next turn; a turn with nothing else to do does not wait. */
    for (int i = 0; i < 16 && uv_loop_close(&c->uv) == UV_EBUSY; i++)
        uv_run(&c->uv, UV_RUN_NOWAIT);
    free(c);
}
