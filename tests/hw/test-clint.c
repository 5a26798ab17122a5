/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CLINT: mtime at 10 MHz, MTIP from mtimecmp at once or through the event
 * loop's timer, msip, 32-bit halves, mtime writes, bad offsets.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/hw/clint.h"
#include "parvm/rcu.h"


#define BASE 0x2000000
#define NHARTS 2

/* Records the level of each line (the harts' MTIP and MSIP). */
typedef struct Lines {
    atomic_bool level[8];
    atomic_uint calls[8];
} Lines;

static void lines_set(void *opaque, unsigned n, bool level)
{
    Lines *l = opaque;
    atomic_store(&l->level[n], level);
    atomic_fetch_add(&l->calls[n], 1);
}

typedef struct Rig {
    Fixture f;
    PvEventLoop *loop;
    PvClint *clint;
    Lines mtip, msip;
} Rig;

static void rig_init(Rig *r)
{
    PvIrq mtip[NHARTS], msip[NHARTS];

    fixture_init(&r->f);
    r->loop = pv_event_loop_new();
    CHECK(r->loop && pv_event_loop_start(r->loop) == 0);
    for (unsigned i = 0; i < 8; i++) {
        atomic_init(&r->mtip.level[i], false);
        atomic_init(&r->msip.level[i], false);
        atomic_init(&r->mtip.calls[i], 0);
        atomic_init(&r->msip.calls[i], 0);
    }
    for (unsigned i = 0; i < NHARTS; i++) {
        mtip[i] = pv_irq_make(lines_set, &r->mtip, i);
        msip[i] = pv_irq_make(lines_set, &r->msip, i);
    }
    r->clint = pv_clint_new(&r->f.vm, r->loop, NHARTS, mtip, msip);
    CHECK(r->clint != NULL);
    fixture_map(&r->f, pv_clint_mmio(r->clint), BASE);
}

static void rig_destroy(Rig *r)
{
    pv_clint_destroy(r->clint);
    fixture_destroy(&r->f);     /* finalize runs here */
    pv_event_loop_free(r->loop);
}

static uint64_t rd(Rig *r, hwaddr off, unsigned size)
{
    uint64_t v = 0;
    CHECK(address_space_read(&r->f.as, BASE + off, size, &v) == PV_ACCESS_OK);
    return v;
}

static void wr(Rig *r, hwaddr off, unsigned size, uint64_t v)
{
    CHECK(address_space_write(&r->f.as, BASE + off, size, v) == PV_ACCESS_OK);
}

static void test_bad_args(void)
{
    Fixture f;
    PvIrq none = { 0 };

    fixture_init(&f);
    CHECK(pv_clint_new(&f.vm, NULL, 0, &none, &none) == NULL);
    CHECK(pv_clint_new(&f.vm, NULL, PV_CLINT_MAX_HARTS + 1, &none, &none) == NULL);
    fixture_destroy(&f);
}

static void test_reset_state(void)
{
    Rig r;
    rig_init(&r);
    /* mtimecmp 0 <= mtime: MTIP up at once, as QEMU 7.2 after reset. */
    CHECK(atomic_load(&r.mtip.level[0]) && atomic_load(&r.mtip.level[1]));
    CHECK(!atomic_load(&r.msip.level[0]) && !atomic_load(&r.msip.level[1]));
    CHECK_EQ_U64(rd(&r, 0x4000, 8), 0);
    CHECK(rd(&r, 0xbff8, 8) < 10 * PV_CLINT_FREQ_HZ);  /* starts near 0 */
    rig_destroy(&r);
}

