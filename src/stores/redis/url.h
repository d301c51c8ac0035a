/*
 * Internal: parsing a Redis URL into where to connect and how to log in.
 * No I/O: the parser can be tested (and fuzzed) alone.
 */
#ifndef CSESSION_SRC_STORES_REDIS_URL_H
#define CSESSION_SRC_STORES_REDIS_URL_H

#include <stddef.h>

#define CSESSION__REDIS_DEFAULT_PORT 6379
#define CSESSION__REDIS_DEFAULT_SENTINEL_PORT 26379

/* Most hosts in a redis+sentinel:// or redis+cluster:// URL. */
#define CSESSION__REDIS_MAX_NODES 16
/* Longest host name (a DNS name) or address. */
#define CSESSION__REDIS_MAX_HOST 253
/* Longest Sentinel master name, in bytes. */
#define CSESSION__REDIS_MAX_MASTER_NAME 256
/* Largest wait_replicas. */
#define CSESSION__REDIS_MAX_WAIT_REPLICAS 64

/* How the servers are arranged: picked by the URL's scheme. */
typedef enum csession__redis_kind {
    CSESSION__REDIS_SINGLE = 0,   /* redis://, rediss://, unix:// */
    CSESSION__REDIS_SENTINEL = 1, /* redis+sentinel://, rediss+sentinel:// */
    CSESSION__REDIS_CLUSTER = 2   /* redis+cluster://, rediss+cluster:// */
} csession__redis_kind;

typedef struct csession__redis_node {
    char *host; /* NUL-terminated; IPv6 without brackets */
    int port;
} csession__redis_node;

/*
 * TLS as a rediss URL asks for it (the tls_* query parameters). One set
 * for every server the URL leads to: the sentinels and the master they
 * name, or every node of a cluster (Redis itself configures TLS once per
 * process, for clients, replication and Sentinel alike).
 */
typedef struct csession__redis_url_tls {
    int on;            /* 1: a rediss scheme; the rest is only set then */
    char *ca_file;     /* tls_ca_file, NUL-terminated, or NULL */
    char *ca_dir;      /* tls_ca_dir */
    char *cert_file;   /* tls_cert_file */
    char *key_file;    /* tls_key_file */
    char *server_name; /* tls_server_name */
    int min_version;   /* tls_min_version: 0 (default), 12 or 13 */
    int verify;        /* tls_verify: 1 (default) or 0 */
} csession__redis_url_tls;

typedef struct csession__redis_url {
    csession__redis_kind kind;
    /* SINGLE */
    int is_unix;      /* 1: `path` is a Unix socket; 0: TCP to `host`:`port` */
    char *host;       /* NUL-terminated; IPv6 without brackets; NULL for unix */
    int port;         /* 1..65535; 0 for unix */
    char *path;       /* NUL-terminated socket path; NULL for TCP */
    /* All kinds: the login on the data nodes */
    char *user;       /* ACL user name, or NULL (may hold any byte: use user_len) */
    size_t user_len;
    char *password;   /* or NULL; any byte, user_len/password_len say how many */
    size_t password_len;
    int db;           /* 0..INT_MAX; always 0 for CLUSTER */
    /* SENTINEL: the sentinels; CLUSTER: the seed nodes */
    csession__redis_node nodes[CSESSION__REDIS_MAX_NODES];
    size_t n_nodes;
    /* SENTINEL */
    char *master_name; /* NUL-terminated, no control characters */
    size_t master_name_len;
    char *sentinel_user; /* the login on the sentinels, or NULL */
    size_t sentinel_user_len;
    char *sentinel_password;
    size_t sentinel_password_len;
    /* SENTINEL and CLUSTER: WAIT after each write (0: do not wait) */
    unsigned int wait_replicas;
    unsigned int wait_timeout_ms; /* 0: half the command timeout */
    /* All TCP kinds */
    csession__redis_url_tls tls;
} csession__redis_url;

/*
 * Parses `text` (NUL-terminated) into `out`, which it first zeroes. Returns 0,
 * CSESSION_EINVAL with a message saying what is wrong (never quoting the
 * password), or CSESSION_ENOMEM. On failure `out` holds nothing to free.
 */
int csession__redis_url_parse(csession__redis_url *out, const char *text);

/* Wipes the passwords and frees the strings; `url` may be NULL. */
void csession__redis_url_dispose(csession__redis_url *url);

#endif
