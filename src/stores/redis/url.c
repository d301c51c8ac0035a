/*
 * Redis URL parsing:
 *   redis://[[user]:password@]host[:port][/db]
 *   unix:///path/to/socket[?db=N][&password=P][&user=U]
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db][?query]
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]...][/][?query]
 *   rediss://, rediss+sentinel://, rediss+cluster://: the same over TLS, with
 *   the tls_* query parameters (rediss:// takes those and no others)
 *
 * Messages say what is wrong and where, but never repeat the user info: a
 * URL often ends up in a log, and its password must not follow it there.
 */
#include "url.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <sodium.h>

#include "alloc.h"
#include "csession/store_redis.h"
#include "digits.h"
#include "error.h"
#include "tls.h"

#define MAX_HOST CSESSION__REDIS_MAX_HOST
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/*
 * Percent-decodes `len` bytes of `s` into a new NUL-terminated string.
 * `what` names the part for messages. NUL bytes are refused where the result
 * is used as a C string (`allow_nul` 0).
 */
static int decode(const char *s, size_t len, const char *what, int allow_nul, char **out,
                  size_t *out_len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: the %s contains a space or control character "
                                   "(percent-encode it)",
                                   what);
    }
    char *d = csession__malloc(len + 1);
    if (!d)
        return csession__oom();
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            d[n++] = s[i];
            continue;
        }
        int hi = i + 1 < len ? csession__hex_digit((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < len ? csession__hex_digit((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            sodium_memzero(d, len + 1);
            csession__free(d);
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: bad percent-escape in the %s (want %%XX with two "
                                   "hex digits)",
                                   what);
        }
        char c = (char)(hi * 16 + lo);
        if (c == '\0' && !allow_nul) {
            sodium_memzero(d, len + 1);
            csession__free(d);
            return csession__error(CSESSION_EINVAL, "Redis URL: the %s contains %%00", what);
        }
        d[n++] = c;
        i += 2;
    }
    d[n] = '\0';
    *out = d;
    if (out_len)
        *out_len = n;
    return 0;
}

/* How many of the first `len` (at most `max`) bytes of `s` a message may
 * quote: up to the first byte that is not printable ASCII, so that no URL
 * puts a control character (a line break, an escape sequence) into a log. */
static int quotable(const char *s, size_t len, size_t max)
{
    size_t n = 0;
    while (n < len && n < max && (unsigned char)s[n] > 0x20 && (unsigned char)s[n] < 0x7f)
        n++;
    return (int)n;
}

/* Parses 1 to 10 decimal digits into 0..max; -1 when `s`/`len` is not such
 * a number (no sign, no spaces). */
static int64_t parse_number(const char *s, size_t len, int64_t max)
{
    if (len == 0 || len > 10)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

static int parse_db(const char *s, size_t len, int *db)
{
    int64_t v = parse_number(s, len, INT_MAX);
    if (v < 0)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: the database must be a number from 0 to %d",
                               INT_MAX);
    *db = (int)v;
    return 0;
}

/* user:password, both percent-encoded; the user may be empty. */
static int parse_userinfo(csession__redis_url *u, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: user name without a password (write "
                               "user:password@ or :password@)");
    size_t ulen = (size_t)(colon - s);
    size_t plen = len - ulen - 1;
    if (plen == 0)
        return csession__error(CSESSION_EINVAL, "Redis URL: empty password");
    int rc = decode(colon + 1, plen, "password", 1, &u->password, &u->password_len);
    if (rc == 0 && ulen > 0)
        rc = decode(s, ulen, "user name", 1, &u->user, &u->user_len);
    return rc;
}

static int host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* host[:port] or [v6][:port] into a new *host_out and *port_out. */
static int parse_hostport(const char *s, size_t len, int default_port, char **host_out,
                          int *port_out)
{
    const char *host = s;
    size_t host_len;
    const char *rest;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return csession__error(CSESSION_EINVAL, "Redis URL: '[' without ']' around the "
                                                    "IPv6 address");
        host = s + 1;
        host_len = (size_t)(close - host);
        char tmp[INET6_ADDRSTRLEN + 1];
        unsigned char bin[16];
        if (host_len == 0 || host_len >= sizeof tmp)
            return csession__error(CSESSION_EINVAL, "Redis URL: invalid IPv6 address");
        memcpy(tmp, host, host_len);
        tmp[host_len] = '\0';
        if (inet_pton(AF_INET6, tmp, bin) != 1)
            return csession__error(CSESSION_EINVAL, "Redis URL: invalid IPv6 address");
        rest = close + 1;
        if (rest < s + len && *rest != ':')
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: unexpected character after the IPv6 address");
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon && memchr(colon + 1, ':', (size_t)(s + len - colon - 1)))
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: invalid character in the host name "
                                   "(IPv6 addresses go in brackets)");
        host_len = colon ? (size_t)(colon - s) : len;
        rest = s + host_len;
        if (host_len == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: no host");
        if (host_len > MAX_HOST)
            return csession__error(CSESSION_EINVAL, "Redis URL: host name longer than %d bytes",
                                   MAX_HOST);
        for (size_t i = 0; i < host_len; i++) {
            if (!host_char(host[i]))
                return csession__error(CSESSION_EINVAL,
                                       "Redis URL: invalid character in the host name "
                                       "(IPv6 addresses go in brackets)");
        }
    }
    *port_out = default_port;
    if (rest < s + len) { /* ":port" */
        int64_t p = parse_number(rest + 1, (size_t)(s + len - rest - 1), 65535);
        if (p < 1)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: the port must be a number from 1 to 65535");
        *port_out = (int)p;
    }
    *host_out = csession__strndup(host, host_len);
    return *host_out ? 0 : csession__oom();
}

