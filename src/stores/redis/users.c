/*
 * The Redis store's user index: see redis_users.h.
 *
 * Every member is one script on the node of the user's set. Listing and
 * ending read the set first (SMEMBERS) and then run their script with the
 * set and every session key declared, so that on Cluster the server itself
 * sees a slot in migration (ASK, TRYAGAIN) instead of a script finding a
 * key missing that has only moved; the script checks that the set is
 * still the one read, or the two steps start again.
 */
#include "redis_users.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "buf.h"
#include "cluster_slots.h"
#include "commands.h"
#include "conn.h"
#include "error.h"
#include "redis_store.h"
#include "revision.h"
#include "session_key.h"
#include "state_format.h"

#define KEY_LEN CSESSION_SESSION_KEY_LEN

/* Keys drawn before a save gives up (see save_new() in redis_store.c). */
#define KEY_ATTEMPTS 8
/* Times the two steps of a listing or an ending start again when the set
 * changed between them, or a slot in migration answered TRYAGAIN. */
#define ROUNDS 32

static const char INDEX_INFIX[] = "user:";

/* KEYS[1] session, KEYS[2] set; ARGV value, ttl, session key. 0 when the
 * key exists; 1 when stored, or the set's members when it just grew to a
 * power of two from PRUNE_AT on: time the caller dropped the entries of
 * sessions that ended (expired, or retired by rotations) with PRUNE_SCRIPT. */
static const char SAVE_SCRIPT[] =
    "if not redis.call('SET',KEYS[1],ARGV[1],'NX','EX',ARGV[2]) then return 0 end "
    "redis.call('SADD',KEYS[2],ARGV[3]) local n=redis.call('SCARD',KEYS[2]) "
    "if n>=32 and bit.band(n,n-1)==0 then return redis.call('SMEMBERS',KEYS[2]) end return 1";

/* KEYS[1] session, KEYS[2] set; ARGV session key. */
static const char REMOVE_SCRIPT[] =
    "redis.call('SREM',KEYS[2],ARGV[1]) return redis.call('DEL',KEYS[1])";

/* The check both two-step scripts start with: the set holds exactly the
 * members ARGV[first..] (KEYS[2..] their sessions), or nil is returned. */
#define SAME_SET                                                                              \
    "local m=redis.call('SMEMBERS',KEYS[1]) local n=#ARGV-first+1 "                          \
    "if #m~=n then return false end local want={} "                                           \
    "for i=first,#ARGV do want[ARGV[i]]=true end "                                            \
    "for i=1,#m do if not want[m[i]] then return false end end "

/* ARGV members: those whose session is gone leave the set. */
static const char PRUNE_SCRIPT[] =
    "local first=1 " SAME_SET
    "for i=1,n do if redis.call('EXISTS',KEYS[i+1])==0 then "
    "redis.call('SREM',KEYS[1],ARGV[i]) end end return 1";

/* ARGV members: {member, value, ...} of the live ones; the others leave the set. */
static const char LIST_SCRIPT[] =
    "local first=1 " SAME_SET
    "local out={} for i=1,n do local v=redis.pcall('GET',KEYS[i+1]) "
    "if type(v)=='string' then out[#out+1]=ARGV[i] out[#out+1]=v "
    "else redis.call('SREM',KEYS[1],ARGV[i]) end end "
    "if redis.call('SCARD',KEYS[1])==0 then redis.call('DEL',KEYS[1]) end return out";

/* ARGV[1] the member kept ("" for none), then the members: deletes the
 * others' sessions and entries; the number of sessions deleted. */
static const char END_SCRIPT[] =
    "local first=2 " SAME_SET
    "local ended=0 for i=2,#ARGV do if ARGV[i]~=ARGV[1] then "
    "ended=ended+redis.call('DEL',KEYS[i]) redis.call('SREM',KEYS[1],ARGV[i]) end end "
    "if redis.call('SCARD',KEYS[1])==0 then redis.call('DEL',KEYS[1]) end return ended";

const char *csession__redis_users_save_script(void)
{
    return SAVE_SCRIPT;
}

const char *csession__redis_users_end_script(void)
{
    return END_SCRIPT;
}

/* ---- names ---------------------------------------------------------------- */

