/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk (virtio 1.2 section 5.2, device id 2) on the virtio-mmio
 * transport, over a raw-file block backend (block.h).  One request queue of
 * 256 entries.
 *
 * Features offered: SEG_MAX, BLK_SIZE (512), FLUSH, DISCARD and
 * WRITE_ZEROES (one segment each; fallocate punch-hole / zero-range on the
 * host), RO for a read-only drive.  Requests: IN, OUT, FLUSH, GET_ID (the
 * serial, 20 bytes, NUL-terminated only when shorter, as QEMU), DISCARD,
 * WRITE_ZEROES; others are VIRTIO_BLK_S_UNSUPP.  A request outside the disk,
 * not a whole number of sectors, larger than 32 MiB, or a write to a
 * read-only disk completes with VIRTIO_BLK_S_IOERR (and is logged as a guest
 * error); a chain whose header (16 bytes) or status byte is missing, or a
 * malformed queue, sets NEEDS_RESET.
 *
 * Threads and locks.  queue_notify runs under the device lock (virtio.h):
 * it pops requests, copies write data out of guest RAM into a bounce
 * buffer, and hands the request to the backend.  The backend completes on
 * the I/O thread, which submits device work (flow = the device's
 * notify_flow); under the lock, that work drops requests of an older reset
 * epoch (or of a removed device) without touching guest memory, else copies
 * read data into the guest's buffers, writes the status, pushes and
 * notifies.  Every request in flight holds a reference to the device until
 * its work ran, and unrealize waits (no lock held) for all of them before
 * closing the backend.
 */
#ifndef PARVM_HW_VIRTIO_BLK_H
#define PARVM_HW_VIRTIO_BLK_H

#include <stdint.h>

#include "parvm/block.h"
#include "parvm/virtio/virtio.h"

#define PV_VIRTIO_BLK_ID 2

/* Feature bits (virtio 1.2 5.2.3). */
#define PV_VIRTIO_BLK_F_SIZE_MAX 1
#define PV_VIRTIO_BLK_F_SEG_MAX 2
#define PV_VIRTIO_BLK_F_RO 5
#define PV_VIRTIO_BLK_F_BLK_SIZE 6
#define PV_VIRTIO_BLK_F_FLUSH 9
#define PV_VIRTIO_BLK_F_DISCARD 13
#define PV_VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values. */
#define PV_VIRTIO_BLK_T_IN 0
#define PV_VIRTIO_BLK_T_OUT 1
#define PV_VIRTIO_BLK_T_FLUSH 4
#define PV_VIRTIO_BLK_T_GET_ID 8
#define PV_VIRTIO_BLK_T_DISCARD 11
#define PV_VIRTIO_BLK_T_WRITE_ZEROES 13
#define PV_VIRTIO_BLK_S_OK 0
#define PV_VIRTIO_BLK_S_IOERR 1
#define PV_VIRTIO_BLK_S_UNSUPP 2

#define PV_VIRTIO_BLK_ID_BYTES 20
#define PV_VIRTIO_BLK_QUEUE_SIZE 256
#define PV_VIRTIO_BLK_SEG_MAX (PV_VIRTIO_BLK_QUEUE_SIZE - 2)
#define PV_VIRTIO_BLK_MAX_REQ (32u << 20)           /* bytes per request */
#define PV_VIRTIO_BLK_MAX_DWZ_SECTORS (PV_VIRTIO_BLK_MAX_REQ / 512)

/* Config space offsets (virtio 1.2 5.2.4). */
#define PV_VIRTIO_BLK_CFG_CAPACITY 0
#define PV_VIRTIO_BLK_CFG_SEG_MAX 12
#define PV_VIRTIO_BLK_CFG_BLK_SIZE 20
#define PV_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36
#define PV_VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define PV_VIRTIO_BLK_CFG_DISCARD_ALIGN 44
#define PV_VIRTIO_BLK_CFG_MAX_WZ_SECTORS 48
#define PV_VIRTIO_BLK_CFG_MAX_WZ_SEG 52
#define PV_VIRTIO_BLK_CFG_WZ_MAY_UNMAP 56
#define PV_VIRTIO_BLK_CONFIG_SIZE 60

typedef struct PvVirtioBlk PvVirtioBlk;

/*
 * Create the device; it takes ownership of @blk (closed when the device is
 * destroyed, also on failure).  @serial: GET_ID's answer (at most 20 bytes
 * used; NULL: empty).  @irq: the slot's PLIC line.  Main or I/O thread,
 * outside a memory transaction, no lock held.  NULL on failure.
 */
PvVirtioBlk *pv_virtio_blk_new(PvVm *vm, AddressSpace *dma_as, PvEventLoop *loop,
                               const char *id, const PvIrq *irq, PvBlock *blk,
                               const char *serial, PvFlow flow);

/* The transport object (for pv_virtio_reset) and its register window. */
PvVirtioDevice *pv_virtio_blk_virtio(PvVirtioBlk *b);
MemoryRegion *pv_virtio_blk_mmio(PvVirtioBlk *b);

/* Requests handed to the backend and not yet finished (racy; tests). */
unsigned pv_virtio_blk_inflight(PvVirtioBlk *b);

/* pv_virtio_destroy(): unrealize, wait for requests in flight, close the
 * backend, drop the creator's reference.  No lock held, not in a dispatch. */
void pv_virtio_blk_destroy(PvVirtioBlk *b);

#endif