static void test_mtime_10mhz(void)
{
    Rig r;
    rig_init(&r);
    /* Bracket each read with host clock readings: the tick count must
     * match the elapsed host time whatever the machine's load. */
    int64_t a = pv_clock_ns();
    uint64_t m0 = rd(&r, 0xbff8, 8);
    int64_t b = pv_clock_ns();
    usleep(50000);
    int64_t c = pv_clock_ns();
    uint64_t m1 = rd(&r, 0xbff8, 8);
    int64_t d = pv_clock_ns();
    int64_t ticks_ns = (int64_t)(m1 - m0) * 100;
    /* mtime runs on the calibrated TSC: allow 100 ppm of rate error. */
    CHECK(ticks_ns >= (c - b) - 200 - (c - b) / 10000);
    CHECK(ticks_ns <= (d - a) + 200 + (d - a) / 10000);
    /* The lock-free accessor agrees with the register. */
    uint64_t x = pv_clint_mtime(r.clint), y = rd(&r, 0xbff8, 8), z = pv_clint_mtime(r.clint);
    CHECK(x <= y && y <= z);
    /* 32-bit halves. */
    uint64_t lo = rd(&r, 0xbff8, 4), hi = rd(&r, 0xbffc, 4);
    CHECK(lo <= 0xffffffff && hi == pv_clint_mtime(r.clint) >> 32);
    rig_destroy(&r);
}

static void test_mtimecmp_immediate(void)
{
    Rig r;
    rig_init(&r);
    uint64_t now = pv_clint_mtime(r.clint);

    /* Far future: lowered at once. */
    wr(&r, 0x4000, 8, now + 100 * PV_CLINT_FREQ_HZ);
    CHECK(!atomic_load(&r.mtip.level[0]));
    CHECK(atomic_load(&r.mtip.level[1]));   /* hart 1 untouched */
    CHECK_EQ_U64(rd(&r, 0x4000, 8), now + 100 * PV_CLINT_FREQ_HZ);
    /* In the past: raised at once, no waiting for any thread. */
    wr(&r, 0x4000, 8, now / 2);
    CHECK(atomic_load(&r.mtip.level[0]));
    /* Disabled the way Linux does it. */
    wr(&r, 0x4008, 8, UINT64_MAX);
    CHECK(!atomic_load(&r.mtip.level[1]));
    rig_destroy(&r);
}

static void test_mtimecmp_deadline(void)
{
    Rig r;
    rig_init(&r);
    int64_t t0 = pv_clock_ns();
    uint64_t cmp = pv_clint_mtime(r.clint) + 5 * PV_CLINT_FREQ_HZ / 1000;   /* 5 ms */

    wr(&r, 0x4008, 8, cmp);
    CHECK(!atomic_load(&r.mtip.level[1]));
    /* The hart is "asleep": only the event loop's timer can raise it. */
    CHECK(WAIT_FOR(atomic_load(&r.mtip.level[1]), 2000));
    CHECK(pv_clint_mtime(r.clint) >= cmp);     /* never early */
    CHECK(pv_clock_ns() - t0 >= 5 * PV_NS_PER_MS - PV_NS_PER_US);

    /* Re-armed later before it fires: fires at the new deadline only. */
    wr(&r, 0x4008, 8, pv_clint_mtime(r.clint) + 3 * PV_CLINT_FREQ_HZ / 1000);
    CHECK(!atomic_load(&r.mtip.level[1]));
    cmp = pv_clint_mtime(r.clint) + 20 * PV_CLINT_FREQ_HZ / 1000;
    wr(&r, 0x4008, 8, cmp);
    usleep(8000);
    CHECK(pv_clint_mtime(r.clint) >= cmp || !atomic_load(&r.mtip.level[1]));
    CHECK(WAIT_FOR(atomic_load(&r.mtip.level[1]), 2000));
    CHECK(pv_clint_mtime(r.clint) >= cmp);
    rig_destroy(&r);
}

