/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Access sizes: the core splits, widens and realigns accesses to what a
 * region declares, and splits accesses that span regions.  The device logs
 * exactly what it received.
 */
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "testdev.h"

typedef struct Want {
    bool is_write;
    hwaddr off;
    unsigned size;
    uint64_t val;
} Want;

static void check_log(const TestDev *td, const Want *want, unsigned n, int line)
{
    if (td->nlog != n) {
        printf("# line %d: device got %u accesses, expected %u\n", line, td->nlog, n);
        pv_test_failures++;
    }
    for (unsigned i = 0; i < n && i < td->nlog; i++) {
        const TestDevAccess *a = &td->log[i];
        if (a->is_write != want[i].is_write || a->off != want[i].off ||
            a->size != want[i].size || a->val != want[i].val) {
            printf("# line %d: access %u was %c%u@0x%" PRIx64 "=0x%" PRIx64
                   ", expected %c%u@0x%" PRIx64 "=0x%" PRIx64 "\n",
                   line, i, a->is_write ? 'W' : 'R', a->size, a->off, a->val,
                   want[i].is_write ? 'W' : 'R', want[i].size, want[i].off, want[i].val);
            pv_test_failures++;
        }
    }
}

#define CHECK_LOG(td, ...)                                                    \
    do {                                                                      \
        static const Want w_[] = { __VA_ARGS__ };                             \
        check_log((td), w_, sizeof(w_) / sizeof(w_[0]), __LINE__);           \
        testdev_clear_log(td);                                                \
    } while (0)

#define R(off, size, val) { false, (off), (size), (val) }
#define W(off, size, val) { true, (off), (size), (val) }

static void put_regs(TestDev *td, hwaddr off, uint64_t v, unsigned size)
{
    memcpy(&td->regs[off], &v, size);
}

