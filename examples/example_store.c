/*
 * example_store.c: a complete session store written outside the library,
 * with nothing but the public headers. A linked list under one mutex: far
 * too simple for heavy traffic (every call walks the list under the same
 * lock), but correct, which is what it is here to show. See
 * docs/writing-a-store.md for the contract it follows.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csession.h>
#include <csession/sys/store.h>

typedef struct item {
    struct item *next;
    int64_t expires_ms;
    char key[CSESSION_SESSION_KEY_LEN];
    size_t len;
    char *state;
} item;

typedef struct list_store {
    csession_store base; /* first: a csession_store * is a list_store * */
    pthread_mutex_t lock;
    item *head;
} list_store;

/* Monotonic: a change of the system time must not expire sessions. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t expiry(int64_t ttl_seconds)
{
    int64_t now = now_ms();
    return ttl_seconds > (INT64_MAX - now) / 1000 ? INT64_MAX : now + ttl_seconds * 1000;
}

/* States and keys are secrets: overwrite them before the memory goes back.
 * The volatile pointer keeps the compiler from dropping the stores. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static void item_free(item *it)
{
    if (!it)
        return;
    if (it->state) {
        wipe(it->state, it->len);
        free(it->state);
    }
    wipe(it, sizeof *it);
    free(it);
}

/* A new item holding a copy of the state, made before taking the lock. */
static item *item_new(const char *state, size_t len, int64_t ttl_seconds)
{
    item *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->state = malloc(len ? len : 1);
    if (!it->state) {
        free(it);
        return NULL;
    }
    if (len)
        memcpy(it->state, state, len);
    it->len = len;
    it->expires_ms = expiry(ttl_seconds);
    return it;
}

/* The link pointing at the live item with this key, or NULL. Drops
 * expired items met on the way. Called with the lock held. */
static item **find(list_store *ls, const char *key)
{
    int64_t now = now_ms();
    item **link = &ls->head;
    while (*link) {
        item *it = *link;
        if (it->expires_ms <= now) {
            *link = it->next;
            item_free(it);
            continue;
        }
        if (memcmp(it->key, key, CSESSION_SESSION_KEY_LEN) == 0)
            return link;
        link = &it->next;
    }
    return NULL;
}

static int ls_load(csession_store *store, const char *key, size_t key_len, csession_buf *state)
{
    list_store *ls = (list_store *)store;
    /* Keys this store did not make do not exist: no need to look. */
    if (!csession_session_key_valid(key, key_len))
        return CSESSION_ENOTFOUND;
    pthread_mutex_lock(&ls->lock);
    item **link = find(ls, key);
    int rc = link ? csession_buf_set(state, (*link)->state, (*link)->len) : CSESSION_ENOTFOUND;
    pthread_mutex_unlock(&ls->lock);
    return rc;
}

/* Files `it` under a fresh key and reports the key. Takes `it`. */
static int insert_new(list_store *ls, item *it, csession_buf *key_out)
{
    char key[CSESSION_SESSION_KEY_LEN + 1];
    for (;;) {
        int rc = csession_session_key_generate(key, sizeof key);
        if (rc == 0)
            rc = csession_buf_set(key_out, key, CSESSION_SESSION_KEY_LEN);
        if (rc) {
            item_free(it);
            return rc;
        }
        pthread_mutex_lock(&ls->lock);
        int taken = find(ls, key) != NULL;
        if (!taken) {
            memcpy(it->key, key, CSESSION_SESSION_KEY_LEN);
            it->next = ls->head;
            ls->head = it;
        }
        pthread_mutex_unlock(&ls->lock);
        wipe(key, sizeof key);
        if (!taken)
            return 0;
        /* Never overwrite a live session: draw another key. */
    }
}

static int ls_save(csession_store *store, const char *state, size_t state_len,
                   int64_t ttl_seconds, csession_buf *key_out)
{
    item *it = item_new(state, state_len, ttl_seconds);
    if (!it)
        return csession_set_error(CSESSION_ENOMEM, "example store: out of memory");
    return insert_new((list_store *)store, it, key_out);
}

static int ls_update(csession_store *store, const char *key, size_t key_len, const char *state,
                     size_t state_len, int64_t ttl_seconds, csession_buf *key_out)
{
    list_store *ls = (list_store *)store;
    item *fresh = item_new(state, state_len, ttl_seconds);
    if (!fresh)
        return csession_set_error(CSESSION_ENOMEM, "example store: out of memory");
    if (csession_session_key_valid(key, key_len)) {
        int rc = csession_buf_set(key_out, key, CSESSION_SESSION_KEY_LEN);
        if (rc) {
            item_free(fresh);
            return rc;
        }
        pthread_mutex_lock(&ls->lock);
        item **link = find(ls, key);
        item *old = NULL;
        if (link) {
            old = *link;
            memcpy(fresh->key, old->key, CSESSION_SESSION_KEY_LEN);
            fresh->next = old->next;
            *link = fresh;
        }
        pthread_mutex_unlock(&ls->lock);
        if (old) {
            item_free(old);
            return 0;
        }
    }
    /* The key is gone (expired, deleted, or never ours): save anew. */
    return insert_new(ls, fresh, key_out);
}

