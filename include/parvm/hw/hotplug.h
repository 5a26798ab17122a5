/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-hotplug: parvm's own hot-plug controller (docs/hotplug.md).  One
 * 0x1000 MMIO region of 32-bit registers and one output interrupt line.
 * It knows nothing of the devices in its slots: it keeps three bits per
 * slot (present, inserted, eject requested) and calls the board back when
 * the guest ejects a slot.
 *
 *   0x00 MAGIC     RO   0x70687063 ("phpc")
 *   0x04 VERSION   RO   1
 *   0x08 SLOTS     RO   number of slots (1..32)
 *   0x0c PRESENT   RO   bit i: slot i holds a device
 *   0x10 INSERTED  RW1C bit i: a device was plugged into slot i and the
 *                       guest has not acknowledged it yet (write 1 to clear)
 *   0x14 EJECT_REQ RO   bit i: the host asked for slot i's device to go
 *   0x18 EJECT     WO   write i: the guest has quiesced slot i's device and
 *                       ejects it (guest error, ignored, if i is not present)
 *   0x1c STATUS    RO   bit 0: INSERTED != 0; bit 1: EJECT_REQ != 0
 *
 * The interrupt line is high while STATUS != 0.  Other offsets, and
 * accesses that are not 32-bit aligned words, are guest errors: reads
 * return 0, writes are ignored.
 *
 * Dispatch mode LOCKLESS: the state is three atomic bitmaps, so the
 * pv_hotplug_plugged/request_eject/unplugged calls may come from any
 * thread (the I/O thread's monitor, the main thread, a vCPU thread), under
 * any lock or none, concurrently with each other and with guest accesses.
 * They take no lock themselves and never wait; the interrupt handler they
 * call takes at most the interrupt controller's leaf lock (irq.h).  When
 * several threads change the state at once, the line's final level still
 * matches the final STATUS.
 */
#ifndef PARVM_HW_HOTPLUG_H
#define PARVM_HW_HOTPLUG_H

#include "parvm/device.h"
#include "parvm/dispatch.h"   /* pv_dispatch_defer(), for the eject callback */
#include "parvm/irq.h"
#include "parvm/memory.h"

#define PV_HOTPLUG_SIZE 0x1000
#define PV_HOTPLUG_MAX_SLOTS 32

#define PV_HOTPLUG_MAGIC 0x70687063u  /* "phpc" */
#define PV_HOTPLUG_VERSION 1

#define PV_HOTPLUG_REG_MAGIC 0x00
#define PV_HOTPLUG_REG_VERSION 0x04
#define PV_HOTPLUG_REG_SLOTS 0x08
#define PV_HOTPLUG_REG_PRESENT 0x0c
#define PV_HOTPLUG_REG_INSERTED 0x10
#define PV_HOTPLUG_REG_EJECT_REQ 0x14
#define PV_HOTPLUG_REG_EJECT 0x18
#define PV_HOTPLUG_REG_STATUS 0x1c

#define PV_HOTPLUG_STATUS_INSERTED 0x1u
#define PV_HOTPLUG_STATUS_EJECT_REQ 0x2u

typedef struct PvHotplug PvHotplug;

/*
 * The guest wrote @slot to EJECT and the slot is present.  Called from the
 * EJECT register's handler: inside a dispatch (lockless mode, or under the
 * global lock in all-global mode) on the guest's vCPU thread.  It must not
 * wait, take a device lock, or unrealize anything: the board defers the
 * removal with pv_dispatch_defer(), so that the guest's store completes
 * only once the device is gone, and calls pv_hotplug_unplugged() when it
 * is.  The controller changes no bit itself: a second EJECT write before
 * then calls the callback again (the board must tolerate it).
 */
typedef void PvHotplugEjectFunc(void *opaque, unsigned slot);

/* @slots in 1..PV_HOTPLUG_MAX_SLOTS; @irq is copied.  NULL on bad
 * arguments or allocation failure.  All slots start empty, line low. */
PvHotplug *pv_hotplug_new(PvVm *vm, unsigned slots, const PvIrq *irq,
                          PvHotplugEjectFunc *eject, void *opaque);

MemoryRegion *pv_hotplug_mmio(PvHotplug *h);
PvDevice *pv_hotplug_device(PvHotplug *h);

/* Unrealize and drop the creator's reference (no lock held, not inside a
 * dispatch).  The callback is not called once this returns. */
void pv_hotplug_destroy(PvHotplug *h);

/*
 * Host side, any thread, never waits.  @slot must be below the slot count
 * (aborts otherwise: the board chose it).
 *   plugged:        set PRESENT and INSERTED (clears nothing).
 *   request_eject:  set EJECT_REQ.
 *   unplugged:      clear PRESENT, INSERTED and EJECT_REQ of the slot.
 *   present:        set PRESENT only: a device cold-plugged before the
 *                   guest started (-device), which the guest finds by
 *                   probing rather than by an interrupt.
 * Each updates the interrupt line.
 */
void pv_hotplug_plugged(PvHotplug *h, unsigned slot);
void pv_hotplug_present(PvHotplug *h, unsigned slot);
void pv_hotplug_request_eject(PvHotplug *h, unsigned slot);
void pv_hotplug_unplugged(PvHotplug *h, unsigned slot);

/* Lock-free snapshot of one register (PV_HOTPLUG_REG_PRESENT, _INSERTED,
 * _EJECT_REQ or _STATUS), for the board and tests; 0 for others. */
uint32_t pv_hotplug_get(PvHotplug *h, unsigned reg);

#endif
