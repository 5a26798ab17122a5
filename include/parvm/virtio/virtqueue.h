/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues (virtio 1.2 section 2.7), device side, with every
 * guest-supplied value validated: descriptor addresses and lengths (must lie
 * in guest RAM), indices (< queue size), chain length (<= queue size, no
 * loops), indirect tables (size multiple of 16, no nesting, only with the
 * feature), avail idx not running more than the queue size ahead.  A
 * violation marks the queue broken: the caller (the transport) then sets
 * NEEDS_RESET and logs a guest error; the ring is not touched again until
 * the driver resets the device.  The host never reads or writes outside
 * guest RAM: buffers are accessed only through address_space_ram_ptr()
 * ranges checked here (MMIO in a descriptor is a malformed queue).
 *
 * Threads and locks.  A PvVirtqueue belongs to a virtio device and is used
 * only under that device's lock (PvDevice.lock, taken with
 * pv_device_lock()/device work), by the vCPU thread that configures it
 * through the transport or the thread that processes it.  Every function
 * here is called with that lock held, as an online RCU reader.  Buffers of
 * a popped element may be copied outside the lock (block I/O) only while
 * the caller keeps the element and the device has not been reset: see
 * PvVirtqElem.
 */
#ifndef PARVM_VIRTIO_VIRTQUEUE_H
#define PARVM_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/memory.h"

#define PV_VIRTQ_MAX_SIZE 1024u

typedef struct PvVirtqueue {
    /* Configured by the driver through the transport (QueueNum, QueueDesc,
     * QueueDriver, QueueDevice, QueueReady). */
    uint16_t num;               /* queue size: power of 2, 1..PV_VIRTQ_MAX_SIZE */
    uint64_t desc, avail, used; /* guest-physical ring addresses */
    bool ready;
    /* Negotiated features that change ring behaviour. */
    bool event_idx;             /* VIRTIO_F_RING_EVENT_IDX */
    bool indirect;              /* VIRTIO_F_INDIRECT_DESC */
    /* Device-side state. */
    uint16_t last_avail_idx;    /* next avail entry to pop */
    uint16_t used_idx;          /* next used entry to fill */
    uint16_t signalled_used;    /* used_idx at the last interrupt */
    bool signalled_used_valid;
    unsigned inflight;          /* popped, not yet pushed */
    bool broken;                /* malformed: see above */
    bool kicks_off;             /* pv_virtq_set_notification(false) */
    const char *broken_why;     /* static string, for the guest-error log */
} PvVirtqueue;

/* One scatter-gather piece: guest-physical, validated to lie in RAM. */
typedef struct PvVirtqSg {
    uint64_t addr;
    uint32_t len;
} PvVirtqSg;

/*
 * A popped chain: the device-readable ("out") pieces first, then the
 * device-writable ("in") ones, as the spec orders them.  Allocated by
 * pv_virtq_pop(), freed with pv_virtq_elem_free() by whoever pushes it (or
 * drops it).
 */
typedef struct PvVirtqElem {
    uint16_t head;              /* descriptor index to put in the used ring */
    unsigned out_num, in_num;
    size_t out_len, in_len;     /* byte totals */
    PvVirtqSg *sg;              /* out_num + in_num entries: out, then in */
} PvVirtqElem;

/* Free an element from pv_virtq_pop() (NULL: nothing).  Any thread. */
void pv_virtq_elem_free(PvVirtqElem *elem);

/* Reset the device-side state and the configuration (device reset). */
void pv_virtq_reset(PvVirtqueue *vq);

/*
 * Pop the next available chain.  Returns 1 and *@out (malloc'd), 0 if the
 * ring is empty (or the queue not ready / broken), -1 if the queue was
 * found malformed now (vq->broken set, vq->broken_why says why).
 * With EVENT_IDX, unless kicks are off, every pop also publishes
 * avail_event = the next entry it will want, as QEMU's virtqueue_pop does:
 * a driver then kicks for the first buffer it adds after the device has
 * taken everything, whichever device runs the queue.
 */
int pv_virtq_pop(PvVirtqueue *vq, AddressSpace *as, PvVirtqElem **out);

/* Number of chains available to pop (0 if not ready or broken; a bogus
 * avail idx makes the queue broken and returns 0). */
unsigned pv_virtq_avail(PvVirtqueue *vq, AddressSpace *as);

/*
 * Put @elem in the used ring with @written bytes written into its "in"
 * pieces and publish the used idx (store-release ordering after the data).
 * Does not free @elem.  Returns false if the queue is broken or the used
 * ring is not in RAM (then marks it broken).
 */
bool pv_virtq_push(PvVirtqueue *vq, AddressSpace *as, const PvVirtqElem *elem, uint32_t written);

/* Return an element that was popped but will not be used (the avail entry
 * is offered again by the next pop). */
void pv_virtq_unpop(PvVirtqueue *vq, const PvVirtqElem *elem);

/*
 * Whether the driver wants an interrupt for what was pushed since the last
 * one (used_event with EVENT_IDX, else VIRTQ_AVAIL_F_NO_INTERRUPT).
 * Updates the "signalled" state when it answers true.
 */
bool pv_virtq_should_notify(PvVirtqueue *vq, AddressSpace *as);

/*
 * Ask for (or suppress) the driver's kicks: with EVENT_IDX writes
 * avail_event = last_avail_idx, else the used ring's NO_NOTIFY flag.
 * Devices that poll a queue dry call enable, then check pv_virtq_avail()
 * again before sleeping (the usual race).
 */
void pv_virtq_set_notification(PvVirtqueue *vq, AddressSpace *as, bool enable);

/*
 * Copy between a host buffer and the element's pieces, starting @offset
 * bytes into the "out" (gather) or "in" (scatter) side.  Return the bytes
 * copied (less than @len at the end of the pieces).  Guest RAM is accessed
 * with relaxed atomics-compatible copies (address_space_rw on RAM).
 */
size_t pv_virtq_copy_from_out(AddressSpace *as, const PvVirtqElem *elem, size_t offset,
                              void *buf, size_t len);
size_t pv_virtq_copy_to_in(AddressSpace *as, const PvVirtqElem *elem, size_t offset,
                           const void *buf, size_t len);

#endif
