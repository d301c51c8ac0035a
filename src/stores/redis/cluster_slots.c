/* Hash slots, CLUSTER SLOTS and MOVED/ASK parsing, and the slot map: see
 * cluster_slots.h. */
#include "cluster_slots.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

/* CRC16-CCITT (XMODEM) table, as in the Redis Cluster specification. */
static const uint16_t crc16_table[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
    0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
    0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
    0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
    0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
    0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
    0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
    0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
    0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
    0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
    0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
    0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
    0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
    0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
    0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
    0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
    0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
    0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
    0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
    0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
    0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
    0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

unsigned int csession__redis_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ (unsigned char)buf[i]) & 0xff]);
    return crc;
}

unsigned int csession__redis_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        const char *from = open + 1;
        const char *close = memchr(from, '}', len - (size_t)(from - key));
        if (close && close > from) { /* "{}" is no tag: the whole key counts */
            key = from;
            len = (size_t)(close - from);
        }
    }
    return csession__redis_crc16(key, len) & (CSESSION__REDIS_SLOTS - 1);
}

/* Parses 1 to 5 digits up to `max`; -1 otherwise. */
static long parse_uint(const char *s, size_t len, long max)
{
    if (len == 0 || len > 5)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/*
 * A node's address as a reply gives it. Redis writes IP addresses and host
 * names: a NUL, a space or a control byte makes the reply malformed. A NUL
 * would also cut the name the slot map keeps, so that the same address
 * became a new node at every reply.
 */
static int host_ok(const char *host, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

int csession__redis_redirect_parse(const redisReply *r, csession__redis_redirect *out)
{
    if (!r || r->type != REDIS_REPLY_ERROR || !r->str)
        return -1;
    const char *s = r->str, *end = r->str + r->len;
    if (r->len > 6 && memcmp(s, "MOVED ", 6) == 0) {
        out->ask = 0;
        s += 6;
    } else if (r->len > 4 && memcmp(s, "ASK ", 4) == 0) {
        out->ask = 1;
        s += 4;
    } else {
        return -1;
    }
    const char *space = memchr(s, ' ', (size_t)(end - s));
    if (!space)
        return -1;
    long slot = parse_uint(s, (size_t)(space - s), CSESSION__REDIS_SLOTS - 1);
    const char *addr = space + 1;
    /* host:port, the port after the last ':' (IPv6 addresses have more) */
    const char *colon = NULL;
    for (const char *p = addr; p < end; p++) {
        if (*p == ':')
            colon = p;
    }
    if (slot < 0 || !colon)
        return -1;
    long port = parse_uint(colon + 1, (size_t)(end - colon - 1), 65535);
    const char *host = addr;
    size_t host_len = (size_t)(colon - addr);
    if (host_len >= 2 && addr[0] == '[' && addr[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (port < 1 || !host_ok(host, host_len))
        return -1;
    out->slot = (unsigned int)slot;
    out->host = host;
    out->host_len = host_len;
    out->port = (int)port;
    return 0;
}

int csession__redis_slots_parse(const redisReply *r, csession__redis_slot_range *out, size_t *n)
{
    *n = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
            return -1;
        long long first = e->element[0]->integer, last = e->element[1]->integer;
        const redisReply *master = e->element[2];
        const redisReply *host = master->element[0], *port = master->element[1];
        if (first < 0 || last < first || last >= CSESSION__REDIS_SLOTS ||
            port->type != REDIS_REPLY_INTEGER || port->integer < 1 || port->integer > 65535 ||
            (host->type != REDIS_REPLY_STRING && host->type != REDIS_REPLY_NIL) ||
            (host->type == REDIS_REPLY_STRING && !host_ok(host->str, (size_t)host->len)))
            return -1;
        csession__redis_slot_range *range = &out[(*n)++];
        range->first = (unsigned int)first;
        range->last = (unsigned int)last;
        range->host = host->type == REDIS_REPLY_STRING ? host->str : "";
        range->host_len = host->type == REDIS_REPLY_STRING ? (size_t)host->len : 0;
        range->port = (int)port->integer;
    }
    return 0;
}

/* ---- the slot map ----------------------------------------------------------- */

int csession__redis_slot_map_init(csession__redis_slot_map *m,
                                  const csession__redis_target *node_target,
                                  unsigned int pool_size, unsigned int pool_wait_timeout_ms)
{
    for (size_t i = 0; i < CSESSION__REDIS_MAP_NODES; i++)
        atomic_init(&m->nodes[i], NULL);
    for (size_t i = 0; i < CSESSION__REDIS_SLOTS; i++)
        atomic_init(&m->slots[i], 0);
    atomic_init(&m->n_nodes, 0);
    m->node_target = *node_target;
    m->pool_size = pool_size;
    m->pool_wait_timeout_ms = pool_wait_timeout_ms;
    return pthread_mutex_init(&m->lock, NULL) == 0 ? 0 : csession__oom();
}

void csession__redis_slot_map_after_fork(csession__redis_slot_map *m)
{
    /* Cannot fail for a default mutex. A node that a thread of the parent
     * was adding at the time is not counted yet: the child never sees it. */
    (void)pthread_mutex_init(&m->lock, NULL);
}

void csession__redis_slot_map_dispose(csession__redis_slot_map *m)
{
    unsigned int n = atomic_load(&m->n_nodes);
    for (unsigned int i = 0; i < n; i++) {
        csession__redis_cluster_node *node = atomic_load(&m->nodes[i]);
        csession__redis_pool_dispose(&node->pool);
        csession__free(node);
    }
    pthread_mutex_destroy(&m->lock);
}

static int find(csession__redis_slot_map *m, unsigned int n, const char *host, size_t host_len,
                int port)
{
    for (unsigned int i = 0; i < n; i++) {
        const csession__redis_cluster_node *node =
            atomic_load_explicit(&m->nodes[i], memory_order_acquire);
        if (node->port == port && strlen(node->host) == host_len &&
            memcmp(node->host, host, host_len) == 0)
            return (int)i;
    }
    return -1;
}

int csession__redis_slot_map_node(csession__redis_slot_map *m, const char *host,
                                  size_t host_len, int port, csession__redis_cluster_node **out)
{
    /* Nodes are published after they are complete (release), and n_nodes
     * after the node: a reader that sees the count sees the nodes. */
    unsigned int n = atomic_load_explicit(&m->n_nodes, memory_order_acquire);
    int i = find(m, n, host, host_len, port);
    if (i >= 0) {
        *out = atomic_load_explicit(&m->nodes[i], memory_order_acquire);
        return 0;
    }
    if (host_len == 0 || host_len > CSESSION__REDIS_MAX_HOST)
        return csession__error(CSESSION_ESTORE, "Redis Cluster: a node's address is %s",
                               host_len ? "too long" : "empty");
    pthread_mutex_lock(&m->lock);
    n = atomic_load_explicit(&m->n_nodes, memory_order_relaxed);
    int rc = 0;
    if ((i = find(m, n, host, host_len, port)) >= 0) {
        *out = atomic_load_explicit(&m->nodes[i], memory_order_relaxed);
    } else if (n == CSESSION__REDIS_MAP_NODES) {
        rc = csession__error(CSESSION_ESTORE, "Redis Cluster: more than %d nodes",
                             CSESSION__REDIS_MAP_NODES);
    } else {
        csession__redis_cluster_node *node = csession__calloc(1, sizeof *node);
        if (!node) {
            rc = csession__oom();
        } else {
            memcpy(node->host, host, host_len);
            node->host[host_len] = '\0';
            node->port = port;
            node->id = (unsigned short)(n + 1);
            csession__redis_target t = m->node_target;
            t.host = node->host;
            t.port = port;
            rc = csession__redis_pool_init(&node->pool, &t, m->pool_size,
                                           m->pool_wait_timeout_ms);
            if (rc) {
                csession__free(node);
            } else {
                atomic_store_explicit(&m->nodes[n], node, memory_order_release);
                atomic_store_explicit(&m->n_nodes, n + 1, memory_order_release);
                *out = node;
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

csession__redis_cluster_node *csession__redis_slot_map_lookup(csession__redis_slot_map *m,
                                                              unsigned int slot)
{
    unsigned int v = atomic_load_explicit(&m->slots[slot], memory_order_acquire);
    return v ? atomic_load_explicit(&m->nodes[v - 1], memory_order_acquire) : NULL;
}

void csession__redis_slot_map_set(csession__redis_slot_map *m, unsigned int slot,
                                  const csession__redis_cluster_node *node)
{
    if (slot < CSESSION__REDIS_SLOTS)
        atomic_store_explicit(&m->slots[slot], node->id, memory_order_release);
}

int csession__redis_slot_map_load(csession__redis_slot_map *m,
                                  const csession__redis_slot_range *ranges, size_t n,
                                  const char *asked_host)
{
    unsigned short *next = csession__calloc(CSESSION__REDIS_SLOTS, sizeof *next);
    if (!next)
        return csession__oom();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const csession__redis_slot_range *r = &ranges[i];
        const char *host = r->host;
        size_t host_len = r->host_len;
        if (host_len == 0 || (host_len == 1 && host[0] == '?')) {
            host = asked_host;
            host_len = strlen(asked_host);
        }
        csession__redis_cluster_node *node;
        if ((rc = csession__redis_slot_map_node(m, host, host_len, r->port, &node)) == 0) {
            for (unsigned int s = r->first; s <= r->last; s++)
                next[s] = node->id;
        }
    }
    if (rc == 0) {
        for (unsigned int s = 0; s < CSESSION__REDIS_SLOTS; s++)
            atomic_store_explicit(&m->slots[s], next[s], memory_order_release);
    }
    csession__free(next);
    return rc;
}

unsigned int csession__redis_slot_map_size(csession__redis_slot_map *m)
{
    return atomic_load_explicit(&m->n_nodes, memory_order_acquire);
}

csession__redis_cluster_node *csession__redis_slot_map_at(csession__redis_slot_map *m,
                                                          unsigned int i)
{
    return atomic_load_explicit(&m->nodes[i], memory_order_acquire);
}
