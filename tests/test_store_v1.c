/* A store written against the version 1 interface keeps working: its
 * struct ends after `payload` (allocated to exactly that size here, so that
 * AddressSanitizer reports any read of a later member), and the request flow
 * runs on it as before, last write wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "csession.h"

/* struct csession_store as the version 1 header declared it. */
typedef struct store_v1 {
    unsigned int version;
    int (*load)(csession_store *, const char *, size_t, csession_buf *);
    int (*save)(csession_store *, const char *, size_t, int64_t, csession_buf *);
    int (*update)(csession_store *, const char *, size_t, const char *, size_t, int64_t,
                  csession_buf *);
    int (*update_ttl)(csession_store *, const char *, size_t, int64_t);
    int (*remove)(csession_store *, const char *, size_t);
    void (*free)(csession_store *);
    void *payload;
} store_v1;

/* The inner store, behind payload. */
static csession_store *inner(csession_store *st)
{
    return ((store_v1 *)st)->payload;
}

static int v1_load(csession_store *st, const char *key, size_t len, csession_buf *state)
{
    return inner(st)->load(inner(st), key, len, state);
}

static int v1_save(csession_store *st, const char *state, size_t len, int64_t ttl,
                   csession_buf *key)
{
    return inner(st)->save(inner(st), state, len, ttl, key);
}

static int v1_update(csession_store *st, const char *key, size_t key_len, const char *state,
                     size_t len, int64_t ttl, csession_buf *out)
{
    return inner(st)->update(inner(st), key, key_len, state, len, ttl, out);
}

static int v1_update_ttl(csession_store *st, const char *key, size_t len, int64_t ttl)
{
    return inner(st)->update_ttl(inner(st), key, len, ttl);
}

static int v1_remove(csession_store *st, const char *key, size_t len)
{
    return inner(st)->remove(inner(st), key, len);
}

static void v1_free(csession_store *st)
{
    csession_store_free(inner(st));
    free(st);
}

static csession_store *v1_store_new(void)
{
    /* Allocated at its own size, as a store built against the version 1
     * header is: nothing after payload. */
    _Static_assert(offsetof(store_v1, payload) == offsetof(csession_store, payload),
                   "version 1 members keep their places");
    store_v1 *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->version = 1;
    st->load = v1_load;
    st->save = v1_save;
    st->update = v1_update;
    st->update_ttl = v1_update_ttl;
    st->remove = v1_remove;
    st->free = v1_free;
    csession_store *mem = NULL;
    assert_int_equal(csession_store_memory_new(&mem, NULL), 0);
    st->payload = mem;
    return (csession_store *)st;
}

static csession_manager *manager(int policy)
{
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    assert_int_equal(csession_key_generate(key, sizeof key), 0);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_ttl_policy(cfg, policy), 0);
    csession_manager *mgr = NULL;
    assert_int_equal(csession_manager_new(&mgr, cfg, v1_store_new()), 0);
    csession_config_free(cfg);
    return mgr;
}

static void put(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_string(s, "user", ctx), 0);
}

static void renew(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_renew(s), 0);
}

static void purge(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_purge(s), 0);
}

static void look(csession *s, void *ctx)
{
    *(size_t *)ctx = csession_count(s);
}

static void test_flow(void **state)
{
    (void)state;
    static const int policies[] = {CSESSION_TTL_ON_STATE_CHANGES, CSESSION_TTL_ON_EVERY_REQUEST};
    for (size_t i = 0; i < 2; i++) {
        csession_manager *mgr = manager(policies[i]);
        test_client c = {0};
        size_t n = 0;
        assert_int_equal(client_request(mgr, &c, NULL, put, "alice"), 0);
        assert_int_equal(client_request(mgr, &c, NULL, look, &n), 0);
        assert_int_equal(n, 1);
        test_client before = c;
        assert_int_equal(client_request(mgr, &c, NULL, renew, NULL), 0);
        assert_string_not_equal(c.cookie, before.cookie);
        assert_int_equal(client_request(mgr, &before, NULL, look, &n), 0);
        assert_int_equal(n, 0); /* the old key was retired */
        assert_int_equal(client_request(mgr, &c, NULL, look, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(client_request(mgr, &c, NULL, purge, NULL), 0);
        assert_string_equal(c.cookie, "");
        csession_manager_free(mgr);
    }
}

/* Without revisions a commit cannot see a parallel one: the last wins, and
 * a write after a logout falls back to a new key, as in version 1. */
static void test_last_write_wins(void **state)
{
    (void)state;
    csession_manager *mgr = manager(CSESSION_TTL_ON_STATE_CHANGES);
    test_client c = {0};
    assert_int_equal(client_request(mgr, &c, NULL, put, "alice"), 0);
    csession *s1, *s2;
    assert_int_equal(client_load(mgr, &c, &s1), 0);
    assert_int_equal(client_load(mgr, &c, &s2), 0);
    assert_int_equal(csession_purge(s1), 0);
    assert_int_equal(csession_insert_int64(s2, "n", 1), 0);
    test_client c1 = c, c2 = c;
    assert_int_equal(client_commit(mgr, &c1, s1), 0);
    assert_int_equal(client_commit(mgr, &c2, s2), 0);
    assert_string_not_equal(c2.cookie, c.cookie);
    size_t n = 0;
    assert_int_equal(client_request(mgr, &c2, NULL, look, &n), 0);
    assert_int_equal(n, 2);
    csession_free(s1);
    csession_free(s2);
    csession_manager_free(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow),
        cmocka_unit_test(test_last_write_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