/* <prefix>user:<user> */
static int index_key(const csession__redis_store_parts *p, const char *user, size_t user_len,
                     csession_buf *out)
{
    int rc = csession__buf_set(out, p->prefix, p->prefix_len);
    if (!rc)
        rc = csession__buf_append(out, INDEX_INFIX, sizeof INDEX_INFIX - 1);
    if (!rc)
        rc = csession__buf_append(out, user, user_len);
    return rc;
}

/* <prefix><key>, into out[prefix_len + KEY_LEN]. */
static size_t session_key(const csession__redis_store_parts *p, const char *key, char *out)
{
    memcpy(out, p->prefix, p->prefix_len);
    memcpy(out + p->prefix_len, key, KEY_LEN);
    return p->prefix_len + KEY_LEN;
}

#define REDIS_KEY_MAX (CSESSION_STORE_REDIS_LIMIT_KEY_PREFIX + KEY_LEN)

/* ---- commands --------------------------------------------------------------- */

/* An error reply as a failure; TRYAGAIN (a slot in migration) as 1. */
static int reply_error(const redisReply *r, const char *what)
{
    if (csession__redis_error_is(r, "TRYAGAIN"))
        return 1;
    return csession__error(CSESSION_ESTORE, "%s: %.*s", what, (int)(r->len > 200 ? 200 : r->len),
                           r->str);
}

/* A pause before the next round after TRYAGAIN: the migration of a few
 * keys takes milliseconds. */
static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* argv[0 .. 2]: EVAL <script> <nkeys> (`nk` holds the number). */
static void eval_head(const char *script, int nkeys, char nk[16], const char **argv,
                      size_t *lens)
{
    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = script;
    lens[1] = strlen(script);
    lens[2] = (size_t)snprintf(nk, 16, "%d", nkeys);
    argv[2] = nk;
}

/* The script with argv[3 ..) as its keys and arguments: blocking when `op`
 * is NULL (*reply its answer), else built into `op` (its arguments copied). */
static int eval_on(const csession__redis_store_parts *p, csession__redis_op *op,
                   const csession_buf *route, const char *what, const char *script, int nkeys,
                   int argc, const char **argv, size_t *lens, int write, redisReply **reply)
{
    char nk[16];
    eval_head(script, nkeys, nk, argv, lens);
    if (op)
        return csession__redis_op_command(op, route->ptr, route->size, what, argc, argv, lens,
                                          write);
    return csession__redis_command(p->topology, route->ptr, route->size, what, argc, argv, lens,
                                   write, reply);
}

static int eval(const csession__redis_store_parts *p, const csession_buf *route,
                const char *what, const char *script, int nkeys, int argc, const char **argv,
                size_t *lens, int write, redisReply **reply)
{
    return eval_on(p, NULL, route, what, script, nkeys, argc, argv, lens, write, reply);
}

/* ---- save ----------------------------------------------------------------- */

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/*
 * On Cluster: changes the last three characters of `key` (62^3 choices)
 * until <prefix><key> hashes to `slot`; the other 61 stay as drawn, so the
 * key keeps 61 random characters (about 363 bits). 0, or -1 when no choice
 * fits (about one draw in 2 million: the caller draws again).
 *
 * CRC16 (XMODEM) is linear: for a key A + T with a three-byte tail T,
 * crc(A + T) = crc(hi(crc(A)), lo(crc(A)), 0) ^ crc(T). So each choice
 * costs the CRC of three bytes (about 16,000 choices on average), unless a
 * hash tag in the prefix decides the slot: then the first draw fits or none.
 */
static int place_in_slot(const csession__redis_store_parts *p, char key[KEY_LEN],
                         unsigned int slot)
{
    char full[REDIS_KEY_MAX];
    size_t n = session_key(p, key, full);
    int rc = -1;
    if (csession__redis_key_slot(full, n) == slot)
        return 0; /* luck, or the prefix's hash tag */
    if (memchr(p->prefix, '{', p->prefix_len))
        return -1; /* the tag decides: no tail changes the slot */
    unsigned int head = csession__redis_crc16(full, n - 3);
    const char shifted[3] = {(char)(head >> 8), (char)(head & 0xff), 0};
    unsigned int base = csession__redis_crc16(shifted, 3);
    char *tail = full + n - 3;
    for (size_t a = 0; rc && a < 62; a++) {
        tail[0] = ALNUM[a];
        for (size_t b = 0; rc && b < 62; b++) {
            tail[1] = ALNUM[b];
            for (size_t c = 0; rc && c < 62; c++) {
                tail[2] = ALNUM[c];
                if (((base ^ csession__redis_crc16(tail, 3)) & 16383) == slot &&
                    csession__redis_key_slot(full, n) == slot)
                    rc = 0;
            }
        }
    }
    if (!rc)
        memcpy(key, full + p->prefix_len, KEY_LEN);
    sodium_memzero(full, sizeof full);
    return rc;
}

