/* The store vtable: version check, the calls through it, and the helpers
 * that backends written outside the library use to report results. */
#include "store.h"
#include "store_users.h"

#include "buf.h"
#include "error.h"

unsigned int csession_store_version(void)
{
    return CSESSION_STORE_VERSION;
}

void csession_store_free(csession_store *store)
{
    if (store && store->free)
        store->free(store);
}

int csession_set_error(int code, const char *message)
{
    if (code == CSESSION_OK) {
        csession_clear_error();
        return CSESSION_OK;
    }
    if (!message)
        return csession__error(code, NULL);
    return csession__error(code, "%s", message);
}

int csession__store_check(const csession_store *store)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "no session store given");
    if (store->version < 1 || store->version > CSESSION_STORE_VERSION)
        return csession__error(CSESSION_EINVAL,
                               "session store has version %u; this library knows 1 to %u",
                               store->version, (unsigned)CSESSION_STORE_VERSION);
    const char *missing = !store->load         ? "load"
                          : !store->save       ? "save"
                          : !store->update     ? "update"
                          : !store->update_ttl ? "update_ttl"
                          : !store->remove     ? "remove"
                          : !store->free       ? "free"
                                               : NULL;
    if (missing)
        return csession__error(CSESSION_EINVAL, "session store has no '%s' operation", missing);
    if (store->version >= 3 && store->start && !store->cancel)
        return csession__error(CSESSION_EINVAL, "session store has 'start' but no 'cancel'");
    return 0;
}

/* Holds a backend's answer to the contract: negative codes with a message. */
static int failure(int rc, const char *op)
{
    if (rc > 0)
        return csession__error(CSESSION_ESTORE, "session store %s returned %d", op, rc);
    if (csession_last_error_code() != rc)
        csession__error(rc, "session store %s failed: %s", op, csession_strerror(rc));
    return rc;
}

static int check_key(const char *key, size_t key_len)
{
    if (!key || key_len == 0)
        return csession__error(CSESSION_EINVAL, "empty session key");
    return 0;
}

static int check_state(const char *state, size_t state_len, int64_t ttl_seconds)
{
    if (!state && state_len)
        return csession__error(CSESSION_EINVAL, "NULL session state");
    if (ttl_seconds < 1)
        return csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    return 0;
}

/* A read's answer: the state, CSESSION_ENOTFOUND, or a failure; `state`
 * is left empty unless found. */
static int loaded(int rc, csession_buf *state, const char *op)
{
    if (rc == 0)
        return 0;
    csession__buf_clear(state);
    return rc == CSESSION_ENOTFOUND ? rc : failure(rc, op);
}

/* The answer of update_ttl and remove: a key that is not there is fine. */
static int kept(int rc, const char *op)
{
    if (rc == 0 || rc == CSESSION_ENOTFOUND)
        return 0;
    return failure(rc, op);
}

int csession__store_load(csession_store *store, const char *key, size_t key_len,
                         csession_buf *state)
{
    if (!store || !state)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0)
        rc = store->load(store, key, key_len, state);
    return loaded(rc, state, "load");
}

/* A key handed back by save or update becomes a cookie: it cannot be empty. */
static int returned_key(int rc, csession_buf *key_out, const char *op)
{
    if (rc == 0 && key_out->size == 0)
        rc = csession__error(CSESSION_ESTORE, "session store %s returned an empty key", op);
    else if (rc != 0)
        rc = failure(rc, op);
    if (rc)
        csession__buf_clear(key_out);
    return rc;
}

int csession__store_save(csession_store *store, const char *state, size_t state_len,
                         int64_t ttl_seconds, csession_buf *key_out)
{
    static const csession__store_caps none = {0, 0, 0, 0, 0, 0};
    return csession__store_save_flags(store, &none, state, state_len, ttl_seconds, 0, key_out);
}

int csession__store_save_flags(csession_store *store, const csession__store_caps *caps,
                               const char *state, size_t state_len, int64_t ttl_seconds,
                               unsigned int save_flags, csession_buf *key_out)
{
    if (!store || !key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_state(state, state_len, ttl_seconds);
    if (rc)
        return rc;
    csession__buf_clear(key_out);
    rc = caps->save_ex
             ? store->save_ex(store, state, state_len, ttl_seconds, save_flags, key_out)
             : store->save(store, state, state_len, ttl_seconds, key_out);
    return returned_key(rc, key_out, caps->save_ex ? "save_ex" : "save");
}

int csession__store_update(csession_store *store, const char *key, size_t key_len,
                           const char *state, size_t state_len, int64_t ttl_seconds,
                           csession_buf *key_out)
{
    if (!store || !key_out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0)
        rc = check_state(state, state_len, ttl_seconds);
    if (rc)
        return rc;
    csession__buf_clear(key_out);
    rc = store->update(store, key, key_len, state, state_len, ttl_seconds, key_out);
    if (rc == CSESSION_ENOTFOUND) {
        csession__buf_clear(key_out);
        rc = store->save(store, state, state_len, ttl_seconds, key_out);
        return returned_key(rc, key_out, "save");
    }
    return returned_key(rc, key_out, "update");
}

int csession__store_update_ttl(csession_store *store, const char *key, size_t key_len,
                               int64_t ttl_seconds)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0 && ttl_seconds < 1)
        rc = csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (rc)
        return rc;
    return kept(store->update_ttl(store, key, key_len, ttl_seconds), "update_ttl");
}

