#include "client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const client_calls *calls; /* NULL: the blocking calls */

void client_use_calls(const client_calls *c)
{
    calls = c;
}

static int load(csession_manager *mgr, const char *header, size_t len, csession **s)
{
    return calls ? calls->load(mgr, header, len, s) : csession_manager_load(mgr, header, len, s);
}

static int commit(csession_manager *mgr, csession *s, csession_buf *set)
{
    return calls ? calls->commit(mgr, s, set) : csession_manager_commit(mgr, s, set);
}

static void apply_set_cookie(test_client *c, const char *set)
{
    snprintf(c->last_set, sizeof c->last_set, "%s", set);
    c->got_set_cookie = 1;
    const char *semi = strchr(set, ';');
    size_t pair = semi ? (size_t)(semi - set) : strlen(set);
    if (strstr(set, "; Max-Age=0") != NULL) {
        c->cookie[0] = '\0'; /* a browser drops the cookie */
        return;
    }
    snprintf(c->cookie, sizeof c->cookie, "%.*s", (int)pair, set);
}

int client_request(csession_manager *mgr, test_client *c, const char *extra, test_handler handler,
                   void *ctx)
{
    char header[8192 * 2];
    if (extra && c->cookie[0])
        snprintf(header, sizeof header, "%s; %s", extra, c->cookie);
    else
        snprintf(header, sizeof header, "%s", extra ? extra : c->cookie);
    csession *s = NULL;
    int rc = load(mgr, header, strlen(header), &s);
    if (rc)
        return rc;
    if (handler)
        handler(s, ctx);
    csession_buf set = CSESSION_BUF_INIT;
    rc = commit(mgr, s, &set);
    if (!rc) {
        c->got_set_cookie = 0;
        if (set.size)
            apply_set_cookie(c, set.ptr);
    }
    csession_buf_dispose(&set);
    csession_free(s);
    return rc;
}

int client_load(csession_manager *mgr, const test_client *c, csession **s)
{
    return load(mgr, c->cookie, strlen(c->cookie), s);
}

int client_commit(csession_manager *mgr, test_client *c, csession *s)
{
    csession_buf set = CSESSION_BUF_INIT;
    int rc = commit(mgr, s, &set);
    if (!rc || rc == CSESSION_EGONE) {
        c->got_set_cookie = 0;
        if (set.size)
            apply_set_cookie(c, set.ptr);
    }
    csession_buf_dispose(&set);
    return rc;
}

const char *client_attr(const test_client *c, const char *attr, char *out, size_t out_size)
{
    out[0] = '\0';
    size_t alen = strlen(attr);
    for (const char *p = strstr(c->last_set, "; "); p; p = strstr(p + 2, "; ")) {
        const char *a = p + 2;
        if (strncasecmp(a, attr, alen) != 0)
            continue;
        if (a[alen] == '=') {
            const char *end = strchr(a, ';');
            size_t n = end ? (size_t)(end - a - alen - 1) : strlen(a + alen + 1);
            snprintf(out, out_size, "%.*s", (int)n, a + alen + 1);
            return out;
        }
        if (a[alen] == '\0' || a[alen] == ';') {
            snprintf(out, out_size, "<flag>");
            return out;
        }
    }
    return out;
}
