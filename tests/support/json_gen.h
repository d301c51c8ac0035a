/* Random JSON trees for comparing csession's JSON code with cJSON's. */
#ifndef CSESSION_TEST_JSON_GEN_H
#define CSESSION_TEST_JSON_GEN_H

#include <stdint.h>

#include <cJSON.h>

/*
 * A random tree of every JSON type, nested up to `depth` levels, from a
 * deterministic generator state `*seed`. Strings hold every byte from 1 to
 * 255 over many trees (so not always UTF-8) unless `utf8_only`; member names
 * need escapes. Numbers are those cJSON prints exactly (integers of int
 * range, binary fractions). NULL when out of memory.
 */
cJSON *json_gen_tree(uint32_t *seed, int depth, int utf8_only);

/* 1 when both trees have the same types, names, strings and numbers (bit
 * for bit, unlike cJSON_Compare), in the same order. */
int json_gen_same(const cJSON *a, const cJSON *b);

/* json_gen_same() for the children only: the nodes' own names and types
 * are not compared. */
int json_gen_same_children(const cJSON *a, const cJSON *b);

#endif
