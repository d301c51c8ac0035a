/* The commit decision table: see decide.h. */
#include "decide.h"

#include "csession/session.h"
#include "lifetime.h"

int64_t csession__flow_load_touch(const csession__flow_policy *p, int64_t ttl)
{
    return p->touch_every_request && p->touch_on_load && !p->state_in_cookie && !p->touch_after
               ? ttl
               : 0;
}

int csession__flow_touch_resends(const csession *s, const csession__flow_policy *p)
{
    return csession__flow_persistent(&s->meta, p) || s->reissue;
}

csession__flow_op csession__flow_decide(const csession *s, const csession__flow_policy *p)
{
    if (s->ended)
        return CSESSION__FLOW_ENDED;
    if (s->key.size == 0) /* never store or send an empty session */
        return csession_count(s) == 0 && !s->meta.user_len ? CSESSION__FLOW_NOTHING
                                                             : CSESSION__FLOW_SAVE;
    if (s->rotate_due &&
        (s->status == CSESSION_STATUS_CHANGED || s->status == CSESSION_STATUS_UNCHANGED))
        return CSESSION__FLOW_ROTATE;
    switch (s->status) {
    case CSESSION_STATUS_CHANGED: return CSESSION__FLOW_UPDATE;
    case CSESSION_STATUS_PURGED: return CSESSION__FLOW_REMOVE;
    case CSESSION_STATUS_RENEWED: return CSESSION__FLOW_RENEW;
    default: break; /* UNCHANGED */
    }
    /* A due touch under a touch interval, or lifetime members to add: the
     * state is written with its new last-seen time. */
    if (s->meta_due)
        return p->state_in_cookie ? CSESSION__FLOW_RESEAL : CSESSION__FLOW_UPDATE;
    if (p->touch_every_request && p->touch_after > 0)
        return s->reissue ? CSESSION__FLOW_RESEND : CSESSION__FLOW_NOTHING;
    if (p->touch_every_request) {
        if (p->state_in_cookie)
            return CSESSION__FLOW_RESEAL; /* the expiry travels sealed in the cookie */
        if (!s->ttl_touched)
            return CSESSION__FLOW_TOUCH;
        return csession__flow_touch_resends(s, p) ? CSESSION__FLOW_RESEND : CSESSION__FLOW_NOTHING;
    }
    return s->reissue ? CSESSION__FLOW_RESEND : CSESSION__FLOW_NOTHING;
}
