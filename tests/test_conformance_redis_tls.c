/*
 * The store conformance suite (tests/support/conformance.h) on the Redis
 * store over TLS: a redis-server of its own that listens with TLS only on
 * TCP (--port 0 --tls-port), the CA given by the URL's tls_ca_file
 * parameter. Run twice: through the manager's blocking calls, then through
 * its non-blocking ones on the poll() loop. Time is moved as in
 * test_conformance_redis.c, over the server's Unix socket (plain, for the
 * test only: the store never uses it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conformance.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "loop_adapters.h"
#include "redis_server.h"
#include "store_calls.h"
#include "tls_certs.h"

typedef struct tls_target {
    char url[1024];
    redisContext *raw; /* over the Unix socket, for moving time */
    unsigned int stores_made;
} tls_target;

static int new_store(csession_store **out, void *ctx)
{
    tls_target *t = ctx;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "conformance-tls:%ld:%u:", (long)getpid(), ++t->stores_made);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    o.connect_timeout_ms = 2000;
    return csession_store_redis_new(out, t->url, &o);
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    tls_target *t = ctx;
    store_redis_age(store, t->raw, seconds);
}

int main(void)
{
    static tls_certs certs;
    static redis_server server;
    static tls_target t;
    static const char *const unix_socket[] = {"--unixsocket", "@SOCKET@", NULL};
    if (tls_certs_make(&certs) != 0)
        return 1;
    if (redis_server_start_tls(&server, certs.server_cert, certs.server_key, certs.ca, 0,
                               unix_socket) != 0) {
        tls_certs_remove(&certs);
        return 1;
    }
    /* The CA's path holds only [A-Za-z0-9/._-]: no percent-encoding needed. */
    snprintf(t.url, sizeof t.url, "%s?tls_ca_file=%s", server.url, certs.ca);
    t.raw = redisConnectUnix(server.socket);
    if (!t.raw || t.raw->err) {
        fprintf(stderr, "cannot connect to %s\n", server.socket);
        redis_server_stop(&server);
        tls_certs_remove(&certs);
        return 1;
    }
    int failed = 0;
    conformance_target blocking = {"redis tls", new_store, advance_time, &t, 1, NULL};
    failed += conformance_run(&blocking);

    conformance_loop loop;
    if (loop_adapter_create(&loop, "poll") != 0) {
        fprintf(stderr, "cannot make the poll loop\n");
        failed++;
    } else {
        conformance_target nonblocking = {"redis tls poll", new_store, advance_time, &t, 1, &loop};
        failed += conformance_run(&nonblocking);
        loop_adapter_destroy(&loop);
    }
    redisFree(t.raw);
    redis_server_stop(&server);
    tls_certs_remove(&certs);
    return failed;
}
