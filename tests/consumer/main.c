/* Uses the installed library: a session round trip through the stored form. */
#include <csession.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    csession *s = NULL, *back = NULL;
    csession_buf buf = CSESSION_BUF_INIT;
    int64_t n = 0;
    if (csession_new(&s) || csession_insert_int64(s, "n", 41) || csession_encode(s, &buf) ||
        csession_decode(&back, buf.ptr, buf.size) || csession_get_int64(back, "n", &n) || n != 41) {
        fprintf(stderr, "consumer: %s\n", csession_last_error());
        return 1;
    }
    printf("csession %s: %s\n", csession_version(), buf.ptr);
    csession_buf_dispose(&buf);
    csession_free(back);
    csession_free(s);
    return 0;
}
