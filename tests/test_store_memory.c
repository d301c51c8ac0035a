/* The memory store: the vtable contract, TTL, reclamation, limits, wiping,
 * out-of-memory paths and concurrent use. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "csession/store_memory.h"
#include "csession/sys/store.h"
#include "oom.h"
#include "store.h"
#include "stores/memory.h"
#include "store_calls.h"

#define TTL 3600

/* ---- helpers ------------------------------------------------------------ */

/* A clock the tests move by hand: no sleeping. */
static int64_t fake_now_ms;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now_ms;
}

static csession_store *new_store(size_t max_sessions, size_t max_state, unsigned int shards)
{
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = max_sessions;
    o.max_anonymous_sessions = max_sessions; /* no split: test_anonymous_budget has it */
    o.max_state_bytes = max_state;
    o.shards = shards;
    csession_store *s = NULL;
    assert_int_equal(csession_store_memory_new(&s, &o), 0);
    assert_non_null(s);
    fake_now_ms = 1000000;
    assert_int_equal(csession__store_memory_set_clock(s, fake_clock, NULL), 0);
    return s;
}

static size_t live(csession_store *s)
{
    csession__memory_stats st;
    assert_int_equal(csession__store_memory_stats(s, &st), 0);
    return st.live;
}

/* ---- construction ------------------------------------------------------- */

static void test_new_and_options(void **state)
{
    (void)state;
    csession_store *s = NULL;
    assert_int_equal(csession_store_memory_new(&s, NULL), 0);
    assert_int_equal(csession__store_check(s), 0);
    assert_true(csession__store_is_memory(s));
    csession__memory_stats st;
    assert_int_equal(csession__store_memory_stats(s, &st), 0);
    assert_int_equal(st.shards, CSESSION_STORE_MEMORY_DEFAULT_SHARDS);
    assert_int_equal(st.live, 0);
    csession_store_free(s);
    csession_store_free(NULL);

    csession_store_memory_options o;
    assert_int_equal(csession_store_memory_options_init(&o, CSESSION_STORE_MEMORY_OPTIONS_VERSION),
                     0);
    assert_int_equal(o.version, CSESSION_STORE_MEMORY_OPTIONS_VERSION);
    assert_int_equal(o.max_sessions, 0);
    assert_int_equal(csession_store_memory_options_init(&o, 3), CSESSION_EINVAL);
    assert_int_equal(csession_store_memory_options_init(NULL, 1), CSESSION_EINVAL);

    struct {
        unsigned int version;
        size_t max_sessions, max_state;
        unsigned int shards;
    } bad[] = {
        { 0, 0, 0, 0 },
        { 3, 0, 0, 0 },
        { 1, 0, 0, 3 },
        { 1, 0, 0, 2048 },
        { 1, 0, (size_t)CSESSION_STORE_MEMORY_LIMIT_MAX_STATE_BYTES + 1, 0 },
#if SIZE_MAX > 0xffffffffu
        { 1, (size_t)CSESSION_STORE_MEMORY_LIMIT_MAX_SESSIONS + 1, 0, 0 },
#endif
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.version = bad[i].version;
        o.max_sessions = bad[i].max_sessions;
        o.max_state_bytes = bad[i].max_state;
        o.shards = bad[i].shards;
        s = (csession_store *)&o; /* must be overwritten with NULL */
        assert_int_equal(csession_store_memory_new(&s, &o), CSESSION_EINVAL);
        assert_null(s);
    }
    assert_int_equal(csession_store_memory_new(NULL, NULL), CSESSION_EINVAL);

    /* One shard and the largest shard count both work. */
    s = new_store(0, 0, 1);
    csession_store_free(s);
    s = new_store(0, 0, CSESSION_STORE_MEMORY_LIMIT_SHARDS);
    csession_store_free(s);

    /* Internal hooks refuse other stores. */
    csession__memory_stats dummy;
    csession_store other = {.version = CSESSION_STORE_VERSION};
    assert_false(csession__store_is_memory(&other));
    assert_int_equal(csession__store_memory_stats(&other, &dummy), CSESSION_EINVAL);
    assert_int_equal(csession__store_memory_set_clock(&other, fake_clock, NULL), CSESSION_EINVAL);
}

