/* The libevent loop for tests: see loop_adapters.h. Its own file: libev's and
 * libevent's headers cannot be included together (both define EV_READ). */
#include <stdlib.h>

#include <event2/event.h>

#include "csession/loop_event.h"
#include "loop_adapters_each.h"

typedef struct with_event_ctx {
    struct event_base *base;
    csession_loop loop;
} with_event_ctx;

static int with_event_run_once(void *ctx)
{
    /* 1 is "nothing to wait for", a turn that ran nothing. */
    return event_base_loop(((with_event_ctx *)ctx)->base, EVLOOP_ONCE) < 0 ? -1 : 0;
}

int loop_adapter_event_create(conformance_loop *out)
{
    with_event_ctx *c = malloc(sizeof *c);
    if (!c)
        return -1;
    /* The precise clock, as docs/event-loops.md advises: libevent's default
     * coarse one lets timers fire a few milliseconds early. */
    struct event_config *cfg = event_config_new();
    if (cfg)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    c->base = cfg ? event_base_new_with_config(cfg) : NULL;
    if (cfg)
        event_config_free(cfg);
    if (!c->base) {
        free(c);
        return -1;
    }
    csession_loop_event_init(&c->loop, c->base);
    out->loop = &c->loop;
    out->run_once = with_event_run_once;
    out->ctx = c;
    return 0;
}

void loop_adapter_event_destroy(conformance_loop *l)
{
    with_event_ctx *c = l->ctx;
    event_base_free(c->base);
    free(c);
}