static void test_mtimecmp_halves(void)
{
    Rig r;
    rig_init(&r);
    /* The RV32 way: high half first to avoid a spurious interrupt. */
    wr(&r, 0x4004, 4, 0xffffffff);
    wr(&r, 0x4000, 4, 0x12345678);
    CHECK(!atomic_load(&r.mtip.level[0]));
    wr(&r, 0x4004, 4, 0x00000abc);
    CHECK_EQ_U64(rd(&r, 0x4000, 8), 0x00000abc12345678ull);
    CHECK_EQ_U64(rd(&r, 0x4000, 4), 0x12345678);
    CHECK_EQ_U64(rd(&r, 0x4004, 4), 0x00000abc);
    /* A byte write is widened by the core as QEMU widens it: the 4-byte
     * half, the byte in place, zeros elsewhere. */
    wr(&r, 0x4001, 1, 0xff);
    CHECK_EQ_U64(rd(&r, 0x4000, 8), 0x00000abc0000ff00ull);
    rig_destroy(&r);
}

static void test_mtime_write(void)
{
    Rig r;
    rig_init(&r);
    wr(&r, 0x4000, 8, 2000000000ull);
    wr(&r, 0x4008, 8, 3000000000ull);
    CHECK(!atomic_load(&r.mtip.level[0]) && !atomic_load(&r.mtip.level[1]));

    /* mtime jumps past hart 0's mtimecmp only. */
    wr(&r, 0xbff8, 8, 2500000000ull);
    uint64_t t = pv_clint_mtime(r.clint);
    CHECK(t >= 2500000000ull && t < 2500000000ull + 10 * PV_CLINT_FREQ_HZ);
    CHECK(atomic_load(&r.mtip.level[0]));
    CHECK(!atomic_load(&r.mtip.level[1]));

    /* Back in time: hart 0's interrupt goes away. */
    wr(&r, 0xbff8, 8, 1000);
    CHECK(!atomic_load(&r.mtip.level[0]));

    /* High half write. */
    wr(&r, 0xbffc, 4, 1);
    t = pv_clint_mtime(r.clint);
    CHECK(t >> 32 == 1);
    CHECK(atomic_load(&r.mtip.level[0]) && atomic_load(&r.mtip.level[1]));
    rig_destroy(&r);
}

static void test_msip(void)
{
    Rig r;
    rig_init(&r);
    wr(&r, 0x4, 4, 1);
    CHECK(atomic_load(&r.msip.level[1]) && !atomic_load(&r.msip.level[0]));
    CHECK_EQ_U64(rd(&r, 0x4, 4), 1);
    CHECK_EQ_U64(rd(&r, 0x0, 4), 0);
    wr(&r, 0x4, 4, 2);      /* only bit 0 counts */
    CHECK(!atomic_load(&r.msip.level[1]));
    CHECK_EQ_U64(rd(&r, 0x4, 4), 0);
    wr(&r, 0x0, 1, 1);      /* byte access, widened */
    CHECK(atomic_load(&r.msip.level[0]));
    wr(&r, 0x0, 4, 0);
    CHECK(!atomic_load(&r.msip.level[0]));
    rig_destroy(&r);
}

static void test_bad_offsets(void)
{
    Rig r;
    rig_init(&r);
    uint64_t e0 = pv_vm_guest_errors(&r.f.vm);

    wr(&r, 0x8, 4, 1);              /* msip of hart 2: no such hart */
    CHECK_EQ_U64(rd(&r, 0x8, 4), 0);
    wr(&r, 0x4010, 8, 5);           /* mtimecmp of hart 2 */
    CHECK_EQ_U64(rd(&r, 0x4010, 8), 0);
    wr(&r, 0xc000, 4, 5);           /* past mtime */
    CHECK_EQ_U64(rd(&r, 0xfff0, 8), 0);
    wr(&r, 0x0, 8, 1);              /* 8 bytes at msip */
    CHECK(pv_vm_guest_errors(&r.f.vm) - e0 >= 7);
    CHECK(!atomic_load(&r.msip.level[0]));
    rig_destroy(&r);
}

PV_TEST_MAIN(
    TEST(test_bad_args),
    TEST(test_reset_state),
    TEST(test_mtime_10mhz),
    TEST(test_mtimecmp_immediate),
    TEST(test_mtimecmp_deadline),
    TEST(test_mtimecmp_halves),
    TEST(test_mtime_write),
    TEST(test_msip),
    TEST(test_bad_offsets),
)
