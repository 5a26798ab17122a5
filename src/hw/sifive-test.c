/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sifive_test: see include/parvm/hw/sifive-test.h.  Stateless, so lockless.
 */
#include "parvm/hw/sifive-test.h"

#include <inttypes.h>
#include <stdlib.h>

#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555
#define FINISHER_RESET 0x7777

struct PvSifiveTest {
    PvDevice dev;
    MemoryRegion mmio;
    PvTestRequestFunc *request;
    void *opaque;
};

static PvAccessStatus test_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    (void)opaque;
    (void)off;
    (void)size;
    *val = 0;
    return PV_ACCESS_OK;
}

static PvAccessStatus test_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvSifiveTest *t = opaque;

    if (off == 0) {
        unsigned status = val & 0xffff;
        int code = (int)((val >> 16) & 0xffff);

        switch (status) {
        case FINISHER_FAIL:
            t->request(t->opaque, PV_TEST_EXIT, code);
            return PV_ACCESS_OK;
        case FINISHER_PASS:
            t->request(t->opaque, PV_TEST_POWEROFF, 0);
            return PV_ACCESS_OK;
        case FINISHER_RESET:
            t->request(t->opaque, PV_TEST_RESET, 0);
            return PV_ACCESS_OK;
        default:
            break;
        }
    }
    pv_guest_error(t->dev.vm, "sifive_test: write of size %u at 0x%" PRIx64
                   " value 0x%" PRIx64 " ignored", size, (uint64_t)off, val);
    return PV_ACCESS_OK;
}

static const MemoryRegionOps test_ops = {
    .read = test_read,
    .write = test_write,
    /* QEMU accepts 2..4 bytes: a 16-bit 0x5555 is a pass too.  8-byte
     * writes are split; the high half lands at offset 4, an error. */
    .impl = { .min_access_size = 2, .max_access_size = 4 },
};

static void test_finalize(PvDevice *dev)
{
    PvSifiveTest *t = (PvSifiveTest *)dev;

    memory_region_destroy(&t->mmio);
    free(t);
}

static PvDeviceClass test_class = {
    .type = "riscv.sifive.test",
    .lock_class = PV_LOCK_CLASS_INIT("riscv.sifive.test", PV_LOCK_KIND_DEVICE),
    .finalize = test_finalize,
};

PvSifiveTest *pv_sifive_test_new(PvVm *vm, PvTestRequestFunc *request, void *opaque)
{
    PvSifiveTest *t = calloc(1, sizeof(*t));

    if (!t) {
        return NULL;
    }
    t->request = request;
    t->opaque = opaque;
    pv_device_init(&t->dev, &test_class, vm, "test");
    memory_region_init_io(&t->mmio, vm, &t->dev, &test_ops, t, "riscv.sifive.test",
                          PV_SIFIVE_TEST_SIZE);
    memory_region_set_dispatch_mode(&t->mmio, PV_DISPATCH_LOCKLESS);
    return t;
}

MemoryRegion *pv_sifive_test_mmio(PvSifiveTest *t)
{
    return &t->mmio;
}

PvDevice *pv_sifive_test_device(PvSifiveTest *t)
{
    return &t->dev;
}

void pv_sifive_test_destroy(PvSifiveTest *t)
{
    pv_device_unrealize(&t->dev);
    pv_device_unref(&t->dev);
}
