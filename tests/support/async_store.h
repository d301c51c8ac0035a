/*
 * A store with non-blocking members (sys/store.h version 3) for tests: it
 * wraps another store (a memory store, typically) and finishes each
 * started call from a loop timer a given number of loop turns later, doing
 * the operation on the wrapped store only then, as a server would. It can
 * be told to fail calls, to complete inside start, or to answer
 * CSESSION_EUNSUPPORTED, and it counts what it was asked.
 * Single-threaded: one loop.
 */
#ifndef CSESSION_TEST_ASYNC_STORE_H
#define CSESSION_TEST_ASYNC_STORE_H

#include "csession.h"

typedef struct async_store async_store;

/* A store over `inner` (taken; freed with it) completing each call after
 * `turns` (>= 1) loop turns. NULL when out of memory. */
async_store *async_store_new(csession_store *inner, int turns);
csession_store *async_store_base(async_store *a);
csession_store *async_store_inner(async_store *a);

/* Completes the next `n` started calls with `code` (any int, also a
 * positive one a faulty store might give) and a message, without doing
 * them. */
void async_store_fail_next(async_store *a, int n, int code);
/* 1: complete each call inside start, before it returns. */
void async_store_set_inline(async_store *a, int on);
/* 1: answer CSESSION_EUNSUPPORTED to every start. */
void async_store_set_unsupported(async_store *a, int on);

/*
 * Makes the store say it is of `version` (1 or 2) before it is handed to a
 * manager: the members past that version are filled with values that must
 * not be read (garbage flags, pointers that cannot be called), as memory
 * past the end of a store built against an older header would be. Its
 * calls then go through its blocking members only.
 */
void async_store_set_version(async_store *a, unsigned int version);

/*
 * Makes the store one without revisions (no load_rev, update_if,
 * remove_if: last write wins) whose UPDATE of a key that is gone answers
 * CSESSION_ENOTFOUND, leaving the fallback to save to the library (as
 * sys/store.h allows). Before the store is handed to a manager.
 */
void async_store_drop_revisions(async_store *a);

/* Calls started and not yet completed nor cancelled. */
int async_store_pending(const async_store *a);
/* Calls started of `kind` (a csession_store_call_kind; 0: of any kind). */
int async_store_started(const async_store *a, int kind);
/* Calls cancelled. */
int async_store_cancelled(const async_store *a);

#endif