/* ---- the vtable operations --------------------------------------------- */

static void test_save_load(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k1[65], k2[65];
    store_save_str(s, "{\"v\":1,\"state\":{\"user\":\"\\\"alice\\\"\"}}", TTL, k1);
    store_save_str(s, "{\"v\":1,\"state\":{\"user\":\"\\\"bob\\\"\"}}", TTL, k2);
    assert_string_not_equal(k1, k2);
    store_expect_str(s, k1, "{\"v\":1,\"state\":{\"user\":\"\\\"alice\\\"\"}}");
    store_expect_str(s, k2, "{\"v\":1,\"state\":{\"user\":\"\\\"bob\\\"\"}}");
    assert_int_equal(live(s), 2);

    /* States are bytes: embedded NULs and an empty state survive. */
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "a\0b", 3, TTL, &key), 0);
    assert_int_equal(s->load(s, key.ptr, key.size, &b), 0);
    assert_int_equal(b.size, 3);
    assert_memory_equal(b.ptr, "a\0b", 3);
    assert_int_equal(s->save(s, NULL, 0, TTL, &key), 0);
    assert_int_equal(s->load(s, key.ptr, key.size, &b), 0);
    assert_int_equal(b.size, 0);

    /* The buffer handed to load is replaced, not appended to. */
    assert_int_equal(csession_buf_set(&b, "leftover", 8), 0);
    assert_int_equal(s->load(s, k1, 64, &b), 0);
    assert_int_equal(b.ptr[0], '{');
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

static void test_unknown_and_garbage_keys(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65], other[65];
    store_save_str(s, "state", TTL, k);
    assert_int_equal(csession_session_key_generate(other, sizeof other), 0);
    store_expect_str(s, other, NULL);

    /* Garbage is turned away before any lookup, as "not found". */
    const char *garbage[] = { "", "short", "{\"v\":1,\"state\":{}}",
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-" };
    csession_buf b = CSESSION_BUF_INIT;
    csession_clear_error();
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        assert_int_equal(s->load(s, garbage[i], strlen(garbage[i]), &b), CSESSION_ENOTFOUND);
        assert_int_equal(s->update_ttl(s, garbage[i], strlen(garbage[i]), TTL), 0);
        assert_int_equal(s->remove(s, garbage[i], strlen(garbage[i])), 0);
    }
    /* A key with one byte too many or too few is not the stored key. */
    char longer[66];
    memcpy(longer, k, 64);
    longer[64] = 'A';
    longer[65] = '\0';
    assert_int_equal(s->load(s, longer, 65, &b), CSESSION_ENOTFOUND);
    assert_int_equal(s->load(s, k, 63, &b), CSESSION_ENOTFOUND);
    assert_int_equal(s->load(s, NULL, 64, &b), CSESSION_ENOTFOUND);
    /* "Not found" is an answer, not a failure: no error is recorded. */
    assert_int_equal(csession_last_error_code(), CSESSION_OK);
    assert_int_equal(s->load(s, k, 64, NULL), CSESSION_EINVAL);
    store_expect_str(s, k, "state");
    assert_int_equal(live(s), 1);
    csession_buf_dispose(&b);
    csession_store_free(s);
}

static void test_update(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65];
    store_save_str(s, "one", TTL, k);
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, k, 64, "two", 3, TTL, &key), 0);
    assert_int_equal(key.size, 64);
    assert_memory_equal(key.ptr, k, 64);
    store_expect_str(s, k, "two");
    assert_int_equal(live(s), 1);
    csession_buf_dispose(&key);
    csession_store_free(s);
}

