/* Internal: the configuration's fields, read by the manager. */
#ifndef CSESSION_SRC_CONFIG_H
#define CSESSION_SRC_CONFIG_H

#include "csession/config.h"
#include "csession/keys.h"

struct csession_config {
    char *cookie_name;
    char *path;
    char *domain; /* NULL: no Domain attribute */
    int secure;
    int http_only;
    int partitioned;
    int same_site; /* csession_same_site */
    int security;  /* csession_cookie_security */
    int lifecycle; /* csession_lifecycle */
    int64_t ttl;   /* state TTL (browser session) or session TTL (persistent) */
    int ttl_policy; /* csession_ttl_policy */
    int64_t absolute_timeout; /* seconds from creation; 0: none */
    int64_t touch_after;      /* least seconds between two extensions; 0: every request */
    int64_t rotate_every;     /* seconds a key is used before it is renewed; 0: never */
    int64_t rotate_grace;     /* seconds a retired key keeps working */
    csession_keyring *keys;
};

#endif
