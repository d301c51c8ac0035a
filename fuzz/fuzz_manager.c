/*
 * Fuzzes the whole request flow (src/manager.c and what it calls): a
 * Cookie: header (or a token) of arbitrary bytes is loaded, the session is
 * changed, committed, and loaded again from what the commit gave the client.
 *
 * Managers are built once: signed and private (XChaCha20-Poly1305, and
 * AES-256-GCM when the CPU has AES-NI) cookies, on the memory store and on
 * the cookie store, each with a ring of two keys. Randomness and the cookie
 * store's clock are deterministic, so every input runs the same way each
 * time and the seed corpus can hold real cookies of these managers: the
 * memory stores hold the same seed sessions, under the same keys, at the
 * start of every input.
 *
 * Input layout (missing bytes read as zero):
 *   [0] bits 0-2: the manager (slot below); bit 3: token mode
 *       (csession_manager_load_token / commit_token instead of the Cookie
 *       and Set-Cookie headers); bit 4: seal mode (the rest is sealed with
 *       the manager's keys and sent as its cookie or token, so that the
 *       fuzzer chooses what a valid cookie holds); bit 5: in seal mode,
 *       seal with the ring's old key
 *   [1] number of changes (mod 9), then two bytes per change: what, and an
 *       argument
 *   rest: the Cookie: header value (or the token, or what to seal)
 *
 * Invariants: loading arbitrary bytes never fails, except with
 * CSESSION_ETOOBIG for a Cookie header over 8192 bytes and CSESSION_ENOMEM;
 * changes answer as documented; a commit succeeds (or fails with ETOOBIG
 * when a cookie store's state outgrows a cookie), and a failed one leaves
 * the session as it was; what the client gets (a cookie, a removal, nothing
 * at all) loads back to the committed values; committing again writes
 * nothing, and a session loaded from a cookie just issued needs no new one.
 *
 * Seeds: with CSESSION_FUZZ_SEEDS=DIR in the environment the target writes
 * its seed corpus into DIR and exits, e.g.
 *   CSESSION_FUZZ_SEEDS=fuzz/corpus/manager build-fuzz/fuzz/fuzz_manager
 * (the files depend on the library's use of randomness: write them again
 * when it changes, or the seeds' sessions are no longer found).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "buf.h"
#include "cookie/header.h"
#include "cookie/seal.h"
#include "csession.h"
#include "fuzz_check.h"
#include "stores/cookie_store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FLAG_TOKEN = 8, FLAG_SEAL = 16, FLAG_OLD_KEY = 32 };

#define NAME "id"
#define SLOTS 8
#define SEEDS 2
/* The cookie store's clock: cookies sealed at this time stay valid. */
#define NOW INT64_C(1767225600)

/* ---- deterministic randomness ----------------------------------------------- */

static uint64_t rng;

static void rng_reset(uint64_t seed)
{
    rng = seed;
}

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static const char *rng_name(void)
{
    return "fuzz_manager";
}

static uint32_t rng_random(void)
{
    return (uint32_t)(rng_next() >> 32);
}

static void rng_buf(void *const buf, const size_t size)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < size; i += 8) {
        uint64_t v = rng_next();
        memcpy(p + i, &v, size - i < 8 ? size - i : 8);
    }
}

static randombytes_implementation rng_impl = { rng_name, rng_random, NULL, NULL, rng_buf, NULL };

static int64_t fixed_clock(void)
{
    return NOW;
}

/* ---- the managers ------------------------------------------------------------- */

typedef struct slot {
    int security;
    int cookie_store;
    int every_request; /* persistent, TTL extended on every request */
    csession_manager *mgr; /* NULL: not on this CPU (AES-256-GCM without AES-NI) */
    csession_buf seed[SEEDS]; /* the seeds' cookie values (in a memory store: its sessions) */
} slot;

#define XCHACHA CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305
#define AES CSESSION_COOKIE_PRIVATE_AES256GCM

