/* Redis URLs and store options: what is accepted, what is refused and with
 * which message, and out-of-memory paths. No server is needed: creating a
 * Redis store does no I/O. */
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
#include "stores/redis/redis_store.h"
#include "stores/redis/url.h"

typedef struct valid_case {
    const char *url;
    int is_unix;
    const char *host; /* or socket path */
    int port;
    const char *user;
    const char *password;
    size_t password_len;
    int db;
} valid_case;

static const valid_case valid[] = {
    {"redis://localhost", 0, "localhost", 6379, NULL, NULL, 0, 0},
    {"redis://127.0.0.1:6380", 0, "127.0.0.1", 6380, NULL, NULL, 0, 0},
    {"REDIS://Cache.example.com:1/", 0, "Cache.example.com", 1, NULL, NULL, 0, 0},
    {"redis://h:65535/15", 0, "h", 65535, NULL, NULL, 0, 15},
    {"redis://h/2147483647", 0, "h", 6379, NULL, NULL, 0, 2147483647},
    {"redis://:secret@h", 0, "h", 6379, NULL, "secret", 6, 0},
    {"redis://alice:secret@h:7000/3", 0, "h", 7000, "alice", "secret", 6, 3},
    {"redis://al%69ce:p%40ss%3Aw%2Fd@h", 0, "h", 6379, "alice", "p@ss:w/d", 8, 0},
    {"redis://:a@b@h", 0, "h", 6379, NULL, "a@b", 3, 0}, /* the last '@' ends the user info */
    {"redis://:bin%00ary@h", 0, "h", 6379, NULL, "bin\0ary", 7, 0},
    {"redis://[::1]", 0, "::1", 6379, NULL, NULL, 0, 0},
    {"redis://[::1]:6390/1", 0, "::1", 6390, NULL, NULL, 0, 1},
    {"redis://u:p@[2001:db8::7]:1234", 0, "2001:db8::7", 1234, "u", "p", 1, 0},
    {"unix:///run/redis.sock", 1, "/run/redis.sock", 0, NULL, NULL, 0, 0},
    {"unix:///tmp/my%20dir/r.sock?db=4", 1, "/tmp/my dir/r.sock", 0, NULL, NULL, 0, 4},
    {"unix:///r.sock?password=s%26cret&db=2", 1, "/r.sock", 0, NULL, "s&cret", 6, 2},
    {"unix:///r.sock?user=bob&pass=pw", 1, "/r.sock", 0, "bob", "pw", 2, 0},
};

static void test_valid_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        const valid_case *c = &valid[i];
        csession__redis_url u;
        int rc = csession__redis_url_parse(&u, c->url);
        if (rc != 0)
            fail_msg("%s: %s", c->url, csession_last_error());
        assert_int_equal(u.is_unix, c->is_unix);
        assert_string_equal(c->is_unix ? u.path : u.host, c->host);
        assert_null(c->is_unix ? u.host : u.path);
        assert_int_equal(u.port, c->port);
        assert_int_equal(u.db, c->db);
        if (c->user) {
            assert_int_equal(u.user_len, strlen(c->user));
            assert_memory_equal(u.user, c->user, u.user_len);
        } else {
            assert_null(u.user);
        }
        if (c->password) {
            assert_int_equal(u.password_len, c->password_len);
            assert_memory_equal(u.password, c->password, c->password_len);
        } else {
            assert_null(u.password);
        }
        csession__redis_url_dispose(&u);
        assert_null(u.host);
    }
}

typedef struct invalid_case {
    const char *url;
    const char *message; /* a part of the message */
} invalid_case;

