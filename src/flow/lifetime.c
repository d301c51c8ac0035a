/* The lifetime rules: see lifetime.h. */
#include "lifetime.h"

int csession__flow_past_absolute(const csession__state_meta *meta,
                                 const csession__flow_policy *p, int64_t now)
{
    return p->absolute > 0 && meta->created != CSESSION__NO_TIME &&
           now - meta->created >= p->absolute;
}

int csession__flow_persistent(const csession__state_meta *meta, const csession__flow_policy *p)
{
    return meta->life == CSESSION__LIFE_DEFAULT ? p->persistent : meta->life > 0;
}

int64_t csession__flow_ttl(const csession__state_meta *meta, const csession__flow_policy *p,
                           int64_t now)
{
    int64_t ttl = meta->life > 0 ? meta->life : p->ttl;
    if (p->absolute > 0) {
        int64_t created = meta->created == CSESSION__NO_TIME ? now : meta->created;
        int64_t left = created + p->absolute - now;
        if (left < ttl)
            ttl = left < 1 ? 1 : left;
    }
    return ttl;
}

int csession__flow_touch_due(const csession__state_meta *meta, const csession__flow_policy *p,
                             int64_t now)
{
    return p->touch_every_request && p->touch_after > 0 &&
           (meta->seen == CSESSION__NO_TIME || now - meta->seen >= p->touch_after);
}

int csession__flow_rotate_due(const csession__state_meta *meta, const csession__flow_policy *p,
                              int64_t now)
{
    return p->rotate_every > 0 && p->can_rotate && meta->keyed != CSESSION__NO_TIME &&
           now - meta->keyed >= p->rotate_every;
}

int csession__flow_meta_missing(const csession__state_meta *meta, const csession__flow_policy *p)
{
    if (meta->created == CSESSION__NO_TIME && p->absolute > 0)
        return 1;
    return meta->keyed == CSESSION__NO_TIME && p->rotate_every > 0 && p->can_rotate;
}

csession__flow_retired csession__flow_retired_use(const csession__state_meta *meta, int64_t now)
{
    return now < meta->until ? CSESSION__RETIRED_FOLLOW : CSESSION__RETIRED_STOLEN;
}

void csession__flow_meta_for_write(csession__state_meta *meta, int new_key, int64_t now)
{
    if (meta->created == CSESSION__NO_TIME)
        meta->created = now;
    if (meta->keyed == CSESSION__NO_TIME || new_key)
        meta->keyed = now;
    meta->seen = now;
    meta->to_len = 0;
    meta->to[0] = '\0';
    meta->until = CSESSION__NO_TIME;
}
