/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock validator (S5): each bad pattern is provoked in a child process,
 * which must abort; its message must name the sites involved.  Sites are
 * "file:line"; the child stores the lines it used in shared memory.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "testdev.h"

static PvLockClass class_a = PV_LOCK_CLASS_INIT("class-a", PV_LOCK_KIND_CORE);
static PvLockClass class_b = PV_LOCK_CLASS_INIT("class-b", PV_LOCK_KIND_CORE);
static PvLockClass class_c = PV_LOCK_CLASS_INIT("class-c", PV_LOCK_KIND_CORE);
static PvLockClass class_dev = PV_LOCK_CLASS_INIT("class-dev", PV_LOCK_KIND_DEVICE);
static PvLockClass class_dev2 = PV_LOCK_CLASS_INIT("class-dev2", PV_LOCK_KIND_DEVICE);

static PvMutex a, b, c, dev, dev2, global;
static int *lines;      /* shared with the child: the lines it locked at */

#define LOCK(m, slot)                                                          \
    do {                                                                       \
        lines[slot] = __LINE__; pv_mutex_lock(m);                             \
    } while (0)

typedef struct Outcome {
    bool aborted;
    int exit_code;
    char msg[4096];
} Outcome;

static Outcome run_child(void (*fn)(void))
{
    Outcome o = { 0 };
    int pfd[2];

    memset(lines, 0, 16 * sizeof(int));
    if (pipe(pfd) != 0) {
        abort();
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* liburcu's call_rcu thread does not survive fork(): a child that
         * ends up waiting on it must fail, not hang the suite. */
        alarm(10);
        dup2(pfd[1], 2);
        close(pfd[0]);
        fn();
        _exit(0);
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(pfd[0], o.msg + n, sizeof(o.msg) - 1 - n)) > 0) {
        n += (size_t)r;
    }
    o.msg[n] = '\0';
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    o.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
}

/* The message names "test-validator.c:<line>" for each given slot. */
static void check_names(const Outcome *o, const char *what, const int *slots, int nslots)
{
    if (!o->aborted) {
        printf("# %s: child did not abort (exit %d)\n", what, o->exit_code);
        pv_test_failures++;
        return;
    }
    for (int i = 0; i < nslots; i++) {
        char site[64];
        snprintf(site, sizeof(site), "test-validator.c:%d ", lines[slots[i]]);
        if (!strstr(o->msg, site)) {
            printf("# %s: message does not name %s:\n", what, site);
            for (char *l = strtok((char *)o->msg, "\n"); l; l = strtok(NULL, "\n")) {
                printf("#   %s\n", l);
            }
            pv_test_failures++;
            return;
        }
    }
}

static void inversion_child(void)
{
    LOCK(&a, 0);
    LOCK(&b, 1);
    pv_mutex_unlock(&b);
    pv_mutex_unlock(&a);
    LOCK(&b, 2);
    LOCK(&a, 3);    /* aborts: a -> b was learned at slots 0, 1 */
}

static void test_inversion(void)
{
    Outcome o = run_child(inversion_child);
    static const int slots[] = { 0, 1, 2, 3 };
    check_names(&o, "inversion", slots, 4);
    CHECK(strstr(o.msg, "inversion") != NULL);
}

static void *lock_ab_thread(void *p)
{
    (void)p;
    LOCK(&a, 0);
    LOCK(&b, 1);
    pv_mutex_unlock(&b);
    pv_mutex_unlock(&a);
    return NULL;
}

/* The order learned on one thread holds for all. */
static void cross_thread_child(void)
{
    pthread_t t;
    pthread_create(&t, NULL, lock_ab_thread, NULL);
    pthread_join(t, NULL);
    LOCK(&b, 2);
    LOCK(&a, 3);
}

static void test_inversion_across_threads(void)
{
    Outcome o = run_child(cross_thread_child);
    static const int slots[] = { 0, 1, 2, 3 };
    check_names(&o, "cross-thread inversion", slots, 4);
}

static void cycle_child(void)
{
    LOCK(&a, 0);
    LOCK(&b, 1);
    pv_mutex_unlock(&b);
    pv_mutex_unlock(&a);
    LOCK(&b, 2);
    LOCK(&c, 3);
    pv_mutex_unlock(&c);
    pv_mutex_unlock(&b);
    LOCK(&c, 4);
    LOCK(&a, 5);    /* closes a -> b -> c -> a */
}

static void test_cycle_of_three(void)
{
    Outcome o = run_child(cycle_child);
    static const int slots[] = { 0, 1, 2, 3, 4, 5 };
    check_names(&o, "three-class cycle", slots, 6);
}

static void self_child(void)
{
    LOCK(&a, 0);
    LOCK(&a, 1);
}

static void test_self_deadlock(void)
{
    Outcome o = run_child(self_child);
    static const int slots[] = { 0, 1 };
    check_names(&o, "self-deadlock", slots, 2);
    CHECK(strstr(o.msg, "self-deadlock") != NULL);
}

static void global_then_device_child(void)
{
    LOCK(&global, 0);
    LOCK(&dev, 1);  /* forbidden the first time it happens */
}

