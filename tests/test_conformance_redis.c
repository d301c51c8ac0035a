/* The store conformance suite (tests/support/conformance.h) on the Redis
 * store, against the fixture's server. Each scenario gets a store with a key
 * prefix of its own, so scenarios never see each other's sessions; time is
 * moved by lowering the TTL of every key under that prefix. */
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
#include "loop_adapters.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "redis_server.h"
#include "stores/redis/redis_store.h"
#include "store_calls.h"

typedef struct redis_target {
    char url[256];
    redisContext *raw; /* for moving time */
    unsigned int stores_made;
} redis_target;

static int new_store(csession_store **out, void *ctx)
{
    redis_target *t = ctx;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "conformance:%ld:%u:", (long)getpid(), ++t->stores_made);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix; /* copied by the store */
    return csession_store_redis_new(out, t->url, &o);
}

/* Every key under the store's prefix gets `seconds` older: PTTL, then
 * PEXPIRE with what is left, or DEL when nothing is. */
static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    redis_target *t = ctx;
    store_redis_age(store, t->raw, seconds);
}

/* With an argument, the loop to run the suite on through the manager's
 * non-blocking calls ("poll", "uv", "event", "ev": loop_adapters.h);
 * without, the blocking calls. */
int main(int argc, char **argv)
{
    static redis_target t;
    conformance_loop loop = { 0 };
    if (argc > 1 && loop_adapter_create(&loop, argv[1]) != 0) {
        fprintf(stderr, "no %s loop in this build\n", argv[1]);
        return 77;
    }
    if (redis_fixture_url(t.url, sizeof t.url) != 0) {
        fprintf(stderr, "no Redis server: set CSESSION_TEST_REDIS_URL or run through ctest\n");
        return 1;
    }
    t.raw = redis_test_connect(t.url);
    if (!t.raw) {
        fprintf(stderr, "cannot connect to %s\n", t.url);
        return 1;
    }
    conformance_target target = {"redis", new_store, advance_time, &t, 1,
                                 argc > 1 ? &loop : NULL};
    int failed = conformance_run(&target);
    redisFree(t.raw);
    if (argc > 1)
        loop_adapter_destroy(&loop);
    return failed;
}
