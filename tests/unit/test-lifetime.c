/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device lifetime under concurrency: a second remover must not return
 * before the first one's accesses finished (G1), removal works whatever
 * became of the device's other regions, and a device-mode region in
 * all-global mode still excludes the device's own lock-holding paths.
 * Run under ThreadSanitizer and AddressSanitizer by scripts/test.sh.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "harness.h"
#include "testdev.h"

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

typedef struct Blocker {
    Fixture *f;
    TestDev *td;
    atomic_int in_handler, release, handler_done;
    atomic_int returned;        /* removers that came back from unrealize */
    atomic_int returned_while_running;
} Blocker;

/* The handler blocks until released: an access in flight. */
static void blocking_hook(TestDev *td, hwaddr off, bool is_write)
{
    Blocker *b = td->hook_opaque;
    (void)off;
    if (is_write) {
        atomic_store(&b->in_handler, 1);
        while (!atomic_load(&b->release)) {
            sleep_ms(1);
        }
        atomic_store(&b->handler_done, 1);
    }
}

static void *dispatch_thread(void *p)
{
    Blocker *b = p;
    pv_rcu_register_thread();
    address_space_write(&b->f->as, 0x1000, 4, 1);
    pv_rcu_unregister_thread();
    return NULL;
}

static void *unrealize_thread(void *p)
{
    Blocker *b = p;
    pv_rcu_register_thread();
    pv_device_unrealize(&b->td->dev);
    if (!atomic_load(&b->handler_done)) {
        atomic_fetch_add(&b->returned_while_running, 1);
    }
    atomic_fetch_add(&b->returned, 1);
    pv_rcu_unregister_thread();
    return NULL;
}

/* Two removers race (device_del and a forced-removal timeout, say): the
 * one that finds the device already marked must still wait for the access
 * in flight before it returns (G1). */
static void test_concurrent_unrealize_g1(void)
{
    Fixture f;
    Blocker b = { .f = &f };
    pthread_t d, u1, u2;

    fixture_init(&f);
    b.td = testdev_new(&f.vm, &testdev_class, "blk", PV_DISPATCH_LOCKLESS, 1, 8, false);
    b.td->hook = blocking_hook;
    b.td->hook_opaque = &b;
    fixture_map(&f, &b.td->mr, 0x1000);
    pv_rcu_offline();   /* this thread only waits from here on */
    pthread_create(&d, NULL, dispatch_thread, &b);
    while (!atomic_load(&b.in_handler)) {
        sleep_ms(1);
    }
    pthread_create(&u1, NULL, unrealize_thread, &b);
    while (!pv_device_is_removed(&b.td->dev)) {
        sleep_ms(1);
    }
    pthread_create(&u2, NULL, unrealize_thread, &b);
    sleep_ms(50);
    CHECK_EQ_U64(atomic_load(&b.returned), 0);     /* both still waiting */
    atomic_store(&b.release, 1);
    pthread_join(d, NULL);
    pthread_join(u1, NULL);
    pthread_join(u2, NULL);
    pv_rcu_online();
    CHECK_EQ_U64(atomic_load(&b.returned), 2);
    CHECK_EQ_U64(atomic_load(&b.returned_while_running), 0);
    pv_device_unref(&b.td->dev);
    fixture_destroy(&f);
}

/* A region the device created and destroyed (never or no longer mapped)
 * does not trouble removal. */
static void test_destroyed_region_then_unrealize(void)
{
    Fixture f;
    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "bar", PV_DISPATCH_DEVICE, 1, 8, false);
    MemoryRegion *extra = malloc(sizeof(*extra));
    memory_region_init_io(extra, &f.vm, &td->dev, &td->ops, td, "tmp", 0x100);
    fixture_map(&f, extra, 0x2000);
    fixture_unmap(&f, extra);
    pv_rcu_barrier();
    memory_region_destroy(extra);
    free(extra);
    fixture_map(&f, &td->mr, 0x1000);
    pv_device_unrealize(&td->dev);
    uint64_t v;
    CHECK(address_space_read(&f.as, 0x1000, 4, &v) == PV_ACCESS_UNASSIGNED);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}

/* A device region inside a container owned by someone else is found and
 * unmapped too. */
static void test_unrealize_finds_nested_regions(void)
{
    Fixture f;
    MemoryRegion bus;
    uint64_t v;
    fixture_init(&f);
    memory_region_init_container(&bus, &f.vm, NULL, "bus", 0x10000);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "nested", PV_DISPATCH_LOCKLESS, 1, 8, false);
    memory_region_transaction_begin(&f.vm);
    memory_region_add_subregion(&bus, 0x100, &td->mr);
    memory_region_add_subregion(&f.root, 0x40000, &bus);
    memory_region_transaction_commit(&f.vm);
    CHECK(address_space_read(&f.as, 0x40100, 4, &v) == PV_ACCESS_OK);
    pv_device_unrealize(&td->dev);
    CHECK(td->mr.container == NULL);
    CHECK(address_space_read(&f.as, 0x40100, 4, &v) == PV_ACCESS_UNASSIGNED);
    pv_device_unref(&td->dev);
    fixture_unmap(&f, &bus);
    fixture_destroy(&f);
    memory_region_destroy(&bus);
}

/* S12: in all-global mode a device-mode handler still holds its device
 * lock, so the device's own lock-holding paths (I/O thread, timers) are
 * excluded. */
