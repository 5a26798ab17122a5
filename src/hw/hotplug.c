/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-hotplug: see include/parvm/hw/hotplug.h and docs/hotplug.md.
 *
 * Lockless: the state is three atomic 32-bit maps, changed by guest writes
 * (INSERTED W1C) and by the host calls from any thread.  The interrupt line
 * follows STATUS != 0.  Updates race, so after every change the level is
 * recomputed and set, then recomputed once more: if the state moved under
 * us, set it again.  Whichever pv_irq_set() lands last was followed by a
 * re-check that saw the final state (any change after that re-check has its
 * own pv_irq_set() after it), so the final level matches the final STATUS.
 */
#include "parvm/hw/hotplug.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct PvHotplug {
    PvDevice dev;
    MemoryRegion mmio;
    PvIrq irq;
    unsigned slots;
    PvHotplugEjectFunc *eject;
    void *opaque;
    atomic_uint present;
    atomic_uint inserted;
    atomic_uint eject_req;
};

static uint32_t status_now(PvHotplug *h)
{
    uint32_t s = 0;

    if (atomic_load(&h->inserted)) {
        s |= PV_HOTPLUG_STATUS_INSERTED;
    }
    if (atomic_load(&h->eject_req)) {
        s |= PV_HOTPLUG_STATUS_EJECT_REQ;
    }
    return s;
}

static void update_irq(PvHotplug *h)
{
    bool level = status_now(h) != 0;

    for (;;) {
        pv_irq_set(&h->irq, level);
        bool now = status_now(h) != 0;
        if (now == level) {
            return;
        }
        level = now;
    }
}

static uint32_t slot_bit(PvHotplug *h, unsigned slot, const char *what)
{
    if (slot >= h->slots) {
        fprintf(stderr, "parvm: %s: slot %u out of range (%u slots)\n", what, slot, h->slots);
        abort();
    }
    return 1u << slot;
}

uint32_t pv_hotplug_get(PvHotplug *h, unsigned reg)
{
    switch (reg) {
    case PV_HOTPLUG_REG_PRESENT:
        return atomic_load(&h->present);
    case PV_HOTPLUG_REG_INSERTED:
        return atomic_load(&h->inserted);
    case PV_HOTPLUG_REG_EJECT_REQ:
        return atomic_load(&h->eject_req);
    case PV_HOTPLUG_REG_STATUS:
        return status_now(h);
    default:
        return 0;
    }
}

static PvAccessStatus hp_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvHotplug *h = opaque;

    *val = 0;
    if (size != 4) {
        goto bad;
    }
    switch (off) {
    case PV_HOTPLUG_REG_MAGIC:
        *val = PV_HOTPLUG_MAGIC;
        return PV_ACCESS_OK;
    case PV_HOTPLUG_REG_VERSION:
        *val = PV_HOTPLUG_VERSION;
        return PV_ACCESS_OK;
    case PV_HOTPLUG_REG_SLOTS:
        *val = h->slots;
        return PV_ACCESS_OK;
    case PV_HOTPLUG_REG_PRESENT:
    case PV_HOTPLUG_REG_INSERTED:
    case PV_HOTPLUG_REG_EJECT_REQ:
    case PV_HOTPLUG_REG_STATUS:
        *val = pv_hotplug_get(h, (unsigned)off);
        return PV_ACCESS_OK;
    default:
        break;
    }
bad:
    pv_guest_error(h->dev.vm, "parvm-hotplug: read of size %u at 0x%" PRIx64 " ignored",
                   size, (uint64_t)off);
    return PV_ACCESS_OK;
}

