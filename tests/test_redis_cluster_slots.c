/* Redis Cluster's key space without a server: CRC16 and hash slots with the
 * specification's vectors, hash tags, MOVED/ASK and CLUSTER SLOTS parsing,
 * and the slot map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csession.h"
#include "oom.h"
#include "stores/redis/cluster_slots.h"

static unsigned int slot_of(const char *key)
{
    return csession__redis_key_slot(key, strlen(key));
}

static void test_crc16(void **state)
{
    (void)state;
    /* The check value of CRC-16/XMODEM, given in the Redis Cluster spec. */
    assert_int_equal(csession__redis_crc16("123456789", 9), 0x31C3);
    assert_int_equal(csession__redis_crc16("", 0), 0);
    assert_int_equal(csession__redis_crc16("A", 1), 0x58E5);
    /* Bytes above 0x7f are unsigned. */
    assert_int_equal(csession__redis_crc16("\xff", 1), 0x1EF0);
    assert_int_equal(slot_of("123456789"), 0x31C3 & 16383);
    /* CLUSTER KEYSLOT of a few keys, as Redis answers. */
    assert_int_equal(slot_of("foo"), 12182);
    assert_int_equal(slot_of("bar"), 5061);
    assert_int_equal(slot_of("hello"), 866);
    assert_int_equal(slot_of("somekey"), 11058);
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* The spec's examples. */
    assert_int_equal(slot_of("{user1000}.following"), slot_of("{user1000}.followers"));
    assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
    assert_int_equal(slot_of("foo{}{bar}"), csession__redis_crc16("foo{}{bar}", 10) & 16383);
    assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
    assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
    /* No closing brace, or a closing brace only before the opening one. */
    assert_int_equal(slot_of("foo{bar"), csession__redis_crc16("foo{bar", 7) & 16383);
    assert_int_equal(slot_of("}foo{bar"), csession__redis_crc16("}foo{bar", 8) & 16383);
    /* A prefix with a tag: every session of a tenant on one slot. */
    assert_int_equal(slot_of("{tenant7}:abc"), slot_of("{tenant7}:xyz"));
    /* Binary keys: a NUL in the tag is part of it. */
    assert_int_equal(csession__redis_key_slot("{a\0b}", 5),
                     csession__redis_crc16("a\0b", 3) & 16383);
    /* Every slot is below 16384. */
    char key[8];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        assert_true(csession__redis_key_slot(key, (size_t)n) < 16384);
    }
}

static redisReply error_reply(const char *text)
{
    redisReply r;
    memset(&r, 0, sizeof r);
    r.type = REDIS_REPLY_ERROR;
    r.str = (char *)text;
    r.len = strlen(text);
    return r;
}

static void test_redirect_parse(void **state)
{
    (void)state;
    csession__redis_redirect rd;
    redisReply r = error_reply("MOVED 3999 127.0.0.1:6381");
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), 0);
    assert_int_equal(rd.ask, 0);
    assert_int_equal(rd.slot, 3999);
    assert_int_equal(rd.host_len, 9);
    assert_memory_equal(rd.host, "127.0.0.1", 9);
    assert_int_equal(rd.port, 6381);

    r = error_reply("ASK 16383 redis-2.example.com:7000");
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), 0);
    assert_int_equal(rd.ask, 1);
    assert_int_equal(rd.slot, 16383);
    assert_int_equal(rd.host_len, strlen("redis-2.example.com"));
    assert_int_equal(rd.port, 7000);

    /* IPv6: the port is after the last ':'; brackets are accepted too. */
    r = error_reply("MOVED 0 ::1:7001");
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), 0);
    assert_int_equal(rd.host_len, 3);
    assert_memory_equal(rd.host, "::1", 3);
    assert_int_equal(rd.port, 7001);
    r = error_reply("MOVED 0 [2001:db8::2]:7001");
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), 0);
    assert_int_equal(rd.host_len, 11);
    assert_memory_equal(rd.host, "2001:db8::2", 11);

    /* An unknown endpoint: the same host. */
    r = error_reply("MOVED 12 :7002");
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), 0);
    assert_int_equal(rd.host_len, 0);
    assert_int_equal(rd.port, 7002);

    static const char *const bad[] = {
        "MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED 16384 h:1", "MOVED x h:1",
        "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:", "MOVED -1 h:1", "ASKING 1 h:1",
        "READONLY You can't write against a read only replica.", "ERR MOVED 1 h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = error_reply(bad[i]);
        if (csession__redis_redirect_parse(&r, &rd) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* A host with a NUL, a space or a control byte is no address. The
     * lengths are explicit: error replies may hold any byte. */
    static const char *const bad_hosts[] = { "a\0b", "a b", "a\tb", "a\x7f", "\x1b[2J", "[a\0]" };
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
        char text[64];
        size_t hlen = i == 0 ? 3 : i == 5 ? 5 : strlen(bad_hosts[i]);
        int n = snprintf(text, sizeof text, "MOVED 7 ");
        memcpy(text + n, bad_hosts[i], hlen);
        memcpy(text + n + hlen, ":6379", 6);
        r = error_reply(text);
        r.len = (size_t)n + hlen + 5;
        if (csession__redis_redirect_parse(&r, &rd) == 0)
            fail_msg("accepted the host of case %zu", i);
    }
    r = error_reply("MOVED 1 h:1");
    r.type = REDIS_REPLY_STATUS;
    assert_int_equal(csession__redis_redirect_parse(&r, &rd), -1);
    assert_int_equal(csession__redis_redirect_parse(NULL, &rd), -1);
}

