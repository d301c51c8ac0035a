/*
 * A user's sessions in the demo: login binds the session to the user id
 * with the User-Agent as its label; GET /sessions lists the logged-in
 * user's sessions, POST /sessions/end ends one of them by its public id,
 * POST /logout_all ends all of them, this one included.
 */
#include "demo.h"

#include <stdio.h>
#include <string.h>

static const char JSON[] = "application/json";

/* The id a user is bound under: the demo's user ids are any 1 to 128
 * bytes, the library's printable ASCII without '"', '\', '{' and '}', so
 * the others are percent-encoded (and '%' itself). An id that grows past
 * CSESSION_USER_ID_MAX that way is not bound: 0 is returned. */
static size_t bind_id(const char *user, char out[CSESSION_USER_ID_MAX + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
        int plain = *p > 0x20 && *p < 0x7f && !strchr("\"\\{}%", *p);
        if (n + (plain ? 1 : 3) > CSESSION_USER_ID_MAX)
            return 0;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return n;
}

int routes_users_bind(csession *s, const char *user, const char *agent)
{
    char id[CSESSION_USER_ID_MAX + 1];
    size_t n = bind_id(user, id);
    if (!n)
        return csession_unbind(s); /* not listed, and not another user's either */
    return csession_bind(s, id, n, agent, agent ? strlen(agent) : 0);
}

const char *routes_users_args(const char *path, const char *req_body, size_t req_body_len,
                              demo_call *call)
{
    if (strcmp(path, "/sessions/end") != 0)
        return NULL;
    csession *body;
    const char *why = demo_body_object(req_body, req_body_len, &body);
    if (why)
        return "the body must be a JSON object: {\"id\": \"<public id>\"}\n";
    const char *id;
    size_t len = 0;
    int rc = csession_get_string(body, "id", &id, &len);
    if (rc)
        why = "id must be a string\n";
    else if (len == 0 || len >= sizeof call->id)
        why = "id is not a session id\n";
    else
        memcpy(call->id, id, len + 1);
    csession_free(body);
    return why;
}

/* The user `s` is bound to, or a 401 answer and NULL. */
static const char *logged_in(const csession *s, reply *r)
{
    const char *user;
    if (csession_user(s, &user, NULL) == 0)
        return user;
    r->status = 401;
    r->content_type = JSON;
    text_append_str(&r->body, "{\"error\": \"log in first: POST /login\"}\n");
    return NULL;
}

int routes_users_list(csession *s, const demo_call *call, reply *r)
{
    const char *user = logged_in(s, r);
    if (!user)
        return r->body.failed ? CSESSION_ENOMEM : 0;
    csession_user_sessions *list;
    int rc = csession_manager_user_sessions(call->mgr, s, user, strlen(user), &list);
    if (rc)
        return rc;
    csession_buf json = CSESSION_BUF_INIT;
    rc = csession_user_sessions_json(list, &json);
    csession_user_sessions_free(list);
    if (!rc) {
        text_append(&r->body, json.ptr, json.size);
        text_append_str(&r->body, "\n");
    }
    csession_buf_dispose(&json);
    r->content_type = JSON;
    return rc ? rc : r->body.failed ? CSESSION_ENOMEM : 0;
}

int routes_users_end(csession *s, const demo_call *call, reply *r)
{
    const char *user = logged_in(s, r);
    if (!user)
        return r->body.failed ? CSESSION_ENOMEM : 0;
    const char *own;
    int rc = csession_id(s, &own);
    if (rc)
        return rc;
    int self = strcmp(own, call->id) == 0;
    rc = csession_manager_end_user_session(call->mgr, user, strlen(user), call->id,
                                           strlen(call->id));
    r->content_type = JSON;
    if (rc == CSESSION_ENOTFOUND) {
        r->status = 404;
        text_append_str(&r->body, "{\"error\": \"no such session of this user\"}\n");
        return r->body.failed ? CSESSION_ENOMEM : 0;
    }
    if (rc)
        return rc;
    text_append_str(&r->body, "{\"ended\": 1}\n");
    if (r->body.failed)
        return CSESSION_ENOMEM;
    return self ? csession_purge(s) : 0; /* ending this one: the cookie goes too */
}

int routes_users_logout_all(csession *s, const demo_call *call, reply *r)
{
    const char *user = logged_in(s, r);
    if (!user)
        return r->body.failed ? CSESSION_ENOMEM : 0;
    uint64_t ended = 0;
    int rc = csession_manager_end_user_sessions(call->mgr, user, strlen(user), NULL, &ended);
    if (rc)
        return rc;
    char line[64];
    snprintf(line, sizeof line, "{\"ended\": %llu}\n", (unsigned long long)ended);
    text_append_str(&r->body, line);
    r->content_type = JSON;
    if (r->body.failed)
        return CSESSION_ENOMEM;
    return csession_purge(s); /* and a removal cookie for this client */
}
