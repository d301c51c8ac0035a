/* The in-process user index: see user_index.h. */
#include "user_index.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "session_key.h"

#define KEY_LEN CSESSION__SESSION_KEY_LEN

typedef struct user_node {
    struct user_node *next; /* bucket chain */
    uint64_t hash;
    size_t count, capacity;
    char (*keys)[KEY_LEN];
    size_t user_len;
    char user[];
} user_node;

struct csession__user_index {
    pthread_mutex_t lock;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    user_node **buckets;
    size_t bucket_count; /* 0 or a power of two */
    size_t users;
};

int csession__user_index_new(csession__user_index **out)
{
    csession__user_index *ix = csession__calloc(1, sizeof *ix);
    if (!ix)
        return csession__oom();
    if (pthread_mutex_init(&ix->lock, NULL) != 0) {
        csession__free(ix);
        return csession__oom();
    }
    crypto_shorthash_keygen(ix->hash_key);
    *out = ix;
    return 0;
}

static void node_free(user_node *n)
{
    if (n->keys)
        sodium_memzero(n->keys, n->capacity * sizeof *n->keys);
    csession__free(n->keys);
    csession__free(n);
}

void csession__user_index_free(csession__user_index *ix)
{
    if (!ix)
        return;
    for (size_t b = 0; b < ix->bucket_count; b++) {
        for (user_node *n = ix->buckets[b], *next; n; n = next) {
            next = n->next;
            node_free(n);
        }
    }
    csession__free(ix->buckets);
    pthread_mutex_destroy(&ix->lock);
    sodium_memzero(ix->hash_key, sizeof ix->hash_key);
    csession__free(ix);
}

static uint64_t hash_user(const csession__user_index *ix, const char *user, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)user, len, ix->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

/* The node of `user` and the link that points to it, or NULL. */
static user_node *find(csession__user_index *ix, const char *user, size_t len, uint64_t hash,
                       user_node ***link)
{
    if (!ix->bucket_count)
        return NULL;
    user_node **l = &ix->buckets[hash & (ix->bucket_count - 1)];
    for (; *l; l = &(*l)->next) {
        if ((*l)->hash == hash && (*l)->user_len == len && memcmp((*l)->user, user, len) == 0) {
            if (link)
                *link = l;
            return *l;
        }
    }
    return NULL;
}

static int grow_buckets(csession__user_index *ix)
{
    size_t count = ix->bucket_count ? 2 * ix->bucket_count : 64;
    user_node **b = csession__calloc(count, sizeof *b);
    if (!b)
        return csession__oom();
    for (size_t i = 0; i < ix->bucket_count; i++) {
        for (user_node *n = ix->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (count - 1)];
            b[n->hash & (count - 1)] = n;
        }
    }
    csession__free(ix->buckets);
    ix->buckets = b;
    ix->bucket_count = count;
    return 0;
}

/* The node of `user`, made when there is none. */
static user_node *find_or_add(csession__user_index *ix, const char *user, size_t len)
{
    uint64_t hash = hash_user(ix, user, len);
    user_node *n = find(ix, user, len, hash, NULL);
    if (n)
        return n;
    if (ix->users >= ix->bucket_count && grow_buckets(ix))
        return NULL;
    n = csession__calloc(1, sizeof *n + len);
    if (!n) {
        csession__oom();
        return NULL;
    }
    n->hash = hash;
    n->user_len = len;
    memcpy(n->user, user, len);
    user_node **b = &ix->buckets[hash & (ix->bucket_count - 1)];
    n->next = *b;
    *b = n;
    ix->users++;
    return n;
}

static void drop_key(user_node *n, size_t i)
{
    n->count--;
    if (i != n->count)
        memcpy(n->keys[i], n->keys[n->count], KEY_LEN);
    sodium_memzero(n->keys[n->count], KEY_LEN);
}

/* Removes a node without keys from the table. */
static void drop_if_empty(csession__user_index *ix, user_node *n)
{
    user_node **link;
    if (n->count || !find(ix, n->user, n->user_len, n->hash, &link))
        return;
    *link = n->next;
    ix->users--;
    node_free(n);
}

/*
 * Visits the keys of `n`, dropping those the store no longer has. `visit`
 * (may be NULL) sees each live one with its state; a non-zero return stops
 * the walk and is returned.
 */
static int walk(csession_store *store, user_node *n,
                int (*visit)(user_node *n, size_t i, const csession_buf *state, void *arg),
                void *arg)
{
    csession_buf state = CSESSION_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < n->count;) {
        rc = store->load(store, n->keys[i], KEY_LEN, &state);
        if (rc == CSESSION_ENOTFOUND) {
            drop_key(n, i);
            rc = 0;
            continue;
        }
        if (!rc && visit)
            rc = visit(n, i, &state, arg);
        if (rc)
            break;
        i++;
    }
    csession_buf_dispose(&state);
    return rc;
}

