/*
 * rediss URLs and the store's TLS options: what each form and parameter
 * parses into, which options override which parameters, and what store
 * creation answers with and without TLS in the build. No server is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_redis.h"
#include "oom.h"
#include "stores/redis/tls.h"
#include "stores/redis/url.h"
#include "tls_certs.h"

typedef struct tls_case {
    const char *url;
    csession__redis_kind kind;
    const char *host; /* SINGLE: the host; else the first node as host:port */
    int port;
    int db;
    const char *ca_file, *ca_dir, *cert_file, *key_file, *server_name;
    int min_version;
    int verify;
} tls_case;

static const tls_case cases[] = {
    {"rediss://h", CSESSION__REDIS_SINGLE, "h", 6379, 0, NULL, NULL, NULL, NULL, NULL, 0, 1},
    {"REDISS://Cache.example.com:6380/2", CSESSION__REDIS_SINGLE, "Cache.example.com", 6380, 2,
     NULL, NULL, NULL, NULL, NULL, 0, 1},
    {"rediss://:pw@[::1]:7000/", CSESSION__REDIS_SINGLE, "::1", 7000, 0, NULL, NULL, NULL, NULL,
     NULL, 0, 1},
    {"rediss://h/1?tls_ca_file=/etc/redis/ca.pem", CSESSION__REDIS_SINGLE, "h", 6379, 1,
     "/etc/redis/ca.pem", NULL, NULL, NULL, NULL, 0, 1},
    {"rediss://h?tls_ca_dir=%2Fetc%2Fssl%2Fcerts&tls_server_name=redis.example.com",
     CSESSION__REDIS_SINGLE, "h", 6379, 0, NULL, "/etc/ssl/certs", NULL, NULL,
     "redis.example.com", 0, 1},
    {"rediss://10.0.0.5?tls_cert_file=/c%20d/client.pem&tls_key_file=/k/client.key"
     "&tls_min_version=1.3&tls_verify=1",
     CSESSION__REDIS_SINGLE, "10.0.0.5", 6379, 0, NULL, NULL, "/c d/client.pem", "/k/client.key",
     NULL, 13, 1},
    {"rediss://h?tls_min_version=1.2&tls_verify=0", CSESSION__REDIS_SINGLE, "h", 6379, 0, NULL,
     NULL, NULL, NULL, NULL, 12, 0},
    {"rediss+sentinel://:pw@s1,s2:26380/mymaster/3?sentinel_password=sp&tls_ca_file=/ca.pem"
     "&tls_server_name=redis.internal",
     CSESSION__REDIS_SENTINEL, "s1:26379", 0, 3, "/ca.pem", NULL, NULL, NULL, "redis.internal", 0,
     1},
    {"rediss+sentinel://s1/m?tls_verify=0", CSESSION__REDIS_SENTINEL, "s1:26379", 0, 0, NULL,
     NULL, NULL, NULL, NULL, 0, 0},
    {"rediss+cluster://n1:7000,n2:7001?wait_replicas=1&tls_cert_file=/c.pem&tls_key_file=/k.pem",
     CSESSION__REDIS_CLUSTER, "n1:7000", 0, 0, NULL, NULL, "/c.pem", "/k.pem", NULL, 0, 1},
    {"Rediss+Cluster://n1/", CSESSION__REDIS_CLUSTER, "n1:6379", 0, 0, NULL, NULL, NULL, NULL,
     NULL, 0, 1},
};

static void same(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got, want);
    else
        assert_null(got);
}

