/*
 * store_cookie.h: the cookie store - the whole state travels in the cookie.
 *
 * There is no server-side storage: the encoded state, with its expiry time,
 * is sealed into the cookie value itself (use private cookies unless the
 * state may be read by the client). Consequences, as with actix-session's
 * CookieSessionStore:
 *  - a state must fit a cookie: about 3 KB of JSON with the private ciphers
 *    (4096 bytes sealed and percent-encoded); a commit that does not fit
 *    fails with CSESSION_ETOOBIG and the client keeps its previous cookie;
 *  - delete and TTL extension cannot reach the client's copy: a purged or
 *    renewed session's old cookie stays valid until its expiry if somebody
 *    kept it. The expiry ("exp", unix seconds) is sealed inside the value and
 *    enforced on load, so a stolen cookie dies with its TTL. With the
 *    CSESSION_TTL_ON_EVERY_REQUEST policy the cookie is sealed again with a
 *    new expiry on every request.
 * Thread-safe; it holds no data.
 */
#ifndef CSESSION_STORE_COOKIE_H
#define CSESSION_STORE_COOKIE_H

#include "csession/common.h"
#include "csession/sys/store.h"

CSESSION_BEGIN_DECLS

/*
 * Creates a cookie store, owned by the caller until handed to
 * csession_manager_new(). Returns 0 or CSESSION_ENOMEM; *out is NULL on
 * failure.
 */
CSESSION_EXTERN(int) csession_store_cookie_new(csession_store **out);

CSESSION_END_DECLS

#endif /* CSESSION_STORE_COOKIE_H */
