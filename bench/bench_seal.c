/*
 * Seal + open of a typical session state in each cookie security mode,
 * next to the bare libsodium calls the mode cannot do without, timed in the
 * same run:
 *   signed:  crypto_auth_hmacsha256 + crypto_auth_hmacsha256_verify
 *   AES-GCM: randombytes_buf(12) + crypto_aead_aes256gcm_encrypt + _decrypt
 *   XChaCha: randombytes_buf(24) + crypto_aead_xchacha20poly1305_ietf_encrypt
 *            + _decrypt
 * Each figure is the median of REPS runs of ITERS operations.
 *
 * Usage: csession-bench-seal [iterations-per-run]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cookie/seal.h"
#include "csession.h"

#define REPS 9

static const char state[] =
    "{\"v\":1,\"state\":{\"user_id\":\"4f1c2a9e-7b3d-4c1e\",\"counter\":7,"
    "\"role\":\"editor\",\"csrf\":\"b1946ac92492d2347c62\"}}";

static unsigned char master[CSESSION_KEY_BYTES];
static csession_keyring *ring;
static volatile int sink;

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

static void ours(int mode, long iters)
{
    static csession_buf sealed = CSESSION_BUF_INIT, plain = CSESSION_BUF_INIT;
    size_t index;
    for (long i = 0; i < iters; i++) {
        if (csession__cookie_seal(&sealed, ring, mode, "id", 2, state, sizeof state - 1) != 0 ||
            csession__cookie_open(&plain, &index, ring, mode, "id", 2, sealed.ptr,
                                  sealed.size) != 0)
            abort();
        sink += plain.ptr[0];
    }
}

static void bare(int mode, long iters)
{
    const unsigned char *m = (const unsigned char *)state;
    unsigned long long mlen = sizeof state - 1, clen, plen;
    unsigned char c[256], p[256], nonce[24], mac[32];
    const unsigned char *ad = (const unsigned char *)"id";
    for (long i = 0; i < iters; i++) {
        switch (mode) {
        case CSESSION_COOKIE_SIGNED:
            crypto_auth_hmacsha256(mac, m, mlen, master);
            if (crypto_auth_hmacsha256_verify(mac, m, mlen, master) != 0)
                abort();
            sink += mac[0];
            break;
        case CSESSION_COOKIE_PRIVATE_AES256GCM:
            randombytes_buf(nonce, 12);
            crypto_aead_aes256gcm_encrypt(c, &clen, m, mlen, ad, 2, NULL, nonce, master + 32);
            if (crypto_aead_aes256gcm_decrypt(p, &plen, NULL, c, clen, ad, 2, nonce, master + 32))
                abort();
            sink += p[0];
            break;
        default:
            randombytes_buf(nonce, 24);
            crypto_aead_xchacha20poly1305_ietf_encrypt(c, &clen, m, mlen, ad, 2, NULL, nonce,
                                                       master + 32);
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, &plen, NULL, c, clen, ad, 2, nonce,
                                                           master + 32))
                abort();
            sink += p[0];
            break;
        }
    }
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    if (iters <= 0 || csession_init() != 0)
        return 2;
    csession_key_generate(master, sizeof master);
    if (csession_keyring_new(&ring, 0) != 0 || csession_keyring_add(ring, master, 64) != 0)
        return 2;

    printf("state: %zu bytes; %d runs of %ld seal+open each; median ns per seal+open\n",
           sizeof state - 1, REPS, iters);
    printf("%-28s %12s %12s %8s %8s\n", "mode", "csession", "bare calls", "ratio", "sealed");
    static const int modes[] = { CSESSION_COOKIE_SIGNED, CSESSION_COOKIE_PRIVATE_AES256GCM,
                                 CSESSION_COOKIE_PRIVATE_XCHACHA20POLY1305 };
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        int mode = modes[k];
        if (csession_cookie_security_check(mode) != 0) {
            printf("%-28s skipped: %s\n", csession_cookie_security_name(mode),
                   csession_last_error());
            continue;
        }
        double t_ours[REPS], t_bare[REPS];
        ours(mode, iters / 10 + 1); /* warm up caches and the output buffers */
        bare(mode, iters / 10 + 1);
        for (int r = 0; r < REPS; r++) {
            /* Interleaved, so that frequency drift hits both alike. */
            double t0 = now_ns();
            ours(mode, iters);
            double t1 = now_ns();
            bare(mode, iters);
            double t2 = now_ns();
            t_ours[r] = (t1 - t0) / (double)iters;
            t_bare[r] = (t2 - t1) / (double)iters;
        }
        qsort(t_ours, REPS, sizeof(double), cmp_double);
        qsort(t_bare, REPS, sizeof(double), cmp_double);
        double o = t_ours[REPS / 2], b = t_bare[REPS / 2];
        printf("%-28s %12.1f %12.1f %8.2f %8zu\n", csession_cookie_security_name(mode), o, b,
               o / b, csession__sealed_len(mode, sizeof state - 1));
    }
    csession_keyring_free(ring);
    sodium_memzero(master, sizeof master);
    return 0;
}
