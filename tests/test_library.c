/* Library-wide pieces: init, version, errors, buffers, the allocator hook. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "csession.h"
#include "error.h"
#include "oom.h"

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CSESSION_VERSION_MAJOR, CSESSION_VERSION_MINOR,
             CSESSION_VERSION_PATCH);
    assert_string_equal(csession_version(), want);
    assert_int_equal(csession_version_number(),
                     CSESSION_VERSION_MAJOR * 10000 + CSESSION_VERSION_MINOR * 100 +
                         CSESSION_VERSION_PATCH);
}

static void *init_in_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)csession_init();
}

static void test_init_idempotent_and_thread_safe(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, init_in_thread, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_int_equal((intptr_t)rc, CSESSION_OK);
    }
    assert_int_equal(csession_init(), CSESSION_OK);
}

static void test_strerror_covers_every_code(void **state)
{
    (void)state;
    for (int code = CSESSION_EGONE; code <= CSESSION_OK; code++) {
        const char *msg = csession_strerror(code);
        assert_non_null(msg);
        assert_string_not_equal(msg, "unknown error");
    }
    assert_string_equal(csession_strerror(1), "unknown error");
    assert_string_equal(csession_strerror(-1000), "unknown error");
}

static void test_last_error_messages(void **state)
{
    (void)state;
    csession_clear_error();
    assert_string_equal(csession_last_error(), "no error");
    assert_int_equal(csession_last_error_code(), CSESSION_OK);
    assert_int_equal(csession__error(CSESSION_EFORMAT, "bad byte %d", 7), CSESSION_EFORMAT);
    assert_string_equal(csession_last_error(), "bad byte 7");
    assert_int_equal(csession_last_error_code(), CSESSION_EFORMAT);
    assert_int_equal(csession__oom(), CSESSION_ENOMEM);
    assert_string_equal(csession_last_error(), "out of memory");
    /* long messages are cut, never overflow */
    char longer[2000];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    csession__error(CSESSION_EINVAL, "%s", longer);
    assert_true(strlen(csession_last_error()) < sizeof longer - 1);
}

static void *error_in_thread(void *arg)
{
    (void)arg;
    /* a fresh thread starts without error, whatever the others did */
    int clean = csession_last_error_code() == CSESSION_OK &&
                strcmp(csession_last_error(), "no error") == 0;
    csession__error(CSESSION_ESTORE, "thread error");
    return (void *)(intptr_t)clean;
}

static void test_last_error_is_per_thread(void **state)
{
    (void)state;
    csession__error(CSESSION_EINVAL, "main thread error");
    pthread_t t;
    void *clean;
    assert_int_equal(pthread_create(&t, NULL, error_in_thread, NULL), 0);
    pthread_join(t, &clean);
    assert_true((intptr_t)clean);
    assert_string_equal(csession_last_error(), "main thread error");
    assert_int_equal(csession_last_error_code(), CSESSION_EINVAL);
}

static void test_buffers(void **state)
{
    (void)state;
    csession_buf b;
    csession_buf_init(&b);
    assert_null(b.ptr);
    assert_int_equal(csession__buf_set(&b, "hello", 5), 0);
    assert_int_equal(b.size, 5);
    assert_string_equal(b.ptr, "hello");
    char big[1000];
    memset(big, 'z', sizeof big);
    assert_int_equal(csession__buf_append(&b, big, sizeof big), 0); /* grows */
    assert_int_equal(b.size, 1005);
    assert_int_equal(b.ptr[1005], '\0');
    assert_memory_equal(b.ptr + 5, big, sizeof big);
    assert_int_equal(csession__buf_set(&b, "x", 1), 0); /* replaces */
    assert_string_equal(b.ptr, "x");
    csession_buf_dispose(&b);
    assert_null(b.ptr);
    assert_int_equal(b.size, 0);
    csession_buf_dispose(&b); /* twice is fine */
    csession_buf_dispose(NULL);
}

static void test_buffer_out_of_memory_keeps_contents(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession__buf_set(&b, "keep", 4), 0);
    oom_install(); /* b was allocated by malloc; the hook must not free it */
    oom_fail_at(1, 1);
    char big[4096] = { 0 };
    assert_int_equal(csession__buf_append(&b, big, sizeof big), CSESSION_ENOMEM);
    oom_fail_at(0, 0);
    assert_string_equal(b.ptr, "keep");
    oom_uninstall();
    csession_buf_dispose(&b);
}

static void test_allocator_hook(void **state)
{
    (void)state;
    assert_int_equal(csession_set_allocator(malloc, NULL, free), CSESSION_EINVAL);
    oom_install();
    csession *s = NULL;
    long before = oom_live_blocks();
    assert_int_equal(csession_new(&s), 0);
    assert_int_equal(csession_insert_string(s, "k", "v"), 0);
    assert_true(oom_live_blocks() > before); /* the session and its JSON went through the hook */
    csession_free(s);
    assert_int_equal(oom_live_blocks(), before);
    oom_uninstall();
}

/* What the build includes, as the build system says it does. */
static void test_features(void **state)
{
    (void)state;
    unsigned int f = csession_features();
    assert_int_equal(CSESSION_FEATURE_REDIS, 0x1u);
    assert_int_equal(CSESSION_FEATURE_SQLITE, 0x2u);
    assert_int_equal(CSESSION_FEATURE_TLS, 0x4u);
    assert_true(f & CSESSION_FEATURE_REDIS);
    assert_int_equal((f & CSESSION_FEATURE_SQLITE) != 0, CSESSION_TEST_SQLITE_BUILT);
    assert_int_equal((f & CSESSION_FEATURE_TLS) != 0, CSESSION_TEST_TLS_BUILT);
    assert_int_equal(f & ~(CSESSION_FEATURE_REDIS | CSESSION_FEATURE_SQLITE | CSESSION_FEATURE_TLS),
                     0);
    assert_int_equal(csession_has_feature("redis"), 1);
    assert_int_equal(csession_has_feature("sqlite"), CSESSION_TEST_SQLITE_BUILT);
    assert_int_equal(csession_has_feature("SQLITE"), 0);
    assert_int_equal(csession_has_feature("tls"), CSESSION_TEST_TLS_BUILT);
    assert_int_equal(csession_has_feature("TLS"), 0);
    assert_int_equal(csession_has_feature(""), 0);
    assert_int_equal(csession_has_feature(NULL), 0);

    /* The SQLite store's options exist in every build; without the store,
     * its constructor says how to get it. */
    csession_store_sqlite_options o;
    assert_int_equal(csession_store_sqlite_options_init(&o, CSESSION_STORE_SQLITE_OPTIONS_VERSION),
                     0);
    if (!CSESSION_TEST_SQLITE_BUILT) {
        csession_store *s = (csession_store *)&o;
        assert_int_equal(csession_store_sqlite_new(&s, "/tmp/never-made.db", &o),
                         CSESSION_EUNSUPPORTED);
        assert_null(s);
        assert_non_null(strstr(csession_last_error(), "libsqlite3-dev"));
        size_t removed = 5;
        assert_int_equal(csession_store_sqlite_cleanup(NULL, 0, &removed), CSESSION_EUNSUPPORTED);
        assert_int_equal(removed, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_init_idempotent_and_thread_safe),
        cmocka_unit_test(test_strerror_covers_every_code),
        cmocka_unit_test(test_last_error_messages),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_buffer_out_of_memory_keeps_contents),
        cmocka_unit_test(test_allocator_hook),
        cmocka_unit_test(test_features),
    };
    return cmocka_run_group_tests_name("library", tests, NULL, NULL);
}
