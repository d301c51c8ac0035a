/* The store vtable: version check, the calls through it, and the helpers
 * that backends written outside the library use to report results. */
#include "store.h"

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

int csession__store_load(csession_store *store, const char *key, size_t key_len,
                         csession_buf *state)
{
    if (!store || !state)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc == 0)
        rc = store->load(store, key, key_len, state);
    if (rc == 0)
        return 0;
    csession__buf_clear(state);
    return rc == CSESSION_ENOTFOUND ? rc : failure(rc, "load");
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
    static const csession__store_caps none = {0, 0, 0, 0, 0};
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
    rc = store->update_ttl(store, key, key_len, ttl_seconds);
    if (rc == 0 || rc == CSESSION_ENOTFOUND)
        return 0;
    return failure(rc, "update_ttl");
}

int csession__store_remove(csession_store *store, const char *key, size_t key_len)
{
    if (!store)
        return csession__error(CSESSION_EINVAL, "NULL argument");
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    rc = store->remove(store, key, key_len);
    if (rc == 0 || rc == CSESSION_ENOTFOUND)
        return 0;
    return failure(rc, "remove");
}

/* ---- version 2 ------------------------------------------------------------ */

void csession__store_caps_of(const csession_store *store, csession__store_caps *caps)
{
    caps->flags = 0;
    caps->load_rev = caps->update_if = caps->remove_if = caps->save_ex = 0;
    if (!store || store->version < 2)
        return; /* nothing past `payload` exists in a version 1 store */
    caps->flags = store->flags;
    caps->load_rev = store->load_rev != NULL;
    caps->update_if = store->update_if != NULL;
    caps->remove_if = store->update_if != NULL && store->remove_if != NULL;
    caps->save_ex = store->save_ex != NULL;
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
    if (rc == 0) {
        *touched = touch_ttl_seconds > 0;
        return 0;
    }
    *revision = 0;
    csession__buf_clear(state);
    return rc == CSESSION_ENOTFOUND ? rc : failure(rc, "load_rev");
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
