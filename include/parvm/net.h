/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network backends ("netdevs", S8): a host-side packet source and sink
 * (-netdev socket|dgram|tap|user) that one device (the "peer",
 * virtio-net) attaches to.  A backend hands packets to the device only
 * through the callbacks the device registered (PvNetPeer).
 *
 * Receive (host -> guest), lossless with backpressure:
 *
 *   I/O thread: the backend reads frames (its fd is readable) into the
 *   netdev's receive queue, a bounded FIFO of packets already read, and
 *   calls peer->rx_ready.  When the queue holds rx-queue=N packets the
 *   backend stops reading (its fd leaves the event loop), so what the
 *   device cannot take yet stays in the backend: in this queue, then in
 *   the host socket's buffer, then with the sender.
 *
 *   The device, under its own lock, on whichever thread got it (the I/O
 *   thread, or with PV_FLOW_QUEUE a vCPU that held the lock), takes
 *   packets from the head with pv_net_rx_peek()/pv_net_rx_pop() as long
 *   as it has guest buffers for them.  No socket I/O happens there: when
 *   a pop makes room, the I/O thread is asked (a bottom half) to read
 *   again.  Packets leave the queue only through pv_net_rx_pop(), in
 *   order, counted as delivered or as dropped (the device's policy).
 *
 * Transmit (guest -> host): pv_net_send() from the device, on any thread,
 * never blocks.  -EAGAIN means the backend cannot take the frame now: the
 * device keeps it and waits for peer->tx_ready.
 *
 * Threads and locks.  The netdev's own state is under a leaf lock (kind
 * PV_LOCK_KIND_CORE; nothing is taken under it), so the device may call
 * the consumer functions under its device lock.  Peer callbacks run on
 * the I/O thread with no lock held.  pv_netdev_new(), _attach(),
 * _detach() and _free() are for the board (main thread, or any thread
 * that holds no lock and is not the I/O thread's callback of this
 * netdev).
 */
#ifndef PARVM_NET_H
#define PARVM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parvm/device-work.h"
#include "parvm/event-loop.h"

typedef struct PvNetdev PvNetdev;

/* A received frame in the netdev's queue (ethernet header first, no
 * virtio header).  Owned by the netdev; valid until pv_net_rx_pop(). */
typedef struct PvNetPacket {
    struct PvNetPacket *next;
    size_t len;
    size_t cap;                 /* bytes allocated for data (internal) */
    uint8_t data[];
} PvNetPacket;

/* Largest frame a backend delivers or accepts (no GSO is offered). */
#define PV_NET_MAX_FRAME 65536

/* The device's callbacks.  Both on the I/O thread, no lock held; they
 * must not wait (they submit device work). */
typedef struct PvNetPeer {
    /* Packets were queued (pv_net_rx_peek() may now find one). */
    void (*rx_ready)(void *opaque);
    /* pv_net_send() returned -EAGAIN earlier; the backend can take
     * frames again. */
    void (*tx_ready)(void *opaque);
    void *opaque;
} PvNetPeer;

typedef struct PvNetStats {
    uint64_t rx_packets, rx_bytes;  /* read from the host into the queue */
    uint64_t rx_delivered;          /* popped by the device into the guest */
    uint64_t rx_dropped;            /* popped by the device and dropped */
    uint64_t rx_paused;             /* times reading stopped: queue full */
    uint64_t rx_queue_max;          /* most packets queued at once */
    uint64_t tx_packets, tx_bytes;  /* handed to the host */
    uint64_t tx_again;              /* pv_net_send() answered -EAGAIN */
    uint64_t tx_errors;             /* frames the host refused (dropped) */
} PvNetStats;

/*
 * Create a backend from a -netdev option string, QEMU's syntax:
 *   socket,id=ID,udp=HOST:PORT,localaddr=HOST:PORT
 *   dgram,id=ID,local.type=inet,local.host=H,local.port=P,
 *         remote.type=inet,remote.host=H,remote.port=P
 *   dgram,id=ID,local.type=unix,local.path=PATH,remote.type=unix,remote.path=PATH
 *   tap,id=ID,ifname=NAME,script=no,downscript=no[,vnet_hdr=on|off]
 *   user,id=ID[,net=A.B.C.D/N][,hostfwd=tcp::HOSTPORT-:GUESTPORT]...
 * and parvm's own, on every type:
 *   rx-flow=trylock|queue|notify   how the I/O thread reaches the device
 *                                  lock (device-work.h); default trylock
 *   rx-drop=on|off                 drop what arrives while the guest has
 *                                  posted no receive buffers (counted);
 *                                  default off: keep it (backpressure)
 *   rx-queue=N                     packets read ahead (1..65536, 256)
 * Nothing is read before a peer attaches.  NULL with a one-line message
 * naming the problem in @err on failure.
 */
PvNetdev *pv_netdev_new(PvEventLoop *loop, const char *opts, char *err, size_t errlen);

/* Stop the backend, drop what is queued, free.  Not attached (detach
 * first); the caller holds no lock; not from this netdev's callbacks. */
void pv_netdev_free(PvNetdev *nd);

const char *pv_netdev_id(const PvNetdev *nd);
const char *pv_netdev_type(const PvNetdev *nd);
PvFlow pv_netdev_rx_flow(const PvNetdev *nd);
bool pv_netdev_rx_drop(const PvNetdev *nd);

/*
 * Attach the device; reading starts (and rx_ready follows at once if
 * packets are already queued).  -EBUSY if a peer is attached.  @peer is
 * copied.
 */
int pv_netdev_attach(PvNetdev *nd, const PvNetPeer *peer);
/*
 * Detach: when this returns no peer callback runs or will run.  Waits for
 * a running callback of the I/O thread, so the caller holds no lock a
 * peer callback takes (no lock at all).  Queued packets stay queued.
 */
void pv_netdev_detach(PvNetdev *nd);

/*
 * Consumer side, for the attached device: called by one thread at a time
 * (the caller serializes, under its device lock), any thread, never waits.
 * peek: the oldest queued packet, or NULL.  pop: remove it, counted as
 * delivered or dropped; may ask the I/O thread to read again.
 */
const PvNetPacket *pv_net_rx_peek(PvNetdev *nd);
void pv_net_rx_pop(PvNetdev *nd, bool delivered);
/* Packets queued now (racy unless the caller is the consumer). */
unsigned pv_net_rx_queued(PvNetdev *nd);

/*
 * Send one frame (ethernet header first).  Any thread, one at a time
 * (the caller serializes), never blocks.  Returns @len; -EAGAIN: not
 * taken, retry after peer->tx_ready; another -errno: refused and dropped
 * (counted).
 */
ssize_t pv_net_send(PvNetdev *nd, const void *buf, size_t len);

/* Counters, lock-free reads. */
void pv_netdev_get_stats(PvNetdev *nd, PvNetStats *out);

#endif
