/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net: see include/parvm/hw/virtio-net.h.
 *
 * Everything under "under dev.lock" is touched only with the device lock
 * held: by the transport's register handlers and queue kicks (which call
 * our ops) and by our own device work (receive, transmit after the netdev
 * was full).  The I/O thread reaches the lock only through device work in
 * n->flow; a busy lock re-submits from a bottom half (TRYLOCK, NOTIFY) or
 * leaves the work to the holder (QUEUE).  Under the lock we take only leaf
 * locks: the netdev's queue lock, the event loop's, the interrupt
 * controller's.
 */
#include "parvm/hw/virtio-net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/device-work.h"

#define QUEUE_MAX 256
#define CONFIG_SIZE 8           /* mac[6], status */

struct PvVirtioNet {
    PvVirtioDevice v;           /* first: pv_virtio_finalize() frees us */
    PvNetdev *nd;
    PvFlow flow;
    bool rx_drop;
    atomic_bool dying;          /* unrealize began: no more submissions */

    PvDeviceWork rx_work, tx_work;
    PvBH *rx_bh, *tx_bh;        /* re-submit after a busy lock */

    /* Under dev.lock. */
    bool tx_blocked;            /* the netdev said -EAGAIN: wait for tx_ready */
    uint8_t *tx_buf;            /* one frame being sent */
    PvVirtqElem **rx_elems;     /* chains gathered for one frame */
    unsigned rx_partial;        /* chains there were when they ran out */

    struct {
        atomic_uint_fast64_t rx_frames, rx_buffers, rx_no_buffers, rx_dropped, rx_oversize;
        atomic_uint_fast64_t rx_runs, rx_runs_off_io, tx_frames, tx_blocked, tx_errors;
    } st;
};

#define COUNT(n, f) atomic_fetch_add_explicit(&(n)->st.f, 1, memory_order_relaxed)

static PvVirtioNet *to_net(PvVirtioDevice *v)
{
    return (PvVirtioNet *)v;
}

static bool mergeable(const PvVirtioNet *n)
{
    return n->v.driver_features & (UINT64_C(1) << PV_VIRTIO_NET_F_MRG_RXBUF);
}

/* ---- receive ------------------------------------------------------------- */

enum { RX_OK, RX_NO_BUFFERS, RX_OVERSIZE, RX_BROKEN };

static void put_hdr(uint8_t hdr[PV_VIRTIO_NET_HDR_LEN], uint16_t num_buffers)
{
    /* No offloads: flags 0, gso_type NONE, the rest 0 but num_buffers
     * (little-endian, at offset 10). */
    memset(hdr, 0, PV_VIRTIO_NET_HDR_LEN);
    hdr[10] = (uint8_t)num_buffers;
    hdr[11] = (uint8_t)(num_buffers >> 8);
}

/* Give back chains popped for a frame that cannot be delivered now. */
static void unpop_all(PvVirtqueue *vq, PvVirtqElem **e, unsigned k)
{
    while (k-- > 0) {
        pv_virtq_unpop(vq, e[k]);
        pv_virtq_elem_free(e[k]);
    }
}

/* Under dev.lock: copy @p into the receive ring (several chains with
 * MRG_RXBUF).  Pushes only when the whole frame fits. */
