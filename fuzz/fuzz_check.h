/* The invariant check of the fuzz harnesses: unlike assert(), it holds in
 * NDEBUG builds too, and it says what the library last reported. */
#ifndef CSESSION_FUZZ_CHECK_H
#define CSESSION_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "csession.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",        \
                    __FILE__, __LINE__, #cond, csession_last_error());           \
            abort();                                                             \
        }                                                                        \
    } while (0)

#endif
