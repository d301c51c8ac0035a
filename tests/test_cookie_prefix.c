/*
 * The cookie name prefixes of RFC 6265bis through csession_manager_new():
 * a "__Secure-" name needs Secure, a "__Host-" name needs Secure, Path=/
 * and no Domain, in any case of the prefix's letters. A configuration that
 * browsers would answer by dropping every cookie fails at start-up, with a
 * message naming the rule, on every store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "csession.h"

typedef struct prefix_case {
    const char *name;
    int secure;
    const char *path;   /* NULL: the default, "/" */
    const char *domain; /* NULL: none */
    const char *why;    /* NULL: accepted; else part of the message */
} prefix_case;

#define SECURE_RULE "starting with __Secure- requires Secure"
#define HOST_RULE "starting with __Host- requires Secure, Path=/ and no Domain"

static const prefix_case cases[] = {
    /* __Secure-: Secure is the whole rule. */
    { "__Secure-id", 1, NULL, NULL, NULL },
    { "__Secure-id", 1, "/app", "example.com", NULL },
    { "__Secure-id", 0, NULL, NULL, SECURE_RULE },
    { "__secure-id", 0, NULL, NULL, SECURE_RULE },
    { "__SECURE-ID", 0, "/app", NULL, SECURE_RULE },
    /* __Host-: Secure, Path=/ and no Domain. */
    { "__Host-id", 1, NULL, NULL, NULL },
    { "__Host-id", 1, "/", NULL, NULL },
    { "__Host-id", 0, NULL, NULL, "this one is not Secure" },
    { "__host-id", 0, NULL, NULL, HOST_RULE },
    { "__Host-id", 1, "/app", NULL, "this one has no Path=/" },
    { "__HOST-id", 1, "/app/", NULL, "this one has no Path=/" },
    { "__Host-id", 1, NULL, "example.com", "this one has a Domain" },
    { "__hOsT-id", 1, NULL, ".example.com", "this one has a Domain" },
    /* Anything else is no prefix. */
    { "id", 0, "/app", "example.com", NULL },
    { "Host-id", 0, "/app", "example.com", NULL },
    { "_Host-id", 0, "/app", "example.com", NULL },
    { "__Host_id", 0, "/app", "example.com", NULL },
    { "__Secureid", 0, NULL, NULL, NULL },
    { "x__Secure-id", 0, NULL, NULL, NULL },
};

static csession_config *config_for(const prefix_case *pc)
{
    csession_config *cfg;
    unsigned char key[64];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 3 + 1);
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    /* Each setter accepts its own argument: only the combination is wrong. */
    assert_int_equal(csession_config_set_cookie_name(cfg, pc->name), 0);
    assert_int_equal(csession_config_set_secure(cfg, pc->secure), 0);
    if (pc->path)
        assert_int_equal(csession_config_set_path(cfg, pc->path), 0);
    if (pc->domain)
        assert_int_equal(csession_config_set_domain(cfg, pc->domain), 0);
    return cfg;
}

static void put(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_insert_int64(s, "n", 7), 0);
}

static void get(csession *s, void *ctx)
{
    int64_t n = 0;
    assert_int_equal(csession_get_int64(s, "n", &n), 0);
    *(int64_t *)ctx = n;
}

/* An accepted configuration works: its cookie carries the name and comes back. */
static void check_round_trip(csession_manager *mgr, const prefix_case *pc)
{
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, put, NULL), 0);
    size_t n = strlen(pc->name);
    assert_int_equal(strncmp(c.last_set, pc->name, n), 0);
    assert_int_equal(c.last_set[n], '=');
    int64_t got = 0;
    assert_int_equal(client_request(mgr, &c, NULL, get, &got), 0);
    assert_int_equal(got, 7);
}

static void run_cases(int cookie_store)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const prefix_case *pc = &cases[i];
        csession_config *cfg = config_for(pc);
        csession_store *store = NULL;
        if (cookie_store)
            assert_int_equal(csession_store_cookie_new(&store), 0);
        csession_manager *mgr = (csession_manager *)&mgr; /* must be reset */
        int rc = csession_manager_new(&mgr, cfg, store);
        csession_config_free(cfg);
        if (!pc->why) {
            if (rc != 0)
                fail_msg("case %zu (%s): refused: %s", i, pc->name, csession_last_error());
            check_round_trip(mgr, pc);
            csession_manager_free(mgr);
            continue;
        }
        if (rc != CSESSION_EINVAL)
            fail_msg("case %zu (%s): rc %d, want CSESSION_EINVAL", i, pc->name, rc);
        assert_null(mgr);
        if (!strstr(csession_last_error(), pc->why))
            fail_msg("case %zu (%s): message '%s' lacks '%s'", i, pc->name,
                     csession_last_error(), pc->why);
        /* On failure the caller still owns the store. */
        csession_store_free(store);
    }
}

static void test_memory_store(void **state)
{
    (void)state;
    run_cases(0);
}

static void test_cookie_store(void **state)
{
    (void)state;
    run_cases(1);
}

/* A __Host- session ends with a removal cookie that keeps the rules, so a
 * browser accepts it and drops the cookie. */
static void end(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_purge(s), 0);
}

static void test_host_removal(void **state)
{
    (void)state;
    const prefix_case pc = { "__Host-id", 1, NULL, NULL, NULL };
    csession_config *cfg = config_for(&pc);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, put, NULL), 0);
    assert_int_equal(client_request(mgr, &c, NULL, end, NULL), 0);
    assert_int_equal(strncmp(c.last_set, "__Host-id=;", 11), 0);
    char attr[64];
    assert_string_equal(client_attr(&c, "Secure", attr, sizeof attr), "<flag>");
    assert_string_equal(client_attr(&c, "Path", attr, sizeof attr), "/");
    assert_string_equal(client_attr(&c, "Domain", attr, sizeof attr), "");
    assert_string_equal(client_attr(&c, "Max-Age", attr, sizeof attr), "0");
    assert_string_equal(c.cookie, ""); /* the jar dropped it */
    csession_manager_free(mgr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_store),
        cmocka_unit_test(test_cookie_store),
        cmocka_unit_test(test_host_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
