/* Command-line flags of the demo servers. */
#include "demo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Browsers open up to 6 connections per site; an office behind one NAT
 * address may hold a few times that. A client that opens more is refused. */
#define DEFAULT_MAX_CONNS_PER_IP 32
/* An idle connection (a slow client's among them) is closed this soon. */
#define DEFAULT_IDLE_TIMEOUT 10
#define MAX_CONNS_LIMIT 1000000
#define IDLE_TIMEOUT_LIMIT 86400

const char *demo_program = "session_server";

/* The usage, in three parts around what differs between the servers. */
static const char USAGE_HEAD[] =
    "  --host ADDR        address to listen on (default 127.0.0.1)\n"
    "  --port N           port (default 8080; 0 picks a free one and prints it)\n"
    "  --store S          memory (default), cookie, sqlite:PATH (a database file that\n"
    "                     several server processes can share), or a redis://,\n"
    "                     redis+sentinel:// or redis+cluster:// URL\n"
    "  --key-file PATH    64-byte cookie key as hex or base64 (else env CSESSION_KEY,\n"
    "                     else a random key: sessions then die with the process)\n"
    "  --insecure         no Secure attribute, for plain-http testing on localhost\n"
    "  --ttl SECONDS      session lifetime (default 86400)\n"
    "  --persistent       cookies with Max-Age instead of browser-session cookies\n"
    "  --absolute-ttl SECONDS  sessions end this long after their creation, however active\n"
    "  --touch-after SECONDS   extend the TTL on every request, at most once per SECONDS\n"
    "  --rotate-every SECONDS  renew the session key after SECONDS in use\n"
    "  --rotate-grace SECONDS  a retired key keeps working this long (default 0)\n"
    "  --signed           signed cookies (readable by the client) instead of private\n"
    "  --cipher C         xchacha20poly1305 (default) or aes256gcm, for private cookies\n";
static const char USAGE_SESSIONS[] =
    "  --max-sessions N   most sessions the memory store holds (default 100000)\n";
static const char USAGE_CONN_LIMITS[] =
    "  --max-conns N      most open connections (default 10000, or what the\n"
    "                     open-files limit allows); more are closed at once\n"
    "  --max-conns-per-ip N\n"
    "                     most open connections from one client address (default 32)\n";
static const char USAGE_TAIL[] =
    "  --idle-timeout S   close a connection idle for S seconds (default 10)\n"
    "  --redis-tls-ca FILE          CA file for a rediss:// store (default: the system's)\n"
    "  --redis-tls-cert FILE        client certificate for a rediss:// store\n"
    "  --redis-tls-key FILE         its private key\n"
    "  --redis-tls-server-name NAME name in the Redis server's certificate, if not the host\n"
    "  -h, --help         this text\n";

static unsigned usage_extras;
static const char *usage_threads = "worker threads";

static void usage(FILE *f)
{
    fprintf(f, "usage: %s [options]\n%s", demo_program, USAGE_HEAD);
    fprintf(f, "  --threads N        %s (default 4)\n", usage_threads);
    fputs(USAGE_SESSIONS, f);
    if (usage_extras & OPTIONS_CONN_LIMITS)
        fputs(USAGE_CONN_LIMITS, f);
    fputs(USAGE_TAIL, f);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", demo_program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    usage(stderr);
    return OPTIONS_BAD;
}

/* A whole decimal number in [min, max], or -1. */
static long long parse_number(const char *s, long long min, long long max)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    return v;
}

static int store_ok(const char *s)
{
    return !strcmp(s, "memory") || !strcmp(s, "cookie") || (!strncmp(s, "sqlite:", 7) && s[7]) ||
           !strncmp(s, "redis://", 8) ||
           !strncmp(s, "rediss://", 9) || !strncmp(s, "unix://", 7) ||
           !strncmp(s, "redis+sentinel://", 17) || !strncmp(s, "redis+cluster://", 16) ||
           !strncmp(s, "rediss+sentinel://", 18) || !strncmp(s, "rediss+cluster://", 17);
}

/* The --redis-tls-* flags: where each one's value goes, or NULL when
 * `flag` is not one of them. */
