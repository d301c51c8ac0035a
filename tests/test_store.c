/* The store vtable: version check, wrappers holding stores to the contract,
 * and the helpers for backends outside the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/sys/store.h"
#include "store.h"

/* A scripted store: each operation answers what the test set, and counts. */
typedef struct fake {
    csession_store base;
    int rc;            /* what every operation returns */
    const char *reply; /* what save/update/load write, NULL for nothing */
    int set_message;   /* report through csession_set_error() */
    int calls[5];      /* load, save, update, update_ttl, remove */
} fake;

static int answer(csession_store *store, int op, csession_buf *out)
{
    fake *f = (fake *)store;
    f->calls[op]++;
    if (out && f->reply) {
        int rc = csession_buf_set(out, f->reply, strlen(f->reply));
        if (rc)
            return rc;
    }
    if (f->rc < 0 && f->rc != CSESSION_ENOTFOUND && f->set_message)
        return csession_set_error(f->rc, "fake store says no");
    return f->rc;
}

static int fake_load(csession_store *s, const char *k, size_t kl, csession_buf *state)
{
    (void)k, (void)kl;
    return answer(s, 0, state);
}

static int fake_save(csession_store *s, const char *st, size_t sl, int64_t ttl, csession_buf *key)
{
    (void)st, (void)sl, (void)ttl;
    /* The fallback after update: a store that saves succeeds. */
    fake *f = (fake *)s;
    f->calls[1]++;
    return csession_buf_set(key, "NEWKEY", 6);
}

static int fake_update(csession_store *s, const char *k, size_t kl, const char *st, size_t sl,
                       int64_t ttl, csession_buf *key)
{
    (void)k, (void)kl, (void)st, (void)sl, (void)ttl;
    return answer(s, 2, key);
}

static int fake_update_ttl(csession_store *s, const char *k, size_t kl, int64_t ttl)
{
    (void)k, (void)kl, (void)ttl;
    return answer(s, 3, NULL);
}

static int fake_remove(csession_store *s, const char *k, size_t kl)
{
    (void)k, (void)kl;
    return answer(s, 4, NULL);
}

static int fake_freed;

static void fake_free(csession_store *s)
{
    (void)s;
    fake_freed++;
}

static void fake_init(fake *f)
{
    memset(f, 0, sizeof *f);
    f->base.version = CSESSION_STORE_VERSION;
    f->base.load = fake_load;
    f->base.save = fake_save;
    f->base.update = fake_update;
    f->base.update_ttl = fake_update_ttl;
    f->base.remove = fake_remove;
    f->base.free = fake_free;
}

static void test_check(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    assert_int_equal(csession__store_check(&f.base), 0);
    assert_int_equal(csession__store_check(NULL), CSESSION_EINVAL);

    f.base.version = 0;
    assert_int_equal(csession__store_check(&f.base), CSESSION_EINVAL);
    f.base.version = CSESSION_STORE_VERSION + 1;
    assert_int_equal(csession__store_check(&f.base), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "version"));

    /* Each member is required. */
    for (int i = 0; i < 6; i++) {
        fake_init(&f);
        switch (i) {
        case 0: f.base.load = NULL; break;
        case 1: f.base.save = NULL; break;
        case 2: f.base.update = NULL; break;
        case 3: f.base.update_ttl = NULL; break;
        case 4: f.base.remove = NULL; break;
        default: f.base.free = NULL; break;
        }
        assert_int_equal(csession__store_check(&f.base), CSESSION_EINVAL);
    }
    assert_non_null(strstr(csession_last_error(), "'free'"));
    assert_int_equal(csession_store_version(), CSESSION_STORE_VERSION);
}

static void test_store_free(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    csession_store_free(NULL);
    fake_freed = 0;
    csession_store_free(&f.base);
    assert_int_equal(fake_freed, 1);
}

static void test_set_error(void **state)
{
    (void)state;
    assert_int_equal(csession_set_error(CSESSION_ESTORE, "socket closed"), CSESSION_ESTORE);
    assert_int_equal(csession_last_error_code(), CSESSION_ESTORE);
    assert_string_equal(csession_last_error(), "socket closed");
    /* Not a format: a '%' in a message from another language is kept. */
    assert_int_equal(csession_set_error(CSESSION_ETIMEOUT, "100%s"), CSESSION_ETIMEOUT);
    assert_string_equal(csession_last_error(), "100%s");
    assert_int_equal(csession_set_error(CSESSION_ENOMEM, NULL), CSESSION_ENOMEM);
    assert_string_equal(csession_last_error(), csession_strerror(CSESSION_ENOMEM));
    assert_int_equal(csession_set_error(0, "ignored"), 0);
    assert_int_equal(csession_last_error_code(), CSESSION_OK);
}

