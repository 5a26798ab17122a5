/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dispatch modes (S4), the all-global switch (S12), notifiers (S2),
 * removal (G1) and counting.
 */
#include <pthread.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "testdev.h"

static void check_mode(PvDispatchMode mode, bool all_global, bool want_global, bool want_dev)
{
    Fixture f;
    uint64_t v, counts[PV_ACCESS__COUNT];

    fixture_init(&f);
    pv_vm_set_all_global(&f.vm, all_global);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "dev", mode, 1, 8, false);
    fixture_map(&f, &td->mr, 0x1000);

    CHECK(address_space_write(&f.as, 0x1008, 4, 0xcafe) == PV_ACCESS_OK);
    CHECK(address_space_read(&f.as, 0x1008, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xcafe);
    CHECK_EQ_U64(td->nlog, 2);
    for (unsigned i = 0; i < td->nlog; i++) {
        CHECK(td->log[i].global_held == want_global);
        CHECK(td->log[i].dev_lock_held == want_dev);
    }
    /* Nothing stays held once dispatch returns. */
    CHECK_EQ_U64(pv_locks_held(), 0);
    memory_region_get_counts(&td->mr, counts);
    CHECK_EQ_U64(counts[PV_ACCESS_OK], 2);

    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}

static void test_global_mode(void)
{
    check_mode(PV_DISPATCH_GLOBAL, false, true, false);
}

static void test_device_mode(void)
{
    check_mode(PV_DISPATCH_DEVICE, false, false, true);
}

static void test_lockless_mode(void)
{
    check_mode(PV_DISPATCH_LOCKLESS, false, false, false);
}

/* All-global mode puts everything under the global lock; device-mode
 * regions keep their own lock too (taken first), since the device's other
 * paths still rely on it. */
static void test_all_global_switch(void)
{
    check_mode(PV_DISPATCH_DEVICE, true, true, true);
    check_mode(PV_DISPATCH_LOCKLESS, true, true, false);
    check_mode(PV_DISPATCH_GLOBAL, true, true, false);
}

/* A caller that holds the global lock: global-mode handlers run under that
 * hold, device locks are only tried (S5). */
typedef struct Holder {
    TestDev *td;
    pthread_mutex_t m;
    pthread_cond_t c;
    int state;  /* 1: device lock held, 2: release it */
} Holder;

static void *hold_device_lock(void *p)
{
    Holder *h = p;
    pv_mutex_lock(&h->td->dev.lock);
    pthread_mutex_lock(&h->m);
    h->state = 1;
    pthread_cond_broadcast(&h->c);
    while (h->state != 2) {
        pthread_cond_wait(&h->c, &h->m);
    }
    pthread_mutex_unlock(&h->m);
    pv_mutex_unlock(&h->td->dev.lock);
    return NULL;
}

static void test_caller_holds_global_lock(void)
{
    Fixture f;
    uint64_t v, counts[PV_ACCESS__COUNT];

    fixture_init(&f);
    TestDev *g = testdev_new(&f.vm, &testdev_class, "g", PV_DISPATCH_GLOBAL, 1, 8, false);
    TestDev *d = testdev_new(&f.vm, &testdev_peer_class, "d", PV_DISPATCH_DEVICE, 1, 8, false);
    fixture_map(&f, &g->mr, 0x1000);
    fixture_map(&f, &d->mr, 0x2000);

    pv_global_lock(&f.vm);
    CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
    CHECK(g->log[0].global_held);
    /* Device lock free: the trylock succeeds. */
    CHECK(address_space_write(&f.as, 0x2000, 4, 2) == PV_ACCESS_OK);
    CHECK(d->log[0].dev_lock_held && d->log[0].global_held);
    pv_global_unlock(&f.vm);

    /* Device lock busy: refused, never waited for. */
    Holder h = { .td = d, .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };
    pthread_t t;
    pthread_create(&t, NULL, hold_device_lock, &h);
    pthread_mutex_lock(&h.m);
    while (h.state != 1) {
        pthread_cond_wait(&h.c, &h.m);
    }
    pthread_mutex_unlock(&h.m);
    pv_global_lock(&f.vm);
    CHECK(address_space_read(&f.as, 0x2000, 4, &v) == PV_ACCESS_LOCK_BUSY);
    CHECK_EQ_U64(v, 0xffffffff);
    pv_global_unlock(&f.vm);
    pthread_mutex_lock(&h.m);
    h.state = 2;
    pthread_cond_broadcast(&h.c);
    pthread_mutex_unlock(&h.m);
    pthread_join(t, NULL);

    memory_region_get_counts(&d->mr, counts);
    CHECK_EQ_U64(counts[PV_ACCESS_OK], 1);
    CHECK_EQ_U64(counts[PV_ACCESS_LOCK_BUSY], 1);
    CHECK(pv_vm_guest_errors(&f.vm) >= 1);

    pv_device_unrealize(&g->dev);
    pv_device_unrealize(&d->dev);
    pv_device_unref(&g->dev);
    pv_device_unref(&d->dev);
    fixture_destroy(&f);
}

