/*
 * csession-bench: what one request costs through csession, next to the bare
 * calls into its dependencies that the same request cannot do without, in
 * one run on one machine.
 *
 * The session is a typical login session: "user_id" (a string), "counter"
 * (an integer), "roles" (an array of two strings) and "csrf" (32
 * characters). The request is what a handler does:
 *
 *   full       csession_manager_load() from a browser's Cookie: header (the
 *              session cookie between two unrelated ones), read "user_id"
 *              and "counter", write counter + 1, csession_manager_commit()
 *              -> Set-Cookie, csession_free()
 *   read       the same without the write: commit sends no Set-Cookie
 *
 * on the cookie store (signed, private AES-256-GCM when the CPU has AES-NI,
 * private XChaCha20-Poly1305), on the memory store (one thread, and two
 * threads on one manager: aggregate throughput) and, with --redis URL, on
 * the Redis store (one connection, and eight threads through the pool).
 *
 * Baselines ("bare_*") run the dependency calls alone, on the same bytes,
 * in their fastest form (keyed HMAC state reused, AES key schedule
 * precomputed): the physical limit of a request built on libsodium and
 * cJSON. For a cookie-store full request: base64-decode the cookie value
 * (sodium_base642bin), verify the HMAC or decrypt, cJSON_ParseWithLength,
 * cJSON_PrintUnformatted, sign or encrypt (with a fresh nonce from
 * randombytes_buf), sodium_bin2base64, cJSON_Delete; a read is the first
 * three. With --redis, raw hiredis GET + SET on one connection
 * (bare_hiredis_getset) and on 8 threads with a connection each
 * (bare_hiredis_getset_8t, the baseline of redis_full_8t), and the first
 * plus the bare cookie and JSON calls of a server-side session
 * (bare_redis_session: open the sealed session key, parse and print the
 * state, seal the key with a fresh nonce): redis_full is set against the
 * first and reports its ratio to the last as "ratio_to_limit".
 *
 * Every figure is the median of several repetitions, each long enough to
 * drown the clock's resolution. A figure and its baseline run their
 * repetitions in turn (baseline, figure, figure, baseline, ...), so that
 * load from elsewhere on the machine falls on both alike, and their ratio
 * is the median of the ratios of repetitions that ran side by side.
 * Threaded figures report aggregate operations per second; memory_full_2t's
 * baseline is the same request on one thread, so its ratio tells how far
 * the second thread paid off (0.5 = perfect).
 *
 * Usage: csession-bench [--quick] [--json] [--soak] [--redis URL]
 *                       [--only NAME] [--reps N] [--run NAME --iterations N]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "csession.h"
#include "csession/store_cookie.h"
#include "csession/store_memory.h"
#include "stores/memory.h"
#ifdef CSESSION_HAVE_REDIS_STORE
#include "csession/store_redis.h"
#endif

#define MAX_FIGURES 48
#define MAX_THREADS 8

/* The typical session's values. */
static const char USER_ID[] = "u-4f1c2a9e-7b3d-4c1e-9a57-d2a0";
static const char ROLES[] = "[\"reader\",\"editor\"]";
static const char CSRF[] = "b1946ac92492d2347c6235b4d2611184"; /* 32 characters */
static const int64_t COUNTER = 7;
/* Cookies a browser sends along with the session cookie. */
static const char OTHER_BEFORE[] = "_ga=GA1.2.1234567890.1700000000; ";
static const char OTHER_AFTER[] = "; theme=dark";

static volatile int sink; /* keeps results observable to the compiler */

/* ---- options and output ------------------------------------------------ */

static struct {
    int quick, json, soak;
    const char *redis_url;
    const char *only;     /* run figures whose name contains this */
    const char *run_name; /* --run: one figure, fixed iterations, no timing */
    long run_iterations;
    int reps;
    double min_rep_ns;
} opt;

typedef struct figure {
    char name[48];
    char baseline[48]; /* "" for none */
    double ns_per_op;
    double ops_per_sec;
    char limit[48]; /* "" or a figure this one is also set against (ratio_to_limit) */
    char extra[160]; /* more JSON members: the soak's, ratio_to_limit */
    int group;        /* measure_group() call it came from; 0: none */
    int reps;         /* repetitions in rep[], in the order they ran */
    double rep[64];   /* ns per operation of each repetition */
} figure;

static figure figures[MAX_FIGURES];
static size_t figure_count;

