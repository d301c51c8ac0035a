/*
 * A store that forwards every operation to another store (of any version)
 * and fails the ones it is told to: for testing what the request flow does
 * when a store call fails half way through a commit.
 */
#ifndef CSESSION_TEST_FAULTY_STORE_H
#define CSESSION_TEST_FAULTY_STORE_H

#include "csession.h"
#include "csession/sys/store.h"

typedef struct faulty_store {
    csession_store base; /* first: what the manager sees */
    csession_store *inner;
    int fail_save;   /* save answers CSESSION_ESTORE while set */
    int fail_remove; /* remove and remove_if answer CSESSION_ESTORE while set */
    int saves, removes;
} faulty_store;

/* Wraps `inner` (taken: freed with the wrapper). The wrapper offers the
 * same capabilities as `inner`. 0 or CSESSION_ENOMEM. */
int faulty_store_new(faulty_store **out, csession_store *inner);

#endif
