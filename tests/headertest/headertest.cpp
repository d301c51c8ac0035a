/* Compiles the umbrella header as C++ with -pedantic -Werror and calls into it. */
#include <csession.h>

#include <cstdio>
#include <cstring>

int main(void)
{
    if (std::strcmp(csession_version(), CSESSION_VERSION_STRING) != 0) {
        std::fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    return csession_init() == CSESSION_OK ? 0 : 1;
}