static void test_tls_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tls_case *c = &cases[i];
        csession__redis_url u;
        if (csession__redis_url_parse(&u, c->url) != 0)
            fail_msg("%s: %s", c->url, csession_last_error());
        assert_int_equal(u.kind, c->kind);
        assert_int_equal(u.tls.on, 1);
        if (c->kind == CSESSION__REDIS_SINGLE) {
            assert_string_equal(u.host, c->host);
            assert_int_equal(u.port, c->port);
        } else {
            char hp[300];
            snprintf(hp, sizeof hp, "%s:%d", u.nodes[0].host, u.nodes[0].port);
            assert_string_equal(hp, c->host);
        }
        assert_int_equal(u.db, c->db);
        same(u.tls.ca_file, c->ca_file);
        same(u.tls.ca_dir, c->ca_dir);
        same(u.tls.cert_file, c->cert_file);
        same(u.tls.key_file, c->key_file);
        same(u.tls.server_name, c->server_name);
        assert_int_equal(u.tls.min_version, c->min_version);
        assert_int_equal(u.tls.verify, c->verify);
        csession__redis_url_dispose(&u);
        assert_null(u.tls.ca_file);
    }
    /* The plain schemes leave TLS off. */
    static const char *const plain[] = {"redis://h", "unix:///r.sock", "redis+sentinel://h/m",
                                        "redis+cluster://h"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        csession__redis_url u;
        assert_int_equal(csession__redis_url_parse(&u, plain[i]), 0);
        assert_int_equal(u.tls.on, 0);
        csession__redis_url_dispose(&u);
    }
}

static int parse_and_dispose(void *ctx)
{
    csession__redis_url u;
    int rc = csession__redis_url_parse(&u, ctx);
    if (rc == 0)
        csession__redis_url_dispose(&u);
    return rc;
}

static void test_tls_url_oom(void **state)
{
    (void)state;
    /* The host, the certificate and the key: each allocation failing in turn. */
    oom_install();
    assert_int_equal(oom_run_each_failure(parse_and_dispose, (void *)cases[5].url), 3);
    oom_uninstall();
}

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(CSESSION__REDIS_TLS_1_2, 12);
    csession__redis_tls_version v;
    assert_int_equal(csession__redis_tls_parse_version("1.3", 3, &v), 0);
    assert_int_equal(v, CSESSION__REDIS_TLS_1_3);
    assert_int_equal(csession__redis_tls_parse_version("1.2", 3, &v), 0);
    assert_int_equal(v, CSESSION__REDIS_TLS_1_2);
    assert_int_equal(csession__redis_tls_parse_version("1.0", 3, &v), -1);
    assert_int_equal(csession__redis_tls_parse_version("1.3", 2, &v), -1);
}

static void expect_store(const char *url, const csession_store_redis_options *o, int code,
                         const char *message)
{
    csession_store *s = NULL;
    int rc = csession_store_redis_new(&s, url, o);
    if (rc != code)
        fail_msg("%s: %d (%s), expected %d", url, rc, csession_last_error(), code);
    if (rc == 0) {
        csession_store_free(s);
        return;
    }
    assert_null(s);
    if (message && !strstr(csession_last_error(), message))
        fail_msg("message \"%s\" lacks \"%s\"", csession_last_error(), message);
}

/* Without TLS in the build, every rediss URL is refused when the store is
 * made, saying how to get TLS; the URL itself still parses. */
