/*
 * store_redis.h: the Redis session store (through hiredis).
 *
 * Sessions live in a Redis server, shared by every process that uses it,
 * and expire there by Redis' own TTL. Keys are actix-session's
 * RedisSessionStore's, and states it wrote load here:
 *
 *   load        GETRANGE key 0 <limit>     (a longer value, or a key of
 *                                           another type, is no session)
 *   load+touch  a script: GETRANGE, then EXPIRE key ttl
 *   save        SET key state NX EX ttl    (a new key is drawn on collision)
 *   update_if   a script: the stored revision compared, then SET ... EX ttl
 *   remove_if   a script: the stored revision compared, then DEL key
 *   update      the script, whatever the revision (saves under a new key
 *               when the old one is gone)
 *   update_ttl  EXPIRE key ttl
 *   remove      DEL key
 *
 * The revision and the write's tag are kept in the value's JSON head:
 * {"v":1,"rev":7,"w":"...","state":{...}} (docs/store-redis.md).
 *
 * The Redis key of a session is its 64-character session key as it is (as
 * actix-session's default), or with `key_prefix` in front, or whatever a
 * `key_mapper` callback makes of it.
 *
 * Connections. The store keeps a pool of at most `pool_size` connections,
 * opened lazily on first use (so creating the store does no I/O, and a
 * server that is down at start-up is not an error until a request needs
 * it). A connection is used by one operation at a time; when all are busy
 * an operation waits up to `pool_wait_timeout_ms` for one and then fails
 * with CSESSION_ETIMEOUT. AUTH and SELECT are sent on every (re)connect.
 *
 * Failures. A connection that breaks (reset, closed by the server, server
 * restarted) is discarded and the command retried once on a new connection;
 * every command the store sends is safe to repeat. A server that is down
 * gives CSESSION_ESTORE, one that does not answer within the timeouts gives
 * CSESSION_ETIMEOUT; neither hangs, and the store reconnects by itself once
 * the server is back. An error reply gives CSESSION_ESTORE with the
 * server's text. docs/store-redis.md has the details and the worst-case
 * time an operation can take.
 *
 * Topologies. The URL's scheme picks one server (redis://, unix://), the
 * master of a Redis Sentinel group (redis+sentinel://: looked up through
 * the sentinels, followed after a failover, the command that saw the
 * failover sent once more to the new master), or a Redis Cluster
 * (redis+cluster://: each command sent to the node serving its key's hash
 * slot, MOVED and ASK redirects followed). Nothing else changes for the
 * application; the failures it can see are still CSESSION_ESTORE and
 * CSESSION_ETIMEOUT.
 *
 * Blocking members. The vtable's load, save, update, ... run on the
 * calling thread and block it until the server answers or a timeout
 * passes. With W = pool_wait_timeout_ms, C = connect_timeout_ms and
 * T = command_timeout_ms (2000 ms each by default), one operation waits at
 * most W for a free connection of the pool, C for a new one (the connect
 * and the AUTH/SELECT reply together), T for the reply, and the connection
 * and reply part once more when a broken connection is retried:
 * W + 2 x (C + T), 10 s with the defaults. An update whose key has expired
 * saves anew in the same operation (one more reply, T). With Sentinel,
 * finding the master adds up to n x (2C + T) for n sentinels; with
 * Cluster each redirect (at most 5) costs one more command. Through a
 * manager, csession_manager_load() makes one operation on this store and
 * csession_manager_commit() at most two (a renewal deletes the old key,
 * then saves). A server that is down fails at once (connection refused);
 * one that stalls holds the calling thread for those times. So do not call
 * the blocking members on an event loop's thread: use the non-blocking
 * ones.
 *
 * Non-blocking members (sys/store.h version 3: start and cancel, used by
 * the manager's *_async calls). Every kind runs on the call's loop
 * (csession/loop.h) without waiting: the same commands, retries, redirects
 * and timeouts as the blocking members (the same code: the blocking
 * members run that machine on a pooled connection and wait with poll()),
 * on connections the store keeps per loop and per server, many requests
 * pipelined on each; the timeouts are the loop's timers (C until a new
 * connection has logged in, then T for each reply). Sentinel's
 * once-a-second check and Cluster's lazy slot map loads (after MOVED) go on
 * the loop too. Still done on the loop's thread, waiting: resolving a host
 * name that is not an address, a Sentinel master lookup (before the first
 * command, and after a sign of a failover) and a Cluster slot map load
 * that a call cannot do without (before the first command, after a node
 * failed), each bounded as above; and the user index's kinds (user_save,
 * user_remove), for which start answers CSESSION_EUNSUPPORTED so that the
 * library runs the blocking member. A loop's connections live until the store is freed:
 * free the store after its loops stopped running and before they are
 * destroyed. docs/store-redis.md, "Non-blocking calls".
 *
 * Thread safety: every operation may run concurrently on the same store.
 * fork(): a store made before fork() may be used in the parent and in every
 * child. A connection belongs to the process that opened it: a child's first
 * use of the store closes every connection it inherited without sending
 * anything on it (the parent's keep working) and opens its own, also when
 * other threads of the parent were using the store at the time of the
 * fork. Only children made by the C library's fork() are recognised (not
 * raw clone()). docs/store-redis.md, "Processes and fork()".
 * SIGPIPE: the store never raises it, even on a connection closed under it
 * (it writes with MSG_NOSIGNAL), and leaves signal dispositions and masks
 * alone.
 *
 * Memory: hiredis allocates its buffers with the C library's malloc, not
 * through csession_set_allocator(). Replies holding states are wiped before
 * they are freed; hiredis' own socket buffers are not.
 */
