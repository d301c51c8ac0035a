/*
 * The contract of csession/loop.h, checked on one loop (the name of which
 * is the first argument: poll, uv, event, ev): level-triggered watchers on
 * socketpairs, io_set replacing and pausing, one-shot timers in order,
 * timer_set(0) never inside the call and never starving the sockets,
 * re-arming, cancelling, and no callback once a handle is closed, also
 * when it was already due in the same turn (the ASan build checks the
 * memory side of that).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop_adapters.h"

static const char *loop_name;
static conformance_loop cl;
static int turn; /* turns of the loop so far in this test */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int setup(void **state)
{
    (void)state;
    return loop_adapter_create(&cl, loop_name);
}

static int teardown(void **state)
{
    (void)state;
    loop_adapter_destroy(&cl);
    return 0;
}

static csession_loop *L(void)
{
    return cl.loop;
}

/* One turn of the loop. */
static void turn_once(void)
{
    turn++;
    assert_int_equal(cl.run_once(cl.ctx), 0);
}

/* ---- helpers --------------------------------------------------------------- */

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void put(int fd, size_t n)
{
    char buf[64];
    memset(buf, 'x', sizeof buf);
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        assert_int_equal(write(fd, buf, k), (ssize_t)k);
        n -= k;
    }
}

static void drain(int fd, size_t n)
{
    char buf[64];
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        assert_int_equal(read(fd, buf, k), (ssize_t)k);
        n -= k;
    }
}

static void flag_cb(void *arg)
{
    *(int *)arg = 1;
}

/* Turns the loop until *v is above `above`, failing after `limit_ms`. */
static void run_until_above(const int *v, int above, int limit_ms)
{
    int expired = 0;
    void *guard = L()->timer_open(L(), flag_cb, &expired);
    assert_non_null(guard);
    assert_int_equal(L()->timer_set(L(), guard, (uint64_t)limit_ms), 0);
    while (*v <= above && !expired)
        turn_once();
    L()->timer_close(L(), guard);
    if (*v <= above)
        fail_msg("%s: nothing happened within %d ms", loop_name, limit_ms);
}

/* Turns the loop until *flag is set, failing after `limit_ms`. */
static void run_until(const int *flag, int limit_ms)
{
    run_until_above(flag, 0, limit_ms);
}

/* Turns the loop for `ms` (until a timer of that length fires). */
static void run_for(int ms)
{
    int done = 0;
    void *t = L()->timer_open(L(), flag_cb, &done);
    assert_non_null(t);
    assert_int_equal(L()->timer_set(L(), t, (uint64_t)ms), 0);
    while (!done)
        turn_once();
    L()->timer_close(L(), t);
}

/* What a watcher saw. */
typedef struct io_rec {
    void *io;
    int fd;
    int count;
    unsigned int last;     /* events of the last callback */
    unsigned int seen;     /* every event bit seen */
    int close_in_cb;       /* io_close itself in its callback */
    void *close_other;     /* a watcher to close from the callback */
    struct io_rec *other;  /* its record (its io set to NULL once closed) */
    size_t drain_bytes;    /* read this many bytes in the callback */
} io_rec;

static void io_cb(void *arg, int fd, unsigned int events)
{
    io_rec *r = arg;
    assert_int_equal(fd, r->fd);
    assert_non_null(r->io); /* never after io_close */
    r->count++;
    r->last = events;
    r->seen |= events;
    if (r->drain_bytes) {
        drain(fd, r->drain_bytes);
        r->drain_bytes = 0;
    }
    if (r->close_other) {
        L()->io_close(L(), r->close_other);
        r->other->io = NULL;
        r->close_other = NULL;
    }
    if (r->close_in_cb) {
        L()->io_close(L(), r->io);
        r->io = NULL;
    }
}

static void watch(io_rec *r, int fd, unsigned int events)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->io = L()->io_open(L(), fd, io_cb, r);
    assert_non_null(r->io);
    assert_int_equal(L()->io_set(L(), r->io, events), 0);
}

static void unwatch(io_rec *r)
{
    if (r->io)
        L()->io_close(L(), r->io);
    r->io = NULL;
}

/* What a timer saw. */
typedef struct timer_rec {
    void *t;
    int count;
    double armed_at, fired_at;
    int fired_turn;
    uint64_t ms;
    int *order;           /* appends `id` at *order_n when it fires */
    int *order_n;
    int id;
    int rearm_times;      /* re-arm itself with `ms` this many more times */
    int close_in_cb;
    void *cancel_other;   /* a timer to cancel from the callback */
    void *close_other;    /* a timer to close from the callback */
    struct timer_rec *other;
} timer_rec;