static const invalid_case invalid[] = {
    {"", "must start with redis://, rediss://, unix://, redis+sentinel://, rediss+sentinel://, "
         "redis+cluster:// or rediss+cluster://"},
    {"http://h", "must start with redis://"},
    {"redis:/h", "must start with redis://"},
    {"redis+tls://h", "must start with redis://"},
    /* TLS: rediss:// takes the tls_* parameters and no others */
    {"rediss://h?wait_replicas=1", "unknown query parameter 'wait_replicas' (known: "
                                   "tls_ca_file, tls_ca_dir, tls_cert_file, tls_key_file, "
                                   "tls_server_name, tls_min_version, tls_verify)"},
    {"rediss://h?db=1", "unknown query parameter 'db'"},
    {"redis://h?tls_ca_file=/ca.pem", "take no query parameters"},
    {"unix:///r.sock?tls_ca_file=/ca.pem", "unknown query parameter 'tls_ca_file' (known: db,"},
    {"rediss://h?tls_ca_file=", "empty tls_ca_file"},
    {"rediss://h?tls_ca_file=/a&tls_ca_file=/b", "'tls_ca_file' given twice"},
    {"rediss://h?tls_ca_dir=/a&tls_ca_dir=/b", "'tls_ca_dir' given twice"},
    {"rediss://h?tls_server_name=a&tls_server_name=b", "'tls_server_name' given twice"},
    {"rediss://h?tls_ca_file=/a%00b", "the tls_ca_file contains %00"},
    {"rediss://h?tls_ca_file=/a%2", "bad percent-escape in the tls_ca_file"},
    {"rediss://h?tls_key_file=/secret/k x", "the tls_key_file contains a space or control"},
    {"rediss://h?tls_min_version=1.1", "tls_min_version must be 1.2 or 1.3"},
    {"rediss://h?tls_min_version=", "tls_min_version must be 1.2 or 1.3"},
    {"rediss://h?tls_min_version=1.3&tls_min_version=1.3", "'tls_min_version' given twice"},
    {"rediss://h?tls_verify=no", "tls_verify must be 0 or 1"},
    {"rediss://h?tls_verify=00", "tls_verify must be 0 or 1"},
    {"rediss://h?tls_verify=0&tls_verify=0", "'tls_verify' given twice"},
    {"rediss://h?tls_verify", "query parameter without '='"},
    {"rediss://h?", "empty query parameter"},
    {"rediss://h#x", "unexpected fragment"},
    {"rediss://h1,h2", "several hosts need redis+sentinel:// or redis+cluster://"},
    {"rediss://", "no host"},
    {"redis://", "no host"},
    {"redis://:6379", "no host"},
    {"redis://h:", "port must be a number from 1 to 65535"},
    {"redis://h:0", "port must be a number from 1 to 65535"},
    {"redis://h:65536", "port must be a number from 1 to 65535"},
    {"redis://h:63a", "port must be a number from 1 to 65535"},
    {"redis://h:-1", "port must be a number from 1 to 65535"},
    {"redis://h:99999999999", "port must be a number from 1 to 65535"},
    {"redis://h/x", "database must be a number from 0 to 2147483647"},
    {"redis://h/-1", "database must be a number from 0 to 2147483647"},
    {"redis://h/2147483648", "database must be a number from 0 to 2147483647"},
    {"redis://h/1/2", "database must be a number"},
    {"redis://h?db=1", "take no query parameters"},
    {"redis://h#x", "unexpected fragment"},
    {"redis://ho st", "invalid character in the host name"},
    {"redis://h%41", "invalid character in the host name"},
    {"redis://::1", "invalid character in the host name (IPv6 addresses go in brackets)"},
    {"redis://[::1", "'[' without ']'"},
    {"redis://[::g]", "invalid IPv6 address"},
    {"redis://[]", "invalid IPv6 address"},
    {"redis://[::1]x", "unexpected character after the IPv6 address"},
    {"redis://[::1]:", "port must be a number"},
    {"redis://user@h", "user name without a password"},
    {"redis://user:@h", "empty password"},
    {"redis://:@h", "empty password"},
    {"redis://:p%4@h", "bad percent-escape in the password"},
    {"redis://:p%zz@h", "bad percent-escape in the password"},
    {"redis://u%:p@h", "bad percent-escape in the user name"},
    {"redis://:p w@h", "the password contains a space or control character"},
    {"unix://", "unix:// URLs have no host"},
    {"unix://host/path", "unix:// URLs have no host"},
    {"unix:///", "no socket path"},
    {"unix:///a%00b", "the socket path contains %00"},
    {"unix:///a%2", "bad percent-escape in the socket path"},
    {"unix:///r.sock?db=x", "database must be a number"},
    {"unix:///r.sock?db=1&db=2", "'db' given twice"},
    {"unix:///r.sock?password=a&pass=b", "password given twice"},
    {"unix:///r.sock?password=", "empty password"},
    {"unix:///r.sock?user=u", "user name without a password"},
    {"unix:///r.sock?user=&password=p", "empty user name"},
    {"unix:///r.sock?user=a&user=b&password=p", "'user' given twice"},
    {"unix:///r.sock?timeout=3", "unknown query parameter 'timeout'"},
    {"unix:///r.sock?db", "query parameter without '='"},
    {"unix:///r.sock?", "empty query parameter"},
    {"unix:///r.sock?db=1&", "empty query parameter"},
    {"unix:///r.sock#x", "unexpected fragment"},
    {"unix:///r.sock?wait_replicas=1", "unknown query parameter 'wait_replicas'"},
    /* A message quotes printable ASCII only: nothing in a URL can put a line
     * break or a terminal escape into a log. */
    {"unix:///r.sock?x\x1b[2J\nERROR=1", "unknown query parameter 'x' (known: db,"},
    {"unix:///r.sock?\x7f=1", "unknown query parameter '' (known: db,"},
    {"unix:///r.sock?caf\xc3\xa9=1", "unknown query parameter 'caf' (known: db,"},
    {"redis://h1,h2", "several hosts need redis+sentinel:// or redis+cluster://"},
    {"redis://h?wait_replicas=1", "take no query parameters"},
    /* Sentinel */
    {"rediss+sentinel://h", "no master name"},
    {"rediss+sentinel://h/m?db=1", "unknown query parameter 'db' (known: sentinel_password, "
                                   "sentinel_user, wait_replicas, wait_timeout_ms, tls_ca_file,"},
    {"redis+sentinel://h/m?tls_verify=0", "unknown query parameter 'tls_verify' (known: "
                                          "sentinel_password, sentinel_user, wait_replicas, "
                                          "wait_timeout_ms)"},
    {"rediss+sentinel://h/m?tls_verify=2", "tls_verify must be 0 or 1"},
    {"redis+sentinel://h", "no master name"},
    {"redis+sentinel://h/", "no master name"},
    {"redis+sentinel://h?x=1", "no master name"},
    {"redis+sentinel://h//2", "no master name"},
    {"redis+sentinel://h/m%0a", "the master name contains a control character"},
    {"redis+sentinel://h/m%00", "the master name contains %00"},
    {"redis+sentinel://h/m%zz", "bad percent-escape in the master name"},
    {"redis+sentinel://h/m/x", "database must be a number"},
    {"redis+sentinel://h/m/1/2", "database must be a number"},
    {"redis+sentinel://h,/m", "empty host in the host list"},
    {"redis+sentinel://,h/m", "empty host in the host list"},
    {"redis+sentinel://h1,,h2/m", "empty host in the host list"},
    {"redis+sentinel://h1:0,h2/m", "port must be a number from 1 to 65535"},
    {"redis+sentinel://h1,h 2/m", "invalid character in the host name"},
    {"redis+sentinel://h1,[::1/m", "'[' without ']'"},
    {"redis+sentinel://u@h/m", "user name without a password"},
    {"redis+sentinel://h/m?db=1", "unknown query parameter 'db' (known: sentinel_password, "
                                  "sentinel_user, wait_replicas, wait_timeout_ms)"},
    {"redis+sentinel://h/m?password=x", "unknown query parameter 'password'"},
    {"redis+sentinel://h/m?sentinel_password=", "empty sentinel password"},
    {"redis+sentinel://h/m?sentinel_user=u", "sentinel_user without sentinel_password"},
    {"redis+sentinel://h/m?sentinel_password=a&sentinel_password=b",
     "'sentinel_password' given twice"},
    {"redis+sentinel://h/m?sentinel_password=a%2", "bad percent-escape in the sentinel password"},
    {"redis+sentinel://h/m?wait_replicas=65", "wait_replicas must be a number from 0 to 64"},
    {"redis+sentinel://h/m?wait_replicas=-1", "wait_replicas must be a number"},
    {"redis+sentinel://h/m?wait_replicas=1&wait_replicas=1", "'wait_replicas' given twice"},
    {"redis+sentinel://h/m?wait_replicas=1&wait_timeout_ms=0",
     "wait_timeout_ms must be a number from 1 to 600000"},
    {"redis+sentinel://h/m?wait_replicas=1&wait_timeout_ms=600001", "wait_timeout_ms must be"},
    {"redis+sentinel://h/m?wait_timeout_ms=5", "wait_timeout_ms without wait_replicas"},
    {"redis+sentinel://h/m?", "empty query parameter"},
    {"redis+sentinel://h/m#f", "unexpected fragment"},
    /* Cluster */
    {"rediss+cluster://h/0", "Redis Cluster has only database 0"},
    {"rediss+cluster://h?x=1", "unknown query parameter 'x' (known: wait_replicas, "
                               "wait_timeout_ms, tls_ca_file,"},
    {"redis+cluster://h?tls_ca_file=/a", "unknown query parameter 'tls_ca_file'"},
    {"redis+cluster://", "empty host in the host list"},
    {"redis+cluster://h,", "empty host in the host list"},
    {"redis+cluster://h/0", "Redis Cluster has only database 0; remove the '/0'"},
    {"redis+cluster://h1,h2/3", "Redis Cluster has only database 0; remove the '/3' (SELECT "
                                "is refused in cluster mode)"},
    {"redis+cluster://h:65536", "port must be a number from 1 to 65535"},
    {"redis+cluster://h/1\r\nx", "remove the '/1' (SELECT"},
    {"redis+cluster://h?sentinel_password=x", "unknown query parameter 'sentinel_password' "
                                              "(known: wait_replicas, wait_timeout_ms)"},
    {"redis+cluster://h?wait_replicas=x", "wait_replicas must be a number"},
    {"redis+cluster://:@h", "empty password"},
    {"redis+cluster://h1,h2,h3,h4,h5,h6,h7,h8,h9,h10,h11,h12,h13,h14,h15,h16,h17",
     "more than 16 hosts"},
};

