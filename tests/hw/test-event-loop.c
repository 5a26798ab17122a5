/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O thread's event loop (S8): fd handlers, timers in deadline order,
 * the pv_timer_del()/pv_bh_free() guarantee, bottom halves, and calls from
 * several threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/event-loop.h"
#include "parvm/rcu.h"

/* Poll @cond for up to @ms milliseconds, staying a well-behaved reader. */

static PvEventLoop *new_started_loop(void)
{
    PvEventLoop *loop = pv_event_loop_new();
    if (!loop || pv_event_loop_start(loop) != 0) {
        abort();
    }
    return loop;
}

/* ---- fd handlers ---- */

typedef struct FdCtx {
    PvEventLoop *loop;
    int fd;
    atomic_uint bytes;
    atomic_uint calls;
    atomic_bool wrong_thread;
} FdCtx;

static void fd_read(void *opaque)
{
    FdCtx *c = opaque;
    char buf[64];
    ssize_t r = read(c->fd, buf, sizeof(buf));

    if (!pv_event_loop_in_io_thread(c->loop)) {
        atomic_store(&c->wrong_thread, true);
    }
    atomic_fetch_add(&c->calls, 1);
    if (r > 0) {
        atomic_fetch_add(&c->bytes, (unsigned)r);
    }
}

static void test_fd_handler(void)
{
    PvEventLoop *loop = new_started_loop();
    int p[2];
    FdCtx c = { .loop = loop };

    CHECK(pipe(p) == 0);
    c.fd = p[0];
    CHECK(pv_event_loop_set_fd(loop, p[0], fd_read, NULL, &c) == 0);
    CHECK(write(p[1], "hello", 5) == 5);
    CHECK(WAIT_FOR(atomic_load(&c.bytes) == 5, 2000));
    CHECK(!atomic_load(&c.wrong_thread));
    CHECK(!pv_event_loop_in_io_thread(loop));

    /* Removed: more data is not read. */
    CHECK(pv_event_loop_set_fd(loop, p[0], NULL, NULL, NULL) == 0);
    pv_event_loop_quiesce(loop);
    unsigned calls = atomic_load(&c.calls);
    CHECK(write(p[1], "x", 1) == 1);
    usleep(20000);
    CHECK_EQ_U64(atomic_load(&c.calls), calls);
    CHECK_EQ_U64(atomic_load(&c.bytes), 5);

    /* A bad fd: an error, not a crash. */
    CHECK(pv_event_loop_set_fd(loop, -1, fd_read, NULL, &c) < 0);

    pv_event_loop_free(loop);
    close(p[0]);
    close(p[1]);
}

/* ---- timers ---- */

typedef struct Order {
    atomic_uint n;
    int who[16];
    int64_t at[16];
} Order;

typedef struct TimerArg {
    Order *order;
    int id;
} TimerArg;

static void order_cb(void *opaque)
{
    TimerArg *a = opaque;
    unsigned i = atomic_load(&a->order->n);
    a->order->who[i] = a->id;
    a->order->at[i] = pv_clock_ns();
    atomic_store(&a->order->n, i + 1);  /* publishes who/at */
}

static void test_timers_in_order(void)
{
    PvEventLoop *loop = new_started_loop();
    Order order = { 0 };
    /* ms ahead; ids 2 and 3 share a deadline and are armed 2 then 3.  The
     * first deadline is far enough ahead that arming all five finishes
     * before it even on a loaded machine (or under TSan). */
    const int ms[5] = { 140, 80, 110, 110, 95 };
    const int want[5] = { 1, 4, 2, 3, 0 };
    TimerArg args[5];
    PvTimer *t[5];
    int64_t now = pv_clock_ns();

    for (int i = 0; i < 5; i++) {
        args[i] = (TimerArg){ .order = &order, .id = i };
        t[i] = pv_timer_new(loop, order_cb, &args[i]);
    }
    for (int i = 0; i < 5; i++) {
        pv_timer_mod(t[i], now + ms[i] * PV_NS_PER_MS);
        CHECK(pv_timer_pending(t[i]) || pv_clock_ns() >= now + ms[i] * PV_NS_PER_MS);
    }
    CHECK(WAIT_FOR(atomic_load(&order.n) == 5, 3000));
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_U64(order.who[i], want[i]);
        /* Never early. */
        CHECK(order.at[i] >= now + ms[order.who[i]] * PV_NS_PER_MS);
        CHECK(!pv_timer_pending(t[i]));
    }
    for (int i = 0; i < 5; i++) {
        pv_timer_free(t[i]);
    }
    pv_event_loop_free(loop);
}

