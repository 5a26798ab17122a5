/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-testdev: see include/parvm/hw/testdev.h.  One device, three
 * regions, one per dispatch mode worth testing under hot-unplug:
 *   regs  (lockless)     atomics only;
 *   value (device lock)  a plain word, touched only by its handlers;
 *   dma   (device lock)  DMA address, sequence and status, likewise.
 */
#include "parvm/hw/testdev.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "parvm/dispatch.h"

typedef void PvTestdevProbe(void *opaque);

struct PvTestdev {
    PvDevice dev;
    MemoryRegion container;
    MemoryRegion regs, value_mr, dma_mr;
    AddressSpace *dma_as;

    /* Set once unrealize has returned: from then on no handler may run
     * (G1).  A test device exists to be checked, so it checks itself. */
    atomic_bool gone;

    _Atomic(PvTestdevProbe *) probe;
    _Atomic(void *) probe_opaque;

    /* Lockless region. */
    atomic_uint counter;
    atomic_uint_fast64_t accesses;

    /* Under dev.lock (device-mode handlers). */
    uint32_t value;
    uint64_t dma_addr;
    uint32_t dma_seq;
    uint32_t dma_status;
};

/* Start of every handler: the probe, then count the access. */
static void enter(PvTestdev *t)
{
    if (atomic_load_explicit(&t->gone, memory_order_acquire)) {
        fprintf(stderr, "parvm-testdev %s: a handler ran after the device was removed "
                "(G1 violated)\n", t->dev.id);
        abort();
    }
    PvTestdevProbe *probe = atomic_load_explicit(&t->probe, memory_order_acquire);

    if (probe) {
        probe(atomic_load_explicit(&t->probe_opaque, memory_order_relaxed));
    }
    atomic_fetch_add_explicit(&t->accesses, 1, memory_order_relaxed);
}

static void bad_access(PvTestdev *t, const char *what, hwaddr off, uint64_t val)
{
    pv_guest_error(t->dev.vm, "parvm-testdev %s: %s at 0x%" PRIx64 " (0x%" PRIx64 ") ignored",
                   t->dev.id, what, (uint64_t)off, val);
}

/* ---- 0x000: lockless -------------------------------------------------- */

static PvAccessStatus regs_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    switch (off) {
    case PV_TESTDEV_REG_ID:
        *val = PV_TESTDEV_ID;
        break;
    case PV_TESTDEV_REG_COUNTER:
        *val = atomic_load(&t->counter);
        break;
    case PV_TESTDEV_REG_ACCESSES:
        *val = (uint32_t)atomic_load(&t->accesses);
        break;
    default:
        *val = 0;
        bad_access(t, "read", off, 0);
        break;
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus regs_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    if (off == PV_TESTDEV_REG_COUNTER) {
        atomic_fetch_add(&t->counter, (uint32_t)val);
    } else {
        bad_access(t, "write", off, val);
    }
    return PV_ACCESS_OK;
}

/* ---- 0x100: device lock ----------------------------------------------- */

static PvAccessStatus value_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    if (off == 0) {
        *val = t->value;
    } else {
        *val = 0;
        bad_access(t, "read", 0x100 + off, 0);
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus value_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    if (off == 0) {
        t->value = (uint32_t)val;
    } else {
        bad_access(t, "write", 0x100 + off, val);
    }
    return PV_ACCESS_OK;
}

/* ---- 0x200: device lock, DMA ------------------------------------------ */

static PvAccessStatus dma_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    switch (off + 0x200) {
    case PV_TESTDEV_REG_DMA_ADDR_LO:
        *val = (uint32_t)t->dma_addr;
        break;
    case PV_TESTDEV_REG_DMA_ADDR_HI:
        *val = (uint32_t)(t->dma_addr >> 32);
        break;
    case PV_TESTDEV_REG_DMA_STATUS:
        *val = t->dma_status;
        break;
    default:
        *val = 0;
        bad_access(t, "read", 0x200 + off, 0);
        break;
    }
    return PV_ACCESS_OK;
}

static void do_dma(PvTestdev *t, uint32_t v)
{
    uint32_t seq = ++t->dma_seq;
    uint8_t buf[8];

    for (unsigned i = 0; i < 4; i++) {
        buf[i] = (uint8_t)(v >> (8 * i));
        buf[4 + i] = (uint8_t)(seq >> (8 * i));
    }
    t->dma_status = address_space_rw(t->dma_as, t->dma_addr, buf, sizeof(buf), true);
}

