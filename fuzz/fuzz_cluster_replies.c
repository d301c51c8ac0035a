/*
 * Fuzzes the Redis Cluster reply parsers (src/stores/redis/cluster_slots.c):
 * CLUSTER SLOTS, and the MOVED / ASK error replies, on arbitrary replies.
 *
 * The input is RESP text, read into reply trees by hiredis' own reader as
 * a connection would read it; every reply in it goes through both parsers.
 *
 * Invariants: a parse succeeds or says "malformed", never crashes; what it
 * gives is within range (slots below 16384 and in order, ports 1..65535,
 * hosts without NUL, space or control bytes, pointing into the reply); the
 * reply written back from the parsed fields parses to the same fields;
 * loaded into a slot map, every slot goes to the node of the last range
 * that covers it, and loading the same reply again adds no node (nor does
 * following the same redirection twice).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "csession.h"
#include "fuzz_check.h"
#include "stores/redis/cluster_slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The host a range with an unknown endpoint gets: the one that was asked. */
#define ASKED_HOST "seed.example"
/* Replies read from one input, at most. */
#define MAX_REPLIES 8
/* Largest array the reader may allocate: CLUSTER SLOTS has one entry per
 * range, and hiredis 0.14 would otherwise allocate whatever a header says. */
#define MAX_ARRAY 65536

/* ---- the reader, with arrays capped ----------------------------------------- */

/* hiredis 1.0 counts elements in a size_t, 0.14 in an int. */
#if HIREDIS_MAJOR >= 1
typedef size_t array_len;
#else
typedef int array_len;
#endif

static redisReplyObjectFunctions capped_fns;
static void *(*create_array)(const redisReadTask *, array_len);

static void *capped_array(const redisReadTask *task, array_len elements)
{
    if (elements > MAX_ARRAY)
        return NULL; /* the reader reports out of memory and stops */
    return create_array(task, elements);
}

static redisReader *reader_new(void)
{
    redisReader *r = redisReaderCreate();
    CHECK(r != NULL);
    if (!create_array) {
        capped_fns = *r->fn;
        create_array = capped_fns.createArray;
        capped_fns.createArray = capped_array;
    }
    r->fn = &capped_fns;
    return r;
}

/* Reads the one reply of `text`, which must be complete and well-formed. */
static redisReply *read_one(const char *text, size_t len)
{
    redisReader *rd = reader_new();
    CHECK(redisReaderFeed(rd, text, len) == REDIS_OK);
    void *reply = NULL;
    CHECK(redisReaderGetReply(rd, &reply) == REDIS_OK && reply != NULL);
    redisReaderFree(rd);
    return reply;
}

/* ---- RESP text --------------------------------------------------------------- */

static void put(csession_buf *b, const char *s, size_t n)
{
    CHECK(csession__buf_append(b, s, n) == 0);
}

static void put_fmt_num(csession_buf *b, char type, long long v)
{
    char line[32];
    int n = snprintf(line, sizeof line, "%c%lld\r\n", type, v);
    put(b, line, (size_t)n);
}

static void put_bulk(csession_buf *b, const char *s, size_t n)
{
    put_fmt_num(b, '$', (long long)n);
    put(b, s, n);
    put(b, "\r\n", 2);
}

/* ---- checks ------------------------------------------------------------------ */

/* A host as the parsers may hand it out: no NUL, space or control byte. */
static void check_host(const char *host, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        CHECK(c > 0x20 && c != 0x7f);
    }
}

/* Does `p` point into one of the strings of the tree `r`? */
static int inside(const redisReply *r, const char *p, size_t len)
{
    if (r->str && p >= r->str && p + len <= r->str + r->len)
        return 1;
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; i++)
            if (inside(r->element[i], p, len))
                return 1;
    return 0;
}

static csession__redis_slot_map map;

static csession__redis_target target(void)
{
    csession__redis_target t;
    memset(&t, 0, sizeof t);
    t.connect_timeout_ms = t.command_timeout_ms = 100;
    return t;
}

/* The host a range is served by, once loaded. */
static void range_host(const csession__redis_slot_range *r, const char **host, size_t *len)
{
    *host = r->host;
    *len = r->host_len;
    if (*len == 0 || (*len == 1 && r->host[0] == '?')) {
        *host = ASKED_HOST;
        *len = strlen(ASKED_HOST);
    }
}

static int node_is(const csession__redis_cluster_node *node, const char *host, size_t len,
                   int port)
{
    return node && node->port == port && strlen(node->host) == len &&
           memcmp(node->host, host, len) == 0;
}

static void check_map(const csession__redis_slot_range *ranges, size_t n)
{
    csession__redis_target t = target();
    CHECK(csession__redis_slot_map_init(&map, &t, 1, 100) == 0);
    int rc = csession__redis_slot_map_load(&map, ranges, n, ASKED_HOST);
    CHECK(rc == 0 || rc == CSESSION_ESTORE || rc == CSESSION_ENOMEM);
    if (rc == 0) {
        /* The last range that covers a slot wins; the others are unknown. */
        static int32_t owner[CSESSION__REDIS_SLOTS];
        for (size_t s = 0; s < CSESSION__REDIS_SLOTS; s++)
            owner[s] = -1;
        for (size_t i = 0; i < n; i++)
            for (unsigned int s = ranges[i].first; s <= ranges[i].last; s++)
                owner[s] = (int32_t)i;
        for (unsigned int s = 0; s < CSESSION__REDIS_SLOTS; s++) {
            const csession__redis_cluster_node *node = csession__redis_slot_map_lookup(&map, s);
            if (owner[s] < 0) {
                CHECK(node == NULL);
                continue;
            }
            const char *host;
            size_t len;
            range_host(&ranges[owner[s]], &host, &len);
            CHECK(node_is(node, host, len, ranges[owner[s]].port));
        }
        /* The same reply again: the same nodes. */
        unsigned int nodes = csession__redis_slot_map_size(&map);
        CHECK(nodes <= n);
        CHECK(csession__redis_slot_map_load(&map, ranges, n, ASKED_HOST) == 0);
        CHECK(csession__redis_slot_map_size(&map) == nodes);
    }
    csession__redis_slot_map_dispose(&map);
}