/* ---- CLUSTER SLOTS --------------------------------------------------------------- */

typedef struct fake_entry {
    redisReply entry, first, last, master, host, port, id;
    redisReply *entry_elems[3];
    redisReply *master_elems[3];
} fake_entry;

static void make_entry(fake_entry *e, long long first, long long last, const char *host,
                       long long port)
{
    memset(e, 0, sizeof *e);
    e->first.type = e->last.type = e->port.type = REDIS_REPLY_INTEGER;
    e->first.integer = first;
    e->last.integer = last;
    e->port.integer = port;
    if (host) {
        e->host.type = REDIS_REPLY_STRING;
        e->host.str = (char *)host;
        e->host.len = strlen(host);
    } else {
        e->host.type = REDIS_REPLY_NIL;
    }
    e->id.type = REDIS_REPLY_STRING;
    e->id.str = (char *)"07c37dfeb235213a872192d90877d0cd55635b91";
    e->id.len = 40;
    e->master_elems[0] = &e->host;
    e->master_elems[1] = &e->port;
    e->master_elems[2] = &e->id;
    e->master.type = REDIS_REPLY_ARRAY;
    e->master.elements = 3;
    e->master.element = e->master_elems;
    e->entry_elems[0] = &e->first;
    e->entry_elems[1] = &e->last;
    e->entry_elems[2] = &e->master;
    e->entry.type = REDIS_REPLY_ARRAY;
    e->entry.elements = 3;
    e->entry.element = e->entry_elems;
}

static void test_slots_parse(void **state)
{
    (void)state;
    fake_entry e[3];
    make_entry(&e[0], 0, 5460, "127.0.0.1", 7000);
    make_entry(&e[1], 5461, 10922, "", 7001);  /* unknown endpoint */
    make_entry(&e[2], 10923, 16383, NULL, 7002); /* Redis 7: nil */
    redisReply *elems[3] = {&e[0].entry, &e[1].entry, &e[2].entry};
    redisReply top;
    memset(&top, 0, sizeof top);
    top.type = REDIS_REPLY_ARRAY;
    top.elements = 3;
    top.element = elems;
    csession__redis_slot_range ranges[3];
    size_t n = 0;
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ranges[0].first, 0);
    assert_int_equal(ranges[0].last, 5460);
    assert_string_equal(ranges[0].host, "127.0.0.1");
    assert_int_equal(ranges[0].port, 7000);
    assert_int_equal(ranges[1].host_len, 0);
    assert_int_equal(ranges[2].host_len, 0);
    assert_int_equal(ranges[2].port, 7002);

    /* Malformed: slots out of range or reversed, ports that are not ports. */
    make_entry(&e[2], 10923, 16384, "h", 7002);
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    make_entry(&e[2], 10, 9, "h", 7002);
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    make_entry(&e[2], 10923, 16383, "h", 0);
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    /* Hosts with a NUL (it would cut the name the map keeps, and every
     * reload would add the same node again), a space or a control byte. */
    make_entry(&e[2], 10923, 16383, "h", 7002);
    e[2].host.str = (char *)"h\0x";
    e[2].host.len = 3;
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    e[2].host.str = (char *)"h x";
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    e[2].host.str = (char *)"h\nx";
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    make_entry(&e[2], 10923, 16383, "h", 7002);
    e[2].master.elements = 1;
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
    top.type = REDIS_REPLY_ERROR;
    assert_int_equal(csession__redis_slots_parse(&top, ranges, &n), -1);
}

