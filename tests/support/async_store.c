#include "async_store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "csession/sys/store.h"

typedef struct pending {
    struct async_store *owner;
    csession_store_call *call;
    csession_loop *loop;
    void *timer;
    int turns_left;
    int fail;       /* complete with fail_code instead of doing the call */
    int fail_code;
    struct pending *next;
} pending;

struct async_store {
    csession_store base; /* first */
    csession_store *inner;
    int turns;
    int fail_n, fail_code;
    int inline_completion, unsupported;
    int update_not_found; /* UPDATE of a missing key: CSESSION_ENOTFOUND */
    int started[CSESSION_CALL_REMOVE_IF + 1];
    int cancelled;
    pending *list;
};

static async_store *of(csession_store *s)
{
    return (async_store *)s;
}

/* The blocking members: the wrapped store's. */
static int a_load(csession_store *s, const char *key, size_t len, csession_buf *state)
{
    csession_store *in = of(s)->inner;
    return in->load(in, key, len, state);
}

static int a_save(csession_store *s, const char *state, size_t len, int64_t ttl,
                  csession_buf *key_out)
{
    csession_store *in = of(s)->inner;
    return in->save(in, state, len, ttl, key_out);
}

static int a_update(csession_store *s, const char *key, size_t key_len, const char *state,
                    size_t len, int64_t ttl, csession_buf *key_out)
{
    csession_store *in = of(s)->inner;
    return in->update(in, key, key_len, state, len, ttl, key_out);
}

static int a_update_ttl(csession_store *s, const char *key, size_t len, int64_t ttl)
{
    csession_store *in = of(s)->inner;
    return in->update_ttl(in, key, len, ttl);
}

static int a_remove(csession_store *s, const char *key, size_t len)
{
    csession_store *in = of(s)->inner;
    return in->remove(in, key, len);
}

static int a_load_rev(csession_store *s, const char *key, size_t len, int64_t touch,
                      csession_buf *state, uint64_t *rev)
{
    csession_store *in = of(s)->inner;
    return in->load_rev(in, key, len, touch, state, rev);
}

static int a_update_if(csession_store *s, const char *key, size_t key_len, uint64_t expected,
                       const char *state, size_t len, int64_t ttl)
{
    csession_store *in = of(s)->inner;
    return in->update_if(in, key, key_len, expected, state, len, ttl);
}

static int a_remove_if(csession_store *s, const char *key, size_t len, uint64_t expected)
{
    csession_store *in = of(s)->inner;
    return in->remove_if(in, key, len, expected);
}

static int a_save_ex(csession_store *s, const char *state, size_t len, int64_t ttl,
                     unsigned int flags, csession_buf *key_out)
{
    csession_store *in = of(s)->inner;
    return in->save_ex(in, state, len, ttl, flags, key_out);
}

/* Does `c` on the wrapped store, as a server would when the request arrives. */
static int perform(async_store *a, csession_store_call *c)
{
    csession_store *s = &a->base;
    switch (c->kind) {
    case CSESSION_CALL_LOAD_REV:
        return a_load_rev(s, c->key, c->key_len, c->touch_ttl_seconds, c->state_out,
                          &c->revision_out);
    case CSESSION_CALL_SAVE:
        return a_save_ex(s, c->state, c->state_len, c->ttl_seconds, c->save_flags, c->key_out);
    case CSESSION_CALL_UPDATE:
        if (a->update_not_found) {
            csession_buf probe = CSESSION_BUF_INIT;
            int rc = a_load(s, c->key, c->key_len, &probe);
            csession_buf_dispose(&probe);
            if (rc)
                return rc;
        }
        return a_update(s, c->key, c->key_len, c->state, c->state_len, c->ttl_seconds,
                        c->key_out);
    case CSESSION_CALL_UPDATE_TTL:
        return a_update_ttl(s, c->key, c->key_len, c->ttl_seconds);
    case CSESSION_CALL_REMOVE:
        return a_remove(s, c->key, c->key_len);
    case CSESSION_CALL_UPDATE_IF:
        return a_update_if(s, c->key, c->key_len, c->expected_revision, c->state, c->state_len,
                           c->ttl_seconds);
    case CSESSION_CALL_REMOVE_IF:
        return a_remove_if(s, c->key, c->key_len, c->expected_revision);
    default:
        return csession_set_error(CSESSION_EINVAL, "unknown call kind");
    }
}