static void test_update_vanished_key_saves(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65];
    store_save_str(s, "before", TTL, k);
    assert_int_equal(s->remove(s, k, 64), 0);

    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->update(s, k, 64, "after", 5, TTL, &key), 0);
    assert_int_equal(key.size, 64);
    assert_true(csession_session_key_valid(key.ptr, key.size));
    assert_memory_not_equal(key.ptr, k, 64);
    store_expect_str(s, key.ptr, "after");
    store_expect_str(s, k, NULL);

    /* The same for an expired key and for garbage. */
    char k2[65];
    store_save_str(s, "short-lived", 1, k2);
    fake_now_ms += 1000;
    assert_int_equal(s->update(s, k2, 64, "renewed", 7, TTL, &key), 0);
    assert_memory_not_equal(key.ptr, k2, 64);
    store_expect_str(s, key.ptr, "renewed");
    store_expect_str(s, k2, NULL);

    assert_int_equal(s->update(s, "garbage", 7, "g", 1, TTL, &key), 0);
    assert_true(csession_session_key_valid(key.ptr, key.size));
    store_expect_str(s, key.ptr, "g");
    assert_int_equal(live(s), 3);
    csession_buf_dispose(&key);
    csession_store_free(s);
}

static void test_remove(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65], keep[65];
    store_save_str(s, "gone", TTL, k);
    store_save_str(s, "kept", TTL, keep);
    assert_int_equal(s->remove(s, k, 64), 0);
    store_expect_str(s, k, NULL);
    store_expect_str(s, keep, "kept");
    assert_int_equal(s->remove(s, k, 64), 0); /* absent: still success */
    assert_int_equal(live(s), 1);
    csession_store_free(s);
}

static void test_argument_errors(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 100, 4);
    char k[65];
    store_save_str(s, "state", TTL, k);
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "x", 1, 0, &key), CSESSION_EINVAL);
    assert_int_equal(s->save(s, "x", 1, -1, &key), CSESSION_EINVAL);
    assert_int_equal(s->save(s, NULL, 1, TTL, &key), CSESSION_EINVAL);
    assert_int_equal(s->save(s, "x", 1, TTL, NULL), CSESSION_EINVAL);
    assert_int_equal(s->update(s, k, 64, "x", 1, 0, &key), CSESSION_EINVAL);
    assert_int_equal(s->update_ttl(s, k, 64, 0), CSESSION_EINVAL);
    assert_int_equal(live(s), 1);
    store_expect_str(s, k, "state");
    csession_buf_dispose(&key);
    csession_store_free(s);
}

static void test_state_size_limit(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 100, 4);
    char big[102];
    memset(big, 'x', sizeof big);
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, big, 100, TTL, &key), 0);
    assert_int_equal(s->save(s, big, 101, TTL, &key), CSESSION_ETOOBIG);
    assert_non_null(strstr(csession_last_error(), "101"));

    char k[65];
    store_save_str(s, "small", TTL, k);
    assert_int_equal(s->update(s, k, 64, big, 101, TTL, &key), CSESSION_ETOOBIG);
    store_expect_str(s, k, "small"); /* unchanged */
    assert_int_equal(live(s), 2);
    csession_buf_dispose(&key);

    /* The default limit. */
    csession_store *d = NULL;
    assert_int_equal(csession_store_memory_new(&d, NULL), 0);
    char *huge = calloc(1, CSESSION_STORE_MEMORY_DEFAULT_MAX_STATE_BYTES + 1);
    assert_non_null(huge);
    assert_int_equal(d->save(d, huge, CSESSION_STORE_MEMORY_DEFAULT_MAX_STATE_BYTES, TTL, &key),
                     0);
    assert_int_equal(d->save(d, huge, CSESSION_STORE_MEMORY_DEFAULT_MAX_STATE_BYTES + 1, TTL, &key),
                     CSESSION_ETOOBIG);
    free(huge);
    csession_buf_dispose(&key);
    csession_store_free(d);
    csession_store_free(s);
}

/* ---- TTL ------------------------------------------------------------------ */

