/* Decimal and hexadecimal digits. */
#include "digits.h"

char *csession__decimal_u64(char buf[CSESSION__DECIMAL_MAX], uint64_t v)
{
    char *p = buf + CSESSION__DECIMAL_MAX;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

char *csession__decimal_i64(char buf[CSESSION__DECIMAL_MAX], int64_t v)
{
    char *p = csession__decimal_u64(buf, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    return p;
}
