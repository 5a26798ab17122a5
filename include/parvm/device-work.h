/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device work: how a thread that must never wait on a vCPU (the I/O thread)
 * runs code under a device's lock (S8).  A vCPU may hold the device lock
 * inside a handler; the I/O thread must not block on it.  The seed proposed
 * three ways out, and a PvDeviceWork picks one:
 *
 *   PV_FLOW_TRYLOCK  try the lock; if busy, raise the device's "I/O thread
 *                    wants the lock" flag and call @retry (the caller
 *                    re-schedules itself, e.g. a bottom half).  While the
 *                    flag is up, vCPUs entering the device's lock yield
 *                    instead of taking it, so they cannot starve the I/O
 *                    thread.
 *   PV_FLOW_QUEUE    queue the work on the device; whoever holds the lock
 *                    next runs it before releasing it (possibly a vCPU,
 *                    inside its dispatch), or the submitter if the lock is
 *                    free.
 *   PV_FLOW_NOTIFY   try the lock; if busy, ask the holder to call @retry
 *                    when it unlocks.
 *
 * Whatever the flow, @run is called exactly once per successful submission,
 * under dev->lock, with no other pv lock held by the submitter's side.
 * Nothing is lost: every submission either runs, or stays queued until the
 * next holder or @retry picks it up.
 *
 * Locks.  Every path that takes a device's lock for device state must use
 * pv_device_lock()/pv_device_unlock() (dispatch does), so that the unlock
 * side runs queued work and notifications.  pv_device_unlock() runs the
 * queued work itself (under the lock) and calls @retry callbacks after
 * releasing the lock: @retry must never wait and take at most a leaf lock
 * (pv_bh_schedule() is the intended one).
 */
#ifndef PARVM_DEVICE_WORK_H
#define PARVM_DEVICE_WORK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "parvm/device.h"

typedef enum PvFlow {
    PV_FLOW_TRYLOCK,
    PV_FLOW_QUEUE,
    PV_FLOW_NOTIFY,
} PvFlow;

/* "trylock", "queue", "notify"; parse returns -1 for anything else. */
const char *pv_flow_name(PvFlow f);
int pv_flow_parse(const char *s);

typedef struct PvDeviceWork PvDeviceWork;
struct PvDeviceWork {
    /* Under dev->lock, on whichever thread got it.  @w may be submitted
     * again from inside @run. */
    void (*run)(PvDeviceWork *w);
    /* TRYLOCK and NOTIFY: the lock was busy; submit again later.  Any
     * thread, possibly under the lock's holder's other locks: never
     * waits. */
    void (*retry)(PvDeviceWork *w);
    void *opaque;
    PvFlow flow;
    /* Internal. */
    atomic_bool pending;
    PvDeviceWork *next;
};

/*
 * Submit @w for @dev.  Never waits.  Returns true if @run ran before this
 * returned (on this thread), false if it was queued or @retry will be
 * called.  A work item already queued is not queued twice (its single
 * later @run serves both submissions).  The caller holds no lock of @dev.
 */
bool pv_device_work_submit(PvDevice *dev, PvDeviceWork *w);

/*
 * Take/release dev->lock for device state.  pv_device_lock() yields while
 * the I/O thread has asked for the lock (TRYLOCK flow) and then blocks;
 * pv_device_unlock() runs queued work (still under the lock), releases it,
 * then calls the @retry of NOTIFY submitters.
 */
#define pv_device_lock(d) pv_device_lock_at((d), PV_LOCK_SITE)
void pv_device_lock_at(PvDevice *dev, const PvLockSite *site);
#define pv_device_trylock(d) pv_device_trylock_at((d), PV_LOCK_SITE)
bool pv_device_trylock_at(PvDevice *dev, const PvLockSite *site);
void pv_device_unlock(PvDevice *dev);

/* Counters (S11), lock-free reads. */
typedef struct PvDeviceWorkStats {
    uint64_t ran_direct;      /* submitter got the lock */
    uint64_t ran_by_holder;   /* QUEUE: run by the next holder */
    uint64_t retries;         /* TRYLOCK/NOTIFY: lock busy, retry asked */
    uint64_t yields;          /* vCPU entries that yielded to the flag */
} PvDeviceWorkStats;
void pv_device_work_stats(PvDevice *dev, PvDeviceWorkStats *out);

#endif
