/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PvVm: the state one virtual machine's I/O core shares between all its
 * threads: the global lock, the memory-map lock, the address spaces and
 * the switch that forces every region under the global lock (S12).
 * Nothing here is process-global; tests run several PvVms side by side.
 *
 * Lock order (docs/architecture.md): device lock -> global lock ->
 * memory-map lock.  The memory-map lock is innermost: while holding it,
 * take no other pv lock.
 */
#ifndef PARVM_VM_H
#define PARVM_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "parvm/lock.h"

typedef struct AddressSpace AddressSpace;

typedef struct PvVm {
    /* The global lock: regions in PV_DISPATCH_GLOBAL mode run under it. */
    PvMutex global_lock;
    /* Serialises changes of the region trees (transactions, S2). */
    PvMutex map_lock;
    /* S12: dispatch every region under the global lock. */
    atomic_bool all_global;
    /* Source of FlatView generation numbers: unique across address spaces. */
    atomic_uint_fast64_t generation;
    /* Guest mistakes (re-entrant access, bad register writes): logged, counted. */
    atomic_uint_fast64_t guest_errors;
    /* Protected by map_lock. */
    AddressSpace *address_spaces;
    bool in_transaction;
} PvVm;

extern PvLockClass pv_global_lock_class;
extern PvLockClass pv_map_lock_class;

void pv_vm_init(PvVm *vm);
/* Every address space must have been destroyed and pv_rcu_barrier() run. */
void pv_vm_destroy(PvVm *vm);

#define pv_global_lock(vm) pv_mutex_lock(&(vm)->global_lock)
#define pv_global_unlock(vm) pv_mutex_unlock(&(vm)->global_lock)

/*
 * S12: force every region under the global lock (true) or let each region
 * use its declared mode (false).  Meant to be flipped while no guest runs;
 * if flipped under load, accesses already in flight finish in the mode they
 * started in.
 */
void pv_vm_set_all_global(PvVm *vm, bool on);

/* Read on every MMIO access: inline. */
static inline bool pv_vm_all_global(const PvVm *vm)
{
    return atomic_load_explicit(&vm->all_global, memory_order_relaxed);
}

/* Log a guest mistake (printf format) and count it.  Never fatal. */
void pv_guest_error(PvVm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t pv_vm_guest_errors(const PvVm *vm);

#endif