static void test_ttl_expiry(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65];
    store_save_str(s, "state", 10, k);
    fake_now_ms += 9999;
    store_expect_str(s, k, "state");
    fake_now_ms += 1;
    store_expect_str(s, k, NULL);
    /* Found expired on load, so reclaimed there and then. */
    assert_int_equal(live(s), 0);
    /* Expired is gone for good, even if touched afterwards. */
    assert_int_equal(s->update_ttl(s, k, 64, TTL), 0);
    store_expect_str(s, k, NULL);
    csession_store_free(s);
}

static void test_ttl_reset_by_update_and_update_ttl(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char k[65];
    csession_buf key = CSESSION_BUF_INIT;
    store_save_str(s, "state", 10, k);

    fake_now_ms += 8000;
    assert_int_equal(s->update_ttl(s, k, 64, 10), 0);
    fake_now_ms += 8000; /* 16 s after save, 8 s after the touch */
    store_expect_str(s, k, "state");

    assert_int_equal(s->update(s, k, 64, "newer", 5, 5, &key), 0);
    assert_memory_equal(key.ptr, k, 64);
    fake_now_ms += 4999;
    store_expect_str(s, k, "newer");

    /* update_ttl can also shorten. */
    assert_int_equal(s->update_ttl(s, k, 64, 1), 0);
    fake_now_ms += 1000;
    store_expect_str(s, k, NULL);

    /* Absurd TTLs saturate instead of wrapping into the past. */
    char forever[65];
    store_save_str(s, "forever", INT64_MAX, forever);
    fake_now_ms += (int64_t)1 << 60;
    store_expect_str(s, forever, "forever");
    assert_int_equal(s->update_ttl(s, forever, 64, INT64_MAX / 2), 0);
    store_expect_str(s, forever, "forever");
    csession_buf_dispose(&key);
    csession_store_free(s);
}

/* ---- reclamation -------------------------------------------------------- */

static void test_reclaim_is_amortised(void **state)
{
    (void)state;
    enum { N = 100 };
    /* One shard, so that every operation reclaims from the same heap. */
    csession_store *s = new_store(0, 0, 1);
    char k[65], unknown[65];
    for (int i = 0; i < N; i++)
        store_save_str(s, "expiring", 1, k);
    char keeper[65];
    store_save_str(s, "long-lived", TTL, keeper);
    assert_int_equal(live(s), N + 1);
    assert_int_equal(csession_session_key_generate(unknown, sizeof unknown), 0);

    fake_now_ms += 2000;
    csession__memory_stats before, after;
    assert_int_equal(csession__store_memory_stats(s, &before), 0);
    /* Each operation frees at most a few, looking at nothing else. */
    store_expect_str(s, unknown, NULL);
    assert_int_equal(csession__store_memory_stats(s, &after), 0);
    assert_int_equal(after.live, N + 1 - CSESSION__MEMORY_RECLAIM_PER_OP);
    assert_int_equal(after.reclaimed - before.reclaimed, CSESSION__MEMORY_RECLAIM_PER_OP);
    assert_true(after.reclaim_checks - before.reclaim_checks <= CSESSION__MEMORY_RECLAIM_PER_OP);

    /* Enough operations reclaim everything expired, and nothing else. */
    int ops = 1;
    while (live(s) > 1) {
        store_expect_str(s, unknown, NULL);
        ops++;
        assert_true(ops <= N);
    }
    assert_int_equal(ops, (N + CSESSION__MEMORY_RECLAIM_PER_OP - 1) / CSESSION__MEMORY_RECLAIM_PER_OP);
    store_expect_str(s, keeper, "long-lived");

    /* With nothing expired, an operation looks at one heap top only. */
    for (int i = 0; i < N; i++)
        store_save_str(s, "fresh", TTL, k);
    assert_int_equal(csession__store_memory_stats(s, &before), 0);
    store_expect_str(s, unknown, NULL);
    assert_int_equal(csession__store_memory_stats(s, &after), 0);
    assert_int_equal(after.reclaim_checks - before.reclaim_checks, 1);
    assert_int_equal(after.live, N + 1);
    csession_store_free(s);
}

