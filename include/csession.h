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
#include "csession/session.h"
#include "csession/state.h"

#endif /* CSESSION_H */