static void die(const char *what, int rc)
{
    fprintf(stderr, "csession-bench: %s: %s (%s)\n", what, csession_strerror(rc),
            csession_last_error());
    exit(1);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const figure *find_figure(const char *name)
{
    for (size_t i = 0; i < figure_count; i++)
        if (strcmp(figures[i].name, name) == 0)
            return &figures[i];
    return NULL;
}

static int wanted(const char *name)
{
    if (opt.run_name)
        return strcmp(name, opt.run_name) == 0;
    return !opt.only || strstr(name, opt.only) != NULL;
}

/*
 * f's time over b's. When both were measured in one group, repetition k of
 * one ran right next to repetition k of the other, so the ratio is the
 * median of the per-repetition ratios: a burst of load that slows one
 * repetition slows its partner too and cancels out, where it would shift
 * one median and not the other. Otherwise the ratio of the medians.
 * A baseline that was not measured (filtered out, skipped) gives no ratio.
 */
static double ratio_between(const figure *f, const figure *b)
{
    if (!b || b->ns_per_op <= 0)
        return 0;
    if (!f->group || f->group != b->group || f->reps != b->reps)
        return f->ns_per_op / b->ns_per_op;
    double r[64];
    for (int k = 0; k < f->reps; k++)
        r[k] = f->rep[k] / b->rep[k];
    qsort(r, (size_t)f->reps, sizeof r[0], cmp_double);
    return r[f->reps / 2];
}

static double ratio_of(const figure *f)
{
    return ratio_between(f, f->baseline[0] ? find_figure(f->baseline) : NULL);
}

static void print_json(const figure *f)
{
    double r = ratio_of(f);
    printf("{\"name\":\"%s\",\"ns_per_op\":%.1f,\"ops_per_sec\":%.0f,\"baseline\":", f->name,
           f->ns_per_op, f->ops_per_sec);
    if (f->baseline[0])
        printf("\"%s\"", f->baseline);
    else
        printf("null");
    if (r > 0)
        printf(",\"ratio\":%.3f", r);
    else
        printf(",\"ratio\":null");
    printf("%s}\n", f->extra);
    fflush(stdout);
}

static double limit_ratio_of(const figure *f)
{
    return ratio_between(f, f->limit[0] ? find_figure(f->limit) : NULL);
}

static void print_table(void)
{
    printf("%-26s %11s %12s  %-24s %7s\n", "figure", "ns/op", "ops/s", "baseline", "ratio");
    for (size_t i = 0; i < figure_count; i++) {
        const figure *f = &figures[i];
        double r = ratio_of(f);
        char ratio[16] = "";
        if (r > 0)
            snprintf(ratio, sizeof ratio, "%.2f", r);
        printf("%-26s %11.1f %12.0f  %-24s %7s\n", f->name, f->ns_per_op, f->ops_per_sec,
               f->baseline, ratio);
    }
    for (size_t i = 0; i < figure_count; i++) {
        double r = limit_ratio_of(&figures[i]);
        if (r > 0)
            printf("%s / %s (the limit with these dependencies): %.2f\n", figures[i].name,
                   figures[i].limit, r);
    }
}

static figure *add_figure(const char *name, const char *baseline, double ns_per_op,
                          double ops_per_sec)
{
    if (figure_count == MAX_FIGURES)
        die("too many figures", CSESSION_ERROR);
    figure *f = &figures[figure_count++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->baseline, sizeof f->baseline, "%s", baseline ? baseline : "");
    f->ns_per_op = ns_per_op;
    f->ops_per_sec = ops_per_sec;
    return f;
}

/* Printed as soon as measured in --json mode, so that a consumer sees
 * progress; ratios need the baseline first, which is why baselines are
 * measured before (or along with) the figures that refer to them. */
static void emit(figure *f)
{
    double r = limit_ratio_of(f);
    if (r > 0)
        snprintf(f->extra, sizeof f->extra, ",\"ratio_to_limit\":%.3f", r);
    if (opt.json)
        print_json(f);
}

/* ---- the timing harness ------------------------------------------------ */

typedef void (*bench_fn)(void *ctx, long iters);

/* One place every timed loop goes through: callgrind can collect in it
 * alone (--toggle-collect=timed_loop). */
__attribute__((noinline)) static double timed_loop(bench_fn fn, void *ctx, long iters)
{
    double t0 = now_ns();
    fn(ctx, iters);
    return now_ns() - t0;
}

typedef struct thread_job {
    bench_fn fn;
    void *ctx;
    long iters;
    pthread_barrier_t *start;
    double t0, t1;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    pthread_barrier_wait(j->start);
    j->t0 = now_ns();
    j->fn(j->ctx, j->iters);
    j->t1 = now_ns();
    return NULL;
}

/*
 * One figure to measure: `fn` on `ctx`, or with threads > 1 on each of
 * ctxs[0..threads-1] in a thread of its own (aggregate throughput).
 */
typedef struct bench_item {
    const char *name;
    const char *baseline; /* NULL for none */
    const char *limit;    /* NULL, or a figure reported as ratio_to_limit */
    bench_fn fn;
    void *ctx;
    void **ctxs;
    int threads;
} bench_item;

#define MAX_GROUP 8

/* One repetition of `iters` operations (per thread); ns per operation. */
static double run_once(const bench_item *it, long iters)
{
    if (it->threads <= 1)
        return timed_loop(it->fn, it->ctx, iters) / (double)iters;
    int n = it->threads;
    pthread_t t[MAX_THREADS];
    thread_job jobs[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        jobs[i] = (thread_job){ it->fn, it->ctxs[i], iters, &start, 0, 0 };
        if (pthread_create(&t[i], NULL, thread_main, &jobs[i]) != 0)
            die("pthread_create", CSESSION_ERROR);
    }
    double first = 0, last = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        if (i == 0 || jobs[i].t0 < first)
            first = jobs[i].t0;
        if (jobs[i].t1 > last)
            last = jobs[i].t1;
    }
    pthread_barrier_destroy(&start);
    return (last - first) / ((double)iters * n);
}

/* Iterations for one repetition of about min_rep_ns (warms up, too). */
static long calibrate(const bench_item *it)
{
    long iters = 8;
    for (;;) {
        double per = run_once(it, iters);
        if (per * (double)iters >= opt.min_rep_ns / 8 || iters > (1L << 40)) {
            long n = (long)(opt.min_rep_ns * 1.1 / (per > 0 ? per : 1)) + 1;
            return n;
        }
        iters *= 4;
    }
}

