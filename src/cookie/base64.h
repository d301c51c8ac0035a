/*
 * Internal: strict base64 for sealed cookie values.
 *
 * Only what the cookie formats need: the standard alphabet with padding
 * (the `cookie` crate's) and the URL-safe alphabet without it (ours).
 * Decoding accepts exactly one text per byte string: characters outside
 * the alphabet, misplaced or missing padding and non-zero unused bits are
 * all refused, so a sealed value cannot be altered without being rejected.
 *
 * Table lookups make these functions data-dependent in time; they handle
 * only public data (MACs, nonces, ciphertexts). Secret key text goes
 * through libsodium's constant-time decoder instead.
 */
#ifndef CSESSION_SRC_COOKIE_BASE64_H
#define CSESSION_SRC_COOKIE_BASE64_H

#include <stddef.h>

typedef enum csession__b64_variant {
    CSESSION__B64_STANDARD_PADDED = 0,
    CSESSION__B64_URLSAFE_UNPADDED = 1
} csession__b64_variant;

/* Characters that encoding `bin_len` bytes produces (no NUL counted).
 * `bin_len` must be below SIZE_MAX / 2. */
size_t csession__b64_encoded_len(size_t bin_len, csession__b64_variant variant);

/* Writes the encoding of `bin` to `dst`, which must hold
 * csession__b64_encoded_len() characters; no NUL is written. */
void csession__b64_encode(char *dst, const unsigned char *bin, size_t bin_len,
                          csession__b64_variant variant);

/*
 * Decodes `text` into `dst` (at most `dst_max` bytes); *bin_len receives the
 * length. Returns 0, or -1 when the text is not the canonical encoding of
 * some bytes or would not fit (dst then holds garbage).
 */
int csession__b64_decode(unsigned char *dst, size_t dst_max, size_t *bin_len, const char *text,
                         size_t text_len, csession__b64_variant variant);

#endif
