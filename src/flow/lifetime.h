/*
 * Internal: the lifetime rules of the request flow (absolute timeout,
 * per-session lifetime, touch interval, key rotation), as pure functions of
 * a session's stored lifetime members, the configuration and the time.
 */
#ifndef CSESSION_SRC_FLOW_LIFETIME_H
#define CSESSION_SRC_FLOW_LIFETIME_H

#include <stdint.h>

#include "decide.h"
#include "state_format.h"

/* 1 when a session with `meta` is past the absolute timeout at `now`. */
int csession__flow_past_absolute(const csession__state_meta *meta,
                                 const csession__flow_policy *p, int64_t now);

/* 1 when the session's cookie carries Max-Age: its own choice, else the
 * configured lifecycle. */
int csession__flow_persistent(const csession__state_meta *meta, const csession__flow_policy *p);

/* The TTL of the state and of a persistent cookie committed at `now`: the
 * session's own lifetime, else the configured TTL, capped so as not to
 * outlive created + absolute timeout (at least 1). */
int64_t csession__flow_ttl(const csession__state_meta *meta, const csession__flow_policy *p,
                           int64_t now);

/* 1 when the touch interval is on and has passed since `meta->seen`. */
int csession__flow_touch_due(const csession__state_meta *meta, const csession__flow_policy *p,
                             int64_t now);

/* 1 when the key has been in use for the rotation interval. */
int csession__flow_rotate_due(const csession__state_meta *meta, const csession__flow_policy *p,
                              int64_t now);

/* 1 when a stored state lacks lifetime members that the configuration
 * needs kept (a state written by an earlier version or by actix-session):
 * the commit then writes them. */
int csession__flow_meta_missing(const csession__state_meta *meta, const csession__flow_policy *p);

/* What a retired key's record means at `now`. */
typedef enum csession__flow_retired {
    CSESSION__RETIRED_FOLLOW = 0, /* within grace: use the key it names */
    CSESSION__RETIRED_STOLEN      /* past grace: a stolen cookie, revoke */
} csession__flow_retired;

csession__flow_retired csession__flow_retired_use(const csession__state_meta *meta, int64_t now);

/*
 * Fills in the lifetime members a commit at `now` writes: those of the
 * session, `seen` = now, `created` and `keyed` = now when unknown, `keyed`
 * = now also for a new key (`new_key`). The public id must be set already
 * (the driver draws it).
 */
void csession__flow_meta_for_write(csession__state_meta *meta, int new_key, int64_t now);

#endif
