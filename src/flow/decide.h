/*
 * Internal: the request flow's decisions, as pure functions of a session
 * and the configuration: no store, no I/O, no clock. The drivers (the
 * blocking one in manager.c) carry them out and apply the outcome.
 */
#ifndef CSESSION_SRC_FLOW_DECIDE_H
#define CSESSION_SRC_FLOW_DECIDE_H

#include "session.h"

/* What a commit asks of the store (the decision table of
 * docs/request-flow.md). */
typedef enum csession__flow_op {
    CSESSION__FLOW_NOTHING = 0, /* no store call, no header */
    CSESSION__FLOW_SAVE,        /* a new session: save, new cookie */
    CSESSION__FLOW_UPDATE,      /* CHANGED: write the state back, cookie */
    CSESSION__FLOW_REMOVE,      /* PURGED: delete, removal cookie */
    CSESSION__FLOW_RENEW,       /* RENEWED: save under a new key, retire the old one */
    CSESSION__FLOW_TOUCH,       /* UNCHANGED: extend the TTL (update_ttl), maybe re-send */
    CSESSION__FLOW_RESEAL,      /* UNCHANGED, state in the cookie: seal anew (new expiry) */
    CSESSION__FLOW_RESEND,      /* UNCHANGED: no store call, the cookie sent again */
    CSESSION__FLOW_ENDED,       /* ended by another request: removal cookie, CSESSION_EGONE */
    CSESSION__FLOW_ROTATE       /* key in use too long: save under a new key, retire the old
                                 * one to a record naming it (grace period) */
} csession__flow_op;

/* What the decisions depend on besides the session. */
typedef struct csession__flow_policy {
    int touch_every_request; /* CSESSION_TTL_ON_EVERY_REQUEST */
    int persistent;          /* CSESSION_LIFECYCLE_PERSISTENT: Max-Age on the cookie */
    int state_in_cookie;     /* the store's CSESSION_STORE_STATE_IN_COOKIE */
    int touch_on_load;       /* load extends the TTL (the store has load_rev) */
    /* Lifetimes (lifetime.h); seconds, 0: off. */
    int64_t ttl;             /* the configured TTL */
    int64_t absolute;        /* absolute timeout */
    int64_t touch_after;     /* touch interval under touch_every_request */
    int64_t rotate_every;    /* key rotation interval */
    int64_t rotate_grace;    /* how long a retired key keeps working */
    int can_rotate;          /* the store keeps state server-side, with revisions */
} csession__flow_policy;

/* The TTL a load should extend in the same store call: the TTL when the
 * policy and the store allow it, else 0 (no touch; also under a touch
 * interval, where a due touch is a write at commit). */
int64_t csession__flow_load_touch(const csession__flow_policy *p, int64_t ttl);

/* The commit's store operation for `s`. */
csession__flow_op csession__flow_decide(const csession *s, const csession__flow_policy *p);

/* Whether a TOUCH also sends the cookie again (a persistent cookie's
 * Max-Age restarts with the TTL; a cookie opened by an old key of the ring
 * is sealed with the current one). */
int csession__flow_touch_resends(const csession *s, const csession__flow_policy *p);

#endif
