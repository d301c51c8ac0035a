/*
 * Internal: the Cookie: / Set-Cookie: header codec.
 *
 * Pure functions over bytes with explicit lengths: no I/O, no crypto, no
 * clock. Parsing never allocates; formatting fills a csession_buf. The rules
 * and limits are described in docs/cookie-header.md.
 */
#ifndef CSESSION_SRC_COOKIE_HEADER_H
#define CSESSION_SRC_COOKIE_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "csession/buf.h"

/* A Cookie: header value longer than this is refused as a whole. */
#define CSESSION__COOKIE_HEADER_MAX 8192
/* Longest raw (still encoded) cookie value accepted from a request, and
 * longest encoded value written into a Set-Cookie header. Browsers keep at
 * most 4096 bytes per cookie, so nothing longer can round-trip. */
#define CSESSION__COOKIE_VALUE_MAX 4096
/* Longest cookie name accepted by the formatter. */
#define CSESSION__COOKIE_NAME_MAX 256
/* Longest Path or Domain written; browsers ignore longer attribute values. */
#define CSESSION__COOKIE_ATTR_MAX 1024
/* Size of an IMF-fixdate including its NUL: "Sun, 06 Nov 1994 08:49:37 GMT". */
#define CSESSION__HTTP_DATE_SIZE 30
/* Latest Expires written (9999-12-31 23:59:59 UTC); later times are clamped,
 * as RFC 6265 allows no year past 9999. */
#define CSESSION__HTTP_DATE_MAX INT64_C(253402300799)

/*
 * Position of a scan through a Cookie: header. Start from
 * CSESSION__COOKIE_CURSOR_INIT (or all zero); only the scan functions change it.
 */
typedef struct csession__cookie_cursor {
    size_t pos; /* offset of the next pair to look at */
} csession__cookie_cursor;

#define CSESSION__COOKIE_CURSOR_INIT { 0 }

/*
 * Finds the next cookie called `name` in a Cookie: request header value.
 *
 * header, header_len: the header value (not NUL-terminated; NULL allowed when
 *     header_len is 0, which means "no Cookie header").
 * name, name_len: the wanted name; must be an RFC 6265 token. A pair matches
 *     when its name, trimmed and percent-decoded, equals it byte for byte.
 * cursor: where to resume; advanced past the pair that was returned.
 * value, value_len: set to the raw value (trimmed, surrounding double quotes
 *     removed, still percent-encoded). The pointer borrows from `header`.
 *
 * Every match is returned in header order, duplicates included, so the caller
 * can try each until one opens.
 *
 * Returns 0 when a value was found;
 *   CSESSION_ENOTFOUND when no further pair has that name;
 *   CSESSION_ETOOBIG when header_len > CSESSION__COOKIE_HEADER_MAX (nothing is
 *     scanned), or when the matching value is longer than
 *     CSESSION__COOKIE_VALUE_MAX: that pair is skipped (the cursor is past it)
 *     and calling again continues with the next one;
 *   CSESSION_EINVAL for NULL arguments or a name that is not a token.
 * *value and *value_len are set to NULL / 0 on every non-zero return.
 * Thread-safe; allocates nothing.
 */
int csession__cookie_find(const char *header, size_t header_len,
                          const char *name, size_t name_len,
                          csession__cookie_cursor *cursor,
                          const char **value, size_t *value_len);

/*
 * Percent-decodes a raw cookie value the way the Rust `cookie` crate's
 * parse_encoded() does: each `%` followed by two hex digits becomes that
 * byte, every other byte (a lone `%`, `%4`, `%zz`, `+`) is kept as it is, and
 * the result must be valid UTF-8.
 *
 * in, in_len: the raw value (at most CSESSION__COOKIE_VALUE_MAX bytes).
 * out, out_cap: destination; the result is never longer than in_len, so
 *     out_cap >= in_len always suffices. out may equal in (decoding in place);
 *     other overlaps are not allowed. No NUL is appended.
 * out_len: set to the number of bytes written (0 on failure).
 *
 * Returns 0; CSESSION_ETOOBIG when in_len > CSESSION__COOKIE_VALUE_MAX or the
 * result does not fit out_cap; CSESSION_EFORMAT when the result is not valid
 * UTF-8; CSESSION_EINVAL for NULL arguments. Thread-safe; allocates nothing.
 */
int csession__cookie_decode(const char *in, size_t in_len,
                            char *out, size_t out_cap, size_t *out_len);

