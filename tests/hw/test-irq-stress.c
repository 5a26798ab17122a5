/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts under concurrency (S10), for ThreadSanitizer: two "hart"
 * threads hammer the PLIC (raise, claim, lower, complete their own sources)
 * and the CLINT (mtimecmp just ahead so the I/O thread's timers fire, msip
 * across harts) while the I/O thread also toggles a PLIC source from a
 * timer.  Afterwards every line must be at the level the state implies:
 * no lost and no stale interrupt.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/hw/clint.h"
#include "parvm/hw/plic.h"
#include "parvm/rcu.h"


#define CLINT 0x2000000
#define PLIC 0xc000000
#define ITERS 4000
#define IO_SOURCE 90

typedef struct Lines {
    atomic_bool level[8];
} Lines;

static void lines_set(void *opaque, unsigned n, bool level)
{
    atomic_store(&((Lines *)opaque)->level[n], level);
}

typedef struct Rig {
    Fixture f;
    PvEventLoop *loop;
    PvClint *clint;
    PvPlic *plic;
    Lines mtip, msip, ext;
    PvTimer *io_timer;
    atomic_bool io_stop;
    atomic_uint io_toggles;
    bool io_level;          /* I/O thread only */
} Rig;

typedef struct Hart {
    Rig *r;
    unsigned id;
    unsigned wrong_claims;
    pthread_t th;
} Hart;

static uint64_t rd(Rig *r, hwaddr addr, unsigned size)
{
    uint64_t v = 0;
    if (address_space_read(&r->f.as, addr, size, &v) != PV_ACCESS_OK) {
        return UINT64_MAX;
    }
    return v;
}

static void wr(Rig *r, hwaddr addr, unsigned size, uint64_t v)
{
    address_space_write(&r->f.as, addr, size, v);
}

/* I/O thread: toggles a PLIC source nobody has enabled. */
static void io_cb(void *opaque)
{
    Rig *r = opaque;

    r->io_level = !r->io_level;
    pv_plic_set_irq(r->plic, IO_SOURCE, r->io_level);
    atomic_fetch_add(&r->io_toggles, 1);
    if (!atomic_load(&r->io_stop)) {
        pv_timer_mod(r->io_timer, pv_clock_ns() + 50 * PV_NS_PER_US);
    }
}

static void *hart_fn(void *opaque)
{
    Hart *h = opaque;
    Rig *r = h->r;
    unsigned ctx = 2 * h->id;               /* this hart's M context */
    unsigned first = 1 + 40 * h->id;        /* sources first..first+39 */

    pv_rcu_register_thread();
    for (unsigned i = 0; i < ITERS; i++) {
        unsigned src = first + i % 40;
        PvIrq in = pv_plic_input(r->plic, src);

        /* A device raises, the hart claims, the device lowers, the hart
         * completes: the claim must find exactly our source. */
        pv_irq_raise(&in);
        if (rd(r, PLIC + 0x200004 + 0x1000 * ctx, 4) != src) {
            h->wrong_claims++;
        }
        pv_irq_lower(&in);
        wr(r, PLIC + 0x200004 + 0x1000 * ctx, 4, src);
        if (i % 7 == 0) {
            pv_irq_raise(&in);  /* raised and dropped unclaimed */
            pv_irq_lower(&in);
        }

        /* Timer a few microseconds ahead (halves now and then), and an
         * IPI to the other hart. */
        uint64_t cmp = pv_clint_mtime(r->clint) + i % 30;
        if (i % 5 == 0) {
            wr(r, CLINT + 0x4000 + 8 * h->id + 4, 4, cmp >> 32);
            wr(r, CLINT + 0x4000 + 8 * h->id, 4, cmp & 0xffffffff);
        } else {
            wr(r, CLINT + 0x4000 + 8 * h->id, 8, cmp);
        }
        wr(r, CLINT + 4 * (1 - h->id), 4, i & 1);
        if (i % 64 == 0) {
            pv_rcu_quiescent();
        }
    }
    /* Last IPI to the other hart: raised, so the line must end high. */
    wr(r, CLINT + 4 * (1 - h->id), 4, 1);
    pv_rcu_unregister_thread();
    return NULL;
}

