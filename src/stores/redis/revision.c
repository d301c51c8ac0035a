/* The revision inside a stored Redis value: see revision.h. */
#include "revision.h"

#include <string.h>

#include "buf.h"
#include "digits.h"

static const char REV_HEAD[] = "{\"v\":1,\"rev\":";

int csession__redis_is_envelope(const char *state, size_t len)
{
    return len > CSESSION__REDIS_ENVELOPE_HEAD_LEN &&
           memcmp(state, CSESSION__REDIS_ENVELOPE_HEAD, CSESSION__REDIS_ENVELOPE_HEAD_LEN) == 0;
}

int csession__redis_rev_wrap(const char *state, size_t len, uint64_t revision,
                             csession_buf *out)
{
    csession__buf_clear(out);
    if (!csession__redis_is_envelope(state, len))
        return csession__buf_set(out, state, len);
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
    /* {"v":1,"rev":N,<tail>  ->  {"v":1,<tail> */
    size_t tail = value->size - (i + 1);
    memmove(value->ptr + CSESSION__REDIS_ENVELOPE_HEAD_LEN, value->ptr + i + 1, tail);
    value->size = CSESSION__REDIS_ENVELOPE_HEAD_LEN + tail;
    value->ptr[value->size] = '\0';
    *revision = rev;
}