static void timer_cb(void *arg)
{
    timer_rec *r = arg;
    assert_non_null(r->t); /* never after timer_close */
    r->count++;
    r->fired_at = now_ms();
    r->fired_turn = turn;
    if (r->order)
        r->order[(*r->order_n)++] = r->id;
    if (r->cancel_other) {
        L()->timer_cancel(L(), r->cancel_other);
        r->cancel_other = NULL;
    }
    if (r->close_other) {
        L()->timer_close(L(), r->close_other);
        r->other->t = NULL;
        r->close_other = NULL;
    }
    if (r->rearm_times > 0) {
        r->rearm_times--;
        r->armed_at = now_ms();
        assert_int_equal(L()->timer_set(L(), r->t, r->ms), 0);
    }
    if (r->close_in_cb) {
        L()->timer_close(L(), r->t);
        r->t = NULL;
    }
}

static void timer(timer_rec *r)
{
    memset(r, 0, sizeof *r);
    r->t = L()->timer_open(L(), timer_cb, r);
    assert_non_null(r->t);
}

static void arm(timer_rec *r, uint64_t ms)
{
    r->ms = ms;
    r->armed_at = now_ms();
    assert_int_equal(L()->timer_set(L(), r->t, ms), 0);
}

static void untimer(timer_rec *r)
{
    if (r->t)
        L()->timer_close(L(), r->t);
    r->t = NULL;
}

/* ---- watchers ------------------------------------------------------------- */

static void test_read_readiness(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ);
    run_for(30);
    assert_int_equal(r.count, 0); /* nothing to read yet */

    put(sv[1], 1);
    run_until(&r.count, 2000);
    assert_true(r.last & CSESSION_IO_READ);
    assert_false(r.last & CSESSION_IO_WRITE); /* not asked for */
    unwatch(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_write_readiness(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_WRITE);
    run_until(&r.count, 2000);
    assert_true(r.last & CSESSION_IO_WRITE);
    assert_false(r.last & CSESSION_IO_READ);
    unwatch(&r);

    /* A full send buffer is not writable until the peer reads. */
    size_t filled = 0;
    char buf[4096];
    memset(buf, 'y', sizeof buf);
    for (;;) {
        ssize_t n = send(sv[0], buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        filled += (size_t)n;
    }
    watch(&r, sv[0], CSESSION_IO_WRITE);
    run_for(30);
    assert_int_equal(r.count, 0);
    while (filled > 0) {
        ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
        assert_true(n > 0);
        filled -= (size_t)n;
    }
    run_until(&r.count, 2000);
    assert_true(r.last & CSESSION_IO_WRITE);
    unwatch(&r);
    close(sv[0]);
    close(sv[1]);
}

/* Unread data keeps the watcher firing, turn after turn, until read. */
static void test_level_triggered(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ);
    put(sv[1], 1);
    for (int k = 1; k <= 5; k++) {
        int before = r.count;
        run_until_above(&r.count, before, 2000);
        assert_int_equal(r.count, k);
    }
    r.drain_bytes = 1;
    int before = r.count;
    run_until_above(&r.count, before, 2000);
    int after_drain = r.count;
    run_for(30);
    assert_int_equal(r.count, after_drain); /* quiet once read */
    unwatch(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_set_zero_pauses(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ);
    put(sv[1], 1);
    run_until(&r.count, 2000);
    assert_int_equal(L()->io_set(L(), r.io, 0), 0);
    int paused_at = r.count;
    run_for(30);
    assert_int_equal(r.count, paused_at);
    assert_int_equal(L()->io_set(L(), r.io, CSESSION_IO_READ), 0);
    run_until_above(&r.count, paused_at, 2000);
    assert_true(r.last & CSESSION_IO_READ);
    unwatch(&r);
    close(sv[0]);
    close(sv[1]);
}

/* io_set replaces what is watched instead of adding to it. */
static void test_set_replaces(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ | CSESSION_IO_WRITE);
    put(sv[1], 1);
    run_until(&r.count, 2000);
    while (r.seen != (CSESSION_IO_READ | CSESSION_IO_WRITE) && r.count < 10)
        turn_once();
    assert_int_equal(r.seen, CSESSION_IO_READ | CSESSION_IO_WRITE);

    assert_int_equal(L()->io_set(L(), r.io, CSESSION_IO_WRITE), 0);
    r.seen = 0;
    int before = r.count;
    for (int i = 0; i < 3; i++)
        turn_once();
    assert_true(r.count > before);
    assert_int_equal(r.seen, CSESSION_IO_WRITE); /* readable, but not watched */

    assert_int_equal(L()->io_set(L(), r.io, CSESSION_IO_READ), 0);
    r.seen = 0;
    before = r.count;
    for (int i = 0; i < 3; i++)
        turn_once();
    assert_true(r.count > before);
    assert_int_equal(r.seen, CSESSION_IO_READ);
    unwatch(&r);
    close(sv[0]);
    close(sv[1]);
}

