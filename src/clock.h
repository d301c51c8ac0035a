/* Internal: the wall clock of session lifetimes (unix seconds). */
#ifndef CSESSION_SRC_CLOCK_H
#define CSESSION_SRC_CLOCK_H

#include <stdint.h>

/* Creation, last-seen, rotation and grace times are wall-clock seconds:
 * they are stored and outlive the process. Tests replace it. */
extern int64_t (*csession__wall_now)(void);

#endif
