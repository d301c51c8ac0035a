/*
 * The prefork scenario for the Redis store tests, as Apache prefork,
 * FastCGI spawners, uWSGI and nginx-style masters run it: a process makes
 * the manager, serves a request (its pool now holds a connection), and
 * forks workers that serve requests on the same manager.
 */
#ifndef CSESSION_TEST_PREFORK_H
#define CSESSION_TEST_PREFORK_H

#include "csession.h"

/* A manager on `store` (taken) with a random key. Fails the test on error. */
csession_manager *prefork_manager(csession_store *store);

/*
 * On `mgr`, whose store `store` (borrowed) is a Redis store:
 *  1. one request here, which saves a session and leaves a connection in
 *     the pool; then requests on new sessions until `connections` are open
 *     (in a Cluster, one per node: keys fall on every node in turn);
 *  2. `children` processes forked, each running `cycles` requests that
 *     load its own session, check its counter is the number of its
 *     earlier commits, increment it and commit; then one request that reads
 *     it back, which must find exactly `cycles`; it must have closed, unused,
 *     every connection the parent had, logged that once per pool, and
 *     never logged `secret` (NULL: no such check);
 *  3. waits for every child (its exit status and its figures, sent back
 *     through a pipe);
 *  4. one more request here, on the session of step 1, which must succeed
 *     on the connection opened before the fork.
 * Fails the test, printing every child's figures (errors, the first one's
 * message, counters not its own, the highest counter seen), when a child
 * saw an error or a state not its own, or the parent cannot go on.
 */
void prefork_run(csession_manager *mgr, csession_store *store, int children, int cycles,
                 unsigned int connections, const char *secret);

/* A file's prefork test, twice: with pools of 1 and of 8 connections (the
 * size is the test's state), for its list of cmocka tests. */
extern unsigned int prefork_pool_1, prefork_pool_8;
#define PREFORK_TESTS(fn)                                                 \
    {"test_prefork_pool_1", (fn), NULL, NULL, &prefork_pool_1},           \
    {"test_prefork_pool_8", (fn), NULL, NULL, &prefork_pool_8}

#endif
