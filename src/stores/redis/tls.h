/*
 * Internal: TLS for Redis connections (rediss://). The settings parsed from
 * a URL and the store's options become one csession__redis_tls, shared
 * (read-only once made, apart from its session cache, which has a lock of
 * its own) by every connection of a store; each connection then gets a TLS
 * transport (transport.h) over its connected socket.
 * Built with OpenSSL when found (transport_tls.c); otherwise tls_none.c
 * refuses TLS with CSESSION_EUNSUPPORTED and says how to get it.
 */
#ifndef CSESSION_SRC_STORES_REDIS_TLS_H
#define CSESSION_SRC_STORES_REDIS_TLS_H

#include <stddef.h>

#include "transport.h"

typedef struct csession__redis_tls csession__redis_tls;

/* Oldest protocol version accepted. */
typedef enum csession__redis_tls_version {
    CSESSION__REDIS_TLS_DEFAULT = 0, /* TLS 1.2 */
    CSESSION__REDIS_TLS_1_2 = 12,
    CSESSION__REDIS_TLS_1_3 = 13
} csession__redis_tls_version;

/*
 * What a rediss:// URL and the store's TLS options say. Every string is
 * NUL-terminated and borrowed for the call that takes the settings; NULL
 * takes the default.
 */
typedef struct csession__redis_tls_settings {
    const char *ca_file;     /* PEM bundle of trusted CAs */
    const char *ca_dir;      /* directory of hashed CA certificates (c_rehash) */
    /* With neither ca_file nor ca_dir: the system's trust store. */
    const char *cert_file;   /* client certificate chain (PEM), with key_file */
    const char *key_file;    /* its private key (PEM, not encrypted) */
    const char *server_name; /* SNI and the name verified; default the host connected to */
    csession__redis_tls_version min_version;
    int verify;              /* 1 (the default): verify the chain and the name; 0: do not */
} csession__redis_tls_settings;

/* Settings to default: every field NULL, min_version default, verify 1. */
void csession__redis_tls_settings_init(csession__redis_tls_settings *s);

/*
 * Parses "1.2" or "1.3" (`len` bytes) into *out: 0, or -1 for anything else.
 */
int csession__redis_tls_parse_version(const char *s, size_t len, csession__redis_tls_version *out);

/*
 * Makes the TLS context of a store from `s`: loads the CA file or directory
 * (or the system trust store), the client certificate and key (checked to
 * match), and sets the minimum version. Returns 0, CSESSION_EINVAL with a
 * message in err (a file that cannot be read, a key that does not match
 * its certificate; never the key's path or a password), CSESSION_ENOMEM,
 * or CSESSION_EUNSUPPORTED when the library has no TLS. *out is NULL on
 * failure; free it with csession__redis_tls_free(). Reads files, does no
 * network I/O. Thread-safe.
 */
int csession__redis_tls_new(csession__redis_tls **out, const csession__redis_tls_settings *s,
                            char *err, size_t err_size);

/* Frees `tls` (NULL: nothing) and its cached sessions. Every transport made
 * from it must have been freed. */
void csession__redis_tls_free(csession__redis_tls *tls);

/*
 * A TLS transport over the connected socket `fd`, verifying (unless
 * disabled) that the server's certificate is for `server_name` (the
 * settings' server name when set, else this: the host of the URL). The
 * handshake is not started: the caller drives it with ops->handshake. NULL
 * with a message in err when out of memory or TLS is not available.
 *
 * Offers a session kept for the same peer address and name, so a reconnect
 * is resumed when the server agrees (a TLS 1.3 ticket is offered once; the
 * tickets the server sends after the handshake are kept for the next
 * connections). When
 * verification is off, every call logs a warning through the log hook.
 * Thread-safe: any number of transports of one `tls` may run at once.
 */
csession__redis_transport *csession__redis_tls_transport(const csession__redis_tls *tls, int fd,
                                                         const char *server_name, char *err,
                                                         size_t err_size);

/* 1 when `t` (a TLS transport after its handshake) resumed an earlier
 * session, 0 when the handshake was a full one. */
int csession__redis_tls_resumed(const csession__redis_transport *t);

struct csession__redis_url;
struct csession_store_redis_options;

/*
 * The TLS context of a store: NULL in *out (and 0) when `url` is not a
 * rediss URL, else made from the URL's tls_* parameters with the set
 * fields of `opts` (read and defaulted already, any version) over them.
 * Returns 0, CSESSION_EINVAL (TLS options with a URL that is not rediss,
 * an option out of range, files that cannot be loaded), CSESSION_ENOMEM or
 * CSESSION_EUNSUPPORTED (no TLS in this build), with the error message set.
 */
int csession__redis_tls_for_store(csession__redis_tls **out, const struct csession__redis_url *url,
                                  const struct csession_store_redis_options *opts);

/* 1 when the library was built with TLS. */
int csession__redis_tls_available(void);

#endif