/* ---- the session limit ---------------------------------------------------- */

static void test_full_store_refuses(void **state)
{
    (void)state;
    csession_store *s = new_store(3, 0, 4);
    char k[3][65];
    for (int i = 0; i < 3; i++)
        store_save_str(s, "user", TTL, k[i]);
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "one too many", 12, TTL, &key), CSESSION_ESTORE);
    assert_int_equal(key.size, 0);
    assert_non_null(strstr(csession_last_error(), "full"));

    /* Nobody was evicted, and existing sessions keep working. */
    for (int i = 0; i < 3; i++)
        store_expect_str(s, k[i], "user");
    assert_int_equal(s->update(s, k[0], 64, "changed", 7, TTL, &key), 0);
    assert_memory_equal(key.ptr, k[0], 64);
    store_expect_str(s, k[0], "changed");
    assert_int_equal(s->update_ttl(s, k[1], 64, TTL), 0);

    /* An update whose key vanished needs a new slot: refused too. */
    char stranger[65];
    assert_int_equal(csession_session_key_generate(stranger, sizeof stranger), 0);
    assert_int_equal(s->update(s, stranger, 64, "x", 1, TTL, &key), CSESSION_ESTORE);
    assert_int_equal(live(s), 3);

    /* A deletion makes room. */
    assert_int_equal(s->remove(s, k[2], 64), 0);
    store_save_str(s, "room again", TTL, k[2]);
    assert_int_equal(s->save(s, "full again", 10, TTL, &key), CSESSION_ESTORE);
    csession_buf_dispose(&key);
    csession_store_free(s);
}

static void test_full_store_reclaims_expired_first(void **state)
{
    (void)state;
    /* Many shards: the expired sessions are not in the saving shard. */
    csession_store *s = new_store(50, 0, 64);
    char k[65];
    for (int i = 0; i < 50; i++)
        store_save_str(s, "old", 1, k);
    fake_now_ms += 1000;
    /* Expired sessions count until reclaimed, and a full store reclaims all
     * of them rather than refuse. */
    store_save_str(s, "new", TTL, k);
    assert_int_equal(live(s), 1);
    store_expect_str(s, k, "new");
    csession_store_free(s);
}

/* ---- key collisions --------------------------------------------------------- */

typedef struct script {
    const char *keys[4];
    int next;
} script;

static void scripted_keygen(char out[64], void *ctx)
{
    script *sc = ctx;
    const char *k = sc->keys[sc->next < 3 ? sc->next : 3];
    sc->next++;
    memcpy(out, k, 64);
}

static void test_save_retries_on_collision(void **state)
{
    (void)state;
    csession_store *s = new_store(0, 0, 4);
    char a[65], b[65];
    memset(a, 'A', 64);
    memset(b, 'B', 64);
    a[64] = b[64] = '\0';
    script sc = { { a, a, a, b }, 0 };
    assert_int_equal(csession__store_memory_set_keygen(s, scripted_keygen, &sc), 0);

    char k1[65], k2[65];
    store_save_str(s, "first", TTL, k1);
    assert_string_equal(k1, a);
    /* The next draws give A twice more: the live session is not overwritten. */
    store_save_str(s, "second", TTL, k2);
    assert_string_equal(k2, b);
    assert_int_equal(sc.next, 4);
    store_expect_str(s, a, "first");
    store_expect_str(s, b, "second");

    /* A generator that never finds a free key: a clean failure. */
    script stuck = { { a, a, a, a }, 0 };
    assert_int_equal(csession__store_memory_set_keygen(s, scripted_keygen, &stuck), 0);
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "third", 5, TTL, &key), CSESSION_ESTORE);
    assert_int_equal(key.size, 0);
    assert_non_null(strstr(csession_last_error(), "unused session key"));
    assert_int_equal(live(s), 2);
    store_expect_str(s, a, "first");

    /* An expired holder of the key does not block it. */
    assert_int_equal(s->update_ttl(s, a, 64, 1), 0);
    fake_now_ms += 1000;
    stuck.next = 0;
    assert_int_equal(s->save(s, "third", 5, TTL, &key), 0);
    assert_memory_equal(key.ptr, a, 64);
    store_expect_str(s, a, "third");
    assert_int_equal(live(s), 2);

    assert_int_equal(csession__store_memory_set_keygen(s, NULL, NULL), 0);
    store_save_str(s, "random again", TTL, k1);
    assert_string_not_equal(k1, a);
    csession_buf_dispose(&key);
    csession_store_free(s);
}

