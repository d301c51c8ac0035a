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

redisReply *redis_test_command(int port, const char *password, const char *fmt, ...)
{
    redisContext *c = redis_test_connect_port(port, password);
    if (!c)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
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

int redis_server_start_tls(redis_server *s, const char *cert_file, const char *key_file,
                           const char *ca_file, int auth_clients, const char *const *extra)
{
    if (make_dir(s) != 0)
        return -1;
    s->tls = 1;
    const char *tls_args[] = {"--tls-cert-file", cert_file, "--tls-key-file", key_file,
                              "--tls-ca-cert-file", ca_file, "--tls-auth-clients",
                              auth_clients ? "yes" : "no"};
    for (size_t i = 0; i < sizeof tls_args / sizeof tls_args[0]; i++)
        s->args[s->nargs++] = strdup(tls_args[i]);
    for (int i = 0; extra && extra[i] && s->nargs < REDIS_SERVER_MAX_ARGS; i++)
        s->args[s->nargs++] = strdup(strcmp(extra[i], "@SOCKET@") == 0 ? s->socket : extra[i]);
    return launch(s);
}

int redis_sentinel_start(redis_server *s, const char *conf)
{
    if (make_dir(s) != 0)
        return -1;
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
