/* Internal: counters of a manager's commits, for tests and benchmarks. */
#ifndef CSESSION_SRC_MANAGER_STATS_H
#define CSESSION_SRC_MANAGER_STATS_H

#include <stdint.h>

#include "csession/manager.h"

typedef struct csession__manager_stats {
    uint64_t merges;    /* writes that met a newer revision and merged onto it */
    uint64_t conflicts; /* commits that answered CSESSION_ECONFLICT */
    uint64_t gone;      /* commits that answered CSESSION_EGONE */
    uint64_t rotations; /* keys renewed by the rotation interval */
    uint64_t thefts;    /* retired keys presented after their grace period */
} csession__manager_stats;

void csession__manager_get_stats(const csession_manager *mgr, csession__manager_stats *out);

#endif