/* The host list of redis+sentinel:// and redis+cluster:// URLs. */
static int parse_nodes(csession__redis_url *u, const char *s, size_t len, int default_port)
{
    const char *end = s + len;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t n = comma ? (size_t)(comma - s) : (size_t)(end - s);
        if (n == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty host in the host list");
        if (u->n_nodes == CSESSION__REDIS_MAX_NODES)
            return csession__error(CSESSION_EINVAL, "Redis URL: more than %d hosts",
                                   CSESSION__REDIS_MAX_NODES);
        csession__redis_node *node = &u->nodes[u->n_nodes];
        int rc = parse_hostport(s, n, default_port, &node->host, &node->port);
        if (rc)
            return rc;
        u->n_nodes++;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

/* "/master-name[/db]" of a redis+sentinel:// URL; `p` is at the '/' (or
 * at whatever follows the hosts). Returns where the path ends. */
static int parse_sentinel_path(csession__redis_url *u, const char **pp)
{
    const char *p = *pp;
    size_t name_len = *p == '/' ? strcspn(p + 1, "/?#") : 0;
    if (name_len == 0)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: no master name (write "
                               "redis+sentinel://host:26379/mymaster)");
    int rc = decode(p + 1, name_len, "master name", 0, &u->master_name, &u->master_name_len);
    if (rc)
        return rc;
    if (u->master_name_len > CSESSION__REDIS_MAX_MASTER_NAME)
        return csession__error(CSESSION_EINVAL, "Redis URL: master name longer than %d bytes",
                               CSESSION__REDIS_MAX_MASTER_NAME);
    for (size_t i = 0; i < u->master_name_len; i++) {
        unsigned char c = (unsigned char)u->master_name[i];
        if (c < 0x20 || c == 0x7f)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: the master name contains a control character");
    }
    p += 1 + name_len;
    if (*p == '/') {
        size_t db_len = strcspn(p + 1, "?#");
        if (db_len > 0 && (rc = parse_db(p + 1, db_len, &u->db)))
            return rc;
        p += 1 + db_len;
    }
    *pp = p;
    return 0;
}

enum { SEEN_DB = 1, SEEN_WAIT = 2, SEEN_WAIT_TIMEOUT = 4, SEEN_TLS_VERSION = 8, SEEN_TLS_VERIFY = 16 };

/* Query parameters, by kind of URL. */
static int parse_param(csession__redis_url *u, const char *s, size_t len, unsigned *seen)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return csession__error(CSESSION_EINVAL, "Redis URL: query parameter without '='");
    size_t nlen = (size_t)(eq - s);
    const char *v = eq + 1;
    size_t vlen = len - nlen - 1;
    int is_unix = u->is_unix, sentinel = u->kind == CSESSION__REDIS_SENTINEL;
    int tls = u->tls.on, single = u->kind == CSESSION__REDIS_SINGLE && !is_unix;
#define NAME_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(s, lit, nlen) == 0)
#define ONCE(bit, name)                                                                     \
    do {                                                                                    \
        if (*seen & (bit))                                                                  \
            return csession__error(CSESSION_EINVAL, "Redis URL: '%s' given twice", name); \
        *seen |= (bit);                                                                     \
    } while (0)
    if (is_unix && NAME_IS("db")) {
        ONCE(SEEN_DB, "db");
        return parse_db(v, vlen, &u->db);
    }
    char **str = NULL;
    size_t *str_len = NULL;
    const char *what = NULL, *twice = NULL;
    if (is_unix && (NAME_IS("password") || NAME_IS("pass"))) {
        str = &u->password, str_len = &u->password_len;
        what = "password", twice = "password given twice";
    } else if (is_unix && NAME_IS("user")) {
        str = &u->user, str_len = &u->user_len;
        what = "user name", twice = "'user' given twice";
    } else if (sentinel && NAME_IS("sentinel_password")) {
        str = &u->sentinel_password, str_len = &u->sentinel_password_len;
        what = "sentinel password", twice = "'sentinel_password' given twice";
    } else if (sentinel && NAME_IS("sentinel_user")) {
        str = &u->sentinel_user, str_len = &u->sentinel_user_len;
        what = "sentinel user name", twice = "'sentinel_user' given twice";
    }
    if (str) {
        if (*str)
            return csession__error(CSESSION_EINVAL, "Redis URL: %s", twice);
        if (vlen == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty %s", what);
        return decode(v, vlen, what, 1, str, str_len);
    }
    /* File names and the server name: C strings, never quoted in messages
     * (a path can say more about a deployment than it should). */
    const struct {
        const char *name;
        char **field;
    } tls_strings[] = {
        {"tls_ca_file", &u->tls.ca_file},     {"tls_ca_dir", &u->tls.ca_dir},
        {"tls_cert_file", &u->tls.cert_file}, {"tls_key_file", &u->tls.key_file},
        {"tls_server_name", &u->tls.server_name},
    };
    for (size_t i = 0; tls && i < sizeof tls_strings / sizeof tls_strings[0]; i++) {
        const char *name = tls_strings[i].name;
        if (nlen != strlen(name) || memcmp(s, name, nlen) != 0)
            continue;
        char **field = tls_strings[i].field;
        if (*field)
            return csession__error(CSESSION_EINVAL, "Redis URL: '%s' given twice", name);
        if (vlen == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty %s", name);
        return decode(v, vlen, name, 0, field, NULL);
    }
    if (tls && NAME_IS("tls_min_version")) {
        ONCE(SEEN_TLS_VERSION, "tls_min_version");
        csession__redis_tls_version version;
        if (csession__redis_tls_parse_version(v, vlen, &version) != 0)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: tls_min_version must be 1.2 or 1.3");
        u->tls.min_version = (int)version;
        return 0;
    }
    if (tls && NAME_IS("tls_verify")) {
        ONCE(SEEN_TLS_VERIFY, "tls_verify");
        if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
            return csession__error(CSESSION_EINVAL, "Redis URL: tls_verify must be 0 or 1");
        u->tls.verify = v[0] == '1';
        return 0;
    }
    if (!is_unix && !single && NAME_IS("wait_replicas")) {
        ONCE(SEEN_WAIT, "wait_replicas");
        int64_t n = parse_number(v, vlen, CSESSION__REDIS_MAX_WAIT_REPLICAS);
        if (n < 0)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: wait_replicas must be a number from 0 to %d",
                                   CSESSION__REDIS_MAX_WAIT_REPLICAS);
        u->wait_replicas = (unsigned int)n;
        return 0;
    }
    if (!is_unix && !single && NAME_IS("wait_timeout_ms")) {
        ONCE(SEEN_WAIT_TIMEOUT, "wait_timeout_ms");
        int64_t n = parse_number(v, vlen, CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS);
        if (n < 1)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: wait_timeout_ms must be a number from 1 to %d",
                                   CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS);
        u->wait_timeout_ms = (unsigned int)n;
        return 0;
    }
#undef ONCE
#undef NAME_IS
    return csession__error(CSESSION_EINVAL,
                           "Redis URL: unknown query parameter '%.*s' (known: %s%s%s)",
                           quotable(s, nlen, 32), s,
                           is_unix    ? "db, password, user"
                           : sentinel ? "sentinel_password, sentinel_user, wait_replicas, "
                                        "wait_timeout_ms"
                           : single   ? ""
                                      : "wait_replicas, wait_timeout_ms",
                           tls && !single ? ", " : "",
                           tls ? "tls_ca_file, tls_ca_dir, tls_cert_file, tls_key_file, "
                                 "tls_server_name, tls_min_version, tls_verify"
                               : "");
}

/* "?name=value&..." up to a '#' or the end; `p` is after the '?'. */
static int parse_query(csession__redis_url *u, const char **pp)
{
    const char *p = *pp;
    unsigned seen = 0;
    for (;;) {
        size_t n = strcspn(p, "&#");
        if (n == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty query parameter");
        int rc = parse_param(u, p, n, &seen);
        if (rc)
            return rc;
        p += n;
        if (*p != '&')
            break;
        p++;
    }
    if (u->wait_timeout_ms && !u->wait_replicas)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: wait_timeout_ms without wait_replicas");
    *pp = p;
    return 0;
}

/* redis://, redis+sentinel:// and redis+cluster:// (and their rediss
 * forms), after the scheme. */
static int parse_tcp(csession__redis_url *u, const char *s)
{
    size_t auth_len = strcspn(s, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++) { /* the last '@' ends the user info */
        if (s[i] == '@')
            at = s + i;
    }
    int rc;
    if (at && (rc = parse_userinfo(u, s, (size_t)(at - s))))
        return rc;
    const char *hp = at ? at + 1 : s;
    size_t hp_len = (size_t)(s + auth_len - hp);
    if (u->kind == CSESSION__REDIS_SINGLE) {
        if (memchr(hp, ',', hp_len))
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: several hosts need redis+sentinel:// or "
                                   "redis+cluster://");
        rc = parse_hostport(hp, hp_len, CSESSION__REDIS_DEFAULT_PORT, &u->host, &u->port);
    } else {
        rc = parse_nodes(u, hp, hp_len,
                         u->kind == CSESSION__REDIS_SENTINEL
                             ? CSESSION__REDIS_DEFAULT_SENTINEL_PORT
                             : CSESSION__REDIS_DEFAULT_PORT);
    }
    if (rc)
        return rc;
    const char *p = s + auth_len;
    if (u->kind == CSESSION__REDIS_SENTINEL) {
        if ((rc = parse_sentinel_path(u, &p)))
            return rc;
    } else if (*p == '/') {
        size_t db_len = strcspn(p + 1, "?#");
        if (db_len > 0 && u->kind == CSESSION__REDIS_CLUSTER)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: Redis Cluster has only database 0; remove the "
                                   "'/%.*s' (SELECT is refused in cluster mode)",
                                   quotable(p + 1, db_len, 16), p + 1);
        if (db_len > 0 && (rc = parse_db(p + 1, db_len, &u->db)))
            return rc;
        p += 1 + db_len;
    }
    if (*p == '?') {
        if (u->kind == CSESSION__REDIS_SINGLE && !u->tls.on)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: redis:// URLs take no query parameters");
        p++;
        if ((rc = parse_query(u, &p)))
            return rc;
    }
    if (*p == '#')
        return csession__error(CSESSION_EINVAL, "Redis URL: unexpected fragment ('#')");
    if (u->sentinel_user && !u->sentinel_password)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: sentinel_user without sentinel_password");
    return 0;
}

