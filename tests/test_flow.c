/* The request flow's pure core: the commit decision table and the merge of
 * a request's changes onto a newer state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "flow/decide.h"
#include "flow/merge.h"
#include "json_text.h"
#include "session.h"

static cJSON *json(const char *text)
{
    cJSON *v = NULL;
    assert_int_equal(csession__json_parse(text, strlen(text), 32, &v), 0);
    return v;
}

/* A session loaded under a key, holding `state`. */
static csession *loaded(const char *state)
{
    csession *s = NULL;
    assert_int_equal(csession__session_new_with_map(&s, json(state)), 0);
    assert_int_equal(csession_buf_set(&s->key, "k", 1), 0);
    return s;
}

static void expect_merge(csession *s, const char *base, const char *latest, const char *want)
{
    cJSON *b = json(base), *l = json(latest), *merged = NULL;
    int rc = csession__flow_merge(s, b, l, &merged);
    if (!want) {
        assert_int_equal(rc, CSESSION_ECONFLICT);
        assert_null(merged);
    } else {
        assert_int_equal(rc, 0);
        cJSON *w = json(want);
        assert_true(cJSON_Compare(merged, w, 1));
        cJSON_Delete(w);
    }
    cJSON_Delete(merged);
    cJSON_Delete(b);
    cJSON_Delete(l);
}

static void test_merge(void **state)
{
    (void)state;
    csession *s = loaded("{\"a\":1,\"b\":1}");
    assert_int_equal(csession_insert_int64(s, "a", 2), 0);
    /* the other writer changed b: both kept */
    expect_merge(s, "{\"a\":1,\"b\":1}", "{\"a\":1,\"b\":5}", "{\"a\":2,\"b\":5}");
    /* ... added c, removed b */
    expect_merge(s, "{\"a\":1,\"b\":1}", "{\"a\":1,\"c\":3}", "{\"a\":2,\"c\":3}");
    /* ... changed a too: conflict, also when only its type changed */
    expect_merge(s, "{\"a\":1,\"b\":1}", "{\"a\":3,\"b\":1}", NULL);
    expect_merge(s, "{\"a\":1,\"b\":1}", "{\"a\":\"1\",\"b\":1}", NULL);
    /* ... removed a: conflict (it touched a) */
    expect_merge(s, "{\"a\":1,\"b\":1}", "{\"b\":1}", NULL);
    /* a nested value compares whole */
    csession_free(s);
    s = loaded("{\"o\":{\"x\":[1,2]},\"p\":0}");
    assert_int_equal(csession_insert_int64(s, "p", 1), 0);
    expect_merge(s, "{\"o\":{\"x\":[1,2]},\"p\":0}", "{\"o\":{\"x\":[1,3]},\"p\":0}",
                 "{\"o\":{\"x\":[1,3]},\"p\":1}");
    /* a removal of a key absent on both sides merges */
    assert_int_equal(csession_remove(s, "gone"), CSESSION_ENOTFOUND);
    expect_merge(s, "{\"p\":0}", "{\"p\":0,\"q\":1}", "{\"p\":1,\"q\":1}");
    expect_merge(s, "{\"p\":0}", "{\"p\":0,\"gone\":1}", NULL);
    csession_free(s);
    /* a clear merges only onto an unchanged state */
    s = loaded("{\"a\":1}");
    assert_int_equal(csession_clear(s), 0);
    assert_int_equal(csession_insert_int64(s, "z", 9), 0);
    expect_merge(s, "{\"a\":1}", "{\"a\":1}", "{\"z\":9}");
    expect_merge(s, "{\"a\":1}", "{\"a\":1,\"b\":2}", NULL);
    csession_free(s);
    /* a session without a key keeps no change log: nothing to re-apply */
    assert_int_equal(csession_new(&s), 0);
    assert_int_equal(csession_insert_int64(s, "a", 1), 0);
    assert_int_equal(s->touched.size, 0);
    csession_free(s);
}

static void test_decide(void **state)
{
    (void)state;
    csession__flow_policy p = {0};
    csession *s = NULL;
    assert_int_equal(csession_new(&s), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_NOTHING);
    assert_int_equal(csession_insert_int64(s, "a", 1), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_SAVE);
    assert_int_equal(csession_renew(s), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_SAVE);
    csession_free(s);

    s = loaded("{\"a\":1}");
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_NOTHING);
    s->reissue = 1;
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_RESEND);
    s->reissue = 0;
    p.touch_every_request = 1;
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_TOUCH);
    s->ttl_touched = 1;
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_NOTHING);
    p.persistent = 1;
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_RESEND);
    p.state_in_cookie = 1;
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_RESEAL);
    assert_int_equal(csession__flow_load_touch(&p, 60), 0);
    p.state_in_cookie = 0;
    assert_int_equal(csession__flow_load_touch(&p, 60), 0); /* no load_rev */
    p.touch_on_load = 1;
    assert_int_equal(csession__flow_load_touch(&p, 60), 60);
    p.touch_every_request = 0;
    assert_int_equal(csession__flow_load_touch(&p, 60), 0);

    assert_int_equal(csession_insert_int64(s, "a", 2), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_UPDATE);
    assert_int_equal(csession_renew(s), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_RENEW);
    assert_int_equal(csession_purge(s), 0);
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_REMOVE);
    s->ended = 1; /* ended by another request wins over everything */
    assert_int_equal(csession__flow_decide(s, &p), CSESSION__FLOW_ENDED);
    csession_free(s);
}

/* A failed insert records nothing and changes nothing. */
static void test_change_log(void **state)
{
    (void)state;
    csession *s = loaded("{\"a\":1}");
    assert_int_equal(csession_insert_int64(s, "b", 1), 0);
    assert_int_equal(csession_insert_int64(s, "b", 2), 0);
    assert_int_equal(csession_remove(s, "a"), 0);
    assert_true(csession__session_touched(s, "a"));
    assert_true(csession__session_touched(s, "b"));
    assert_false(csession__session_touched(s, "c"));
    assert_int_equal(s->touched.size, 4); /* "b\0a\0": each once */
    assert_int_equal(csession_insert_json(s, "c", "{", 1), CSESSION_EFORMAT);
    assert_false(csession__session_touched(s, "c"));
    csession__session_forget_changes(s);
    assert_false(csession__session_touched(s, "b"));
    csession_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_change_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
