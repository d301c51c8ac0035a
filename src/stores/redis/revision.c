/* The revision inside a stored Redis value: see revision.h. */
#include "revision.h"

#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "digits.h"

static atomic_uint_fast64_t tag_counter;
static atomic_int tag_seeded;

void csession__redis_write_tag(char out[CSESSION__REDIS_TAG_LEN])
{
    /* Seeded once per process (a fork's child continues the parent's
     * sequence, but from a point the parent has passed only if it writes
     * as fast: the random start makes a meeting of two tags unlikely, and
     * a meeting needs the same key and revision too). */
    if (!atomic_load_explicit(&tag_seeded, memory_order_acquire)) {
        uint64_t seed;
        randombytes_buf(&seed, sizeof seed);
        uint_fast64_t zero = 0;
        atomic_compare_exchange_strong(&tag_counter, &zero, seed);
        atomic_store_explicit(&tag_seeded, 1, memory_order_release);
    }
    uint64_t v = atomic_fetch_add_explicit(&tag_counter, 1, memory_order_relaxed);
    static const char hex[] = "0123456789abcdef";
    for (int i = CSESSION__REDIS_TAG_LEN - 1; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

static const char REV_HEAD[] = "{\"v\":1,\"rev\":";

int csession__redis_is_envelope(const char *state, size_t len)
{
    return len > CSESSION__REDIS_ENVELOPE_HEAD_LEN &&
           memcmp(state, CSESSION__REDIS_ENVELOPE_HEAD, CSESSION__REDIS_ENVELOPE_HEAD_LEN) == 0;
}

int csession__redis_needs_escape(const char *state, size_t len)
{
    return len == 0 || state[0] == '\0';
}

int csession__redis_rev_wrap(const char *state, size_t len, uint64_t revision,
                             csession_buf *out)
{
    csession__buf_clear(out);
    if (!csession__redis_is_envelope(state, len)) {
        int rc = csession__redis_needs_escape(state, len) ? csession__buf_set(out, "", 1) : 0;
        if (!rc && len)
            rc = csession__buf_append(out, state, len);
        return rc;
    }
    char digits[CSESSION__DECIMAL_MAX];
    const char *d = csession__decimal_u64(digits, revision);
    size_t dn = (size_t)(digits + sizeof digits - d);
    size_t tail = len - CSESSION__REDIS_ENVELOPE_HEAD_LEN;
    int rc = csession__buf_grow(out, sizeof REV_HEAD - 1 + dn + 1 + tail);
    if (!rc)
        rc = csession__buf_append(out, REV_HEAD, sizeof REV_HEAD - 1);
    if (!rc)
        rc = csession__buf_append(out, d, dn);
    if (!rc)
        rc = csession__buf_append(out, ",", 1);
    if (!rc)
        rc = csession__buf_append(out, state + CSESSION__REDIS_ENVELOPE_HEAD_LEN, tail);
    if (rc)
        csession__buf_clear(out);
    return rc;
}

void csession__redis_rev_unwrap(csession_buf *value, uint64_t *revision)
{
    *revision = 0;
    if (value->size > 0 && value->ptr[0] == '\0') {
        memmove(value->ptr, value->ptr + 1, value->size - 1);
        value->size--;
        value->ptr[value->size] = '\0';
        return;
    }
    size_t head = sizeof REV_HEAD - 1;
    if (value->size <= head || memcmp(value->ptr, REV_HEAD, head) != 0)
        return;
    uint64_t rev = 0;
    size_t i = head;
    /* At most 19 digits: any such number fits, and the store never gets
     * near it; a longer or empty run is not a revision of ours. */
    while (i < value->size && i - head < 19 && value->ptr[i] >= '0' && value->ptr[i] <= '9')
        rev = rev * 10 + (uint64_t)(value->ptr[i++] - '0');
    if (i == head || i >= value->size || value->ptr[i] != ',')
        return;
    i++;
    /* and the write's tag, when there is one: "w":"<hex>", */
    static const char TAG_HEAD[] = "\"w\":\"";
    size_t th = sizeof TAG_HEAD - 1;
    if (value->size - i > th + CSESSION__REDIS_TAG_LEN + 2 &&
        memcmp(value->ptr + i, TAG_HEAD, th) == 0) {
        size_t j = i + th;
        while (j < value->size && j - (i + th) <= CSESSION__REDIS_TAG_LEN &&
               ((value->ptr[j] >= '0' && value->ptr[j] <= '9') ||
                (value->ptr[j] >= 'a' && value->ptr[j] <= 'z') ||
                (value->ptr[j] >= 'A' && value->ptr[j] <= 'Z')))
            j++;
        if (j + 1 < value->size && value->ptr[j] == '"' && value->ptr[j + 1] == ',')
            i = j + 2;
    }
    /* {"v":1,"rev":N,["w":"T",]<tail>  ->  {"v":1,<tail> */
    size_t tail = value->size - i;
    memmove(value->ptr + CSESSION__REDIS_ENVELOPE_HEAD_LEN, value->ptr + i, tail);
    value->size = CSESSION__REDIS_ENVELOPE_HEAD_LEN + tail;
    value->ptr[value->size] = '\0';
    *revision = rev;
}
