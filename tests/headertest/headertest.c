/* Compiles the umbrella header alone with -pedantic -Werror and calls into it. */
#include <csession.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(csession_version(), CSESSION_VERSION_STRING) != 0) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    return csession_init() == CSESSION_OK ? 0 : 1;
}
