/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-testdev: the lockless registers (also from two threads), VALUE
 * under the device lock, DMA into RAM, into nothing, into another device
 * and into itself, the probe hook, and every register unassigned once the
 * device is unrealized.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "parvm/hw/testdev.h"
#include "parvm/rcu.h"

#define BASE 0x40000000
#define BASE2 0x40001000
#define RAM 0x80000000

static uint64_t rd(Fixture *f, hwaddr addr)
{
    uint64_t v = ~0ull;
    CHECK(address_space_read(&f->as, addr, 4, &v) == PV_ACCESS_OK);
    return v;
}

static void wr(Fixture *f, hwaddr addr, uint64_t v)
{
    CHECK(address_space_write(&f->as, addr, 4, v) == PV_ACCESS_OK);
}

static void count_probe(void *opaque)
{
    atomic_fetch_add((atomic_uint *)opaque, 1);
}

static void test_lockless_regs(void)
{
    Fixture f;
    atomic_uint probes;

    atomic_init(&probes, 0);
    fixture_init(&f);
    PvTestdev *t = pv_testdev_new(&f.vm, &f.as, "td0");
    CHECK(t != NULL);
    CHECK(strcmp(pv_testdev_device(t)->id, "td0") == 0);
    pv_testdev_set_probe(t, count_probe, &probes);
    fixture_map(&f, pv_testdev_mmio(t), BASE);

    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_ID), 0x74737470);             /* 1 */
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_COUNTER), 0);                  /* 2 */
    wr(&f, BASE + PV_TESTDEV_REG_COUNTER, 5);                                /* 3 */
    wr(&f, BASE + PV_TESTDEV_REG_COUNTER, 7);                                /* 4 */
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_COUNTER), 12);                 /* 5 */
    wr(&f, BASE + PV_TESTDEV_REG_COUNTER, 0xffffffffu);   /* -1: wraps */    /* 6 */
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_COUNTER), 11);                 /* 7 */
    /* The ID is read-only. */
    uint64_t e0 = pv_vm_guest_errors(&f.vm);
    wr(&f, BASE + PV_TESTDEV_REG_ID, 0);                                     /* 8 */
    wr(&f, BASE + PV_TESTDEV_REG_ACCESSES, 0);                               /* 9 */
    CHECK_EQ_U64(rd(&f, BASE + 0x0c), 0);                                    /* 10 */
    CHECK_EQ_U64(pv_vm_guest_errors(&f.vm) - e0, 3);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_ID), PV_TESTDEV_ID);           /* 11 */
    /* Other regions count too. */
    rd(&f, BASE + PV_TESTDEV_REG_VALUE);                                     /* 12 */
    rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS);                                /* 13 */
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_ACCESSES), 14);                /* 14 */
    /* A 64-bit read is two handler calls: COUNTER, then ACCESSES. */
    uint64_t v = 0;
    CHECK(address_space_read(&f.as, BASE + PV_TESTDEV_REG_COUNTER, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, (16ull << 32) | 11);
    CHECK_EQ_U64(atomic_load(&probes), 16);
    /* The gap above the three regions is nobody's. */
    CHECK(address_space_read(&f.as, BASE + 0x300, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK(address_space_read(&f.as, BASE + 0xffc, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(atomic_load(&probes), 16);
    pv_testdev_set_probe(t, NULL, NULL);
    rd(&f, BASE);
    CHECK_EQ_U64(atomic_load(&probes), 16);

    pv_testdev_destroy(t);
    fixture_destroy(&f);
}

/* ---- two threads on the lockless and the locked path ------------------- */

#define ROUNDS 20000

typedef struct Worker {
    Fixture *f;
    pthread_t th;
    unsigned id;
} Worker;

static void *worker_fn(void *opaque)
{
    Worker *w = opaque;
    uint64_t v;

    pv_rcu_register_thread();
    for (unsigned i = 0; i < ROUNDS; i++) {
        address_space_write(&w->f->as, BASE + PV_TESTDEV_REG_COUNTER, 4, 1);
        address_space_write(&w->f->as, BASE + PV_TESTDEV_REG_VALUE, 4, w->id << 16 | (i & 0xffff));
        address_space_read(&w->f->as, BASE + PV_TESTDEV_REG_VALUE, 4, &v);
        if ((v >> 16) > 1) {
            CHECK(!"VALUE holds a value nobody wrote");
        }
        pv_rcu_quiescent();
    }
    pv_rcu_unregister_thread();
    return NULL;
}

static void test_two_threads(void)
{
    Fixture f;
    Worker w[2];

    fixture_init(&f);
    PvTestdev *t = pv_testdev_new(&f.vm, &f.as, "td0");
    fixture_map(&f, pv_testdev_mmio(t), BASE);
    for (unsigned i = 0; i < 2; i++) {
        w[i] = (Worker){ .f = &f, .id = i };
        pthread_create(&w[i].th, NULL, worker_fn, &w[i]);
    }
    pv_rcu_offline();
    for (unsigned i = 0; i < 2; i++) {
        pthread_join(w[i].th, NULL);
    }
    pv_rcu_online();
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_COUNTER), 2 * ROUNDS);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_ACCESSES), 6 * ROUNDS + 2);
    pv_testdev_destroy(t);
    fixture_destroy(&f);
}

