/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Goldfish RTC: time from CLOCK_REALTIME, the TIME_HIGH latch, time writes,
 * alarms through the event loop, clearing, bad offsets.
 */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/hw/goldfish-rtc.h"
#include "parvm/rcu.h"


#define BASE 0x101000

typedef struct Rig {
    Fixture f;
    PvEventLoop *loop;
    PvGoldfishRtc *rtc;
    atomic_bool irq;
} Rig;

static void irq_set(void *opaque, unsigned n, bool level)
{
    (void)n;
    atomic_store(&((Rig *)opaque)->irq, level);
}

static void rig_init(Rig *r)
{
    fixture_init(&r->f);
    atomic_init(&r->irq, false);
    r->loop = pv_event_loop_new();
    CHECK(r->loop && pv_event_loop_start(r->loop) == 0);
    PvIrq irq = pv_irq_make(irq_set, r, 11);
    r->rtc = pv_goldfish_rtc_new(&r->f.vm, r->loop, &irq);
    CHECK(r->rtc != NULL);
    fixture_map(&r->f, pv_goldfish_rtc_mmio(r->rtc), BASE);
}

static void rig_destroy(Rig *r)
{
    pv_goldfish_rtc_destroy(r->rtc);
    fixture_destroy(&r->f);
    pv_event_loop_free(r->loop);
}

static uint64_t rd(Rig *r, hwaddr off)
{
    uint64_t v = 0;
    CHECK(address_space_read(&r->f.as, BASE + off, 4, &v) == PV_ACCESS_OK);
    return v;
}

static void wr(Rig *r, hwaddr off, uint64_t v)
{
    CHECK(address_space_write(&r->f.as, BASE + off, 4, v) == PV_ACCESS_OK);
}

static uint64_t realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The guest's way: TIME_LOW, then the latched TIME_HIGH. */
static uint64_t guest_time(Rig *r)
{
    uint64_t lo = rd(r, 0x00);
    return (rd(r, 0x04) << 32) | lo;
}

static void test_time(void)
{
    Rig r;
    rig_init(&r);
    uint64_t a = realtime(), t = guest_time(&r), b = realtime();
    CHECK(a <= t && t <= b);

    /* An 8-byte read is TIME_LOW then TIME_HIGH: the latched pair. */
    uint64_t v = 0;
    a = realtime();
    CHECK(address_space_read(&r.f.as, BASE, 8, &v) == PV_ACCESS_OK);
    b = realtime();
    CHECK(a <= v && v <= b);
    rig_destroy(&r);
}

static void test_time_high_latch(void)
{
    Rig r;
    rig_init(&r);
    uint64_t lo = rd(&r, 0x00);
    uint64_t hi = rd(&r, 0x04);
    (void)lo;

    /* Move the time 5 * 2^32 ns ahead: TIME_HIGH still shows the latch. */
    wr(&r, 0x04, hi + 5);
    CHECK_EQ_U64(rd(&r, 0x04), hi);
    rd(&r, 0x00);
    uint64_t hi2 = rd(&r, 0x04);
    CHECK(hi2 == hi + 5 || hi2 == hi + 6);

    /* Setting the low half keeps the high half. */
    wr(&r, 0x00, 0x10);
    uint64_t t = guest_time(&r);
    CHECK(t >> 32 == hi2);
    CHECK((t & 0xffffffff) >= 0x10 && (t & 0xffffffff) < 0x10 + 1000000000ull);
    rig_destroy(&r);
}

static void set_alarm(Rig *r, uint64_t when)
{
    wr(r, 0x0c, when >> 32);
    wr(r, 0x08, when & 0xffffffff);     /* arms */
}

static void test_alarm(void)
{
    Rig r;
    rig_init(&r);
    wr(&r, 0x10, 1);
    CHECK_EQ_U64(rd(&r, 0x10), 1);

    /* 5 ms ahead: fires through the event loop's timer, not before. */
    uint64_t when = guest_time(&r) + 5000000;
    set_alarm(&r, when);
    CHECK_EQ_U64(rd(&r, 0x18), 1);
    CHECK_EQ_U64(rd(&r, 0x08), when & 0xffffffff);
    CHECK_EQ_U64(rd(&r, 0x0c), when >> 32);
    CHECK(!atomic_load(&r.irq));
    CHECK(WAIT_FOR(atomic_load(&r.irq), 2000));
    CHECK(guest_time(&r) >= when);
    CHECK_EQ_U64(rd(&r, 0x18), 0);
    wr(&r, 0x1c, 1);                    /* CLEAR_INTERRUPT */
    CHECK(!atomic_load(&r.irq));

    /* In the past: at once. */
    set_alarm(&r, guest_time(&r) - 1);
    CHECK(atomic_load(&r.irq));
    CHECK_EQ_U64(rd(&r, 0x18), 0);
    /* Masked by IRQ_ENABLED, and back. */
    wr(&r, 0x10, 0);
    CHECK(!atomic_load(&r.irq));
    wr(&r, 0x10, 1);
    CHECK(atomic_load(&r.irq));
    wr(&r, 0x1c, 1);
    CHECK(!atomic_load(&r.irq));

    /* Cleared: never fires. */
    set_alarm(&r, guest_time(&r) + 3000000);
    CHECK_EQ_U64(rd(&r, 0x18), 1);
    wr(&r, 0x14, 1);
    CHECK_EQ_U64(rd(&r, 0x18), 0);
    usleep(20000);
    CHECK(!atomic_load(&r.irq));
    rig_destroy(&r);
}

static void test_bad_offsets(void)
{
    Rig r;
    rig_init(&r);
    uint64_t e0 = pv_vm_guest_errors(&r.f.vm);
    CHECK_EQ_U64(rd(&r, 0x20), 0);
    CHECK_EQ_U64(rd(&r, 0x14), 0);      /* write-only */
    wr(&r, 0x18, 1);                    /* read-only */
    wr(&r, 0xffc, 1);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 4);
    rig_destroy(&r);
}

PV_TEST_MAIN(
    TEST(test_time),
    TEST(test_time_high_latch),
    TEST(test_alarm),
    TEST(test_bad_offsets),
)
