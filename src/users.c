/*
 * A user's sessions (csession/users.h): the binding in the session, and
 * listing and ending through the store's user index (store_users.h).
 */
#include "users.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "csession/users.h"
#include "error.h"
#include "session.h"
#include "session_key.h"
#include "state_format.h"
#include "store_users.h"

/* ---- the binding ------------------------------------------------------- */

int csession_bind(csession *s, const char *user, size_t user_len, const char *label,
                  size_t label_len)
{
    if (!s)
        return csession__error(CSESSION_EINVAL, "session is NULL");
    if (!csession__user_id_valid(user, user_len))
        return csession__error(CSESSION_EINVAL,
                               "not a user id (1 to %d bytes of printable ASCII without '\"', "
                               "'\\', '{' or '}')",
                               CSESSION_USER_ID_MAX);
    if (!label)
        label_len = 0;
    int rc = csession_renew(s);
    if (rc)
        return rc;
    csession__state_meta *m = &s->meta;
    memcpy(m->user, user, user_len);
    m->user[user_len] = '\0';
    m->user_len = user_len;
    m->label_len = label_len > CSESSION__LABEL_MAX ? CSESSION__LABEL_MAX : label_len;
    for (size_t i = 0; i < m->label_len; i++) {
        unsigned char c = (unsigned char)label[i];
        m->label[i] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ? '?' : (char)c;
    }
    m->label[m->label_len] = '\0';
    return 0;
}

int csession_unbind(csession *s)
{
    if (!s)
        return csession__error(CSESSION_EINVAL, "session is NULL");
    if (!s->meta.user_len)
        return 0;
    int rc = csession_renew(s);
    if (rc)
        return rc;
    s->meta.user_len = s->meta.label_len = 0;
    s->meta.user[0] = s->meta.label[0] = '\0';
    return 0;
}

int csession_user(const csession *s, const char **user, size_t *user_len)
{
    if (!s || !user)
        return csession__error(CSESSION_EINVAL, "NULL session or output");
    if (!s->meta.user_len)
        return CSESSION_ENOTFOUND;
    *user = s->meta.user;
    if (user_len)
        *user_len = s->meta.user_len;
    return 0;
}

int csession_user_label(const csession *s, const char **label, size_t *label_len)
{
    if (!s || !label)
        return csession__error(CSESSION_EINVAL, "NULL session or output");
    if (!s->meta.user_len)
        return CSESSION_ENOTFOUND;
    *label = s->meta.label;
    if (label_len)
        *label_len = s->meta.label_len;
    return 0;
}

/* ---- listing ----------------------------------------------------------- */

typedef struct entry {
    char id[CSESSION__PUBLIC_ID_LEN + 1];
    char label[CSESSION__LABEL_MAX + 1];
    int64_t created, seen;
    int current;
} entry;

struct csession_user_sessions {
    size_t count, capacity;
    entry *entries;
};

/* What a walk over the index looks for. */
typedef struct walk {
    const char *user;
    size_t user_len;
    const csession_buf *current; /* the listing request's key, or NULL */
    csession_user_sessions *list; /* listing: every session */
    const char *id;               /* ending one: the session with this id */
    size_t id_len;
    csession_buf found;           /* ... and its key, once found */
} walk;

/* The lifetime members of a stored state that is a live session of the
 * walk's user (a retired key's record, or a state bound to somebody else
 * since, is none). 1 when it is one. */
static int state_of_user(const walk *w, const char *state, size_t state_len,
                         csession__state_meta *meta)
{
    cJSON *map = NULL;
    int rc = csession__state_decode_meta(state, state_len, &map, NULL, meta);
    csession__json_delete_wiped(map);
    return rc == 0 && !meta->to_len && meta->user_len == w->user_len &&
           memcmp(meta->user, w->user, w->user_len) == 0;
}

static int list_one(const char *key, size_t key_len, const char *state, size_t state_len,
                    void *payload)
{
    walk *w = payload;
    csession__state_meta meta;
    if (!state_of_user(w, state, state_len, &meta))
        return 0;
    csession_user_sessions *l = w->list;
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? 2 * l->capacity : 8;
        entry *grown = csession__realloc(l->entries, cap * sizeof *grown);
        if (!grown)
            return csession__oom();
        l->entries = grown;
        l->capacity = cap;
    }
    entry *e = &l->entries[l->count++];
    memcpy(e->id, meta.id, sizeof e->id);
    memcpy(e->label, meta.label, sizeof e->label);
    e->created = meta.created == CSESSION__NO_TIME ? 0 : meta.created;
    e->seen = meta.seen == CSESSION__NO_TIME ? e->created : meta.seen;
    e->current = w->current && w->current->size == key_len &&
                 csession__key_equal(w->current->ptr, key, key_len);
    return 0;
}