static void test_value(void)
{
    Fixture f;

    fixture_init(&f);
    PvTestdev *t = pv_testdev_new(&f.vm, &f.as, "td0");
    fixture_map(&f, pv_testdev_mmio(t), BASE);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_VALUE), 0);
    wr(&f, BASE + PV_TESTDEV_REG_VALUE, 0xdeadbeef);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_VALUE), 0xdeadbeef);
    /* Narrow accesses are the core's business: a byte read of the word. */
    uint64_t v = 0;
    CHECK(address_space_read(&f.as, BASE + PV_TESTDEV_REG_VALUE + 1, 1, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xbe);
    uint64_t e0 = pv_vm_guest_errors(&f.vm);
    wr(&f, BASE + 0x104, 1);
    CHECK_EQ_U64(rd(&f, BASE + 0x1fc), 0);
    CHECK_EQ_U64(pv_vm_guest_errors(&f.vm) - e0, 2);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_VALUE), 0xdeadbeef);
    pv_testdev_destroy(t);
    fixture_destroy(&f);
}

static void set_dma(Fixture *f, hwaddr dev, uint64_t addr)
{
    wr(f, dev + PV_TESTDEV_REG_DMA_ADDR_LO, (uint32_t)addr);
    wr(f, dev + PV_TESTDEV_REG_DMA_ADDR_HI, addr >> 32);
}

