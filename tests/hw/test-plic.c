/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PLIC: priorities, thresholds, enables, claim/complete, level-triggered
 * re-pending, contexts per hart, out-of-range accesses, and inputs raised
 * from under the global lock and a device lock.
 */
#include <stdatomic.h>

#include "fixture.h"
#include "harness.h"
#include "parvm/hw/plic.h"

#define BASE 0xc000000
#define NHARTS 2
#define NCTX (2 * NHARTS)

typedef struct Lines {
    atomic_bool level[NCTX];
} Lines;

static void lines_set(void *opaque, unsigned n, bool level)
{
    atomic_store(&((Lines *)opaque)->level[n], level);
}

typedef struct Rig {
    Fixture f;
    PvPlic *plic;
    Lines out;
} Rig;

static void rig_init(Rig *r)
{
    PvIrq outs[NCTX];

    fixture_init(&r->f);
    for (unsigned i = 0; i < NCTX; i++) {
        atomic_init(&r->out.level[i], false);
        outs[i] = pv_irq_make(lines_set, &r->out, i);
    }
    r->plic = pv_plic_new(&r->f.vm, NHARTS, outs);
    CHECK(r->plic != NULL);
    fixture_map(&r->f, pv_plic_mmio(r->plic), BASE);
}

static void rig_destroy(Rig *r)
{
    pv_plic_destroy(r->plic);
    fixture_destroy(&r->f);
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

static void set_prio(Rig *r, unsigned src, unsigned prio)
{
    wr(r, 4 * src, prio);
}

static void enable(Rig *r, unsigned ctx, unsigned src, bool on)
{
    hwaddr off = 0x2000 + 0x80 * ctx + 4 * (src / 32);
    uint64_t v = rd(r, off);
    v = on ? v | (1u << (src % 32)) : v & ~(1u << (src % 32));
    wr(r, off, v);
}

static uint64_t claim(Rig *r, unsigned ctx)
{
    return rd(r, 0x200004 + 0x1000 * ctx);
}

static void complete(Rig *r, unsigned ctx, unsigned src)
{
    wr(r, 0x200004 + 0x1000 * ctx, src);
}

static void threshold(Rig *r, unsigned ctx, unsigned t)
{
    wr(r, 0x200000 + 0x1000 * ctx, t);
}

static bool out(Rig *r, unsigned ctx)
{
    return atomic_load(&r->out.level[ctx]);
}

static bool pending(Rig *r, unsigned src)
{
    return (rd(r, 0x1000 + 4 * (src / 32)) >> (src % 32)) & 1;
}

static void test_registers(void)
{
    Rig r;
    rig_init(&r);
    CHECK(pv_plic_new(&r.f.vm, 0, NULL) == NULL);
    CHECK_EQ_U64(pv_plic_mmio(r.plic)->size, 0x600000);

    /* Priorities are WARL on 3 bits. */
    set_prio(&r, 5, 3);
    CHECK_EQ_U64(rd(&r, 4 * 5), 3);
    set_prio(&r, 5, 9);
    CHECK_EQ_U64(rd(&r, 4 * 5), 1);
    set_prio(&r, 95, 7);
    CHECK_EQ_U64(rd(&r, 4 * 95), 7);
    threshold(&r, 3, 15);
    CHECK_EQ_U64(rd(&r, 0x203000), 7);
    /* Enables per context: 3 words of 32 bits. */
    wr(&r, 0x2000 + 0x80 * 3 + 8, 0xdeadbeef);
    CHECK_EQ_U64(rd(&r, 0x2000 + 0x80 * 3 + 8), 0xdeadbeef);
    CHECK_EQ_U64(rd(&r, 0x2000 + 0x80 * 2 + 8), 0);
    rig_destroy(&r);
}

static void test_claim_complete(void)
{
    Rig r;
    rig_init(&r);
    PvIrq in10 = pv_plic_input(r.plic, 10);

    /* Priority 0 never interrupts. */
    pv_irq_raise(&in10);
    CHECK(pending(&r, 10));
    enable(&r, 1, 10, true);
    CHECK(!out(&r, 1));
    set_prio(&r, 10, 1);
    /* Hart 0's S context only. */
    CHECK(out(&r, 1) && !out(&r, 0) && !out(&r, 2) && !out(&r, 3));

    CHECK_EQ_U64(claim(&r, 1), 10);
    CHECK(!out(&r, 1));
    CHECK(!pending(&r, 10));
    CHECK_EQ_U64(claim(&r, 1), 0);     /* nothing left */

    /* The line toggles while claimed: not pending until completed. */
    pv_irq_lower(&in10);
    pv_irq_raise(&in10);
    CHECK(!pending(&r, 10) && !out(&r, 1));

    /* Completed with the line still high: pending again at once. */
    complete(&r, 1, 10);
    CHECK(pending(&r, 10) && out(&r, 1));
    CHECK_EQ_U64(claim(&r, 1), 10);
    pv_irq_lower(&in10);
    complete(&r, 1, 10);
    CHECK(!pending(&r, 10) && !out(&r, 1));

    /* Level-triggered: lowered before a claim, it is no longer pending. */
    pv_irq_raise(&in10);
    CHECK(out(&r, 1));
    pv_irq_lower(&in10);
    CHECK(!pending(&r, 10) && !out(&r, 1));
    CHECK_EQ_U64(claim(&r, 1), 0);
    rig_destroy(&r);
}

static void test_priority_and_threshold(void)
{
    Rig r;
    rig_init(&r);
    PvIrq a = pv_plic_input(r.plic, 3), b = pv_plic_input(r.plic, 40), c = pv_plic_input(r.plic, 70);

    for (unsigned s = 3; s <= 70; s++) {
        enable(&r, 2, s, true);
    }
    set_prio(&r, 3, 2);
    set_prio(&r, 40, 5);
    set_prio(&r, 70, 5);
    pv_irq_raise(&a);
    pv_irq_raise(&b);
    pv_irq_raise(&c);
    CHECK(out(&r, 2));

    /* Threshold: only priorities strictly above it. */
    threshold(&r, 2, 5);
    CHECK(!out(&r, 2));
    CHECK_EQ_U64(claim(&r, 2), 0);
    threshold(&r, 2, 2);
    CHECK(out(&r, 2));
    /* Highest priority first, ties to the lowest number. */
    CHECK_EQ_U64(claim(&r, 2), 40);
    CHECK_EQ_U64(claim(&r, 2), 70);
    /* Source 3 has priority 2, not above the threshold 2. */
    CHECK(!out(&r, 2));
    CHECK_EQ_U64(claim(&r, 2), 0);
    threshold(&r, 2, 0);
    CHECK_EQ_U64(claim(&r, 2), 3);
    CHECK(!out(&r, 2));

    /* A source enabled in two contexts goes to whichever claims first. */
    pv_irq_lower(&a);
    complete(&r, 2, 3);
    enable(&r, 0, 3, true);
    pv_irq_raise(&a);
    CHECK(out(&r, 0) && out(&r, 2));
    CHECK_EQ_U64(claim(&r, 0), 3);
    CHECK(!out(&r, 0) && !out(&r, 2));
    CHECK_EQ_U64(claim(&r, 2), 0);

    /* Disabling drops the output. */
    complete(&r, 0, 3);
    CHECK(out(&r, 0));
    enable(&r, 0, 3, false);
    CHECK(!out(&r, 0));
    rig_destroy(&r);
}

static void test_out_of_range(void)
{
    Rig r;
    rig_init(&r);
    uint64_t e0 = pv_vm_guest_errors(&r.f.vm), v;

    CHECK_EQ_U64(rd(&r, 4 * 96), 0);                    /* source 96 */
    wr(&r, 4 * 96, 1);
    CHECK_EQ_U64(rd(&r, 0x100c), 0);                    /* pending word 3 */
    wr(&r, 0x1000, 0xffffffff);                         /* pending is RO */
    CHECK_EQ_U64(rd(&r, 0x1000), 0);
    wr(&r, 0x2000 + 0x80 * 4, 1);                       /* context 4 */
    CHECK_EQ_U64(rd(&r, 0x2000 + 0x80 * 4), 0);
    wr(&r, 0x2000 + 0x80 * 1 + 12, 1);                  /* enable word 3 */
    wr(&r, 0x200000 + 0x1000 * 4, 1);                   /* threshold ctx 4 */
    CHECK_EQ_U64(rd(&r, 0x200004 + 0x1000 * 4), 0);     /* claim ctx 4 */
    CHECK_EQ_U64(rd(&r, 0x5ff000), 0);                  /* last context slot */
    complete(&r, 0, 200);                               /* no source 200 */
    wr(&r, 0x200008, 1);                                /* context reserved word */
    /* Not 4 bytes wide. */
    CHECK(address_space_read(&r.f.as, BASE + 0x200004, 1, &v) == PV_ACCESS_OK);
    CHECK(address_space_write(&r.f.as, BASE + 0x14, 2, 3) == PV_ACCESS_OK);
    CHECK_EQ_U64(rd(&r, 0x14), 0);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 14);

    /* Board mistakes on the input side are ignored too. */
    pv_plic_set_irq(r.plic, 0, true);
    pv_plic_set_irq(r.plic, 96, true);
    CHECK_EQ_U64(rd(&r, 0x1000), 0);
    rig_destroy(&r);
}

