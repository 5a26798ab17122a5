/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device objects: reference counting and the two phases of removal
 * (include/parvm/device.h has the lifetime rules).
 */
#include "parvm/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/device-work.h"
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
    atomic_init(&dev->io_wants_lock, false);
    atomic_init(&dev->work_queue, NULL);
    atomic_init(&dev->notify_list, NULL);
    for (unsigned i = 0; i < 4; i++) {
        atomic_init(&dev->work_stats[i], 0);
    }
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

/* Map lock held.  Containers are searched whoever owns them; aliases are
 * not followed (their targets are not their children). */
static void unmap_owned(MemoryRegion *container, PvDevice *dev)
{
    for (unsigned i = container->nr_subregions; i-- > 0;) {
        MemoryRegion *sub = container->subregions[i];
        if (sub->owner == dev) {
            memory_region_del_subregion(container, sub);
        } else if (sub->kind == MR_KIND_CONTAINER) {
            unmap_owned(sub, dev);
        }
    }
}

void pv_device_unrealize(PvDevice *dev)
{
    PvVm *vm = dev->vm;

    /* Checked first, before anything is unpublished. */
    if (pv_dispatch_depth() > 0) {
        fprintf(stderr, "parvm: pv_device_unrealize(%s) from inside a dispatch: "
                        "defer it until the handler has returned\n", dev->id);
        abort();
    }
    pv_assert_no_locks_held("pv_device_unrealize");

    /* 1. Unpublish: accesses that look up after the commit miss the device. */
    memory_region_transaction_begin(vm);
    for (AddressSpace *as = vm->address_spaces; as; as = as->next) {
        if (as->root) {
            unmap_owned(as->root, dev);
        }
    }
    memory_region_transaction_commit(vm);

    /* 2. Mark removed under the device's lock: a device-mode access that
     * already looked the device up either finished before we got the lock or
     * sees the flag once it gets it, and refuses (G3). */
    pv_device_lock(dev);
    atomic_store_explicit(&dev->removed, true, memory_order_release);
    pv_device_unlock(dev);

    /* 3. Every access runs inside an RCU read-side section, so after a grace
     * period no access that could have missed the flag (lockless or
     * global-mode ones included) is still running: from here on no handler
     * of @dev runs (G1).  Done by every caller, even when the device was
     * already marked: a second remover must not return while the first one's
     * accesses still run.  We hold no lock, so readers can always finish
     * (G4). */
    pv_synchronize_rcu();
}
