/*
 * session_server: the csession demo - a small JSON web server on
 * libmicrohttpd whose sessions (a counter and a login) live in csession.
 *
 *   session_server --insecure            then try the curl lines it prints
 *
 * One csession_manager serves every worker thread; each request loads its
 * session from the Cookie header and commits it into a Set-Cookie header.
 * See `session_server --help` for the flags.
 */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#ifdef CSESSION_HAVE_REDIS_STORE
#include <csession/store_redis.h>
#endif

/* Keys are secrets: overwrite copies before the memory goes back. The
 * volatile pointer keeps the compiler from dropping the stores. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static void fail(const char *what)
{
    fprintf(stderr, "session_server: %s: %s\n", what, csession_last_error());
}

/* The cookie key: --key-file, else $CSESSION_KEY, else a random one. */
static int add_key(csession_config *cfg, const server_options *o)
{
    char line[1024];
    size_t len;
    int rc;
    if (o->key_file) {
        FILE *f = fopen(o->key_file, "rb");
        if (!f) {
            fprintf(stderr, "session_server: %s: %s\n", o->key_file, strerror(errno));
            return CSESSION_EINVAL;
        }
        len = fread(line, 1, sizeof line, f);
        int too_long = len == sizeof line && fgetc(f) != EOF;
        int failed = ferror(f);
        fclose(f);
        if (failed || too_long) {
            wipe(line, sizeof line);
            fprintf(stderr, "session_server: %s: %s\n", o->key_file,
                    failed ? "read error" : "too long for a key");
            return CSESSION_EINVAL;
        }
        rc = csession_config_add_key_text(cfg, line, len);
        wipe(line, sizeof line);
        if (rc)
            fprintf(stderr, "session_server: key file %s: %s\n", o->key_file,
                    csession_last_error());
        return rc;
    }
    const char *env = getenv("CSESSION_KEY");
    if (env && *env) {
        if ((rc = csession_config_add_key_text(cfg, env, strlen(env))))
            fail("CSESSION_KEY");
        return rc;
    }
    unsigned char key[CSESSION_KEY_BYTES];
    rc = csession_key_generate(key, sizeof key);
    if (!rc)
        rc = csession_config_add_key(cfg, key, sizeof key);
    wipe(key, sizeof key);
    if (rc)
        fail("generating a key");
    else
        fprintf(stderr, "session_server: warning: no --key-file and no CSESSION_KEY: using a "
                        "random key, so sessions will not survive a restart\n");
    return rc;
}

static int make_store(const server_options *o, csession_store **out)
{
    *out = NULL;
    if (!strcmp(o->store, "memory")) {
        csession_store_memory_options mo = CSESSION_STORE_MEMORY_OPTIONS_INIT;
        mo.max_sessions = o->max_sessions; /* 0 keeps the default */
        return csession_store_memory_new(out, &mo);
    }
    if (!strcmp(o->store, "cookie"))
        return csession_store_cookie_new(out);
    if (!strncmp(o->store, "sqlite:", 7))
        return csession_store_sqlite_new(out, o->store + 7, NULL);
#ifdef CSESSION_HAVE_REDIS_STORE
    csession_store_redis_options ro = CSESSION_STORE_REDIS_OPTIONS_INIT;
    ro.tls_ca_file = o->redis_tls_ca;
    ro.tls_cert_file = o->redis_tls_cert;
    ro.tls_key_file = o->redis_tls_key;
    ro.tls_server_name = o->redis_tls_server_name;
    return csession_store_redis_new(out, o->store, &ro);
#else
    return csession_set_error(CSESSION_EUNSUPPORTED, "this build has no Redis store");
#endif
}