int csession__store_remove(csession_store *store, const char *key, size_t key_len)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    return kept(store->remove(store, key, key_len), "remove");
}

/* ---- version 2 ------------------------------------------------------------ */

void csession__store_caps_of(const csession_store *store, csession__store_caps *caps)
{
    caps->flags = 0;
    caps->load_rev = caps->update_if = caps->remove_if = caps->save_ex = caps->start = 0;
    if (!store || store->version < 2)
        return; /* nothing past `payload` exists in a version 1 store */
    caps->flags = store->flags;
    caps->load_rev = store->load_rev != NULL;
    caps->update_if = store->update_if != NULL;
    caps->remove_if = store->update_if != NULL && store->remove_if != NULL;
    caps->save_ex = store->save_ex != NULL;
    if (store->version < 3)
        return; /* nor anything past save_ex in a version 2 one */
    caps->start = store->start != NULL && store->cancel != NULL;
}

int csession__store_load_rev(csession_store *store, const csession__store_caps *caps,
                             const char *key, size_t key_len, int64_t touch_ttl_seconds,
                             csession_buf *state, uint64_t *revision, int *touched)
{
    *revision = 0;
    *touched = 0;
    if (!caps->load_rev)
        return csession__store_load(store, key, key_len, state);
    if (!store || !state)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0 && touch_ttl_seconds < 0)
        rc = csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (rc == 0)
        rc = store->load_rev(store, key, key_len, touch_ttl_seconds, state, revision);
    *touched = rc == 0 && touch_ttl_seconds > 0;
    if (rc)
        *revision = 0;
    return loaded(rc, state, "load_rev");
}

/* The three answers of a conditional write that are not failures. */
static int conditional(int rc, const char *op)
{
    if (rc == 0 || rc == CSESSION_ENOTFOUND || rc == CSESSION_ECONFLICT)
        return rc;
    return failure(rc, op);
}

int csession__store_update_if(csession_store *store, const char *key, size_t key_len,
                              uint64_t expected_revision, const char *state, size_t state_len,
                              int64_t ttl_seconds)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0)
        rc = check_state(state, state_len, ttl_seconds);
    if (rc)
        return rc;
    rc = store->update_if(store, key, key_len, expected_revision, state, state_len,
                          ttl_seconds);
    return conditional(rc, "update_if");
}

int csession__store_remove_if(csession_store *store, const char *key, size_t key_len,
                              uint64_t expected_revision)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    rc = store->remove_if(store, key, key_len, expected_revision);
    return conditional(rc, "remove_if");
}

/* ---- version 3 ------------------------------------------------------------ */

static const char *call_name(int kind)
{
    switch (kind) {
    case CSESSION_CALL_LOAD_REV: return "load_rev";
    case CSESSION_CALL_SAVE: return "save";
    case CSESSION_CALL_UPDATE: return "update";
    case CSESSION_CALL_UPDATE_TTL: return "update_ttl";
    case CSESSION_CALL_REMOVE: return "remove";
    case CSESSION_CALL_UPDATE_IF: return "update_if";
    case CSESSION_CALL_REMOVE_IF: return "remove_if";
    case CSESSION_CALL_USER_SAVE: return "user_save";
    case CSESSION_CALL_USER_REMOVE: return "user_remove";
    default: return "call";
    }
}