static int ls_update_ttl(csession_store *store, const char *key, size_t key_len,
                         int64_t ttl_seconds)
{
    list_store *ls = (list_store *)store;
    if (!csession_session_key_valid(key, key_len))
        return 0;
    pthread_mutex_lock(&ls->lock);
    item **link = find(ls, key);
    if (link)
        (*link)->expires_ms = expiry(ttl_seconds);
    pthread_mutex_unlock(&ls->lock);
    return 0; /* absent keys included: nothing to keep alive */
}

static int ls_remove(csession_store *store, const char *key, size_t key_len)
{
    list_store *ls = (list_store *)store;
    if (!csession_session_key_valid(key, key_len))
        return 0;
    pthread_mutex_lock(&ls->lock);
    item **link = find(ls, key);
    item *gone = NULL;
    if (link) {
        gone = *link;
        *link = gone->next;
    }
    pthread_mutex_unlock(&ls->lock);
    item_free(gone);
    return 0; /* absent keys included */
}

static void ls_free(csession_store *store)
{
    list_store *ls = (list_store *)store;
    while (ls->head) {
        item *it = ls->head;
        ls->head = it->next;
        item_free(it);
    }
    pthread_mutex_destroy(&ls->lock);
    free(ls);
}

/* The constructor, in the library's style: out-parameter first. */
static int list_store_new(csession_store **out)
{
    *out = NULL;
    list_store *ls = calloc(1, sizeof *ls);
    if (!ls)
        return csession_set_error(CSESSION_ENOMEM, "example store: out of memory");
    if (pthread_mutex_init(&ls->lock, NULL) != 0) {
        free(ls);
        return csession_set_error(CSESSION_ENOMEM, "example store: no mutex");
    }
    ls->base.version = CSESSION_STORE_VERSION;
    ls->base.load = ls_load;
    ls->base.save = ls_save;
    ls->base.update = ls_update;
    ls->base.update_ttl = ls_update_ttl;
    ls->base.remove = ls_remove;
    ls->base.free = ls_free;
    *out = &ls->base;
    return 0;
}

/* ---- a walk through the contract ---------------------------------------- */

static int failures;

static void expect(int ok, const char *what)
{
    printf("%-52s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

int main(void)
{
    csession_store *store;
    if (list_store_new(&store) != 0) {
        fprintf(stderr, "%s\n", csession_last_error());
        return 1;
    }
    csession_buf key = CSESSION_BUF_INIT, key2 = CSESSION_BUF_INIT, state = CSESSION_BUF_INIT;
    const char *st = "{\"v\":1,\"state\":{\"user\":\"\\\"alice\\\"\"}}";

    expect(store->save(store, st, strlen(st), 3600, &key) == 0 &&
               csession_session_key_valid(key.ptr, key.size),
           "save returns a fresh 64-character key");
    expect(store->load(store, key.ptr, key.size, &state) == 0 && strcmp(state.ptr, st) == 0,
           "load returns the saved state");
    expect(store->update(store, key.ptr, key.size, "{}", 2, 3600, &key2) == 0 &&
               key2.size == key.size && memcmp(key2.ptr, key.ptr, key.size) == 0,
           "update of a live key keeps the key");
    expect(store->update_ttl(store, key.ptr, key.size, 60) == 0, "update_ttl");
    expect(store->remove(store, key.ptr, key.size) == 0, "remove");
    expect(store->load(store, key.ptr, key.size, &state) == CSESSION_ENOTFOUND,
           "a removed key is not found");
    expect(store->remove(store, key.ptr, key.size) == 0, "removing it again is no error");
    expect(store->update(store, key.ptr, key.size, "{}", 2, 3600, &key2) == 0 &&
               memcmp(key2.ptr, key.ptr, key.size) != 0,
           "update of a vanished key saves under a new key");
    expect(store->load(store, "not a key", 9, &state) == CSESSION_ENOTFOUND,
           "garbage keys are not found");

    csession_buf_dispose(&key);
    csession_buf_dispose(&key2);
    csession_buf_dispose(&state);
    csession_store_free(store);
    return failures ? 1 : 0;
}
