/*
 * Fuzzes the Redis URL parser (src/stores/redis/url.c) on arbitrary text.
 *
 * Invariants: the parser returns 0, CSESSION_EINVAL or CSESSION_ENOMEM; a
 * failed parse leaves nothing behind (the struct is all zero, and ASan's
 * leak check sees every allocation freed); a successful one gives fields
 * within the limits url.h documents, consistent with the kind of URL; the
 * canonical URL written back from those fields parses to the same fields;
 * messages are printable ASCII and never depend on the bytes of the
 * password in the user info (the same URL with another password of the
 * same length fails with the same message).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "buf.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "fuzz_check.h"
#include "stores/redis/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* ---- field checks ----------------------------------------------------------- */

static int is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* A host is a name of host characters, or an IPv6 address (brackets gone). */
static void check_host(const char *host, int port)
{
    CHECK(host != NULL);
    size_t n = strlen(host);
    CHECK(n >= 1 && n <= CSESSION__REDIS_MAX_HOST);
    CHECK(port >= 1 && port <= 65535);
    if (strchr(host, ':')) {
        unsigned char bin[16];
        CHECK(inet_pton(AF_INET6, host, bin) == 1);
        return;
    }
    for (size_t i = 0; i < n; i++)
        CHECK(is_host_char(host[i]));
}

/* A secret: NULL with length 0, or a non-empty allocation of `len` bytes. */
static void check_secret(const char *s, size_t len)
{
    CHECK((s == NULL) == (len == 0));
    if (s)
        CHECK(s[len] == '\0');
}

static void check_fields(const csession__redis_url *u)
{
    CHECK(u->db >= 0);
    check_secret(u->user, u->user_len);
    check_secret(u->password, u->password_len);
    check_secret(u->sentinel_user, u->sentinel_user_len);
    check_secret(u->sentinel_password, u->sentinel_password_len);
    CHECK(!u->user || u->password);                   /* no user without a password */
    CHECK(!u->sentinel_user || u->sentinel_password); /* likewise on the sentinels */
    CHECK(u->wait_replicas <= CSESSION__REDIS_MAX_WAIT_REPLICAS);
    CHECK(u->wait_timeout_ms <= CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS);
    CHECK(!u->wait_timeout_ms || u->wait_replicas);
    switch (u->kind) {
    case CSESSION__REDIS_SINGLE:
        CHECK(u->n_nodes == 0 && !u->master_name && !u->sentinel_password);
        CHECK(u->wait_replicas == 0);
        if (u->is_unix) {
            CHECK(u->path && !u->host && u->port == 0);
            size_t n = strlen(u->path);
            CHECK(u->path[0] == '/' && n >= 2 && n <= SUN_PATH_MAX);
        } else {
            CHECK(!u->path);
            check_host(u->host, u->port);
        }
        break;
    case CSESSION__REDIS_SENTINEL:
    case CSESSION__REDIS_CLUSTER:
        CHECK(!u->is_unix && !u->host && !u->path && u->port == 0);
        CHECK(u->n_nodes >= 1 && u->n_nodes <= CSESSION__REDIS_MAX_NODES);
        for (size_t i = 0; i < u->n_nodes; i++)
            check_host(u->nodes[i].host, u->nodes[i].port);
        if (u->kind == CSESSION__REDIS_CLUSTER) {
            CHECK(u->db == 0 && !u->master_name && !u->sentinel_password);
        } else {
            CHECK(u->master_name != NULL);
            CHECK(u->master_name_len >= 1 &&
                  u->master_name_len <= CSESSION__REDIS_MAX_MASTER_NAME);
            CHECK(strlen(u->master_name) == u->master_name_len);
            for (size_t i = 0; i < u->master_name_len; i++) {
                unsigned char c = (unsigned char)u->master_name[i];
                CHECK(c >= 0x20 && c != 0x7f);
            }
        }
        break;
    default:
        CHECK(!"unknown kind");
    }
    for (size_t i = u->n_nodes; i < CSESSION__REDIS_MAX_NODES; i++)
        CHECK(u->nodes[i].host == NULL && u->nodes[i].port == 0);
}