static void test_buf_set(void **state)
{
    (void)state;
    csession_buf b = CSESSION_BUF_INIT;
    assert_int_equal(csession_buf_set(&b, "abc", 3), 0);
    assert_int_equal(b.size, 3);
    assert_string_equal(b.ptr, "abc");
    assert_int_equal(csession_buf_set(&b, "xy", 2), 0);
    assert_string_equal(b.ptr, "xy");
    assert_int_equal(csession_buf_set(&b, NULL, 0), 0);
    assert_int_equal(b.size, 0);
    assert_int_equal(csession_buf_set(&b, NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession_buf_set(NULL, "a", 1), CSESSION_EINVAL);
    csession_buf_dispose(&b);
}

static void test_wrappers_check_arguments(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    csession_buf out = CSESSION_BUF_INIT;
    assert_int_equal(csession__store_load(&f.base, "", 0, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_load(&f.base, NULL, 3, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_load(&f.base, "k", 1, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__store_load(NULL, "k", 1, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_save(&f.base, "s", 1, 0, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_save(&f.base, "s", 1, -5, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_save(&f.base, NULL, 1, 60, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_save(&f.base, "s", 1, 60, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__store_update(&f.base, "", 0, "s", 1, 60, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_update(&f.base, "k", 1, "s", 1, 0, &out), CSESSION_EINVAL);
    assert_int_equal(csession__store_update_ttl(&f.base, "k", 1, 0), CSESSION_EINVAL);
    assert_int_equal(csession__store_update_ttl(&f.base, "", 0, 60), CSESSION_EINVAL);
    assert_int_equal(csession__store_remove(&f.base, NULL, 0), CSESSION_EINVAL);
    /* None of these reached the store. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(f.calls[i], 0);
    csession_buf_dispose(&out);
}

static void test_load_results(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    csession_buf out = CSESSION_BUF_INIT;

    f.reply = "{\"v\":1}";
    assert_int_equal(csession__store_load(&f.base, "k", 1, &out), 0);
    assert_string_equal(out.ptr, "{\"v\":1}");

    /* Not found: whatever the store wrote is not passed on. */
    f.rc = CSESSION_ENOTFOUND;
    csession_clear_error();
    assert_int_equal(csession__store_load(&f.base, "k", 1, &out), CSESSION_ENOTFOUND);
    assert_int_equal(out.size, 0);
    assert_int_equal(csession_last_error_code(), CSESSION_OK);

    /* A failure without a message gets one. */
    f.rc = CSESSION_ETIMEOUT;
    assert_int_equal(csession__store_load(&f.base, "k", 1, &out), CSESSION_ETIMEOUT);
    assert_int_equal(out.size, 0);
    assert_int_equal(csession_last_error_code(), CSESSION_ETIMEOUT);
    assert_non_null(strstr(csession_last_error(), "load"));

    /* The store's own message is kept. */
    f.set_message = 1;
    f.rc = CSESSION_ESTORE;
    assert_int_equal(csession__store_load(&f.base, "k", 1, &out), CSESSION_ESTORE);
    assert_string_equal(csession_last_error(), "fake store says no");

    /* A positive answer is not success. */
    f.rc = 1;
    assert_int_equal(csession__store_load(&f.base, "k", 1, &out), CSESSION_ESTORE);
    csession_buf_dispose(&out);
}

static void test_update_results(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    csession_buf key = CSESSION_BUF_INIT;

    f.reply = "SAMEKEY";
    assert_int_equal(csession__store_update(&f.base, "SAMEKEY", 7, "s", 1, 60, &key), 0);
    assert_string_equal(key.ptr, "SAMEKEY");
    assert_int_equal(f.calls[1], 0);

    /* A store that leaves the fallback to its caller: save follows. */
    f.rc = CSESSION_ENOTFOUND;
    assert_int_equal(csession__store_update(&f.base, "SAMEKEY", 7, "s", 1, 60, &key), 0);
    assert_string_equal(key.ptr, "NEWKEY");
    assert_int_equal(f.calls[1], 1);

    /* An empty key would end up in a cookie: refused. */
    f.rc = 0;
    f.reply = NULL;
    assert_int_equal(csession__store_update(&f.base, "SAMEKEY", 7, "s", 1, 60, &key),
                     CSESSION_ESTORE);
    assert_int_equal(key.size, 0);
    assert_non_null(strstr(csession_last_error(), "empty key"));

    /* A failure leaves no key behind. */
    f.reply = "HALFWRITTEN";
    f.rc = CSESSION_ESTORE;
    assert_int_equal(csession__store_update(&f.base, "SAMEKEY", 7, "s", 1, 60, &key),
                     CSESSION_ESTORE);
    assert_int_equal(key.size, 0);

    assert_int_equal(csession__store_save(&f.base, "s", 1, 60, &key), 0);
    assert_string_equal(key.ptr, "NEWKEY");
    csession_buf_dispose(&key);
}

static void test_absent_is_success(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    f.rc = CSESSION_ENOTFOUND;
    assert_int_equal(csession__store_update_ttl(&f.base, "k", 1, 60), 0);
    assert_int_equal(csession__store_remove(&f.base, "k", 1), 0);
    f.rc = CSESSION_ESTORE;
    assert_int_equal(csession__store_update_ttl(&f.base, "k", 1, 60), CSESSION_ESTORE);
    assert_int_equal(csession__store_remove(&f.base, "k", 1), CSESSION_ESTORE);
    assert_int_equal(f.calls[3], 2);
    assert_int_equal(f.calls[4], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_store_free),
        cmocka_unit_test(test_set_error),
        cmocka_unit_test(test_buf_set),
        cmocka_unit_test(test_wrappers_check_arguments),
        cmocka_unit_test(test_load_results),
        cmocka_unit_test(test_update_results),
        cmocka_unit_test(test_absent_is_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