/* The peer's close is readable (end of file). */
static void test_hangup_is_readable(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ);
    close(sv[1]);
    run_until(&r.count, 2000);
    assert_true(r.last & CSESSION_IO_READ);
    char c;
    assert_int_equal(read(sv[0], &c, 1), 0);
    unwatch(&r);
    close(sv[0]);
}

static void test_close_in_own_callback(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_READ | CSESSION_IO_WRITE);
    r.close_in_cb = 1;
    put(sv[1], 1); /* stays unread: level-triggered, it would fire again */
    run_until(&r.count, 2000);
    assert_null(r.io);
    run_for(30);
    assert_int_equal(r.count, 1);
    close(sv[0]);
    close(sv[1]);
}

/* Two watchers ready in the same turn: the first to run closes the other,
 * whose callback must then not run, though its event was already in. */
static void test_close_other_due_in_same_turn(void **state)
{
    (void)state;
    int a[2], b[2];
    pair(a);
    pair(b);
    io_rec ra, rb;
    watch(&ra, a[0], CSESSION_IO_WRITE);
    watch(&rb, b[0], CSESSION_IO_WRITE);
    ra.close_other = rb.io;
    ra.other = &rb;
    rb.close_other = ra.io;
    rb.other = &ra;
    int any = 0;
    while (!any) {
        turn_once();
        any = ra.count + rb.count;
    }
    assert_int_equal(ra.count + rb.count, 1);
    io_rec *left = ra.io ? &ra : &rb;
    assert_non_null(left->io);
    assert_null((left == &ra ? &rb : &ra)->io);
    /* The survivor keeps firing, the closed one stays silent. */
    int n = left->count;
    run_until_above(&left->count, n + 1, 2000);
    assert_int_equal(ra.count + rb.count, left->count);
    unwatch(left);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* A descriptor's watcher closed and a new one opened in the same turn (a
 * state machine handing its socket over): only the new one fires. */
static void test_reopen_same_fd(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    io_rec old, neu;
    watch(&old, sv[0], CSESSION_IO_READ);
    put(sv[1], 1);
    run_until(&old.count, 2000);
    unwatch(&old);
    int old_count = old.count;
    watch(&neu, sv[0], CSESSION_IO_READ);
    run_until(&neu.count, 2000);
    assert_int_equal(old.count, old_count);
    unwatch(&neu);
    close(sv[0]);
    close(sv[1]);
}

/* ---- timers ------------------------------------------------------------- */

static void test_timer_order(void **state)
{
    (void)state;
    int order[3], n = 0;
    timer_rec t[3];
    const uint64_t ms[3] = {60, 20, 40};
    for (int i = 0; i < 3; i++) {
        timer(&t[i]);
        t[i].id = i;
        t[i].order = order;
        t[i].order_n = &n;
        arm(&t[i], ms[i]);
    }
    run_until(&t[0].count, 2000);
    assert_int_equal(n, 3);
    /* A later expiry never runs in an earlier turn. Timers due together
     * (a turn late by 20 ms or more on a busy machine) may run in any
     * order: loop.h promises nothing there. */
    assert_true(t[1].fired_turn <= t[2].fired_turn);
    assert_true(t[2].fired_turn <= t[0].fired_turn);
    if (t[1].fired_turn < t[2].fired_turn)
        assert_int_equal(order[0], 1);
    if (t[2].fired_turn < t[0].fired_turn)
        assert_int_equal(order[2], 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t[i].count, 1); /* one-shot */
        /* Never early (1 ms: loops that count in whole milliseconds). */
        double waited = t[i].fired_at - t[i].armed_at;
        if (waited < (double)ms[i] - 1.0)
            fail_msg("%s: a %d ms timer fired after %.2f ms", loop_name, (int)ms[i], waited);
    }
    run_for(80);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t[i].count, 1);
        untimer(&t[i]);
    }
}

