/*
 * HMAC-SHA256 for signed cookies.
 *
 * libsodium's SHA-256 is portable C: on a signed cookie request it was 46 %
 * of all instructions (two MACs of ~300 bytes each). x86 CPUs since Goldmont
 * and Ice Lake/Zen have instructions for the SHA-256 rounds, which no library
 * we depend on uses, so the compression function is written here on them
 * (docs/performance.md has the figures). Everything else stays libsodium's:
 * the key's pads are hashed by crypto_auth_hmacsha256_init() when a key is
 * added, and this file only continues from that state, so both paths give
 * the same bytes; tests/test_hmac_sha256.c compares them on every length.
 */
#include "cookie/hmac_sha256.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

/* libsodium's state after absorbing exactly one 64-byte block, in bits. */
#define PAD_BLOCK_BITS 512u

void csession__hmac_sha256_portable(unsigned char mac[CSESSION__HMAC_SHA256_BYTES],
                                    const crypto_auth_hmacsha256_state *keyed, const void *msg,
                                    size_t len)
{
    /* A copy: the key's pads are not hashed again. final wipes the copy. */
    crypto_auth_hmacsha256_state st = *keyed;
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, mac);
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_NI_PATH 1

#include <cpuid.h>
#include <immintrin.h>

#define SHA_NI __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

/* Four rounds: the message words plus their constants, two rounds each. */
SHA_NI static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int group)
{
    __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(const void *)&K256[group * 4]));
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/* SHA-256 compression of `blocks` 64-byte blocks into h[0..7] (H0..H7). */
SHA_NI static void compress(uint32_t h[8], const unsigned char *p, size_t blocks)
{
    /* Big-endian message words from little-endian loads. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    /* The instructions keep the state as (A,B,E,F) and (C,D,G,H). */
    __m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    for (; blocks > 0; blocks--, p += 64) {
        __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i w[4]; /* the last 16 message words, 4 per vector, rolling */
        int g;
        for (g = 0; g < 4; g++) {
            w[g] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * g)), bswap);
            rounds4(&abef, &cdgh, w[g], g);
        }
        for (; g < 16; g++) {
            /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], 4 at once:
             * msg1 adds s0 to the oldest four, alignr gives W[t-7..t-4]. */
            __m128i prev = w[(g - 1) & 3], prev2 = w[(g - 2) & 3];
            __m128i t = _mm_sha256msg1_epu32(w[g & 3], w[(g - 3) & 3]);
            t = _mm_add_epi32(t, _mm_alignr_epi8(prev, prev2, 4));
            w[g & 3] = _mm_sha256msg2_epu32(t, prev);
            rounds4(&abef, &cdgh, w[g & 3], g);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)(void *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(void *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Hashes the rest of a message after `h` has absorbed `done_bytes` bytes
 * (a multiple of 64): the whole blocks, then the padded tail. */
SHA_NI static void finish(uint32_t h[8], uint64_t done_bytes, const unsigned char *msg,
                          size_t len)
{
    size_t whole = len / 64;
    size_t rest = len - whole * 64;
    unsigned char tail[128];
    if (whole)
        compress(h, msg, whole);
    if (rest)
        memcpy(tail, msg + whole * 64, rest);
    tail[rest] = 0x80;
    /* One block when the length still fits after the 0x80, else two. */
    size_t tail_len = rest < 56 ? 64 : 128;
    memset(tail + rest + 1, 0, tail_len - rest - 1);
    uint64_t bits = (done_bytes + len) * 8;
    put_be32(tail + tail_len - 8, (uint32_t)(bits >> 32));
    put_be32(tail + tail_len - 4, (uint32_t)bits);
    compress(h, tail, tail_len / 64);
    sodium_memzero(tail, sizeof tail);
}

SHA_NI static void hmac_sha_ni(unsigned char mac[CSESSION__HMAC_SHA256_BYTES],
                               const crypto_auth_hmacsha256_state *keyed, const void *msg,
                               size_t len)
{
    uint32_t h[8];
    unsigned char inner[CSESSION__HMAC_SHA256_BYTES];
    memcpy(h, keyed->ictx.state, sizeof h);
    finish(h, 64, msg, len);
    for (int i = 0; i < 8; i++)
        put_be32(inner + 4 * i, h[i]);
    memcpy(h, keyed->octx.state, sizeof h);
    finish(h, 64, inner, sizeof inner);
    for (int i = 0; i < 8; i++)
        put_be32(mac + 4 * i, h[i]);
    sodium_memzero(h, sizeof h);
    sodium_memzero(inner, sizeof inner);
}

static int cpu_has_sha_ni(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return ssse3 && sse41 && ((b >> 29) & 1);
}
#endif

int csession__hmac_sha256_accelerated(void)
{
#ifdef HAVE_SHA_NI_PATH
    /* 0 = not asked yet, 1 = no, 2 = yes. A race only asks CPUID twice. */
    static atomic_int known;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v == 0) {
        v = cpu_has_sha_ni() ? 2 : 1;
        atomic_store_explicit(&known, v, memory_order_relaxed);
    }
    return v == 2;
#else
    return 0;
#endif
}

void csession__hmac_sha256(unsigned char mac[CSESSION__HMAC_SHA256_BYTES],
                           const crypto_auth_hmacsha256_state *keyed, const void *msg, size_t len)
{
#ifdef HAVE_SHA_NI_PATH
    /* Only continue from the shape init leaves for a short key. */
    if (csession__hmac_sha256_accelerated() && keyed->ictx.count == PAD_BLOCK_BITS &&
        keyed->octx.count == PAD_BLOCK_BITS) {
        hmac_sha_ni(mac, keyed, msg, len);
        return;
    }
#endif
    csession__hmac_sha256_portable(mac, keyed, msg, len);
}
