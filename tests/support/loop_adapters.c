/* Event loops for tests: see loop_adapters.h. */
#include "loop_adapters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loop/poll_loop.h"

#include "loop_adapters_each.h"

typedef struct loop_kind {
    const char *name;
    int (*create)(conformance_loop *out);
    void (*destroy)(conformance_loop *l);
} loop_kind;

/* ---- poll() ------------------------------------------------------------ */

static int poll_run_once(void *ctx)
{
    if (csession__poll_loop_run_once(ctx, -1) >= 0)
        return 0;
    return errno == EDEADLK ? 0 : -1; /* nothing to wait for: a turn that ran nothing */
}

static int poll_create(conformance_loop *out)
{
    csession__poll_loop *pl = malloc(sizeof *pl);
    if (!pl)
        return -1;
    csession__poll_loop_init(pl);
    out->loop = &pl->loop;
    out->run_once = poll_run_once;
    out->ctx = pl;
    return 0;
}

static void poll_destroy(conformance_loop *l)
{
    csession__poll_loop_dispose(l->ctx);
    free(l->ctx);
}

static const loop_kind kinds[] = {
    {"poll", poll_create, poll_destroy},
#if CSESSION_TEST_HAVE_UV
    {"uv", loop_adapter_uv_create, loop_adapter_uv_destroy},
#endif
#if CSESSION_TEST_HAVE_EVENT
    {"event", loop_adapter_event_create, loop_adapter_event_destroy},
#endif
#if CSESSION_TEST_HAVE_EV
    {"ev", loop_adapter_ev_create, loop_adapter_ev_destroy},
#endif
};

size_t loop_adapter_count(void)
{
    return sizeof kinds / sizeof kinds[0];
}

const char *loop_adapter_name(size_t i)
{
    return i < loop_adapter_count() ? kinds[i].name : NULL;
}

int loop_adapter_create(conformance_loop *out, const char *name)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < loop_adapter_count(); i++) {
        if (strcmp(kinds[i].name, name) != 0)
            continue;
        if (kinds[i].create(out) != 0)
            return -1;
        out->name = kinds[i].name;
        return 0;
    }
    return -1;
}

void loop_adapter_destroy(conformance_loop *l)
{
    if (!l || !l->ctx)
        return;
    for (size_t i = 0; i < loop_adapter_count(); i++) {
        if (strcmp(kinds[i].name, l->name) == 0) {
            kinds[i].destroy(l);
            break;
        }
    }
    memset(l, 0, sizeof *l);
}