static void test_hammer(void)
{
    Rig r;
    PvIrq mtip[2], msip[2], ext[4];
    Hart harts[2];

    fixture_init(&r.f);
    for (unsigned i = 0; i < 8; i++) {
        atomic_init(&r.mtip.level[i], false);
        atomic_init(&r.msip.level[i], false);
        atomic_init(&r.ext.level[i], false);
    }
    atomic_init(&r.io_stop, false);
    atomic_init(&r.io_toggles, 0);
    r.io_level = false;
    r.loop = pv_event_loop_new();
    CHECK(r.loop && pv_event_loop_start(r.loop) == 0);
    for (unsigned i = 0; i < 2; i++) {
        mtip[i] = pv_irq_make(lines_set, &r.mtip, i);
        msip[i] = pv_irq_make(lines_set, &r.msip, i);
    }
    for (unsigned i = 0; i < 4; i++) {
        ext[i] = pv_irq_make(lines_set, &r.ext, i);
    }
    r.clint = pv_clint_new(&r.f.vm, r.loop, 2, mtip, msip);
    r.plic = pv_plic_new(&r.f.vm, 2, ext);
    fixture_map(&r.f, pv_clint_mmio(r.clint), CLINT);
    fixture_map(&r.f, pv_plic_mmio(r.plic), PLIC);

    /* Each hart's M context enables its own 40 sources, priority 1. */
    for (unsigned s = 1; s <= 80; s++) {
        wr(&r, PLIC + 4 * s, 4, 1);
    }
    wr(&r, PLIC + 4 * IO_SOURCE, 4, 1);
    for (unsigned h = 0; h < 2; h++) {
        for (unsigned s = 1 + 40 * h; s <= 40 + 40 * h; s++) {
            uint64_t off = PLIC + 0x2000 + 0x80 * (2 * h) + 4 * (s / 32);
            wr(&r, off, 4, rd(&r, off, 4) | (1u << (s % 32)));
        }
    }

    r.io_timer = pv_timer_new(r.loop, io_cb, &r);
    pv_timer_mod(r.io_timer, pv_clock_ns());
    /* On a busy machine the harts could finish before the I/O thread first
     * runs: let it start toggling (it goes on every 50 us) before they go. */
    for (int i = 0; i < 5000 && atomic_load(&r.io_toggles) == 0; i++) {
        usleep(1000);
    }
    for (unsigned h = 0; h < 2; h++) {
        harts[h] = (Hart){ .r = &r, .id = h };
        pthread_create(&harts[h].th, NULL, hart_fn, &harts[h]);
    }
    pv_rcu_offline();
    for (unsigned h = 0; h < 2; h++) {
        pthread_join(harts[h].th, NULL);
    }
    pv_rcu_online();
    atomic_store(&r.io_stop, true);
    pv_timer_del(r.io_timer);
    CHECK(atomic_load(&r.io_toggles) > 0);

    for (unsigned h = 0; h < 2; h++) {
        CHECK_EQ_U64(harts[h].wrong_claims, 0);
    }
    /* PLIC: nothing pending but maybe the I/O source, no output up. */
    CHECK_EQ_U64(rd(&r, PLIC + 0x1000, 4), 0);
    CHECK_EQ_U64(rd(&r, PLIC + 0x1004, 4), 0);
    CHECK_EQ_U64(rd(&r, PLIC + 0x1008, 4) & ~(1u << (IO_SOURCE % 32)), 0);
    for (unsigned c = 0; c < 4; c++) {
        CHECK(!atomic_load(&r.ext.level[c]));
    }
    /* CLINT: every last mtimecmp was at most 3 us ahead, so both timer
     * interrupts must be up by now: none was lost to a race. */
    CHECK(WAIT_FOR(atomic_load(&r.mtip.level[0]) && atomic_load(&r.mtip.level[1]), 2000));
    /* msip: each line is at the level its register reads (1). */
    for (unsigned h = 0; h < 2; h++) {
        CHECK_EQ_U64(rd(&r, CLINT + 4 * h, 4), 1);
        CHECK(atomic_load(&r.msip.level[h]));
    }
    /* And a deadline ahead still lowers and then raises. */
    uint64_t cmp = pv_clint_mtime(r.clint) + 20000;     /* 2 ms */
    wr(&r, CLINT + 0x4000, 8, cmp);
    CHECK(!atomic_load(&r.mtip.level[0]));
    CHECK(WAIT_FOR(atomic_load(&r.mtip.level[0]), 2000));
    CHECK(pv_clint_mtime(r.clint) >= cmp);

    pv_timer_free(r.io_timer);
    pv_clint_destroy(r.clint);
    pv_plic_destroy(r.plic);
    fixture_destroy(&r.f);
    pv_event_loop_free(r.loop);
}

PV_TEST_MAIN(
    TEST(test_hammer),
)
