/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CLINT (riscv,clint0) as in QEMU's virt board: one 0x10000 region with
 *   0x0000 + 4*hart   msip      (bit 0: the hart's machine software interrupt)
 *   0x4000 + 8*hart   mtimecmp  (64-bit; also as two 32-bit halves)
 *   0xbff8            mtime     (64-bit, 10 MHz; also as two 32-bit halves)
 *
 * Dispatch mode LOCKLESS (S10): every register is per-hart state in
 * atomics, mtime is computed from the host monotonic clock.  MTIP[hart] is
 * the level mtime >= mtimecmp[hart]; an mtimecmp in the future arms an
 * event-loop timer so the interrupt arrives on time even at a hart asleep
 * in WFI.  Output lines are raised from the calling hart's thread or from
 * the I/O thread.
 */
#ifndef PARVM_HW_CLINT_H
#define PARVM_HW_CLINT_H

#include <stdint.h>

#include "parvm/device.h"
#include "parvm/event-loop.h"
#include "parvm/irq.h"
#include "parvm/memory.h"

#define PV_CLINT_SIZE 0x10000
#define PV_CLINT_MSIP 0x0
#define PV_CLINT_MTIMECMP 0x4000
#define PV_CLINT_MTIME 0xbff8
#define PV_CLINT_FREQ_HZ 10000000u
#define PV_CLINT_MAX_HARTS 4095u

typedef struct PvClint PvClint;

/*
 * Create the CLINT for @nharts harts (1..PV_CLINT_MAX_HARTS).  @mtip and
 * @msip are arrays of @nharts lines (the board connects them to the harts'
 * MTIP and MSIP bits).  mtime starts at 0 now and every mtimecmp is 0, so,
 * as on QEMU after reset, MTIP is raised at once.  NULL on bad arguments or
 * allocation failure.  Any thread, no lock held.
 */
PvClint *pv_clint_new(PvVm *vm, PvEventLoop *loop, unsigned nharts,
                      const PvIrq *mtip, const PvIrq *msip);

/* The region to map (the board maps it at 0x2000000). */
/* System reset, as QEMU's: mtime 0, every MSIP 0, mtimecmp unchanged
 * (tests/guest/programs/reset.c compares).  Any thread, never waits; meant for a machine whose harts
 * are held. */
void pv_clint_reset(PvClint *c);

MemoryRegion *pv_clint_mmio(PvClint *c);
PvDevice *pv_clint_device(PvClint *c);

/* mtime now (the time CSR).  Any thread, lock-free, no side effect. */
uint64_t pv_clint_mtime(PvClint *c);

/* Unrealize and drop the creator's reference; finalize frees the rest.
 * Same rules as pv_device_unrealize() (no lock held, not in a dispatch). */
void pv_clint_destroy(PvClint *c);

#endif