static void count_cb(void *opaque)
{
    atomic_fetch_add((atomic_uint *)opaque, 1);
}

static void test_timer_mod_and_cancel(void)
{
    PvEventLoop *loop = new_started_loop();
    atomic_uint fired = 0;
    PvTimer *t = pv_timer_new(loop, count_cb, &fired);

    /* Moved from an hour away to now: fires. */
    pv_timer_mod(t, pv_clock_ns() + 3600 * PV_NS_PER_SEC);
    pv_timer_mod(t, pv_clock_ns() + PV_NS_PER_MS);
    CHECK(WAIT_FOR(atomic_load(&fired) == 1, 2000));

    /* A deadline in the past fires at once. */
    pv_timer_mod(t, 0);
    CHECK(WAIT_FOR(atomic_load(&fired) == 2, 2000));

    /* Cancelled: does not fire. */
    pv_timer_mod(t, pv_clock_ns() + 5 * PV_NS_PER_MS);
    pv_timer_cancel(t);
    CHECK(!pv_timer_pending(t));
    usleep(30000);
    CHECK_EQ_U64(atomic_load(&fired), 2);

    /* Armed on a stopped loop: fires once the loop runs again. */
    pv_event_loop_stop(loop);
    pv_timer_mod(t, pv_clock_ns());
    usleep(10000);
    CHECK_EQ_U64(atomic_load(&fired), 2);
    CHECK(pv_event_loop_start(loop) == 0);
    CHECK(pv_event_loop_start(loop) == -EBUSY);
    CHECK(WAIT_FOR(atomic_load(&fired) == 3, 2000));

    pv_timer_free(t);
    pv_event_loop_free(loop);
}

/* ---- the del guarantee ---- */

typedef struct Slow {
    atomic_int state;   /* 0 idle, 1 running, 2 done */
    atomic_uint runs;
    PvTimer *self;
    bool rearm;
} Slow;

static void slow_cb(void *opaque)
{
    Slow *s = opaque;
    atomic_store(&s->state, 1);
    atomic_fetch_add(&s->runs, 1);
    usleep(50000);
    if (s->rearm) {
        pv_timer_mod(s->self, pv_clock_ns());   /* tries to come back */
    }
    atomic_store(&s->state, 2);
}

static void test_timer_del_waits(void)
{
    PvEventLoop *loop = new_started_loop();
    Slow s = { .rearm = true };

    s.self = pv_timer_new(loop, slow_cb, &s);
    pv_timer_mod(s.self, pv_clock_ns());
    CHECK(WAIT_FOR(atomic_load(&s.state) == 1, 2000));
    pv_timer_del(s.self);
    /* The running callback had finished when del returned... */
    CHECK_EQ_U64(atomic_load(&s.state), 2);
    /* ...and its re-arm was undone: it does not run again. */
    unsigned runs = atomic_load(&s.runs);
    CHECK(!pv_timer_pending(s.self));
    usleep(30000);
    CHECK_EQ_U64(atomic_load(&s.runs), runs);
    pv_timer_free(s.self);
    pv_event_loop_free(loop);
}

/* A callback that frees its own timer must not wait for itself. */
typedef struct SelfFree {
    PvTimer *t;
    atomic_bool done;
} SelfFree;

static void self_free_cb(void *opaque)
{
    SelfFree *s = opaque;
    pv_timer_free(s->t);
    atomic_store(&s->done, true);
}

static void test_timer_freed_by_own_callback(void)
{
    PvEventLoop *loop = new_started_loop();
    SelfFree s = { 0 };

    s.t = pv_timer_new(loop, self_free_cb, &s);
    pv_timer_mod(s.t, pv_clock_ns());
    CHECK(WAIT_FOR(atomic_load(&s.done), 2000));
    pv_event_loop_free(loop);
}

