/* Internal: what the calls of csession/users.h need from the manager. */
#ifndef CSESSION_SRC_USERS_H
#define CSESSION_SRC_USERS_H

#include "csession/manager.h"

/* The manager's store (borrowed; the manager owns it). */
csession_store *csession__manager_store(csession_manager *mgr);

#endif
