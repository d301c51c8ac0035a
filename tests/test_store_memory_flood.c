/* The memory store's budget for sessions that never renewed: an anonymous
 * flood fills only that budget, so logins and logged-in users go on. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "csession.h"
#include "csession/store_memory.h"
#include "stores/memory.h"

static csession__memory_stats stats(csession_store *s)
{
    csession__memory_stats st;
    assert_int_equal(csession__store_memory_stats(s, &st), 0);
    return st;
}

static csession_store *store_with(size_t max, size_t anonymous)
{
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = max;
    o.max_anonymous_sessions = anonymous;
    csession_store *s = NULL;
    assert_int_equal(csession_store_memory_new(&s, &o), 0);
    return s;
}

static void test_budgets(void **state)
{
    (void)state;
    csession_store *s = store_with(6, 3);
    csession_buf k[8];
    for (int i = 0; i < 8; i++)
        csession_buf_init(&k[i]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s->save(s, "a", 1, 60, &k[i]), 0);
    assert_int_equal(s->save(s, "a", 1, 60, &k[3]), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "logged in"));
    assert_int_equal(s->save_ex(s, "a", 1, 60, 0, &k[3]), CSESSION_ESTORE);
    /* renewed sessions take the rest, and then the store is full */
    for (int i = 3; i < 6; i++)
        assert_int_equal(s->save_ex(s, "r", 1, 60, CSESSION_SAVE_RENEWED, &k[i]), 0);
    assert_int_equal(s->save_ex(s, "r", 1, 60, CSESSION_SAVE_RENEWED, &k[6]), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "full"));
    assert_int_equal(stats(s).anonymous, 3);
    /* an update keeps its session's class; a delete gives the place back */
    assert_int_equal(s->update_if(s, k[0].ptr, 64, 1, "b", 1, 60), 0);
    assert_int_equal(stats(s).anonymous, 3);
    assert_int_equal(s->remove(s, k[0].ptr, 64), 0);
    assert_int_equal(stats(s).anonymous, 2);
    assert_int_equal(s->remove_if(s, k[3].ptr, 64, 1), 0); /* a renewed one */
    assert_int_equal(stats(s).anonymous, 2);
    assert_int_equal(s->save(s, "a", 1, 60, &k[0]), 0);
    assert_int_equal(stats(s).anonymous, 3);
    for (int i = 0; i < 8; i++)
        csession_buf_dispose(&k[i]);
    csession_store_free(s);

    /* the default: half, rounded up; an equal budget turns the split off */
    s = store_with(5, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s->save(s, "a", 1, 60, &k[0]), 0);
    assert_int_equal(s->save(s, "a", 1, 60, &k[0]), CSESSION_ESTORE);
    csession_store_free(s);
    s = store_with(5, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(s->save(s, "a", 1, 60, &k[0]), 0);
    assert_int_equal(s->save(s, "a", 1, 60, &k[0]), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "full"));
    csession_buf_dispose(&k[0]);
    csession_store_free(s);
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = 4;
    o.max_anonymous_sessions = 5;
    assert_int_equal(csession_store_memory_new(&s, &o), CSESSION_EINVAL);
}

/* Options written against the version 1 header: a struct without
 * max_anonymous_sessions, read as such (AddressSanitizer reports a read
 * past it) and given the default split. */
static void test_version_1_options(void **state)
{
    (void)state;
    typedef struct options_v1 {
        unsigned int version;
        size_t max_sessions;
        size_t max_state_bytes;
        unsigned int shards;
    } options_v1;
    _Static_assert(offsetof(options_v1, shards) ==
                       offsetof(csession_store_memory_options, shards),
                   "version 1 fields keep their places");
    options_v1 *v1 = calloc(1, sizeof *v1);
    assert_non_null(v1);
    v1->version = 1;
    v1->max_sessions = 4;
    csession_store *s = NULL;
    assert_int_equal(csession_store_memory_new(&s, (csession_store_memory_options *)v1), 0);
    csession_buf k = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "a", 1, 60, &k), 0);
    assert_int_equal(s->save(s, "a", 1, 60, &k), 0);
    assert_int_equal(s->save(s, "a", 1, 60, &k), CSESSION_ESTORE);
    csession_buf_dispose(&k);
    csession_store_free(s);
    memset(v1, 0xff, sizeof *v1);
    assert_int_equal(csession_store_memory_options_init((csession_store_memory_options *)v1, 1),
                     0);
    assert_int_equal(v1->version, 1);
    assert_int_equal(v1->max_sessions, 0);
    free(v1);
}

