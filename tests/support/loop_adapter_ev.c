/* The libev loop for tests: see loop_adapters.h. Its own file: libev's and
 * libevent's headers cannot be included together (both define EV_READ). */
#include <stdlib.h>

#include <ev.h>

#include "csession/loop_ev.h"
#include "loop_adapters_each.h"

typedef struct with_ev_ctx {
    struct ev_loop *l;
    csession_loop loop;
} with_ev_ctx;

static int with_ev_run_once(void *ctx)
{
    ev_run(((with_ev_ctx *)ctx)->l, EVRUN_ONCE);
    return 0;
}

int loop_adapter_ev_create(conformance_loop *out)
{
    with_ev_ctx *c = malloc(sizeof *c);
    if (!c || !(c->l = ev_loop_new(EVFLAG_AUTO))) {
        free(c);
        return -1;
    }
    csession_loop_ev_init(&c->loop, c->l);
    out->loop = &c->loop;
    out->run_once = with_ev_run_once;
    out->ctx = c;
    return 0;
}

void loop_adapter_ev_destroy(conformance_loop *l)
{
    with_ev_ctx *c = l->ctx;
    ev_loop_destroy(c->l);
    free(c);
}