static void unlink_pending(async_store *a, pending *p)
{
    for (pending **pp = &a->list; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/* Does the call and completes it; the call is the library's from then on. */
static void finish(async_store *a, csession_store_call *call, int fail, int fail_code)
{
    int rc = fail ? fail_code : perform(a, call);
    const char *message = NULL;
    if (fail)
        message = "injected failure of the test store";
    else if (rc < 0 && rc != CSESSION_ENOTFOUND && rc != CSESSION_ECONFLICT)
        message = csession_last_error();
    call->complete(call, rc, message);
}

static void fire(void *arg)
{
    pending *p = arg;
    if (--p->turns_left > 0) {
        p->loop->timer_set(p->loop, p->timer, 0);
        return;
    }
    async_store *a = p->owner;
    unlink_pending(a, p);
    p->loop->timer_close(p->loop, p->timer);
    csession_store_call *call = p->call;
    int fail = p->fail, code = p->fail_code;
    free(p);
    finish(a, call, fail, code);
}

static int a_start(csession_store *s, csession_store_call *call)
{
    async_store *a = of(s);
    if (a->unsupported)
        return CSESSION_EUNSUPPORTED;
    if (call->kind >= 1 && call->kind <= CSESSION_CALL_REMOVE_IF)
        a->started[call->kind]++;
    int fail = a->fail_n > 0;
    if (fail)
        a->fail_n--;
    if (a->inline_completion) {
        finish(a, call, fail, a->fail_code);
        return 0;
    }
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return csession_set_error(CSESSION_ENOMEM, "out of memory");
    p->owner = a;
    p->call = call;
    p->loop = call->loop;
    p->turns_left = a->turns;
    p->fail = fail;
    p->fail_code = a->fail_code;
    p->timer = call->loop->timer_open(call->loop, fire, p);
    if (!p->timer || call->loop->timer_set(call->loop, p->timer, 0) != 0) {
        if (p->timer)
            call->loop->timer_close(call->loop, p->timer);
        free(p);
        return csession_set_error(CSESSION_ESTORE, "the loop refused a timer");
    }
    p->next = a->list;
    a->list = p;
    return 0;
}

static void a_cancel(csession_store *s, csession_store_call *call)
{
    async_store *a = of(s);
    for (pending *p = a->list; p; p = p->next) {
        if (p->call == call) {
            unlink_pending(a, p);
            p->loop->timer_close(p->loop, p->timer);
            free(p);
            a->cancelled++;
            return;
        }
    }
}

static void a_free(csession_store *s)
{
    async_store *a = of(s);
    while (a->list) {
        pending *p = a->list;
        a->list = p->next;
        p->loop->timer_close(p->loop, p->timer);
        free(p);
    }
    csession_store_free(a->inner);
    free(a);
}

async_store *async_store_new(csession_store *inner, int turns)
{
    async_store *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->inner = inner;
    a->turns = turns < 1 ? 1 : turns;
    csession_store *b = &a->base;
    b->version = CSESSION_STORE_VERSION;
    b->load = a_load;
    b->save = a_save;
    b->update = a_update;
    b->update_ttl = a_update_ttl;
    b->remove = a_remove;
    b->free = a_free;
    b->flags = inner->version >= 2 ? inner->flags : 0;
    b->load_rev = a_load_rev;
    b->update_if = a_update_if;
    b->remove_if = a_remove_if;
    b->save_ex = a_save_ex;
    b->start = a_start;
    b->cancel = a_cancel;
    return a;
}

csession_store *async_store_base(async_store *a)
{
    return &a->base;
}

csession_store *async_store_inner(async_store *a)
{
    return a->inner;
}

void async_store_fail_next(async_store *a, int n, int code)
{
    a->fail_n = n;
    a->fail_code = code;
}

void async_store_set_inline(async_store *a, int on)
{
    a->inline_completion = on;
}

void async_store_set_unsupported(async_store *a, int on)
{
    a->unsupported = on;
}

void async_store_set_version(async_store *a, unsigned int version)
{
    size_t end = version < 2 ? offsetof(csession_store, flags) : offsetof(csession_store, start);
    a->base.version = version;
    memset((char *)&a->base + end, 0xA5, sizeof a->base - end);
}

void async_store_drop_revisions(async_store *a)
{
    a->base.load_rev = NULL;
    a->base.update_if = NULL;
    a->base.remove_if = NULL;
    a->update_not_found = 1;
}

int async_store_pending(const async_store *a)
{
    int n = 0;
    for (const pending *p = a->list; p; p = p->next)
        n++;
    return n;
}

int async_store_started(const async_store *a, int kind)
{
    if (kind)
        return kind >= 1 && kind <= CSESSION_CALL_REMOVE_IF ? a->started[kind] : 0;
    int n = 0;
    for (int k = 1; k <= CSESSION_CALL_REMOVE_IF; k++)
        n += a->started[k];
    return n;
}

int async_store_cancelled(const async_store *a)
{
    return a->cancelled;
}
