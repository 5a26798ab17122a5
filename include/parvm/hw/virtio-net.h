/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net (virtio 1.2 section 5.1) on the virtio-mmio transport
 * (-device virtio-net-device,netdev=ID[,mac=52:54:00:12:34:56]
 * [,rx-flow=trylock|queue|notify][,rx-drop=on|off]).
 *
 * Features offered: MAC, STATUS (link always up), MRG_RXBUF; no checksum
 * or segmentation offloads, so every frame is whole and the 12-byte
 * virtio_net_hdr_v1 in front of it is zero except num_buffers.  Queues:
 * 0 receive, 1 transmit.
 *
 * Receive (S8): the netdev (net.h) queues frames it read on the I/O
 * thread and calls us; we get the device lock through device work in the
 * flow chosen by rx-flow (the device's property, else the netdev's) and
 * copy frames into the receive ring in order.  A frame we cannot take yet
 * (lock busy, no buffers posted) stays in the netdev, which stops reading
 * when its queue is full; a kick of the receive queue resumes delivery.
 * With rx-drop=on, frames that find no buffers are dropped and counted.
 * With PV_FLOW_QUEUE the delivery may run on a vCPU that held the lock: it
 * only copies already-read frames into guest RAM there.
 *
 * Transmit: a kick of queue 1 (through the transport's notifier, under
 * the device lock) sends every available chain to the netdev; if the
 * netdev cannot take one, the chain stays in the ring until the netdev
 * says it can.
 */
#ifndef PARVM_HW_VIRTIO_NET_H
#define PARVM_HW_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "parvm/net.h"
#include "parvm/virtio/virtio.h"

#define PV_VIRTIO_NET_ID 1
#define PV_VIRTIO_NET_F_MAC 5
#define PV_VIRTIO_NET_F_MRG_RXBUF 15
#define PV_VIRTIO_NET_F_STATUS 16
#define PV_VIRTIO_NET_S_LINK_UP 1
#define PV_VIRTIO_NET_HDR_LEN 12
#define PV_VIRTIO_NET_RXQ 0
#define PV_VIRTIO_NET_TXQ 1

typedef struct PvVirtioNet PvVirtioNet;

typedef struct PvVirtioNetConf {
    uint8_t mac[6];
    bool has_mac;               /* else QEMU's default 52:54:00:12:34:56 */
    int rx_flow;                /* a PvFlow, or -1: the netdev's */
    int rx_drop;                /* 0/1, or -1: the netdev's */
} PvVirtioNetConf;

/* Defaults: no MAC given, the netdev's flow and drop policy. */
void pv_virtio_net_conf_init(PvVirtioNetConf *c);
/*
 * Apply one -device property (mac=, rx-flow=, rx-drop=); netdev= and the
 * generic ones are the board's.  0, 1 if @key is not ours, -1 with @err
 * filled if @val is bad.
 */
int pv_virtio_net_conf_set(PvVirtioNetConf *c, const char *key, const char *val, char *err,
                           size_t errlen);

/*
 * Create the device and attach it to @nd (which must have no peer).  The
 * caller maps pv_virtio_net_mmio() and keeps @nd alive until
 * pv_virtio_net_destroy() has returned.  NULL with @err filled on failure.
 * Main thread, no lock held.
 */
PvVirtioNet *pv_virtio_net_new(PvVm *vm, AddressSpace *dma_as, PvEventLoop *loop,
                               const char *id, const PvIrq *irq, PvNetdev *nd,
                               const PvVirtioNetConf *conf, char *err, size_t errlen);
MemoryRegion *pv_virtio_net_mmio(PvVirtioNet *n);
PvVirtioDevice *pv_virtio_net_virtio(PvVirtioNet *n);
PvNetdev *pv_virtio_net_netdev(PvVirtioNet *n);

/* Unrealize (G1), detach from the netdev, drop the creator's reference.
 * No lock held, not inside a dispatch; may wait. */
void pv_virtio_net_destroy(PvVirtioNet *n);

/* Counters, lock-free reads.  The netdev counts packets (net.h); these
 * say what happened at the device. */
typedef struct PvVirtioNetStats {
    uint64_t rx_frames;         /* frames written into the receive ring */
    uint64_t rx_buffers;        /* chains used for them (> frames: merged) */
    uint64_t rx_no_buffers;     /* deliveries that stopped: ring empty */
    uint64_t rx_dropped;        /* dropped by rx-drop=on */
    uint64_t rx_oversize;       /* dropped: larger than the posted buffer */
    uint64_t rx_runs;           /* receive work runs (device work for
                                   frames the netdev queued) */
    uint64_t rx_runs_off_io;    /* ... of which on another thread than the
                                   I/O thread (PV_FLOW_QUEUE: a vCPU) */
    uint64_t tx_frames;         /* frames handed to the netdev */
    uint64_t tx_blocked;        /* the netdev answered -EAGAIN */
    uint64_t tx_errors;         /* frames refused by the netdev, or bad */
} PvVirtioNetStats;
void pv_virtio_net_get_stats(PvVirtioNet *n, PvVirtioNetStats *out);

#endif
