/*
 * Internal: eight bytes a step ("SIMD within a register") through runs of
 * bytes that need no attention, for the byte loops every request runs
 * (JSON strings in and out, cookie percent-decoding).
 *
 * The tests are the exact forms of the "has a zero byte" word trick: a byte
 * can be flagged wrongly only when a less significant byte is flagged
 * rightly (a borrow runs upwards). So "no byte flagged" is always right,
 * and csession__swar_skip() never skips past a byte that is flagged rightly.
 */
#ifndef CSESSION_SRC_SWAR_H
#define CSESSION_SRC_SWAR_H

#include <stdint.h>
#include <string.h>

#define CSESSION__SWAR_ONES UINT64_C(0x0101010101010101)
#define CSESSION__SWAR_HIGH UINT64_C(0x8080808080808080)

static inline uint64_t csession__swar_load(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The high bit of each byte of w equal to c. */
static inline uint64_t csession__swar_eq(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (CSESSION__SWAR_ONES * c);
    return (x - CSESSION__SWAR_ONES) & ~x & CSESSION__SWAR_HIGH;
}

/* The high bit of each byte of w below n (n <= 128). */
static inline uint64_t csession__swar_below(uint64_t w, unsigned char n)
{
    return (w - CSESSION__SWAR_ONES * n) & ~w & CSESSION__SWAR_HIGH;
}

/*
 * How many bytes at the start of the word (in memory order) are surely not
 * flagged, for a non-zero `mask` from the tests above: exactly those before
 * the first flagged byte on a little-endian machine; on a big-endian one
 * those before the most significant flag, which may be a wrong one and so
 * comes early. Where the byte order or the bit scan is unknown, 0. Callers
 * look at the byte after the skipped ones on its own, so skipping short is
 * slower and as right.
 */
static inline unsigned csession__swar_skip(uint64_t mask)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(mask) / 8;
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (unsigned)__builtin_clzll(mask) / 8;
#else
    (void)mask;
    return 0;
#endif
}

#endif