static int make_manager(const server_options *o, csession_manager **out)
{
    csession_config *cfg = NULL;
    csession_store *store = NULL;
    int rc = csession_config_new(&cfg);
    if (rc) {
        fail("configuration");
        return rc;
    }
    if ((rc = add_key(cfg, o)))
        goto done;
    if ((o->insecure && (rc = csession_config_set_secure(cfg, 0))) ||
        (rc = csession_config_set_security(cfg, o->security)) ||
        (o->persistent &&
         (rc = csession_config_set_persistent(cfg, o->ttl ? o->ttl : CSESSION_DEFAULT_TTL))) ||
        (!o->persistent && o->ttl && (rc = csession_config_set_browser_session(cfg, o->ttl))) ||
        (rc = csession_config_set_absolute_timeout(cfg, o->absolute_ttl)) ||
        (o->touch_after &&
         ((rc = csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST)) ||
          (rc = csession_config_set_touch_after(cfg, o->touch_after)))) ||
        (rc = csession_config_set_rotation(cfg, o->rotate_every, o->rotate_grace))) {
        fail("configuration");
        goto done;
    }
    if ((rc = make_store(o, &store))) {
        fail("store");
        goto done;
    }
    /* On success the manager owns the store; on failure we still do. */
    if ((rc = csession_manager_new(out, cfg, store))) {
        fail("session manager");
        csession_store_free(store);
    }
done:
    csession_config_free(cfg); /* the manager keeps its own copy */
    return rc;
}

/* Lines of libmicrohttpd's messages written per second, at most. */
#define LIBRARY_LOG_LINES_PER_SECOND 20

/*
 * libmicrohttpd's messages, rate-limited: it writes a line for every
 * connection it refuses, so a flood of connections over a limit would
 * become a flood of log lines. What is dropped is counted, and the count
 * written with the next line that passes (or at shutdown).
 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t log_second;
static unsigned log_lines;
static unsigned long log_dropped;

/* Under log_lock. */
static void log_flush_dropped(void)
{
    if (log_dropped)
        fprintf(stderr, "session_server: libmicrohttpd: %lu messages dropped\n", log_dropped);
    log_dropped = 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&log_lock);
    if (now.tv_sec != log_second) {
        log_second = now.tv_sec;
        log_lines = 0;
    }
    if (log_lines == LIBRARY_LOG_LINES_PER_SECOND) {
        log_dropped++;
    } else {
        log_lines++;
        log_flush_dropped();
        fputs("session_server: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
    }
    pthread_mutex_unlock(&log_lock);
}

/* Connections held at most when --max-conns is not given. */
#define DEFAULT_MAX_CONNS 10000
/* Descriptors kept for what is not a client connection: the listening
 * socket, each thread's epoll and wake-up descriptors, store connections,
 * the log. */
#define RESERVED_FDS 128

/*
 * Raises the soft limit on open files to the hard one: the soft limit is
 * often 1024, which a few hundred slow clients would use up; the hard
 * limit is what the administrator allows. Returns the limit in force.
 */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = { rl.rlim_max, rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
        else
            fprintf(stderr, "session_server: warning: cannot raise the open-files limit from "
                            "%llu to %llu: %s\n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                    strerror(errno));
    }
    return rl.rlim_cur;
}

/*
 * The connection limit: --max-conns, or DEFAULT_MAX_CONNS, within what the
 * open-files limit leaves, and within FD_SETSIZE when only select() is there.
 */
static unsigned conn_limit(const server_options *o, rlim_t nofile, int select_only)
{
    unsigned want = o->max_conns ? o->max_conns : DEFAULT_MAX_CONNS;
    unsigned long long room = nofile > RESERVED_FDS ? (unsigned long long)nofile - RESERVED_FDS
                                                    : 1;
    if (select_only && room > FD_SETSIZE - RESERVED_FDS / 2)
        room = FD_SETSIZE - RESERVED_FDS / 2;
    unsigned limit = want <= room ? want : (unsigned)room;
    if (limit < o->threads)
        limit = o->threads;
    if (o->max_conns && limit < o->max_conns)
        fprintf(stderr, "session_server: warning: --max-conns %u lowered to %u: %s\n",
                o->max_conns, limit,
                select_only ? "this libmicrohttpd has only select()"
                            : "the open-files limit leaves no more");
    return limit;
}

