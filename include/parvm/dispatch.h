/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dispatch: the path an access takes from any thread to a device (S2-S6).
 *
 *   look the address up in the current FlatView (lock-free, RCU)
 *   -> write notifier?            signal its eventfd, done
 *   -> RAM?                       copy, done
 *   -> re-entrancy guard          device already on this thread's stack? refuse
 *   -> lock per dispatch mode     global lock | device lock | none
 *   -> removed?                   refuse as unassigned (G1, G3)
 *   -> ops, split/widened to the sizes the region accepts
 *
 * Callers: any thread that is a registered, online RCU reader (rcu.h).  The
 * caller may hold the global lock (global-mode handlers then run under that
 * same hold) or device locks; while it holds either, device locks are only
 * tried and a busy device refuses the access (S5).  The caller may itself be
 * a handler (DMA): nested accesses into a device already being dispatched on
 * this thread are refused (S6).
 */
#ifndef PARVM_DISPATCH_H
#define PARVM_DISPATCH_H

#include "parvm/memory.h"

/* @size is 1, 2, 4 or 8; any alignment.  Unassigned bytes read as 0xff. */
PvAccessStatus address_space_read(AddressSpace *as, hwaddr addr, unsigned size,
                                  uint64_t *val);
PvAccessStatus address_space_write(AddressSpace *as, hwaddr addr, unsigned size,
                                   uint64_t val);

/*
 * DMA-style access of any length.  RAM is copied, MMIO goes through dispatch
 * in naturally aligned pieces of up to 8 bytes.  The whole range is attempted;
 * the first non-OK status is returned (unassigned bytes read as 0xff).
 */
PvAccessStatus address_space_rw(AddressSpace *as, hwaddr addr, void *buf,
                                size_t len, bool is_write);

/*
 * Host pointer to guest RAM at @addr, and in *@avail the bytes that follow
 * contiguously in the same RAM range; NULL if @addr is not RAM, or if
 * @for_write and the RAM is read-only.  Valid until the caller's next RCU
 * quiescent state: keep it only while the view's generation
 * (address_space_generation()) is unchanged.
 */
uint8_t *address_space_ram_ptr(AddressSpace *as, hwaddr addr, bool for_write, hwaddr *avail);

/*
 * Copy @n bytes between guest RAM at @guest (a pointer from
 * address_space_ram_ptr()) and a private host buffer, with relaxed atomic
 * accesses (8 bytes where the guest side is aligned, bytes elsewhere), so
 * that harts storing to the same RAM at the same time are not a data race
 * in the C sense.  Any thread.
 */
void pv_ram_copy(uint8_t *guest, uint8_t *buf, size_t n, bool to_guest);

/* Depth of this thread's dispatch stack (0 outside any handler). */
unsigned pv_dispatch_depth(void);

/*
 * Work a handler must not do inside a dispatch because it waits (unrealize a
 * device: the hot-plug controller's eject register) runs when the outermost
 * dispatch on this thread is over: every lock dispatch took is released and
 * no view is in use any more, but address_space_read/write/rw has not yet
 * returned to its caller.  So a guest store that ejects a device completes
 * only once the device is gone (S9).
 *
 * @fn gets @may_wait false when that outermost caller itself holds a pv
 * lock (a device doing DMA under its own lock, say): then it must not wait,
 * and should hand the work to a thread that may.  The PvDeferred is the
 * caller's and must stay valid until @fn has been called; @fn may defer
 * more work.  Only from inside a handler (aborts otherwise).
 */
typedef struct PvDeferred {
    void (*fn)(void *opaque, bool may_wait);
    void *opaque;
    struct PvDeferred *next;
} PvDeferred;

void pv_dispatch_defer(PvDeferred *d);

#endif
