/* Configuration: actix-session's defaults, setters and their refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "cookie/header.h"
#include "csession.h"
#include "oom.h"

static void put(csession *s, void *ctx)
{
    (void)ctx;
    assert_int_equal(csession_insert_int64(s, "n", 1), 0);
}

static void test_defaults_are_actix_sessions(void **state)
{
    (void)state;
    csession_config *cfg;
    unsigned char key[64] = { 1 };
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_key_count(cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, put, NULL), 0);
    /* id=<value>; HttpOnly; SameSite=Lax; Secure; Path=/  - no Max-Age, no Domain */
    assert_int_equal(strncmp(c.last_set, "id=", 3), 0);
    const char *attrs = strchr(c.last_set, ';');
    assert_string_equal(attrs, "; HttpOnly; SameSite=Lax; Secure; Path=/");
    /* private XChaCha20-Poly1305 by default: 1 version byte + 24 nonce + 16 tag
     * + the key of 64 characters, base64url without padding */
    size_t value_len = (size_t)(attrs - c.last_set) - 3;
    assert_int_equal(value_len, ((1 + 24 + 64 + 16) * 4 + 2) / 3);
    csession_manager_free(mgr);
}

static void test_every_setter_applies(void **state)
{
    (void)state;
    csession_config *cfg;
    unsigned char key[64] = { 2 };
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_cookie_name(cfg, "__Secure-sess"), 0);
    assert_int_equal(csession_config_set_path(cfg, "/shop"), 0);
    assert_int_equal(csession_config_set_domain(cfg, "example.org"), 0);
    assert_int_equal(csession_config_set_http_only(cfg, 0), 0);
    assert_int_equal(csession_config_set_same_site(cfg, CSESSION_SAME_SITE_STRICT), 0);
    assert_int_equal(csession_config_set_partitioned(cfg, 1), 0);
    assert_int_equal(csession_config_set_security(cfg, CSESSION_COOKIE_SIGNED), 0);
    assert_int_equal(csession_config_set_persistent(cfg, 3600), 0);
    csession_manager *mgr;
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    test_client c = { 0 };
    assert_int_equal(client_request(mgr, &c, NULL, put, NULL), 0);
    assert_int_equal(strncmp(c.last_set, "__Secure-sess=", 14), 0);
    assert_non_null(strstr(c.last_set, "; SameSite=Strict; Partitioned; Secure; Path=/shop; "
                                       "Domain=example.org; Max-Age=3600; Expires="));
    assert_null(strstr(c.last_set, "HttpOnly"));
    /* signed: base64 HMAC (44 characters) then the 64-character session
     * key, readable once percent-decoded */
    const char *value = c.last_set + 14;
    char decoded[256];
    size_t len;
    assert_int_equal(csession__cookie_decode(value, (size_t)(strchr(value, ';') - value), decoded,
                                             sizeof decoded, &len),
                     0);
    assert_int_equal(len, 44 + 64);
    assert_int_equal(decoded[43], '=');
    assert_true(csession_session_key_valid(decoded + 44, 64));
    csession_manager_free(mgr);

    /* Secure can be dropped for local plain-HTTP testing */
    assert_int_equal(csession_config_new(&cfg), 0);
    assert_int_equal(csession_config_add_key(cfg, key, sizeof key), 0);
    assert_int_equal(csession_config_set_secure(cfg, 0), 0);
    assert_int_equal(csession_manager_new(&mgr, cfg, NULL), 0);
    csession_config_free(cfg);
    memset(&c, 0, sizeof c);
    assert_int_equal(client_request(mgr, &c, NULL, put, NULL), 0);
    assert_null(strstr(c.last_set, "Secure"));
    csession_manager_free(mgr);
}

static void test_refusals(void **state)
{
    (void)state;
    csession_config *cfg;
    assert_int_equal(csession_config_new(&cfg), 0);
    static const char *bad_names[] = { "", "a b", "a;b", "a=b", "\"q\"", "caf\xc3\xa9", "a\tb" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_int_equal(csession_config_set_cookie_name(cfg, bad_names[i]), CSESSION_EINVAL);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(csession_config_set_cookie_name(cfg, long_name), CSESSION_ETOOBIG);
    assert_int_equal(csession_config_set_path(cfg, "relative"), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_path(cfg, NULL), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_domain(cfg, ""), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_domain(cfg, NULL), 0); /* none */
    assert_int_equal(csession_config_set_same_site(cfg, 4), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_security(cfg, 0), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_ttl_policy(cfg, 2), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_browser_session(cfg, 0), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_persistent(cfg, CSESSION_MAX_TTL + 1), CSESSION_EINVAL);
    assert_int_equal(csession_config_set_persistent(cfg, CSESSION_MAX_TTL), 0);
    assert_true(csession_config_max_ttl() == CSESSION_MAX_TTL);
    assert_true(csession_config_default_ttl() == CSESSION_DEFAULT_TTL);
    unsigned char key[64] = { 3 };
    assert_int_equal(csession_config_add_key(cfg, key, 32), CSESSION_EINVAL);
    assert_int_equal(csession_config_add_key(cfg, key, 64), 0);
    assert_int_equal(csession_config_add_key(cfg, key, 64), CSESSION_EINVAL); /* duplicate */
    assert_int_equal(csession_config_add_key_text(cfg, "zz", 2), CSESSION_EFORMAT);
    assert_int_equal(csession_config_key_count(cfg), 1);
    assert_int_equal(csession_config_set_secure(NULL, 1), CSESSION_EINVAL);
    assert_int_equal(csession_config_new(NULL), CSESSION_EINVAL);
    csession_config_free(cfg);
    csession_config_free(NULL);
}

static void test_key_text(void **state)
{
    (void)state;
    csession_config *cfg;
    assert_int_equal(csession_config_new(&cfg), 0);
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                      "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
    assert_int_equal(csession_config_add_key_text(cfg, hex, strlen(hex)), 0);
    assert_int_equal(csession_config_key_count(cfg), 1);
    csession_config_free(cfg);
}

static int build_manager(void *ctx)
{
    (void)ctx;
    csession_config *cfg = NULL;
    csession_manager *mgr = NULL;
    unsigned char key[64] = { 4 };
    int rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, key, sizeof key);
    if (!rc)
        rc = csession_config_set_domain(cfg, "example.com");
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, NULL);
    csession_manager_free(mgr);
    csession_config_free(cfg);
    return rc;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oom_install();
    assert_true(oom_run_each_failure(build_manager, NULL) >= 8);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_actix_sessions),
        cmocka_unit_test(test_every_setter_applies),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_key_text),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
