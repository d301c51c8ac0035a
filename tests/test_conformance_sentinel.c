/* The store conformance suite (tests/support/conformance.h) on the Redis
 * store through Redis Sentinel: a master, a replica and three sentinels of
 * its own, the master found by the store through the sentinels. Time moves
 * by ageing the TTLs of the store's keys on the master. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "conformance.h"
#include "csession.h"
#include "csession/store_redis.h"
#include "redis_topology.h"
#include "store_calls.h"

#define NAME "conformance"

static sentinel_group group;
static char url[512];
static unsigned int stores_made;

static int new_store(csession_store **out, void *ctx)
{
    (void)ctx;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "conformance:%ld:%u:", (long)getpid(), ++stores_made);
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.key_prefix = prefix;
    return csession_store_redis_new(out, url, &o);
}

static void advance_time(csession_store *store, int64_t seconds, void *ctx)
{
    (void)ctx;
    redisContext *c = redis_test_connect_port(sentinel_group_master_port(&group, 0), NULL);
    assert_non_null(c);
    store_redis_age(store, c, seconds);
    redisFree(c);
}

int main(void)
{
    if (sentinel_group_start(&group, NAME, NULL, NULL) != 0) {
        sentinel_group_stop(&group);
        return 1;
    }
    snprintf(url, sizeof url, "redis+sentinel://%s/%s", group.hosts, NAME);
    conformance_target target = {"redis sentinel", new_store, advance_time, NULL, 1, NULL};
    int failed = conformance_run(&target);
    sentinel_group_stop(&group);
    return failed;
}