static void test_invalid_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        const invalid_case *c = &invalid[i];
        csession__redis_url u;
        int rc = csession__redis_url_parse(&u, c->url);
        if (rc != CSESSION_EINVAL)
            fail_msg("%s: expected EINVAL, got %d", c->url, rc);
        if (!strstr(csession_last_error(), c->message))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->url, csession_last_error(),
                     c->message);
        assert_null(u.host);
        assert_null(u.password);
        /* The same refusal through the public constructor. */
        static csession_store not_null;
        csession_store *s = &not_null;
        assert_int_equal(csession_store_redis_new(&s, c->url, NULL), CSESSION_EINVAL);
        assert_null(s);
        assert_non_null(strstr(csession_last_error(), c->message));
    }
}

/* ---- Sentinel and Cluster URLs ------------------------------------------- */

typedef struct node_case {
    const char *url;
    int kind;
    const char *hosts[4]; /* "host:port", NULL-terminated */
    const char *master;   /* Sentinel master name */
    int db;
    const char *password;
    const char *sentinel_user;
    const char *sentinel_password;
    unsigned int wait_replicas, wait_timeout_ms;
} node_case;

static const node_case node_cases[] = {
    {"redis+sentinel://10.0.0.1,10.0.0.2:26380,[::1]/mymaster", CSESSION__REDIS_SENTINEL,
     {"10.0.0.1:26379", "10.0.0.2:26380", "::1:26379", NULL}, "mymaster", 0, NULL, NULL, NULL,
     0, 0},
    {"REDIS+SENTINEL://:s3cret@s1:5000/my%20master/7", CSESSION__REDIS_SENTINEL,
     {"s1:5000", NULL}, "my master", 7, "s3cret", NULL, NULL, 0, 0},
    {"redis+sentinel://app:pw@s1/m/?sentinel_password=sp%26&sentinel_user=watch&"
     "wait_replicas=1&wait_timeout_ms=250",
     CSESSION__REDIS_SENTINEL, {"s1:26379", NULL}, "m", 0, "pw", "watch", "sp&", 1, 250},
    {"redis+cluster://127.0.0.1:7000,127.0.0.1:7001", CSESSION__REDIS_CLUSTER,
     {"127.0.0.1:7000", "127.0.0.1:7001", NULL}, NULL, 0, NULL, NULL, NULL, 0, 0},
    {"redis+cluster://:pw@node/", CSESSION__REDIS_CLUSTER, {"node:6379", NULL}, NULL, 0, "pw",
     NULL, NULL, 0, 0},
    {"redis+cluster://[2001:db8::1]:7002?wait_replicas=2", CSESSION__REDIS_CLUSTER,
     {"2001:db8::1:7002", NULL}, NULL, 0, NULL, NULL, NULL, 2, 0},
};

