#include "faulty_store.h"

#include <stdlib.h>

static csession_store *inner_of(csession_store *st)
{
    return ((faulty_store *)st)->inner;
}

static int f_load(csession_store *st, const char *key, size_t len, csession_buf *state)
{
    return inner_of(st)->load(inner_of(st), key, len, state);
}

static int f_save(csession_store *st, const char *state, size_t len, int64_t ttl,
                  csession_buf *key_out)
{
    faulty_store *f = (faulty_store *)st;
    f->saves++;
    if (f->fail_save)
        return csession_set_error(CSESSION_ESTORE, "save refused by the test");
    return f->inner->save(f->inner, state, len, ttl, key_out);
}

static int f_update(csession_store *st, const char *key, size_t key_len, const char *state,
                    size_t len, int64_t ttl, csession_buf *key_out)
{
    return inner_of(st)->update(inner_of(st), key, key_len, state, len, ttl, key_out);
}

static int f_update_ttl(csession_store *st, const char *key, size_t len, int64_t ttl)
{
    return inner_of(st)->update_ttl(inner_of(st), key, len, ttl);
}

static int f_remove(csession_store *st, const char *key, size_t len)
{
    faulty_store *f = (faulty_store *)st;
    f->removes++;
    if (f->fail_remove)
        return csession_set_error(CSESSION_ESTORE, "remove refused by the test");
    return f->inner->remove(f->inner, key, len);
}

static void f_free(csession_store *st)
{
    faulty_store *f = (faulty_store *)st;
    csession_store_free(f->inner);
    free(f);
}

static int f_load_rev(csession_store *st, const char *key, size_t len, int64_t touch,
                      csession_buf *state, uint64_t *rev)
{
    return inner_of(st)->load_rev(inner_of(st), key, len, touch, state, rev);
}

static int f_update_if(csession_store *st, const char *key, size_t key_len, uint64_t expected,
                       const char *state, size_t len, int64_t ttl)
{
    return inner_of(st)->update_if(inner_of(st), key, key_len, expected, state, len, ttl);
}

static int f_remove_if(csession_store *st, const char *key, size_t len, uint64_t expected)
{
    faulty_store *f = (faulty_store *)st;
    f->removes++;
    if (f->fail_remove)
        return csession_set_error(CSESSION_ESTORE, "remove refused by the test");
    return f->inner->remove_if(f->inner, key, len, expected);
}

int faulty_store_new(faulty_store **out, csession_store *inner)
{
    faulty_store *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f)
        return CSESSION_ENOMEM;
    f->inner = inner;
    f->base.version = CSESSION_STORE_VERSION;
    f->base.load = f_load;
    f->base.save = f_save;
    f->base.update = f_update;
    f->base.update_ttl = f_update_ttl;
    f->base.remove = f_remove;
    f->base.free = f_free;
    if (inner->version >= 2) { /* offer what the inner store offers */
        f->base.flags = inner->flags;
        f->base.load_rev = inner->load_rev ? f_load_rev : NULL;
        f->base.update_if = inner->update_if ? f_update_if : NULL;
        f->base.remove_if = inner->remove_if ? f_remove_if : NULL;
    }
    *out = f;
    return 0;
}
