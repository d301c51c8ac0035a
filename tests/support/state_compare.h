/* The state decoder with and without its shortcut for the head the library
 * writes (src/state_head.c), side by side. */
#ifndef CSESSION_TEST_STATE_COMPARE_H
#define CSESSION_TEST_STATE_COMPARE_H

#include <stddef.h>

#include "state_format.h"

/* 1 when both hold the same lifetime members. */
int state_same_meta(const csession__state_meta *a, const csession__state_meta *b);

/*
 * Decodes text[0..len) with csession__state_decode_meta() and with
 * csession__state_decode_generic(). Returns 1 when both give the same code
 * and, for a refusal, the same message, or else the same exp, lifetime
 * members and map members; *code (if not NULL) receives the code. Returns
 * 0 and says how they differ in why[0..why_size) otherwise.
 */
int state_compare(const char *text, size_t len, int *code, char *why, size_t why_size);

#endif
