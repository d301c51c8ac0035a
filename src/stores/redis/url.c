/*
 * Redis URL parsing:
 *   redis://[[user]:password@]host[:port][/db]
 *   unix:///path/to/socket[?db=N][&password=P][&user=U]
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
#include "error.h"

#define MAX_HOST 253 /* longest DNS name */
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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
        int hi = i + 1 < len ? hex_value(s[i + 1]) : -1;
        int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
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

/* host[:port] or [v6][:port] */
static int parse_hostport(csession__redis_url *u, const char *s, size_t len)
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
    u->port = CSESSION__REDIS_DEFAULT_PORT;
    if (rest < s + len) { /* ":port" */
        int64_t p = parse_number(rest + 1, (size_t)(s + len - rest - 1), 65535);
        if (p < 1)
            return csession__error(CSESSION_EINVAL,
                                   "Redis URL: the port must be a number from 1 to 65535");
        u->port = (int)p;
    }
    u->host = csession__strndup(host, host_len);
    return u->host ? 0 : csession__oom();
}

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
    if ((rc = parse_hostport(u, hp, (size_t)(s + auth_len - hp))))
        return rc;
    const char *p = s + auth_len;
    if (*p == '/') {
        size_t db_len = strcspn(p + 1, "?#");
        if (db_len > 0 && (rc = parse_db(p + 1, db_len, &u->db)))
            return rc;
        p += 1 + db_len;
    }
    if (*p == '?')
        return csession__error(CSESSION_EINVAL,
                               "Redis URL: redis:// URLs take no query parameters");
    if (*p == '#')
        return csession__error(CSESSION_EINVAL, "Redis URL: unexpected fragment ('#')");
    return 0;
}

/* One "name=value" of a unix:// query. */
static int parse_param(csession__redis_url *u, const char *s, size_t len, int *seen_db)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return csession__error(CSESSION_EINVAL, "Redis URL: query parameter without '='");
    size_t nlen = (size_t)(eq - s);
    const char *v = eq + 1;
    size_t vlen = len - nlen - 1;
#define NAME_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(s, lit, nlen) == 0)
    if (NAME_IS("db")) {
        if (*seen_db)
            return csession__error(CSESSION_EINVAL, "Redis URL: 'db' given twice");
        *seen_db = 1;
        return parse_db(v, vlen, &u->db);
    }
    if (NAME_IS("password") || NAME_IS("pass")) {
        if (u->password)
            return csession__error(CSESSION_EINVAL, "Redis URL: password given twice");
        if (vlen == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty password");
        return decode(v, vlen, "password", 1, &u->password, &u->password_len);
    }
    if (NAME_IS("user")) {
        if (u->user)
            return csession__error(CSESSION_EINVAL, "Redis URL: 'user' given twice");
        if (vlen == 0)
            return csession__error(CSESSION_EINVAL, "Redis URL: empty user name");
        return decode(v, vlen, "user name", 1, &u->user, &u->user_len);
    }
#undef NAME_IS
    return csession__error(CSESSION_EINVAL,
                           "Redis URL: unknown query parameter '%.*s' (known: db, password, "
                           "user)",
                           (int)(nlen > 32 ? 32 : nlen), s);
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
        int seen_db = 0;
        for (;;) {
            size_t n = strcspn(p, "&#");
            if (n == 0)
                return csession__error(CSESSION_EINVAL, "Redis URL: empty query parameter");
            if ((rc = parse_param(u, p, n, &seen_db)))
                return rc;
            p += n;
            if (*p != '&')
                break;
            p++;
        }
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
    int rc;
    if (starts_with(text, "redis://")) {
        rc = parse_tcp(out, text + 8);
    } else if (starts_with(text, "unix://")) {
        out->is_unix = 1;
        rc = parse_unix(out, text + 7);
    } else if (starts_with(text, "rediss://")) {
        rc = csession__error(CSESSION_EINVAL,
                             "Redis URL: TLS (rediss://) is not supported; use a local TLS "
                             "tunnel or a Unix socket");
    } else {
        rc = csession__error(CSESSION_EINVAL,
                             "Redis URL must start with redis:// or unix://");
    }
    if (rc)
        csession__redis_url_dispose(out);
    return rc;
}

void csession__redis_url_dispose(csession__redis_url *url)
{
    if (!url)
        return;
    if (url->password)
        sodium_memzero(url->password, url->password_len);
    if (url->user)
        sodium_memzero(url->user, url->user_len);
    csession__free(url->password);
    csession__free(url->user);
    csession__free(url->host);
    csession__free(url->path);
    memset(url, 0, sizeof *url);
}