static int parse_unix(csession__redis_url *u, const char *s)
{
    if (*s != '/')
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: unix:// URLs have no host; write "
                               "unix:///path/to/socket");
    size_t path_len = strcspn(s, "?#");
    int rc = decode(s, path_len, "socket path", 0, &u->path, NULL);
    if (rc)
        return rc;
    size_t decoded = strlen(u->path);
    if (decoded < 2)
        return csession__error(CSESSION_EINVAL, "Redis URL: no socket path");
    if (decoded > SUN_PATH_MAX)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: socket path longer than %zu bytes", SUN_PATH_MAX);
    const char *p = s + path_len;
    if (*p == '?') {
        p++;
        if ((rc = parse_query(u, &p)))
            return rc;
    }
    if (*p == '#')
        return csession__error(CSESSION_EINVAL, "Redis URL: unexpected fragment ('#')");
    if (u->user && !u->password)
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: user name without a password");
    return 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int csession__redis_url_parse(csession__redis_url *out, const char *text)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    memset(out, 0, sizeof *out);
    if (!text)
        return csession__error(CSESSION_EINVAL, "Redis URL is NULL");
    if (strnlen(text, CSESSION_STORE_REDIS_LIMIT_URL + 1) > CSESSION_STORE_REDIS_LIMIT_URL)
        return csession__error(CSESSION_EINVAL, "Redis URL longer than %d bytes",
                               CSESSION_STORE_REDIS_LIMIT_URL);
    static const struct {
        const char *scheme;
        csession__redis_kind kind;
        int tls;
    } tcp[] = {
        {"redis://", CSESSION__REDIS_SINGLE, 0},
        {"redis+sentinel://", CSESSION__REDIS_SENTINEL, 0},
        {"redis+cluster://", CSESSION__REDIS_CLUSTER, 0},
        {"rediss://", CSESSION__REDIS_SINGLE, 1},
        {"rediss+sentinel://", CSESSION__REDIS_SENTINEL, 1},
        {"rediss+cluster://", CSESSION__REDIS_CLUSTER, 1},
    };
    int rc = 1;
    for (size_t i = 0; i < sizeof tcp / sizeof tcp[0] && rc == 1; i++) {
        if (starts_with(text, tcp[i].scheme)) {
            out->kind = tcp[i].kind;
            out->tls.on = tcp[i].tls;
            out->tls.verify = 1;
            rc = parse_tcp(out, text + strlen(tcp[i].scheme));
        }
    }
    if (rc != 1) {
        /* parsed */
    } else if (starts_with(text, "unix://")) {
        out->is_unix = 1;
        rc = parse_unix(out, text + 7);
    } else {
        rc = csession__error(CSESSION_EINVAL,
                             "Redis URL must start with redis://, rediss://, unix://, "
                             "redis+sentinel://, rediss+sentinel://, redis+cluster:// or "
                             "rediss+cluster://");
    }
    if (rc)
        csession__redis_url_dispose(out);
    return rc;
}

static void free_secret(char *s, size_t len)
{
    if (s)
        sodium_memzero(s, len);
    csession__free(s);
}

void csession__redis_url_dispose(csession__redis_url *url)
{
    if (!url)
        return;
    free_secret(url->password, url->password_len);
    free_secret(url->user, url->user_len);
    free_secret(url->sentinel_password, url->sentinel_password_len);
    free_secret(url->sentinel_user, url->sentinel_user_len);
    csession__free(url->host);
    csession__free(url->path);
    csession__free(url->master_name);
    csession__free(url->tls.ca_file);
    csession__free(url->tls.ca_dir);
    csession__free(url->tls.cert_file);
    csession__free(url->tls.key_file);
    csession__free(url->tls.server_name);
    for (size_t i = 0; i < url->n_nodes; i++)
        csession__free(url->nodes[i].host);
    memset(url, 0, sizeof *url);
}
