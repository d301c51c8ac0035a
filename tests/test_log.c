/* The log hook: delivery, levels and payload, turning it off, the thread's
 * last error kept across a handler, replacing a handler while threads log,
 * fork() with a handler under way, and counted events. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "csession.h"
#include "latch.h"
#include "log.h"

/* What a handler saw. */
typedef struct capture {
    pthread_mutex_t lock;
    int count;
    int level;
    char message[1024];
    void *payload_seen;
} capture;

static void capture_init(capture *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
}

static void capture_fn(int level, const char *message, void *payload)
{
    capture *c = payload;
    pthread_mutex_lock(&c->lock);
    c->count++;
    c->level = level;
    snprintf(c->message, sizeof c->message, "%s", message);
    c->payload_seen = payload;
    pthread_mutex_unlock(&c->lock);
}

static void test_delivery(void **state)
{
    (void)state;
    capture c;
    capture_init(&c);
    assert_false(csession__log_on());
    csession__log(CSESSION_LOG_WARN, "nobody listens %d", 1);

    csession_set_log_handler(capture_fn, &c);
    assert_true(csession__log_on());
    csession__log(CSESSION_LOG_WARN, "Redis at %s:%d dropped the connection", "127.0.0.1", 6379);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.level, CSESSION_LOG_WARN);
    assert_string_equal(c.message, "Redis at 127.0.0.1:6379 dropped the connection");
    assert_ptr_equal(c.payload_seen, &c);
    csession__log(CSESSION_LOG_DEBUG, "detail");
    assert_int_equal(c.count, 2);
    assert_int_equal(c.level, CSESSION_LOG_DEBUG);

    /* One line of at most 511 bytes. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    csession__log(CSESSION_LOG_INFO, "%s", big);
    assert_int_equal(strlen(c.message), 511);

    /* Off again: nothing more arrives. */
    csession_set_log_handler(NULL, &c);
    assert_false(csession__log_on());
    csession__log(CSESSION_LOG_ERROR, "after");
    assert_int_equal(c.count, 3);
    pthread_mutex_destroy(&c.lock);
}

static void test_level_names(void **state)
{
    (void)state;
    /* syslog's priorities */
    assert_int_equal(CSESSION_LOG_ERROR, 3);
    assert_int_equal(CSESSION_LOG_WARN, 4);
    assert_int_equal(CSESSION_LOG_INFO, 6);
    assert_int_equal(CSESSION_LOG_DEBUG, 7);
    assert_string_equal(csession_log_level_name(CSESSION_LOG_ERROR), "error");
    assert_string_equal(csession_log_level_name(CSESSION_LOG_WARN), "warn");
    assert_string_equal(csession_log_level_name(CSESSION_LOG_INFO), "info");
    assert_string_equal(csession_log_level_name(CSESSION_LOG_DEBUG), "debug");
    assert_string_equal(csession_log_level_name(0), "unknown");
    assert_string_equal(csession_log_level_name(5), "unknown");
    assert_string_equal(csession_log_level_name(-1), "unknown");
}

/* A handler that fails a library call of its own, and clobbers errno. */
static void meddling_fn(int level, const char *message, void *payload)
{
    (void)level;
    (void)message;
    (*(int *)payload)++;
    csession_config *cfg = NULL;
    assert_int_equal(csession_config_add_key(cfg, NULL, 0), CSESSION_EINVAL);
    errno = EBADF;
}

static void test_handler_keeps_last_error(void **state)
{
    (void)state;
    int calls = 0;
    csession_set_log_handler(meddling_fn, &calls);
    csession__error(CSESSION_ETIMEOUT, "the caller's own failure");
    errno = ETIMEDOUT;
    csession__log(CSESSION_LOG_INFO, "in between");
    assert_int_equal(calls, 1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(csession_last_error_code(), CSESSION_ETIMEOUT);
    assert_string_equal(csession_last_error(), "the caller's own failure");
    csession_set_log_handler(NULL, NULL);
}

/* ---- replacing a handler while threads log ------------------------------------ */

typedef struct live_payload {
    atomic_int in_call;  /* calls under way */
    atomic_int retired;  /* set once the setter that replaced it returned */
    atomic_int late;     /* calls that began after that: must stay 0 */
    atomic_long calls;
} live_payload;

static void live_fn(int level, const char *message, void *payload)
{
    (void)level;
    (void)message;
    live_payload *p = payload;
    atomic_fetch_add(&p->in_call, 1);
    if (atomic_load(&p->retired))
        atomic_fetch_add(&p->late, 1);
    atomic_fetch_add(&p->calls, 1);
    atomic_fetch_sub(&p->in_call, 1);
}

#define LOGGERS 2
#define SWITCHES 1000

static atomic_int stop_logging;
static atomic_long logged;

static void *logger(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_logging)) {
        csession__log(CSESSION_LOG_DEBUG, "message %ld", atomic_fetch_add(&logged, 1));
    }
    return NULL;
}

