/* Compiles the umbrella header as C++ with -pedantic -Werror and calls into it. */
#include <csession.h>
/* Not yet in the umbrella header. */

#include <cstdio>
#include <cstring>

int main(void)
{
    if (std::strcmp(csession_version(), CSESSION_VERSION_STRING) != 0) {
        std::fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    csession_store_redis_options redis_opts = CSESSION_STORE_REDIS_OPTIONS_INIT;
    if (csession_store_redis_options_init(&redis_opts, CSESSION_STORE_REDIS_OPTIONS_VERSION) != 0)
        return 1;
    return csession_init() == CSESSION_OK ? 0 : 1;
}
