/* Internal: recognising the cookie store. */
#ifndef CSESSION_SRC_STORES_COOKIE_STORE_H
#define CSESSION_SRC_STORES_COOKIE_STORE_H

#include "csession/sys/store.h"

/* 1 when `store` is a cookie store: its "session key" is the state itself,
 * so extending its TTL means sealing it again. */
int csession__store_is_cookie(const csession_store *store);

/* The clock the cookie store checks "exp" against (unix seconds); tests
 * replace it. */
extern int64_t (*csession__cookie_store_now)(void);

#endif
