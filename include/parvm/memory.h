/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory map (S2): MemoryRegion trees, AddressSpaces and the immutable
 * FlatViews that readers use, in QEMU's vocabulary.
 *
 * Writers change region trees only inside a transaction
 * (memory_region_transaction_begin/commit), which holds vm->map_lock.
 * Commit flattens every address space of the VM into a new FlatView,
 * publishes it with RCU and reclaims the old one after a grace period.
 * Commit never waits, so it may be called from any thread, including one
 * that is in the middle of a dispatch.
 *
 * Readers (dispatch, harts) never take a lock: see dispatch.h.
 */
#ifndef PARVM_MEMORY_H
#define PARVM_MEMORY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/device.h"
#include "parvm/event-notifier.h"
#include "parvm/vm.h"

typedef uint64_t hwaddr;

typedef struct FlatView FlatView;
typedef struct MemoryRegionStats MemoryRegionStats;

/* The outcome of an access; every access is counted under one of these. */
typedef enum PvAccessStatus {
    PV_ACCESS_OK = 0,
    PV_ACCESS_UNASSIGNED,   /* nothing mapped there, or the device is removed */
    PV_ACCESS_DEVICE_ERROR, /* the device's ops refused the access */
    PV_ACCESS_REENTRANT,    /* refused: the device is already on this thread's
                               dispatch stack (S6), or the stack is too deep */
    PV_ACCESS_LOCK_BUSY,    /* refused: a device lock was busy while the caller
                               held the global lock or a device lock, where
                               only trylock is allowed (S5) */
    PV_ACCESS__COUNT
} PvAccessStatus;

const char *pv_access_status_name(PvAccessStatus s);

/* How accesses to an MMIO region are serialised (S4). */
typedef enum PvDispatchMode {
    PV_DISPATCH_GLOBAL = 0, /* under vm->global_lock: the default */
    PV_DISPATCH_DEVICE,     /* under the owner's own lock */
    PV_DISPATCH_LOCKLESS,   /* no lock: the device synchronises itself */
} PvDispatchMode;

typedef struct MemoryRegionOps {
    /*
     * Called with the lock of the region's dispatch mode held, inside an RCU
     * read-side section, with @offset relative to the region and @size within
     * [impl.min_access_size, impl.max_access_size], aligned to @size unless
     * impl.unaligned.  Return PV_ACCESS_OK or PV_ACCESS_DEVICE_ERROR.
     * What a handler may do from each mode: docs/architecture.md.
     */
    PvAccessStatus (*read)(void *opaque, hwaddr offset, unsigned size, uint64_t *val);
    PvAccessStatus (*write)(void *opaque, hwaddr offset, unsigned size, uint64_t val);
    /* The sizes the device accepts; the core splits or widens the others.
     * Zero means 1 (min) and 8 (max). */
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } impl;
} MemoryRegionOps;

typedef enum MemoryRegionKind {
    MR_KIND_CONTAINER,
    MR_KIND_RAM,
    MR_KIND_IO,
    MR_KIND_ALIAS,
} MemoryRegionKind;

typedef struct MemoryRegionEventfd {
    hwaddr addr;        /* offset in the region */
    unsigned size;
    bool match_data;
    uint64_t data;
    PvEventNotifier *e;
    struct MemoryRegionEventfd *next;
} MemoryRegionEventfd;

struct MemoryRegion {
    MemoryRegionKind kind;
    char *name;
    hwaddr size;
    PvVm *vm;
    PvDevice *owner;            /* NULL: lives as long as the VM */

    PvDispatchMode mode;
    const MemoryRegionOps *ops; /* MR_KIND_IO */
    void *opaque;
    uint8_t *ram;               /* MR_KIND_RAM */
    bool ram_allocated;
    bool readonly;              /* RAM as ROM: writes are dropped, as QEMU's */
    MemoryRegion *alias;        /* MR_KIND_ALIAS */
    hwaddr alias_offset;

    /* Topology, protected by vm->map_lock. */
    MemoryRegion *container;
    hwaddr addr;
    int priority;
    bool enabled;
    MemoryRegion **subregions;  /* highest priority first; newest first on ties */
    unsigned nr_subregions, subregions_cap;
    MemoryRegionEventfd *eventfds;

    MemoryRegionStats *stats;
};