static int declared(const csession__redis_store_parts *p, const csession_buf *index,
                    const redisReply *set, const char *what, const char *script, int write,
                    const char *keep, size_t keep_len, redisReply **reply);

/* Drops the entries of ended sessions from the set whose members are `set`:
 * one round trip, now and then (see SAVE_SCRIPT); best effort, as the next
 * list or end does it anyway. The error it may leave is cleared. */
static void prune(const csession__redis_store_parts *p, const csession_buf *index,
                  const redisReply *set)
{
    redisReply *r = NULL;
    if (declared(p, index, set, "Redis user prune", PRUNE_SCRIPT, 1, NULL, 0, &r) == 0)
        csession__redis_reply_free(r);
    csession_clear_error();
}

/* argv[3 .. 7] of SAVE_SCRIPT for `key` (its Redis key into `full`). */
static void save_args(const csession__redis_store_parts *p, const char *key, char *full,
                      const csession_buf *index, const csession_buf *value, int64_t ttl_seconds,
                      char ttl[24], const char **argv, size_t *lens)
{
    argv[3] = full;
    lens[3] = session_key(p, key, full);
    argv[4] = index->ptr;
    lens[4] = index->size;
    argv[5] = value->ptr;
    lens[5] = value->size;
    argv[6] = ttl;
    lens[6] = (size_t)snprintf(ttl, 24, "%" PRId64, ttl_seconds);
    argv[7] = key;
    lens[7] = KEY_LEN;
}

/* What a save's script answered: 0 with *stored (and *prune for a set to
 * prune), 1 for TRYAGAIN, or a failure. */
static int save_outcome(const redisReply *r, int *stored, int *prune)
{
    if (r->type == REDIS_REPLY_ERROR)
        return reply_error(r, "Redis user save");
    *stored = (r->type == REDIS_REPLY_INTEGER && r->integer == 1) || r->type == REDIS_REPLY_ARRAY;
    *prune = r->type == REDIS_REPLY_ARRAY;
    return 0;
}

/* The save's value and the user's set, or a failure. */
static int save_prepare(const csession__redis_store_parts *p, const char *user, size_t user_len,
                        const char *state, size_t state_len, csession_buf *value,
                        csession_buf *index)
{
    if (state_len > p->max_state_bytes)
        return csession__error(CSESSION_ETOOBIG,
                               "session state of %zu bytes exceeds the Redis store's limit of %zu",
                               state_len, p->max_state_bytes);
    int rc = csession__redis_rev_wrap(state, state_len, 1, value);
    return rc ? rc : index_key(p, user, user_len, index);
}

/* A fresh key for a save of the user whose set is in `slot` (placed there
 * on Cluster), into key_out too; 1 when KEY_ATTEMPTS are used up. */
static int save_draw(const csession__redis_store_parts *p, unsigned int slot, int *attempts,
                     char key[KEY_LEN], csession_buf *key_out)
{
    while ((*attempts)++ < KEY_ATTEMPTS) {
        p->keygen(key, p->keygen_ctx);
        if (p->cluster && place_in_slot(p, key, slot))
            continue;
        /* the key goes to the caller before it is stored (as save does) */
        return csession__buf_set(key_out, key, KEY_LEN);
    }
    return 1;
}

static int no_key_drawn(void)
{
    return csession__error(CSESSION_ESTORE, "could not draw an unused session key in %d attempts",
                           KEY_ATTEMPTS);
}

