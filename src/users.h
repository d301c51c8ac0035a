/* Internal: what the calls of csession/users.h need from the manager. */
#ifndef CSESSION_SRC_USERS_H
#define CSESSION_SRC_USERS_H

#include "csession/manager.h"
#include "manager_flow.h" /* csession__manager_store() */

#endif