/* ---- the canonical URL of parsed fields ---------------------------------------- */

static void put(csession_buf *b, const char *s, size_t n)
{
    CHECK(csession__buf_append(b, s, n) == 0);
}

static void put_str(csession_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_num(csession_buf *b, long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    put_str(b, num);
}

/* Percent-encodes all but unreserved characters (and '/' when keep_slash). */
static void put_encoded(csession_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x80 && is_host_char((char)c)) || c == '~' || (keep_slash && c == '/')) {
            put(b, (const char *)&c, 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            put(b, e, 3);
        }
    }
}

static void put_node(csession_buf *b, const char *host, int port)
{
    int v6 = strchr(host, ':') != NULL;
    if (v6)
        put_str(b, "[");
    put_str(b, host);
    if (v6)
        put_str(b, "]");
    put_str(b, ":");
    put_num(b, port);
}

/* Appends "?" or "&" before the next query parameter. */
static void put_sep(csession_buf *b, int *params)
{
    put_str(b, (*params)++ ? "&" : "?");
}

static void put_param(csession_buf *b, int *params, const char *name, const char *v, size_t n)
{
    put_sep(b, params);
    put_str(b, name);
    put_str(b, "=");
    put_encoded(b, v, n, 0);
}

static void format_url(const csession__redis_url *u, csession_buf *b)
{
    int params = 0;
    if (u->is_unix) {
        put_str(b, "unix://");
        put_encoded(b, u->path, strlen(u->path), 1);
        if (u->db) {
            put_sep(b, &params);
            put_str(b, "db=");
            put_num(b, u->db);
        }
        if (u->password)
            put_param(b, &params, "password", u->password, u->password_len);
        if (u->user)
            put_param(b, &params, "user", u->user, u->user_len);
        return;
    }
    put_str(b, u->kind == CSESSION__REDIS_SINGLE     ? "redis://"
               : u->kind == CSESSION__REDIS_SENTINEL ? "redis+sentinel://"
                                                     : "redis+cluster://");
    if (u->password) {
        put_encoded(b, u->user ? u->user : "", u->user_len, 0);
        put_str(b, ":");
        put_encoded(b, u->password, u->password_len, 0);
        put_str(b, "@");
    }
    if (u->kind == CSESSION__REDIS_SINGLE) {
        put_node(b, u->host, u->port);
    } else {
        for (size_t i = 0; i < u->n_nodes; i++) {
            if (i)
                put_str(b, ",");
            put_node(b, u->nodes[i].host, u->nodes[i].port);
        }
    }
    if (u->kind == CSESSION__REDIS_SENTINEL) {
        put_str(b, "/");
        put_encoded(b, u->master_name, u->master_name_len, 0);
    }
    if (u->db) {
        put_str(b, "/");
        put_num(b, u->db);
    }
    if (u->sentinel_password)
        put_param(b, &params, "sentinel_password", u->sentinel_password,
                  u->sentinel_password_len);
    if (u->sentinel_user)
        put_param(b, &params, "sentinel_user", u->sentinel_user, u->sentinel_user_len);
    if (u->wait_replicas) {
        put_sep(b, &params);
        put_str(b, "wait_replicas=");
        put_num(b, u->wait_replicas);
    }
    if (u->wait_timeout_ms) {
        put_sep(b, &params);
        put_str(b, "wait_timeout_ms=");
        put_num(b, u->wait_timeout_ms);
    }
}

static int same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    if (!a || !b)
        return a == b;
    return alen == blen && memcmp(a, b, alen) == 0;
}