static void test_dma(void)
{
    Fixture f;
    MemoryRegion ram;

    fixture_init(&f);
    CHECK(memory_region_init_ram(&ram, &f.vm, NULL, "ram", 0x1000) == 0);
    fixture_map(&f, &ram, RAM);
    PvTestdev *t = pv_testdev_new(&f.vm, &f.as, "td0");
    PvTestdev *u = pv_testdev_new(&f.vm, &f.as, "td1");
    fixture_map(&f, pv_testdev_mmio(t), BASE);
    fixture_map(&f, pv_testdev_mmio(u), BASE2);

    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_OK);
    set_dma(&f, BASE, RAM + 0x10);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_ADDR_LO), RAM + 0x10);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_ADDR_HI), 0);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0x11223344);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_OK);
    static const uint8_t want1[8] = { 0x44, 0x33, 0x22, 0x11, 1, 0, 0, 0 };
    CHECK(memcmp(ram.ram + 0x10, want1, 8) == 0);
    CHECK(ram.ram[0x0f] == 0 && ram.ram[0x18] == 0);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0xcafef00d);
    static const uint8_t want2[8] = { 0x0d, 0xf0, 0xfe, 0xca, 2, 0, 0, 0 };
    CHECK(memcmp(ram.ram + 0x10, want2, 8) == 0);
    /* Reading DOORBELL is an error and DMAs nothing. */
    uint64_t e0 = pv_vm_guest_errors(&f.vm);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DOORBELL), 0);
    CHECK_EQ_U64(pv_vm_guest_errors(&f.vm) - e0, 1);
    CHECK(memcmp(ram.ram + 0x10, want2, 8) == 0);

    /* A 64-bit write sets both halves; the last page's end is fine too. */
    CHECK(address_space_write(&f.as, BASE + PV_TESTDEV_REG_DMA_ADDR_LO, 8, RAM + 0xff8) ==
          PV_ACCESS_OK);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0x55);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_OK);
    CHECK(ram.ram[0xff8] == 0x55 && ram.ram[0xffc] == 3);

    /* Into nothing: status, no crash; with the high half set too. */
    set_dma(&f, BASE, 0x90000000);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 1);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_UNASSIGNED);
    set_dma(&f, BASE, 0x100000000ull | (RAM + 0x10));
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_ADDR_HI), 1);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 1);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_UNASSIGNED);
    CHECK(memcmp(ram.ram + 0x10, want2, 8) == 0);
    /* Straddling the end of RAM: the RAM part lands, the rest is refused. */
    set_dma(&f, BASE, RAM + 0xffc);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0xa1a2a3a4);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_UNASSIGNED);

    /* Into another testdev: its lockless COUNTER adds V (and the sequence
     * number goes to its read-only ACCESSES), then its locked VALUE, which
     * is free, so the trylock under our lock succeeds. */
    set_dma(&f, BASE, BASE2 + PV_TESTDEV_REG_COUNTER);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 40);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_OK);
    CHECK_EQ_U64(rd(&f, BASE2 + PV_TESTDEV_REG_COUNTER), 40);
    set_dma(&f, BASE, BASE2 + PV_TESTDEV_REG_VALUE);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0x1234);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_OK);
    CHECK_EQ_U64(rd(&f, BASE2 + PV_TESTDEV_REG_VALUE), 0x1234);
    /* Into itself: refused as re-entrant, nothing changes. */
    wr(&f, BASE + PV_TESTDEV_REG_VALUE, 7);
    set_dma(&f, BASE, BASE + PV_TESTDEV_REG_VALUE);
    wr(&f, BASE + PV_TESTDEV_REG_DOORBELL, 0x99);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_DMA_STATUS), PV_ACCESS_REENTRANT);
    CHECK_EQ_U64(rd(&f, BASE + PV_TESTDEV_REG_VALUE), 7);

    pv_testdev_destroy(t);
    pv_testdev_destroy(u);
    fixture_destroy(&f);
    memory_region_destroy(&ram);
}

static void test_unrealize(void)
{
    Fixture f;
    atomic_uint probes;
    static const hwaddr regs[] = {
        PV_TESTDEV_REG_ID, PV_TESTDEV_REG_COUNTER, PV_TESTDEV_REG_ACCESSES,
        PV_TESTDEV_REG_VALUE, PV_TESTDEV_REG_DMA_ADDR_LO, PV_TESTDEV_REG_DMA_ADDR_HI,
        PV_TESTDEV_REG_DOORBELL, PV_TESTDEV_REG_DMA_STATUS,
    };

    atomic_init(&probes, 0);
    fixture_init(&f);
    PvTestdev *t = pv_testdev_new(&f.vm, &f.as, "td0");
    pv_testdev_set_probe(t, count_probe, &probes);
    fixture_map(&f, pv_testdev_mmio(t), BASE);
    wr(&f, BASE + PV_TESTDEV_REG_COUNTER, 3);
    CHECK_EQ_U64(atomic_load(&probes), 1);

    PvDevice *dev = pv_testdev_device(t);
    pv_device_unrealize(dev);
    CHECK(pv_device_is_removed(dev));
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        uint64_t v = 0;
        CHECK(address_space_read(&f.as, BASE + regs[i], 4, &v) == PV_ACCESS_UNASSIGNED);
        CHECK_EQ_U64(v, 0xffffffff);
        CHECK(address_space_write(&f.as, BASE + regs[i], 4, 1) == PV_ACCESS_UNASSIGNED);
    }
    CHECK_EQ_U64(atomic_load(&probes), 1);
    pv_device_unref(dev);
    fixture_destroy(&f);
}

PV_TEST_MAIN(
    TEST(test_lockless_regs),
    TEST(test_two_threads),
    TEST(test_value),
    TEST(test_dma),
    TEST(test_unrealize),
)