static void test_global_then_device_forbidden(void)
{
    Outcome o = run_child(global_then_device_child);
    static const int slots[] = { 0, 1 };
    check_names(&o, "global then device", slots, 2);
    CHECK(strstr(o.msg, "forbidden") != NULL);
}

static void same_class_child(void)
{
    LOCK(&dev, 0);
    LOCK(&dev2, 1);     /* different class: fine */
    pv_mutex_unlock(&dev2);
    static PvMutex other;
    pv_mutex_init(&other, &class_dev);
    LOCK(&other, 2);    /* second instance of dev's class */
}

static void test_same_class_nesting(void)
{
    Outcome o = run_child(same_class_child);
    static const int slots[] = { 0, 2 };
    check_names(&o, "same-class nesting", slots, 2);
}

/* Allowed patterns must not abort: device -> global, trylock under the
 * global lock, and the same order repeated. */
static void allowed_child(void)
{
    for (int i = 0; i < 3; i++) {
        LOCK(&dev, 0);
        LOCK(&global, 1);
        pv_mutex_unlock(&global);
        pv_mutex_unlock(&dev);
    }
    LOCK(&global, 2);
    if (pv_mutex_trylock(&dev)) {
        pv_mutex_unlock(&dev);
    }
    pv_mutex_unlock(&global);
    /* trylock b then a -> b: no b -> a edge was learned from the trylock */
    LOCK(&a, 3);
    LOCK(&b, 4);
    pv_mutex_unlock(&b);
    pv_mutex_unlock(&a);
    if (pv_mutex_trylock(&b)) {
        if (pv_mutex_trylock(&a)) {
            pv_mutex_unlock(&a);
        }
        pv_mutex_unlock(&b);
    }
    _exit(pv_locks_held() == 0 ? 7 : 8);
}

static void test_allowed_orders(void)
{
    Outcome o = run_child(allowed_child);
    CHECK(!o.aborted);
    CHECK_EQ_U64(o.exit_code, 7);
    if (o.aborted) {
        printf("# %s", o.msg);
    }
}

/* Children run on the forking thread, already an RCU reader. */
static void wait_under_lock_child(void)
{
    LOCK(&a, 0);
    lines[1] = __LINE__; pv_synchronize_rcu();
}

static void test_grace_period_under_lock(void)
{
    Outcome o = run_child(wait_under_lock_child);
    static const int slots[] = { 0, 1 };
    check_names(&o, "grace period under a lock", slots, 2);
}

/* Unrealize from inside a handler would wait for a grace period inside a
 * read-side section: refused loudly (the hotplug eject path defers it). */
static void unrealize_hook(TestDev *td, hwaddr off, bool is_write)
{
    (void)off;
    if (is_write) {
        pv_device_unrealize(&td->dev);
    }
}

static void unrealize_in_handler_child(void)
{
    Fixture f;
    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "x", PV_DISPATCH_LOCKLESS, 1, 8, false);
    td->hook = unrealize_hook;
    fixture_map(&f, &td->mr, 0x1000);
    address_space_write(&f.as, 0x1000, 4, 1);
}

static void test_unrealize_inside_dispatch(void)
{
    Outcome o = run_child(unrealize_in_handler_child);
    CHECK(o.aborted);
    CHECK(strstr(o.msg, "inside a dispatch") != NULL);
}

/* A handler that goes offline (say, around a condition wait) would let a
 * grace period end under its own dispatch: refused. */
static void offline_hook(TestDev *td, hwaddr off, bool is_write)
{
    (void)td;
    (void)off;
    if (is_write) {
        pv_rcu_offline();
    }
}

static void offline_in_handler_child(void)
{
    Fixture f;
    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "y", PV_DISPATCH_LOCKLESS, 1, 8, false);
    td->hook = offline_hook;
    fixture_map(&f, &td->mr, 0x1000);
    address_space_write(&f.as, 0x1000, 4, 1);
}

static void test_offline_inside_dispatch(void)
{
    Outcome o = run_child(offline_in_handler_child);
    CHECK(o.aborted);
    CHECK(strstr(o.msg, "inside a dispatch") != NULL);
}

static void setup(void)
{
    lines = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pv_mutex_init(&a, &class_a);
    pv_mutex_init(&b, &class_b);
    pv_mutex_init(&c, &class_c);
    pv_mutex_init(&dev, &class_dev);
    pv_mutex_init(&dev2, &class_dev2);
    pv_mutex_init(&global, &pv_global_lock_class);
}

static void test_setup(void)
{
    setup();
    CHECK(lines != MAP_FAILED);
}

PV_TEST_MAIN(TEST(test_setup), TEST(test_inversion), TEST(test_inversion_across_threads),
             TEST(test_cycle_of_three), TEST(test_self_deadlock),
             TEST(test_global_then_device_forbidden), TEST(test_same_class_nesting),
             TEST(test_allowed_orders), TEST(test_grace_period_under_lock),
             TEST(test_unrealize_inside_dispatch), TEST(test_offline_inside_dispatch))
