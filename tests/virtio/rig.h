/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM with RAM, a ROM page and one virtio-mmio device of a test type
 * (device ID 0x7f, "echo": every request's device-readable bytes are
 * copied into its device-writable buffers), and helpers that act as the
 * guest's driver through register and RAM accesses, as a guest would.
 * Shared by the virtio unit tests and the fuzzer.
 */
#ifndef PARVM_TEST_VIRTIO_RIG_H
#define PARVM_TEST_VIRTIO_RIG_H

#include <stdatomic.h>

#include "fixture.h"
#include "parvm/virtio/virtio.h"

#define RIG_RAM_BASE 0x80000000u
#define RIG_RAM_SIZE (4u << 20)
#define RIG_ROM_BASE 0x00001000u
#define RIG_ROM_SIZE 0x1000u
#define RIG_VBASE 0x10001000u
#define RIG_QUEUE_MAX 256u
#define RIG_ECHO_ID 0x7f
#define RIG_ECHO_F_TEST 0           /* a device-specific feature bit */
#define RIG_CONFIG_SIZE 12

/* Registers (virtio 1.2 4.2.2). */
enum {
    R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR_ID = 0x00c,
    R_DEV_FEATURES = 0x010, R_DEV_FEATURES_SEL = 0x014,
    R_DRV_FEATURES = 0x020, R_DRV_FEATURES_SEL = 0x024,
    R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038,
    R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050,
    R_ISR = 0x060, R_ISR_ACK = 0x064, R_STATUS = 0x070,
    R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_DRIVER_LO = 0x090, R_DRIVER_HI = 0x094,
    R_DEVICE_LO = 0x0a0, R_DEVICE_HI = 0x0a4,
    R_SHM_SEL = 0x0ac, R_SHM_LEN_LO = 0x0b0, R_SHM_LEN_HI = 0x0b4,
    R_CONFIG_GEN = 0x0fc, R_CONFIG = 0x100,
};

#define F_INDIRECT (UINT64_C(1) << PV_VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (UINT64_C(1) << PV_VIRTIO_F_EVENT_IDX)
#define F_VERSION_1 (UINT64_C(1) << PV_VIRTIO_F_VERSION_1)

#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define DESC_F_INDIRECT 4u

typedef struct Echo {
    PvVirtioDevice v;
    PvEventLoop *loop;
    /* Hold mode: popped elements are kept instead of completed (requests
     * "in flight"), with the epoch they were popped in. */
    bool hold;
    PvVirtqElem *held[64];
    uint64_t held_epoch[64];
    unsigned nheld;
    atomic_uint notifies;       /* queue_notify calls */
    atomic_uint off_io_thread;  /* ... that ran elsewhere than the I/O thread */
    atomic_uint resets;
    atomic_uint starts;
} Echo;

typedef struct Rig {
    Fixture f;
    MemoryRegion ram, rom;
    PvEventLoop *loop;
    Echo *echo;
    atomic_bool irq;
    atomic_uint raises;
} Rig;

/* @start_loop: false for the fuzzer, which drives the device by hand.
 * Kicks reach the device through device work of flow TRYLOCK. */
void rig_init(Rig *r, bool start_loop);
void rig_init_flow(Rig *r, bool start_loop, PvFlow flow);
void rig_destroy(Rig *r);

/* Under the device lock: process queue @q as a kick would. */
void echo_process(Echo *e, unsigned q);
/* Complete the held elements whose epoch is current (device lock taken
 * here); returns how many were pushed. */
unsigned echo_complete_held(Echo *e);

uint32_t reg_r(Rig *r, hwaddr off);
void reg_w(Rig *r, hwaddr off, uint32_t val);

uint64_t ram_r(Rig *r, uint64_t addr, unsigned size);
void ram_w(Rig *r, uint64_t addr, unsigned size, uint64_t val);

/* The driver's side of one queue. */
typedef struct Drv {
    Rig *r;
    unsigned q;
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx;         /* next avail idx to publish */
    uint16_t used_seen;         /* used entries consumed */
} Drv;

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status
 * read back. */
uint32_t drv_negotiate(Rig *r, uint64_t features);
/* Configure queue @q of size @num with its rings at @base (0x3000 bytes)
 * and make it ready. */
void drv_queue(Rig *r, Drv *d, unsigned q, uint16_t num, uint64_t base);
void drv_driver_ok(Rig *r);
void drv_desc(Drv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
              uint16_t flags, uint16_t next);
/* Put @head in the avail ring and publish it (release). */
void drv_publish(Drv *d, uint16_t head);
void drv_kick(Drv *d);
uint16_t drv_used_idx(Drv *d);
/* Used ring entry @i (mod num). */
void drv_used_elem(Drv *d, uint16_t i, uint32_t *id, uint32_t *len);
/* Wait (bounded, generous) until the used idx reaches @idx. */
bool drv_wait_used(Drv *d, uint16_t idx);

#endif