static int users_save(csession_store *store, const char *user, size_t user_len,
                      const char *state, size_t state_len, int64_t ttl_seconds,
                      unsigned int save_flags, csession_buf *key_out)
{
    (void)save_flags; /* the Redis store keeps no room for renewed sessions */
    csession__redis_store_parts p;
    csession__store_redis_parts(store, &p);
    csession_buf value = CSESSION_BUF_INIT, index = CSESSION_BUF_INIT;
    int rc = save_prepare(&p, user, user_len, state, state_len, &value, &index);
    unsigned int slot = rc ? 0 : csession__redis_key_slot(index.ptr, index.size);
    char key[KEY_LEN], full[REDIS_KEY_MAX], ttl[24];
    int stored = 0, attempts = 0;
    while (!rc && !stored) {
        if ((rc = save_draw(&p, slot, &attempts, key, key_out)) != 0)
            break;
        const char *argv[8];
        size_t lens[8];
        save_args(&p, key, full, &index, &value, ttl_seconds, ttl, argv, lens);
        redisReply *r = NULL;
        for (int round = 0; !rc && round < ROUNDS; round++) {
            rc = eval(&p, &index, "Redis user save", SAVE_SCRIPT, 2, 8, argv, lens, 1, &r);
            if (rc)
                break;
            int pruned = 0;
            rc = save_outcome(r, &stored, &pruned);
            if (pruned)
                prune(&p, &index, r);
            csession__redis_reply_free(r);
            if (rc != 1)
                break;
            rc = 0;
            pause_ms(round + 1);
        }
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(full, sizeof full);
    csession_buf_dispose(&value);
    csession_buf_dispose(&index);
    if (rc == 1 && !stored) /* save_draw() ran out of keys */
        rc = no_key_drawn();
    if (rc)
        csession__buf_clear(key_out);
    return rc > 0 ? csession__error(CSESSION_ESTORE, "Redis user save: slot kept migrating") : rc;
}

/* argv[3 .. 5] of REMOVE_SCRIPT for `key` (its Redis key into `full`). */
static void remove_args(const csession__redis_store_parts *p, const char *key, char *full,
                        const csession_buf *index, const char **argv, size_t *lens)
{
    argv[3] = full;
    lens[3] = session_key(p, key, full);
    argv[4] = index->ptr;
    lens[4] = index->size;
    argv[5] = key;
    lens[5] = KEY_LEN;
}

/* 0, 1 for TRYAGAIN, or a failure. */
static int remove_outcome(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR ? reply_error(r, "Redis user remove") : 0;
}

static int users_remove(csession_store *store, const char *user, size_t user_len,
                        const char *key, size_t key_len)
{
    if (!csession__session_key_valid(key, key_len))
        return 0;
    csession__redis_store_parts p;
    csession__store_redis_parts(store, &p);
    csession_buf index = CSESSION_BUF_INIT;
    char full[REDIS_KEY_MAX];
    int rc = index_key(&p, user, user_len, &index);
    for (int round = 0; !rc && round < ROUNDS; round++) {
        const char *argv[6];
        size_t lens[6];
        remove_args(&p, key, full, &index, argv, lens);
        redisReply *r = NULL;
        rc = eval(&p, &index, "Redis user remove", REMOVE_SCRIPT, 2, 6, argv, lens, 1, &r);
        if (rc)
            break;
        rc = remove_outcome(r);
        csession__redis_reply_free(r);
        if (rc != 1)
            break;
        rc = 0;
        pause_ms(round + 1);
    }
    sodium_memzero(full, sizeof full);
    csession_buf_dispose(&index);
    return rc > 0 ? csession__error(CSESSION_ESTORE, "Redis user remove: slot kept migrating")
                  : rc;
}

/* ---- the two-step scripts ----------------------------------------------- */

/* The members of the set, as SMEMBERS gives them (a reply the caller frees). */
static int read_set(const csession__redis_store_parts *p, const csession_buf *index,
                    redisReply **members)
{
    const char *argv[2] = {"SMEMBERS", index->ptr};
    size_t lens[2] = {8, index->size};
    int rc = csession__redis_command(p->topology, index->ptr, index->size, "Redis user index", 2,
                                     argv, lens, 0, members);
    if (rc)
        return rc;
    if ((*members)->type == REDIS_REPLY_ARRAY)
        return 0;
    rc = (*members)->type == REDIS_REPLY_ERROR
             ? reply_error(*members, "Redis user index")
             : csession__error(CSESSION_ESTORE, "Redis user index: not a set");
    csession__redis_reply_free(*members);
    *members = NULL;
    return rc;
}

/*
 * Runs `script` once with the set at `index` and the members `set` (an
 * SMEMBERS answer) declared, their sessions as keys: *reply is its answer.
 * `keep` (END_SCRIPT) is the member kept, or NULL. 0, 1 when the set was
 * no longer `set` or a slot in migration said TRYAGAIN (*reply NULL), or a
 * failure. With `op`, builds the script into it instead (0 or
 * CSESSION_ENOMEM; *reply untouched).
 */
static int declared_on(const csession__redis_store_parts *p, csession__redis_op *op,
                       const csession_buf *index, const redisReply *set, const char *what,
                       const char *script, int write, const char *keep, size_t keep_len,
                       redisReply **reply)
{
    size_t n = set->elements, extra = keep ? 1 : 0;
    size_t argc = 3 + 1 + n + extra + n;
    size_t names_size = (n ? n : 1) * REDIS_KEY_MAX;
    const char **argv = csession__calloc(argc, sizeof *argv);
    size_t *lens = csession__calloc(argc, sizeof *lens);
    char *names = csession__calloc(1, names_size);
    int rc = 0;
    *reply = NULL;
    if (!argv || !lens || !names) {
        rc = csession__oom();
        goto done;
    }
    argv[3] = index->ptr;
    lens[3] = index->size;
    size_t at = 4 + n;
    if (keep) {
        argv[at] = keep;
        lens[at++] = keep_len;
    }
    size_t usable = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = set->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len != KEY_LEN)
            continue; /* not one of ours: never a session key */
        char *name = names + usable * REDIS_KEY_MAX;
        argv[4 + usable] = name;
        lens[4 + usable] = session_key(p, m->str, name);
        argv[at + usable] = m->str;
        lens[at + usable] = KEY_LEN;
        usable++;
    }
    if (usable != n) { /* the members after the keys, without a gap */
        memmove(argv + 4 + usable, argv + 4 + n, (extra + usable) * sizeof *argv);
        memmove(lens + 4 + usable, lens + 4 + n, (extra + usable) * sizeof *lens);
    }
    rc = eval_on(p, op, index, what, script, (int)(1 + usable), (int)(4 + 2 * usable + extra),
                 argv, lens, write, reply);
    if (op)
        goto done; /* built: the reply comes to the op's callback */
    if (!rc && (*reply)->type == REDIS_REPLY_ERROR)
        rc = reply_error(*reply, what);
    else if (!rc && (*reply)->type == REDIS_REPLY_NIL)
        rc = 1; /* the set changed meanwhile (or holds something else) */
    if (rc) {
        csession__redis_reply_free(*reply);
        *reply = NULL;
    }