/*
 * Measures the wanted items of a group with their repetitions interleaved
 * (one of each in turn, the order reversed every other round), so that a
 * figure and its baseline see the same machine: on a shared, noisy host a
 * burst of load then slows both rather than one. Items are added, and
 * emitted, in the order given: put baselines first.
 */
static void measure_group(const bench_item *items, size_t n)
{
    long iters[MAX_GROUP];
    double samples[MAX_GROUP][64];
    size_t idx[MAX_GROUP], m = 0;
    if (n > MAX_GROUP)
        die("too many figures in a group", CSESSION_ERROR);
    for (size_t i = 0; i < n; i++)
        if (wanted(items[i].name))
            idx[m++] = i;
    if (m == 0)
        return;
    if (opt.run_name) {
        for (size_t k = 0; k < m; k++)
            run_once(&items[idx[k]], opt.run_iterations);
        return;
    }
    for (size_t k = 0; k < m; k++)
        iters[k] = calibrate(&items[idx[k]]);
    for (int r = 0; r < opt.reps; r++) {
        for (size_t j = 0; j < m; j++) {
            size_t k = r % 2 ? m - 1 - j : j;
            samples[k][r] = run_once(&items[idx[k]], iters[k]);
        }
    }
    static int groups;
    groups++;
    figure *added[MAX_GROUP];
    for (size_t k = 0; k < m; k++) {
        const bench_item *it = &items[idx[k]];
        double sorted[64];
        memcpy(sorted, samples[k], sizeof sorted);
        qsort(sorted, (size_t)opt.reps, sizeof sorted[0], cmp_double);
        double ns = sorted[opt.reps / 2];
        added[k] = add_figure(it->name, it->baseline, ns, 1e9 / ns);
        added[k]->group = groups;
        added[k]->reps = opt.reps;
        memcpy(added[k]->rep, samples[k], sizeof samples[k]);
        if (it->limit)
            snprintf(added[k]->limit, sizeof added[k]->limit, "%s", it->limit);
    }
    for (size_t k = 0; k < m; k++)
        emit(added[k]);
}

/* ---- requests through the manager -------------------------------------- */

typedef struct request_ctx {
    csession_manager *mgr;
    char header[8192]; /* the Cookie: header value a browser sends */
    size_t header_len;
    csession_buf set_cookie;
} request_ctx;

/* The handler's part: read two keys, write one when `write`. */
static void handle(csession *s, int write)
{
    const char *user;
    size_t user_len;
    int64_t counter = 0;
    int rc = csession_get_string(s, "user_id", &user, &user_len);
    if (rc || (rc = csession_get_int64(s, "counter", &counter)))
        die("the session did not load", rc);
    sink += user[user_len - 1] + (int)counter;
    if (write && (rc = csession_insert_int64(s, "counter", counter + 1)))
        die("insert", rc);
}

static void request(request_ctx *c, int write)
{
    csession *s;
    int rc = csession_manager_load(c->mgr, c->header, c->header_len, &s);
    if (rc)
        die("load", rc);
    handle(s, write);
    if ((rc = csession_manager_commit(c->mgr, s, &c->set_cookie)))
        die("commit", rc);
    if ((c->set_cookie.size != 0) != write)
        die(write ? "no Set-Cookie after a write" : "a Set-Cookie after a read", CSESSION_ERROR);
    csession_free(s);
}

static void full_requests(void *ctx, long iters)
{
    for (long i = 0; i < iters; i++)
        request(ctx, 1);
}

static void read_requests(void *ctx, long iters)
{
    for (long i = 0; i < iters; i++)
        request(ctx, 0);
}

/* Takes "name=value" out of a Set-Cookie value into the browser's header. */
static void set_header(request_ctx *c, const char *set_cookie)
{
    size_t pair = strcspn(set_cookie, ";");
    int n = snprintf(c->header, sizeof c->header, "%s%.*s%s", OTHER_BEFORE, (int)pair, set_cookie,
                     OTHER_AFTER);
    if (n < 0 || (size_t)n >= sizeof c->header)
        die("cookie header too long", CSESSION_ETOOBIG);
    c->header_len = (size_t)n;
}

/* Logs a new visitor in: the first request, which creates the session. */
static void login(request_ctx *c)
{
    csession *s;
    int rc = csession_manager_load(c->mgr, NULL, 0, &s);
    if (!rc)
        rc = csession_insert_string(s, "user_id", USER_ID);
    if (!rc)
        rc = csession_insert_int64(s, "counter", COUNTER);
    if (!rc)
        rc = csession_insert_json(s, "roles", ROLES, strlen(ROLES));
    if (!rc)
        rc = csession_insert_string(s, "csrf", CSRF);
    if (!rc)
        rc = csession_manager_commit(c->mgr, s, &c->set_cookie);
    if (rc)
        die("login", rc);
    set_header(c, c->set_cookie.ptr);
    csession_free(s);
}

/* Logs out, so that server-side stores do not keep the session. */
static void logout(request_ctx *c)
{
    csession *s;
    int rc = csession_manager_load(c->mgr, c->header, c->header_len, &s);
    if (!rc)
        rc = csession_purge(s);
    if (!rc)
        rc = csession_manager_commit(c->mgr, s, &c->set_cookie);
    if (rc)
        die("logout", rc);
    csession_free(s);
}

