/*
 * Internal: TLS for Redis connections (rediss://). The settings parsed from
 * a URL and the store's options become one csession__redis_tls, shared
 * (read-only once made) by every connection of a store; each connection
 * then gets a TLS transport (transport.h) over its connected socket.
 * Built with OpenSSL when found (transport_tls.c); otherwise tls_none.c
 * refuses TLS with CSESSION_EUNSUPPORTED and says how to get it.
 */
#ifndef CSESSION_SRC_STORES_REDIS_TLS_H
#define CSESSION_SRC_STORES_REDIS_TLS_H

#include <stddef.h>

#include "transport.h"

typedef struct csession__redis_tls csession__redis_tls;

/*
 * A TLS transport over the connected socket `fd`, verifying (unless
 * disabled) that the server's certificate is for `server_name` (the
 * settings' server name when set, else this: the host of the URL). The
 * handshake is not started: the caller drives it with ops->handshake. NULL
 * with a message in err when out of memory or TLS is not available.
 */
csession__redis_transport *csession__redis_tls_transport(const csession__redis_tls *tls, int fd,
                                                         const char *server_name, char *err,
                                                         size_t err_size);

/* 1 when the library was built with TLS. */
int csession__redis_tls_available(void);

#endif
