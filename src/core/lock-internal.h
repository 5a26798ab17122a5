/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the lock API (lock.c), the validator (lock-validator.c)
 * and the profiler (lock-profile.c).  Not for use outside src/core.
 */
#ifndef PARVM_CORE_LOCK_INTERNAL_H
#define PARVM_CORE_LOCK_INTERNAL_H

#include "parvm/lock.h"

#define PV_MAX_HELD_LOCKS 32

/* Per-thread, per-(class, site) counters.  Written only by the owning
 * thread (relaxed stores), read by pv_lock_profile() from any thread. */
typedef struct PvLockStat {
    _Atomic(const PvLockSite *) site;   /* NULL: free slot; set last */
    PvLockClass *cls;
    atomic_uint_fast64_t acquisitions;
    atomic_uint_fast64_t contended;
    atomic_uint_fast64_t wait_ticks;
    atomic_uint_fast64_t hold_ticks;
} PvLockStat;

typedef struct PvHeldLock {
    PvMutex *m;
    const PvLockSite *site;
    uint64_t acquired_at;       /* ticks */
    PvLockStat *stat;
    bool trylock;
} PvHeldLock;

typedef struct PvLockThread {
    PvHeldLock held[PV_MAX_HELD_LOCKS];
    unsigned nheld;
    struct PvLockStatTable *stats;
} PvLockThread;

extern __thread PvLockThread pv_lock_thread;

/* Profiler: the calling thread's counter slot for (@cls, @site). */
PvLockStat *pv_lock_stat_slot(PvLockClass *cls, const PvLockSite *site);

static inline void pv_stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
    /* Single writer: a plain load and store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

#ifdef PV_LOCK_VALIDATOR
/* Called before blocking on @m: aborts on self-deadlock, forbidden order,
 * or a cycle in the learned class order. */
void pv_validate_lock(const PvLockThread *t, const PvMutex *m, const PvLockSite *site);
/* Abort with a message naming @site. */
_Noreturn void pv_validator_fail(const char *what, const PvLockSite *site);
#endif

#endif