static void test_valid_topology_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof node_cases / sizeof node_cases[0]; i++) {
        const node_case *c = &node_cases[i];
        csession__redis_url u;
        if (csession__redis_url_parse(&u, c->url) != 0)
            fail_msg("%s: %s", c->url, csession_last_error());
        assert_int_equal(u.kind, c->kind);
        assert_null(u.host);
        assert_null(u.path);
        size_t n = 0;
        for (; c->hosts[n]; n++) {
            char hp[300];
            snprintf(hp, sizeof hp, "%s:%d", u.nodes[n].host, u.nodes[n].port);
            assert_string_equal(hp, c->hosts[n]);
        }
        assert_int_equal(u.n_nodes, n);
        if (c->master) {
            assert_string_equal(u.master_name, c->master);
            assert_int_equal(u.master_name_len, strlen(c->master));
        } else {
            assert_null(u.master_name);
        }
        assert_int_equal(u.db, c->db);
#define SAME(field, expected)                                                  \
    do {                                                                       \
        if (expected) {                                                        \
            assert_int_equal(u.field##_len, strlen(expected));                 \
            assert_memory_equal(u.field, expected, u.field##_len);             \
        } else {                                                               \
            assert_null(u.field);                                              \
        }                                                                      \
    } while (0)
        SAME(password, c->password);
        SAME(sentinel_user, c->sentinel_user);
        SAME(sentinel_password, c->sentinel_password);
#undef SAME
        assert_int_equal(u.wait_replicas, c->wait_replicas);
        assert_int_equal(u.wait_timeout_ms, c->wait_timeout_ms);
        csession__redis_url_dispose(&u);
        assert_int_equal(u.n_nodes, 0);

        /* Creating the store does no I/O either. */
        csession_store *s = NULL;
        assert_int_equal(csession_store_redis_new(&s, c->url, NULL), 0);
        assert_true(csession__store_is_redis(s));
        csession_store_free(s);
    }

    /* 16 hosts is the most. */
    char url[400] = "redis+cluster://h1";
    for (int i = 2; i <= 16; i++)
        snprintf(url + strlen(url), sizeof url - strlen(url), ",h%d", i);
    csession__redis_url u;
    assert_int_equal(csession__redis_url_parse(&u, url), 0);
    assert_int_equal(u.n_nodes, 16);
    assert_string_equal(u.nodes[15].host, "h16");
    csession__redis_url_dispose(&u);

    /* A master name of 256 bytes, not 257. */
    char name[260];
    memset(name, 'n', sizeof name);
    name[256] = '\0';
    snprintf(url, sizeof url, "redis+sentinel://h/%s", name);
    assert_int_equal(csession__redis_url_parse(&u, url), 0);
    csession__redis_url_dispose(&u);
    name[256] = 'n';
    name[257] = '\0';
    snprintf(url, sizeof url, "redis+sentinel://h/%s", name);
    assert_int_equal(csession__redis_url_parse(&u, url), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "master name longer than 256 bytes"));
}