static struct MHD_Daemon *start_daemon(const server_options *o, app *a)
{
    struct addrinfo hints = { 0 }, *addr = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", o->port);
    int err = getaddrinfo(o->host, port, &hints, &addr);
    if (err) {
        fprintf(stderr, "session_server: --host %s: %s\n", o->host, gai_strerror(err));
        return NULL;
    }
    /* A pool of threads, each polling its share of the connections; they
     * all use the one manager. epoll (or poll) rather than select(), which
     * cannot watch a descriptor numbered FD_SETSIZE (1024) or above. */
    unsigned int flags = MHD_USE_ERROR_LOG;
    int select_only = 0;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) {
        flags |= MHD_USE_EPOLL_INTERNAL_THREAD;
    } else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) {
        flags |= MHD_USE_POLL_INTERNAL_THREAD;
    } else {
        flags |= MHD_USE_INTERNAL_POLLING_THREAD; /* select() */
        select_only = 1;
    }
    if (addr->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    rlim_t nofile = raise_nofile();
    unsigned limit = conn_limit(o, nofile, select_only);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, http_on_request, a,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, /* first: it applies to what follows */
        MHD_OPTION_SOCK_ADDR, addr->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads,
        MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, (void *)a,
        /* Slow clients: each address gets a few connections, all of them
         * together no more than the descriptors allow, and an idle one
         * is closed soon. Connections over a limit are closed at once. */
        MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->max_conns_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->idle_timeout,
        MHD_OPTION_END);
    if (d)
        fprintf(stderr, "session_server: up to %u connections (%u per client address), idle "
                        "ones closed after %u s; open-files limit %llu, %s\n",
                limit, o->max_conns_per_ip, o->idle_timeout, (unsigned long long)nofile,
                flags & MHD_USE_EPOLL ? "epoll" : select_only ? "select" : "poll");
    freeaddrinfo(addr);
    if (!d)
        fprintf(stderr, "session_server: cannot listen on %s port %u\n", o->host, o->port);
    return d;
}

static void print_banner(const server_options *o, unsigned port)
{
    char base[300];
    int v6 = strchr(o->host, ':') != NULL;
    snprintf(base, sizeof base, "http://%s%s%s:%u", v6 ? "[" : "", o->host, v6 ? "]" : "", port);
    /* A Redis URL may carry a password: name the kind only. */
    const char *store = strncmp(o->store, "redis", 5) && strncmp(o->store, "unix", 4) ? o->store
                                                                                      : "redis";
    printf("session_server: listening on %s/ (store: %s, cookies: %s%s)\n", base, store,
           csession_cookie_security_name(o->security),
           o->insecure ? ", insecure: no Secure attribute" : "");
    if (!o->insecure)
        printf("note: cookies are Secure, so clients send them back over https only;\n"
               "      run with --insecure to try it over plain http on localhost.\n");
    printf("Try it (jar.txt keeps the session cookie between the commands):\n"
           "  curl -b jar.txt -c jar.txt %s/\n"
           "  curl -b jar.txt -c jar.txt -X POST %s/do_something\n"
           "  curl -b jar.txt -c jar.txt %s/protected/count\n"
           "  curl -b jar.txt -c jar.txt -H 'Content-Type: application/json' "
           "-d '{\"user_id\": \"alice\"}' %s/login\n"
           "  curl -b jar.txt -c jar.txt %s/protected/count\n"
           "  curl -b jar.txt -c jar.txt -X POST %s/logout\n"
           "Stop it with Ctrl-C.\n",
           base, base, base, base, base, base);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    server_options opts;
    int rc = options_parse(&opts, argc, argv);
    if (rc == OPTIONS_HELP)
        return 0;
    if (rc)
        return 2;

    /* Block the stop signals before any thread starts, so that every thread
     * inherits the mask and only sigwait() below sees them: shutting down
     * then runs as ordinary code, not in a signal handler. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up is not fatal */

    app a = { .opts = &opts };
    if (make_manager(&opts, &a.mgr))
        return 1;
    struct MHD_Daemon *d = start_daemon(&opts, &a);
    if (!d) {
        csession_manager_free(a.mgr);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    print_banner(&opts, info ? info->port : opts.port);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "session_server: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    MHD_stop_daemon(d); /* waits for the requests in flight */
    pthread_mutex_lock(&log_lock);
    log_flush_dropped();
    pthread_mutex_unlock(&log_lock);
    csession_manager_free(a.mgr);
    return 0;
}