static unsigned char master_key[CSESSION_KEY_BYTES];

static csession_manager *new_manager(int security, csession_store *store)
{
    csession_config *cfg;
    csession_manager *mgr;
    int rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, master_key, sizeof master_key);
    if (!rc)
        rc = csession_config_set_security(cfg, security);
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, store);
    if (rc)
        die("manager", rc);
    csession_config_free(cfg);
    return mgr;
}

static void ctx_init(request_ctx *c, csession_manager *mgr)
{
    memset(c, 0, sizeof *c);
    c->mgr = mgr;
    csession_buf_init(&c->set_cookie);
    login(c);
}

static void ctx_dispose(request_ctx *c)
{
    csession_buf_dispose(&c->set_cookie);
}

/* ---- baselines: the dependency calls alone ----------------------------- */

typedef struct bare_ctx {
    int mode;                  /* csession_cookie_security */
    int write;
    char sealed[4096];         /* the session cookie's value, percent-decoded */
    size_t sealed_len;
    char plain[4096];          /* what it opens to: the JSON the request parses */
    size_t plain_len;
    size_t plain_sealed_len;   /* bytes sealed on the way out (the key, for a store) */
    const char *json;          /* the state parsed and printed */
    size_t json_len;
    crypto_auth_hmacsha256_state hmac; /* keyed once, copied per call */
    crypto_aead_aes256gcm_state *aes;  /* key schedule, precomputed */
    unsigned char xchacha[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
} bare_ctx;

/* Opens ctx->sealed into buf; returns the plaintext length. */
static size_t bare_open(bare_ctx *c, unsigned char *buf)
{
    unsigned char blob[4096];
    size_t blob_len = 0;
    unsigned long long mlen = 0;
    switch (c->mode) {
    case CSESSION_COOKIE_SIGNED: {
        unsigned char mac[32], expected[32];
        if (sodium_base642bin(mac, sizeof mac, c->sealed, 44, NULL, &blob_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            die("bare: base64", CSESSION_ERROR);
        crypto_auth_hmacsha256_state st = c->hmac;
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)c->sealed + 44,
                                      c->sealed_len - 44);
        crypto_auth_hmacsha256_final(&st, expected);
        if (crypto_verify_32(mac, expected) != 0)
            die("bare: HMAC", CSESSION_ERROR);
        memcpy(buf, c->sealed + 44, c->sealed_len - 44);
        return c->sealed_len - 44;
    }
    case CSESSION_COOKIE_PRIVATE_AES256GCM:
        if (sodium_base642bin(blob, sizeof blob, c->sealed, c->sealed_len, NULL, &blob_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            crypto_aead_aes256gcm_decrypt_afternm(buf, &mlen, NULL, blob + 12, blob_len - 12,
                                                  (const unsigned char *)"id", 2, blob, c->aes))
            die("bare: AES-256-GCM", CSESSION_ERROR);
        return (size_t)mlen;
    default:
        if (sodium_base642bin(blob, sizeof blob, c->sealed, c->sealed_len, NULL, &blob_len, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &mlen, NULL, blob + 25,
                                                       blob_len - 25,
                                                       (const unsigned char *)"id", 2, blob + 1,
                                                       c->xchacha))
            die("bare: XChaCha20-Poly1305", CSESSION_ERROR);
        return (size_t)mlen;
    }
}

/* Seals len bytes of `value` and base64-encodes the result into out. */
static void bare_seal(bare_ctx *c, const unsigned char *value, size_t len, char *out,
                      size_t out_cap)
{
    unsigned char blob[4096];
    unsigned long long clen = 0;
    switch (c->mode) {
    case CSESSION_COOKIE_SIGNED: {
        unsigned char mac[32];
        crypto_auth_hmacsha256_state st = c->hmac;
        crypto_auth_hmacsha256_update(&st, value, len);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_bin2base64(out, out_cap, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
        return;
    }
    case CSESSION_COOKIE_PRIVATE_AES256GCM:
        randombytes_buf(blob, 12);
        crypto_aead_aes256gcm_encrypt_afternm(blob + 12, &clen, value, len,
                                              (const unsigned char *)"id", 2, NULL, blob, c->aes);
        sodium_bin2base64(out, out_cap, blob, 12 + (size_t)clen, sodium_base64_VARIANT_ORIGINAL);
        return;
    default:
        blob[0] = 1;
        randombytes_buf(blob + 1, 24);
        crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 25, &clen, value, len,
                                                   (const unsigned char *)"id", 2, NULL,
                                                   blob + 1, c->xchacha);
        sodium_bin2base64(out, out_cap, blob, 25 + (size_t)clen,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        return;
    }
}

static void bare_requests(void *ctx, long iters)
{
    bare_ctx *c = ctx;
    unsigned char plain[4096];
    char out[8192];
    for (long i = 0; i < iters; i++) {
        size_t n = bare_open(c, plain);
        cJSON *doc = cJSON_ParseWithLength(c->json, c->json_len);
        if (!doc)
            die("bare: cJSON_Parse", CSESSION_ERROR);
        if (c->write) {
            char *text = cJSON_PrintUnformatted(doc);
            if (!text)
                die("bare: cJSON_Print", CSESSION_ERROR);
            /* A cookie store seals the printed state; another store the key. */
            if (c->plain_sealed_len)
                bare_seal(c, plain, c->plain_sealed_len, out, sizeof out);
            else
                bare_seal(c, (const unsigned char *)text, strlen(text), out, sizeof out);
            sink += out[0];
            cJSON_free(text);
        }
        sink += plain[n - 1];
        cJSON_Delete(doc);
    }
}

/* Percent-decodes the session cookie's value out of a request context. */
static void sealed_value(const request_ctx *r, char *out, size_t cap, size_t *len)
{
    const char *v = strstr(r->header, "id=") + 3;
    size_t raw = strcspn(v, ";");
    size_t n = 0;
    for (size_t i = 0; i < raw && n + 1 < cap; i++) {
        unsigned int byte;
        if (v[i] == '%' && i + 2 < raw && sscanf(v + i + 1, "%2x", &byte) == 1) {
            out[n++] = (char)byte;
            i += 2;
        } else {
            out[n++] = v[i];
        }
    }
    out[n] = '\0';
    *len = n;
}

static void bare_init(bare_ctx *c, int mode, int write, const request_ctx *r, const char *json)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->write = write;
    sealed_value(r, c->sealed, sizeof c->sealed, &c->sealed_len);
    crypto_auth_hmacsha256_init(&c->hmac, master_key, 32);
    crypto_kdf_derive_from_key(c->xchacha, sizeof c->xchacha, 1, "CSESSXC1", master_key + 32);
    if (crypto_aead_aes256gcm_is_available()) {
        c->aes = sodium_malloc(sizeof *c->aes);
        crypto_aead_aes256gcm_beforenm(c->aes, master_key + 32);
    }
    c->plain_len = bare_open(c, (unsigned char *)c->plain);
    c->plain[c->plain_len] = '\0';
    /* The cookie store's value is the state; otherwise it is the key and
     * the state is what the store holds. */
    c->json = json ? json : c->plain;
    c->json_len = strlen(c->json);
    c->plain_sealed_len = json ? c->plain_len : 0;
}

static void bare_dispose(bare_ctx *c)
{
    if (c->aes)
        sodium_free(c->aes);
    sodium_memzero(c, sizeof *c);
}

/* ---- the cookie store --------------------------------------------------- */

static const struct {
    int mode;
    const char *tag;
} MODES[] = {
    { CSESSION_COOKIE_SIGNED, "signed" },
    { CSESSION_COOKIE_PRIVATE_AES256GCM, "aes" },
    { CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, "xchacha" },
};

static int any_wanted(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (wanted(names[i]))
            return 1;
    return 0;
}

static void bench_cookie_store(void)
{
    for (size_t m = 0; m < sizeof MODES / sizeof MODES[0]; m++) {
        char full[48], read[48], bare_full[48], bare_read[48];
        snprintf(full, sizeof full, "cookie_%s_full", MODES[m].tag);
        snprintf(read, sizeof read, "cookie_%s_read", MODES[m].tag);
        snprintf(bare_full, sizeof bare_full, "bare_%s_full", MODES[m].tag);
        snprintf(bare_read, sizeof bare_read, "bare_%s_read", MODES[m].tag);
        const char *names[] = { full, read, bare_full, bare_read };
        if (!any_wanted(names, 4))
            continue;
        if (csession_cookie_security_check(MODES[m].mode) != 0) {
            if (!opt.json)
                fprintf(stderr, "skipped %s: %s\n", full, csession_last_error());
            continue;
        }
        csession_store *store;
        int rc = csession_store_cookie_new(&store);
        if (rc)
            die("cookie store", rc);
        request_ctx *c = malloc(sizeof *c);
        bare_ctx *b = malloc(2 * sizeof *b); /* [0] full, [1] read */
        if (!c || !b)
            die("malloc", CSESSION_ENOMEM);
        ctx_init(c, new_manager(MODES[m].mode, store));

        bare_init(&b[0], MODES[m].mode, 1, c, NULL);
        bare_init(&b[1], MODES[m].mode, 0, c, NULL);
        const bench_item group[] = {
            { bare_full, NULL, NULL, bare_requests, &b[0], NULL, 1 },
            { bare_read, NULL, NULL, bare_requests, &b[1], NULL, 1 },
            { full, bare_full, NULL, full_requests, c, NULL, 1 },
            { read, bare_read, NULL, read_requests, c, NULL, 1 },
        };
        measure_group(group, 4);

        bare_dispose(&b[0]);
        bare_dispose(&b[1]);
        csession_manager_free(c->mgr);
        ctx_dispose(c);
        free(b);
        free(c);
    }
}

/* ---- server-side stores ----------------------------------------------- */

/* The state a server-side store holds for the typical session. */
static char *stored_state(void)
{
    csession *s;
    csession_buf out = CSESSION_BUF_INIT;
    int rc = csession_new(&s);
    if (!rc)
        rc = csession_insert_string(s, "user_id", USER_ID);
    if (!rc)
        rc = csession_insert_int64(s, "counter", COUNTER);
    if (!rc)
        rc = csession_insert_json(s, "roles", ROLES, strlen(ROLES));
    if (!rc)
        rc = csession_insert_string(s, "csrf", CSRF);
    if (!rc)
        rc = csession_encode(s, &out);
    if (rc)
        die("encode", rc);
    char *copy = strdup(out.ptr);
    csession_buf_dispose(&out);
    csession_free(s);
    return copy;
}

static void bench_memory_store(void)
{
    const char *names[] = { "bare_xchacha_key_full", "memory_full", "memory_full_2t" };
    if (!any_wanted(names, 3))
        return;
    csession_manager *mgr = new_manager(CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, NULL);
    request_ctx *c = calloc(2, sizeof *c); /* one session per thread */
    bare_ctx *b = malloc(sizeof *b);
    void *ctxs[2] = { &c[0], &c[1] };
    if (!c || !b)
        die("malloc", CSESSION_ENOMEM);
    ctx_init(&c[0], mgr);
    ctx_init(&c[1], mgr);
    char *state = stored_state();
    bare_init(b, CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, 1, &c[0], state);
    const bench_item group[] = {
        { "bare_xchacha_key_full", NULL, NULL, bare_requests, b, NULL, 1 },
        { "memory_full", "bare_xchacha_key_full", NULL, full_requests, &c[0], NULL, 1 },
        /* its baseline is the same request on one thread */
        { "memory_full_2t", "memory_full", NULL, full_requests, NULL, ctxs, 2 },
    };
    measure_group(group, 3);
    bare_dispose(b);
    for (int i = 0; i < 2; i++) {
        logout(&c[i]);
        ctx_dispose(&c[i]);
    }
    free(c);
    free(b);
    free(state);
    csession_manager_free(mgr);
}

/* ---- Redis -------------------------------------------------------------- */

/* Enough of a redis:// or unix:// URL for the raw hiredis baseline: host,
 * port, database; no password. */
static redisContext *redis_connect(const char *url)
{
    struct timeval tv = { 2, 0 };
    redisContext *r = NULL;
    int db = 0;
    if (strncmp(url, "unix://", 7) == 0) {
        char path[256];
        snprintf(path, sizeof path, "%s", url + 7);
        char *q = strchr(path, '?');
        if (q) {
            char *d = strstr(q, "db=");
            db = d ? atoi(d + 3) : 0;
            *q = '\0';
        }
        r = redisConnectUnixWithTimeout(path, tv);
    } else if (strncmp(url, "redis://", 8) == 0) {
        char host[256] = "127.0.0.1";
        int port = 6379;
        const char *p = url + 8;
        size_t hl = strcspn(p, ":/");
        if (hl) {
            snprintf(host, sizeof host, "%.*s", (int)hl, p);
        }
        p += hl;
        if (*p == ':')
            port = (int)strtol(p + 1, (char **)&p, 10);
        if (*p == '/')
            db = atoi(p + 1);
        r = redisConnectWithTimeout(host, port, tv);
    } else {
        fprintf(stderr, "csession-bench: --redis takes redis://host:port/db or unix:///path\n");
        exit(2);
    }
    if (!r || r->err) {
        fprintf(stderr, "csession-bench: cannot connect to %s: %s\n", url,
                r ? r->errstr : "out of memory");
        exit(1);
    }
    if (db) {
        redisReply *rep = redisCommand(r, "SELECT %d", db);
        if (!rep || rep->type == REDIS_REPLY_ERROR)
            die("SELECT", CSESSION_ESTORE);
        freeReplyObject(rep);
    }
    return r;
}

typedef struct raw_redis_ctx {
    redisContext *r;
    const char *state;
    size_t state_len;
    char key[40]; /* each connection its own key, as each user their session */
    size_t key_len;
} raw_redis_ctx;

/* Connects and stores the state under "csession-bench:raw:<n>". */
static void raw_redis_init(raw_redis_ctx *c, int n, const char *state)
{
    c->r = redis_connect(opt.redis_url);
    c->state = state;
    c->state_len = strlen(state);
    c->key_len = (size_t)snprintf(c->key, sizeof c->key, "csession-bench:raw:%d", n);
    redisReply *rep = redisCommand(c->r, "SET %b %b EX 86400", c->key, c->key_len, c->state,
                                   c->state_len);
    if (!rep || rep->type == REDIS_REPLY_ERROR)
        die("raw SET", CSESSION_ESTORE);
    freeReplyObject(rep);
}

static void raw_redis_dispose(raw_redis_ctx *c)
{
    freeReplyObject(redisCommand(c->r, "DEL %b", c->key, c->key_len));
    redisFree(c->r);
}

static void raw_redis_requests(void *ctx, long iters)
{
    raw_redis_ctx *c = ctx;
    for (long i = 0; i < iters; i++) {
        redisReply *get = redisCommand(c->r, "GET %b", c->key, c->key_len);
        if (!get || get->type != REDIS_REPLY_STRING)
            die("raw GET", CSESSION_ESTORE);
        redisReply *set = redisCommand(c->r, "SET %b %b XX EX 86400", c->key, c->key_len,
                                       c->state, c->state_len);
        if (!set || set->type != REDIS_REPLY_STATUS)
            die("raw SET", CSESSION_ESTORE);
        sink += (int)get->len;
        freeReplyObject(get);
        freeReplyObject(set);
    }
}

/* A server-side session request on bare dependencies: the Redis round
 * trips and the cookie and JSON work around them. */
typedef struct bare_session_ctx {
    raw_redis_ctx *redis;
    bare_ctx *bare;
} bare_session_ctx;

static void bare_session_requests(void *ctx, long iters)
{
    bare_session_ctx *c = ctx;
    for (long i = 0; i < iters; i++) {
        raw_redis_requests(c->redis, 1);
        bare_requests(c->bare, 1);
    }
}

#ifdef CSESSION_HAVE_REDIS_STORE
static csession_manager *redis_manager(unsigned int pool)
{
    csession_store_redis_options o = CSESSION_STORE_REDIS_OPTIONS_INIT;
    o.pool_size = pool;
    csession_store *store;
    int rc = csession_store_redis_new(&store, opt.redis_url, &o);
    if (rc)
        die("Redis store", rc);
    return new_manager(CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, store);
}
#endif

/*
 * bare_hiredis_getset: raw hiredis GET + SET on one connection;
 * bare_hiredis_getset_8t: the same on 8 threads, a connection each;
 * bare_redis_session: bare_hiredis_getset plus the bare calls of
 * bare_xchacha_key_full, the limit of a Redis session request with these
 * dependencies; redis_full on one pooled connection; redis_full_8t: 8
 * threads, pool of 8. All five are measured interleaved.
 */
static void bench_redis(void)
{
    if (!opt.redis_url)
        return;
    enum { THREADS = 8 };
    const char *names[] = { "bare_hiredis_getset", "bare_hiredis_getset_8t",
                            "bare_redis_session", "redis_full", "redis_full_8t" };
    if (!any_wanted(names, 5))
        return;
    char *state = stored_state();
    raw_redis_ctx raw, raw_threads[THREADS];
    void *raw_ctxs[THREADS];
    raw_redis_init(&raw, 0, state);
    if (wanted("bare_hiredis_getset_8t"))
        for (int t = 0; t < THREADS; t++) {
            raw_redis_init(&raw_threads[t], 1 + t, state);
            raw_ctxs[t] = &raw_threads[t];
        }

    /* The bare cookie work needs a session cookie of the same shape: one
     * from a manager on the memory store with the same key and mode. */
    csession_manager *mem = new_manager(CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, NULL);
    request_ctx *probe = malloc(sizeof *probe);
    bare_ctx *b = malloc(sizeof *b);
    if (!probe || !b)
        die("malloc", CSESSION_ENOMEM);
    ctx_init(probe, mem);
    bare_init(b, CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305, 1, probe, state);
    logout(probe);
    ctx_dispose(probe);
    free(probe);
    csession_manager_free(mem);
    bare_session_ctx bare_session = { &raw, b };

#ifdef CSESSION_HAVE_REDIS_STORE
    csession_manager *one = NULL, *many = NULL;
    request_ctx *c = calloc(1 + THREADS, sizeof *c); /* [0] one connection, then the threads */
    void *ctxs[THREADS];
    if (!c)
        die("malloc", CSESSION_ENOMEM);
    if (wanted("redis_full")) {
        one = redis_manager(1);
        ctx_init(&c[0], one);
    }
    if (wanted("redis_full_8t")) {
        many = redis_manager(THREADS);
        for (int t = 0; t < THREADS; t++) {
            ctx_init(&c[1 + t], many);
            ctxs[t] = &c[1 + t];
        }
    }
    const bench_item group[] = {
        { "bare_hiredis_getset", NULL, NULL, raw_redis_requests, &raw, NULL, 1 },
        { "bare_hiredis_getset_8t", NULL, NULL, raw_redis_requests, NULL, raw_ctxs, THREADS },
        { "bare_redis_session", "bare_hiredis_getset", NULL, bare_session_requests,
          &bare_session, NULL, 1 },
        { "redis_full", "bare_hiredis_getset", "bare_redis_session", full_requests, &c[0], NULL,
          1 },
        { "redis_full_8t", "bare_hiredis_getset_8t", NULL, full_requests, NULL, ctxs, THREADS },
    };
    measure_group(group, 5);
    if (one) {
        logout(&c[0]);
        ctx_dispose(&c[0]);
        csession_manager_free(one);
    }
    if (many) {
        for (int t = 0; t < THREADS; t++) {
            logout(&c[1 + t]);
            ctx_dispose(&c[1 + t]);
        }
        csession_manager_free(many);
    }
    free(c);
#else
    const bench_item group[] = {
        { "bare_hiredis_getset", NULL, NULL, raw_redis_requests, &raw, NULL, 1 },
        { "bare_hiredis_getset_8t", NULL, NULL, raw_redis_requests, NULL, raw_ctxs, THREADS },
        { "bare_redis_session", "bare_hiredis_getset", NULL, bare_session_requests,
          &bare_session, NULL, 1 },
    };
    measure_group(group, 3);
    if (!opt.json)
        fprintf(stderr, "skipped redis_full, redis_full_8t: built without the Redis store\n");
#endif
    bare_dispose(b);
    free(b);
    raw_redis_dispose(&raw);
    if (wanted("bare_hiredis_getset_8t"))
        for (int t = 0; t < THREADS; t++)
            raw_redis_dispose(&raw_threads[t]);
    free(state);
}

/* ---- memory soak -------------------------------------------------------- */

static int64_t soak_clock_ms;

static int64_t soak_clock(void *ctx)
{
    (void)ctx;
    return soak_clock_ms;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * A million requests on the memory store with sessions that expire: every
 * other request is a new visitor who logs in, the others come back once
 * with the cookie they got. The state TTL is 1 s and the store's clock
 * advances 1 ms per request, so sessions expire all the time and must be
 * reclaimed: the resident set must not grow between the end of the warm-up
 * and the end.
 */
static void bench_soak(void)
{
    if (!opt.soak || !wanted("memory_soak"))
        return;
    const long warmup = 100000, total = 1000000;
    csession_store *store;
    int rc = csession_store_memory_new(&store, NULL);
    if (!rc)
        rc = csession__store_memory_set_clock(store, soak_clock, NULL);
    if (rc)
        die("memory store", rc);
    csession_config *cfg;
    csession_manager *mgr;
    rc = csession_config_new(&cfg);
    if (!rc)
        rc = csession_config_add_key(cfg, master_key, sizeof master_key);
    if (!rc)
        rc = csession_config_set_browser_session(cfg, 1);
    if (!rc)
        rc = csession_manager_new(&mgr, cfg, store);
    if (rc)
        die("manager", rc);
    csession_config_free(cfg);

    request_ctx *c = malloc(sizeof *c);
    if (!c)
        die("malloc", CSESSION_ENOMEM);
    long before = 0;
    double t0 = 0;
    for (long i = 0; i < total + warmup; i++) {
        if (i == warmup) {
            before = rss_kib();
            t0 = now_ns();
        }
        soak_clock_ms++;
        if (i % 2 == 0) {
            ctx_init(c, mgr); /* a new visitor logs in */
        } else {
            request(c, 1); /* and comes back once */
            ctx_dispose(c);
        }
    }
    double ns = (now_ns() - t0) / (double)total;
    long after = rss_kib();
    csession__memory_stats st;
    csession__store_memory_stats(store, &st);
    figure *f = add_figure("memory_soak", NULL, ns, 1e9 / ns);
    snprintf(f->extra, sizeof f->extra,
             ",\"requests\":%ld,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
             "\"rss_growth_kib\":%ld,\"live_sessions\":%zu,\"reclaimed\":%zu",
             total, before, after, after - before, st.live, st.reclaimed);
    emit(f);
    if (!opt.json)
        fprintf(stderr,
                "memory_soak: %ld requests (after %ld warm-up), RSS %ld KiB -> %ld KiB "
                "(%+ld KiB); %zu sessions live, %zu reclaimed\n",
                total, warmup, before, after, after - before, st.live, st.reclaimed);
    free(c);
    csession_manager_free(mgr);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: csession-bench [--quick] [--json] [--soak] [--redis URL] [--only NAME]\n"
            "                      [--reps N] [--run NAME --iterations N]\n"
            "  --quick        5 repetitions of >= 100 ms (default: 7 of >= 250 ms)\n"
            "  --json         one JSON object per line and figure instead of the table\n"
            "  --soak         add memory_soak: RSS over 1,000,000 requests with expiring sessions\n"
            "  --redis URL    add the Redis figures (redis://host:port/db or unix:///path)\n"
            "  --only NAME    only the figures whose name contains NAME\n"
            "  --reps N       N repetitions per figure (1..64; more narrow a noisy ratio)\n"
            "  --run NAME     run figure NAME for exactly --iterations N requests, untimed\n"
            "                 (for profilers: valgrind --tool=callgrind --toggle-collect=timed_loop)\n");
}

static void cpu_model(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    snprintf(out, cap, "unknown CPU");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 1 + strspn(v + 1, " \t");
                v[strcspn(v, "\n")] = '\0';
                snprintf(out, cap, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
        } else if (strcmp(a, "--json") == 0) {
            opt.json = 1;
        } else if (strcmp(a, "--soak") == 0) {
            opt.soak = 1;
        } else if (strcmp(a, "--redis") == 0 && i + 1 < argc) {
            opt.redis_url = argv[++i];
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            opt.only = argv[++i];
        } else if (strcmp(a, "--reps") == 0 && i + 1 < argc) {
            opt.reps = atoi(argv[++i]);
            if (opt.reps < 1 || opt.reps > 64) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(a, "--run") == 0 && i + 1 < argc) {
            opt.run_name = argv[++i];
        } else if (strcmp(a, "--iterations") == 0 && i + 1 < argc) {
            opt.run_iterations = atol(argv[++i]);
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (opt.run_name && opt.run_iterations <= 0) {
        usage(stderr);
        return 2;
    }
    if (!opt.reps)
        opt.reps = opt.quick ? 5 : 7;
    opt.min_rep_ns = opt.quick ? 100e6 : 250e6;

    int rc = csession_init();
    if (rc)
        die("init", rc);
    csession_key_generate(master_key, sizeof master_key);

    if (!opt.json && !opt.run_name) {
        char cpu[128];
        cpu_model(cpu, sizeof cpu);
        printf("csession %s on %s, %ld CPUs; median of %d repetitions of >= %.0f ms\n",
               csession_version(), cpu, sysconf(_SC_NPROCESSORS_ONLN), opt.reps,
               opt.min_rep_ns / 1e6);
        printf("session: user_id (string), counter (int), roles (2 strings), csrf (32 chars)\n");
    }
    bench_cookie_store();
    bench_memory_store();
    bench_redis();
    bench_soak();
    if (!opt.json && !opt.run_name)
        print_table();
    sodium_memzero(master_key, sizeof master_key);
    return 0;
}
