/* Internal: UTF-8 validation. */
#ifndef CSESSION_SRC_UTF8_H
#define CSESSION_SRC_UTF8_H

#include <stddef.h>

/* 1 when `s[0..len)` is well-formed UTF-8, as Rust's str::from_utf8 checks
 * it: no overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. NUL
 * bytes are allowed. Else 0. */
int csession__utf8_valid(const char *s, size_t len);

/* csession__utf8_valid() and no NUL byte: text that C strings and cJSON
 * carry without cutting it short. */
int csession__utf8_text(const char *s, size_t len);

#endif