static void check_slots(const redisReply *r)
{
    size_t cap = r->type == REDIS_REPLY_ARRAY && r->elements ? r->elements : 1;
    csession__redis_slot_range *ranges = calloc(cap, sizeof *ranges);
    CHECK(ranges != NULL);
    size_t n = 99;
    int rc = csession__redis_slots_parse(r, ranges, &n);
    CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        free(ranges);
        return;
    }
    CHECK(r->type == REDIS_REPLY_ARRAY && n <= r->elements);
    csession_buf text = CSESSION_BUF_INIT;
    put_fmt_num(&text, '*', (long long)n);
    for (size_t i = 0; i < n; i++) {
        const csession__redis_slot_range *g = &ranges[i];
        CHECK(g->first <= g->last && g->last < CSESSION__REDIS_SLOTS);
        CHECK(g->port >= 1 && g->port <= 65535);
        CHECK(g->host != NULL && g->host[g->host_len] == '\0');
        CHECK(g->host_len == 0 || inside(r, g->host, g->host_len));
        check_host(g->host, g->host_len);
        /* The entry as a server would write it, with its master only. */
        put(&text, "*3\r\n", 4);
        put_fmt_num(&text, ':', g->first);
        put_fmt_num(&text, ':', g->last);
        put(&text, "*2\r\n", 4);
        put_bulk(&text, g->host, g->host_len);
        put_fmt_num(&text, ':', g->port);
    }
    redisReply *again = read_one(text.ptr, text.size);
    csession__redis_slot_range *back = calloc(n ? n : 1, sizeof *back);
    CHECK(back != NULL);
    size_t m = 0;
    CHECK(csession__redis_slots_parse(again, back, &m) == 0 && m == n);
    for (size_t i = 0; i < n; i++) {
        CHECK(back[i].first == ranges[i].first && back[i].last == ranges[i].last);
        CHECK(back[i].port == ranges[i].port && back[i].host_len == ranges[i].host_len);
        CHECK(memcmp(back[i].host, ranges[i].host, ranges[i].host_len) == 0);
    }
    free(back);
    freeReplyObject(again);
    csession_buf_dispose(&text);
    check_map(ranges, n);
    free(ranges);
}

static void check_redirect(const redisReply *r)
{
    csession__redis_redirect rd;
    memset(&rd, 0xa5, sizeof rd);
    if (csession__redis_redirect_parse(r, &rd) != 0)
        return;
    CHECK(r->type == REDIS_REPLY_ERROR);
    CHECK(rd.ask == 0 || rd.ask == 1);
    CHECK(rd.slot < CSESSION__REDIS_SLOTS);
    CHECK(rd.port >= 1 && rd.port <= 65535);
    CHECK(rd.host_len == 0 || inside(r, rd.host, rd.host_len));
    check_host(rd.host, rd.host_len);

    /* Written back (IPv6 in brackets), it parses to the same redirection. */
    csession_buf text = CSESSION_BUF_INIT;
    int v6 = rd.host_len && memchr(rd.host, ':', rd.host_len);
    char head[48];
    int n = snprintf(head, sizeof head, "-%s %u %s", rd.ask ? "ASK" : "MOVED", rd.slot,
                     v6 ? "[" : "");
    put(&text, head, (size_t)n);
    put(&text, rd.host, rd.host_len);
    n = snprintf(head, sizeof head, "%s:%d\r\n", v6 ? "]" : "", rd.port);
    put(&text, head, (size_t)n);
    redisReply *again = read_one(text.ptr, text.size);
    csession__redis_redirect back;
    CHECK(csession__redis_redirect_parse(again, &back) == 0);
    CHECK(back.ask == rd.ask && back.slot == rd.slot && back.port == rd.port);
    CHECK(back.host_len == rd.host_len && memcmp(back.host, rd.host, rd.host_len) == 0);
    freeReplyObject(again);
    csession_buf_dispose(&text);

    /* Following it twice finds one node, at that address. */
    if (rd.host_len == 0 || rd.host_len > CSESSION__REDIS_MAX_HOST)
        return;
    csession__redis_target t = target();
    CHECK(csession__redis_slot_map_init(&map, &t, 1, 100) == 0);
    csession__redis_cluster_node *a = NULL, *b = NULL;
    CHECK(csession__redis_slot_map_node(&map, rd.host, rd.host_len, rd.port, &a) == 0);
    CHECK(csession__redis_slot_map_node(&map, rd.host, rd.host_len, rd.port, &b) == 0);
    CHECK(a == b && node_is(a, rd.host, rd.host_len, rd.port));
    CHECK(csession__redis_slot_map_size(&map) == 1);
    csession__redis_slot_map_dispose(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *rd = reader_new();
    if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK) {
        redisReaderFree(rd);
        return 0;
    }
    for (int i = 0; i < MAX_REPLIES; i++) {
        void *reply = NULL;
        if (redisReaderGetReply(rd, &reply) != REDIS_OK || !reply)
            break; /* a protocol error, or the rest is incomplete */
        check_slots(reply);
        check_redirect(reply);
        freeReplyObject(reply);
    }
    redisReaderFree(rd);
    return 0;
}