struct AddressSpace {
    char *name;
    PvVm *vm;
    MemoryRegion *root;
    FlatView *current;          /* RCU-protected: pv_rcu_deref() */
    AddressSpace *next;         /* in vm->address_spaces, map_lock */
    MemoryRegionStats *unassigned_stats;
    PvRcuHead rcu;
};

/* ---- region construction (any thread; not yet visible to anyone) ---- */

void memory_region_init_container(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                                  const char *name, hwaddr size);
/* Anonymous host memory, zero-filled.  Returns 0 or -errno. */
int memory_region_init_ram(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                           const char *name, hwaddr size);
/* Caller-provided host memory that must outlive the region. */
void memory_region_init_ram_ptr(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                                const char *name, hwaddr size, void *ptr);
/* @owner is required: it gives the region its lock and its identity for the
 * re-entrancy guard.  Mode starts as PV_DISPATCH_GLOBAL. */
void memory_region_init_io(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, hwaddr size);
void memory_region_init_alias(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                              const char *name, MemoryRegion *orig,
                              hwaddr offset, hwaddr size);
/* Set before the region is first mapped. */
void memory_region_set_dispatch_mode(MemoryRegion *mr, PvDispatchMode mode);
/* RAM only, set before the region is first mapped: guest writes are
 * dropped (status OK, as a write to ROM on QEMU), host code still writes
 * mr->ram directly to load images. */
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);

/*
 * Free what init allocated.  The region must be unmapped and no published or
 * unreclaimed FlatView may map it: call from the owner's finalize, or, for
 * owner-less regions, after the address spaces are gone and pv_rcu_barrier().
 */
void memory_region_destroy(MemoryRegion *mr);

/* ---- topology changes: only inside a transaction of mr->vm ---- */

void memory_region_transaction_begin(PvVm *vm);
/* Flatten and publish every address space of @vm; release the map lock. */
void memory_region_transaction_commit(PvVm *vm);

void memory_region_add_subregion(MemoryRegion *parent, hwaddr offset, MemoryRegion *child);
void memory_region_add_subregion_overlap(MemoryRegion *parent, hwaddr offset,
                                         MemoryRegion *child, int priority);
void memory_region_del_subregion(MemoryRegion *parent, MemoryRegion *child);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, hwaddr addr);
void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset);
/* S2 notifier: a write of @size bytes at @addr (and, if @match_data, of value
 * @data) signals @e instead of calling the region's ops.  Readers of views
 * published before the notifier is deleted may still signal @e: keep it
 * open until a grace period after the commit that deleted it (for example,
 * close it from a pv_call_rcu() callback, or after pv_rcu_barrier()). */
void memory_region_add_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size,
                               bool match_data, uint64_t data, PvEventNotifier *e);
void memory_region_del_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size,
                               bool match_data, uint64_t data, PvEventNotifier *e);

/* Inside a transaction.  After address_space_destroy() no new access may
 * start on @as; the struct itself stays allocated until pv_rcu_barrier()
 * has run after the destroy (readers in flight still use it). */
void address_space_init(AddressSpace *as, PvVm *vm, MemoryRegion *root, const char *name);
void address_space_destroy(AddressSpace *as);

/* ---- statistics (S11): any thread, lock-free, approximate under load ---- */

void memory_region_get_counts(const MemoryRegion *mr, uint64_t counts[PV_ACCESS__COUNT]);
/* Accesses that hit no region of @as. */
void address_space_get_unassigned_counts(const AddressSpace *as,
                                         uint64_t counts[PV_ACCESS__COUNT]);

/* ---- flat view inspection (tests, monitor) ---- */

typedef struct PvFlatRangeInfo {
    hwaddr start, size;
    const MemoryRegion *mr;     /* terminal region (RAM or IO) */
    hwaddr offset_in_region;
} PvFlatRangeInfo;

/*
 * Copy the ranges of @as's current view into @out (up to @max); returns the
 * number of ranges in the view.  Caller is an online RCU reader; the region
 * pointers are valid until its next quiescent state.
 */
size_t address_space_flat_ranges(AddressSpace *as, PvFlatRangeInfo *out, size_t max);

/* Generation of the current view: changes on every commit. */
uint64_t address_space_generation(AddressSpace *as);

#endif
