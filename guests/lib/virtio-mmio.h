/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal virtio-mmio (Version 2, virtio 1.2 section 4.2.2) driver core
 * for the bundled bare-metal guests: register offsets, the split virtqueue
 * layout, device discovery on QEMU virt's eight slots, and the steps of
 * the initialisation sequence (virtio 1.2 section 3.1.1): negotiate, set up
 * each queue, DRIVER_OK; virtio_mmio_setup() does all three for a device
 * with one queue.  Polled only: the guests never take virtio interrupts.
 * Header-only (static inline) so a guest that does not include it pays
 * nothing; works the same on qemu-system-riscv64 with
 * -global virtio-mmio.force-legacy=false.
 */
#ifndef GUEST_VIRTIO_MMIO_H
#define GUEST_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"

#define VIRTIO_MMIO_SLOTS 8
#define VIRTIO_MMIO_SLOT(i) (0x10001000ul + 0x1000ul * (i))
#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" */

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_ISR 0x060
#define R_ISR_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

#define F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

/* Descriptor flags, avail and used ring flags (virtio 1.2 section 2.7). */
#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_AVAIL_F_NO_INTERRUPT 1
#define VQ_USED_F_NO_NOTIFY 1

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct used_elem {
    uint32_t id, len;
};

/* The driver and device areas of a queue of @n entries (n a constant). */
#define VQ_AVAIL(n)                                                                                \
    struct {                                                                                       \
        uint16_t flags, idx, ring[n], used_event;                                                  \
    }
#define VQ_USED(n)                                                                                 \
    struct {                                                                                       \
        uint16_t flags, idx;                                                                       \
        struct used_elem ring[n];                                                                  \
        uint16_t avail_event;                                                                      \
    }

static inline void virtio_fence(void)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
}

/* The first slot at or after @from holding a device of @id, or -1. */
static inline int virtio_mmio_find(unsigned id, unsigned from)
{
    for (unsigned i = from; i < VIRTIO_MMIO_SLOTS; i++) {
        unsigned long b = VIRTIO_MMIO_SLOT(i);
        if (mmio32(b + R_MAGIC) == VIRTIO_MMIO_MAGIC_VALUE && mmio32(b + R_DEVICE_ID) == id) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Reset the device at @base and accept the offered features among @want
 * (*@features gets them).  False if FEATURES_OK did not stick.
 */
static inline bool virtio_mmio_negotiate(unsigned long base, uint64_t want, uint64_t *features)
{
    mmio32(base + R_STATUS) = 0;
    mmio32(base + R_STATUS) = S_ACK;
    mmio32(base + R_STATUS) = S_ACK | S_DRIVER;
    mmio32(base + R_DEV_FEATURES_SEL) = 0;
    uint64_t f = mmio32(base + R_DEV_FEATURES);
    mmio32(base + R_DEV_FEATURES_SEL) = 1;
    f |= (uint64_t)mmio32(base + R_DEV_FEATURES) << 32;
    *features = f & want;
    mmio32(base + R_DRV_FEATURES_SEL) = 0;
    mmio32(base + R_DRV_FEATURES) = (uint32_t)*features;
    mmio32(base + R_DRV_FEATURES_SEL) = 1;
    mmio32(base + R_DRV_FEATURES) = (uint32_t)(*features >> 32);
    mmio32(base + R_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
    return (mmio32(base + R_STATUS) & S_FEATURES_OK) != 0;
}

/*
 * Set up queue @q with @qsize entries on the given rings (@avail and @used
 * are VQ_AVAIL(qsize) and VQ_USED(qsize) objects; their flags and indices
 * are zeroed here).  False if the queue is too small or already live.
 */
static inline bool virtio_mmio_queue(unsigned long base, unsigned q, unsigned qsize,
                                     struct desc *desc, void *avail, void *used)
{
    mmio32(base + R_QUEUE_SEL) = q;
    if (mmio32(base + R_QUEUE_NUM_MAX) < qsize || mmio32(base + R_QUEUE_READY) != 0) {
        return false;
    }
    /* The ring headers are 4 bytes; the rest is rewritten before use. */
    ((volatile uint16_t *)avail)[0] = 0;
    ((volatile uint16_t *)avail)[1] = 0;
    ((volatile uint16_t *)used)[0] = 0;
    ((volatile uint16_t *)used)[1] = 0;
    virtio_fence();
    mmio32(base + R_QUEUE_NUM) = qsize;
    mmio32(base + R_DESC_LO) = (uint32_t)(uintptr_t)desc;
    mmio32(base + R_DESC_HI) = (uint32_t)((uint64_t)(uintptr_t)desc >> 32);
    mmio32(base + R_DRIVER_LO) = (uint32_t)(uintptr_t)avail;
    mmio32(base + R_DRIVER_HI) = (uint32_t)((uint64_t)(uintptr_t)avail >> 32);
    mmio32(base + R_DEVICE_LO) = (uint32_t)(uintptr_t)used;
    mmio32(base + R_DEVICE_HI) = (uint32_t)((uint64_t)(uintptr_t)used >> 32);
    mmio32(base + R_QUEUE_READY) = 1;
    return true;
}

static inline void virtio_mmio_driver_ok(unsigned long base)
{
    mmio32(base + R_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
}

enum virtio_setup_error {
    VIRTIO_SETUP_OK,
    VIRTIO_SETUP_FEATURES_REFUSED, /* FEATURES_OK did not stick */
    VIRTIO_SETUP_QUEUE_UNUSABLE,   /* queue 0 too small or already live */
};

/* A device with one queue: negotiate, queue 0, DRIVER_OK. */
static inline enum virtio_setup_error virtio_mmio_setup(unsigned long base, uint64_t want,
                                                        uint64_t *features, unsigned qsize,
                                                        struct desc *desc, void *avail,
                                                        void *used)
{
    if (!virtio_mmio_negotiate(base, want, features)) {
        return VIRTIO_SETUP_FEATURES_REFUSED;
    }
    if (!virtio_mmio_queue(base, 0, qsize, desc, avail, used)) {
        return VIRTIO_SETUP_QUEUE_UNUSABLE;
    }
    virtio_mmio_driver_ok(base);
    return VIRTIO_SETUP_OK;
}

#endif