/* WAIT must answer before the socket gives up on it. */
static void test_wait_timeout_below_command_timeout(void **state)
{
    (void)state;
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.command_timeout_ms = 500;
    csession_store *s = NULL;
    assert_int_equal(
        csession_store_redis_new(&s, "redis+sentinel://h/m?wait_replicas=1&wait_timeout_ms=500",
                                 &o),
        CSESSION_EINVAL);
    assert_null(s);
    assert_non_null(strstr(csession_last_error(),
                           "wait_timeout_ms (500) must be below the store's "
                           "command_timeout_ms (500)"));
    assert_int_equal(
        csession_store_redis_new(&s, "redis+cluster://h?wait_replicas=1&wait_timeout_ms=499", &o),
        0);
    csession_store_free(s);
    /* By default, half the command timeout. */
    assert_int_equal(csession_store_redis_new(&s, "redis+sentinel://h/m?wait_replicas=1", &o), 0);
    csession_store_free(s);
    /* The passwords never appear in a message. */
    assert_int_equal(csession_store_redis_new(&s,
                                              "redis+sentinel://bob:hunter2@h/m?sentinel_password="
                                              "swordfish&wait_replicas=x",
                                              NULL),
                     CSESSION_EINVAL);
    assert_null(strstr(csession_last_error(), "hunter2"));
    assert_null(strstr(csession_last_error(), "swordfish"));
}

