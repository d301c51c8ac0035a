/* Between the parts of the conformance suite. */
#ifndef CSESSION_TEST_CONFORMANCE_INTERNAL_H
#define CSESSION_TEST_CONFORMANCE_INTERNAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "csession.h"

/* A fresh store of the target under test (owned by the caller). */
csession_store *conformance_new_store(void);

/* A manager on `st` (taken), browser-session cookies, default TTL policy. */
csession_manager *conformance_manager_on(csession_store *st, unsigned char key_seed);

/* The scenarios of parallel requests on one session (conformance_concurrency.c). */
extern const struct CMUnitTest conformance_concurrency_tests[];
extern const size_t conformance_concurrency_count;

#endif
