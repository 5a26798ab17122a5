/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio device on the virtio-mmio transport (virtio 1.2 section 4.2,
 * Version 2 registers only), TinyEMU-style: the transport half
 * (src/virtio/mmio.c: registers, features, status, queues,
 * interrupts, notifiers) and the device half (virtio-blk, virtio-net:
 * PvVirtioDeviceOps) in one object.  A backend (block file, netdev) hands
 * data to the device only through callbacks the device registered.
 *
 * Threads and locks (docs/virtio.md has the picture).
 *   - Register accesses: vCPU threads, dispatch mode DEVICE, so under
 *     v->dev.lock (taken by dispatch through pv_device_lock()).
 *   - QueueNotify: an S2 eventfd notifier per queue (match on the queue
 *     index): the vCPU's write signals it and returns; the I/O thread
 *     wakes and submits device work (device-work.h, flow v->notify_flow)
 *     that calls ops->queue_notify under v->dev.lock.  The backend never
 *     runs on a vCPU thread, except that PV_FLOW_QUEUE work may run on the
 *     vCPU that holds the lock next (the seed's flow 2).
 *   - Everything in PvVirtioDevice below "under dev.lock" is read and
 *     written only with v->dev.lock held.  isr is atomic: the line is
 *     raised and lowered from any thread.
 *   - Reset (driver writes Status 0, or the board resets): under the lock,
 *     ops->reset runs, queues are reset, reset_epoch increments.  Work that
 *     left the lock with buffers of the old epoch (block requests in
 *     flight) must check the epoch under the lock before pushing, and must
 *     not write guest memory after a reset: such requests use bounce
 *     buffers and copy under the lock.
 *   - Removal: pv_virtio_destroy() (no lock held, not in a dispatch; may
 *     wait): unrealize (G1, G3), ops->unrealize (stop backends, wait for
 *     their threads and I/O-thread callbacks), drop the reference;
 *     ops->finalize after the last one (G2).
 */
#ifndef PARVM_VIRTIO_VIRTIO_H
#define PARVM_VIRTIO_VIRTIO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "parvm/device-work.h"
#include "parvm/event-loop.h"
#include "parvm/event-notifier.h"
#include "parvm/irq.h"
#include "parvm/memory.h"
#include "parvm/virtio/virtqueue.h"

#define PV_VIRTIO_MMIO_SIZE 0x1000
#define PV_VIRTIO_MAX_QUEUES 8
#define PV_VIRTIO_CONFIG_MAX 256

/* Feature bits the transport offers itself. */
#define PV_VIRTIO_F_INDIRECT_DESC 28
#define PV_VIRTIO_F_EVENT_IDX 29
#define PV_VIRTIO_F_VERSION_1 32

/* Device status bits. */
#define PV_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define PV_VIRTIO_STATUS_DRIVER 2u
#define PV_VIRTIO_STATUS_DRIVER_OK 4u
#define PV_VIRTIO_STATUS_FEATURES_OK 8u
#define PV_VIRTIO_STATUS_NEEDS_RESET 64u
#define PV_VIRTIO_STATUS_FAILED 128u

/* InterruptStatus bits. */
#define PV_VIRTIO_ISR_QUEUE 1u
#define PV_VIRTIO_ISR_CONFIG 2u

typedef struct PvVirtioDevice PvVirtioDevice;

typedef struct PvVirtioDeviceOps {
    /* Device class: lock class per device type; .finalize must be
     * pv_virtio_finalize (which calls ops->finalize, then frees the
     * transport's state). */
    PvDeviceClass *cls;
    uint32_t device_id;         /* 1 net, 2 block */
    unsigned num_queues;        /* <= PV_VIRTIO_MAX_QUEUES */
    uint16_t queue_max;         /* QueueNumMax, power of 2 */
    uint32_t config_size;       /* <= PV_VIRTIO_CONFIG_MAX */
    uint64_t features;          /* device-specific bits offered; the
                                   transport adds VERSION_1, EVENT_IDX and
                                   INDIRECT_DESC */
    /* All under v->dev.lock. */
    /* Driver wrote config space (v->config already updated); optional. */
    void (*config_write)(PvVirtioDevice *v, uint32_t off, unsigned len);
    /* DRIVER_OK set: the device may start using its queues. */
    void (*start)(PvVirtioDevice *v);
    /* Reset: forget everything tied to the queues.  Never waits. */
    void (*reset)(PvVirtioDevice *v);
    /* The driver kicked queue @q (I/O thread, or the next lock holder
     * with PV_FLOW_QUEUE). */
    void (*queue_notify)(PvVirtioDevice *v, unsigned q);
    /* No lock held, after unrealize: stop backends and wait for them.
     * Optional. */
    void (*unrealize)(PvVirtioDevice *v);
    /* Free device-specific state (call_rcu thread, no lock), not the
     * object itself: pv_virtio_finalize() then frees @v with free().
     * Optional. */
    void (*finalize)(PvVirtioDevice *v);
} PvVirtioDeviceOps;

typedef struct PvVirtioQueueNotifier {
    PvVirtioDevice *v;
    unsigned q;
    PvEventNotifier e;
    PvDeviceWork work;
} PvVirtioQueueNotifier;

struct PvVirtioDevice {
    PvDevice dev;               /* first: the refcount and the lock */
    const PvVirtioDeviceOps *ops;
    AddressSpace *dma_as;
    PvEventLoop *loop;
    MemoryRegion mmio;          /* the 0x1000 register window, DEVICE mode */
    PvIrq irq;
    PvFlow notify_flow;         /* how queue kicks reach the lock */
    atomic_uint isr;            /* InterruptStatus; line high while != 0 */

    /* Under dev.lock. */
    uint32_t status;
    uint64_t driver_features;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint32_t config_generation;
    uint64_t reset_epoch;
    PvVirtqueue vq[PV_VIRTIO_MAX_QUEUES];
    uint8_t config[PV_VIRTIO_CONFIG_MAX];

    PvVirtioQueueNotifier notifier[PV_VIRTIO_MAX_QUEUES];
    void *opaque;               /* the device half's state */
};

/*
 * Initialise @v (embedded first in the device's own struct, zeroed,
 * allocated with malloc/calloc) and register its queue notifiers with
 * @loop.  The caller fills v->config afterwards and maps v->mmio.  Returns
 * 0 or -errno; on failure nothing is left registered and the caller frees
 * its struct itself.  No lock held (takes the map lock briefly).
 */
int pv_virtio_init(PvVirtioDevice *v, const PvVirtioDeviceOps *ops, PvVm *vm,
                   AddressSpace *dma_as, PvEventLoop *loop, const char *id,
                   const PvIrq *irq, PvFlow notify_flow);

/* The PvDeviceClass.finalize of every virtio device: ops->finalize, then
 * the notifiers and the region, then free(v) -- so the device's struct
 * (with the PvVirtioDevice first) must come from malloc/calloc. */
void pv_virtio_finalize(PvDevice *dev);

/* See the header comment.  Never inside a dispatch. */
void pv_virtio_destroy(PvVirtioDevice *v);

/* Under dev.lock: after pushing to @q, raise the used-buffer interrupt if
 * the driver wants one. */
void pv_virtio_notify(PvVirtioDevice *v, unsigned q);

/* Under dev.lock: config space changed (generation++, config interrupt). */
void pv_virtio_config_changed(PvVirtioDevice *v);

/* Under dev.lock: a malformed queue or request: log a guest error with
 * @why, set NEEDS_RESET and send a config interrupt (virtio 1.2 2.1.2). */
void pv_virtio_set_needs_reset(PvVirtioDevice *v, const char *why);

/* Under dev.lock: whether the driver has set DRIVER_OK and no reset or
 * NEEDS_RESET happened since. */
bool pv_virtio_running(const PvVirtioDevice *v);

/* Reset from the board (system_reset); takes the lock itself. */
void pv_virtio_reset(PvVirtioDevice *v);

#endif