done:
    if (names)
        sodium_memzero(names, names_size);
    csession__free(argv);
    csession__free(lens);
    csession__free(names);
    return rc;
}

static int declared(const csession__redis_store_parts *p, const csession_buf *index,
                    const redisReply *set, const char *what, const char *script, int write,
                    const char *keep, size_t keep_len, redisReply **reply)
{
    return declared_on(p, NULL, index, set, what, script, write, keep, keep_len, reply);
}

/*
 * Runs `script` (LIST_SCRIPT or END_SCRIPT) on the set of `user` and its
 * sessions: reads the set, then runs the script with it declared, again
 * while the set changes between the two. *reply is its answer (not nil).
 * 0, or a failure.
 */
static int two_steps(const csession__redis_store_parts *p, const char *user, size_t user_len,
                     const char *what, const char *script, int write, const char *keep,
                     size_t keep_len, redisReply **reply)
{
    csession_buf index = CSESSION_BUF_INIT;
    int rc = index_key(p, user, user_len, &index);
    *reply = NULL;
    for (int round = 0; !rc; round++) {
        if (round == ROUNDS) {
            rc = csession__error(CSESSION_ESTORE, "%s: the user's sessions kept changing", what);
            break;
        }
        redisReply *set = NULL;
        if ((rc = read_set(p, &index, &set)))
            break;
        rc = declared(p, &index, set, what, script, write, keep, keep_len, reply);
        csession__redis_reply_free(set);
        if (rc == 1) {
            rc = 0;
            pause_ms(round < 8 ? 0 : round);
            continue;
        }
        break;
    }
    csession_buf_dispose(&index);
    return rc;
}

