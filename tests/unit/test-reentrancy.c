/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Re-entrancy guard (S6): a handler whose work reaches its own device again,
 * directly or through another device, is refused and counted, in every
 * dispatch mode, without deadlock.
 */
#include "fixture.h"
#include "harness.h"
#include "testdev.h"

typedef struct Target {
    AddressSpace *as;
    hwaddr addr;
    PvAccessStatus last;
    unsigned calls;
} Target;

/* On every write, write to @target->addr (DMA into a device's registers). */
static void write_target(TestDev *td, hwaddr off, bool is_write)
{
    Target *t = td->hook_opaque;
    (void)off;
    if (is_write) {
        t->calls++;
        t->last = address_space_write(t->as, t->addr, 4, 0xbad);
    }
}

static void test_handler_writes_own_region(void)
{
    for (int mode = PV_DISPATCH_GLOBAL; mode <= PV_DISPATCH_LOCKLESS; mode++) {
        Fixture f;
        uint64_t counts[PV_ACCESS__COUNT];

        fixture_init(&f);
        TestDev *td = testdev_new(&f.vm, &testdev_class, "self", mode, 1, 8, false);
        Target t = { .as = &f.as, .addr = 0x1004 };
        td->hook = write_target;
        td->hook_opaque = &t;
        fixture_map(&f, &td->mr, 0x1000);

        uint64_t errors = pv_vm_guest_errors(&f.vm);
        CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
        CHECK_EQ_U64(t.calls, 1);
        CHECK(t.last == PV_ACCESS_REENTRANT);
        CHECK_EQ_U64(td->nlog, 1);      /* the nested write never arrived */
        memory_region_get_counts(&td->mr, counts);
        CHECK_EQ_U64(counts[PV_ACCESS_OK], 1);
        CHECK_EQ_U64(counts[PV_ACCESS_REENTRANT], 1);
        CHECK_EQ_U64(pv_vm_guest_errors(&f.vm), errors + 1);
        CHECK_EQ_U64(pv_dispatch_depth(), 0);

        pv_device_unrealize(&td->dev);
        pv_device_unref(&td->dev);
        fixture_destroy(&f);
    }
}

/* a's handler writes b, b's handler writes a: the second hop is refused. */
static void test_two_devices_write_each_other(void)
{
    for (int mode = PV_DISPATCH_GLOBAL; mode <= PV_DISPATCH_LOCKLESS; mode++) {
        Fixture f;
        uint64_t ca[PV_ACCESS__COUNT], cb[PV_ACCESS__COUNT];

        fixture_init(&f);
        TestDev *a = testdev_new(&f.vm, &testdev_class, "ping", mode, 1, 8, false);
        TestDev *b = testdev_new(&f.vm, &testdev_peer_class, "pong", mode, 1, 8, false);
        Target ta = { .as = &f.as, .addr = 0x2000 }, tb = { .as = &f.as, .addr = 0x1000 };
        a->hook = write_target;
        a->hook_opaque = &ta;
        b->hook = write_target;
        b->hook_opaque = &tb;
        fixture_map(&f, &a->mr, 0x1000);
        fixture_map(&f, &b->mr, 0x2000);

        CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
        CHECK(ta.last == PV_ACCESS_OK);             /* a -> b went through */
        CHECK(tb.last == PV_ACCESS_REENTRANT);      /* b -> a refused */
        memory_region_get_counts(&a->mr, ca);
        memory_region_get_counts(&b->mr, cb);
        CHECK_EQ_U64(ca[PV_ACCESS_OK], 1);
        CHECK_EQ_U64(ca[PV_ACCESS_REENTRANT], 1);
        CHECK_EQ_U64(cb[PV_ACCESS_OK], 1);
        CHECK_EQ_U64(cb[PV_ACCESS_REENTRANT], 0);

        /* And from the other side. */
        CHECK(address_space_write(&f.as, 0x2000, 4, 1) == PV_ACCESS_OK);
        CHECK(tb.last == PV_ACCESS_OK);
        CHECK(ta.last == PV_ACCESS_REENTRANT);
        CHECK_EQ_U64(pv_locks_held(), 0);

        pv_device_unrealize(&a->dev);
        pv_device_unrealize(&b->dev);
        pv_device_unref(&a->dev);
        pv_device_unref(&b->dev);
        fixture_destroy(&f);
    }
}

/* A chain of distinct lockless devices, each writing the next: recursion
 * is bounded by the dispatch stack depth even without a cycle. */
#define CHAIN 12

static void test_depth_bound(void)
{
    Fixture f;
    TestDev *d[CHAIN];
    Target t[CHAIN];

    fixture_init(&f);
    for (int i = 0; i < CHAIN; i++) {
        d[i] = testdev_new(&f.vm, &testdev_class, "link", PV_DISPATCH_LOCKLESS, 1, 8, false);
        t[i] = (Target){ .as = &f.as, .addr = 0x1000 * (hwaddr)(i + 2) };
        d[i]->hook = write_target;
        d[i]->hook_opaque = &t[i];
        fixture_map(&f, &d[i]->mr, 0x1000 * (hwaddr)(i + 1));
    }
    CHECK(address_space_write(&f.as, 0x1000, 4, 1) == PV_ACCESS_OK);
    unsigned reached = 0;
    for (int i = 0; i < CHAIN; i++) {
        reached += d[i]->nlog;
    }
    CHECK_EQ_U64(reached, 8);   /* PV_DISPATCH_MAX_DEPTH */
    CHECK(t[7].last == PV_ACCESS_REENTRANT);
    for (int i = 0; i < CHAIN; i++) {
        pv_device_unrealize(&d[i]->dev);
        pv_device_unref(&d[i]->dev);
    }
    fixture_destroy(&f);
}

PV_TEST_MAIN(TEST(test_handler_writes_own_region), TEST(test_two_devices_write_each_other),
             TEST(test_depth_bound))
