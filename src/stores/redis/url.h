/*
 * Internal: parsing a Redis URL into where to connect and how to log in.
 * No I/O: the parser can be tested (and fuzzed) alone.
 */
#ifndef CSESSION_SRC_STORES_REDIS_URL_H
#define CSESSION_SRC_STORES_REDIS_URL_H

#include <stddef.h>

#define CSESSION__REDIS_DEFAULT_PORT 6379

typedef struct csession__redis_url {
    int is_unix;      /* 1: `path` is a Unix socket; 0: TCP to `host`:`port` */
    char *host;       /* NUL-terminated; IPv6 without brackets; NULL for unix */
    int port;         /* 1..65535; 0 for unix */
    char *path;       /* NUL-terminated socket path; NULL for TCP */
    char *user;       /* ACL user name, or NULL (may hold any byte: use user_len) */
    size_t user_len;
    char *password;   /* or NULL; any byte, user_len/password_len say how many */
    size_t password_len;
    int db;           /* 0..INT_MAX */
} csession__redis_url;

/*
 * Parses `text` (NUL-terminated) into `out`, which it first zeroes. Returns 0,
 * CSESSION_EINVAL with a message saying what is wrong (never quoting the
 * password), or CSESSION_ENOMEM. On failure `out` holds nothing to free.
 */
int csession__redis_url_parse(csession__redis_url *out, const char *text);

/* Wipes the password and frees the strings; `url` may be NULL. */
void csession__redis_url_dispose(csession__redis_url *url);

#endif