static int same_str(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static void check_same(const csession__redis_url *a, const csession__redis_url *b)
{
    CHECK(a->kind == b->kind && a->is_unix == b->is_unix);
    CHECK(same_str(a->host, b->host) && a->port == b->port && same_str(a->path, b->path));
    CHECK(same_bytes(a->user, a->user_len, b->user, b->user_len));
    CHECK(same_bytes(a->password, a->password_len, b->password, b->password_len));
    CHECK(a->db == b->db && a->n_nodes == b->n_nodes);
    for (size_t i = 0; i < a->n_nodes; i++)
        CHECK(same_str(a->nodes[i].host, b->nodes[i].host) && a->nodes[i].port == b->nodes[i].port);
    CHECK(same_bytes(a->master_name, a->master_name_len, b->master_name, b->master_name_len));
    CHECK(same_bytes(a->sentinel_user, a->sentinel_user_len, b->sentinel_user,
                     b->sentinel_user_len));
    CHECK(same_bytes(a->sentinel_password, a->sentinel_password_len, b->sentinel_password,
                     b->sentinel_password_len));
    CHECK(a->wait_replicas == b->wait_replicas && a->wait_timeout_ms == b->wait_timeout_ms);
}

/* ---- messages ---------------------------------------------------------------- */

/* Messages go to logs: printable ASCII only, whatever the URL held. */
static void check_message(const char *msg)
{
    for (const char *p = msg; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

/*
 * Where the password of a TCP URL's user info is, found as the parser finds
 * it: after the scheme, up to the first '/', '?' or '#', the last '@' ends
 * the user info and its first ':' starts the password. 0 when there is none.
 */
static int find_password(const char *text, size_t *off, size_t *len)
{
    static const char *const schemes[] = { "redis://", "redis+sentinel://", "redis+cluster://" };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t sl = strlen(schemes[i]);
        if (strncasecmp(text, schemes[i], sl) != 0)
            continue;
        const char *s = text + sl;
        size_t auth = strcspn(s, "/?#");
        const char *at = NULL;
        for (size_t k = 0; k < auth; k++)
            if (s[k] == '@')
                at = s + k;
        if (!at)
            return 0;
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (!colon || colon + 1 == at)
            return 0;
        *off = (size_t)(colon + 1 - text);
        *len = (size_t)(at - colon - 1);
        return 1;
    }
    return 0;
}

/* ---- the target --------------------------------------------------------------- */

static int parse(csession__redis_url *u, const char *text)
{
    int rc = csession__redis_url_parse(u, text);
    CHECK(rc == 0 || rc == CSESSION_EINVAL || rc == CSESSION_ENOMEM);
    if (rc) {
        static const csession__redis_url zero;
        CHECK(memcmp(u, &zero, sizeof zero) == 0);
        check_message(csession_last_error());
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    csession__redis_url u;
    int rc = parse(&u, text);
    if (rc) {
        /* The message is the same whatever the password's bytes, unless it
         * is about the password (a bad escape, a control character). */
        char first[512];
        snprintf(first, sizeof first, "%s", csession_last_error());
        size_t off, len;
        if (!strstr(first, "password") && find_password(text, &off, &len)) {
            memset(text + off, 'q', len);
            csession__redis_url other;
            if (parse(&other, text) != 0)
                CHECK(strcmp(first, csession_last_error()) == 0);
            csession__redis_url_dispose(&other);
        }
        free(text);
        return 0;
    }
    check_fields(&u);

    csession_buf canon = CSESSION_BUF_INIT;
    format_url(&u, &canon);
    /* Percent-encoding may take the canonical form past the length limit. */
    if (canon.size <= CSESSION_STORE_REDIS_LIMIT_URL) {
        csession__redis_url again;
        if (parse(&again, canon.ptr) != 0) {
            fprintf(stderr, "canonical URL refused: %s\n", csession_last_error());
            CHECK(!"the canonical URL parses");
        }
        check_same(&u, &again);
        csession__redis_url_dispose(&again);
    }
    csession_buf_dispose(&canon);

    csession__redis_url_dispose(&u);
    static const csession__redis_url zero;
    CHECK(memcmp(&u, &zero, sizeof zero) == 0);
    free(text);
    return 0;
}