static void test_notifiers(void)
{
    Fixture f;
    PvEventNotifier any, match;

    fixture_init(&f);
    CHECK(pv_event_notifier_init(&any) == 0);
    CHECK(pv_event_notifier_init(&match) == 0);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "doorbell", PV_DISPATCH_DEVICE, 1, 8, false);
    memory_region_transaction_begin(&f.vm);
    memory_region_add_subregion(&f.root, 0x1000, &td->mr);
    memory_region_add_eventfd(&td->mr, 0x50, 4, false, 0, &any);
    memory_region_add_eventfd(&td->mr, 0x60, 2, true, 7, &match);
    memory_region_transaction_commit(&f.vm);

    CHECK(address_space_write(&f.as, 0x1050, 4, 1234) == PV_ACCESS_OK);
    CHECK(pv_event_notifier_test_and_clear(&any));
    CHECK_EQ_U64(td->nlog, 0);          /* ops not called */
    CHECK(!pv_event_notifier_test_and_clear(&any));

    CHECK(address_space_write(&f.as, 0x1060, 2, 7) == PV_ACCESS_OK);
    CHECK(pv_event_notifier_test_and_clear(&match));
    CHECK_EQ_U64(td->nlog, 0);
    /* Other value, other size: the device handles it. */
    CHECK(address_space_write(&f.as, 0x1060, 2, 8) == PV_ACCESS_OK);
    CHECK(address_space_write(&f.as, 0x1060, 4, 7) == PV_ACCESS_OK);
    CHECK(!pv_event_notifier_test_and_clear(&match));
    CHECK_EQ_U64(td->nlog, 2);
    /* Reads are never notifications. */
    uint64_t v;
    CHECK(address_space_read(&f.as, 0x1050, 4, &v) == PV_ACCESS_OK);
    CHECK(!pv_event_notifier_test_and_clear(&any));

    memory_region_transaction_begin(&f.vm);
    memory_region_del_eventfd(&td->mr, 0x50, 4, false, 0, &any);
    memory_region_transaction_commit(&f.vm);
    CHECK(address_space_write(&f.as, 0x1050, 4, 1) == PV_ACCESS_OK);
    CHECK(!pv_event_notifier_test_and_clear(&any));

    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
    pv_event_notifier_cleanup(&any);
    pv_event_notifier_cleanup(&match);
}

/* After unrealize, the device's regions are gone, and an alias that still
 * points at it (owned by someone else) reaches a refusal, not the handler. */
static void test_removed_device(void)
{
    Fixture f;
    MemoryRegion alias;
    uint64_t v, counts[PV_ACCESS__COUNT];
    bool finalized = false;

    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "gone", PV_DISPATCH_LOCKLESS, 1, 8, false);
    td->finalized = &finalized;
    memory_region_init_alias(&alias, &f.vm, NULL, "alias", &td->mr, 0, TESTDEV_SIZE);
    fixture_map(&f, &td->mr, 0x1000);
    fixture_map(&f, &alias, 0x9000);
    CHECK(address_space_read(&f.as, 0x9000, 4, &v) == PV_ACCESS_OK);

    pv_device_unrealize(&td->dev);
    testdev_clear_log(td);
    CHECK(address_space_read(&f.as, 0x1000, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK(address_space_write(&f.as, 0x9000, 4, 5) == PV_ACCESS_UNASSIGNED);
    CHECK(address_space_read(&f.as, 0x9000, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(v, 0xffffffff);
    CHECK_EQ_U64(td->nlog, 0);
    memory_region_get_counts(&td->mr, counts);
    CHECK_EQ_U64(counts[PV_ACCESS_UNASSIGNED], 2);

    /* The alias's view still references the device: not finalized yet. */
    pv_device_unref(&td->dev);
    pv_rcu_barrier();
    CHECK(!finalized);
    fixture_unmap(&f, &alias);
    pv_rcu_barrier();
    pv_rcu_barrier();
    CHECK(finalized);
    fixture_destroy(&f);
    memory_region_destroy(&alias);
}

static PvAccessStatus err_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    (void)opaque;
    (void)off;
    (void)size;
    (void)val;
    return PV_ACCESS_DEVICE_ERROR;
}

static void test_device_error_counted(void)
{
    Fixture f;
    uint64_t v, counts[PV_ACCESS__COUNT];
    static const MemoryRegionOps ro_ops = { .write = err_write };
    MemoryRegion ro;

    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "owner", PV_DISPATCH_LOCKLESS, 1, 8, false);
    memory_region_init_io(&ro, &f.vm, &td->dev, &ro_ops, NULL, "ro", 0x10);
    fixture_map(&f, &ro, 0x1000);
    CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_DEVICE_ERROR);
    /* No read op: a device error, reading all-ones. */
    CHECK(address_space_read(&f.as, 0x1000, 4, &v) == PV_ACCESS_DEVICE_ERROR);
    CHECK_EQ_U64(v, 0xffffffff);
    memory_region_get_counts(&ro, counts);
    CHECK_EQ_U64(counts[PV_ACCESS_DEVICE_ERROR], 2);
    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
    memory_region_destroy(&ro);
}