int csession__store_run(csession_store *store, const csession__store_caps *caps,
                        csession_store_call *c, int *touched)
{
    *touched = 0;
    switch (c->kind) {
    case CSESSION_CALL_LOAD_REV:
        return csession__store_load_rev(store, caps, c->key, c->key_len, c->touch_ttl_seconds,
                                        c->state_out, &c->revision_out, touched);
    case CSESSION_CALL_SAVE:
        return csession__store_save_flags(store, caps, c->state, c->state_len, c->ttl_seconds,
                                          c->save_flags, c->key_out);
    case CSESSION_CALL_UPDATE:
        return csession__store_update(store, c->key, c->key_len, c->state, c->state_len,
                                      c->ttl_seconds, c->key_out);
    case CSESSION_CALL_UPDATE_TTL:
        return csession__store_update_ttl(store, c->key, c->key_len, c->ttl_seconds);
    case CSESSION_CALL_REMOVE:
        return csession__store_remove(store, c->key, c->key_len);
    case CSESSION_CALL_UPDATE_IF:
        return csession__store_update_if(store, c->key, c->key_len, c->expected_revision,
                                         c->state, c->state_len, c->ttl_seconds);
    case CSESSION_CALL_REMOVE_IF:
        return csession__store_remove_if(store, c->key, c->key_len, c->expected_revision);
    case CSESSION_CALL_USER_SAVE:
        return csession__store_user_save(store, c->user, c->user_len, c->state, c->state_len,
                                         c->ttl_seconds, c->save_flags, c->key_out);
    case CSESSION_CALL_USER_REMOVE:
        return csession__store_user_remove(store, c->user, c->user_len, c->key, c->key_len);
    default:
        return csession__error(CSESSION_EINVAL, "unknown store call kind %d", c->kind);
    }
}

/* The arguments of a call, checked as the blocking wrappers check theirs. */
static int check_call(csession_store_call *c)
{
    int k = c->kind;
    int rc = 0;
    if (k < CSESSION_CALL_LOAD_REV || k > CSESSION_CALL_USER_REMOVE)
        return csession__error(CSESSION_EINVAL, "unknown store call kind %d", k);
    int saves = k == CSESSION_CALL_SAVE || k == CSESSION_CALL_USER_SAVE;
    if ((k == CSESSION_CALL_USER_SAVE || k == CSESSION_CALL_USER_REMOVE) &&
        (!c->user || !c->user_len))
        return csession__error(CSESSION_EINVAL, "no user id for a user's session call");
    if (!saves)
        rc = check_key(c->key, c->key_len);
    if (!rc && (saves || k == CSESSION_CALL_UPDATE || k == CSESSION_CALL_UPDATE_IF))
        rc = check_state(c->state, c->state_len, c->ttl_seconds);
    if (!rc && k == CSESSION_CALL_UPDATE_TTL && c->ttl_seconds < 1)
        rc = csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (!rc && k == CSESSION_CALL_LOAD_REV && c->touch_ttl_seconds < 0)
        rc = csession__error(CSESSION_EINVAL, "session TTL must be at least 1 second");
    if (rc)
        return rc;
    csession_buf *out = k == CSESSION_CALL_LOAD_REV               ? c->state_out
                        : saves || k == CSESSION_CALL_UPDATE ? c->key_out
                                                             : NULL;
    if ((k == CSESSION_CALL_LOAD_REV || saves || k == CSESSION_CALL_UPDATE) && !out)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (out)
        csession__buf_clear(out);
    c->revision_out = 0;
    return 0;
}

int csession__store_start(csession_store *store, const csession__store_caps *caps,
                          csession_store_call *call)
{
    if (!store || !call)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    if (!caps->start)
        return CSESSION_EUNSUPPORTED;
    int rc = check_call(call);
    if (rc)
        return rc;
    rc = store->start(store, call);
    if (rc == 0 || rc == CSESSION_EUNSUPPORTED)
        return rc;
    /* "not found" or "conflict" is an answer, not a reason not to start */
    if (rc == CSESSION_ENOTFOUND || rc == CSESSION_ECONFLICT)
        return csession__error(CSESSION_ESTORE, "session store start of %s returned %d",
                               call_name(call->kind), rc);
    return failure(rc, "start");
}

int csession__store_finish(csession_store_call *c, int code, const char *message, int *touched)
{
    const char *op = call_name(c->kind);
    *touched = 0;
    csession_clear_error();
    if (code < 0 && code != CSESSION_ENOTFOUND && code != CSESSION_ECONFLICT && message)
        csession__error(code, "%s", message);
    switch (c->kind) {
    case CSESSION_CALL_LOAD_REV:
        *touched = code == 0 && c->touch_ttl_seconds > 0;
        if (code)
            c->revision_out = 0;
        return loaded(code, c->state_out, op);
    case CSESSION_CALL_UPDATE:
        if (code == CSESSION_ENOTFOUND) {
            /* the fallback of csession__store_update(): a save */
            csession__buf_clear(c->key_out);
            c->kind = CSESSION_CALL_SAVE;
            c->save_flags = 0;
            return CSESSION__STORE_AGAIN;
        }
        return returned_key(code, c->key_out, op);
    case CSESSION_CALL_SAVE:
    case CSESSION_CALL_USER_SAVE:
        return returned_key(code, c->key_out, op);
    case CSESSION_CALL_UPDATE_TTL:
    case CSESSION_CALL_REMOVE:
    case CSESSION_CALL_USER_REMOVE:
        return kept(code, op);
    default:
        return conditional(code, op);
    }
}

void csession__store_cancel(csession_store *store, csession_store_call *call)
{
    store->cancel(store, call);
}