static void test_limits_and_secrets(void **state)
{
    (void)state;
    /* The password never appears in a message. */
    csession__redis_url u;
    assert_int_equal(csession__redis_url_parse(&u, "redis://bob:hunter2@h:0"), CSESSION_EINVAL);
    assert_null(strstr(csession_last_error(), "hunter2"));
    assert_null(strstr(csession_last_error(), "bob"));

    /* Socket paths must fit sockaddr_un (107 bytes and a NUL). */
    char url[400];
    char path[200];
    memset(path, 'a', sizeof path);
    path[0] = '/';
    path[107] = '\0';
    snprintf(url, sizeof url, "unix://%s", path);
    assert_int_equal(csession__redis_url_parse(&u, url), 0);
    csession__redis_url_dispose(&u);
    path[107] = 'a';
    path[108] = '\0';
    snprintf(url, sizeof url, "unix://%s", path);
    assert_int_equal(csession__redis_url_parse(&u, url), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "socket path longer than 107 bytes"));

    /* Host names up to 253 bytes. */
    char host[300];
    memset(host, 'h', 254);
    host[253] = '\0';
    snprintf(url, sizeof url, "redis://%s", host);
    assert_int_equal(csession__redis_url_parse(&u, url), 0);
    csession__redis_url_dispose(&u);
    host[253] = 'h';
    host[254] = '\0';
    snprintf(url, sizeof url, "redis://%s", host);
    assert_int_equal(csession__redis_url_parse(&u, url), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "host name longer than 253 bytes"));

    /* The whole URL: at most 4096 bytes. */
    static char big[5000];
    memcpy(big, "redis://h/", 10);
    memset(big + 10, '0', sizeof big - 11);
    big[CSESSION_STORE_REDIS_LIMIT_URL + 1] = '\0';
    assert_int_equal(csession__redis_url_parse(&u, big), CSESSION_EINVAL);
    assert_non_null(strstr(csession_last_error(), "longer than 4096 bytes"));

    assert_int_equal(csession__redis_url_parse(&u, NULL), CSESSION_EINVAL);
    assert_int_equal(csession__redis_url_parse(NULL, "redis://h"), CSESSION_EINVAL);
    csession__redis_url_dispose(NULL);
}