/* Devices raise interrupts from every dispatch mode (irq.h): under the
 * global lock and under a device lock.  The validator would abort here if
 * the PLIC's lock were not a leaf of kind CORE. */
static PvDeviceClass other_class = {
    .type = "other",
    .lock_class = PV_LOCK_CLASS_INIT("test-other-dev", PV_LOCK_KIND_DEVICE),
};

static void test_raise_under_locks(void)
{
    Rig r;
    rig_init(&r);
    PvDevice other;
    PvIrq in = pv_plic_input(r.plic, 7);

    pv_device_init(&other, &other_class, &r.f.vm, "other");
    set_prio(&r, 7, 1);
    enable(&r, 0, 7, true);

    pv_mutex_lock(&other.lock);
    pv_global_lock(&r.f.vm);
    pv_irq_raise(&in);
    pv_global_unlock(&r.f.vm);
    pv_mutex_unlock(&other.lock);
    CHECK(out(&r, 0));

    pv_global_lock(&r.f.vm);
    CHECK_EQ_U64(claim(&r, 0), 7);     /* MMIO under the global lock too */
    pv_irq_lower(&in);
    complete(&r, 0, 7);
    pv_global_unlock(&r.f.vm);
    CHECK(!out(&r, 0));

    pv_mutex_destroy(&other.lock);
    rig_destroy(&r);
}

PV_TEST_MAIN(
    TEST(test_registers),
    TEST(test_claim_complete),
    TEST(test_priority_and_threshold),
    TEST(test_out_of_range),
    TEST(test_raise_under_locks),
)
