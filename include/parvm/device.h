/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices: reference-counted objects that own memory regions (S3).
 *
 * Lifetime:
 *   pv_device_init()       refcount 1, owned by the creator (board, hotplug).
 *   map its regions        each published FlatView that maps a region of the
 *                          device holds one more reference.
 *   pv_device_unrealize()  phase 1: unpublish every region the device owns,
 *                          mark it removed under its lock, wait for the
 *                          accesses already in flight.  When it returns no
 *                          handler of the device runs again (G1, G3).
 *   pv_device_unref()      the creator drops its reference.  When the last
 *                          reference goes (usually the old FlatView's, after
 *                          its grace period) phase 2, finalize, runs after a
 *                          further grace period on the call_rcu thread (G2).
 *
 * Dispatch itself takes no per-access reference: every access runs inside an
 * RCU read-side section, and the view it looked the region up in holds the
 * reference until a grace period after it is replaced.
 */
#ifndef PARVM_DEVICE_H
#define PARVM_DEVICE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "parvm/lock.h"
#include "parvm/rcu.h"
#include "parvm/vm.h"

typedef struct PvDevice PvDevice;
typedef struct MemoryRegion MemoryRegion;

typedef struct PvDeviceClass {
    const char *type;
    /* Class of every instance's lock: one class per device type. */
    PvLockClass lock_class;
    /*
     * Phase 2: release everything the device owns (regions included, with
     * memory_region_destroy()) and free the object.  Runs on the call_rcu
     * thread with no pv lock held; may not block on a grace period.
     */
    void (*finalize)(PvDevice *dev);
} PvDeviceClass;

struct PvDevice {
    PvDeviceClass *cls;         /* static; its lock class gets an id on first use */
    PvVm *vm;
    char id[48];
    atomic_uint refcount;
    /* The device's own lock: PV_DISPATCH_DEVICE regions run under it.
     * Padded so that no other object's data shares its cache lines: two
     * harts on two devices must not bounce a line (bench/dispatch). */
    char pad_before_lock[64];
    PvMutex lock;
    /* device-work.h: how the I/O thread gets the lock without waiting.
     * Next to the lock: every pv_device_lock()/unlock() reads them. */
    atomic_bool io_wants_lock;
    struct PvDeviceWork *_Atomic work_queue;    /* PV_FLOW_QUEUE, LIFO */
    struct PvDeviceWork *_Atomic notify_list;   /* PV_FLOW_NOTIFY waiters */
    atomic_uint_fast64_t work_stats[4];
    char pad_after_lock[64];
    /* Set once by unrealize; dispatch refuses accesses once it sees it. */
    atomic_bool removed;
    PvRcuHead rcu;
};

/* @dev is embedded in the device's own struct, first or not. */
void pv_device_init(PvDevice *dev, PvDeviceClass *cls, PvVm *vm, const char *id);

/* Any thread; the caller must already hold a reference (or be in an RCU
 * read-side section that found @dev in a view). */
void pv_device_ref(PvDevice *dev);
/* Caller: an online RCU reader (or an RCU callback), because dropping the
 * last reference queues finalize after a grace period.  Never waits. */
void pv_device_unref(PvDevice *dev);

/*
 * Phase 1 of removal; see above.  Unmaps every region owned by @dev that is
 * reachable from an address space of its VM (a region in a container that
 * no address space reaches is not dispatched to; if it is mapped again
 * later, its accesses are refused).  Idempotent, and every caller returns
 * only once G1 holds, even when another thread removed the device first.
 * The caller holds no pv lock, is not inside a dispatch and not inside a
 * memory transaction (checked): it takes the map lock and the device lock
 * and waits for a grace period.
 */
void pv_device_unrealize(PvDevice *dev);

static inline bool pv_device_is_removed(const PvDevice *dev)
{
    return atomic_load_explicit(&dev->removed, memory_order_acquire);
}

#endif
