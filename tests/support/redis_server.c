/* Redis servers for tests: see redis_server.h. */
#include "redis_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <poll.h>

#include "stores/redis/tls.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A port the kernel considers free right now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int parse_port(const char *url)
{
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : 0;
}

redisContext *redis_test_connect(const char *url)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", parse_port(url), tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/* Any reply to PING (even NOAUTH) means the server is up. */
static int answers(int port)
{
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisSetTimeout(c, tv);
        redisReply *r = redisCommand(c, "PING");
        ok = r != NULL;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

redisContext *redis_test_connect_port(int port, const char *password)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (password) {
        redisReply *r = redisCommand(c, "AUTH %s", password);
        int ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* ---- TLS for the test's own commands ------------------------------------------------- */

/* Set by redis_test_use_tls(): every redis_test_command() goes over it. */
static csession__redis_tls *test_tls;
static char test_tls_ca[512];

const char *redis_test_tls_ca(void)
{
    return test_tls ? test_tls_ca : NULL;
}

int redis_test_use_tls(const char *ca_file)
{
    csession__redis_tls_free(test_tls);
    test_tls = NULL;
    if (!ca_file)
        return 0;
    snprintf(test_tls_ca, sizeof test_tls_ca, "%s", ca_file);
    csession__redis_tls_settings st;
    csession__redis_tls_settings_init(&st);
    st.ca_file = ca_file;
    char err[256] = "";
    if (csession__redis_tls_new(&test_tls, &st, err, sizeof err) != 0) {
        fprintf(stderr, "TLS for test commands: %s\n", err);
        return -1;
    }
    return 0;
}

/* Every wait of one TLS command ends by then. */
#define TLS_COMMAND_MS 2000

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until `fd` is ready for what `want` (CSESSION__IO_WANT_*) asks:
 * 0, or -1 once `deadline` has passed. */
static int tls_wait(int fd, long long want, long long deadline)
{
    struct pollfd p = {fd, want == CSESSION__IO_WANT_WRITE ? POLLOUT : POLLIN, 0};
    long long left = deadline - mono_ms();
    return left > 0 && poll(&p, 1, (int)left) > 0 ? 0 : -1;
}

/* A non-blocking socket connected to 127.0.0.1:port, or -1. */
static int tls_connect(int port, long long deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 &&
        (errno != EINPROGRESS || tls_wait(fd, CSESSION__IO_WANT_WRITE, deadline) != 0 ||
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends cmd[0 .. len) and reads one reply through `t`; NULL on failure. */
static redisReply *tls_round_trip(csession__redis_transport *t, const char *cmd, size_t len,
                                  long long deadline)
{
    char err[256];
    size_t sent = 0;
    while (sent < len) {
        struct iovec iov = {(char *)cmd + sent, len - sent};
        ssize_t n = t->ops->writev(t, &iov, 1, err, sizeof err);
        if (n == CSESSION__IO_FAILED || (n < 0 && tls_wait(t->fd, n, deadline) != 0))
            return NULL;
        if (n > 0)
            sent += (size_t)n;
    }
    redisReader *reader = redisReaderCreate();
    void *reply = NULL;
    while (reader && !reply) {
        char buf[4096];
        ssize_t n = t->ops->read(t, buf, sizeof buf, err, sizeof err);
        if (n == 0 || n == CSESSION__IO_FAILED || (n < 0 && tls_wait(t->fd, n, deadline) != 0))
            break;
        if (n > 0 && (redisReaderFeed(reader, buf, (size_t)n) != REDIS_OK ||
                      redisReaderGetReply(reader, &reply) != REDIS_OK))
            break;
    }
    if (reader)
        redisReaderFree(reader);
    return reply;
}

/* redis_test_command() over TLS. */
static redisReply *tls_command(int port, const char *password, const char *fmt, va_list ap)
{
    long long deadline = mono_ms() + TLS_COMMAND_MS;
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    int fd = len > 0 ? tls_connect(port, deadline) : -1;
    char err[256];
    csession__redis_transport *t =
        fd >= 0 ? csession__redis_tls_transport(test_tls, fd, "127.0.0.1", err, sizeof err) : NULL;
    redisReply *r = NULL;
    int ready = 0;
    while (t && !ready) {
        int rc = t->ops->handshake(t, err, sizeof err);
        ready = rc == 0;
        if (rc == CSESSION__IO_FAILED || (rc < 0 && tls_wait(fd, rc, deadline) != 0))
            break;
    }
    if (ready && password) {
        char *auth = NULL;
        int n = redisFormatCommand(&auth, "AUTH %s", password);
        redisReply *a = n > 0 ? tls_round_trip(t, auth, (size_t)n, deadline) : NULL;
        ready = a && a->type == REDIS_REPLY_STATUS;
        if (a)
            freeReplyObject(a);
        redisFreeCommand(auth);
    }
    if (ready)
        r = tls_round_trip(t, cmd, (size_t)len, deadline);
    if (t)
        t->ops->free(t, 1);
    if (fd >= 0)
        close(fd);
    if (len > 0)
        redisFreeCommand(cmd);
    return r;
}

redisReply *redis_test_command(int port, const char *password, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = NULL;
    if (test_tls) {
        r = tls_command(port, password, fmt, ap);
    } else {
        redisContext *c = redis_test_connect_port(port, password);
        if (c) {
            r = redisvCommand(c, fmt, ap);
            redisFree(c);
        }
    }
    va_end(ap);
    return r;
}

long long redis_server_info_number(const redis_server *s, const char *section, const char *field)
{
    redisReply *r = redis_test_command(s->port, NULL, "INFO %s", section);
    if (!r)
        return -1;
    long long n = -1;
    if (r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, field);
        n = p ? atoll(p + strlen(field)) : 0;
    }
    freeReplyObject(r);
    return n;
}

pid_t test_spawn(const char *const *argv, int quiet_stderr)
{
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        /* A test that crashes takes its servers with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            if (quiet_stderr)
                dup2(devnull, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static pid_t spawn(redis_server *s)
{
    char port[16], log[256], conf[256];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    struct stat st;
    s->log_start = stat(log, &st) == 0 ? (long)st.st_size : 0;
    snprintf(conf, sizeof conf, "%s/sentinel.conf", s->dir);
    const char *argv[20 + REDIS_SERVER_MAX_ARGS];
    int n = 0;
    argv[n++] = "redis-server";
    if (s->sentinel) {
        argv[n++] = conf;
        argv[n++] = "--sentinel";
    }
    argv[n++] = "--port";
    argv[n++] = s->tls ? "0" : port;
    if (s->tls) {
        argv[n++] = "--tls-port";
        argv[n++] = port;
    }
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    if (!s->sentinel) {
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
    }
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--logfile";
    argv[n++] = log;
    for (int i = 0; i < s->nargs; i++)
        argv[n++] = s->args[i];
    argv[n] = NULL;
    return test_spawn(argv, 0);
}

/* Whether the process started last has logged that it listens: a server
 * logs "Ready to accept connections", a Sentinel its ID, both after binding
 * the port. Only what it logged since s->log_start counts (a restart appends
 * to the same log). */
static int logged_ready(const redis_server *s)
{
    char path[256];
    snprintf(path, sizeof path, "%s/redis.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ready = 0;
    char line[1024];
    if (fseek(f, s->log_start, SEEK_SET) == 0)
        while (!ready && fgets(line, sizeof line, f))
            ready = strstr(line, s->sentinel ? "Sentinel ID is" : "Ready to accept connections") !=
                    NULL;
    fclose(f);
    return ready;
}

/* A TCP connection to the port succeeds (for TLS servers). */
static int accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Waits up to 10 s for the server to answer; -1 if it died or never did.
 * An answer on the port alone is not enough: the port was free when chosen,
 * but another test's server may have taken it since, and then this one
 * fails to bind while the other answers. */
static int wait_ready(redis_server *s)
{
    for (int i = 0; i < 200; i++) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        if (logged_ready(s) && (s->tls ? accepts(s->port) : answers(s->port)))
            return 0;
        sleep_ms(50);
    }
    return -1;
}

static int make_dir(redis_server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s/csession-redis-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->socket, sizeof s->socket, "%s/redis.sock", s->dir);
    return 0;
}

static int launch(redis_server *s)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        s->port = free_port();
        if (s->port <= 0)
            continue;
        s->pid = spawn(s);
        if (s->pid > 0 && wait_ready(s) == 0) {
            snprintf(s->url, sizeof s->url, "%s://127.0.0.1:%d", s->tls ? "rediss" : "redis",
                     s->port);
            return 0;
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
    }
    fprintf(stderr, "could not start redis-server (see %s/redis.log)\n", s->dir);
    return -1;
}

int redis_server_start(redis_server *s, const char *const *extra)
{
    if (make_dir(s) != 0)
        return -1;
    for (int i = 0; extra && extra[i] && i < REDIS_SERVER_MAX_ARGS; i++) {
        s->args[i] = strdup(strcmp(extra[i], "@SOCKET@") == 0 ? s->socket : extra[i]);
        s->nargs++;
    }
    return launch(s);
}

/* TLS only, with these files (make_dir() done). */
static void add_tls_args(redis_server *s, const char *cert_file, const char *key_file,
                         const char *ca_file, int auth_clients)
{
    s->tls = 1;
    const char *tls_args[] = {"--tls-cert-file", cert_file, "--tls-key-file", key_file,
                              "--tls-ca-cert-file", ca_file, "--tls-auth-clients",
                              auth_clients ? "yes" : "no"};
    for (size_t i = 0; i < sizeof tls_args / sizeof tls_args[0]; i++)
        s->args[s->nargs++] = strdup(tls_args[i]);
}

int redis_server_start_tls(redis_server *s, const char *cert_file, const char *key_file,
                           const char *ca_file, int auth_clients, const char *const *extra)
{
    if (make_dir(s) != 0)
        return -1;
    add_tls_args(s, cert_file, key_file, ca_file, auth_clients);
    for (int i = 0; extra && extra[i] && s->nargs < REDIS_SERVER_MAX_ARGS; i++)
        s->args[s->nargs++] = strdup(strcmp(extra[i], "@SOCKET@") == 0 ? s->socket : extra[i]);
    return launch(s);
}

/* Writes <dir>/sentinel.conf and starts the Sentinel (make_dir() done). */
static int launch_sentinel(redis_server *s, const char *conf)
{
    s->sentinel = 1;
    char path[256];
    snprintf(path, sizeof path, "%s/sentinel.conf", s->dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(conf, f) < 0 || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return launch(s);
}

int redis_sentinel_start(redis_server *s, const char *conf)
{
    if (make_dir(s) != 0)
        return -1;
    return launch_sentinel(s, conf);
}

int redis_sentinel_start_tls(redis_server *s, const char *conf, const char *cert_file,
                             const char *key_file, const char *ca_file)
{
    if (make_dir(s) != 0)
        return -1;
    add_tls_args(s, cert_file, key_file, ca_file, 0);
    s->args[s->nargs++] = strdup("--tls-replication");
    s->args[s->nargs++] = strdup("yes");
    return launch_sentinel(s, conf);
}

void redis_server_kill(redis_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGCONT);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

int redis_server_restart(redis_server *s)
{
    redis_server_kill(s);
    for (int attempt = 0; attempt < 20; attempt++) {
        s->pid = spawn(s);
        if (s->pid > 0 && wait_ready(s) == 0)
            return 0;
        sleep_ms(100); /* the port may take a moment to be released */
    }
    fprintf(stderr, "could not restart redis-server on port %d\n", s->port);
    return -1;
}

void redis_server_pause(redis_server *s)
{
    if (s->pid <= 0 || kill(s->pid, SIGSTOP) != 0)
        return;
    /* The signal is delivered asynchronously: wait until the child has
     * stopped, so that nothing sent from now on is answered. */
    int status;
    while (waitpid(s->pid, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
}

void redis_server_resume(redis_server *s)
{
    if (s->pid > 0)
        kill(s->pid, SIGCONT);
}

/* Removes the files the server left (data, log, socket, cluster and
 * Sentinel configuration), then the directory. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

void redis_server_stop(redis_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGCONT);
        kill(s->pid, SIGTERM);
        int status;
        for (int i = 0; i < 100 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
            sleep_ms(20);
        redis_server_kill(s);
    }
    if (s->dir[0])
        remove_dir(s->dir);
    for (int i = 0; i < s->nargs; i++)
        free(s->args[i]);
    memset(s, 0, sizeof *s);
}

int redis_server_major_version(void)
{
    FILE *p = popen("redis-server --version 2>/dev/null", "r");
    if (!p)
        return 0;
    char line[256] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    pclose(p);
    const char *v = strstr(line, "v=");
    return v ? atoi(v + 2) : 0;
}

int redis_fixture_url(char *out, size_t size)
{
    const char *url = getenv("CSESSION_TEST_REDIS_URL");
    if (url && *url) {
        snprintf(out, size, "%s", url);
        return 0;
    }
    const char *state = getenv("CSESSION_TEST_REDIS_STATE");
    if (!state)
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/port", state);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int port = 0;
    int ok = fscanf(f, "%d", &port) == 1 && port > 0;
    fclose(f);
    if (!ok)
        return -1;
    snprintf(out, size, "redis://127.0.0.1:%d", port);
    return 0;
}