/* The rest of each slot starts all zero: no manager, empty buffers. */
static slot slots[SLOTS] = {
    { .security = CSESSION_COOKIE_SIGNED },
    { .security = XCHACHA },
    { .security = AES },
    { .security = CSESSION_COOKIE_SIGNED, .cookie_store = 1 },
    { .security = XCHACHA, .cookie_store = 1 },
    { .security = AES, .cookie_store = 1 },
    { .security = XCHACHA, .every_request = 1 },
    { .security = XCHACHA, .cookie_store = 1, .every_request = 1 },
};

/* The managers' rings (current key first), and the old key alone. */
static csession_keyring *ring_current, *ring_old;

static void key_bytes(unsigned char key[CSESSION_KEY_BYTES], unsigned k)
{
    for (size_t i = 0; i < CSESSION_KEY_BYTES; i++)
        key[i] = (unsigned char)(i * (7 + 6 * k) + 1 + 4 * k);
}

static void build_slot(slot *sl)
{
    if (csession_cookie_security_check(sl->security) != 0)
        return;
    csession_config *cfg;
    CHECK(csession_config_new(&cfg) == 0);
    unsigned char key[CSESSION_KEY_BYTES];
    for (unsigned k = 0; k < 2; k++) {
        key_bytes(key, k);
        CHECK(csession_config_add_key(cfg, key, sizeof key) == 0);
    }
    CHECK(csession_config_set_security(cfg, sl->security) == 0);
    if (sl->every_request) {
        CHECK(csession_config_set_persistent(cfg, 3600) == 0);
        CHECK(csession_config_set_ttl_policy(cfg, CSESSION_TTL_ON_EVERY_REQUEST) == 0);
    }
    csession_store *store;
    if (sl->cookie_store) {
        CHECK(csession_store_cookie_new(&store) == 0);
    } else {
        csession_store_memory_options mo = CSESSION_STORE_MEMORY_OPTIONS_INIT;
        mo.max_sessions = 64; /* each input leaves the store as it found it */
        mo.shards = 1;
        CHECK(csession_store_memory_new(&store, &mo) == 0);
    }
    CHECK(csession_manager_new(&sl->mgr, cfg, store) == 0);
    csession_config_free(cfg);
}

/* ---- changes -------------------------------------------------------------------- */

static const char *const names[] = { "counter", "user", "a", "b", "\xcf\x80", "k\"e\\y" };
static const char *const strings[] = { "", "alice", "a\"b\\c", "line\nbreak\t",
                                       "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\xaa",
                                       "</script>", "%3B;=," };
