/* The store members of a user's sessions: see store_users.h. */
#include "store_users.h"

#include "buf.h"
#include "error.h"

int csession__store_has_users(const csession_store *store)
{
    return store && store->version >= 3 && store->user_save && store->user_remove &&
           store->user_list && store->user_end;
}

/* A failure of a member, held to the contract: negative, with a message. */
static int failed(int rc, const char *op)
{
    if (rc > 0)
        return csession__error(CSESSION_ESTORE, "session store %s returned %d", op, rc);
    if (csession_last_error_code() != rc)
        csession__error(rc, "session store %s failed: %s", op, csession_strerror(rc));
    return rc;
}

int csession__store_user_save(csession_store *store, const char *user, size_t user_len,
                              const char *state, size_t state_len, int64_t ttl_seconds,
                              unsigned int save_flags, csession_buf *key_out)
{
    if (!csession__store_has_users(store))
        return csession__error(CSESSION_EUNSUPPORTED,
                               "this session store keeps no index of a user's sessions");
    if (!key_out || !user || (!state && state_len))
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    csession__buf_clear(key_out);
    int rc = store->user_save(store, user, user_len, state, state_len, ttl_seconds, save_flags,
                              key_out);
    if (rc == 0 && key_out->size == 0)
        rc = csession__error(CSESSION_ESTORE, "session store user_save returned an empty key");
    else if (rc)
        rc = failed(rc, "user_save");
    if (rc)
        csession__buf_clear(key_out);
    return rc;
}

int csession__store_user_remove(csession_store *store, const char *user, size_t user_len,
                                const char *key, size_t key_len)
{
    if (!csession__store_has_users(store))
        return csession__error(CSESSION_EUNSUPPORTED,
                               "this session store keeps no index of a user's sessions");
    if (!key || key_len == 0 || !user)
        return csession__error(CSESSION_EINVAL, "empty session key");
    int rc = store->user_remove(store, user, user_len, key, key_len);
    return rc == 0 || rc == CSESSION_ENOTFOUND ? 0 : failed(rc, "user_remove");
}

int csession__store_call_kind_for(const csession_store *store, const csession__state_meta *meta,
                                  int kind)
{
    if (!meta || !meta->user_len || !csession__store_has_users(store))
        return kind;
    return kind == CSESSION_CALL_SAVE ? CSESSION_CALL_USER_SAVE
           : kind == CSESSION_CALL_REMOVE ? CSESSION_CALL_USER_REMOVE
                                          : kind;
}

static int check_user(const csession_store *store, const char *user, size_t user_len)
{
    if (!csession__user_id_valid(user, user_len))
        return csession__error(CSESSION_EINVAL,
                               "not a user id (1 to %d bytes of printable ASCII without '\"', "
                               "'\\', '{' or '}')",
                               CSESSION__USER_MAX);
    if (!csession__store_has_users(store))
        return csession__error(CSESSION_EUNSUPPORTED,
                               "this session store keeps no index of a user's sessions");
    return 0;
}

int csession__store_user_list(csession_store *store, const char *user, size_t user_len,
                              csession__user_each_fn each, void *payload)
{
    int rc = check_user(store, user, user_len);
    if (rc)
        return rc;
    if (!each)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    rc = store->user_list(store, user, user_len, each, payload);
    return rc == 0 ? 0 : failed(rc, "user_list");
}

int csession__store_user_end(csession_store *store, const char *user, size_t user_len,
                             const char *keep_key, size_t keep_key_len, uint64_t *ended)
{
    uint64_t n = 0;
    int rc = check_user(store, user, user_len);
    if (rc)
        return rc;
    if (!keep_key)
        keep_key_len = 0;
    rc = store->user_end(store, user, user_len, keep_key_len ? keep_key : NULL, keep_key_len, &n);
    if (ended)
        *ended = n;
    return rc == 0 ? 0 : failed(rc, "user_end");
}
