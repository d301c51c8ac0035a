/*
 * config.h: how sessions are kept - cookie attributes, cookie protection,
 * keys, lifecycle and TTL policy.
 *
 * A configuration starts with actix-session's defaults:
 *   cookie name "id", Path "/", no Domain, Secure, HttpOnly, SameSite=Lax,
 *   private (encrypted) cookies, browser-session lifecycle with a state TTL
 *   of one day, TTL extended on state changes only.
 * One deliberate difference: the private cipher defaults to
 * XChaCha20-Poly1305, which runs on every CPU; AES-256-GCM, actix-session's
 * cipher, is one csession_config_set_security() away.
 *
 * Setters check their own argument (CSESSION_EINVAL for a value that can
 * never be right); combinations are checked by csession_manager_new(), so a
 * bad configuration fails at start-up, never at the first request.
 *
 * Thread safety: a configuration is built by one thread. The manager copies
 * what it needs, so the configuration may be freed or reused once
 * csession_manager_new() returns.
 */
#ifndef CSESSION_CONFIG_H
#define CSESSION_CONFIG_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/* The SameSite attribute. */
typedef enum csession_same_site {
    CSESSION_SAME_SITE_OMIT = 0, /* no attribute (browsers then use Lax) */
    CSESSION_SAME_SITE_STRICT = 1,
    CSESSION_SAME_SITE_LAX = 2,
    CSESSION_SAME_SITE_NONE = 3  /* cross-site; requires Secure */
} csession_same_site;

/* How long the cookie and the state live. */
typedef enum csession_lifecycle {
    /* The cookie has no Max-Age: the browser drops it when it closes. The
     * stored state expires after the state TTL. */
    CSESSION_LIFECYCLE_BROWSER_SESSION = 0,
    /* The cookie carries Max-Age = the session TTL, and the state lives as
     * long. */
    CSESSION_LIFECYCLE_PERSISTENT = 1
} csession_lifecycle;

/* When the TTL of the state (and of a persistent cookie) is extended. */
typedef enum csession_ttl_policy {
    CSESSION_TTL_ON_STATE_CHANGES = 0, /* only when the session is written */
    CSESSION_TTL_ON_EVERY_REQUEST = 1  /* on every request that carries a session */
} csession_ttl_policy;

/* Default TTL, in seconds, of both lifecycles (one day). */
#define CSESSION_DEFAULT_TTL 86400
/* Longest TTL accepted, in seconds (400 days: browsers cap Max-Age there). */
#define CSESSION_MAX_TTL 34560000

/* CSESSION_DEFAULT_TTL and CSESSION_MAX_TTL, for bindings that cannot read macros. */
CSESSION_EXTERN(int64_t) csession_config_default_ttl(void);
CSESSION_EXTERN(int64_t) csession_config_max_ttl(void);

typedef struct csession_config csession_config;

/*
 * Creates a configuration holding the defaults above and no key.
 * Returns 0, CSESSION_ENOMEM or CSESSION_ERROR (libsodium failed to
 * initialise). On failure *out is NULL. Free it with csession_config_free().
 */
CSESSION_EXTERN(int) csession_config_new(csession_config **out);

/* Wipes the keys and releases the configuration. NULL is a no-op. */
CSESSION_EXTERN(void) csession_config_free(csession_config *cfg);

/*
 * Adds a 64-byte master key (see keys.h for generating, deriving and
 * decoding one). The first key added seals new cookies; every key opens
 * cookies, so rotate by adding the new key first and the old ones after it.
 * The key is copied; wipe yours when you like.
 * Returns 0, CSESSION_EINVAL (NULL, key_len not 64, duplicate key),
 * CSESSION_ETOOBIG (more than csession_keyring_max_keys() keys) or
 * CSESSION_ENOMEM.
 */
CSESSION_EXTERN(int) csession_config_add_key(csession_config *cfg, const unsigned char *key,
                                             size_t key_len);

/* Like csession_config_add_key() with a key written as 128 hex digits or as
 * base64 (see csession_key_from_text()). Also CSESSION_EFORMAT. */
CSESSION_EXTERN(int) csession_config_add_key_text(csession_config *cfg, const char *text,
                                                  size_t text_len);

/* Number of keys added so far. */
CSESSION_EXTERN(size_t) csession_config_key_count(const csession_config *cfg);

/*
 * Cookie name (an RFC 6265 token such as "id"; NUL-terminated).
 * The prefixes of RFC 6265bis bind browsers, in any case of their letters:
 * a name starting with "__Secure-" needs Secure, one starting with "__Host-"
 * needs Secure, Path=/ and no Domain; csession_manager_new() refuses other
 * combinations with CSESSION_EINVAL.
 * Returns 0, CSESSION_EINVAL (not a token), CSESSION_ETOOBIG or ENOMEM.
 */
CSESSION_EXTERN(int) csession_config_set_cookie_name(csession_config *cfg, const char *name);

