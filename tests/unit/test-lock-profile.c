/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock profiler (S11): acquisitions, contended acquisitions, wait and
 * hold time per (class, call site), summed over live and exited threads;
 * and per-region access counters by outcome.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "harness.h"
#include "testdev.h"

static PvLockClass prof_class = PV_LOCK_CLASS_INIT("profiled", PV_LOCK_KIND_CORE);
static PvMutex prof_lock;
static int hold_line, contend_line;

static void sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void *holder(void *p)
{
    atomic_int *phase = p;
    hold_line = __LINE__; pv_mutex_lock(&prof_lock);
    atomic_store(phase, 1);
    /* Hold until the main thread is about to contend, then a while longer
     * so that it really waits (no assertion depends on how long). */
    while (atomic_load(phase) != 2) {
        sleep_ms(1);
    }
    sleep_ms(30);
    pv_mutex_unlock(&prof_lock);
    return NULL;
}

static const PvLockProfileEntry *find(const PvLockProfileEntry *e, size_t n, int line)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(e[i].class_name, "profiled") && e[i].site->line == line &&
            strstr(e[i].site->file, "test-lock-profile.c")) {
            return &e[i];
        }
    }
    return NULL;
}

static void test_contention_and_hold_time(void)
{
    atomic_int phase = 0;
    pthread_t t;

    pv_mutex_init(&prof_lock, &prof_class);
    pthread_create(&t, NULL, holder, &phase);
    while (!atomic_load(&phase)) {
        sleep_ms(1);
    }
    atomic_store(&phase, 2);
    contend_line = __LINE__; pv_mutex_lock(&prof_lock);  /* waits ~30 ms */
    pv_mutex_unlock(&prof_lock);
    pthread_join(t, NULL);      /* the holder's table is folded at exit */

    PvLockProfileEntry *e;
    size_t n = pv_lock_profile(&e);
    const PvLockProfileEntry *h = find(e, n, hold_line);
    const PvLockProfileEntry *c = find(e, n, contend_line);
    CHECK(h != NULL);
    CHECK(c != NULL);
    if (h && c) {
        CHECK_EQ_U64(h->acquisitions, 1);
        CHECK_EQ_U64(h->contended, 0);
        CHECK(h->hold_ns >= 20 * 1000000ull);
        CHECK_EQ_U64(c->acquisitions, 1);
        CHECK_EQ_U64(c->contended, 1);
        CHECK(c->wait_ns > 0);
        CHECK(c->hold_ns < h->hold_ns);
    }
    free(e);
    pv_mutex_destroy(&prof_lock);
}

/* The global lock taken by dispatch shows up under dispatch's call site. */
static void test_dispatch_sites_profiled(void)
{
    Fixture f;
    uint64_t v;

    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "prof", PV_DISPATCH_GLOBAL, 1, 8, false);
    fixture_map(&f, &td->mr, 0x1000);

    PvLockProfileEntry *e;
    size_t n = pv_lock_profile(&e);
    uint64_t before = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(e[i].class_name, "global") && strstr(e[i].site->file, "dispatch.c")) {
            before += e[i].acquisitions;
        }
    }
    free(e);
    for (int i = 0; i < 100; i++) {
        CHECK(address_space_read(&f.as, 0x1000, 4, &v) == PV_ACCESS_OK);
    }
    n = pv_lock_profile(&e);
    uint64_t after = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(e[i].class_name, "global") && strstr(e[i].site->file, "dispatch.c")) {
            after += e[i].acquisitions;
        }
    }
    free(e);
    CHECK_EQ_U64(after - before, 100);

    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}

PV_TEST_MAIN(TEST(test_contention_and_hold_time), TEST(test_dispatch_sites_profiled))
