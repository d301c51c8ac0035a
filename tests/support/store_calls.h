/* Store calls that must work, for the store tests: each fails the test
 * (with the library's last error) when the call does not do what it says. */
#ifndef CSESSION_TEST_STORE_CALLS_H
#define CSESSION_TEST_STORE_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "csession/sys/store.h"
#include "stores/redis/redis_store.h"

/* Saves state[0..len) for `ttl` seconds; the new key, which must be a valid
 * 64-character session key, is copied to `key` (NUL-terminated). */
void store_save_ok(csession_store *s, const char *state, size_t len, int64_t ttl, char key[65]);
/* store_save_ok() of a NUL-terminated state. */
void store_save_str(csession_store *s, const char *state, int64_t ttl, char key[65]);

/* Asserts that `key` loads as exactly expected[0..len), NUL-terminated in
 * the buffer, or is not found (CSESSION_ENOTFOUND) when `expected` is NULL. */
void store_expect_state(csession_store *s, const char *key, const char *expected, size_t len);
/* store_expect_state() of a NUL-terminated state (or NULL). */
void store_expect_str(csession_store *s, const char *key, const char *expected);

/* The Redis store's key prefix (the Redis key of any session key, minus
 * the key), NUL-terminated in out[0..size). */
void store_redis_prefix(csession_store *s, char *out, size_t size);

/*
 * Makes every key of `store` (its prefix) on the server behind `c` `seconds`
 * older: PTTL, then PEXPIRE with the rest, or DEL when nothing is left.
 * Keys without a TTL are left alone. The conformance suites' advance_time
 * on Redis, once per server that holds keys.
 */
void store_redis_age(csession_store *store, redisContext *c, int64_t seconds);

/* The Redis store's counters. */
csession__redis_stats store_redis_stats(csession_store *s);

#endif
