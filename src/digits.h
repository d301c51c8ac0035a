/* Internal: digits. Integers in decimal without snprintf (it showed in the
 * profile of every request), and hexadecimal digits. */
#ifndef CSESSION_SRC_DIGITS_H
#define CSESSION_SRC_DIGITS_H

#include <stdint.h>

/* Room for any 64-bit integer: "-9223372036854775808" is 20 characters. */
#define CSESSION__DECIMAL_MAX 20

/* Writes v in decimal at the end of buf[0..CSESSION__DECIMAL_MAX) and
 * returns where it starts (no NUL): the digits are buf + MAX - start. */
char *csession__decimal_u64(char buf[CSESSION__DECIMAL_MAX], uint64_t v);
/* The same for a signed value ('-' first when negative). */
char *csession__decimal_i64(char buf[CSESSION__DECIMAL_MAX], int64_t v);

/* The value of a hexadecimal digit, either case; -1 for any other byte.
 * Inline: percent-decoding a signed cookie calls it for every escape. */
static inline int csession__hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