static atomic_bool stop8;
static void *iothread_like(void *p)
{
    TestDev *td = p;
    while (!atomic_load(&stop8)) {
        pv_mutex_lock(&td->dev.lock);       /* how a converted device's rx path runs */
        td->regs[0]++;
        pv_mutex_unlock(&td->dev.lock);
    }
    return NULL;
}
static void test_all_global_device_state_race(void)
{
    Fixture f;
    pthread_t t;
    fixture_init(&f);
    pv_vm_set_all_global(&f.vm, true);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "conv", PV_DISPATCH_DEVICE, 1, 8, false);
    fixture_map(&f, &td->mr, 0x1000);
    pthread_create(&t, NULL, iothread_like, td);
    for (int i = 0; i < 20000; i++) {
        testdev_clear_log(td);
        address_space_write(&f.as, 0x1000, 1, (uint64_t)i);
    }
    atomic_store(&stop8, true);
    pthread_join(t, NULL);
    CHECK(td->nlog == 1 && td->log[0].dev_lock_held);
    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}


/* DMA (address_space_rw) racing a hart's RAM stores is a guest race, not a
 * host one: TSan must stay quiet. */
typedef struct R9 { Fixture *f; atomic_bool stop; } R9;
static void *hart_like(void *p)
{
    R9 *r = p;
    pv_rcu_register_thread();
    for (unsigned i = 0; !atomic_load(&r->stop); i++) {
        address_space_write(&r->f->as, 0x8000, 8, i);     /* atomic store path */
        if ((i & 63) == 0) pv_rcu_quiescent();
    }
    pv_rcu_unregister_thread();
    return NULL;
}
static void test_dma_memcpy_races_hart(void)
{
    Fixture f;
    MemoryRegion ram;
    R9 r = { .f = &f };
    pthread_t t;
    uint8_t buf[16];
    fixture_init(&f);
    CHECK(memory_region_init_ram(&ram, &f.vm, NULL, "ram", 0x1000) == 0);
    fixture_map(&f, &ram, 0x8000);
    pthread_create(&t, NULL, hart_like, &r);
    for (int i = 0; i < 20000; i++) {
        address_space_rw(&f.as, 0x8000, buf, sizeof(buf), false);
    }
    atomic_store(&r.stop, true);
    pv_rcu_offline();
    pthread_join(t, NULL);
    pv_rcu_online();
    fixture_unmap(&f, &ram);
    fixture_destroy(&f);
    memory_region_destroy(&ram);
}

/* An eject register: the handler cannot unrealize inside its dispatch, so
 * it defers; the write returns only once the other device is gone. */
typedef struct Eject {
    TestDev *victim;
    PvDeferred work;
    int ran;
    bool may_wait;
} Eject;

static void eject_work(void *opaque, bool may_wait)
{
    Eject *e = opaque;
    e->ran++;
    e->may_wait = may_wait;
    if (may_wait) {
        pv_device_unrealize(&e->victim->dev);
    }
}

static void eject_hook(TestDev *td, hwaddr off, bool is_write)
{
    Eject *e = td->hook_opaque;
    (void)off;
    if (is_write) {
        CHECK_EQ_U64(e->ran, 0);    /* not inside the handler */
        e->work = (PvDeferred){ .fn = eject_work, .opaque = e };
        pv_dispatch_defer(&e->work);
    }
}

static void test_deferred_eject(void)
{
    Fixture f;
    uint64_t v;
    Eject e = { 0 };
    static PvLockClass held_class = PV_LOCK_CLASS_INIT("test-held", PV_LOCK_KIND_CORE);
    PvMutex held;

    fixture_init(&f);
    TestDev *ctl = testdev_new(&f.vm, &testdev_class, "ctl", PV_DISPATCH_LOCKLESS, 1, 8, false);
    TestDev *dev = testdev_new(&f.vm, &testdev_peer_class, "dev", PV_DISPATCH_DEVICE, 1, 8, false);
    ctl->hook = eject_hook;
    ctl->hook_opaque = &e;
    e.victim = dev;
    fixture_map(&f, &ctl->mr, 0x1000);
    fixture_map(&f, &dev->mr, 0x2000);

    /* A caller holding a lock: the work runs, told it may not wait. */
    pv_mutex_init(&held, &held_class);
    pv_mutex_lock(&held);
    CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
    pv_mutex_unlock(&held);
    CHECK_EQ_U64(e.ran, 1);
    CHECK(!e.may_wait);
    CHECK(!pv_device_is_removed(&dev->dev));

    /* A plain caller (a vCPU's store): the device is gone when it returns. */
    e.ran = 0;
    CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
    CHECK_EQ_U64(e.ran, 1);
    CHECK(e.may_wait);
    CHECK(pv_device_is_removed(&dev->dev));
    CHECK(address_space_read(&f.as, 0x2000, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(pv_dispatch_depth(), 0);

    pv_mutex_destroy(&held);
    pv_device_unrealize(&ctl->dev);
    pv_device_unref(&ctl->dev);
    pv_device_unref(&dev->dev);
    fixture_destroy(&f);
}

PV_TEST_MAIN(TEST(test_concurrent_unrealize_g1), TEST(test_destroyed_region_then_unrealize),
             TEST(test_unrealize_finds_nested_regions), TEST(test_all_global_device_state_race),
             TEST(test_dma_memcpy_races_hart), TEST(test_deferred_eject))
