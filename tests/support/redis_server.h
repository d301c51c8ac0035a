/*
 * Redis servers for tests: the shared one started by the ctest fixture
 * (tests/redis/fixture.sh), and private ones a test starts, kills, pauses
 * and restarts without disturbing the others.
 */
#ifndef CSESSION_TEST_REDIS_SERVER_H
#define CSESSION_TEST_REDIS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#define REDIS_SERVER_MAX_ARGS 24

typedef struct redis_server {
    pid_t pid;         /* 0 when not running */
    int port;
    char dir[128];     /* temporary directory: data, log, socket */
    char url[160];     /* "redis://127.0.0.1:<port>" */
    char socket[192];  /* "<dir>/redis.sock" (only listened on when asked) */
    int nargs;
    char *args[REDIS_SERVER_MAX_ARGS]; /* extra arguments, copied */
    int sentinel;      /* 1: a Redis Sentinel, run from <dir>/sentinel.conf */
    long log_start;    /* size of <dir>/redis.log when the process was started */
    int tls;           /* 1: listens with TLS only (--port 0 --tls-port <port>) */
} redis_server;

/*
 * Starts argv[0] (found on PATH) with argv, stdin and stdout on /dev/null
 * (stderr too when `quiet_stderr`); on Linux it is killed when the test
 * process dies. The child's pid, or -1.
 */
pid_t test_spawn(const char *const *argv, int quiet_stderr);

/*
 * Starts redis-server on a free 127.0.0.1 port in a new temporary directory,
 * with `extra` (NULL-terminated, may be NULL) appended to its arguments;
 * "@SOCKET@" in them is replaced by the socket path. Waits until it answers.
 * Returns 0, or -1 (after printing why).
 */
int redis_server_start(redis_server *s, const char *const *extra);

/*
 * Starts redis-server listening with TLS only: --port 0, --tls-port on a
 * free 127.0.0.1 port, the certificate `cert_file` with `key_file`,
 * clients' certificates checked against `ca_file` and required when
 * `auth_clients` is 1 (--tls-auth-clients yes|no), then `extra` as for
 * redis_server_start(). s->url is "rediss://127.0.0.1:<port>". Ready once
 * it has logged so and accepts connections (it is not asked anything:
 * that would need TLS). Returns 0, or -1 (after printing why).
 */
int redis_server_start_tls(redis_server *s, const char *cert_file, const char *key_file,
                           const char *ca_file, int auth_clients, const char *const *extra);

/*
 * Starts a Redis Sentinel (redis-server <conf> --sentinel) on a free
 * 127.0.0.1 port in a new temporary directory, its configuration file made
 * of `conf` (the "sentinel monitor ..." lines and the like; the port, bind
 * address, directory and log file are given on the command line). Waits
 * until it answers. Restart, kill, pause and stop work as for servers.
 * Returns 0, or -1 (after printing why).
 */
int redis_sentinel_start(redis_server *s, const char *conf);

/* Kills the server with SIGKILL and reaps it (the directory stays). */
void redis_server_kill(redis_server *s);

/* Starts it again on the same port with the same arguments. 0 or -1. */
int redis_server_restart(redis_server *s);

/* SIGSTOP / SIGCONT: a server that holds connections but never answers.
 * Pause returns once the server has stopped. */
void redis_server_pause(redis_server *s);
void redis_server_resume(redis_server *s);

/* Stops the server if running, removes its directory, frees the arguments. */
void redis_server_stop(redis_server *s);

/*
 * The number after `field` (e.g. "cmdstat_get:calls=") in `INFO <section>` of
 * server `s`: 0 when the field is absent (a counter never incremented), -1
 * when the server cannot be reached.
 */
long long redis_server_info_number(const redis_server *s, const char *section, const char *field);

/* Major version of the installed redis-server (0 when unknown). */
int redis_server_major_version(void);

/*
 * The URL of the fixture's shared server: $CSESSION_TEST_REDIS_URL if set,
 * else redis://127.0.0.1:<port> with the port read from
 * $CSESSION_TEST_REDIS_STATE/port. Returns 0, or -1 when neither is there.
 */
int redis_fixture_url(char *out, size_t size);

/*
 * A plain hiredis connection for setting up and checking tests, to a
 * redis:// URL of the form redis://127.0.0.1:<port>. NULL on failure.
 */
redisContext *redis_test_connect(const char *url);

/* The same to 127.0.0.1:`port`, with AUTH `password` when not NULL. */
redisContext *redis_test_connect_port(int port, const char *password);

/* A command on a new connection to 127.0.0.1:`port` (AUTH `password` when
 * not NULL); the reply, or NULL when the server could not be reached.
 * Over TLS once redis_test_use_tls() has named a CA. */
redisReply *redis_test_command(int port, const char *password, const char *fmt, ...);

/*
 * From now on redis_test_command() (and what is built on it:
 * redis_server_info_number(), the helpers of redis_topology.h) speaks TLS,
 * trusting the CA certificate in `ca_file` and verifying the name
 * 127.0.0.1, through the library's own TLS transport; NULL goes back to
 * plain TCP. For test processes whose servers all listen with TLS only.
 * 0, or -1 (no TLS in the build, unreadable CA) after printing why. Not
 * thread-safe: call it from setup and teardown.
 */
int redis_test_use_tls(const char *ca_file);

/* The CA file redis_test_use_tls() named, or NULL for plain TCP. */
const char *redis_test_tls_ca(void);

/*
 * Starts a Redis Sentinel as redis_sentinel_start() does, listening with
 * TLS only (--port 0 --tls-port) with `cert_file`, `key_file` and
 * `ca_file`, clients' certificates not required, and TLS
 * (tls-replication yes) on its own connections to the servers and the
 * other sentinels, which must then listen with TLS too. 0, or -1.
 */
int redis_sentinel_start_tls(redis_server *s, const char *conf, const char *cert_file,
                             const char *key_file, const char *ca_file);

#endif
