/*
 * Internal: re-applying a request's changes on a newer state (the merge of
 * a commit that met another writer's revision). Pure: JSON trees in, a JSON
 * tree out.
 */
#ifndef CSESSION_SRC_FLOW_MERGE_H
#define CSESSION_SRC_FLOW_MERGE_H

#include <cJSON.h>

#include "session.h"

/*
 * `base` is the state `s` was loaded from, `latest` the state another
 * writer stored since. The request's own changes are the keys it inserted
 * or removed (their values now in s->map) or, after a clear, the whole map.
 *
 * They merge when the other writer changed none of them: for each touched
 * key, its value in `latest` is still the one in `base` (a clear merges
 * only when `latest` equals `base`). *merged is then `latest` with the
 * request's changes applied on top (a new tree owned by the caller; key
 * order: latest's, new keys after). Returns 0, CSESSION_ECONFLICT (both
 * changed the same key: nothing merged) or CSESSION_ENOMEM.
 */
int csession__flow_merge(const csession *s, const cJSON *base, const cJSON *latest,
                         cJSON **merged);

#endif
