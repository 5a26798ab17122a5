/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm lock API: every lock of the core and of devices goes through here.
 *
 * A PvMutex belongs to a PvLockClass (one per kind of lock: "global",
 * "memory-map", one per device type).  Each acquisition records its call
 * site, so that
 *   - the lock validator (builds with PV_LOCK_VALIDATOR, on in every test)
 *     learns the order in which classes nest and aborts, naming both
 *     acquisition sites, on the first inversion, cycle, self-deadlock or
 *     "global lock, then device lock" (S5);
 *   - the profiler (always on) counts acquisitions, contended acquisitions,
 *     wait time and hold time per (class, call site) (S11).
 *
 * Trylock is exempt from ordering rules: it cannot deadlock.
 */
#ifndef PARVM_LOCK_H
#define PARVM_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PvLockKind {
    PV_LOCK_KIND_CORE,    /* locks of the core (memory map, registries) */
    PV_LOCK_KIND_GLOBAL,  /* the global lock ("BQL") */
    PV_LOCK_KIND_DEVICE,  /* a device's own lock */
} PvLockKind;

typedef struct PvLockClass {
    const char *name;
    PvLockKind kind;
    atomic_int id;        /* assigned by the validator on first use; 0 = none */
} PvLockClass;

#define PV_LOCK_CLASS_INIT(name_, kind_) { .name = (name_), .kind = (kind_), .id = 0 }

/* One static record per call site of pv_mutex_lock()/pv_mutex_trylock(). */
typedef struct PvLockSite {
    const char *file;
    int line;
    const char *func;
} PvLockSite;

#define PV_LOCK_SITE                                                        \
    __extension__({                                                         \
        static const PvLockSite pv_site_ = { __FILE__, __LINE__, __func__ }; \
        &pv_site_;                                                          \
    })

typedef struct PvMutex {
    pthread_mutex_t m;
    PvLockClass *cls;
} PvMutex;

/* Initialise @m as a lock of class @cls.  @cls must outlive @m. */
void pv_mutex_init(PvMutex *m, PvLockClass *cls);
/* @m must not be held by anyone. */
void pv_mutex_destroy(PvMutex *m);

/*
 * Blocking acquire.  In validator builds, aborts if the calling thread
 * already holds @m, if it holds the global lock and @m is a device lock,
 * or if taking @m after the locks already held closes a cycle in the
 * learned class order.
 */
#define pv_mutex_lock(m) pv_mutex_lock_at((m), PV_LOCK_SITE)
void pv_mutex_lock_at(PvMutex *m, const PvLockSite *site);

/* Non-blocking acquire; true when taken.  Never checked for ordering. */
#define pv_mutex_trylock(m) pv_mutex_trylock_at((m), PV_LOCK_SITE)
bool pv_mutex_trylock_at(PvMutex *m, const PvLockSite *site);

/* Release @m, which the calling thread must hold. */
void pv_mutex_unlock(PvMutex *m);

/*
 * Whether the calling thread holds @m.  This is a question about the
 * caller's own state (e.g. dispatch asks whether it already runs under the
 * global lock); it never acquires anything.
 */
bool pv_mutex_held(const PvMutex *m);

/* Number of pv locks the calling thread holds. */
unsigned pv_locks_held(void);

/* Bit (1u << kind) set for every PvLockKind of which the calling thread
 * holds at least one lock. */
unsigned pv_lock_kinds_held(void);

/*
 * Abort, in every build, unless the calling thread holds no pv lock.
 * Used before anything that waits on other threads, e.g. a grace period.
 */
#define pv_assert_no_locks_held(what) pv_assert_no_locks_held_at((what), PV_LOCK_SITE)
void pv_assert_no_locks_held_at(const char *what, const PvLockSite *site);

/* ---- profile (S11) ---------------------------------------------------- */

typedef struct PvLockProfileEntry {
    const char *class_name;
    const PvLockSite *site;
    uint64_t acquisitions;
    uint64_t contended;    /* acquisitions that had to wait */
    uint64_t wait_ns;      /* total time spent waiting */
    uint64_t hold_ns;      /* total time held, charged to the acquiring site */
} PvLockProfileEntry;

/*
 * Snapshot of every (class, site) pair seen so far in this process, summed
 * over all threads, live and exited.  Returns the number of entries and a
 * malloc'd array in *@out that the caller frees.  Safe from any thread;
 * takes only the profiler's internal registry lock.
 */
size_t pv_lock_profile(PvLockProfileEntry **out);

#endif