static int rx_one_locked(PvVirtioNet *n, const PvNetPacket *p)
{
    PvVirtioDevice *v = &n->v;
    PvVirtqueue *vq = &v->vq[PV_VIRTIO_NET_RXQ];
    size_t need = PV_VIRTIO_NET_HDR_LEN + p->len, have = 0, off = 0;
    unsigned k = 0, max = mergeable(n) ? vq->num : 1;
    uint8_t hdr[PV_VIRTIO_NET_HDR_LEN];

    while (have < need) {
        PvVirtqElem *e;
        int r;

        if (k == max) {
            unpop_all(vq, n->rx_elems, k);
            return RX_OVERSIZE;
        }
        r = pv_virtq_pop(vq, v->dma_as, &e);
        if (r < 0) {
            unpop_all(vq, n->rx_elems, k);
            pv_virtio_set_needs_reset(v, vq->broken_why ? vq->broken_why : "receive queue");
            return RX_BROKEN;
        }
        if (r == 0) {
            unpop_all(vq, n->rx_elems, k);
            n->rx_partial = k;
            return RX_NO_BUFFERS;
        }
        n->rx_elems[k++] = e;
        if (e->in_len < (k == 1 ? PV_VIRTIO_NET_HDR_LEN : 1)) {
            unpop_all(vq, n->rx_elems, k);
            pv_virtio_set_needs_reset(v, "virtio-net: receive buffer without room for the "
                                         "header (or not device-writable)");
            return RX_BROKEN;
        }
        have += e->in_len;
    }
    put_hdr(hdr, (uint16_t)k);
    for (unsigned i = 0; i < k; i++) {
        PvVirtqElem *e = n->rx_elems[i];
        size_t at = 0, len, w;

        if (i == 0) {
            pv_virtq_copy_to_in(v->dma_as, e, 0, hdr, sizeof(hdr));
            at = sizeof(hdr);
        }
        len = e->in_len - at;
        if (len > p->len - off) {
            len = p->len - off;
        }
        w = pv_virtq_copy_to_in(v->dma_as, e, at, p->data + off, len);
        off += w;
        pv_virtq_push(vq, v->dma_as, e, (uint32_t)(at + w));
        pv_virtq_elem_free(e);
    }
    atomic_fetch_add_explicit(&n->st.rx_buffers, k, memory_order_relaxed);
    return RX_OK;
}

/* Under dev.lock: deliver queued frames, oldest first, while there are
 * buffers.  Runs on the I/O thread, or (PV_FLOW_QUEUE) on a vCPU that
 * held the lock: it only copies frames the netdev already read. */
static void rx_drain_locked(PvVirtioNet *n)
{
    PvVirtioDevice *v = &n->v;
    PvVirtqueue *vq = &v->vq[PV_VIRTIO_NET_RXQ];
    const PvNetPacket *p;
    bool pushed = false;

    if (pv_device_is_removed(&v->dev)) {
        return;
    }
    while ((p = pv_net_rx_peek(n->nd))) {
        int r = RX_NO_BUFFERS;

        n->rx_partial = 0;
        if (pv_virtio_running(v) && vq->ready && !vq->broken) {
            r = rx_one_locked(n, p);
        }
        if (r == RX_OK) {
            pushed = true;
            COUNT(n, rx_frames);
            pv_net_rx_pop(n->nd, true);
            continue;
        }
        if (r == RX_OVERSIZE) {
            pv_guest_error(v->dev.vm, "%s: a %zu-byte frame does not fit the posted receive "
                           "buffers%s: dropped", v->dev.id, p->len,
                           mergeable(n) ? "" : " (no MRG_RXBUF)");
            COUNT(n, rx_oversize);
            pv_net_rx_pop(n->nd, false);
            continue;
        }
        if (r == RX_BROKEN) {
            break;      /* NEEDS_RESET: frames wait for the driver's reset */
        }
        /* No (or not enough) buffers.  Ask for the driver's kick, then
         * look once more: it may have posted before seeing the request. */
        if (pv_virtio_running(v) && vq->ready && !vq->broken) {
            pv_virtq_set_notification(vq, v->dma_as, true);
            if (pv_virtq_avail(vq, v->dma_as) > n->rx_partial) {
                continue;
            }
        }
        COUNT(n, rx_no_buffers);
        if (n->rx_drop) {
            COUNT(n, rx_dropped);
            pv_net_rx_pop(n->nd, false);
            continue;
        }
        break;          /* the frame stays in the netdev: backpressure */
    }
    if (pushed) {
        pv_virtio_notify(v, PV_VIRTIO_NET_RXQ);
    }
}

