/* Strict base64 for sealed values; see base64.h. */
#include "cookie/base64.h"

#define BAD 0xff

static const char alphabet_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alphabet_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Character -> 6-bit value, BAD for everything outside the alphabet
 * (bytes >= 0x80 included: they must not alias ASCII characters). */
static const unsigned char values_std[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD,
    BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

static const unsigned char values_url[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD,  63,
    BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

size_t csession__b64_encoded_len(size_t bin_len, csession__b64_variant variant)
{
    size_t rest = bin_len % 3;
    size_t len = bin_len / 3 * 4;
    if (rest)
        len += variant == CSESSION__B64_STANDARD_PADDED ? 4 : rest + 1;
    return len;
}

void csession__b64_encode(char *dst, const unsigned char *bin, size_t bin_len,
                          csession__b64_variant variant)
{
    const char *a = variant == CSESSION__B64_STANDARD_PADDED ? alphabet_std : alphabet_url;
    size_t i = 0;
    for (; i + 3 <= bin_len; i += 3) {
        unsigned long v = (unsigned long)bin[i] << 16 | (unsigned long)bin[i + 1] << 8 | bin[i + 2];
        *dst++ = a[v >> 18];
        *dst++ = a[(v >> 12) & 63];
        *dst++ = a[(v >> 6) & 63];
        *dst++ = a[v & 63];
    }
    size_t rest = bin_len - i;
    if (rest == 0)
        return;
    unsigned long v = (unsigned long)bin[i] << 16;
    if (rest == 2)
        v |= (unsigned long)bin[i + 1] << 8;
    *dst++ = a[v >> 18];
    *dst++ = a[(v >> 12) & 63];
    if (rest == 2)
        *dst++ = a[(v >> 6) & 63];
    if (variant == CSESSION__B64_STANDARD_PADDED) {
        *dst++ = '=';
        if (rest == 1)
            *dst++ = '=';
    }
}

int csession__b64_decode(unsigned char *dst, size_t dst_max, size_t *bin_len, const char *text,
                         size_t text_len, csession__b64_variant variant)
{
    const unsigned char *s = (const unsigned char *)text;
    const unsigned char *values =
        variant == CSESSION__B64_STANDARD_PADDED ? values_std : values_url;
    size_t len = text_len;

    if (variant == CSESSION__B64_STANDARD_PADDED) {
        if (len % 4 != 0)
            return -1;
        size_t pad = 0;
        while (pad < 2 && len > 0 && s[len - 1] == '=') {
            len--;
            pad++;
        }
        /* Exactly the padding the length calls for (a third '=' is BAD). */
        if (pad != (4 - len % 4) % 4)
            return -1;
    }
    size_t rest = len % 4;
    if (rest == 1)
        return -1;
    size_t out_len = len / 4 * 3 + (rest ? rest - 1 : 0);
    if (out_len > dst_max)
        return -1;

    unsigned int bad = 0;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        unsigned int a = values[s[i]], b = values[s[i + 1]], c = values[s[i + 2]],
                     d = values[s[i + 3]];
        bad |= a | b | c | d;
        unsigned long v = (unsigned long)a << 18 | (unsigned long)b << 12 | c << 6 | d;
        *dst++ = (unsigned char)(v >> 16);
        *dst++ = (unsigned char)(v >> 8);
        *dst++ = (unsigned char)v;
    }
    if (rest) {
        unsigned int a = values[s[i]], b = values[s[i + 1]];
        unsigned int c = rest == 3 ? values[s[i + 2]] : 0;
        bad |= a | b | c;
        unsigned long v = (unsigned long)a << 18 | (unsigned long)b << 12 | c << 6;
        *dst++ = (unsigned char)(v >> 16);
        if (rest == 3)
            *dst++ = (unsigned char)(v >> 8);
        /* Bits past the last byte must be zero: one text per byte string. */
        if ((rest == 2 ? (v & 0xffff) : (v & 0xff)) != 0)
            return -1;
    }
    /* Valid values are below 64; BAD (0xff) sets the high bits. */
    if (bad & ~63u)
        return -1;
    *bin_len = out_len;
    return 0;
}