/* ---- the slot map -------------------------------------------------------------- */

static csession__redis_target node_target(void)
{
    csession__redis_target t;
    memset(&t, 0, sizeof t);
    t.connect_timeout_ms = t.command_timeout_ms = 100;
    return t;
}

static void test_slot_map(void **state)
{
    (void)state;
    static csession__redis_slot_map m;
    csession__redis_target t = node_target();
    assert_int_equal(csession__redis_slot_map_init(&m, &t, 4, 100), 0);
    assert_null(csession__redis_slot_map_lookup(&m, 0));
    assert_int_equal(csession__redis_slot_map_size(&m), 0);

    csession__redis_slot_range ranges[2] = {
        {0, 8191, "10.0.0.1", 8, 7000},
        {8192, 16000, "?", 1, 7001}, /* unknown: the host asked */
    };
    assert_int_equal(csession__redis_slot_map_load(&m, ranges, 2, "seed.example"), 0);
    assert_int_equal(csession__redis_slot_map_size(&m), 2);
    csession__redis_cluster_node *a = csession__redis_slot_map_lookup(&m, 0);
    csession__redis_cluster_node *b = csession__redis_slot_map_lookup(&m, 16000);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->host, "10.0.0.1");
    assert_int_equal(a->port, 7000);
    assert_string_equal(b->host, "seed.example");
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 8191), a);
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 8192), b);
    assert_null(csession__redis_slot_map_lookup(&m, 16001)); /* unassigned */
    /* Each node has a pool aimed at it. */
    assert_string_equal(a->pool.target.host, "10.0.0.1");
    assert_int_equal(a->pool.target.port, 7000);

    /* The same address is the same node; MOVED moves one slot. */
    csession__redis_cluster_node *same;
    assert_int_equal(csession__redis_slot_map_node(&m, "10.0.0.1", 8, 7000, &same), 0);
    assert_ptr_equal(same, a);
    csession__redis_cluster_node *c;
    assert_int_equal(csession__redis_slot_map_node(&m, "10.0.0.3:x", 8, 7002, &c), 0);
    assert_string_equal(c->host, "10.0.0.3");
    csession__redis_slot_map_set(&m, 5, c);
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 5), c);
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 6), a);

    /* A new map replaces the old one; nodes stay known. */
    csession__redis_slot_range all = {0, 16383, "10.0.0.3", 8, 7002};
    assert_int_equal(csession__redis_slot_map_load(&m, &all, 1, "x"), 0);
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 0), c);
    assert_ptr_equal(csession__redis_slot_map_lookup(&m, 16383), c);
    assert_int_equal(csession__redis_slot_map_size(&m), 3);

    assert_int_equal(csession__redis_slot_map_node(&m, "", 0, 1, &c), CSESSION_ESTORE);
    csession__redis_slot_map_dispose(&m);
}

static void test_slot_map_limit(void **state)
{
    (void)state;
    static csession__redis_slot_map m;
    csession__redis_target t = node_target();
    assert_int_equal(csession__redis_slot_map_init(&m, &t, 1, 100), 0);
    csession__redis_cluster_node *node;
    for (int i = 0; i < CSESSION__REDIS_MAP_NODES; i++)
        assert_int_equal(csession__redis_slot_map_node(&m, "h", 1, i + 1, &node), 0);
    assert_int_equal(csession__redis_slot_map_node(&m, "h", 1, 2000, &node), CSESSION_ESTORE);
    assert_non_null(strstr(csession_last_error(), "more than 1024 nodes"));
    csession__redis_slot_map_dispose(&m);
}

static int load_body(void *ctx)
{
    (void)ctx;
    static csession__redis_slot_map m;
    csession__redis_target t = node_target();
    int rc = csession__redis_slot_map_init(&m, &t, 1, 100);
    if (rc)
        return rc;
    csession__redis_slot_range ranges[2] = {{0, 100, "a", 1, 1}, {101, 16383, "b", 1, 2}};
    rc = csession__redis_slot_map_load(&m, ranges, 2, "x");
    if (rc)
        assert_null(csession__redis_slot_map_lookup(&m, 0)); /* unchanged: empty */
    csession__redis_slot_map_dispose(&m);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    oom_install();
    /* the scratch map, and two nodes */
    assert_int_equal(oom_run_each_failure(load_body, NULL), 3);
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_redirect_parse),
        cmocka_unit_test(test_slots_parse),
        cmocka_unit_test(test_slot_map),
        cmocka_unit_test(test_slot_map_limit),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
