/*
 * The session manager the flags describe, and the start-up banner.
 */
#include "demo.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(stderr, "%s: %s: %s\n", demo_program, what, csession_last_error());
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
            fprintf(stderr, "%s: %s: %s\n", demo_program, o->key_file, strerror(errno));
            return CSESSION_EINVAL;
        }
        len = fread(line, 1, sizeof line, f);
        int too_long = len == sizeof line && fgetc(f) != EOF;
        int failed = ferror(f);
        fclose(f);
        if (failed || too_long) {
            wipe(line, sizeof line);
            fprintf(stderr, "%s: %s: %s\n", demo_program, o->key_file,
                    failed ? "read error" : "too long for a key");
            return CSESSION_EINVAL;
        }
        rc = csession_config_add_key_text(cfg, line, len);
        wipe(line, sizeof line);
        if (rc)
            fprintf(stderr, "%s: key file %s: %s\n", demo_program, o->key_file,
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
        fprintf(stderr, "%s: warning: no --key-file and no CSESSION_KEY: using a "
                        "random key, so sessions will not survive a restart\n",
                demo_program);
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

int demo_manager_new(const server_options *o, csession_manager **out)
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

void demo_print_banner(const server_options *o, unsigned port)
{
    char base[300];
    int v6 = strchr(o->host, ':') != NULL;
    snprintf(base, sizeof base, "http://%s%s%s:%u", v6 ? "[" : "", o->host, v6 ? "]" : "", port);
    /* A Redis URL may carry a password: name the kind only. */
    const char *store = strncmp(o->store, "redis", 5) && strncmp(o->store, "unix", 4) ? o->store
                                                                                      : "redis";
    printf("%s: listening on %s/ (store: %s, cookies: %s%s)\n", demo_program, base, store,
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

int demo_start(server_options *opts, int argc, char **argv, const char *program,
               unsigned extras, const char *threads_what, sigset_t *stop)
{
    demo_program = program;
    int rc = options_parse(opts, argc, argv, extras, threads_what);
    if (rc == OPTIONS_HELP)
        return 0;
    if (rc)
        return 2;
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    return -1;
}

int demo_resolve(const server_options *o, struct addrinfo **out)
{
    struct addrinfo hints = { 0 };
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", o->port);
    int err = getaddrinfo(o->host, port, &hints, out);
    if (err) {
        fprintf(stderr, "%s: --host %s: %s\n", demo_program, o->host, gai_strerror(err));
        return -1;
    }
    return 0;
}

void demo_report(const char *what, int rc, const char *message)
{
    fprintf(stderr, "%s: %s: %s: %s\n", demo_program, what, csession_strerror(rc),
            message ? message : csession_last_error());
}