/*
 * Percent-encodes `in` with the encode set of the `cookie` crate's encoded()
 * (see header.c), replacing the contents of `out`.
 *
 * Returns 0; CSESSION_EINVAL when `in` is not valid UTF-8 (it could not come
 * back through csession__cookie_decode) or for NULL arguments;
 * CSESSION_ETOOBIG when the encoded form is longer than
 * CSESSION__COOKIE_VALUE_MAX; CSESSION_ENOMEM. On failure `out` is empty.
 */
int csession__cookie_encode(csession_buf *out, const char *in, size_t in_len);

/* SameSite attribute; UNSET writes none. */
typedef enum csession__same_site {
    CSESSION__SAME_SITE_UNSET = 0,
    CSESSION__SAME_SITE_STRICT,
    CSESSION__SAME_SITE_LAX,
    CSESSION__SAME_SITE_NONE
} csession__same_site;

/*
 * What goes into a Set-Cookie header besides the value. Strings are borrowed
 * for the duration of the call and need not be NUL-terminated; a NULL path or
 * domain means "no such attribute".
 */
typedef struct csession__cookie_attrs {
    const char *name;   /* RFC 6265 token, 1..CSESSION__COOKIE_NAME_MAX bytes */
    size_t name_len;
    const char *path;   /* starts with '/', printable ASCII except ';' */
    size_t path_len;
    const char *domain; /* letters, digits, '-', '.', '_'; a leading '.' is dropped */
    size_t domain_len;
    int has_max_age;    /* non-zero: write Max-Age=max_age */
    int64_t max_age;    /* seconds, >= 0 */
    int has_expires;    /* non-zero: write Expires=<IMF-fixdate of expires> */
    int64_t expires;    /* unix seconds, >= 0; clamped to CSESSION__HTTP_DATE_MAX */
    int secure;
    int http_only;
    int partitioned;    /* needs secure */
    csession__same_site same_site; /* NONE needs secure */
} csession__cookie_attrs;

/*
 * Formats a Set-Cookie header value (without the "Set-Cookie: " prefix) into
 * `out`, replacing its contents. The name and value are percent-encoded like
 * the `cookie` crate's encoded(); the attributes follow in the crate's order:
 *   name=value; HttpOnly; SameSite=X; Partitioned; Secure; Path=P; Domain=D;
 *   Max-Age=N; Expires=IMF-fixdate
 *
 * value, value_len: the cookie value, valid UTF-8 (NULL allowed if value_len is 0).
 *
 * Returns 0; CSESSION_EINVAL (with a message naming the culprit) for a name
 * that is not a token, a value that is not UTF-8, a Path or Domain that could
 * inject header syntax (CTLs, ';', CR, LF, NUL, non-ASCII, ...), a negative
 * Max-Age or Expires, SameSite=None or Partitioned without Secure (browsers
 * reject both), a name starting with "__Secure-" without Secure or with
 * "__Host-" without Secure, Path=/ and no Domain (RFC 6265bis prefixes,
 * matched in any case), an unknown same_site; CSESSION_ETOOBIG when the
 * encoded value exceeds CSESSION__COOKIE_VALUE_MAX or the name/Path/Domain
 * exceed theirs;
 * CSESSION_ENOMEM. On failure `out` is empty. Makes one allocation at most.
 */
int csession__cookie_format(csession_buf *out, const csession__cookie_attrs *attrs,
                            const char *value, size_t value_len);

/*
 * Formats the Set-Cookie value that removes the cookie `attrs` describes:
 * empty value, Max-Age=0 and Expires=Thu, 01 Jan 1970 00:00:00 GMT, with the
 * same Path, Domain, Secure, HttpOnly, SameSite and Partitioned (a browser
 * only replaces a cookie set with the same ones). attrs' own max-age and
 * expiry are ignored. Errors as csession__cookie_format().
 */
int csession__cookie_format_removal(csession_buf *out, const csession__cookie_attrs *attrs);

/*
 * Writes `t` (unix seconds, 0..CSESSION__HTTP_DATE_MAX) as an IMF-fixdate
 * (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT", NUL-terminated.
 * Locale-independent and thread-safe. Returns 0, or CSESSION_EINVAL when `t`
 * is out of range or out is NULL.
 */
int csession__http_date(int64_t t, char out[CSESSION__HTTP_DATE_SIZE]);

/* Non-zero when name[0..len) is a non-empty RFC 6265 cookie-name (an RFC 9110 token). */
int csession__cookie_is_token(const char *name, size_t len);

#endif
