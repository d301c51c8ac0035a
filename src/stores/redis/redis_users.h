/*
 * Internal: the user index of the Redis store (sys/store.h, version 3
 * user_* members). Per user, a set at <prefix>user:<user id> of the keys of
 * the user's sessions; on Redis Cluster every session of a bound user is
 * stored in the hash slot of that set (its key is drawn until it hashes
 * there), so that each member runs as one script on one node: a save and
 * its index entry, "end all" and the saves it races, are atomic with
 * respect to each other there too.
 */
#ifndef CSESSION_SRC_STORES_REDIS_REDIS_USERS_H
#define CSESSION_SRC_STORES_REDIS_REDIS_USERS_H

#include "csession/sys/store.h"

/* Sets the user_* members of a Redis store without a key mapper. */
void csession__redis_users_wire(csession_store *store);

/*
 * The non-blocking kinds CSESSION_CALL_USER_SAVE and _USER_REMOVE
 * (sys/store.h `start`) of a Redis store without a key mapper, on the
 * call's loop: always 0, complete having run or to run from the loop, or
 * CSESSION_ENOMEM (complete not called). The cancel of such a call.
 */
int csession__redis_users_start(csession_store *store, csession_store_call *call);
void csession__redis_users_cancel(csession_store_call *call);

/* The scripts, for the tests. */
const char *csession__redis_users_save_script(void);
const char *csession__redis_users_end_script(void);

#endif
