/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-mmio, empty slot: see include/parvm/hw/virtio-mmio.h.  Immutable
 * after creation, hence lockless.
 */
#include "parvm/hw/virtio-mmio.h"

#include <stdlib.h>

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c

struct PvVirtioMmio {
    PvDevice dev;
    MemoryRegion mmio;
    PvIrq irq;          /* unused until a device is plugged */
    unsigned version;
};

static PvAccessStatus vmmio_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvVirtioMmio *v = opaque;

    (void)size;
    switch (off) {
    case REG_MAGIC:
        *val = PV_VIRTIO_MMIO_MAGIC;
        break;
    case REG_VERSION:
        *val = v->version;
        break;
    case REG_VENDOR_ID:
        *val = PV_VIRTIO_MMIO_VENDOR;
        break;
    default:
        *val = 0;   /* DeviceID 0 included: nothing plugged */
        break;
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus vmmio_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    /* As QEMU without a backend: writes are ignored, silently (Linux's
     * probe writes nothing to an empty slot, but resets may). */
    (void)opaque;
    (void)off;
    (void)size;
    (void)val;
    return PV_ACCESS_OK;
}

static const MemoryRegionOps vmmio_ops = {
    .read = vmmio_read,
    .write = vmmio_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void vmmio_finalize(PvDevice *dev)
{
    PvVirtioMmio *v = (PvVirtioMmio *)dev;

    memory_region_destroy(&v->mmio);
    free(v);
}

static PvDeviceClass vmmio_class = {
    .type = "virtio-mmio",
    .lock_class = PV_LOCK_CLASS_INIT("virtio-mmio", PV_LOCK_KIND_DEVICE),
    .finalize = vmmio_finalize,
};

PvVirtioMmio *pv_virtio_mmio_new(PvVm *vm, const char *id, const PvIrq *irq, bool legacy)
{
    PvVirtioMmio *v = calloc(1, sizeof(*v));

    if (!v) {
        return NULL;
    }
    v->irq = *irq;
    v->version = legacy ? 1 : 2;
    pv_device_init(&v->dev, &vmmio_class, vm, id);
    memory_region_init_io(&v->mmio, vm, &v->dev, &vmmio_ops, v, id, PV_VIRTIO_MMIO_SIZE);
    memory_region_set_dispatch_mode(&v->mmio, PV_DISPATCH_LOCKLESS);
    return v;
}

MemoryRegion *pv_virtio_mmio_mmio(PvVirtioMmio *v)
{
    return &v->mmio;
}

PvDevice *pv_virtio_mmio_device(PvVirtioMmio *v)
{
    return &v->dev;
}

void pv_virtio_mmio_destroy(PvVirtioMmio *v)
{
    pv_device_unrealize(&v->dev);
    pv_device_unref(&v->dev);
}