static PvAccessStatus hp_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvHotplug *h = opaque;

    if (size != 4) {
        goto bad;
    }
    switch (off) {
    case PV_HOTPLUG_REG_INSERTED:
        atomic_fetch_and(&h->inserted, ~(uint32_t)val);
        update_irq(h);
        return PV_ACCESS_OK;
    case PV_HOTPLUG_REG_EJECT:
        if (val >= h->slots || !(atomic_load(&h->present) & (1u << val))) {
            pv_guest_error(h->dev.vm, "parvm-hotplug: eject of empty slot %" PRIu64 " ignored",
                           val);
            return PV_ACCESS_OK;
        }
        if (h->eject) {
            h->eject(h->opaque, (unsigned)val);
        }
        return PV_ACCESS_OK;
    default:
        break;
    }
bad:
    pv_guest_error(h->dev.vm, "parvm-hotplug: write of size %u at 0x%" PRIx64
                   " value 0x%" PRIx64 " ignored", size, (uint64_t)off, val);
    return PV_ACCESS_OK;
}

static const MemoryRegionOps hp_ops = {
    .read = hp_read,
    .write = hp_write,
    /* Every size reaches us so that non-word accesses are reported;
     * misaligned ones are split into aligned pieces by the core. */
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static void hp_finalize(PvDevice *dev)
{
    PvHotplug *h = (PvHotplug *)dev;

    memory_region_destroy(&h->mmio);
    free(h);
}

static PvDeviceClass hp_class = {
    .type = "parvm-hotplug",
    .lock_class = PV_LOCK_CLASS_INIT("parvm-hotplug", PV_LOCK_KIND_DEVICE),
    .finalize = hp_finalize,
};

PvHotplug *pv_hotplug_new(PvVm *vm, unsigned slots, const PvIrq *irq,
                          PvHotplugEjectFunc *eject, void *opaque)
{
    PvHotplug *h;

    if (slots == 0 || slots > PV_HOTPLUG_MAX_SLOTS) {
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    h->irq = irq ? *irq : (PvIrq){ 0 };
    h->slots = slots;
    h->eject = eject;
    h->opaque = opaque;
    atomic_init(&h->present, 0);
    atomic_init(&h->inserted, 0);
    atomic_init(&h->eject_req, 0);
    pv_device_init(&h->dev, &hp_class, vm, "hotplug");
    memory_region_init_io(&h->mmio, vm, &h->dev, &hp_ops, h, "parvm-hotplug",
                          PV_HOTPLUG_SIZE);
    memory_region_set_dispatch_mode(&h->mmio, PV_DISPATCH_LOCKLESS);
    pv_irq_lower(&h->irq);
    return h;
}

MemoryRegion *pv_hotplug_mmio(PvHotplug *h)
{
    return &h->mmio;
}

PvDevice *pv_hotplug_device(PvHotplug *h)
{
    return &h->dev;
}

void pv_hotplug_destroy(PvHotplug *h)
{
    pv_device_unrealize(&h->dev);
    pv_device_unref(&h->dev);
}

void pv_hotplug_plugged(PvHotplug *h, unsigned slot)
{
    uint32_t bit = slot_bit(h, slot, "pv_hotplug_plugged");

    atomic_fetch_or(&h->present, bit);
    atomic_fetch_or(&h->inserted, bit);
    update_irq(h);
}

void pv_hotplug_present(PvHotplug *h, unsigned slot)
{
    uint32_t bit = slot_bit(h, slot, "pv_hotplug_present");

    atomic_fetch_or(&h->present, bit);
    update_irq(h);
}

void pv_hotplug_request_eject(PvHotplug *h, unsigned slot)
{
    uint32_t bit = slot_bit(h, slot, "pv_hotplug_request_eject");

    atomic_fetch_or(&h->eject_req, bit);
    update_irq(h);
}

void pv_hotplug_unplugged(PvHotplug *h, unsigned slot)
{
    uint32_t bit = slot_bit(h, slot, "pv_hotplug_unplugged");

    atomic_fetch_and(&h->eject_req, ~bit);
    atomic_fetch_and(&h->inserted, ~bit);
    atomic_fetch_and(&h->present, ~bit);
    update_irq(h);
}