/* ---- wiping ---------------------------------------------------------------- */

/* An allocator that looks into every block it frees for the marker. */
typedef union block {
    size_t size;
    max_align_t align;
} block;

static const char *wipe_marker;
static int marker_freed;

static void *spy_malloc(size_t n)
{
    block *b = malloc(sizeof(block) + n);
    if (!b)
        return NULL;
    b->size = n;
    return b + 1;
}

static void spy_free(void *p)
{
    if (!p)
        return;
    block *b = (block *)p - 1;
    size_t m = strlen(wipe_marker);
    for (size_t i = 0; i + m <= b->size; i++) {
        if (memcmp((char *)p + i, wipe_marker, m) == 0)
            marker_freed = 1;
    }
    free(b);
}

static void *spy_realloc(void *p, size_t n)
{
    if (!p)
        return spy_malloc(n);
    block *b = realloc((block *)p - 1, sizeof(block) + n);
    if (!b)
        return NULL;
    b->size = n;
    return b + 1;
}

static void test_wiped_on_delete_overwrite_and_free(void **state)
{
    (void)state;
    assert_int_equal(csession_set_allocator(spy_malloc, spy_realloc, spy_free), 0);
    wipe_marker = "S3CRET-MARKER";
    marker_freed = 0;
    csession_store *s = new_store(0, 0, 4);
    char k[65];

    /* Delete. */
    store_save_str(s, "{\"token\":\"S3CRET-MARKER\"}", TTL, k);
    store_expect_str(s, k, "{\"token\":\"S3CRET-MARKER\"}");
    assert_int_equal(s->remove(s, k, 64), 0);
    assert_false(marker_freed);

    /* Overwrite. */
    csession_buf key = CSESSION_BUF_INIT;
    store_save_str(s, "S3CRET-MARKER-v1", TTL, k);
    assert_int_equal(s->update(s, k, 64, "public", 6, TTL, &key), 0);
    assert_false(marker_freed);

    /* Expiry, and the key itself. */
    store_save_str(s, "S3CRET-MARKER-v2", 1, k);
    fake_now_ms += 1000;
    store_expect_str(s, k, NULL);
    assert_false(marker_freed);

    /* Free of a store still holding it. */
    store_save_str(s, "S3CRET-MARKER-v3", TTL, k);
    wipe_marker = k; /* the session key is a secret too */
    csession_store_free(s);
    assert_false(marker_freed);
    csession_buf_dispose(&key);

    /* The spy itself works: an unwiped block is noticed. */
    wipe_marker = "S3CRET";
    char *p = spy_malloc(16);
    memcpy(p, "xxS3CRETxx", 11);
    spy_free(p);
    assert_true(marker_freed);
    assert_int_equal(csession_set_allocator(NULL, NULL, NULL), 0);
}

/* ---- out of memory ------------------------------------------------------- */

/* Every slot taken against max_sessions on a failure path was given back. */
static void expect_consistent(csession_store *s, size_t sessions)
{
    csession__memory_stats st;
    assert_int_equal(csession__store_memory_stats(s, &st), 0);
    assert_int_equal(st.live, sessions);
    assert_int_equal(st.counted, sessions);
}