static const char *const jsons[] = { "[]", "{}", "[1,2,{\"x\":null}]",
                                     "{\"a\":{\"b\":[true,false]}}",
                                     "\"\\u00e9\\ud83c\\udf6a\"", "-0", "1e300", "123456789012" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Applies one change. The arguments are always valid, so the answers are
 * exactly those documented for a valid call. */
static void change(csession *s, uint8_t what, uint8_t arg)
{
    const char *name = names[arg % COUNT(names)];
    int purged = csession_status(s) == CSESSION_STATUS_PURGED;
    int had = csession_contains(s, name);
    int rc;
    switch (what % 8) {
    case 0:
        rc = csession_insert_int64(s, name, (int64_t)arg * 1000003 - 7);
        break;
    case 1:
        rc = csession_insert_string(s, name, strings[(arg >> 3) % COUNT(strings)]);
        break;
    case 2:
        rc = csession_remove(s, name);
        if (!purged && !had) {
            CHECK(rc == CSESSION_ENOTFOUND);
            return;
        }
        break;
    case 3:
        rc = csession_clear(s);
        break;
    case 4:
        rc = csession_renew(s);
        break;
    case 5:
        CHECK(csession_purge(s) == 0);
        CHECK(csession_status(s) == CSESSION_STATUS_PURGED && csession_count(s) == 0);
        return;
    case 6: {
        const char *j = jsons[(arg >> 3) % COUNT(jsons)];
        rc = csession_insert_json(s, name, j, strlen(j));
        break;
    }
    default:
        rc = (arg & 8)    ? csession_insert_bool(s, name, arg & 16)
             : (arg & 16) ? csession_insert_null(s, name)
                          : csession_insert_double(s, name, (double)arg / 7.0 - 3.0);
        break;
    }
    if (rc == CSESSION_ENOMEM)
        return;
    CHECK(rc == (purged ? CSESSION_EPURGED : 0));
    if (purged)
        CHECK(csession_count(s) == 0);
}

/* ---- the flow --------------------------------------------------------------------- */

static int load(const slot *sl, int token, const char *h, size_t n, csession **s)
{
    *s = (csession *)&rng; /* must be overwritten */
    int rc = token ? csession_manager_load_token(sl->mgr, h, n, s)
                   : csession_manager_load(sl->mgr, h, n, s);
    if (rc == 0) {
        CHECK(*s != NULL);
        CHECK(csession_status(*s) == CSESSION_STATUS_UNCHANGED);
    } else {
        CHECK(*s == NULL);
        if (rc != CSESSION_ENOMEM && !(rc == CSESSION_ETOOBIG && !token &&
                                       n > CSESSION__COOKIE_HEADER_MAX)) {
            fprintf(stderr, "load of %zu bytes failed with %d (%s): %s\n", n, rc,
                    csession_strerror(rc), csession_last_error());
            CHECK(!"loading arbitrary bytes never fails");
        }
    }
    return rc;
}

/* What a commit gave the client: its next Cookie header (or token). */
typedef struct issued {
    int action;       /* csession_token_action */
    csession_buf out; /* the Set-Cookie value, or the token */
} issued;

static int commit(const slot *sl, int token, csession *s, issued *is)
{
    is->action = -1;
    if (token)
        return csession_manager_commit_token(sl->mgr, s, &is->out, &is->action);
    int rc = csession_manager_commit(sl->mgr, s, &is->out);
    if (rc == 0) {
        /* "id=value; attributes": an empty value is a removal. */
        is->action = CSESSION_TOKEN_KEEP;
        if (is->out.size) {
            CHECK(strncmp(is->out.ptr, NAME "=", 3) == 0);
            CHECK(strlen(is->out.ptr) == is->out.size);
            is->action = is->out.ptr[3] == ';' ? CSESSION_TOKEN_CLEAR : CSESSION_TOKEN_SET;
            if (is->action == CSESSION_TOKEN_CLEAR)
                CHECK(strstr(is->out.ptr, "; Max-Age=0") != NULL);
        }
    }
    return rc;
}

/* The next request's header: the cookie as a browser sends it back. */
static void next_header(int token, const issued *is, const char *orig, size_t orig_len,
                        csession_buf *next)
{
    csession__buf_clear(next);
    if (is->action == CSESSION_TOKEN_KEEP) {
        CHECK(csession__buf_set(next, orig, orig_len) == 0);
    } else if (is->action == CSESSION_TOKEN_SET) {
        size_t n = token ? is->out.size : strcspn(is->out.ptr, ";");
        CHECK(csession__buf_set(next, is->out.ptr, n) == 0);
    } /* CLEAR: the client drops it */
}

static void encode(const csession *s, csession_buf *out)
{
    CHECK(csession_encode(s, out) == 0);
}

static int same(const csession_buf *a, const csession_buf *b)
{
    return a->size == b->size && memcmp(a->ptr, b->ptr, a->size) == 0;
}

/* Ends what a session left in a memory store (its key and state). */
static void forget(const slot *sl, csession *s)
{
    csession_buf out = CSESSION_BUF_INIT;
    CHECK(csession_purge(s) == 0);
    int rc = csession_manager_commit(sl->mgr, s, &out);
    CHECK(rc == 0 || rc == CSESSION_ENOMEM);
    csession_buf_dispose(&out);
}

/* ---- seeds -------------------------------------------------------------------- */

static uint64_t seed_rng(size_t slot_index, int i)
{
    return UINT64_C(0x5eed000000000000) + slot_index * 16 + (size_t)i;
}

/* Makes seed session `i` on a slot: its cookie value goes into `value`. */
static void make_seed(size_t index, int i, csession_buf *value)
{
    const slot *sl = &slots[index];
    rng_reset(seed_rng(index, i));
    csession *s;
    CHECK(load(sl, 0, NULL, 0, &s) == 0);
    if (i == 0) {
        CHECK(csession_insert_int64(s, "counter", 3) == 0);
        CHECK(csession_insert_string(s, "user", "alice") == 0);
    } else {
        CHECK(csession_insert_double(s, "n", 1.5) == 0);
        CHECK(csession_insert_json(s, "flags", "[1,2,{\"x\":null}]", 16) == 0);
        CHECK(csession_insert_bool(s, "ok", 1) == 0);
    }
    issued is = { 0, CSESSION_BUF_INIT };
    CHECK(commit(sl, 0, s, &is) == 0 && is.action == CSESSION_TOKEN_SET);
    CHECK(csession__buf_set(value, is.out.ptr + 3, strcspn(is.out.ptr + 3, ";")) == 0);
    csession_buf_dispose(&is.out);
    csession_free(s);
}

/* A memory store holds the seeds, and nothing else, when an input starts. */
static void restore_seeds(size_t index)
{
    slot *sl = &slots[index];
    csession_buf h = CSESSION_BUF_INIT, again = CSESSION_BUF_INIT;
    for (int i = 0; i < SEEDS; i++) {
        CHECK(csession__buf_set(&h, NAME "=", 3) == 0);
        CHECK(csession__buf_append(&h, sl->seed[i].ptr, sl->seed[i].size) == 0);
        csession *s;
        CHECK(load(sl, 0, h.ptr, h.size, &s) == 0);
        forget(sl, s); /* whatever the last input made of it */
        csession_free(s);
        make_seed(index, i, &again);
        CHECK(same(&again, &sl->seed[i])); /* the same key, the same cookie */
    }
    csession_buf_dispose(&h);
    csession_buf_dispose(&again);
}

/* ---- one input ------------------------------------------------------------------ */

static void run(const uint8_t *data, size_t size)
{
    uint8_t flags = size > 0 ? data[0] : 0;
    size_t index = flags & 7;
    slot *sl = &slots[index];
    if (!sl->mgr)
        return;
    int token = (flags & FLAG_TOKEN) != 0;
    size_t n_changes = size > 1 ? data[1] % 9 : 0;
    size_t pos = 2 + 2 * n_changes;
    const uint8_t *changes = data + 2;
    if (pos > size) {
        n_changes = size > 2 ? (size - 2) / 2 : 0;
        pos = size;
    }
    const char *header = (const char *)data + pos;
    size_t header_len = size - pos;

    if (!sl->cookie_store)
        restore_seeds(index);
    rng_reset(UINT64_C(0xf1a9));

    /* Seal mode: the fuzzer picks what a cookie that opens holds. */
    csession_buf sealed = CSESSION_BUF_INIT, encoded = CSESSION_BUF_INIT;
    if (flags & FLAG_SEAL) {
        int rc = csession__cookie_seal(&sealed, (flags & FLAG_OLD_KEY) ? ring_old : ring_current,
                                       sl->security, NAME, 2, header, header_len);
        CHECK(rc == 0 || rc == CSESSION_ETOOBIG || rc == CSESSION_ENOMEM);
        if (rc == 0 && token) {
            header = sealed.ptr;
            header_len = sealed.size;
        } else if (rc == 0) {
            CHECK(csession__buf_set(&encoded, NAME "=", 3) == 0);
            csession_buf value = CSESSION_BUF_INIT;
            rc = csession__cookie_encode(&value, sealed.ptr, sealed.size);
            /* A signed value carries the bytes as they are: not UTF-8, it
             * cannot be a cookie value at all. */
            CHECK(rc == 0 || rc == CSESSION_ETOOBIG || rc == CSESSION_ENOMEM ||
                  (rc == CSESSION_EINVAL && sl->security == CSESSION_COOKIE_SIGNED));
            if (rc == 0) {
                CHECK(csession__buf_append(&encoded, value.ptr, value.size) == 0);
                header = encoded.ptr;
                header_len = encoded.size;
            }
            csession_buf_dispose(&value);
        }
    }

    csession *s;
    if (load(sl, token, header, header_len, &s) != 0)
        goto done;
    for (size_t i = 0; i < n_changes; i++)
        change(s, changes[2 * i], changes[2 * i + 1]);

    csession_buf before = CSESSION_BUF_INIT, after = CSESSION_BUF_INIT;
    encode(s, &before);
    int status = csession_status(s);
    issued is = { 0, CSESSION_BUF_INIT };
    int rc = commit(sl, token, s, &is);
    if (rc != 0) {
        CHECK(rc == CSESSION_ENOMEM || (rc == CSESSION_ETOOBIG && sl->cookie_store));
        /* A failed commit leaves the session as it was, and sends nothing. */
        encode(s, &after);
        CHECK(same(&before, &after) && csession_status(s) == status);
        CHECK(is.out.size == 0);
    } else {
        /* The client's next request loads what was committed. */
        csession_buf next = CSESSION_BUF_INIT;
        next_header(token, &is, header, header_len, &next);
        csession *s2;
        if (load(sl, token, next.ptr, next.size, &s2) == 0) {
            encode(s2, &after);
            if (!same(&before, &after)) {
                fprintf(stderr, "committed %.*s\nloaded back %.*s\n", (int)before.size,
                        before.ptr, (int)after.size, after.ptr);
                CHECK(!"a committed session loads back");
            }
            if (!sl->every_request) {
                /* Committing again writes nothing; a cookie just issued
                 * needs no new one. */
                issued again = { 0, CSESSION_BUF_INIT };
                CHECK(commit(sl, token, s, &again) == 0);
                CHECK(again.action == CSESSION_TOKEN_KEEP && again.out.size == 0);
                if (is.action == CSESSION_TOKEN_SET) {
                    CHECK(commit(sl, token, s2, &again) == 0);
                    CHECK(again.action == CSESSION_TOKEN_KEEP && again.out.size == 0);
                }
                csession_buf_dispose(&again.out);
            }
            csession_free(s2);
        }
        csession_buf_dispose(&next);
    }
    if (!sl->cookie_store)
        forget(sl, s);
    csession_free(s);
    csession_buf_dispose(&is.out);
    csession_buf_dispose(&before);
    csession_buf_dispose(&after);
done:
    csession_buf_dispose(&sealed);
    csession_buf_dispose(&encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    return 0;
}

/* ---- set-up and the seed corpus ---------------------------------------------------- */

static void write_seed(const char *dir, const char *name, uint8_t flags, const uint8_t *changes,
                       size_t n_changes, const char *body, size_t body_len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(1);
    }
    uint8_t head[2] = { flags, (uint8_t)n_changes };
    CHECK(fwrite(head, 1, 2, f) == 2);
    CHECK(fwrite(changes, 1, 2 * n_changes, f) == 2 * n_changes);
    CHECK(fwrite(body, 1, body_len, f) == body_len);
    CHECK(fclose(f) == 0);
}

static void write_seeds(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        exit(1);
    }
    static const uint8_t login[] = { 4, 0, 1, 1 };   /* renew; user = "alice" */
    static const uint8_t bump[] = { 0, 0 };          /* counter = -7 */
    static const uint8_t logout[] = { 5, 0 };        /* purge */
    static const uint8_t mixed[] = { 6, 0x12, 2, 3, 7, 0x0a, 3, 0, 0, 5 };
    csession_buf value = CSESSION_BUF_INIT, token = CSESSION_BUF_INIT, h = CSESSION_BUF_INIT;
    csession_buf opened = CSESSION_BUF_INIT, resealed = CSESSION_BUF_INIT;
    char name[64];
    for (size_t index = 0; index < SLOTS; index++) {
        const slot *sl = &slots[index];
        if (!sl->mgr)
            continue;
        uint8_t f = (uint8_t)index;
        for (int i = 0; i < SEEDS; i++) {
            CHECK(csession__buf_set(&value, sl->seed[i].ptr, sl->seed[i].size) == 0);
            CHECK(csession__buf_set(&h, NAME "=", 3) == 0);
            CHECK(csession__buf_append(&h, value.ptr, value.size) == 0);
            snprintf(name, sizeof name, "slot%zu_seed%d_cookie", index, i);
            write_seed(dir, name, f, NULL, 0, h.ptr, h.size);
            snprintf(name, sizeof name, "slot%zu_seed%d_login", index, i);
            write_seed(dir, name, f, login, 2, h.ptr, h.size);
            snprintf(name, sizeof name, "slot%zu_seed%d_logout", index, i);
            write_seed(dir, name, f, logout, 1, h.ptr, h.size);
            snprintf(name, sizeof name, "slot%zu_seed%d_mixed", index, i);
            write_seed(dir, name, f, mixed, 5, h.ptr, h.size);
            /* Among a browser's other cookies, after a stale one of ours. */
            csession__buf_clear(&h);
            CHECK(csession__buf_puts(&h, "_ga=GA1.2.123456789.1234567890; " NAME "=stale; "
                                         "theme=dark; " NAME "=") == 0);
            CHECK(csession__buf_append(&h, value.ptr, value.size) == 0);
            CHECK(csession__buf_puts(&h, "; lang=en") == 0);
            snprintf(name, sizeof name, "slot%zu_seed%d_browser", index, i);
            write_seed(dir, name, f, bump, 1, h.ptr, h.size);
            /* The same session as a token: the sealed value, not encoded. */
            csession__buf_clear(&token);
            CHECK(csession__buf_grow(&token, value.size) == 0);
            CHECK(csession__cookie_decode(value.ptr, value.size, token.ptr, value.size,
                                          &token.size) == 0);
            snprintf(name, sizeof name, "slot%zu_seed%d_token", index, i);
            write_seed(dir, name, f | FLAG_TOKEN, bump, 1, token.ptr, token.size);
            /* Sealed under the old key: opened, and sent again under the new. */
            size_t key_index;
            CHECK(csession__cookie_open(&opened, &key_index, ring_current, sl->security, NAME, 2,
                                        token.ptr, token.size) == 0);
            CHECK(csession__cookie_seal(&resealed, ring_old, sl->security, NAME, 2, opened.ptr,
                                        opened.size) == 0);
            CHECK(csession__cookie_encode(&value, resealed.ptr, resealed.size) == 0);
            CHECK(csession__buf_set(&h, NAME "=", 3) == 0);
            CHECK(csession__buf_append(&h, value.ptr, value.size) == 0);
            snprintf(name, sizeof name, "slot%zu_seed%d_old_key", index, i);
            write_seed(dir, name, f, NULL, 0, h.ptr, h.size);
            /* Seal mode, with what the cookie held (not empty). */
            snprintf(name, sizeof name, "slot%zu_seed%d_seal", index, i);
            write_seed(dir, name, f | FLAG_SEAL, bump, 1, opened.ptr, opened.size);
        }
        /* No cookie, and a fresh session that stores something. */
        snprintf(name, sizeof name, "slot%zu_new", index);
        write_seed(dir, name, f, bump, 1, "", 0);
    }
    csession_buf_dispose(&value);
    csession_buf_dispose(&token);
    csession_buf_dispose(&h);
    csession_buf_dispose(&opened);
    csession_buf_dispose(&resealed);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Before libsodium starts: every draw comes from rng from now on. */
    CHECK(randombytes_set_implementation(&rng_impl) == 0);
    rng_reset(1);
    csession__cookie_store_now = fixed_clock;
    CHECK(csession_init() == 0);

    unsigned char key[CSESSION_KEY_BYTES];
    CHECK(csession_keyring_new(&ring_current, 0) == 0 && csession_keyring_new(&ring_old, 0) == 0);
    for (unsigned k = 0; k < 2; k++) {
        key_bytes(key, k);
        CHECK(csession_keyring_add(ring_current, key, sizeof key) == 0);
    }
    CHECK(csession_keyring_add(ring_old, key, sizeof key) == 0); /* the second key */
    for (size_t i = 0; i < SLOTS; i++) {
        build_slot(&slots[i]);
        if (slots[i].mgr)
            for (int k = 0; k < SEEDS; k++)
                make_seed(i, k, &slots[i].seed[k]);
    }
    const char *dir = getenv("CSESSION_FUZZ_SEEDS");
    if (dir && *dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}
