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
    struct addrinfo *addr = NULL;
    if (demo_resolve(o, &addr))
        return NULL;
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

int main(int argc, char **argv)
{
    server_options opts;
    sigset_t stop; /* only sigwait() below sees these signals */
    int rc = demo_start(&opts, argc, argv, "session_server", OPTIONS_CONN_LIMITS,
                        "worker threads", &stop);
    if (rc >= 0)
        return rc;

    app a = { .opts = &opts };
    if (demo_manager_new(&opts, &a.mgr))
        return 1;
    struct MHD_Daemon *d = start_daemon(&opts, &a);
    if (!d) {
        csession_manager_free(a.mgr);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    demo_print_banner(&opts, info ? info->port : opts.port);

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
