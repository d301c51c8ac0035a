/* Compiles the umbrella header alone with -pedantic -Werror and calls into it. */
#include <csession.h>
/* Not yet in the umbrella header. */

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(csession_version(), CSESSION_VERSION_STRING) != 0) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    csession_store_redis_options redis_opts = CSESSION_STORE_REDIS_OPTIONS_INIT;
    if (csession_store_redis_options_init(&redis_opts, CSESSION_STORE_REDIS_OPTIONS_VERSION) != 0)
        return 1;
    if (strcmp(csession_log_level_name(CSESSION_LOG_WARN), "warn") != 0)
        return 1;
    csession_set_log_handler(NULL, NULL);
    return csession_init() == CSESSION_OK ? 0 : 1;
}
