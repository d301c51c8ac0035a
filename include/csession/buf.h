/*
 * buf.h: the output buffer every variable-size result is returned in.
 */
#ifndef CSESSION_BUF_H
#define CSESSION_BUF_H

#include "csession/common.h"

CSESSION_BEGIN_DECLS

/*
 * A growable byte buffer owned by the caller's variable and managed by the
 * library. Start from all-zero (CSESSION_BUF_INIT, `= {0}` or
 * csession_buf_init()); pass its address to a function that fills it; read
 * `ptr[0 .. size)`; release it with csession_buf_dispose().
 *
 * When `ptr` is not NULL the bytes are followed by a NUL, so text results can
 * be used as C strings (the NUL is not counted in `size`). Functions that fill
 * a buffer replace its previous contents, reusing its memory. On failure they
 * leave the buffer empty (size 0) but still disposable.
 */
typedef struct csession_buf {
    char *ptr;       /* the bytes, or NULL when nothing was ever stored */
    size_t size;     /* number of valid bytes at ptr */
    size_t capacity; /* bytes allocated at ptr; internal, do not change */
} csession_buf;

#define CSESSION_BUF_INIT { NULL, 0, 0 }

/* Sets all fields of `buf` to zero (same as CSESSION_BUF_INIT). */
CSESSION_EXTERN(void) csession_buf_init(csession_buf *buf);

/*
 * Wipes the bytes (they may hold session data) and frees the memory of
 * `buf`, leaving it zeroed and reusable. NULL and already-disposed buffers
 * are accepted.
 */
CSESSION_EXTERN(void) csession_buf_dispose(csession_buf *buf);

/*
 * Replaces the contents of `buf` with `len` bytes from `data` (followed by a
 * NUL that is not counted), reusing its memory when it is large enough and
 * wiping what it held. `data` may be NULL when `len` is 0.
 * Returns 0, CSESSION_ENOMEM (buf left empty) or CSESSION_EINVAL.
 */
CSESSION_EXTERN(int) csession_buf_set(csession_buf *buf, const char *data, size_t len);

CSESSION_END_DECLS

#endif /* CSESSION_BUF_H */