/* Path attribute; must start with '/'. Returns 0, EINVAL or ENOMEM. */
CSESSION_EXTERN(int) csession_config_set_path(csession_config *cfg, const char *path);

/* Domain attribute, or NULL for none (the default: host-only cookie).
 * Returns 0, EINVAL or ENOMEM. */
CSESSION_EXTERN(int) csession_config_set_domain(csession_config *cfg, const char *domain);

/* Secure attribute on (non-zero, the default) or off - off only for local
 * plain-HTTP testing. Returns 0 or EINVAL. */
CSESSION_EXTERN(int) csession_config_set_secure(csession_config *cfg, int on);

/* HttpOnly attribute on (non-zero, the default) or off. Returns 0 or EINVAL. */
CSESSION_EXTERN(int) csession_config_set_http_only(csession_config *cfg, int on);

/* SameSite attribute, a csession_same_site. Returns 0 or EINVAL. */
CSESSION_EXTERN(int) csession_config_set_same_site(csession_config *cfg, int same_site);

/* Partitioned attribute (CHIPS) on or off (the default); requires Secure.
 * Returns 0 or EINVAL. */
CSESSION_EXTERN(int) csession_config_set_partitioned(csession_config *cfg, int on);

/*
 * How the cookie value is protected, a csession_cookie_security from
 * cookie_security.h (default CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305).
 * Returns 0 or EINVAL. Whether the CPU can run it is checked by
 * csession_manager_new() (CSESSION_EUNSUPPORTED).
 */
CSESSION_EXTERN(int) csession_config_set_security(csession_config *cfg, int mode);

/*
 * Browser-session lifecycle (the default): no Max-Age on the cookie; the
 * state expires `state_ttl_seconds` after it was last extended.
 * Returns 0 or CSESSION_EINVAL (TTL outside 1..CSESSION_MAX_TTL).
 */
CSESSION_EXTERN(int) csession_config_set_browser_session(csession_config *cfg,
                                                         int64_t state_ttl_seconds);

/*
 * Persistent lifecycle: the cookie carries Max-Age (and Expires) of
 * `session_ttl_seconds`, and the state lives as long.
 * Returns 0 or CSESSION_EINVAL (TTL outside 1..CSESSION_MAX_TTL).
 */
CSESSION_EXTERN(int) csession_config_set_persistent(csession_config *cfg,
                                                    int64_t session_ttl_seconds);

/* TTL extension policy, a csession_ttl_policy. Returns 0 or EINVAL. */
CSESSION_EXTERN(int) csession_config_set_ttl_policy(csession_config *cfg, int policy);

/*
 * Lifetimes (docs/request-flow.md, "Lifetimes"). All default to 0: off,
 * actix-session's behaviour. Each returns 0 or CSESSION_EINVAL (NULL, or
 * seconds outside 0..CSESSION_MAX_TTL).
 */

/*
 * Absolute timeout: a session older than `seconds`, counted from its
 * creation (renewals and rotations keep it), no longer loads, however
 * active it is: the request gets a fresh session and the stored state is
 * removed. The TTL of the state and a persistent cookie's Max-Age never
 * reach past it. It works beside the idle timeout (the TTL and its
 * policy). On the cookie store the creation time is sealed in the cookie.
 * 0 turns it off.
 */
CSESSION_EXTERN(int) csession_config_set_absolute_timeout(csession_config *cfg, int64_t seconds);

/*
 * Touch interval, for CSESSION_TTL_ON_EVERY_REQUEST: a request that changes
 * nothing extends the TTL (and re-sends a persistent cookie, or re-seals a
 * cookie-store cookie) only when `seconds` have passed since the session
 * was last written or extended; in between it makes no write and sends no
 * Set-Cookie. The extension is then a write of the state (its last-seen
 * time), so the read-only requests in between are a single read. Effect on
 * precision: a session idle for `ttl - seconds` may already have expired
 * (it expires between ttl - seconds and ttl after its last request).
 * 0 extends on every request (the default).
 */
CSESSION_EXTERN(int) csession_config_set_touch_after(csession_config *cfg, int64_t seconds);

/*
 * Periodic key rotation with theft detection: once a session key has been
 * in use for `every_seconds`, the next request renews it (same state,
 * creation time and public id; a new cookie). The retired key keeps
 * working for `grace_seconds`, so that requests sent with it in parallel
 * still see the session and its latest state; presented later, it is taken
 * for a stolen cookie: the whole session is revoked (old and new keys), the
 * event is logged with the public id, and the request gets a fresh
 * session. Needs a server-side store; the cookie store does not rotate.
 * `every_seconds` 0 turns it off.
 */
CSESSION_EXTERN(int) csession_config_set_rotation(csession_config *cfg, int64_t every_seconds,
                                                  int64_t grace_seconds);

CSESSION_END_DECLS

#endif /* CSESSION_CONFIG_H */