/* ---- options ------------------------------------------------------------- */

static int dummy_mapper(const char *key, size_t len, csession_buf *out, void *payload)
{
    (void)payload;
    return csession_buf_set(out, key, len);
}

static void expect_option_refused(const csession_store_redis_options *o, const char *message)
{
    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(&s, "redis://h", o), CSESSION_EINVAL);
    assert_null(s);
    if (!strstr(csession_last_error(), message))
        fail_msg("message \"%s\" lacks \"%s\"", csession_last_error(), message);
}

static void test_options(void **state)
{
    (void)state;
    csession_store_redis_options o;
    memset(&o, 0xff, sizeof o);
    assert_int_equal(csession_store_redis_options_init(&o, CSESSION_STORE_REDIS_OPTIONS_VERSION),
                     0);
    csession_store_redis_options init = CSESSION_STORE_REDIS_OPTIONS_INIT;
    assert_memory_equal(&o, &init, sizeof o);
    assert_int_equal(csession_store_redis_options_init(&o, 3), CSESSION_EINVAL);
    assert_int_equal(csession_store_redis_options_init(&o, 0), CSESSION_EINVAL);
    assert_int_equal(csession_store_redis_options_init(NULL, 1), CSESSION_EINVAL);

    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(NULL, "redis://h", NULL), CSESSION_EINVAL);
    assert_int_equal(csession_store_redis_new(&s, NULL, NULL), CSESSION_EINVAL);

    /* Defaults and the largest values are accepted without any I/O. */
    assert_int_equal(csession_store_redis_new(&s, "redis://127.0.0.1:1", NULL), 0);
    assert_true(csession__store_is_redis(s));
    assert_int_equal(s->version, CSESSION_STORE_VERSION);
    csession_store_free(s);
    o = init;
    o.connect_timeout_ms = o.command_timeout_ms = o.pool_wait_timeout_ms =
        CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS;
    o.pool_size = CSESSION_STORE_REDIS_LIMIT_POOL_SIZE;
    o.max_state_bytes = CSESSION_STORE_REDIS_LIMIT_MAX_STATE_BYTES;
    char prefix[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX + 2];
    memset(prefix, 'p', sizeof prefix);
    prefix[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX] = '\0';
    o.key_prefix = prefix;
    assert_int_equal(csession_store_redis_new(&s, "redis://h", &o), 0);
    csession_store_free(s);

    o = init;
    o.version = 3;
    expect_option_refused(&o, "unknown Redis store options version 3");
    o = init;
    o.connect_timeout_ms = CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS + 1;
    expect_option_refused(&o, "connect_timeout_ms above 600000 ms");
    o = init;
    o.command_timeout_ms = CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS + 1;
    expect_option_refused(&o, "command_timeout_ms above 600000 ms");
    o = init;
    o.pool_wait_timeout_ms = CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS + 1;
    expect_option_refused(&o, "pool_wait_timeout_ms above 600000 ms");
    o = init;
    o.pool_size = CSESSION_STORE_REDIS_LIMIT_POOL_SIZE + 1;
    expect_option_refused(&o, "pool_size above 1024");
    o = init;
    o.max_state_bytes = (size_t)CSESSION_STORE_REDIS_LIMIT_MAX_STATE_BYTES + 1;
    expect_option_refused(&o, "max_state_bytes above 536870912");
    o = init;
    prefix[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX] = 'p';
    prefix[CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX + 1] = '\0';
    o.key_prefix = prefix;
    expect_option_refused(&o, "key_prefix longer than 256 bytes");
    o = init;
    o.key_prefix = "s:";
    o.key_mapper = dummy_mapper;
    expect_option_refused(&o, "key_prefix and key_mapper cannot be combined");
    /* An empty prefix with a mapper is fine. */
    o.key_prefix = "";
    assert_int_equal(csession_store_redis_new(&s, "redis://h", &o), 0);
    csession_store_free(s);
}

