/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device objects: reference counting and the two phases of removal
 * (include/parvm/device.h has the lifetime rules).
 */
#include "parvm/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/dispatch.h"
#include "parvm/memory.h"

void pv_device_init(PvDevice *dev, PvDeviceClass *cls, PvVm *vm, const char *id)
{
    dev->cls = cls;
    dev->vm = vm;
    snprintf(dev->id, sizeof(dev->id), "%s", id ? id : "");
    atomic_init(&dev->refcount, 1);
    /* The class's lock class is per type, shared by every instance. */
    pv_mutex_init(&dev->lock, &cls->lock_class);
    atomic_init(&dev->removed, false);
    atomic_init(&dev->regions, NULL);
}

void pv_device_ref(PvDevice *dev)
{
    unsigned old = atomic_fetch_add_explicit(&dev->refcount, 1, memory_order_relaxed);
    if (old == 0) {
        fprintf(stderr, "parvm: reference taken on finalized device %s\n", dev->id);
        abort();
    }
}

static void device_finalize_rcu(PvRcuHead *head)
{
    PvDevice *dev = (PvDevice *)((char *)head - offsetof(PvDevice, rcu));

    pv_mutex_destroy(&dev->lock);
    dev->cls->finalize(dev);
}

void pv_device_unref(PvDevice *dev)
{
    /* acq_rel: everything done under earlier references happens before
     * finalize. */
    unsigned old = atomic_fetch_sub_explicit(&dev->refcount, 1, memory_order_acq_rel);
    if (old == 1) {
        /* A reader may still hold a raw pointer it found before the last
         * reference went: finalize only after a grace period. */
        pv_call_rcu(&dev->rcu, device_finalize_rcu);
    } else if (old == 0) {
        fprintf(stderr, "parvm: unref of finalized device %s\n", dev->id);
        abort();
    }
}

void pv_device_unrealize(PvDevice *dev)
{
    PvVm *vm = dev->vm;

    pv_assert_no_locks_held("pv_device_unrealize");
    if (pv_device_is_removed(dev)) {
        return;
    }

    /* 1. Unpublish: accesses that look up after the commit miss the device. */
    memory_region_transaction_begin(vm);
    for (MemoryRegion *mr = atomic_load_explicit(&dev->regions, memory_order_acquire); mr;
         mr = mr->owner_next) {
        if (mr->container) {
            memory_region_del_subregion(mr->container, mr);
        }
    }
    memory_region_transaction_commit(vm);

    /* 2. Mark removed under the device's lock: a device-mode access that
     * already looked the device up either finished before we got the lock or
     * sees the flag once it gets it, and refuses (G3). */
    pv_mutex_lock(&dev->lock);
    atomic_store_explicit(&dev->removed, true, memory_order_release);
    pv_mutex_unlock(&dev->lock);

    /* 3. Every access runs inside an RCU read-side section, so after a grace
     * period no access that could have missed the flag (lockless or
     * global-mode ones included) is still running: from here on no handler
     * of @dev runs (G1).  We hold no lock, so readers can always finish
     * (G4). */
    pv_synchronize_rcu();
}