/* A handler changes the memory map (commit) from inside a dispatch, in
 * each mode: commit never waits, so nothing deadlocks. */
typedef struct CommitHook {
    Fixture *f;
    MemoryRegion *ram;
    bool mapped;
} CommitHook;

static void commit_hook(TestDev *td, hwaddr off, bool is_write)
{
    CommitHook *h = td->hook_opaque;
    (void)off;
    if (is_write && !h->mapped) {
        memory_region_transaction_begin(&h->f->vm);
        memory_region_add_subregion(&h->f->root, 0x40000, h->ram);
        memory_region_transaction_commit(&h->f->vm);
        h->mapped = true;
    }
}

static void test_commit_inside_dispatch(void)
{
    for (int mode = PV_DISPATCH_GLOBAL; mode <= PV_DISPATCH_LOCKLESS; mode++) {
        Fixture f;
        MemoryRegion ram;
        uint64_t v;

        fixture_init(&f);
        CHECK(memory_region_init_ram(&ram, &f.vm, NULL, "late-ram", 0x1000) == 0);
        CommitHook h = { .f = &f, .ram = &ram };
        TestDev *td = testdev_new(&f.vm, &testdev_class, "mapper", mode, 1, 8, false);
        td->hook = commit_hook;
        td->hook_opaque = &h;
        fixture_map(&f, &td->mr, 0x1000);
        CHECK(address_space_read(&f.as, 0x40000, 4, &v) == PV_ACCESS_UNASSIGNED);
        CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
        CHECK(h.mapped);
        CHECK(address_space_write(&f.as, 0x40000, 4, 0x77) == PV_ACCESS_OK);
        CHECK_EQ_U64(ram.ram[0], 0x77);
        pv_device_unrealize(&td->dev);
        pv_device_unref(&td->dev);
        fixture_destroy(&f);
        memory_region_destroy(&ram);
    }
}

/* Read-only RAM (the board's reset ROM): guest writes are dropped, and no
 * writable host pointer is handed out; RAM pointers track the view. */
static void test_rom_and_ram_ptr(void)
{
    Fixture f;
    MemoryRegion rom, ram;
    uint64_t v;
    hwaddr avail = 0;

    fixture_init(&f);
    CHECK(memory_region_init_ram(&rom, &f.vm, NULL, "rom", 0x1000) == 0);
    CHECK(memory_region_init_ram(&ram, &f.vm, NULL, "ram", 0x2000) == 0);
    memory_region_set_readonly(&rom, true);
    rom.ram[0] = 0x13;
    fixture_map(&f, &rom, 0x1000);
    fixture_map(&f, &ram, 0x80000000);

    CHECK(address_space_write(&f.as, 0x1000, 1, 0xff) == PV_ACCESS_OK);
    CHECK(address_space_read(&f.as, 0x1000, 1, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x13);
    uint8_t buf[4] = { 1, 2, 3, 4 };
    CHECK(address_space_rw(&f.as, 0x1000, buf, 4, true) == PV_ACCESS_OK);
    CHECK_EQ_U64(rom.ram[0], 0x13);
    CHECK(address_space_ram_ptr(&f.as, 0x1000, true, &avail) == NULL);
    CHECK(address_space_ram_ptr(&f.as, 0x1010, false, &avail) == rom.ram + 0x10);
    CHECK_EQ_U64(avail, 0xff0);
    CHECK(address_space_ram_ptr(&f.as, 0x80001ff8, true, &avail) == ram.ram + 0x1ff8);
    CHECK_EQ_U64(avail, 8);
    CHECK(address_space_ram_ptr(&f.as, 0x80002000, false, &avail) == NULL);

    uint64_t gen = address_space_generation(&f.as);
    fixture_unmap(&f, &ram);
    CHECK(address_space_generation(&f.as) != gen);
    CHECK(address_space_ram_ptr(&f.as, 0x80000000, false, &avail) == NULL);
    fixture_unmap(&f, &rom);
    fixture_destroy(&f);
    memory_region_destroy(&rom);
    memory_region_destroy(&ram);
}

PV_TEST_MAIN(TEST(test_global_mode), TEST(test_device_mode), TEST(test_lockless_mode),
             TEST(test_all_global_switch), TEST(test_caller_holds_global_lock),
             TEST(test_notifiers), TEST(test_removed_device), TEST(test_device_error_counted),
             TEST(test_commit_inside_dispatch), TEST(test_rom_and_ram_ptr))