static int users_list(csession_store *store, const char *user, size_t user_len,
                      int (*each)(const char *key, size_t key_len, const char *state,
                                  size_t state_len, void *payload),
                      void *payload)
{
    csession__redis_store_parts p;
    csession__store_redis_parts(store, &p);
    redisReply *r;
    int rc = two_steps(&p, user, user_len, "Redis user list", LIST_SCRIPT, 1, NULL, 0, &r);
    if (rc)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY) {
        csession__redis_reply_free(r);
        return csession__error(CSESSION_ESTORE, "Redis user list: unexpected reply");
    }
    csession_buf state = CSESSION_BUF_INIT;
    for (size_t i = 0; !rc && i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            v->len > p.max_state_bytes + 64)
            continue;
        uint64_t revision;
        if ((rc = csession__buf_set(&state, v->str, v->len)))
            break;
        csession__redis_rev_unwrap(&state, &revision);
        rc = each(k->str, k->len, state.ptr ? state.ptr : "", state.size, payload);
    }
    csession_buf_dispose(&state);
    csession__redis_reply_free(r);
    return rc;
}

static int users_end(csession_store *store, const char *user, size_t user_len,
                     const char *keep_key, size_t keep_key_len, uint64_t *ended)
{
    csession__redis_store_parts p;
    csession__store_redis_parts(store, &p);
    *ended = 0;
    redisReply *r;
    int rc = two_steps(&p, user, user_len, "Redis user end", END_SCRIPT, 1,
                       keep_key ? keep_key : "", keep_key ? keep_key_len : 0, &r);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
        *ended = (uint64_t)r->integer;
    else
        rc = csession__error(CSESSION_ESTORE, "Redis user end: unexpected reply");
    csession__redis_reply_free(r);
    return rc;
}

/* ---- the non-blocking kinds (USER_SAVE, USER_REMOVE) ----------------------
 *
 * The members above as a chain of ops on the call's loop: the same scripts,
 * keys, rounds and limits; a pause after TRYAGAIN is a loop timer. */

typedef struct user_call user_call;
typedef void (*user_step)(user_call *u);

struct user_call {
    csession_store_call *call;
    csession__redis_store_parts p;
    csession__redis_op op;
    csession_buf value, index;
    unsigned int slot;
    int attempts, round;
    char key[KEY_LEN];
    void *timer;       /* the pause after TRYAGAIN, opened on the first */
    user_step resumed; /* what the timer runs */
};

static void user_call_free(user_call *u)
{
    csession_loop *loop = u->call->loop;
    csession__redis_op_cancel(&u->op);
    csession__redis_op_dispose(&u->op);
    if (u->timer)
        loop->timer_close(loop, u->timer);
    csession_buf_dispose(&u->value);
    csession_buf_dispose(&u->index);
    sodium_memzero(u->key, sizeof u->key);
    csession__free(u);
}

static void user_finish(user_call *u, int code)
{
    csession_store_call *call = u->call;
    char msg[520];
    int has_msg = code < 0;
    if (has_msg)
        snprintf(msg, sizeof msg, "%s", csession_last_error());
    if (code && call->kind == CSESSION_CALL_USER_SAVE)
        csession__buf_clear(call->key_out);
    user_call_free(u);
    call->store_data = NULL;
    call->complete(call, code, has_msg ? msg : NULL);
}

/* Starts the op built into u->op (rc its builder's outcome), its reply to `then`. */
static void user_send(user_call *u, int rc, csession__redis_op_cb then)
{
    if (rc) {
        user_finish(u, rc);
        return;
    }
    u->op.t = u->p.topology;
    u->op.loop = u->call->loop;
    u->op.async = u->p.async;
    u->op.cb = then;
    u->op.arg = u;
    csession__redis_op_start(&u->op);
}

static void user_resume(void *arg)
{
    user_call *u = arg;
    u->resumed(u);
}

/* After TRYAGAIN: `step` again after a pause (round + 1 ms, as the blocking
 * members), while rounds are left; then `out` (the next key, or the end). */
static void user_again(user_call *u, user_step step, user_step out)
{
    csession_loop *loop = u->call->loop;
    if (++u->round == ROUNDS) {
        out(u);
        return;
    }
    if (!u->timer && (u->timer = loop->timer_open(loop, user_resume, u)) == NULL) {
        user_finish(u, csession__error(CSESSION_ESTORE, "the event loop refused a timer"));
        return;
    }
    u->resumed = step;
    if (loop->timer_set(loop, u->timer, (uint64_t)u->round) != 0)
        user_finish(u, csession__error(CSESSION_ESTORE, "the event loop refused a timer"));
}

static void save_next_key(user_call *u);
static void save_send(user_call *u);

static void save_pruned(csession__redis_op *op, int rc, redisReply *reply)
{
    (void)rc; /* best effort, as in prune() */
    csession__redis_reply_free(reply);
    csession_clear_error();
    user_finish(op->arg, 0);
}