static int oldest_first(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

void csession_user_sessions_free(csession_user_sessions *list)
{
    if (!list)
        return;
    csession__free(list->entries);
    csession__free(list);
}

int csession_manager_user_sessions(csession_manager *mgr, const csession *current,
                                   const char *user, size_t user_len,
                                   csession_user_sessions **out)
{
    if (!out)
        return csession__error(CSESSION_EINVAL, "out is NULL");
    *out = NULL;
    if (!mgr)
        return csession__error(CSESSION_EINVAL, "manager is NULL");
    csession_user_sessions *l = csession__calloc(1, sizeof *l);
    if (!l)
        return csession__oom();
    walk w = {user, user_len, current && current->key.size ? &current->key : NULL, l, NULL, 0,
              CSESSION_BUF_INIT};
    int rc = csession__store_user_list(csession__manager_store(mgr, NULL), user, user_len, list_one,
                                       &w);
    if (rc) {
        csession_user_sessions_free(l);
        return rc;
    }
    if (l->count > 1)
        qsort(l->entries, l->count, sizeof *l->entries, oldest_first);
    *out = l;
    return 0;
}

size_t csession_user_sessions_count(const csession_user_sessions *list)
{
    return list ? list->count : 0;
}

int csession_user_sessions_get(const csession_user_sessions *list, size_t i, const char **id,
                               const char **label, int64_t *created, int64_t *last_seen,
                               int *current)
{
    if (!list || i >= list->count)
        return csession__error(CSESSION_EINVAL, "no entry %zu in the list", i);
    const entry *e = &list->entries[i];
    if (id)
        *id = e->id;
    if (label)
        *label = e->label;
    if (created)
        *created = e->created;
    if (last_seen)
        *last_seen = e->seen;
    if (current)
        *current = e->current;
    return 0;
}

int csession_user_sessions_json(const csession_user_sessions *list, csession_buf *out)
{
    if (!list || !out)
        return csession__error(CSESSION_EINVAL, "NULL list or output");
    int rc = csession__buf_set(out, "[", 1);
    /* ids are base64url and labels plain ASCII without '"' or '\\': no
     * escaping is needed. */
    for (size_t i = 0; !rc && i < list->count; i++) {
        const entry *e = &list->entries[i];
        char item[64 + sizeof e->id + sizeof e->label + 2 * 24];
        int n = snprintf(item, sizeof item,
                         "%s{\"id\":\"%s\",\"label\":\"%s\",\"created\":%" PRId64
                         ",\"last_seen\":%" PRId64 ",\"current\":%s}",
                         i ? "," : "", e->id, e->label, e->created, e->seen,
                         e->current ? "true" : "false");
        rc = csession__buf_append(out, item, (size_t)n);
    }
    if (!rc)
        rc = csession__buf_append(out, "]", 1);
    if (rc)
        csession__buf_clear(out);
    return rc;
}

/* ---- ending ------------------------------------------------------------ */

static int find_one(const char *key, size_t key_len, const char *state, size_t state_len,
                    void *payload)
{
    walk *w = payload;
    csession__state_meta meta;
    if (w->found.size || !state_of_user(w, state, state_len, &meta) ||
        strlen(meta.id) != w->id_len || sodium_memcmp(meta.id, w->id, w->id_len) != 0)
        return 0;
    return csession__buf_set(&w->found, key, key_len);
}

int csession_manager_end_user_session(csession_manager *mgr, const char *user, size_t user_len,
                                      const char *id, size_t id_len)
{
    if (!mgr || !id)
        return csession__error(CSESSION_EINVAL, "NULL manager or id");
    if (id_len == 0 || id_len > CSESSION__PUBLIC_ID_LEN)
        return CSESSION_ENOTFOUND; /* no public id has that length */
    csession_store *st = csession__manager_store(mgr, NULL);
    walk w = {user, user_len, NULL, NULL, id, id_len, CSESSION_BUF_INIT};
    int rc = csession__store_user_list(st, user, user_len, find_one, &w);
    if (!rc && !w.found.size)
        rc = CSESSION_ENOTFOUND;
    if (!rc)
        rc = csession__store_user_remove(st, user, user_len, w.found.ptr, w.found.size);
    csession_buf_dispose(&w.found);
    return rc;
}

int csession_manager_end_user_sessions(csession_manager *mgr, const char *user,
                                       size_t user_len, const csession *keep, uint64_t *ended)
{
    if (ended)
        *ended = 0;
    if (!mgr)
        return csession__error(CSESSION_EINVAL, "manager is NULL");
    const csession_buf *k = keep && keep->key.size ? &keep->key : NULL;
    return csession__store_user_end(csession__manager_store(mgr, NULL), user, user_len,
                                    k ? k->ptr : NULL, k ? k->size : 0, ended);
}