/* A device that only takes aligned 32-bit accesses. */
static void test_widen_and_split_for_32bit_device(void)
{
    Fixture f;
    uint64_t v;

    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "d32", PV_DISPATCH_DEVICE, 4, 4, false);
    fixture_map(&f, &td->mr, 0x1000);
    put_regs(td, 0x10, 0x8877665544332211ull, 8);

    CHECK(address_space_read(&f.as, 0x1010, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x8877665544332211ull);
    CHECK_LOG(td, R(0x10, 4, 0x44332211), R(0x14, 4, 0x88776655));

    /* Narrow write, widened as QEMU does: the whole word, value shifted into
     * place, zeros elsewhere, and no read first (reads may have side
     * effects). */
    put_regs(td, 0x20, 0xddccbbaa, 4);
    CHECK(address_space_write(&f.as, 0x1021, 1, 0x5a) == PV_ACCESS_OK);
    CHECK_LOG(td, W(0x20, 4, 0x5a00));

    /* Narrow read: the enclosing word, the bytes asked for. */
    put_regs(td, 0x20, 0xddccbbaa, 4);
    CHECK(address_space_read(&f.as, 0x1022, 2, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xddcc);
    CHECK_LOG(td, R(0x20, 4, 0xddccbbaa));

    /* Misaligned 4-byte write: 1 + 2 + 1 bytes, each widened. */
    put_regs(td, 0x30, 0, 8);
    CHECK(address_space_write(&f.as, 0x1031, 4, 0x44332211) == PV_ACCESS_OK);
    CHECK_LOG(td, W(0x30, 4, 0x1100), W(0x30, 4, 0x33220000), W(0x34, 4, 0x44));
    CHECK(address_space_read(&f.as, 0x1031, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x44332200);        /* the second piece zeroed byte 1 */
    CHECK_LOG(td, R(0x30, 4, 0x33220000), R(0x30, 4, 0x33220000), R(0x34, 4, 0x44));

    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}

/* A device that takes 1..8 bytes, aligned only. */
static void test_realign_misaligned(void)
{
    Fixture f;
    uint64_t v;

    fixture_init(&f);
    TestDev *td = testdev_new(&f.vm, &testdev_class, "aligned", PV_DISPATCH_LOCKLESS, 1, 8, false);
    fixture_map(&f, &td->mr, 0x2000);

    CHECK(address_space_write(&f.as, 0x2003, 4, 0xa1b2c3d4) == PV_ACCESS_OK);
    CHECK_LOG(td, W(0x3, 1, 0xd4), W(0x4, 2, 0xb2c3), W(0x6, 1, 0xa1));
    CHECK(address_space_read(&f.as, 0x2005, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xa1b2);
    CHECK_LOG(td, R(0x5, 1, 0xb2), R(0x6, 2, 0xa1), R(0x8, 4, 0), R(0xc, 1, 0));

    pv_device_unrealize(&td->dev);
    pv_device_unref(&td->dev);
    fixture_destroy(&f);
}

/* A device that accepts unaligned accesses gets them whole; one whose
 * maximum is 2 gets 8-byte writes in four pieces. */
static void test_unaligned_and_max(void)
{
    Fixture f;

    fixture_init(&f);
    TestDev *un = testdev_new(&f.vm, &testdev_class, "unaligned", PV_DISPATCH_LOCKLESS, 1, 8, true);
    TestDev *m2 = testdev_new(&f.vm, &testdev_class, "max2", PV_DISPATCH_LOCKLESS, 1, 2, false);
    fixture_map(&f, &un->mr, 0x3000);
    fixture_map(&f, &m2->mr, 0x4000);

    CHECK(address_space_write(&f.as, 0x3003, 4, 0x11223344) == PV_ACCESS_OK);
    CHECK_LOG(un, W(0x3, 4, 0x11223344));
    CHECK(address_space_write(&f.as, 0x4008, 8, 0x0807060504030201ull) == PV_ACCESS_OK);
    CHECK_LOG(m2, W(0x8, 2, 0x0201), W(0xa, 2, 0x0403), W(0xc, 2, 0x0605), W(0xe, 2, 0x0807));

    pv_device_unrealize(&un->dev);
    pv_device_unrealize(&m2->dev);
    pv_device_unref(&un->dev);
    pv_device_unref(&m2->dev);
    fixture_destroy(&f);
}

/* Accesses that span two devices, a device and a gap, and RAM. */
static void test_span_regions(void)
{
    Fixture f;
    uint64_t v;
    MemoryRegion ram;

    fixture_init(&f);
    TestDev *a = testdev_new(&f.vm, &testdev_class, "a", PV_DISPATCH_DEVICE, 1, 8, false);
    TestDev *b = testdev_new(&f.vm, &testdev_peer_class, "b", PV_DISPATCH_DEVICE, 1, 8, false);
    fixture_map(&f, &a->mr, 0x1000);
    fixture_map(&f, &b->mr, 0x1000 + TESTDEV_SIZE);
    CHECK(memory_region_init_ram(&ram, &f.vm, NULL, "ram", 0x1000) == 0);
    fixture_map(&f, &ram, 0x8000);

    put_regs(a, TESTDEV_SIZE - 2, 0xbbaa, 2);
    put_regs(b, 0, 0xddcc, 2);
    CHECK(address_space_read(&f.as, 0x1000 + TESTDEV_SIZE - 2, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xddccbbaa);
    CHECK_LOG(a, R(TESTDEV_SIZE - 2, 2, 0xbbaa));
    CHECK_LOG(b, R(0, 2, 0xddcc));

    /* b ends at 0x1200; nothing follows: upper bytes read as all-ones. */
    put_regs(b, TESTDEV_SIZE - 2, 0x2211, 2);
    CHECK(address_space_read(&f.as, 0x1000 + 2 * TESTDEV_SIZE - 2, 4, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(v, 0xffff2211);
    CHECK_LOG(b, R(TESTDEV_SIZE - 2, 2, 0x2211));
    uint64_t un[PV_ACCESS__COUNT];
    address_space_get_unassigned_counts(&f.as, un);
    CHECK_EQ_U64(un[PV_ACCESS_UNASSIGNED], 1);

    /* Fully unassigned: all-ones, writes ignored. */
    CHECK(address_space_read(&f.as, 0x90000, 8, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK(address_space_write(&f.as, 0x90000, 2, 1) == PV_ACCESS_UNASSIGNED);

    /* RAM: unaligned 8-byte access, and the DMA path across RAM and MMIO. */
    CHECK(address_space_write(&f.as, 0x8003, 8, 0x0123456789abcdefull) == PV_ACCESS_OK);
    CHECK(address_space_read(&f.as, 0x8003, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x0123456789abcdefull);
    CHECK_EQ_U64(ram.ram[3], 0xef);

    uint8_t buf[24];
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(0x40 + i);
    }
    /* 0x8ff4..0x900b: 12 bytes of RAM, then 12 of nothing. */
    CHECK(address_space_rw(&f.as, 0x8ff4, buf, sizeof(buf), true) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(ram.ram[0xff4], 0x40);
    CHECK_EQ_U64(ram.ram[0xfff], 0x4b);
    CHECK(address_space_rw(&f.as, 0x8ff4, buf, sizeof(buf), false) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(buf[11], 0x4b);
    CHECK_EQ_U64(buf[12], 0xff);
    /* DMA into MMIO: naturally aligned pieces. */
    testdev_clear_log(a);
    CHECK(address_space_rw(&f.as, 0x1001, buf, 7, true) == PV_ACCESS_OK);
    CHECK_LOG(a, W(0x1, 1, 0x40), W(0x2, 2, 0x4241), W(0x4, 4, 0x46454443));

    pv_device_unrealize(&a->dev);
    pv_device_unrealize(&b->dev);
    pv_device_unref(&a->dev);
    pv_device_unref(&b->dev);
    fixture_unmap(&f, &ram);
    fixture_destroy(&f);
    memory_region_destroy(&ram);
}

/* A write-only device with a 32-bit minimum still gets narrow writes
 * (widened, never preceded by a read). */
static unsigned wo_writes;
static PvAccessStatus wo_write(void *o, hwaddr off, unsigned size, uint64_t val)
{
    (void)o;
    CHECK_EQ_U64(off, 0);
    CHECK_EQ_U64(size, 4);
    CHECK_EQ_U64(val, 0x5a0000);
    wo_writes++;
    return PV_ACCESS_OK;
}

static void test_narrow_write_to_write_only_device(void)
{
    Fixture f;
    static const MemoryRegionOps wo_ops = { .write = wo_write, .impl = { 4, 4, false } };
    MemoryRegion wo;

    fixture_init(&f);
    TestDev *owner = testdev_new(&f.vm, &testdev_class, "o", PV_DISPATCH_LOCKLESS, 1, 8, false);
    memory_region_init_io(&wo, &f.vm, &owner->dev, &wo_ops, NULL, "wo", 0x10);
    fixture_map(&f, &wo, 0x1000);
    CHECK(address_space_write(&f.as, 0x1002, 1, 0x5a) == PV_ACCESS_OK);
    CHECK_EQ_U64(wo_writes, 1);
    pv_device_unrealize(&owner->dev);
    pv_device_unref(&owner->dev);
    fixture_destroy(&f);
    memory_region_destroy(&wo);
}

/* Nothing is mapped past 2^64: an access at the top never wraps to 0. */
static void test_no_wrap_at_top(void)
{
    Fixture f;
    MemoryRegion top, low;
    uint64_t v;
    uint8_t buf[16];

    fixture_init(&f);
    CHECK(memory_region_init_ram(&top, &f.vm, NULL, "top", 0x1000) == 0);
    CHECK(memory_region_init_ram(&low, &f.vm, NULL, "low", 0x1000) == 0);
    fixture_map(&f, &top, UINT64_MAX - 0xfff);
    fixture_map(&f, &low, 0);
    CHECK(address_space_write(&f.as, UINT64_MAX - 3, 8, 0x1122334455667788ull) ==
          PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(top.ram[0xffc], 0x88);
    CHECK_EQ_U64(low.ram[0], 0);
    CHECK(address_space_read(&f.as, UINT64_MAX - 3, 8, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(v, 0xffffffff55667788ull);
    memset(buf, 0xab, sizeof(buf));
    CHECK(address_space_rw(&f.as, UINT64_MAX - 7, buf, sizeof(buf), true) ==
          PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(low.ram[0], 0);
    CHECK_EQ_U64(top.ram[0xfff], 0xab);
    fixture_unmap(&f, &top);
    fixture_unmap(&f, &low);
    fixture_destroy(&f);
    memory_region_destroy(&top);
    memory_region_destroy(&low);
}

PV_TEST_MAIN(TEST(test_widen_and_split_for_32bit_device), TEST(test_realign_misaligned),
             TEST(test_unaligned_and_max), TEST(test_span_regions),
             TEST(test_narrow_write_to_write_only_device), TEST(test_no_wrap_at_top))