static int oom_lifecycle(void *ctx)
{
    (void)ctx;
    csession_store *s = NULL;
    int rc = csession_store_memory_new(&s, NULL);
    if (rc)
        return rc;
    csession__store_memory_set_clock(s, fake_clock, NULL);
    csession_buf key = CSESSION_BUF_INIT, key2 = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    rc = s->save(s, "state", 5, TTL, &key);
    if (rc == 0)
        rc = s->load(s, key.ptr, key.size, &b);
    if (rc == 0)
        rc = s->update(s, key.ptr, key.size, "state2", 6, TTL, &key2);
    if (rc == 0)
        rc = s->update_ttl(s, key.ptr, key.size, TTL);
    if (rc == 0)
        rc = s->remove(s, key.ptr, key.size);
    if (rc == 0)
        rc = s->update(s, key.ptr, key.size, "again", 5, TTL, &key2); /* vanished: save */
    csession_buf_dispose(&key);
    csession_buf_dispose(&key2);
    csession_buf_dispose(&b);
    csession_store_free(s);
    return rc;
}

/* Operations on an existing store: each leaves it as it found it. */
static int oom_operations(void *ctx)
{
    csession_store *s = ctx;
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;
    int rc = s->save(s, "a somewhat longer state", 23, TTL, &key);
    if (rc == 0) {
        char k[64];
        memcpy(k, key.ptr, 64);
        rc = s->load(s, k, 64, &b);
        if (rc == 0)
            rc = s->update(s, k, 64, "b", 1, TTL, &key);
        if (rc == 0 && memcmp(key.ptr, k, 64) != 0)
            rc = CSESSION_ERROR;
        s->remove(s, k, 64);
    }
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    oom_install();
    assert_true(oom_run_each_failure(oom_lifecycle, NULL) > 3);

    /* One shard, warmed up: its arrays, which stay allocated for the life
     * of the store, exist before the leak check starts counting. */
    csession_store *s = NULL;
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.shards = 1;
    o.max_sessions = 2;
    o.max_anonymous_sessions = 2;
    assert_int_equal(csession_store_memory_new(&s, &o), 0);
    assert_int_equal(oom_operations(s), 0);
    assert_true(oom_run_each_failure(oom_operations, s) > 2);
    expect_consistent(s, 0);
    /* The limit still admits exactly max_sessions. */
    csession_buf key = CSESSION_BUF_INIT;
    assert_int_equal(s->save(s, "1", 1, TTL, &key), 0);
    assert_int_equal(s->save(s, "2", 1, TTL, &key), 0);
    assert_int_equal(s->save(s, "3", 1, TTL, &key), CSESSION_ESTORE);
    csession_buf_dispose(&key);
    csession_store_free(s);
    assert_int_equal(oom_live_blocks(), 0);
    oom_uninstall();
}

/* ---- threads -------------------------------------------------------------- */

#define THREADS 8
#define ROUNDS 3000
#define KEPT 16

typedef struct worker {
    csession_store *store;
    int id;
    int failures;
    char first_failure[160];
} worker;

static void note(worker *w, const char *what, int rc)
{
    if (w->failures++ == 0)
        snprintf(w->first_failure, sizeof w->first_failure, "thread %d: %s (%d: %s)", w->id, what,
                 rc, csession_last_error());
}

