/*
 * csession - web session management for C.
 *
 * The umbrella header: include this one. See README.md and docs/ for guides.
 */
#ifndef CSESSION_H
#define CSESSION_H

#include "csession/common.h"
#include "csession/errors.h"
#include "csession/buf.h"
#include "csession/library.h"
#include "csession/log.h"
#include "csession/session.h"
#include "csession/state.h"
#include "csession/keys.h"
#include "csession/cookie_security.h"
#include "csession/config.h"
#include "csession/manager.h"
#include "csession/users.h"
#include "csession/sys/store.h"
#include "csession/store_memory.h"
#include "csession/store_cookie.h"
#include "csession/store_redis.h"
#include "csession/store_sqlite.h"

#endif /* CSESSION_H */