static const char **redis_tls_field(server_options *o, const char *flag)
{
    static const char *const flags[] = {"--redis-tls-ca", "--redis-tls-cert", "--redis-tls-key",
                                        "--redis-tls-server-name"};
    const char **fields[] = {&o->redis_tls_ca, &o->redis_tls_cert, &o->redis_tls_key,
                             &o->redis_tls_server_name};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(flag, flags[i]))
            return fields[i];
    return NULL;
}

/* After parsing: the --redis-tls-* flags need a rediss store, and a
 * certificate its key. */
static int check_redis_tls(const server_options *o)
{
    if (!o->redis_tls_ca && !o->redis_tls_cert && !o->redis_tls_key && !o->redis_tls_server_name)
        return OPTIONS_OK;
    if (strncmp(o->store, "rediss://", 9) && strncmp(o->store, "rediss+", 7))
        return bad("--redis-tls-* need a rediss://, rediss+sentinel:// or rediss+cluster:// "
                   "--store");
    if (!o->redis_tls_cert != !o->redis_tls_key)
        return bad("--redis-tls-cert and --redis-tls-key go together");
    return OPTIONS_OK;
}

/* The lifetime flags, all numbers of seconds. */
static const char *const LIFETIME_FLAGS[] = {"--absolute-ttl", "--touch-after", "--rotate-every",
                                             "--rotate-grace"};

static int lifetime_flag(const char *flag)
{
    for (size_t i = 0; i < sizeof LIFETIME_FLAGS / sizeof LIFETIME_FLAGS[0]; i++)
        if (!strcmp(flag, LIFETIME_FLAGS[i]))
            return 1;
    return 0;
}

static int64_t *lifetime_field(server_options *o, const char *flag)
{
    int64_t *fields[] = {&o->absolute_ttl, &o->touch_after, &o->rotate_every, &o->rotate_grace};
    for (size_t i = 0; i < sizeof LIFETIME_FLAGS / sizeof LIFETIME_FLAGS[0]; i++)
        if (!strcmp(flag, LIFETIME_FLAGS[i]))
            return fields[i];
    return NULL;
}