static void save_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    user_call *u = op->arg;
    int stored = 0, pruned = 0;
    if (rc == 0)
        rc = save_outcome(reply, &stored, &pruned);
    if (rc == 0 && pruned) {
        redisReply *set = reply, *unused;
        csession__redis_op_dispose(&u->op);
        rc = declared_on(&u->p, &u->op, &u->index, set, "Redis user prune", PRUNE_SCRIPT, 1,
                         NULL, 0, &unused);
        csession__redis_reply_free(set);
        user_send(u, rc, save_pruned);
        return;
    }
    csession__redis_reply_free(reply);
    if (rc == 1) {
        user_again(u, save_send, save_next_key); /* rounds used up: another key */
        return;
    }
    if (rc || stored)
        user_finish(u, rc);
    else
        save_next_key(u); /* a live session has this key: draw again */
}

static void save_send(user_call *u)
{
    const char *argv[8];
    size_t lens[8];
    char full[REDIS_KEY_MAX], ttl[24];
    save_args(&u->p, u->key, full, &u->index, &u->value, u->call->ttl_seconds, ttl, argv, lens);
    csession__redis_op_dispose(&u->op);
    int rc = eval_on(&u->p, &u->op, &u->index, "Redis user save", SAVE_SCRIPT, 2, 8, argv, lens,
                     1, NULL);
    sodium_memzero(full, sizeof full);
    user_send(u, rc, save_replied);
}

static void save_next_key(user_call *u)
{
    int rc = save_draw(&u->p, u->slot, &u->attempts, u->key, u->call->key_out);
    if (rc) {
        user_finish(u, rc == 1 ? no_key_drawn() : rc);
        return;
    }
    u->round = 0;
    save_send(u);
}

static void remove_send(user_call *u);

static void remove_gave_up(user_call *u)
{
    user_finish(u, csession__error(CSESSION_ESTORE, "Redis user remove: slot kept migrating"));
}

static void remove_replied(csession__redis_op *op, int rc, redisReply *reply)
{
    user_call *u = op->arg;
    if (rc == 0)
        rc = remove_outcome(reply);
    csession__redis_reply_free(reply);
    if (rc == 1)
        user_again(u, remove_send, remove_gave_up);
    else
        user_finish(u, rc);
}

static void remove_send(user_call *u)
{
    const char *argv[6];
    size_t lens[6];
    char full[REDIS_KEY_MAX];
    remove_args(&u->p, u->call->key, full, &u->index, argv, lens);
    csession__redis_op_dispose(&u->op);
    int rc = eval_on(&u->p, &u->op, &u->index, "Redis user remove", REMOVE_SCRIPT, 2, 6, argv,
                     lens, 1, NULL);
    sodium_memzero(full, sizeof full);
    user_send(u, rc, remove_replied);
}

int csession__redis_users_start(csession_store *store, csession_store_call *call)
{
    call->store_data = NULL;
    if (call->kind == CSESSION_CALL_USER_REMOVE &&
        !csession__session_key_valid(call->key, call->key_len)) {
        call->complete(call, 0, NULL); /* as users_remove: nothing to do */
        return 0;
    }
    user_call *u = csession__calloc(1, sizeof *u);
    if (!u)
        return csession__oom();
    u->call = call;
    csession__store_redis_parts(store, &u->p);
    csession_buf_init(&u->value);
    csession_buf_init(&u->index);
    call->store_data = u;
    if (call->kind == CSESSION_CALL_USER_REMOVE) {
        int rc = index_key(&u->p, call->user, call->user_len, &u->index);
        if (rc)
            user_finish(u, rc);
        else
            remove_send(u);
        return 0;
    }
    int rc = save_prepare(&u->p, call->user, call->user_len, call->state, call->state_len,
                          &u->value, &u->index);
    if (rc) {
        user_finish(u, rc);
        return 0;
    }
    u->slot = csession__redis_key_slot(u->index.ptr, u->index.size);
    save_next_key(u);
    return 0;
}

void csession__redis_users_cancel(csession_store_call *call)
{
    user_call *u = call->store_data;
    if (!u)
        return;
    user_call_free(u);
    call->store_data = NULL;
}

void csession__redis_users_wire(csession_store *store)
{
    store->user_save = users_save;
    store->user_remove = users_remove;
    store->user_list = users_list;
    store->user_end = users_end;
}