static void test_timer_zero_not_inside_call(void **state)
{
    (void)state;
    timer_rec t;
    timer(&t);
    arm(&t, 0);
    assert_int_equal(t.count, 0);
    run_until(&t.count, 2000);
    assert_int_equal(t.count, 1);
    untimer(&t);
}

/* Armed with 0 from a watcher's callback: not inside the call either. */
typedef struct arm_from_io {
    timer_rec *t;
    int fired_inside;
    int done;
    void *io;
} arm_from_io;

static void arm_io_cb(void *arg, int fd, unsigned int events)
{
    (void)fd;
    (void)events;
    arm_from_io *a = arg;
    if (a->done)
        return;
    a->done = 1;
    assert_int_equal(L()->timer_set(L(), a->t->t, 0), 0);
    a->fired_inside = a->t->count;
    assert_int_equal(L()->io_set(L(), a->io, 0), 0);
}

static void test_timer_zero_from_io_callback(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    timer_rec t;
    timer(&t);
    arm_from_io a = {&t, 0, 0, NULL};
    a.io = L()->io_open(L(), sv[0], arm_io_cb, &a);
    assert_non_null(a.io);
    assert_int_equal(L()->io_set(L(), a.io, CSESSION_IO_WRITE), 0);
    run_until(&a.done, 2000);
    assert_int_equal(a.fired_inside, 0);
    run_until(&t.count, 2000);
    L()->io_close(L(), a.io);
    untimer(&t);
    close(sv[0]);
    close(sv[1]);
}

/* A timer that re-arms itself with 0 from its callback runs once per turn:
 * the sockets still get their turn (a deferred completion that defers
 * again must not freeze the loop). */
static void test_timer_zero_chain_does_not_starve_io(void **state)
{
    (void)state;
    int sv[2];
    pair(sv);
    timer_rec t;
    timer(&t);
    t.rearm_times = 1000;
    arm(&t, 0);
    io_rec r;
    watch(&r, sv[0], CSESSION_IO_WRITE);
    run_until(&r.count, 5000);
    if (t.count >= 100)
        fail_msg("%s: a timer re-armed with 0 ran %d times before a ready socket ran",
                 loop_name, t.count);
    unwatch(&r);
    untimer(&t);
    close(sv[0]);
    close(sv[1]);
}

static void test_timer_rearm(void **state)
{
    (void)state;
    timer_rec t;
    timer(&t);
    /* Later to sooner: the new expiry replaces the old. */
    arm(&t, 400);
    arm(&t, 10);
    double start = now_ms();
    run_until(&t.count, 2000);
    assert_true(t.fired_at - start < 300);
    /* Sooner to later: not at the first expiry either. */
    arm(&t, 10);
    arm(&t, 60);
    run_until_above(&t.count, 1, 2000);
    double waited = t.fired_at - t.armed_at;
    if (waited < 59.0)
        fail_msg("%s: re-armed to 60 ms, fired after %.2f ms", loop_name, waited);
    /* Re-armed from its own callback: fires again. */
    t.rearm_times = 2;
    arm(&t, 5);
    run_until_above(&t.count, 4, 2000);
    run_for(40);
    assert_int_equal(t.count, 5);
    untimer(&t);
}

static void test_timer_cancel(void **state)
{
    (void)state;
    timer_rec t;
    timer(&t);
    L()->timer_cancel(L(), t.t); /* not armed: a no-op */
    arm(&t, 10);
    L()->timer_cancel(L(), t.t);
    run_for(50);
    assert_int_equal(t.count, 0);
    /* Usable again after a cancel. */
    arm(&t, 0);
    run_until(&t.count, 2000);
    untimer(&t);
}

/* Two timers due in the same turn: the first to run cancels (or closes)
 * the other, which must then not run. */
static void cross_timers(int close_it)
{
    timer_rec a, b;
    timer(&a);
    timer(&b);
    if (close_it) {
        a.close_other = b.t;
        b.close_other = a.t;
    } else {
        a.cancel_other = b.t;
        b.cancel_other = a.t;
    }
    a.other = &b;
    b.other = &a;
    arm(&a, 0);
    arm(&b, 0);
    int any = 0;
    while (!any) {
        turn_once();
        any = a.count + b.count;
    }
    run_for(30);
    assert_int_equal(a.count + b.count, 1);
    untimer(&a);
    untimer(&b);
}