static int save_state(csession_store *store, const char *state, size_t state_len, int64_t ttl,
                      unsigned int save_flags, csession_buf *key_out)
{
    if (store->version >= 2 && store->save_ex)
        return store->save_ex(store, state, state_len, ttl, save_flags, key_out);
    return store->save(store, state, state_len, ttl, key_out);
}

int csession__user_index_save(csession__user_index *ix, csession_store *store,
                              const char *user, size_t user_len, const char *state,
                              size_t state_len, int64_t ttl_seconds, unsigned int save_flags,
                              csession_buf *key_out)
{
    pthread_mutex_lock(&ix->lock);
    int rc = 0;
    user_node *n = find_or_add(ix, user, user_len);
    if (!n)
        rc = CSESSION_ENOMEM;
    if (!rc && n->count == n->capacity)
        rc = walk(store, n, NULL, NULL); /* make room from ended sessions first */
    if (!rc && n->count == n->capacity) {
        size_t cap = n->capacity ? 2 * n->capacity : 4;
        char(*keys)[KEY_LEN] = csession__calloc(cap, sizeof *keys);
        if (!keys) {
            rc = csession__oom();
        } else {
            if (n->count)
                memcpy(keys, n->keys, n->count * sizeof *keys);
            if (n->keys)
                sodium_memzero(n->keys, n->capacity * sizeof *n->keys);
            csession__free(n->keys);
            n->keys = keys;
            n->capacity = cap;
        }
    }
    if (!rc)
        rc = save_state(store, state, state_len, ttl_seconds, save_flags, key_out);
    if (!rc && key_out->size != KEY_LEN) {
        store->remove(store, key_out->ptr, key_out->size);
        rc = csession__error(CSESSION_ESTORE, "the store made a key the user index cannot hold");
    }
    if (!rc)
        memcpy(n->keys[n->count++], key_out->ptr, KEY_LEN);
    if (n)
        drop_if_empty(ix, n);
    pthread_mutex_unlock(&ix->lock);
    return rc;
}

int csession__user_index_remove(csession__user_index *ix, csession_store *store,
                                const char *user, size_t user_len, const char *key,
                                size_t key_len)
{
    pthread_mutex_lock(&ix->lock);
    int rc = store->remove(store, key, key_len);
    user_node *n = find(ix, user, user_len, hash_user(ix, user, user_len), NULL);
    for (size_t i = 0; n && key_len == KEY_LEN && i < n->count; i++) {
        if (csession__key_equal(n->keys[i], key, KEY_LEN)) {
            drop_key(n, i);
            break;
        }
    }
    if (n)
        drop_if_empty(ix, n);
    pthread_mutex_unlock(&ix->lock);
    return rc;
}

typedef struct list_arg {
    int (*each)(const char *key, size_t key_len, const char *state, size_t state_len,
                void *payload);
    void *payload;
} list_arg;

static int visit_list(user_node *n, size_t i, const csession_buf *state, void *arg)
{
    list_arg *a = arg;
    return a->each(n->keys[i], KEY_LEN, state->ptr ? state->ptr : "", state->size, a->payload);
}

int csession__user_index_list(csession__user_index *ix, csession_store *store,
                              const char *user, size_t user_len,
                              int (*each)(const char *key, size_t key_len, const char *state,
                                          size_t state_len, void *payload),
                              void *payload)
{
    list_arg a = {each, payload};
    pthread_mutex_lock(&ix->lock);
    int rc = 0;
    user_node *n = find(ix, user, user_len, hash_user(ix, user, user_len), NULL);
    if (n) {
        rc = walk(store, n, visit_list, &a);
        drop_if_empty(ix, n);
    }
    pthread_mutex_unlock(&ix->lock);
    return rc;
}

int csession__user_index_end(csession__user_index *ix, csession_store *store, const char *user,
                             size_t user_len, const char *keep_key, size_t keep_key_len,
                             uint64_t *ended)
{
    *ended = 0;
    pthread_mutex_lock(&ix->lock);
    int rc = 0;
    user_node *n = find(ix, user, user_len, hash_user(ix, user, user_len), NULL);
    if (n)
        rc = walk(store, n, NULL, NULL); /* what is left is live */
    for (size_t i = 0; n && !rc && i < n->count;) {
        if (keep_key_len == KEY_LEN && csession__key_equal(n->keys[i], keep_key, KEY_LEN)) {
            i++;
            continue;
        }
        rc = store->remove(store, n->keys[i], KEY_LEN);
        if (!rc) {
            drop_key(n, i);
            (*ended)++;
        }
    }
    if (n)
        drop_if_empty(ix, n);
    pthread_mutex_unlock(&ix->lock);
    return rc;
}
