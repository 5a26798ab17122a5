/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-mmio transport (virtio,mmio), for now only as QEMU shows an empty
 * slot: a 0x1000 region where
 *   0x000 MagicValue  0x74726976 ("virt")
 *   0x004 Version     2 (virtio 1.x), or 1 with @legacy
 *   0x008 DeviceID    0: no device, so no driver binds
 *   0x00c VendorID    0x554d4551 ("QEMU")
 * and every other register reads 0 and ignores writes.  Note: QEMU's
 * virtio-mmio defaults to force-legacy=on, i.e. Version 1; the board picks.
 *
 * Dispatch mode LOCKLESS: no mutable state yet.  The IRQ line is kept for
 * the transport work that comes later and is never raised now.
 */
#ifndef PARVM_HW_VIRTIO_MMIO_H
#define PARVM_HW_VIRTIO_MMIO_H

#include <stdbool.h>

#include "parvm/device.h"
#include "parvm/irq.h"
#include "parvm/memory.h"

#define PV_VIRTIO_MMIO_SIZE 0x1000
#define PV_VIRTIO_MMIO_MAGIC 0x74726976u
#define PV_VIRTIO_MMIO_VENDOR 0x554d4551u

typedef struct PvVirtioMmio PvVirtioMmio;

/* @id names the device (e.g. "virtio-mmio@10001000"); NULL on failure. */
PvVirtioMmio *pv_virtio_mmio_new(PvVm *vm, const char *id, const PvIrq *irq, bool legacy);

MemoryRegion *pv_virtio_mmio_mmio(PvVirtioMmio *v);
PvDevice *pv_virtio_mmio_device(PvVirtioMmio *v);

/* Unrealize and drop the creator's reference. */
void pv_virtio_mmio_destroy(PvVirtioMmio *v);

#endif
