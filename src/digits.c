/* Decimal and hexadecimal digits. */
#include "digits.h"

#include <string.h>

/* "00" to "99": two digits per division (the envelope of every stored
 * session carries a few ten-digit times). */
static const char PAIRS[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char *csession__decimal_u64(char buf[CSESSION__DECIMAL_MAX], uint64_t v)
{
    char *p = buf + CSESSION__DECIMAL_MAX;
    while (v >= 100) {
        p -= 2;
        memcpy(p, PAIRS + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, PAIRS + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

char *csession__decimal_i64(char buf[CSESSION__DECIMAL_MAX], int64_t v)
{
    char *p = csession__decimal_u64(buf, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    return p;
}