#ifndef CSESSION_STORE_REDIS_H
#define CSESSION_STORE_REDIS_H

#include "csession/buf.h"
#include "csession/common.h"
#include "csession/sys/store.h"

CSESSION_BEGIN_DECLS

/* 2 added the tls_* fields; version 1 structs are still accepted. */
#define CSESSION_STORE_REDIS_OPTIONS_VERSION 2

/* Defaults, used for option fields left at 0. */
#define CSESSION_STORE_REDIS_DEFAULT_CONNECT_TIMEOUT_MS 2000
#define CSESSION_STORE_REDIS_DEFAULT_COMMAND_TIMEOUT_MS 2000
#define CSESSION_STORE_REDIS_DEFAULT_POOL_SIZE 16
#define CSESSION_STORE_REDIS_DEFAULT_POOL_WAIT_TIMEOUT_MS 2000
#define CSESSION_STORE_REDIS_DEFAULT_MAX_STATE_BYTES 1048576 /* 1 MiB */

/* Largest accepted values. */
#define CSESSION_STORE_REDIS_LIMIT_TIMEOUT_MS 600000           /* 10 minutes */
#define CSESSION_STORE_REDIS_LIMIT_POOL_SIZE 1024
#define CSESSION_STORE_REDIS_LIMIT_MAX_STATE_BYTES 536870912u  /* 512 MiB, Redis' own */
#define CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX 256              /* bytes */
#define CSESSION_STORE_REDIS_LIMIT_URL 4096                    /* bytes */

/*
 * Maps a session key to the Redis key it is stored under.
 *
 * `key`/`len` is the session key (64 characters [A-Za-z0-9], followed by a
 * NUL not counted in `len`); put the Redis key into `out` with
 * csession_buf_set() (any bytes, at least one). Return 0, or a negative
 * CSESSION_E* code (ideally after csession_set_error()) to fail the
 * operation with it. `payload` is the options' `key_mapper_payload`.
 *
 * Called for every operation, from whichever thread runs it, concurrently:
 * it must be thread-safe, should be fast, and must not call the store. The
 * same session key must always map to the same Redis key, and different
 * session keys to different Redis keys.
 */
typedef int (*csession_store_redis_key_mapper)(const char *key, size_t len, csession_buf *out,
                                               void *payload);

/*
 * Options for csession_store_redis_new(). Initialise with
 * CSESSION_STORE_REDIS_OPTIONS_INIT or csession_store_redis_options_init()
 * so that fields added by later versions get their defaults. Every field
 * left at 0 (or NULL) takes the default.
 */
typedef struct csession_store_redis_options {
    /* CSESSION_STORE_REDIS_OPTIONS_VERSION. */
    unsigned int version;

    /* Longest wait for a new connection to be established, in ms, for the
     * TCP (or Unix socket) connection and again for its AUTH and SELECT
     * (default 2000, at most 600000). */
    unsigned int connect_timeout_ms;

    /* Longest wait for the server's answer to one command, in ms (default
     * 2000, at most 600000). A command that times out fails with
     * CSESSION_ETIMEOUT and is not retried (it may have been carried out);
     * its connection is closed. */
    unsigned int command_timeout_ms;

    /* Most connections open at once, that is the most operations running in
     * parallel (default 16, at most 1024); in cluster mode, per node. */
    unsigned int pool_size;

    /* Longest wait for a free connection when all pool_size are busy, in ms
     * (default 2000, at most 600000); then CSESSION_ETIMEOUT. */
    unsigned int pool_wait_timeout_ms;

    /* Largest state accepted by save and update, in bytes (default 1 MiB,
     * at most 512 MiB); larger ones fail with CSESSION_ETOOBIG. */
    size_t max_state_bytes;

    /* Put in front of every session key to make its Redis key, for example
     * "session:" (NUL-terminated, at most 256 bytes, copied). NULL or ""
     * (the default): the session key itself, as actix-session. */
    const char *key_prefix;

    /* Makes the Redis key of a session key instead (see the typedef); NULL
     * for the default. Cannot be combined with a non-empty key_prefix. */
    csession_store_redis_key_mapper key_mapper;

    /* Passed to key_mapper as is; must stay valid as long as the store. */
    void *key_mapper_payload;

    /* ---- version 2 ----
     * TLS, for rediss URLs (rediss://, rediss+sentinel://,
     * rediss+cluster://). Each field that is set overrides the URL's query
     * parameter of the same name (tls_ca_file=...), so that a deployment
     * can keep file paths out of the URL; with any of them set and a URL
     * that is not rediss, creating the store fails with CSESSION_EINVAL.
     * Strings are NUL-terminated and only read during the call (the files
     * are loaded then). docs/store-redis.md, "TLS". */

    /* PEM file of the CAs to trust. With neither this nor tls_ca_dir (nor
     * their URL parameters): the system's trust store. */
    const char *tls_ca_file;
    /* Directory of CA certificates named by hash (c_rehash). */
    const char *tls_ca_dir;
    /* Client certificate (PEM, the chain after it) and its unencrypted
     * private key, for servers with tls-auth-clients; both or neither. */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* Name sent as SNI and verified in the server's certificate, instead
     * of the host connected to (a DNS name or an IP address). */
    const char *tls_server_name;
    /* Oldest TLS version accepted: "1.2" (the default) or "1.3". */
    const char *tls_min_version;
    /* 0: as the URL says (verification on unless tls_verify=0); 1: verify
     * the certificate chain and the name; -1: do not verify (anyone on the
     * path can read and change the traffic; logged at every connect). */
    int tls_verify;
} csession_store_redis_options;

