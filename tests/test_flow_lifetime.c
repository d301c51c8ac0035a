/* The lifetime rules of the request flow (src/flow/lifetime.c), alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flow/lifetime.h"

static csession__flow_policy policy(void)
{
    csession__flow_policy p = {0};
    p.ttl = 60;
    p.absolute = 100;
    p.touch_every_request = 1;
    p.touch_after = 20;
    p.rotate_every = 30;
    p.rotate_grace = 10;
    p.can_rotate = 1;
    return p;
}

static csession__state_meta made_at(int64_t t)
{
    csession__state_meta m;
    csession__state_meta_init(&m);
    m.created = m.seen = m.keyed = t;
    return m;
}

static void test_absolute_timeout(void **state)
{
    (void)state;
    csession__flow_policy p = policy();
    csession__state_meta m = made_at(1000);
    assert_false(csession__flow_past_absolute(&m, &p, 1099));
    assert_true(csession__flow_past_absolute(&m, &p, 1100));
    csession__state_meta legacy;
    csession__state_meta_init(&legacy); /* no creation time: never past it */
    assert_false(csession__flow_past_absolute(&legacy, &p, 1 << 30));
    assert_true(csession__flow_meta_missing(&legacy, &p));
    p.absolute = 0;
    assert_false(csession__flow_past_absolute(&m, &p, 1 << 30));
}

static void test_ttl_follows_lifetime_and_cap(void **state)
{
    (void)state;
    csession__flow_policy p = policy();
    csession__state_meta m = made_at(1000);
    assert_int_equal(csession__flow_ttl(&m, &p, 1000), 60);
    assert_int_equal(csession__flow_ttl(&m, &p, 1050), 50); /* capped */
    assert_int_equal(csession__flow_ttl(&m, &p, 1200), 1);
    m.life = 500;
    assert_int_equal(csession__flow_ttl(&m, &p, 1000), 100);
    p.absolute = 0;
    assert_int_equal(csession__flow_ttl(&m, &p, 1000), 500);
    assert_true(csession__flow_persistent(&m, &p));
    m.life = 0;
    p.persistent = 1;
    assert_false(csession__flow_persistent(&m, &p));
    m.life = CSESSION__LIFE_DEFAULT;
    assert_true(csession__flow_persistent(&m, &p));
}

static void test_touch_and_rotation_due(void **state)
{
    (void)state;
    csession__flow_policy p = policy();
    csession__state_meta m = made_at(1000);
    assert_false(csession__flow_touch_due(&m, &p, 1019));
    assert_true(csession__flow_touch_due(&m, &p, 1020));
    assert_false(csession__flow_rotate_due(&m, &p, 1029));
    assert_true(csession__flow_rotate_due(&m, &p, 1030));
    p.can_rotate = 0; /* the cookie store */
    assert_false(csession__flow_rotate_due(&m, &p, 1030));
    m.until = 1040;
    assert_int_equal(csession__flow_retired_use(&m, 1039), CSESSION__RETIRED_FOLLOW);
    assert_int_equal(csession__flow_retired_use(&m, 1040), CSESSION__RETIRED_STOLEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absolute_timeout),
        cmocka_unit_test(test_ttl_follows_lifetime_and_cap),
        cmocka_unit_test(test_touch_and_rotation_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