/* Under ThreadSanitizer this is also the race check of set against log. */
static void test_replace_while_logging(void **state)
{
    (void)state;
    static live_payload payloads[SWITCHES];
    memset(payloads, 0, sizeof payloads);
    atomic_store(&stop_logging, 0);
    atomic_store(&logged, 0);
    pthread_t t[LOGGERS];
    for (int i = 0; i < LOGGERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, logger, NULL), 0);
    long delivered = 0, reached = 0;
    for (int i = 0; i < SWITCHES; i++) {
        live_payload *p = &payloads[i];
        /* Every fourth switch turns logging off in between. */
        csession_set_log_handler(i % 4 == 3 ? NULL : live_fn, p);
        if (i > 0) {
            live_payload *old = &payloads[i - 1];
            assert_int_equal(atomic_load(&old->in_call), 0);
            atomic_store(&old->retired, 1);
        }
        /* Let the loggers reach this handler before the next switch. */
        if (i % 4 != 3) {
            while (atomic_load(&p->calls) == 0)
                ;
        }
    }
    csession_set_log_handler(NULL, NULL);
    atomic_store(&payloads[SWITCHES - 1].retired, 1);
    atomic_store(&stop_logging, 1);
    for (int i = 0; i < LOGGERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < SWITCHES; i++) {
        assert_int_equal(atomic_load(&payloads[i].late), 0);
        delivered += atomic_load(&payloads[i].calls);
        reached += atomic_load(&payloads[i].calls) > 0;
    }
    assert_int_equal(reached, SWITCHES / 4 * 3);
    assert_true(atomic_load(&logged) >= delivered);
}

/* ---- a call under way holds up the setter ------------------------------------- */

static latch entered = LATCH_INIT; /* the handler is running */
static latch release = LATCH_INIT; /* it may return */

/* Stays in the call until released. */
static void blocking_fn(int level, const char *message, void *payload)
{
    (void)level;
    (void)message;
    (void)payload;
    latch_open(&entered);
    latch_wait(&release);
}

static void *log_once(void *arg)
{
    (void)arg;
    csession__log(CSESSION_LOG_INFO, "held");
    return NULL;
}

static int set_done[2]; /* a pipe: one byte once the setter returned */

static void *set_null(void *arg)
{
    (void)arg;
    csession_set_log_handler(NULL, NULL);
    char b = 1;
    assert_int_equal(write(set_done[1], &b, 1), 1);
    return NULL;
}

static void test_setter_waits_for_calls(void **state)
{
    (void)state;
    latch_close(&entered);
    latch_close(&release);
    csession_set_log_handler(blocking_fn, NULL);
    pthread_t in_handler, setter;
    assert_int_equal(pthread_create(&in_handler, NULL, log_once, NULL), 0);
    latch_wait(&entered);
    assert_int_equal(pipe(set_done), 0);
    assert_int_equal(pthread_create(&setter, NULL, set_null, NULL), 0);
    /* The setter must not come back while the old handler runs. Proving
     * that something does not happen takes a bound: 200 ms, in which an
     * unhindered setter would return thousands of times over. */
    struct pollfd pfd = {set_done[0], POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 200), 0);
    assert_false(csession__log_on()); /* already off for new messages */
    latch_open(&release);
    pfd.revents = 0;
    assert_int_equal(poll(&pfd, 1, -1), 1);
    pthread_join(setter, NULL);
    pthread_join(in_handler, NULL);
    close(set_done[0]);
    close(set_done[1]);
}

/* ---- fork() while a handler runs in another thread ------------------------------ */

static void test_fork_with_call_under_way(void **state)
{
    (void)state;
    latch_close(&entered);
    latch_close(&release);
    csession_set_log_handler(blocking_fn, NULL);
    pthread_t in_handler;
    assert_int_equal(pthread_create(&in_handler, NULL, log_once, NULL), 0);
    latch_wait(&entered);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child has no such thread: setting a handler must not wait
         * for its call, and messages must reach the new handler. A
         * watchdog turns a hang into a failure. */
        alarm(20);
        capture c;
        capture_init(&c);
        csession_set_log_handler(capture_fn, &c);
        csession__log(CSESSION_LOG_INFO, "in the child");
        csession_set_log_handler(NULL, NULL);
        _exit(c.count == 1 && strcmp(c.message, "in the child") == 0 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    latch_open(&release);
    pthread_join(in_handler, NULL);
    csession_set_log_handler(NULL, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child: %s %d", WIFSIGNALED(status) ? "killed by signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* ---- counted events ---------------------------------------------------------- */

static void test_counter(void **state)
{
    (void)state;
    static csession__log_counter forged =
        CSESSION__LOG_COUNTER(CSESSION_LOG_WARN, "invalid session cookies ignored");
    /* Counted without a handler, nothing formatted. */
    for (int i = 0; i < 5; i++)
        csession__log_count(&forged);
    assert_int_equal(atomic_load(&forged.total), 5);

    capture c;
    capture_init(&c);
    csession_set_log_handler(capture_fn, &c);
    /* The first report comes at once, with what was counted before. */
    csession__log_count(&forged);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.level, CSESSION_LOG_WARN);
    assert_string_equal(c.message, "invalid session cookies ignored: 6 (further ones are "
                                   "counted, reported at most once every 60 s)");
    /* Then nothing within the interval, however many come. */
    for (int i = 0; i < 1000; i++)
        csession__log_count(&forged);
    assert_int_equal(c.count, 1);
    assert_int_equal(atomic_load(&forged.total), 1006);
    /* Once the interval is over (moved into the past here rather than
     * waited for), the next one reports the count since the last report. */
    atomic_store(&forged.next_ms, 1);
    csession__log_count(&forged);
    assert_int_equal(c.count, 2);
    if (!strstr(c.message, "invalid session cookies ignored: 1001 in the last ") ||
        !strstr(c.message, " s (1007 in all)"))
        fail_msg("unexpected report: %s", c.message);
    csession__log_count(&forged);
    assert_int_equal(c.count, 2);
    csession_set_log_handler(NULL, NULL);
    pthread_mutex_destroy(&c.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_handler_keeps_last_error),
        cmocka_unit_test(test_replace_while_logging),
        cmocka_unit_test(test_setter_waits_for_calls),
        cmocka_unit_test(test_fork_with_call_under_way),
        cmocka_unit_test(test_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
