/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PLIC (sifive,plic-1.0.0) as in QEMU's virt board: 96 sources (source 0
 * reserved), priorities 0..7, two contexts per hart (hart h: context 2h is
 * M mode, 2h+1 is S mode).  Register map (4-byte registers):
 *   0x000000 + 4*src           priority of source src (WARL, 3 bits)
 *   0x001000 + 4*word          pending bits, read-only
 *   0x002000 + 0x80*ctx + 4*w  enable bits of context ctx
 *   0x200000 + 0x1000*ctx      priority threshold of context ctx
 *   0x200004 + 0x1000*ctx      claim (read) / complete (write)
 * The region is 0x600000 bytes, as QEMU's virt maps it whatever the number
 * of harts (room for 1024 contexts); contexts beyond 2*nharts are guest
 * errors.
 *
 * Inputs are level-triggered: a source is pending while its line is high,
 * until it is claimed; a claimed source is not pending again until it is
 * completed, and then at once if its line is still high.  Output line ctx
 * is high while some pending, enabled, unclaimed source has a priority
 * above ctx's threshold.
 *
 * Locking: the PLIC's state is under its own LEAF lock (kind
 * PV_LOCK_KIND_CORE), taken by the input handler and by the MMIO handlers,
 * whose region is dispatched LOCKLESS.  So any device, in any dispatch mode
 * (under the global lock or its own lock) and the I/O thread may raise an
 * input (see parvm/irq.h).  Output lines are set with that lock held: their
 * handlers (the harts' MEIP/SEIP) must take no pv lock.
 */
#ifndef PARVM_HW_PLIC_H
#define PARVM_HW_PLIC_H

#include <stdbool.h>

#include "parvm/device.h"
#include "parvm/irq.h"
#include "parvm/memory.h"

#define PV_PLIC_NUM_SOURCES 96u     /* including the reserved source 0 */
#define PV_PLIC_MAX_PRIORITY 7u
#define PV_PLIC_SIZE 0x600000u
#define PV_PLIC_MAX_HARTS 512u

#define PV_PLIC_PRIORITY_BASE 0x0
#define PV_PLIC_PENDING_BASE 0x1000
#define PV_PLIC_ENABLE_BASE 0x2000
#define PV_PLIC_ENABLE_STRIDE 0x80
#define PV_PLIC_CONTEXT_BASE 0x200000
#define PV_PLIC_CONTEXT_STRIDE 0x1000

typedef struct PvPlic PvPlic;

/*
 * Create the PLIC for @nharts harts (1..PV_PLIC_MAX_HARTS).  @outputs is an
 * array of 2 * @nharts lines, indexed by context (2h: hart h's MEIP,
 * 2h+1: its SEIP).  NULL on bad arguments or allocation failure.
 */
PvPlic *pv_plic_new(PvVm *vm, unsigned nharts, const PvIrq *outputs);

/* System reset: priorities, enables, thresholds and claims cleared;
 * sources whose line is high stay pending.  Any thread; takes the PLIC's
 * leaf lock. */
void pv_plic_reset(PvPlic *p);

MemoryRegion *pv_plic_mmio(PvPlic *p);
PvDevice *pv_plic_device(PvPlic *p);

/*
 * The input handler: sets the level of source @n (1..95; others are
 * ignored).  Any thread, any lock held except the PLIC's own; takes the
 * PLIC's leaf lock; never blocks otherwise.
 */
void pv_plic_set_irq(void *plic, unsigned n, bool level);

/* The line a device raises for source @n: pv_irq_make(pv_plic_set_irq, p, n). */
PvIrq pv_plic_input(PvPlic *p, unsigned n);

/* Unrealize and drop the creator's reference (same rules as
 * pv_device_unrealize()).  Devices that raise its inputs must be gone. */
void pv_plic_destroy(PvPlic *p);

#endif
