/* Fork guards: no reset in the process that made the object; exactly one in
 * a child however many of its threads arrive at once, which then finds the
 * object's lock usable although a thread of the parent held it at the
 * fork; one more in a grandchild. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fork_guard.h"
#include "latch.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

/* An object with a lock that must be made again after a fork. */
typedef struct object {
    csession__fork_guard guard;
    pthread_mutex_t lock;
    atomic_int resets;
    int value; /* under `lock` */
} object;

#define CHILD_THREADS 4
static atomic_int announced; /* child threads about to check */

static void reset(void *p)
{
    object *o = p;
    /* Hold the first reset until every child thread is on its way into the
     * check: they then find the old generation and queue for the reset
     * lock, and must not reset again once they get it. */
    while (atomic_load(&announced) < CHILD_THREADS)
        ;
    pthread_mutex_init(&o->lock, NULL);
    atomic_fetch_add(&o->resets, 1);
}

static void object_init(object *o)
{
    memset(o, 0, sizeof *o);
    csession__fork_guard_init(&o->guard);
    pthread_mutex_init(&o->lock, NULL);
}

/* What a user of the object does first. */
static void use(object *o)
{
    csession__fork_guard_check(&o->guard, reset, o);
    pthread_mutex_lock(&o->lock);
    o->value++;
    pthread_mutex_unlock(&o->lock);
}

static int exit_code(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static void test_no_reset_without_fork(void **state)
{
    (void)state;
    atomic_store(&announced, CHILD_THREADS);
    object o;
    object_init(&o);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(csession__fork_guard_check(&o.guard, reset, &o), 0);
    use(&o);
    assert_int_equal(atomic_load(&o.resets), 0);
}

/* ---- a child with several threads, and a grandchild ----------------------------- */

static object shared;
static pthread_barrier_t start;
static atomic_int ran_reset; /* checks that reported running the reset */

static void *child_thread(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    atomic_fetch_add(&announced, 1);
    if (csession__fork_guard_check(&shared.guard, reset, &shared))
        atomic_fetch_add(&ran_reset, 1);
    pthread_mutex_lock(&shared.lock);
    shared.value++;
    pthread_mutex_unlock(&shared.lock);
    return NULL;
}

/* In the child: CHILD_THREADS threads at once, then a grandchild. */
static int child_main(void)
{
    alarm(20); /* a hang on the inherited lock becomes a failure */
    pthread_barrier_init(&start, NULL, CHILD_THREADS);
    pthread_t t[CHILD_THREADS];
    for (int i = 0; i < CHILD_THREADS; i++)
        pthread_create(&t[i], NULL, child_thread, NULL);
    for (int i = 0; i < CHILD_THREADS; i++)
        pthread_join(t[i], NULL);
    if (atomic_load(&shared.resets) != 1 || atomic_load(&ran_reset) != 1)
        return 2;
    if (shared.value != CHILD_THREADS)
        return 3;
    /* Valid here now: no second reset. */
    if (csession__fork_guard_check(&shared.guard, reset, &shared) != 0)
        return 4;
    pid_t pid = fork();
    if (pid < 0)
        return 5;
    if (pid == 0) {
        use(&shared);
        _exit(atomic_load(&shared.resets) == 2 ? 0 : 6);
    }
    int code = exit_code(pid);
    if (code != 0)
        return code;
    /* The grandchild's reset is its own. */
    return atomic_load(&shared.resets) == 1 ? 0 : 7;
}

static latch holding = LATCH_INIT;
static latch release = LATCH_INIT;

/* Holds the object's lock until released. */
static void *hold(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&shared.lock);
    latch_open(&holding);
    latch_wait(&release);
    pthread_mutex_unlock(&shared.lock);
    return NULL;
}

static void test_child_resets_once(void **state)
{
    (void)state;
#ifdef UNDER_TSAN
    /* ThreadSanitizer cannot start threads in the child of a process that
     * had several: it would stop the child. */
    skip();
#endif
    atomic_store(&announced, 0);
    object_init(&shared);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold, NULL), 0);
    latch_wait(&holding);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_main());
    int code = exit_code(pid);

    latch_open(&release);
    pthread_join(t, NULL);
    assert_int_equal(code, 0);
    /* The parent's object is as it was. */
    assert_int_equal(csession__fork_guard_check(&shared.guard, reset, &shared), 0);
    assert_int_equal(atomic_load(&shared.resets), 0);
    use(&shared);
    assert_int_equal(shared.value, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_reset_without_fork),
        cmocka_unit_test(test_child_resets_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
