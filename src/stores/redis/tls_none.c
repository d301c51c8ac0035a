/* TLS for Redis connections when the library is built without OpenSSL. */
#include "tls.h"

#include <stdio.h>

csession__redis_transport *csession__redis_tls_transport(const csession__redis_tls *tls, int fd,
                                                         const char *server_name, char *err,
                                                         size_t err_size)
{
    (void)tls;
    (void)fd;
    (void)server_name;
    snprintf(err, err_size,
             "this build of csession has no TLS: install OpenSSL's headers (Debian: "
             "libssl-dev) and build again");
    return NULL;
}

int csession__redis_tls_available(void)
{
    return 0;
}