static PvAccessStatus dma_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvTestdev *t = opaque;
    (void)size;

    enter(t);
    switch (off + 0x200) {
    case PV_TESTDEV_REG_DMA_ADDR_LO:
        t->dma_addr = (t->dma_addr & ~(uint64_t)UINT32_MAX) | (uint32_t)val;
        break;
    case PV_TESTDEV_REG_DMA_ADDR_HI:
        t->dma_addr = (t->dma_addr & UINT32_MAX) | ((uint64_t)(uint32_t)val << 32);
        break;
    case PV_TESTDEV_REG_DOORBELL:
        do_dma(t, (uint32_t)val);
        break;
    default:
        bad_access(t, "write", 0x200 + off, val);
        break;
    }
    return PV_ACCESS_OK;
}

static const MemoryRegionOps regs_ops = {
    .read = regs_read,
    .write = regs_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static const MemoryRegionOps value_ops = {
    .read = value_read,
    .write = value_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static const MemoryRegionOps dma_ops = {
    .read = dma_read,
    .write = dma_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* ---- lifetime ----------------------------------------------------------- */

static void testdev_finalize(PvDevice *dev)
{
    PvTestdev *t = (PvTestdev *)dev;
    PvVm *vm = dev->vm;

    /* memory_region_destroy() wants unmapped regions: detach the
     * subregions from our container.  Unrealize already unmapped the
     * container, so this commit changes no view; it takes only the map
     * lock and never waits, which finalize may do. */
    memory_region_transaction_begin(vm);
    memory_region_del_subregion(&t->container, &t->regs);
    memory_region_del_subregion(&t->container, &t->value_mr);
    memory_region_del_subregion(&t->container, &t->dma_mr);
    if (t->container.container) {
        /* Never unrealized, or mapped below a container nobody reaches:
         * no view maps it any more since we are being finalized. */
        memory_region_del_subregion(t->container.container, &t->container);
    }
    memory_region_transaction_commit(vm);

    memory_region_destroy(&t->regs);
    memory_region_destroy(&t->value_mr);
    memory_region_destroy(&t->dma_mr);
    memory_region_destroy(&t->container);
    free(t);
}

static PvDeviceClass testdev_class = {
    .type = "parvm-testdev",
    .lock_class = PV_LOCK_CLASS_INIT("parvm-testdev", PV_LOCK_KIND_DEVICE),
    .finalize = testdev_finalize,
};

PvTestdev *pv_testdev_new(PvVm *vm, AddressSpace *dma_as, const char *id)
{
    PvTestdev *t = calloc(1, sizeof(*t));

    if (!t) {
        return NULL;
    }
    t->dma_as = dma_as;
    atomic_init(&t->gone, false);
    atomic_init(&t->probe, NULL);
    atomic_init(&t->probe_opaque, NULL);
    atomic_init(&t->counter, 0);
    atomic_init(&t->accesses, 0);
    pv_device_init(&t->dev, &testdev_class, vm, id);

    memory_region_init_container(&t->container, vm, &t->dev, "parvm-testdev", PV_TESTDEV_SIZE);
    memory_region_init_io(&t->regs, vm, &t->dev, &regs_ops, t, "parvm-testdev.regs", 0x100);
    memory_region_set_dispatch_mode(&t->regs, PV_DISPATCH_LOCKLESS);
    memory_region_init_io(&t->value_mr, vm, &t->dev, &value_ops, t, "parvm-testdev.value",
                          0x100);
    memory_region_set_dispatch_mode(&t->value_mr, PV_DISPATCH_DEVICE);
    memory_region_init_io(&t->dma_mr, vm, &t->dev, &dma_ops, t, "parvm-testdev.dma", 0x100);
    memory_region_set_dispatch_mode(&t->dma_mr, PV_DISPATCH_DEVICE);

    /* Not reachable yet: this commit changes no view. */
    memory_region_transaction_begin(vm);
    memory_region_add_subregion(&t->container, 0x000, &t->regs);
    memory_region_add_subregion(&t->container, 0x100, &t->value_mr);
    memory_region_add_subregion(&t->container, 0x200, &t->dma_mr);
    memory_region_transaction_commit(vm);
    return t;
}

MemoryRegion *pv_testdev_mmio(PvTestdev *t)
{
    return &t->container;
}

PvDevice *pv_testdev_device(PvTestdev *t)
{
    return &t->dev;
}

void pv_testdev_destroy(PvTestdev *t)
{
    pv_device_unrealize(&t->dev);
    atomic_store_explicit(&t->gone, true, memory_order_release);
    pv_device_unref(&t->dev);
}

void pv_testdev_set_probe(PvTestdev *t, void (*probe)(void *opaque), void *opaque)
{
    if (probe) {
        atomic_store_explicit(&t->probe_opaque, opaque, memory_order_relaxed);
    }
    atomic_store_explicit(&t->probe, probe, memory_order_release);
}
