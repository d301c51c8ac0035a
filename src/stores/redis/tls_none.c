/* TLS for Redis connections when the library is built without OpenSSL. */
#include "tls.h"

#include <stdio.h>

#include "csession/errors.h"

static void say_unavailable(char *err, size_t err_size)
{
    snprintf(err, err_size,
             "this build of csession has no TLS: install OpenSSL's headers (Debian: "
             "libssl-dev) and build again");
}

int csession__redis_tls_new(csession__redis_tls **out, const csession__redis_tls_settings *s,
                            char *err, size_t err_size)
{
    (void)s;
    *out = NULL;
    say_unavailable(err, err_size);
    return CSESSION_EUNSUPPORTED;
}

void csession__redis_tls_free(csession__redis_tls *tls)
{
    (void)tls;
}

csession__redis_transport *csession__redis_tls_transport(const csession__redis_tls *tls, int fd,
                                                         const char *server_name, char *err,
                                                         size_t err_size)
{
    (void)tls;
    (void)fd;
    (void)server_name;
    say_unavailable(err, err_size);
    return NULL;
}

int csession__redis_tls_resumed(const csession__redis_transport *t)
{
    (void)t;
    return 0;
}

int csession__redis_tls_available(void)
{
    return 0;
}
