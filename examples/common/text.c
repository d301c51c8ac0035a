/*
 * Text for the answers (a growable buffer, JSON string literals) and the
 * one log line per request.
 */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text ------------------------------------------------------------ */

void text_append(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (n >= t->cap - t->len || !t->ptr) {
        size_t cap = t->cap ? t->cap : 128;
        while (cap - t->len <= n) {
            if (cap > SIZE_MAX / 2) {
                t->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(t->ptr, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->ptr = p;
        t->cap = cap;
    }
    memcpy(t->ptr + t->len, s, n);
    t->len += n;
    t->ptr[t->len] = '\0';
}

void text_append_str(text *t, const char *s)
{
    text_append(t, s, strlen(s));
}

void text_append_json_string(text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    text_append(t, "\"", 1);
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t esc_len = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c >= 0x20 && c != 0x7f) {
                run++; /* UTF-8 sequences pass through: the library keeps strings valid */
                continue;
            }
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc_len = 6;
        }
        text_append(t, s + i - run, run);
        run = 0;
        text_append(t, esc, esc_len);
    }
    text_append(t, s + n - run, run);
    text_append(t, "\"", 1);
}

void text_free(text *t)
{
    if (t->cap)
        free(t->ptr);
    *t = (text){ 0 };
}

/* ---- log ------------------------------------------------------------- */

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* The path arrives percent-decoded: escape what would break the log line. */
static void printable(char *out, size_t out_size, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *in && o + 5 < out_size; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (*in && o + 3 < out_size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

void demo_log_request(const struct timespec *start, const char *method, const char *url,
                      unsigned status, const char *session_log)
{
    char m[24], path[256];
    printable(m, sizeof m, method);
    printable(path, sizeof path, url);
    /* One fprintf: stdio locks the stream, so lines of concurrent requests
     * never interleave. */
    fprintf(stderr, "%s %s %u %.3fms %s\n", m, path, status, elapsed_ms(start),
            session_log ? session_log : "session=-");
}