static void test_store_without_tls(void **state)
{
    (void)state;
    if (csession__redis_tls_available())
        skip();
    assert_int_equal(csession_has_feature("tls"), 0);
    static const char *const urls[] = {"rediss://127.0.0.1", "rediss+sentinel://h/m",
                                       "rediss+cluster://h?tls_verify=0"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        expect_store(urls[i], NULL, CSESSION_EUNSUPPORTED, "no TLS: install OpenSSL's headers");
    /* A mistake in the URL is still a mistake. */
    expect_store("rediss://h?tls_verify=2", NULL, CSESSION_EINVAL, "tls_verify must be 0 or 1");
    expect_store("redis://h", NULL, 0, NULL);
}

/* Options override the URL's parameters; TLS options need a rediss URL. */
static void test_store_options(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    assert_int_equal(o.version, 2);
    o.tls_ca_file = "/ca.pem";
    expect_store("redis://h", &o, CSESSION_EINVAL, "TLS options need a rediss URL");
    expect_store("unix:///r.sock", &o, CSESSION_EINVAL, "TLS options need a rediss URL");
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_verify = -1;
    expect_store("redis+cluster://h", &o, CSESSION_EINVAL, "TLS options need a rediss URL");
    o.tls_verify = 2;
    expect_store("rediss://h", &o, CSESSION_EINVAL, "tls_verify must be 0, 1 or -1");
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_min_version = "1.1";
    expect_store("rediss://h?tls_min_version=1.3", &o, CSESSION_EINVAL,
                 "option tls_min_version must be \"1.2\" or \"1.3\"");
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_server_name = "";
    expect_store("rediss://h", &o, CSESSION_EINVAL, "tls_server_name is empty");
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_cert_file = "/c.pem";
    expect_store("rediss://h", &o, CSESSION_EINVAL, "tls_cert_file and tls_key_file");
    /* The pair is checked once URL and options are merged, in every build. */
    expect_store("rediss://h?tls_cert_file=/c.pem", NULL, CSESSION_EINVAL,
                 "tls_cert_file and tls_key_file");
    expect_store("rediss+cluster://h?tls_key_file=/k.pem", NULL, CSESSION_EINVAL,
                 "tls_cert_file and tls_key_file");
    /* A key from the options completes a certificate from the URL. */
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_key_file = "/nonexistent/k.pem";
    expect_store("rediss://h?tls_cert_file=/nonexistent/c.pem", &o,
                 csession__redis_tls_available() ? CSESSION_EINVAL : CSESSION_EUNSUPPORTED, NULL);

    /* A version 1 struct ends before the TLS fields: nothing after it is read. */
    csession_store_redis_options v1;
    size_t v1_size = offsetof(csession_store_redis_options, tls_ca_file);
    unsigned char *tail = (unsigned char *)&v1 + v1_size;
    memset(&v1, 0xa5, sizeof v1);
    assert_int_equal(csession_store_redis_options_init(&v1, 1), 0);
    assert_int_equal(v1.version, 1);
    for (size_t i = 0; i < sizeof v1 - v1_size; i++) /* init wrote nothing past it */
        assert_int_equal(tail[i], 0xa5);
    expect_store("redis://h", &v1, 0, NULL); /* and the store reads nothing past it */
    memset(&o, 0xff, sizeof o);
    assert_int_equal(csession_store_redis_options_init(&o, 2), 0);
    csession_store_redis_options init = CSESSION_STORE_REDIS_OPTIONS_INIT;
    assert_memory_equal(&o, &init, sizeof o);
}

/* With TLS: the files are loaded when the store is made, so a missing one
 * is reported then, and options win over the URL. */
static void test_store_with_tls(void **state)
{
    (void)state;
    if (!csession__redis_tls_available())
        skip();
    assert_int_equal(csession_has_feature("tls"), 1);
    tls_certs certs;
    assert_int_equal(tls_certs_make(&certs), 0);
    expect_store("rediss://127.0.0.1", NULL, 0, NULL); /* the system's trust store */
    expect_store("rediss+sentinel://h/m?tls_verify=0", NULL, 0, NULL);
    char url[4 * TLS_CERTS_PATH];
    snprintf(url, sizeof url, "rediss+cluster://h?tls_ca_file=%s&tls_cert_file=%s&tls_key_file=%s",
             certs.ca, certs.client_cert, certs.client_key);
    expect_store(url, NULL, 0, NULL);
    expect_store("rediss://h?tls_ca_file=/nonexistent/ca.pem", NULL, CSESSION_EINVAL,
                 "cannot read the CA file (tls_ca_file)");
    /* The option's CA file replaces the URL's missing one. */
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_ca_file = certs.ca;
    expect_store("rediss://h?tls_ca_file=/nonexistent/ca.pem", &o, 0, NULL);
    /* The option's key is checked against the URL's certificate. */
    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.tls_key_file = certs.server_key;
    snprintf(url, sizeof url, "rediss://h?tls_cert_file=%s&tls_key_file=%s", certs.client_cert,
             certs.client_key);
    expect_store(url, NULL, 0, NULL);
    expect_store(url, &o, CSESSION_EINVAL, "does not match the client certificate");
    assert_null(strstr(csession_last_error(), certs.dir));
    tls_certs_remove(&certs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_urls),
        cmocka_unit_test(test_tls_url_oom),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_store_without_tls),
        cmocka_unit_test(test_store_options),
        cmocka_unit_test(test_store_with_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
