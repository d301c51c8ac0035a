/* The configuration object: defaults, typed setters, argument checks. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "cookie/header.h"
#include "csession/cookie_security.h"
#include "csession/library.h"
#include "error.h"

/* Replaces an owned string setting with a copy of `value` (or NULL). */
static int set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = csession__strndup(value, strlen(value))))
        return csession__oom();
    csession__free(*field);
    *field = copy;
    return 0;
}

int64_t csession_config_default_ttl(void)
{
    return CSESSION_DEFAULT_TTL;
}

int64_t csession_config_max_ttl(void)
{
    return CSESSION_MAX_TTL;
}

int csession_config_new(csession_config **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    int rc = csession_init();
    if (rc)
        return rc;
    csession_config *cfg = csession__calloc(1, sizeof *cfg);
    if (!cfg)
        return csession__oom();
    cfg->secure = 1;
    cfg->http_only = 1;
    cfg->same_site = CSESSION_SAME_SITE_LAX;
    cfg->security = CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305;
    cfg->lifecycle = CSESSION_LIFECYCLE_BROWSER_SESSION;
    cfg->ttl = CSESSION_DEFAULT_TTL;
    cfg->ttl_policy = CSESSION_TTL_ON_STATE_CHANGES;
    if ((rc = set_string(&cfg->cookie_name, "id")) || (rc = set_string(&cfg->path, "/")) ||
        (rc = csession_keyring_new(&cfg->keys, 0))) {
        csession_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

void csession_config_free(csession_config *cfg)
{
    if (!cfg)
        return;
    csession__free(cfg->cookie_name);
    csession__free(cfg->path);
    csession__free(cfg->domain);
    csession_keyring_free(cfg->keys);
    csession__free(cfg);
}

#define REQUIRE_CFG(cfg)                                                                  \
    do {                                                                                  \
        if (!(cfg))                                                                       \
            return csession__error(CSESSION_EINVAL, "configuration is NULL");             \
    } while (0)

int csession_config_add_key(csession_config *cfg, const unsigned char *key, size_t key_len)
{
    REQUIRE_CFG(cfg);
    return csession_keyring_add(cfg->keys, key, key_len);
}

int csession_config_add_key_text(csession_config *cfg, const char *text, size_t text_len)
{
    REQUIRE_CFG(cfg);
    return csession_keyring_add_text(cfg->keys, text, text_len);
}

size_t csession_config_key_count(const csession_config *cfg)
{
    return cfg ? csession_keyring_count(cfg->keys) : 0;
}

int csession_config_set_cookie_name(csession_config *cfg, const char *name)
{
    REQUIRE_CFG(cfg);
    if (!name)
        return csession__error(CSESSION_EINVAL, "cookie name is NULL");
    size_t len = strlen(name);
    if (len > CSESSION__COOKIE_NAME_MAX)
        return csession__error(CSESSION_ETOOBIG, "cookie name longer than %d bytes",
                               CSESSION__COOKIE_NAME_MAX);
    if (!csession__cookie_is_token(name, len))
        return csession__error(CSESSION_EINVAL,
                               "cookie name \"%.64s\" is not an RFC 6265 token", name);
    return set_string(&cfg->cookie_name, name);
}

int csession_config_set_path(csession_config *cfg, const char *path)
{
    REQUIRE_CFG(cfg);
    if (!path || path[0] != '/')
        return csession__error(CSESSION_EINVAL, "cookie path must start with '/'");
    return set_string(&cfg->path, path);
}

int csession_config_set_domain(csession_config *cfg, const char *domain)
{
    REQUIRE_CFG(cfg);
    if (domain && !domain[0])
        return csession__error(CSESSION_EINVAL, "cookie domain is empty (pass NULL for none)");
    return set_string(&cfg->domain, domain);
}

int csession_config_set_secure(csession_config *cfg, int on)
{
    REQUIRE_CFG(cfg);
    cfg->secure = on != 0;
    return 0;
}

int csession_config_set_http_only(csession_config *cfg, int on)
{
    REQUIRE_CFG(cfg);
    cfg->http_only = on != 0;
    return 0;
}

int csession_config_set_partitioned(csession_config *cfg, int on)
{
    REQUIRE_CFG(cfg);
    cfg->partitioned = on != 0;
    return 0;
}

int csession_config_set_same_site(csession_config *cfg, int same_site)
{
    REQUIRE_CFG(cfg);
    if (same_site < CSESSION_SAME_SITE_OMIT || same_site > CSESSION_SAME_SITE_NONE)
        return csession__error(CSESSION_EINVAL, "unknown SameSite value %d", same_site);
    cfg->same_site = same_site;
    return 0;
}

int csession_config_set_security(csession_config *cfg, int mode)
{
    REQUIRE_CFG(cfg);
    if (mode != CSESSION_COOKIE_SIGNED && mode != CSESSION_COOKIE_PRIVATE_AES256GCM &&
        mode != CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305)
        return csession__error(CSESSION_EINVAL, "unknown cookie security mode %d", mode);
    cfg->security = mode;
    return 0;
}

static int set_lifecycle(csession_config *cfg, int lifecycle, int64_t ttl)
{
    REQUIRE_CFG(cfg);
    if (ttl < 1 || ttl > CSESSION_MAX_TTL)
        return csession__error(CSESSION_EINVAL, "TTL %lld s is outside 1..%d s", (long long)ttl,
                               CSESSION_MAX_TTL);
    cfg->lifecycle = lifecycle;
    cfg->ttl = ttl;
    return 0;
}

int csession_config_set_browser_session(csession_config *cfg, int64_t state_ttl_seconds)
{
    return set_lifecycle(cfg, CSESSION_LIFECYCLE_BROWSER_SESSION, state_ttl_seconds);
}

int csession_config_set_persistent(csession_config *cfg, int64_t session_ttl_seconds)
{
    return set_lifecycle(cfg, CSESSION_LIFECYCLE_PERSISTENT, session_ttl_seconds);
}

int csession_config_set_ttl_policy(csession_config *cfg, int policy)
{
    REQUIRE_CFG(cfg);
    if (policy != CSESSION_TTL_ON_STATE_CHANGES && policy != CSESSION_TTL_ON_EVERY_REQUEST)
        return csession__error(CSESSION_EINVAL, "unknown TTL policy %d", policy);
    cfg->ttl_policy = policy;
    return 0;
}

/* 0 (off) or a number of seconds the TTL rules allow. */
static int check_seconds(int64_t seconds, const char *what)
{
    if (seconds < 0 || seconds > CSESSION_MAX_TTL)
        return csession__error(CSESSION_EINVAL, "%s of %lld s outside 0..%d", what,
                               (long long)seconds, CSESSION_MAX_TTL);
    return 0;
}

int csession_config_set_absolute_timeout(csession_config *cfg, int64_t seconds)
{
    REQUIRE_CFG(cfg);
    int rc = check_seconds(seconds, "absolute timeout");
    if (!rc)
        cfg->absolute_timeout = seconds;
    return rc;
}

int csession_config_set_touch_after(csession_config *cfg, int64_t seconds)
{
    REQUIRE_CFG(cfg);
    int rc = check_seconds(seconds, "touch interval");
    if (!rc)
        cfg->touch_after = seconds;
    return rc;
}

int csession_config_set_rotation(csession_config *cfg, int64_t every_seconds,
                                 int64_t grace_seconds)
{
    REQUIRE_CFG(cfg);
    int rc = check_seconds(every_seconds, "rotation interval");
    if (!rc)
        rc = check_seconds(grace_seconds, "rotation grace period");
    if (rc)
        return rc;
    cfg->rotate_every = every_seconds;
    cfg->rotate_grace = grace_seconds;
    return 0;
}