/* ---- bottom halves ---- */

typedef struct BhCtx {
    atomic_uint runs;
    atomic_int state;
} BhCtx;

static void bh_cb(void *opaque)
{
    BhCtx *c = opaque;
    atomic_store(&c->state, 1);
    atomic_fetch_add(&c->runs, 1);
    usleep(20000);
    atomic_store(&c->state, 2);
}

static void test_bottom_halves(void)
{
    PvEventLoop *loop = new_started_loop();
    BhCtx c = { 0 };
    PvBH *bh = pv_bh_new(loop, bh_cb, &c);

    pv_bh_schedule(bh);
    CHECK(WAIT_FOR(atomic_load(&c.runs) == 1, 2000));
    CHECK(WAIT_FOR(atomic_load(&c.state) == 2, 2000));

    /* Scheduled while it runs: runs once more afterwards. */
    atomic_store(&c.state, 0);
    pv_bh_schedule(bh);
    CHECK(WAIT_FOR(atomic_load(&c.state) == 1, 2000));
    pv_bh_schedule(bh);
    CHECK(WAIT_FOR(atomic_load(&c.runs) == 3, 2000));

    /* Freed while running: free waits for it. */
    CHECK(WAIT_FOR(atomic_load(&c.state) == 2, 2000));
    atomic_store(&c.state, 0);
    pv_bh_schedule(bh);
    CHECK(WAIT_FOR(atomic_load(&c.state) == 1, 2000));
    pv_bh_free(bh);
    CHECK_EQ_U64(atomic_load(&c.state), 2);

    /* Freed while only scheduled (loop stopped): never runs. */
    BhCtx d = { 0 };
    pv_event_loop_stop(loop);
    bh = pv_bh_new(loop, bh_cb, &d);
    pv_bh_schedule(bh);
    pv_bh_free(bh);
    CHECK(pv_event_loop_start(loop) == 0);
    usleep(20000);
    CHECK_EQ_U64(atomic_load(&d.runs), 0);
    pv_event_loop_free(loop);
}

/* ---- several threads ---- */

#define NTHREADS 4
#define ROUNDS 300

typedef struct Worker {
    PvEventLoop *loop;
    atomic_uint timer_runs;
    atomic_uint bh_runs;
    pthread_t th;
} Worker;

static void *worker_fn(void *opaque)
{
    Worker *w = opaque;
    PvTimer *t = pv_timer_new(w->loop, count_cb, &w->timer_runs);
    PvBH *bh = pv_bh_new(w->loop, count_cb, &w->bh_runs);

    pv_rcu_register_thread();
    for (unsigned i = 0; i < ROUNDS; i++) {
        pv_timer_mod(t, pv_clock_ns() + 50 * PV_NS_PER_US);
        pv_bh_schedule(bh);
        /* Wait for both, so every arming counts exactly once. */
        if (!WAIT_FOR(atomic_load(&w->timer_runs) == i + 1 &&
                      atomic_load(&w->bh_runs) == i + 1, 5000)) {
            break;
        }
    }
    pv_timer_free(t);
    pv_bh_free(bh);
    pv_rcu_unregister_thread();
    return NULL;
}

static void test_many_threads(void)
{
    PvEventLoop *loop = new_started_loop();
    Worker w[NTHREADS];

    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (Worker){ .loop = loop };
        atomic_init(&w[i].timer_runs, 0);
        atomic_init(&w[i].bh_runs, 0);
        pthread_create(&w[i].th, NULL, worker_fn, &w[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pv_rcu_offline();
        pthread_join(w[i].th, NULL);
        pv_rcu_online();
        CHECK_EQ_U64(atomic_load(&w[i].timer_runs), ROUNDS);
        CHECK_EQ_U64(atomic_load(&w[i].bh_runs), ROUNDS);
    }
    pv_event_loop_free(loop);
}

PV_TEST_MAIN(
    TEST(test_fd_handler),
    TEST(test_timers_in_order),
    TEST(test_timer_mod_and_cancel),
    TEST(test_timer_del_waits),
    TEST(test_timer_freed_by_own_callback),
    TEST(test_bottom_halves),
    TEST(test_many_threads),
)