static void rx_run(PvDeviceWork *w)
{
    PvVirtioNet *n = w->opaque;

    COUNT(n, rx_runs);
    if (!pv_event_loop_in_io_thread(n->v.loop)) {
        COUNT(n, rx_runs_off_io);
    }
    rx_drain_locked(n);
}

/* ---- transmit ------------------------------------------------------------ */

/* Under dev.lock: send every available chain.  On a vCPU (PV_FLOW_QUEUE)
 * too: pv_net_send() never blocks. */
static void tx_drain_locked(PvVirtioNet *n)
{
    PvVirtioDevice *v = &n->v;
    PvVirtqueue *vq = &v->vq[PV_VIRTIO_NET_TXQ];
    PvVirtqElem *e;
    bool pushed = false;
    int r;

    if (pv_device_is_removed(&v->dev) || !pv_virtio_running(v) || n->tx_blocked) {
        return;
    }
    while ((r = pv_virtq_pop(vq, v->dma_as, &e)) == 1) {
        size_t len;
        ssize_t s;

        if (e->out_len < PV_VIRTIO_NET_HDR_LEN) {
            pv_virtq_unpop(vq, e);
            pv_virtq_elem_free(e);
            pv_virtio_set_needs_reset(v, "virtio-net: transmit chain shorter than its header");
            COUNT(n, tx_errors);
            break;
        }
        len = e->out_len - PV_VIRTIO_NET_HDR_LEN;
        if (len > PV_NET_MAX_FRAME) {
            pv_guest_error(v->dev.vm, "%s: %zu-byte transmit frame: dropped", v->dev.id, len);
            COUNT(n, tx_errors);
            s = 0;
        } else {
            pv_virtq_copy_from_out(v->dma_as, e, PV_VIRTIO_NET_HDR_LEN, n->tx_buf, len);
            s = pv_net_send(n->nd, n->tx_buf, len);
        }
        if (s == -EAGAIN) {
            /* Leave it in the ring; tx_ready brings us back. */
            pv_virtq_unpop(vq, e);
            pv_virtq_elem_free(e);
            n->tx_blocked = true;
            COUNT(n, tx_blocked);
            break;
        }
        if (s < 0) {
            COUNT(n, tx_errors);    /* refused by the host: dropped, as a wire would */
        } else if (len <= PV_NET_MAX_FRAME) {
            COUNT(n, tx_frames);
        }
        pv_virtq_push(vq, v->dma_as, e, 0);
        pv_virtq_elem_free(e);
        pushed = true;
    }
    if (r < 0) {
        pv_virtio_set_needs_reset(v, vq->broken_why ? vq->broken_why : "transmit queue");
    }
    if (pushed) {
        pv_virtio_notify(v, PV_VIRTIO_NET_TXQ);
    }
}

static void tx_run(PvDeviceWork *w)
{
    PvVirtioNet *n = w->opaque;

    n->tx_blocked = false;
    tx_drain_locked(n);
}

/* ---- getting the lock from the I/O thread -------------------------------- */

/* Busy lock (TRYLOCK, NOTIFY): submit again from the bottom half.  Any
 * thread, never waits. */
static void work_retry(PvDeviceWork *w)
{
    PvVirtioNet *n = w->opaque;

    if (!atomic_load(&n->dying)) {
        pv_bh_schedule(w == &n->rx_work ? n->rx_bh : n->tx_bh);
    }
}

static void rx_bh_cb(void *opaque)
{
    PvVirtioNet *n = opaque;

    if (!atomic_load(&n->dying)) {
        pv_device_work_submit(&n->v.dev, &n->rx_work);
    }
}

static void tx_bh_cb(void *opaque)
{
    PvVirtioNet *n = opaque;

    if (!atomic_load(&n->dying)) {
        pv_device_work_submit(&n->v.dev, &n->tx_work);
    }
}

/* Netdev callbacks: I/O thread, no lock held. */
static void peer_rx_ready(void *opaque)
{
    rx_bh_cb(opaque);
}

