/*
 * session_demo: a session's life without a web server - created, changed,
 * encoded into the form a store keeps, decoded back, renewed and purged.
 */
#include <csession.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "session_demo: %s: %s\n", what, csession_last_error());
    return 1;
}

int main(void)
{
    csession *s = NULL, *loaded = NULL;
    csession_buf stored = CSESSION_BUF_INIT;
    int64_t counter = 0;
    const char *user = NULL;
    int rc = 1;

    printf("csession %s\n\n", csession_version());
    if (csession_new(&s))
        return fail("csession_new");
    printf("new session:            status %s, %zu keys\n", csession_status_name(csession_status(s)),
           csession_count(s));

    if (csession_insert_string(s, "user_id", "alice") || csession_insert_int64(s, "counter", 1) ||
        csession_insert_json(s, "roles", "[\"reader\",\"editor\"]", 19)) {
        fail("insert");
        goto out;
    }
    printf("after three inserts:    status %s, %zu keys\n", csession_status_name(csession_status(s)),
           csession_count(s));

    if (csession_encode(s, &stored)) {
        fail("csession_encode");
        goto out;
    }
    printf("stored form (%zu bytes): %s\n", stored.size, stored.ptr);

    if (csession_decode(&loaded, stored.ptr, stored.size)) {
        fail("csession_decode");
        goto out;
    }
    csession_get_int64(loaded, "counter", &counter);
    csession_get_string(loaded, "user_id", &user, NULL);
    printf("decoded:                status %s, user_id=%s counter=%lld\n",
           csession_status_name(csession_status(loaded)), user, (long long)counter);

    /* Reading a value as the wrong type is an error, never a conversion. */
    int code = csession_get_int64(loaded, "user_id", &counter);
    printf("user_id as an integer:  %s (%s)\n", csession_strerror(code), csession_last_error());

    csession_insert_int64(loaded, "counter", counter + 1);
    csession_renew(loaded);
    printf("after login (renew):    status %s - the store gives it a new key\n",
           csession_status_name(csession_status(loaded)));
    csession_purge(loaded);
    printf("after logout (purge):   status %s, %zu keys - the cookie gets removed\n",
           csession_status_name(csession_status(loaded)), csession_count(loaded));
    rc = 0;
out:
    csession_buf_dispose(&stored);
    csession_free(loaded);
    csession_free(s);
    return rc;
}