#define CSESSION_STORE_REDIS_OPTIONS_INIT \
    { CSESSION_STORE_REDIS_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/*
 * Sets `opts` to the defaults of the given `version` (pass
 * CSESSION_STORE_REDIS_OPTIONS_VERSION; 1 for the older, shorter struct).
 * Returns 0, or CSESSION_EINVAL for NULL or an unknown version.
 */
CSESSION_EXTERN(int) csession_store_redis_options_init(csession_store_redis_options *opts,
                                                       unsigned int version);

/*
 * Creates a Redis store for the server at `url` (NUL-terminated, at most
 * 4096 bytes), one of:
 *
 *   redis://[[user]:password@]host[:port][/db]
 *       host is a name, an IPv4 address or an IPv6 address in brackets
 *       ("redis://[::1]:6379"); port defaults to 6379 and db to 0. User
 *       and password are percent-decoded ("p%40ss" for "p@ss"); with a user
 *       the store sends "AUTH user password" (Redis 6 ACL), without one
 *       "AUTH password".
 *   unix:///path/to/redis.sock[?db=N][&password=P][&user=U]
 *       an absolute socket path (percent-decoded, at most 107 bytes);
 *       "pass" is accepted for "password".
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db][?query]
 *       the sentinels (port 26379 by default, at most 16) and the name of
 *       the master they watch. user and password log in to the master (and
 *       its replicas); the sentinels get their own with the query
 *       parameters sentinel_password and sentinel_user.
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]...][?query]
 *       some nodes of the cluster (port 6379 by default, at most 16), from
 *       which it learns the others. No /db: a cluster has only database 0.
 *
 * Both take wait_replicas=N (0 to 64) and wait_timeout_ms=T (1 to 600000,
 * below command_timeout_ms; default half of it): every SET and DEL is
 * followed by WAIT N T, and a write fewer than N replicas acknowledged
 * fails with CSESSION_ETIMEOUT (it may be lost if the master fails).
 *
 *   rediss://[[user]:password@]host[:port][/db][?tls parameters]
 *   rediss+sentinel://...   rediss+cluster://...
 *       the same over TLS, to every server (the sentinels and the master,
 *       every cluster node), with one set of TLS settings: the query
 *       parameters tls_ca_file, tls_ca_dir, tls_cert_file, tls_key_file,
 *       tls_server_name (percent-encoded), tls_min_version=1.2|1.3 and
 *       tls_verify=0|1, or the options' tls_* fields, which override them.
 *       The certificate is verified (against the system's trust store by
 *       default) and must be for the host connected to or tls_server_name.
 *       Sessions are resumed on reconnect. Needs a build with TLS
 *       (csession_has_feature("tls")); without it, CSESSION_EUNSUPPORTED.
 *
 * No connection is made here (see the file comment), so this call does not
 * block on the network; with TLS it reads the CA, certificate and key
 * files. `opts` may be NULL for the defaults; it is only read
 * during the call, except key_mapper_payload. In cluster mode pool_size
 * is per node.
 *
 * Returns 0, CSESSION_EINVAL (an invalid URL, an unknown options version, an
 * option out of range, wait_timeout_ms not below command_timeout_ms, a TLS
 * file that cannot be loaded, a key that does not match its certificate;
 * the message says what is wrong and never repeats the passwords or the
 * key's path), CSESSION_EUNSUPPORTED (a rediss URL in a build without TLS),
 * CSESSION_ENOMEM, or CSESSION_ERROR when libsodium cannot be
 * initialised. On failure *out is NULL. The caller owns *out until it hands
 * it to a manager; release it with csession_store_free().
 *
 * Session keys it accepts are the ones it makes (64 characters
 * [A-Za-z0-9]); any other key is unknown without asking the server: load
 * answers CSESSION_ENOTFOUND, update saves under a new key, update_ttl and
 * remove do nothing.
 */
CSESSION_EXTERN(int) csession_store_redis_new(csession_store **out, const char *url,
                                              const csession_store_redis_options *opts);

CSESSION_END_DECLS

#endif /* CSESSION_STORE_REDIS_H */
