/* Internal: filling csession_buf results. */
#ifndef CSESSION_SRC_BUF_H
#define CSESSION_SRC_BUF_H

#include "csession/buf.h"

/* Makes room for `extra` more bytes (plus the NUL). 0 or CSESSION_ENOMEM. */
int csession__buf_grow(csession_buf *buf, size_t extra);
/* Replaces the contents with `len` bytes. 0 or CSESSION_ENOMEM (buf emptied). */
int csession__buf_set(csession_buf *buf, const void *data, size_t len);
/* Appends `len` bytes. 0 or CSESSION_ENOMEM (contents unchanged). */
int csession__buf_append(csession_buf *buf, const void *data, size_t len);
/* Appends a NUL-terminated string. */
int csession__buf_puts(csession_buf *buf, const char *s);
/* Empties the buffer, keeping its memory (and wiping what was there). */
void csession__buf_clear(csession_buf *buf);

#endif
