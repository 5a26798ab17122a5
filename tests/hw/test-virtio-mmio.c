/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-mmio, empty slot: magic, version, device id 0, vendor; the rest
 * reads 0 and ignores writes.
 */
#include "fixture.h"
#include "harness.h"
#include "parvm/hw/virtio-mmio.h"

#define BASE 0x10001000

static uint64_t rd(Fixture *f, hwaddr addr, unsigned size)
{
    uint64_t v = 0;
    CHECK(address_space_read(&f->as, addr, size, &v) == PV_ACCESS_OK);
    return v;
}

static void test_empty_slots(void)
{
    Fixture f;
    PvIrq none = { 0 };

    fixture_init(&f);
    PvVirtioMmio *modern = pv_virtio_mmio_new(&f.vm, "virtio-mmio@10001000", &none, false);
    PvVirtioMmio *legacy = pv_virtio_mmio_new(&f.vm, "virtio-mmio@10002000", &none, true);
    fixture_map(&f, pv_virtio_mmio_mmio(modern), BASE);
    fixture_map(&f, pv_virtio_mmio_mmio(legacy), BASE + 0x1000);

    CHECK_EQ_U64(rd(&f, BASE + 0x000, 4), 0x74726976);
    CHECK_EQ_U64(rd(&f, BASE + 0x004, 4), 2);
    CHECK_EQ_U64(rd(&f, BASE + 0x008, 4), 0);
    CHECK_EQ_U64(rd(&f, BASE + 0x00c, 4), 0x554d4551);
    CHECK_EQ_U64(rd(&f, BASE + 0x1004, 4), 1);
    CHECK_EQ_U64(rd(&f, BASE + 0x1000, 4), 0x74726976);
    /* Byte reads of the magic spell "virt". */
    CHECK_EQ_U64(rd(&f, BASE + 0x000, 1), 'v');
    CHECK_EQ_U64(rd(&f, BASE + 0x003, 1), 't');
    for (hwaddr off = 0x10; off < 0x1000; off += 0x4) {
        if (rd(&f, BASE + off, 4) != 0) {
            CHECK(!"nonzero register in an empty slot");
        }
    }
    /* Writes are ignored. */
    CHECK(address_space_write(&f.as, BASE + 0x070, 4, 0xf) == PV_ACCESS_OK);
    CHECK(address_space_write(&f.as, BASE + 0x000, 4, 0) == PV_ACCESS_OK);
    CHECK_EQ_U64(rd(&f, BASE + 0x070, 4), 0);
    CHECK_EQ_U64(rd(&f, BASE + 0x000, 4), 0x74726976);

    pv_virtio_mmio_destroy(modern);
    pv_virtio_mmio_destroy(legacy);
    fixture_destroy(&f);
}

PV_TEST_MAIN(
    TEST(test_empty_slots),
)