/* Keys are mapped without I/O: the prefix, or the mapper's output. */
static int suffix_mapper(const char *key, size_t len, csession_buf *out, void *payload)
{
    char buf[128];
    assert_int_equal(len, 64);
    assert_int_equal(key[len], '\0');
    int n = snprintf(buf, sizeof buf, "%s/%s", (const char *)payload, key);
    return csession_buf_set(out, buf, (size_t)n);
}

static void test_key_layout(void **state)
{
    (void)state;
    const char *key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";
    csession_buf b = CSESSION_BUF_INIT;
    csession_store *s = NULL;
    assert_int_equal(csession_store_redis_new(&s, "redis://h", NULL), 0);
    assert_int_equal(csession__store_redis_key(s, key, 64, &b), 0);
    assert_string_equal(b.ptr, key); /* actix-session's layout: the key itself */
    assert_int_equal(csession__store_redis_key(s, key, 63, &b), CSESSION_EINVAL);
    csession_store_free(s);

    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = "session:";
    assert_int_equal(csession_store_redis_new(&s, "redis://h", &o), 0);
    assert_int_equal(csession__store_redis_key(s, key, 64, &b), 0);
    assert_int_equal(b.size, 72);
    assert_memory_equal(b.ptr, "session:", 8);
    assert_memory_equal(b.ptr + 8, key, 64);
    csession_store_free(s);

    o = (csession_store_redis_options)CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_mapper = suffix_mapper;
    o.key_mapper_payload = "app";
    assert_int_equal(csession_store_redis_new(&s, "redis://h", &o), 0);
    assert_int_equal(csession__store_redis_key(s, key, 64, &b), 0);
    assert_int_equal(b.size, 68);
    assert_memory_equal(b.ptr, "app/", 4);
    csession_store_free(s);
    csession_buf_dispose(&b);
}

/* ---- out of memory ------------------------------------------------------- */

static int parse_body(void *ctx)
{
    csession__redis_url u;
    int rc = csession__redis_url_parse(&u, (const char *)ctx);
    csession__redis_url_dispose(&u);
    return rc;
}

static int new_body(void *ctx)
{
    csession_store *s = NULL;
    int rc = csession_store_redis_new(&s, (const char *)ctx, NULL);
    if (rc)
        assert_null(s);
    csession_store_free(s);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    /* Each URL with the number of allocations it takes: one per string
     * kept (host or path, user, password), and the store itself. */
    static const struct {
        const char *url;
        size_t allocations;
    } cases[] = {
        {"redis://alice:secret@h:7000/3", 3},
        {"redis://[::1]:6390/1", 1},
        {"unix:///tmp/r.sock?user=bob&password=pw&db=2", 3},
        /* hosts, master name, passwords */
        {"redis+sentinel://:pw@s1,s2:26380/mymaster/1?sentinel_password=sp", 5},
        {"redis+cluster://u:pw@[::1]:7000,h2:7001,h3", 5},
    };
    oom_install();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *url = (void *)cases[i].url;
        assert_int_equal(oom_run_each_failure(parse_body, url), cases[i].allocations);
        /* the store and its topology (one pool, or the Sentinel or Cluster state) */
        assert_int_equal(oom_run_each_failure(new_body, url), cases[i].allocations + 2);
    }
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_urls),
        cmocka_unit_test(test_invalid_urls),
        cmocka_unit_test(test_valid_topology_urls),
        cmocka_unit_test(test_wait_timeout_below_command_timeout),
        cmocka_unit_test(test_limits_and_secrets),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_key_layout),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