static void test_timer_cancel_other_due(void **state)
{
    (void)state;
    cross_timers(0);
}

static void test_timer_close_other_due(void **state)
{
    (void)state;
    cross_timers(1);
}

static void test_timer_close_in_own_callback(void **state)
{
    (void)state;
    timer_rec t;
    timer(&t);
    t.close_in_cb = 1;
    t.rearm_times = 1; /* armed again, then closed: must not fire again */
    arm(&t, 0);
    run_until(&t.count, 2000);
    assert_null(t.t);
    run_for(30);
    assert_int_equal(t.count, 1);
}

/* Closed while armed (never ran): never runs. */
static void test_timer_close_armed(void **state)
{
    (void)state;
    timer_rec t;
    timer(&t);
    arm(&t, 0);
    untimer(&t);
    run_for(30);
    assert_int_equal(t.count, 0);
}

/* ---- many handles ---------------------------------------------------------- */

#define MANY_PAIRS 200
#define MANY_TIMERS 500

static void test_many_handles(void **state)
{
    (void)state;
    static int sv[MANY_PAIRS][2];
    static io_rec r[MANY_PAIRS];
    for (int i = 0; i < MANY_PAIRS; i++) {
        pair(sv[i]);
        watch(&r[i], sv[i][0], CSESSION_IO_READ);
        r[i].close_in_cb = 1;
    }
    for (int i = 0; i < MANY_PAIRS; i += 2) /* half of them readable */
        put(sv[i][1], 1);

    static timer_rec t[MANY_TIMERS];
    static int order[MANY_TIMERS];
    int n = 0;
    srand(7);
    for (int i = 0; i < MANY_TIMERS; i++) {
        timer(&t[i]);
        t[i].id = i;
        t[i].order = order;
        t[i].order_n = &n;
        t[i].close_in_cb = i % 2;
        arm(&t[i], (uint64_t)(rand() % 40));
    }
    int all = 0, expired = 0;
    void *guard = L()->timer_open(L(), flag_cb, &expired);
    assert_non_null(guard);
    assert_int_equal(L()->timer_set(L(), guard, 10000), 0);
    while (!all && !expired) {
        turn_once();
        int fired = 0;
        for (int i = 0; i < MANY_PAIRS; i += 2)
            fired += r[i].count;
        all = n == MANY_TIMERS && fired == MANY_PAIRS / 2;
    }
    L()->timer_close(L(), guard);
    assert_true(all);
    run_for(50);
    for (int i = 0; i < MANY_PAIRS; i++) {
        assert_int_equal(r[i].count, i % 2 == 0 ? 1 : 0);
        unwatch(&r[i]);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    /* Each fired once and none early (1 ms of slack for loops that count
     * in whole milliseconds); their order is test_timer_order's. */
    for (int i = 0; i < MANY_TIMERS; i++) {
        assert_int_equal(t[i].count, 1);
        assert_true(t[i].fired_at - t[i].armed_at >= (double)t[i].ms - 1.0);
        untimer(&t[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s poll|uv|event|ev\n", argv[0]);
        return 2;
    }
    loop_name = argv[1];
    conformance_loop probe;
    if (loop_adapter_create(&probe, loop_name) != 0) {
        fprintf(stderr, "%s: no such loop in this build\n", loop_name);
        return 2;
    }
    loop_adapter_destroy(&probe);

    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_read_readiness),
        T(test_write_readiness),
        T(test_level_triggered),
        T(test_set_zero_pauses),
        T(test_set_replaces),
        T(test_hangup_is_readable),
        T(test_close_in_own_callback),
        T(test_close_other_due_in_same_turn),
        T(test_reopen_same_fd),
        T(test_timer_order),
        T(test_timer_zero_not_inside_call),
        T(test_timer_zero_from_io_callback),
        T(test_timer_zero_chain_does_not_starve_io),
        T(test_timer_rearm),
        T(test_timer_cancel),
        T(test_timer_cancel_other_due),
        T(test_timer_close_other_due),
        T(test_timer_close_in_own_callback),
        T(test_timer_close_armed),
        T(test_many_handles),
#undef T
    };
    char group[64];
    snprintf(group, sizeof group, "loop_%s", loop_name);
    return cmocka_run_group_tests_name(group, tests, NULL, NULL);
}