static void peer_tx_ready(void *opaque)
{
    tx_bh_cb(opaque);
}

/* ---- transport ops (under dev.lock) -------------------------------------- */

static void net_start(PvVirtioDevice *v)
{
    rx_drain_locked(to_net(v));
}

static void net_reset(PvVirtioDevice *v)
{
    to_net(v)->tx_blocked = false;
}

static void net_queue_notify(PvVirtioDevice *v, unsigned q)
{
    PvVirtioNet *n = to_net(v);

    if (q == PV_VIRTIO_NET_RXQ) {
        rx_drain_locked(n);     /* the driver posted buffers */
    } else if (q == PV_VIRTIO_NET_TXQ) {
        tx_drain_locked(n);
    }
}

static void net_unrealize(PvVirtioDevice *v)
{
    PvVirtioNet *n = to_net(v);

    /* No peer callback after this; then no bottom half submits. */
    if (n->nd) {
        pv_netdev_detach(n->nd);
    }
    atomic_store(&n->dying, true);
}

static void net_finalize(PvVirtioDevice *v)
{
    PvVirtioNet *n = to_net(v);

    /* A grace period after the last reference: no holder can be calling
     * work_retry any more; the bottom halves only look at dying. */
    pv_bh_free(n->rx_bh);
    pv_bh_free(n->tx_bh);
    free(n->tx_buf);
    free(n->rx_elems);
}

static PvDeviceClass virtio_net_class = {
    .type = "virtio-net-device",
    .lock_class = PV_LOCK_CLASS_INIT("virtio-net", PV_LOCK_KIND_DEVICE),
    .finalize = pv_virtio_finalize,
};

static const PvVirtioDeviceOps virtio_net_ops = {
    .cls = &virtio_net_class,
    .device_id = PV_VIRTIO_NET_ID,
    .num_queues = 2,
    .queue_max = QUEUE_MAX,
    .config_size = CONFIG_SIZE,
    .features = (UINT64_C(1) << PV_VIRTIO_NET_F_MAC) | (UINT64_C(1) << PV_VIRTIO_NET_F_STATUS) |
                (UINT64_C(1) << PV_VIRTIO_NET_F_MRG_RXBUF),
    .start = net_start,
    .reset = net_reset,
    .queue_notify = net_queue_notify,
    .unrealize = net_unrealize,
    .finalize = net_finalize,
};

/* ---- creation ------------------------------------------------------------ */

void pv_virtio_net_conf_init(PvVirtioNetConf *c)
{
    memset(c, 0, sizeof(*c));
    c->rx_flow = -1;
    c->rx_drop = -1;
}

int pv_virtio_net_conf_set(PvVirtioNetConf *c, const char *key, const char *val, char *err,
                           size_t errlen)
{
    if (!strcmp(key, "mac")) {
        unsigned b[6];
        char tail;
        if (sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                   &tail) != 6 || strlen(val) != 17) {
            snprintf(err, errlen, "virtio-net-device: bad mac=%s (want xx:xx:xx:xx:xx:xx)", val);
            return -1;
        }
        if (b[0] & 1) {
            snprintf(err, errlen, "virtio-net-device: mac=%s is a multicast address", val);
            return -1;
        }
        for (int i = 0; i < 6; i++) {
            c->mac[i] = (uint8_t)b[i];
        }
        c->has_mac = true;
        return 0;
    }
    if (!strcmp(key, "rx-flow")) {
        c->rx_flow = pv_flow_parse(val);
        if (c->rx_flow < 0) {
            snprintf(err, errlen, "virtio-net-device: rx-flow must be trylock, queue or notify");
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "rx-drop")) {
        if (!strcmp(val, "on")) {
            c->rx_drop = 1;
        } else if (!strcmp(val, "off")) {
            c->rx_drop = 0;
        } else {
            snprintf(err, errlen, "virtio-net-device: rx-drop must be on or off");
            return -1;
        }
        return 0;
    }
    return 1;
}

