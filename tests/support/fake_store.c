#include "fake_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    size_t key_len;
    char *state;
    size_t state_len;
    struct entry *next;
} entry;

struct fake_store {
    csession_store base; /* first: the vtable */
    pthread_mutex_t lock;
    entry *entries;
    fake_counts counts;
    int fail_left;
    int fail_code;
    int64_t last_ttl;
    unsigned long next_id;
};

static fake_store *of(csession_store *s)
{
    return (fake_store *)s;
}

static entry **find(fake_store *f, const char *key, size_t len)
{
    entry **e = &f->entries;
    while (*e && !((*e)->key_len == len && memcmp((*e)->key, key, len) == 0))
        e = &(*e)->next;
    return e;
}

/* Counts the call and says whether it must fail (with the lock held). */
static int enter(fake_store *f, int *counter)
{
    pthread_mutex_lock(&f->lock);
    (*counter)++;
    if (f->fail_left > 0) {
        f->fail_left--;
        pthread_mutex_unlock(&f->lock);
        return csession_set_error(f->fail_code, "fake store failure");
    }
    return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static void put_locked(fake_store *f, const char *key, size_t klen, const char *state, size_t slen)
{
    entry **e = find(f, key, klen);
    if (!*e) {
        *e = calloc(1, sizeof **e);
        (*e)->key = dup_bytes(key, klen);
        (*e)->key_len = klen;
    } else {
        free((*e)->state);
    }
    (*e)->state = dup_bytes(state, slen);
    (*e)->state_len = slen;
}

static int fake_load(csession_store *s, const char *key, size_t len, csession_buf *state)
{
    fake_store *f = of(s);
    int rc = enter(f, &f->counts.load);
    if (rc)
        return rc;
    entry **e = find(f, key, len);
    rc = *e ? csession_buf_set(state, (*e)->state, (*e)->state_len) : CSESSION_ENOTFOUND;
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int save_locked(fake_store *f, const char *state, size_t len, int64_t ttl, csession_buf *key)
{
    char k[32];
    int n = snprintf(k, sizeof k, "fake-key-%lu", ++f->next_id);
    put_locked(f, k, (size_t)n, state, len);
    f->last_ttl = ttl;
    return csession_buf_set(key, k, (size_t)n);
}

static int fake_save(csession_store *s, const char *state, size_t len, int64_t ttl,
                     csession_buf *key)
{
    fake_store *f = of(s);
    int rc = enter(f, &f->counts.save);
    if (rc)
        return rc;
    rc = save_locked(f, state, len, ttl, key);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int fake_update(csession_store *s, const char *key, size_t klen, const char *state,
                       size_t slen, int64_t ttl, csession_buf *key_out)
{
    fake_store *f = of(s);
    int rc = enter(f, &f->counts.update);
    if (rc)
        return rc;
    if (*find(f, key, klen)) {
        put_locked(f, key, klen, state, slen);
        f->last_ttl = ttl;
        rc = csession_buf_set(key_out, key, klen);
    } else {
        rc = save_locked(f, state, slen, ttl, key_out); /* the key vanished */
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int fake_update_ttl(csession_store *s, const char *key, size_t len, int64_t ttl)
{
    fake_store *f = of(s);
    int rc = enter(f, &f->counts.update_ttl);
    if (rc)
        return rc;
    (void)key;
    (void)len;
    f->last_ttl = ttl;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int fake_remove(csession_store *s, const char *key, size_t len)
{
    fake_store *f = of(s);
    int rc = enter(f, &f->counts.remove);
    if (rc)
        return rc;
    entry **e = find(f, key, len);
    if (*e) {
        entry *gone = *e;
        *e = gone->next;
        free(gone->key);
        free(gone->state);
        free(gone);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static void fake_free(csession_store *s)
{
    fake_store *f = of(s);
    while (f->entries) {
        entry *e = f->entries;
        f->entries = e->next;
        free(e->key);
        free(e->state);
        free(e);
    }
    pthread_mutex_destroy(&f->lock);
    free(f);
}

fake_store *fake_store_new(void)
{
    fake_store *f = calloc(1, sizeof *f);
    f->base.version = CSESSION_STORE_VERSION;
    f->base.load = fake_load;
    f->base.save = fake_save;
    f->base.update = fake_update;
    f->base.update_ttl = fake_update_ttl;
    f->base.remove = fake_remove;
    f->base.free = fake_free;
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

csession_store *fake_store_base(fake_store *f)
{
    return &f->base;
}

fake_counts fake_store_counts(const fake_store *f)
{
    return f->counts;
}

void fake_store_reset_counts(fake_store *f)
{
    memset(&f->counts, 0, sizeof f->counts);
}

void fake_store_fail_next(fake_store *f, int n, int code)
{
    f->fail_left = n;
    f->fail_code = code;
}

void fake_store_put(fake_store *f, const char *key, const char *state)
{
    put_locked(f, key, strlen(key), state, strlen(state));
}

size_t fake_store_size(const fake_store *f)
{
    size_t n = 0;
    for (const entry *e = f->entries; e; e = e->next)
        n++;
    return n;
}

int64_t fake_store_last_ttl(const fake_store *f)
{
    return f->last_ttl;
}

int fake_store_has(const fake_store *f, const char *key, size_t len)
{
    return *find((fake_store *)f, key, len) != NULL;
}