int options_parse(server_options *opts, int argc, char **argv, unsigned extras,
                  const char *threads_what)
{
    usage_extras = extras;
    usage_threads = threads_what;
    const char *cipher = NULL;
    int is_signed = 0;
    *opts = (server_options){ .host = "127.0.0.1", .port = 8080, .store = "memory",
                              .security = CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305,
                              .threads = 4, .max_conns_per_ip = DEFAULT_MAX_CONNS_PER_IP,
                              .idle_timeout = DEFAULT_IDLE_TIMEOUT };
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        /* Flags that take a value accept "--flag value" and "--flag=value". */
        const char *value = NULL;
        char name[32];
        const char *eq = strchr(flag, '=');
        if (!strncmp(flag, "--", 2) && eq && (size_t)(eq - flag) < sizeof name) {
            memcpy(name, flag, (size_t)(eq - flag));
            name[eq - flag] = '\0';
            flag = name;
            value = eq + 1;
        }
        int takes_value = !strcmp(flag, "--host") || !strcmp(flag, "--port") ||
                          !strcmp(flag, "--store") || !strcmp(flag, "--key-file") ||
                          !strcmp(flag, "--ttl") || !strcmp(flag, "--cipher") ||
                          !strcmp(flag, "--absolute-ttl") || !strcmp(flag, "--touch-after") ||
                          !strcmp(flag, "--rotate-every") || !strcmp(flag, "--rotate-grace") ||
                          !strcmp(flag, "--threads") || !strcmp(flag, "--max-sessions") ||
                          ((extras & OPTIONS_CONN_LIMITS) && (!strcmp(flag, "--max-conns") ||
                                                             !strcmp(flag, "--max-conns-per-ip"))) ||
                          !strcmp(flag, "--idle-timeout") || redis_tls_field(opts, flag);
        if (takes_value && !value) {
            if (i + 1 >= argc)
                return bad("%s needs a value", flag);
            value = argv[++i];
        } else if (!takes_value && value) {
            return bad("%s takes no value", flag);
        }

        if (!strcmp(flag, "-h") || !strcmp(flag, "--help")) {
            usage(stdout);
            return OPTIONS_HELP;
        } else if (!strcmp(flag, "--host")) {
            if (!*value)
                return bad("--host: empty address");
            opts->host = value;
        } else if (!strcmp(flag, "--port")) {
            long long v = parse_number(value, 0, 65535);
            if (v < 0)
                return bad("--port: \"%s\" is not a port number (0-65535)", value);
            opts->port = (unsigned)v;
        } else if (!strcmp(flag, "--store")) {
            if (!store_ok(value))
                return bad("--store: \"%s\" is not memory, cookie, sqlite:PATH or a redis:// URL",
                           value);
            opts->store = value;
        } else if (!strcmp(flag, "--key-file")) {
            opts->key_file = value;
        } else if (!strcmp(flag, "--insecure")) {
            opts->insecure = 1;
        } else if (!strcmp(flag, "--ttl")) {
            long long v = parse_number(value, 1, CSESSION_MAX_TTL);
            if (v < 0)
                return bad("--ttl: \"%s\" is not a number of seconds (1-34560000)", value);
            opts->ttl = v;
        } else if (lifetime_flag(flag)) {
            long long v = parse_number(value, 0, CSESSION_MAX_TTL);
            if (v < 0)
                return bad("%s: \"%s\" is not a number of seconds (0-34560000)", flag, value);
            *lifetime_field(opts, flag) = v;
        } else if (!strcmp(flag, "--persistent")) {
            opts->persistent = 1;
        } else if (!strcmp(flag, "--signed")) {
            is_signed = 1;
        } else if (!strcmp(flag, "--cipher")) {
            cipher = value;
            if (!strcmp(value, "xchacha20poly1305"))
                opts->security = CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305;
            else if (!strcmp(value, "aes256gcm"))
                opts->security = CSESSION_COOKIE_PRIVATE_AES256GCM;
            else
                return bad("--cipher: \"%s\" is not xchacha20poly1305 or aes256gcm", value);
        } else if (!strcmp(flag, "--threads")) {
            long long v = parse_number(value, 1, 256);
            if (v < 0)
                return bad("--threads: \"%s\" is not a number from 1 to 256", value);
            opts->threads = (unsigned)v;
        } else if (!strcmp(flag, "--max-sessions")) {
            long long v = parse_number(value, 1, 4294967295LL);
            if (v < 0)
                return bad("--max-sessions: \"%s\" is not a number from 1 to 4294967295",
                           value);
            opts->max_sessions = (size_t)v;
        } else if ((extras & OPTIONS_CONN_LIMITS) &&
                   (!strcmp(flag, "--max-conns") || !strcmp(flag, "--max-conns-per-ip"))) {
            long long v = parse_number(value, 1, MAX_CONNS_LIMIT);
            if (v < 0)
                return bad("%s: \"%s\" is not a number from 1 to %d", flag, value,
                           MAX_CONNS_LIMIT);
            if (!strcmp(flag, "--max-conns"))
                opts->max_conns = (unsigned)v;
            else
                opts->max_conns_per_ip = (unsigned)v;
        } else if (redis_tls_field(opts, flag)) {
            if (!*value)
                return bad("%s: empty value", flag);
            *redis_tls_field(opts, flag) = value;
        } else if (!strcmp(flag, "--idle-timeout")) {
            long long v = parse_number(value, 1, IDLE_TIMEOUT_LIMIT);
            if (v < 0)
                return bad("--idle-timeout: \"%s\" is not a number of seconds (1-%d)", value,
                           IDLE_TIMEOUT_LIMIT);
            opts->idle_timeout = (unsigned)v;
        } else {
            return bad("unknown option \"%s\"", argv[i]);
        }
    }
    if (is_signed && cipher)
        return bad("--signed and --cipher %s exclude each other", cipher);
    if (opts->max_sessions && strcmp(opts->store, "memory"))
        return bad("--max-sessions applies to the memory store only");
    if (opts->max_conns && opts->max_conns < opts->threads)
        return bad("--max-conns %u is below --threads %u: every thread needs a connection",
                   opts->max_conns, opts->threads);
    if (is_signed)
        opts->security = CSESSION_COOKIE_SIGNED;
    return check_redis_tls(opts);
}