PvVirtioNet *pv_virtio_net_new(PvVm *vm, AddressSpace *dma_as, PvEventLoop *loop,
                               const char *id, const PvIrq *irq, PvNetdev *nd,
                               const PvVirtioNetConf *conf, char *err, size_t errlen)
{
    static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    PvVirtioNet *n = calloc(1, sizeof(*n));
    PvNetPeer peer;
    int r;

    if (!n) {
        snprintf(err, errlen, "%s: out of memory", id);
        return NULL;
    }
    n->nd = nd;
    n->flow = conf->rx_flow >= 0 ? (PvFlow)conf->rx_flow : pv_netdev_rx_flow(nd);
    n->rx_drop = conf->rx_drop >= 0 ? conf->rx_drop : pv_netdev_rx_drop(nd);
    n->tx_buf = malloc(PV_NET_MAX_FRAME);
    n->rx_elems = calloc(QUEUE_MAX, sizeof(*n->rx_elems));
    n->rx_bh = pv_bh_new(loop, rx_bh_cb, n);
    n->tx_bh = pv_bh_new(loop, tx_bh_cb, n);
    if (!n->tx_buf || !n->rx_elems || !n->rx_bh || !n->tx_bh) {
        snprintf(err, errlen, "%s: out of memory", id);
        goto fail;
    }
    n->rx_work = (PvDeviceWork){ .run = rx_run, .retry = work_retry, .opaque = n,
                                 .flow = n->flow };
    n->tx_work = (PvDeviceWork){ .run = tx_run, .retry = work_retry, .opaque = n,
                                 .flow = n->flow };
    atomic_init(&n->rx_work.pending, false);
    atomic_init(&n->tx_work.pending, false);
    /* Queue kicks reach the lock in the same flow as received frames. */
    r = pv_virtio_init(&n->v, &virtio_net_ops, vm, dma_as, loop, id, irq, n->flow);
    if (r < 0) {
        snprintf(err, errlen, "%s: cannot create the virtio transport: %s", id, strerror(-r));
        goto fail;
    }
    memcpy(n->v.config, conf->has_mac ? conf->mac : default_mac, 6);
    n->v.config[6] = PV_VIRTIO_NET_S_LINK_UP;
    n->v.config[7] = 0;
    peer = (PvNetPeer){ .rx_ready = peer_rx_ready, .tx_ready = peer_tx_ready, .opaque = n };
    r = pv_netdev_attach(nd, &peer);
    if (r < 0) {
        snprintf(err, errlen, "%s: netdev %s is already in use", id, pv_netdev_id(nd));
        /* The transport owns n now: its destroy frees everything. */
        atomic_store(&n->dying, true);
        n->nd = NULL;
        pv_virtio_destroy(&n->v);
        return NULL;
    }
    return n;

fail:
    pv_bh_free(n->rx_bh);
    pv_bh_free(n->tx_bh);
    free(n->tx_buf);
    free(n->rx_elems);
    free(n);
    return NULL;
}

MemoryRegion *pv_virtio_net_mmio(PvVirtioNet *n)
{
    return &n->v.mmio;
}

PvVirtioDevice *pv_virtio_net_virtio(PvVirtioNet *n)
{
    return &n->v;
}

PvNetdev *pv_virtio_net_netdev(PvVirtioNet *n)
{
    return n->nd;
}

void pv_virtio_net_destroy(PvVirtioNet *n)
{
    pv_virtio_destroy(&n->v);
}

void pv_virtio_net_get_stats(PvVirtioNet *n, PvVirtioNetStats *out)
{
#define LD(f) out->f = atomic_load_explicit(&n->st.f, memory_order_relaxed)
    LD(rx_frames);
    LD(rx_buffers);
    LD(rx_no_buffers);
    LD(rx_dropped);
    LD(rx_oversize);
    LD(rx_runs);
    LD(rx_runs_off_io);
    LD(tx_frames);
    LD(tx_blocked);
    LD(tx_errors);
#undef LD
}
