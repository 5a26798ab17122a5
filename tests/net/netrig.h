/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM with RAM and one virtio-net device on a netdev, and a driver that
 * acts as the guest's through register and RAM accesses (as a guest
 * would): negotiation, a receive and a transmit queue, buffers.  Shared by
 * the virtio-net tests.
 */
#ifndef PARVM_TEST_NETRIG_H
#define PARVM_TEST_NETRIG_H

#include <stdatomic.h>

#include "fixture.h"
#include "parvm/hw/virtio-net.h"

#define NR_RAM_BASE 0x80000000u
#define NR_RAM_SIZE (4u << 20)
#define NR_VBASE 0x10001000u
#define NR_QSIZE 256u
#define NR_RXRING (NR_RAM_BASE + 0x0000)
#define NR_TXRING (NR_RAM_BASE + 0x4000)
#define NR_RXBUF (NR_RAM_BASE + 0x100000)    /* NR_QSIZE x NR_BUFSZ */
#define NR_TXBUF (NR_RAM_BASE + 0x200000)
#define NR_BUFSZ 2048u

enum {
    R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR_ID = 0x00c,
    R_DEV_FEATURES = 0x010, R_DEV_FEATURES_SEL = 0x014,
    R_DRV_FEATURES = 0x020, R_DRV_FEATURES_SEL = 0x024,
    R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038,
    R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050,
    R_ISR = 0x060, R_ISR_ACK = 0x064, R_STATUS = 0x070,
    R_DESC_LO = 0x080, R_DESC_HI = 0x084, R_DRIVER_LO = 0x090, R_DRIVER_HI = 0x094,
    R_DEVICE_LO = 0x0a0, R_DEVICE_HI = 0x0a4, R_CONFIG_GEN = 0x0fc, R_CONFIG = 0x100,
};

#define F_VERSION_1 (UINT64_C(1) << 32)
#define F_MAC (UINT64_C(1) << PV_VIRTIO_NET_F_MAC)
#define F_STATUS (UINT64_C(1) << PV_VIRTIO_NET_F_STATUS)
#define F_MRG (UINT64_C(1) << PV_VIRTIO_NET_F_MRG_RXBUF)

typedef struct NetRig {
    Fixture f;
    MemoryRegion ram;
    PvEventLoop *loop;
    PvNetdev *nd;
    PvVirtioNet *net;
    atomic_uint irqs;
    /* dgram unix netdevs: the host's end of the wire */
    char path_dev[64], path_host[64];
    int host_fd;                /* bound at path_host; -1 for other netdevs */
} NetRig;

/* @extra: appended to the dgram netdev's options ("" for none); @netdev:
 * a whole -netdev string instead (then no host socket).  @dev_props:
 * "key=val,..." for the device, or NULL. */
bool netrig_init(NetRig *r, const char *netdev, const char *extra, const char *dev_props);
void netrig_destroy(NetRig *r);

uint32_t nr_reg_r(NetRig *r, uint32_t off);
void nr_reg_w(NetRig *r, uint32_t off, uint32_t val);
uint64_t nr_ram_r(NetRig *r, uint64_t addr, unsigned size);
void nr_ram_w(NetRig *r, uint64_t addr, unsigned size, uint64_t val);
void nr_ram_write(NetRig *r, uint64_t addr, const void *buf, size_t len);
void nr_ram_read(NetRig *r, uint64_t addr, void *buf, size_t len);

typedef struct NrQueue {
    NetRig *r;
    unsigned q;
    uint64_t desc, avail, used, bufs;
    uint16_t avail_idx, used_seen;
} NrQueue;

/* Reset, negotiate @features, set both queues up, DRIVER_OK.  Returns the
 * final status. */
uint32_t nr_driver_up(NetRig *r, uint64_t features, NrQueue *rx, NrQueue *tx);
/* Post receive buffer @i (desc i -> bufs + i*NR_BUFSZ, @len bytes). */
void nr_rx_post(NrQueue *q, uint16_t i, uint32_t len);
void nr_kick(NrQueue *q);
uint16_t nr_used_idx(NrQueue *q);
void nr_used_elem(NrQueue *q, uint16_t i, uint32_t *id, uint32_t *len);
/* Wait (bounded, generous) until the used idx reaches @idx. */
bool nr_wait_used(NrQueue *q, uint16_t idx);
/* Transmit @len bytes (a 12-byte zero header is prepended) from slot
 * q->avail_idx % NR_QSIZE; publishes and kicks. */
void nr_tx(NrQueue *q, const void *frame, size_t len);

/* Host side of a dgram rig: send one datagram to the device / receive one
 * (waiting up to 10 s); returns its length or -1. */
void nr_host_send(NetRig *r, const void *buf, size_t len);
ssize_t nr_host_recv(NetRig *r, void *buf, size_t cap);

#endif