/* ---- a flood through the manager ------------------------------------------ */

#define FLOODERS 4

typedef struct flood {
    csession_manager *mgr;
    atomic_int stop;
    atomic_long refused, stored;
    char failure[160];
} flood;

/* A new anonymous visitor per request, until told to stop. */
static void *flooder(void *arg)
{
    flood *f = arg;
    while (!atomic_load(&f->stop)) {
        csession *s;
        csession_buf set = CSESSION_BUF_INIT;
        int rc = csession_manager_load(f->mgr, NULL, 0, &s);
        if (!rc)
            rc = csession_insert_int64(s, "visits", 1);
        if (!rc)
            rc = csession_manager_commit(f->mgr, s, &set);
        if (rc == 0)
            atomic_fetch_add(&f->stored, 1);
        else if (rc == CSESSION_ESTORE)
            atomic_fetch_add(&f->refused, 1);
        else
            snprintf(f->failure, sizeof f->failure, "flood request: %d", rc);
        csession_buf_dispose(&set);
        csession_free(s);
    }
    return NULL;
}

static void login(csession *s, void *ctx)
{
    assert_int_equal(csession_insert_string(s, "user_id", ctx), 0);
    assert_int_equal(csession_renew(s), 0);
}

static void increment(csession *s, void *ctx)
{
    (void)ctx;
    int64_t n = 0;
    csession_get_int64(s, "n", &n);
    assert_int_equal(csession_insert_int64(s, "n", n + 1), 0);
}

static void read_n(csession *s, void *ctx)
{
    *(int64_t *)ctx = -1;
    csession_get_int64(s, "n", ctx);
}

static void test_flood_cannot_lock_users_out(void **state)
{
    (void)state;
    csession_config *cfg = NULL;
    unsigned char key[CSESSION_KEY_BYTES];
    assert_int_equal(csession_key_generate(key, sizeof key), 0);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    static flood f;
    /* the default split: 100 places for visitors who never logged in */
    assert_int_equal(csession_manager_new(&f.mgr, cfg, store_with(200, 0)), 0);
    csession_config_free(cfg);

    test_client alice = {0}, bob = {0}, carol = {0};
    assert_int_equal(client_request(f.mgr, &alice, NULL, login, "alice"), 0);
    assert_int_equal(client_request(f.mgr, &bob, NULL, increment, NULL), 0); /* anonymous */

    pthread_t t[FLOODERS];
    for (int i = 0; i < FLOODERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, flooder, &f), 0);
    /* the flood has filled its budget once it is refused */
    while (atomic_load(&f.refused) < 10 && f.failure[0] == '\0')
        sched_yield();
    for (int i = 0; i < 200; i++) {
        assert_int_equal(client_request(f.mgr, &alice, NULL, increment, NULL), 0);
        assert_int_equal(client_request(f.mgr, &bob, NULL, increment, NULL), 0);
    }
    /* logins during the flood: from an anonymous session, and on a first visit */
    assert_int_equal(client_request(f.mgr, &bob, NULL, login, "bob"), 0);
    assert_int_equal(client_request(f.mgr, &carol, NULL, login, "carol"), 0);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(client_request(f.mgr, &bob, NULL, increment, NULL), 0);
        assert_int_equal(client_request(f.mgr, &carol, NULL, increment, NULL), 0);
    }
    atomic_store(&f.stop, 1);
    for (int i = 0; i < FLOODERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_string_equal(f.failure, "");
    int64_t n;
    assert_int_equal(client_request(f.mgr, &alice, NULL, read_n, &n), 0);
    assert_int_equal(n, 200);
    assert_int_equal(client_request(f.mgr, &bob, NULL, read_n, &n), 0);
    assert_int_equal(n, 251);
    assert_int_equal(client_request(f.mgr, &carol, NULL, read_n, &n), 0);
    assert_int_equal(n, 50);
    printf("flood: %ld anonymous sessions stored, %ld refused\n", atomic_load(&f.stored),
           atomic_load(&f.refused));
    csession_manager_free(f.mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_version_1_options),
        cmocka_unit_test(test_flood_cannot_lock_users_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
