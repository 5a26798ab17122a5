/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-testdev: a pluggable device for hot-plug tests (docs/hotplug.md),
 * one 0x1000 window (a container owned by the device) whose three
 * subregions use the three dispatch modes.  All registers are 32-bit; the
 * core splits and widens other sizes.  Unknown offsets are guest errors:
 * reads return 0, writes are ignored.
 *
 *   0x000..0x0ff  LOCKLESS
 *     0x00 ID        RO  0x74737470 ("ptst")
 *     0x04 COUNTER   RW  reads return the count; a write adds its value
 *                        (atomic, wraps at 32 bits)
 *     0x08 ACCESSES  RO  handler calls so far in any region, this one
 *                        included (atomic)
 *   0x100..0x1ff  DEVICE lock
 *     0x100 VALUE    RW  a plain 32-bit word under the device lock
 *   0x200..0x2ff  DEVICE lock
 *     0x200 DMA_ADDR_LO, 0x204 DMA_ADDR_HI  RW  guest-physical DMA address
 *     0x208 DOORBELL   WO  writing V makes the device write 8 bytes to
 *                          DMA_ADDR with address_space_rw() on the DMA
 *                          address space: V, then the DMA's sequence number
 *                          (1 for the first doorbell), both little-endian
 *                          32-bit.  The DMA runs under the device lock, so
 *                          it reaches other device-lock regions by trylock
 *                          only and this device's own regions not at all
 *                          (re-entrant: refused).
 *     0x20c DMA_STATUS RO  the PvAccessStatus of the last DMA (0 before any)
 *
 * Removal: the usual pv_device_unrealize() + pv_device_unref() (or
 * pv_testdev_destroy(), which also arms a tripwire: a handler that runs
 * after its unrealize returned aborts the process, naming G1).  Finalize detaches the subregions from the
 * container in a memory transaction of its own (the container is no longer
 * reachable, so no view changes) and frees everything.
 */
#ifndef PARVM_HW_TESTDEV_H
#define PARVM_HW_TESTDEV_H

#include "parvm/device.h"
#include "parvm/memory.h"

#define PV_TESTDEV_SIZE 0x1000
#define PV_TESTDEV_ID 0x74737470u   /* "ptst" */

#define PV_TESTDEV_REG_ID 0x000
#define PV_TESTDEV_REG_COUNTER 0x004
#define PV_TESTDEV_REG_ACCESSES 0x008
#define PV_TESTDEV_REG_VALUE 0x100
#define PV_TESTDEV_REG_DMA_ADDR_LO 0x200
#define PV_TESTDEV_REG_DMA_ADDR_HI 0x204
#define PV_TESTDEV_REG_DOORBELL 0x208
#define PV_TESTDEV_REG_DMA_STATUS 0x20c

typedef struct PvTestdev PvTestdev;

/* @dma_as must outlive the device's last handler call (i.e. until
 * pv_device_unrealize() has returned).  @id names the device (QMP id).
 * Takes the map lock for one (view-neutral) transaction: call it outside
 * any memory transaction.  NULL on allocation failure. */
PvTestdev *pv_testdev_new(PvVm *vm, AddressSpace *dma_as, const char *id);

/* The container to map. */
MemoryRegion *pv_testdev_mmio(PvTestdev *t);
PvDevice *pv_testdev_device(PvTestdev *t);

/* Unrealize (no lock held, not inside a dispatch) and drop the creator's
 * reference. */
void pv_testdev_destroy(PvTestdev *t);

/*
 * Test hook: @probe(@opaque) is called at the very start of every handler
 * call, in whatever dispatch mode and thread the access runs (so it must
 * obey the rules of a handler: docs/architecture.md).  NULL removes it.
 * Any thread; a probe being replaced may still be called by handlers that
 * already started, and the pair is read without a lock, so change it only
 * from NULL to a probe or from a probe to NULL while the device is mapped.
 */
void pv_testdev_set_probe(PvTestdev *t, void (*probe)(void *opaque), void *opaque);

#endif