/* Every state names its owner and round; a crossed session shows. */
static int check(worker *w, csession_buf *b, const char *key, const char *expected)
{
    int rc = w->store->load(w->store, key, 64, b);
    if (rc) {
        note(w, "load of own session failed", rc);
        return rc;
    }
    if (b->size != strlen(expected) || memcmp(b->ptr, expected, b->size) != 0) {
        note(w, "load returned someone else's state", 0);
        return -1;
    }
    return 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    csession_store *s = w->store;
    char keys[KEPT][65];
    char states[KEPT][64];
    int have = 0, kept = 0;
    csession_buf key = CSESSION_BUF_INIT, b = CSESSION_BUF_INIT;

    for (int r = 0; r < ROUNDS && !w->failures; r++) {
        char st[64];
        snprintf(st, sizeof st, "{\"owner\":%d,\"round\":%d}", w->id, r);
        int rc = s->save(s, st, strlen(st), TTL, &key);
        if (rc) {
            note(w, "save failed", rc);
            break;
        }
        char k[65];
        memcpy(k, key.ptr, 65);
        if (check(w, &b, k, st))
            break;

        snprintf(st, sizeof st, "{\"owner\":%d,\"round\":%d,\"updated\":true}", w->id, r);
        rc = s->update(s, k, 64, st, strlen(st), TTL, &key);
        if (rc || memcmp(key.ptr, k, 64) != 0) {
            note(w, "update lost the key", rc);
            break;
        }
        if (check(w, &b, k, st))
            break;
        if ((rc = s->update_ttl(s, k, 64, TTL)) != 0)
            note(w, "update_ttl failed", rc);

        if (r % 3 == 0) {
            /* Deleted sessions stay deleted. */
            if ((rc = s->remove(s, k, 64)) != 0)
                note(w, "remove failed", rc);
            if ((rc = s->load(s, k, 64, &b)) != CSESSION_ENOTFOUND)
                note(w, "removed session still there", rc);
        } else {
            /* Keep a ring of sessions and come back to older ones. */
            int slot = kept++ % KEPT;
            if (slot < have)
                s->remove(s, keys[slot], 64); /* the one it replaces */
            else
                have = slot + 1;
            memcpy(keys[slot], k, 65);
            memcpy(states[slot], st, sizeof st);
            int old = (r * 7) % have;
            if (check(w, &b, keys[old], states[old]))
                break;
        }
    }
    for (int i = 0; i < have && !w->failures; i++) {
        if (check(w, &b, keys[i], states[i]) == 0)
            s->remove(s, keys[i], 64);
    }
    csession_buf_dispose(&key);
    csession_buf_dispose(&b);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    /* Few shards, so that threads do meet on the same locks. */
    csession_store *s = NULL;
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.shards = 4;
    assert_int_equal(csession_store_memory_new(&s, &o), 0);

    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ s, i, 0, "" };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        if (w[i].failures)
            fail_msg("%s", w[i].first_failure);
    }
    /* Every thread removed what it made. */
    expect_consistent(s, 0);
    csession_store_free(s);
}

/* Threads racing to fill a small store never exceed its limit. */
static void *fill(void *arg)
{
    worker *w = arg;
    csession_buf key = CSESSION_BUF_INIT;
    for (int i = 0; i < 200; i++) {
        int rc = w->store->save(w->store, "x", 1, TTL, &key);
        if (rc == 0)
            w->failures++; /* here: sessions saved */
        else if (rc != CSESSION_ESTORE)
            snprintf(w->first_failure, sizeof w->first_failure, "unexpected %d", rc);
    }
    csession_buf_dispose(&key);
    return NULL;
}

static void test_threads_respect_limit(void **state)
{
    (void)state;
    csession_store *s = NULL;
    csession_store_memory_options o = CSESSION_STORE_MEMORY_OPTIONS_INIT;
    o.max_sessions = 500;
    o.max_anonymous_sessions = 500;
    assert_int_equal(csession_store_memory_new(&s, &o), 0);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ s, i, 0, "" };
        assert_int_equal(pthread_create(&t[i], NULL, fill, &w[i]), 0);
    }
    int saved = 0;
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_string_equal(w[i].first_failure, "");
        saved += w[i].failures;
    }
    assert_int_equal(saved, 500);
    assert_int_equal(live(s), 500);
    csession_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_options),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_unknown_and_garbage_keys),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_update_vanished_key_saves),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_state_size_limit),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_ttl_reset_by_update_and_update_ttl),
        cmocka_unit_test(test_reclaim_is_amortised),
        cmocka_unit_test(test_full_store_refuses),
        cmocka_unit_test(test_full_store_reclaims_expired_first),
        cmocka_unit_test(test_save_retries_on_collision),
        cmocka_unit_test(test_wiped_on_delete_overwrite_and_free),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_respect_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
