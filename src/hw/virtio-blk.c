/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk: see include/parvm/hw/virtio-blk.h.
 *
 * A request's life: popped under the device lock (queue_notify) -> BlkReq
 * with a bounce buffer, a reference to the device and the reset epoch ->
 * backend (I/O off every parvm thread) -> blk_io_done() on the I/O thread
 * pushes it on the lock-free done stack and submits the device's one
 * PvDeviceWork -> done_run() under the lock finishes every request on the
 * stack.  The guest's buffers are touched only under the lock, and only
 * while the epoch is unchanged and the device not removed.
 */
#include "parvm/hw/virtio-blk.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/rcu.h"

typedef struct BlkReq BlkReq;
struct BlkReq {
    PvBlockReq io;
    PvVirtioBlk *s;
    PvVirtqElem *elem;
    uint64_t epoch;
    unsigned q;
    uint32_t type;
    uint8_t *buf;
    size_t len;
    int ret;
    BlkReq *next;
};

struct PvVirtioBlk {
    PvVirtioDevice v;           /* first: pv_virtio_finalize frees us */
    PvBlock *blk;
    char serial[PV_VIRTIO_BLK_ID_BYTES];
    uint64_t capacity;          /* 512-byte sectors */
    bool readonly;

    _Atomic(BlkReq *) done;     /* completed by the backend, work not run */
    PvDeviceWork work;
    PvBH *retry_bh;

    /* Leaf: held only to count. */
    pthread_mutex_t inflight_lock;
    pthread_cond_t inflight_zero;
    unsigned inflight;
};

static inline void st32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

/* ---- finishing requests (under dev.lock) ---------------------------------- */


static void put_status(PvVirtioDevice *v, unsigned q, PvVirtqElem *elem, uint8_t status)
{
    pv_virtq_copy_to_in(v->dma_as, elem, elem->in_len - 1, &status, 1);
    /* As QEMU: the used length is the whole device-writable part. */
    pv_virtq_push(&v->vq[q], v->dma_as, elem, (uint32_t)elem->in_len);
}

static void inflight_add(PvVirtioBlk *s, int d)
{
    pthread_mutex_lock(&s->inflight_lock);
    s->inflight += (unsigned)d;
    if (s->inflight == 0) {
        pthread_cond_broadcast(&s->inflight_zero);
    }
    pthread_mutex_unlock(&s->inflight_lock);
}

/* Device work: under dev.lock, on the I/O thread or the next lock holder. */
static void done_run(PvDeviceWork *w)
{
    PvVirtioBlk *s = w->opaque;
    PvVirtioDevice *v = &s->v;
    BlkReq *r = atomic_exchange_explicit(&s->done, NULL, memory_order_acquire);
    uint32_t pushed = 0;

    while (r) {
        BlkReq *next = r->next;
        /* Reset since it was popped, or unplugged: the buffers may belong
         * to something else now.  Drop it, touching nothing of the guest. */
        bool stale = r->epoch != v->reset_epoch || pv_device_is_removed(&v->dev);
        if (!stale) {
            uint8_t status = r->ret == 0 ? PV_VIRTIO_BLK_S_OK : PV_VIRTIO_BLK_S_IOERR;
            if (r->ret == 0 && r->type == PV_VIRTIO_BLK_T_IN &&
                pv_virtq_copy_to_in(v->dma_as, r->elem, 0, r->buf, r->len) != r->len) {
                status = PV_VIRTIO_BLK_S_IOERR;
            }
            put_status(v, r->q, r->elem, status);
            pushed |= 1u << r->q;
        }
        free(r->buf);
        pv_virtq_elem_free(r->elem);
        free(r);
        inflight_add(s, -1);
        /* Last reference possibly: finalize waits for a grace period, which
         * cannot end while this thread (an online reader) is in here. */
        pv_device_unref(&v->dev);
        r = next;
    }
    for (unsigned q = 0; pushed; q++, pushed >>= 1) {
        if (pushed & 1) {
            pv_virtio_notify(v, q);
        }
    }
}

/* The lock was busy: the I/O thread submits again from a bottom half. */
static void done_retry(PvDeviceWork *w)
{
    PvVirtioBlk *s = w->opaque;
    pv_bh_schedule(s->retry_bh);
}

static void retry_bh(void *opaque)
{
    PvVirtioBlk *s = opaque;
    pv_device_work_submit(&s->v.dev, &s->work);
}

/* Backend completion: I/O thread, no lock held. */
static void blk_io_done(PvBlockReq *io, int ret)
{
    BlkReq *r = io->opaque;
    PvVirtioBlk *s = r->s;

    r->ret = ret;
    r->next = atomic_load_explicit(&s->done, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->done, &r->next, r, memory_order_release,
                                                  memory_order_relaxed)) {
    }
    pv_device_work_submit(&s->v.dev, &s->work);
}

/* ---- requests (under dev.lock) ---------------------------------------------- */

static bool range_ok(PvVirtioBlk *s, uint64_t sector, uint64_t len)
{
    if (len % 512 || len > PV_VIRTIO_BLK_MAX_REQ) {
        return false;
    }
    return sector <= s->capacity && len / 512 <= s->capacity - sector;
}

static void start_io(PvVirtioBlk *s, unsigned q, PvVirtqElem *elem, uint32_t type, PvBlockOp op,
                     uint64_t offset, uint64_t len, uint8_t *buf)
{
    BlkReq *r = calloc(1, sizeof(*r));
    if (!r) {
        free(buf);
        put_status(&s->v, q, elem, PV_VIRTIO_BLK_S_IOERR);
        pv_virtq_elem_free(elem);
        return;
    }
    *r = (BlkReq){ .s = s, .elem = elem, .epoch = s->v.reset_epoch, .q = q, .type = type,
                   .buf = buf, .len = len };
    r->io = (PvBlockReq){ .op = op, .offset = offset, .len = len, .buf = buf,
                          .cb = blk_io_done, .opaque = r };
    pv_device_ref(&s->v.dev);   /* until done_run() has finished it */
    inflight_add(s, 1);
    pv_block_submit(s->blk, &r->io);
}

/* Finish now with @status; frees @elem. */
static void finish(PvVirtioBlk *s, unsigned q, PvVirtqElem *elem, uint8_t status)
{
    put_status(&s->v, q, elem, status);
    pv_virtq_elem_free(elem);
}

static void ioerr(PvVirtioBlk *s, unsigned q, PvVirtqElem *elem, const char *what,
                  uint64_t sector, uint64_t len)
{
    pv_guest_error(s->v.dev.vm, "%s: %s (sector %llu, %llu bytes, capacity %llu sectors)",
                   s->v.dev.id, what, (unsigned long long)sector, (unsigned long long)len,
                   (unsigned long long)s->capacity);
    finish(s, q, elem, PV_VIRTIO_BLK_S_IOERR);
}

/* DISCARD and WRITE_ZEROES: one {sector, num_sectors, flags} segment. */
static void discard_or_zero(PvVirtioBlk *s, unsigned q, PvVirtqElem *elem, uint32_t type)
{
    PvVirtioDevice *v = &s->v;
    uint8_t seg[16];
    size_t n = elem->out_len - 16;

    if (n == 0 || n % 16) {
        ioerr(s, q, elem, "discard/write-zeroes without a whole segment", 0, n);
        return;
    }
    if (n > 16) {
        finish(s, q, elem, PV_VIRTIO_BLK_S_UNSUPP);    /* max_*_seg is 1 */
        return;
    }
    pv_virtq_copy_from_out(v->dma_as, elem, 16, seg, sizeof(seg));
    uint64_t sector;
    uint32_t nsect, flags;
    memcpy(&sector, seg, 8);
    memcpy(&nsect, seg + 8, 4);
    memcpy(&flags, seg + 12, 4);
    sector = le64toh(sector);
    nsect = le32toh(nsect);
    flags = le32toh(flags);
    /* Only WRITE_ZEROES has a flag (unmap). */
    if (flags & ~(type == PV_VIRTIO_BLK_T_WRITE_ZEROES ? 1u : 0u)) {
        finish(s, q, elem, PV_VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (s->readonly) {
        ioerr(s, q, elem, "discard/write-zeroes on a read-only disk", sector, nsect * 512ull);
        return;
    }
    if (nsect > PV_VIRTIO_BLK_MAX_DWZ_SECTORS || !range_ok(s, sector, nsect * 512ull)) {
        ioerr(s, q, elem, "discard/write-zeroes outside the disk", sector, nsect * 512ull);
        return;
    }
    start_io(s, q, elem, type,
             type == PV_VIRTIO_BLK_T_DISCARD ? PV_BLOCK_DISCARD : PV_BLOCK_WRITE_ZEROES,
             sector * 512, nsect * 512ull, NULL);
}

/* Handle one popped chain.  False: malformed, the device needs a reset. */
static bool handle(PvVirtioBlk *s, unsigned q, PvVirtqElem *elem)
{
    PvVirtioDevice *v = &s->v;
    uint8_t hdr[16];

    if (elem->out_len < sizeof(hdr) || elem->in_len < 1) {
        pv_virtq_elem_free(elem);
        pv_virtio_set_needs_reset(v, "virtio-blk: request without a 16-byte header or a status byte");
        return false;
    }
    pv_virtq_copy_from_out(v->dma_as, elem, 0, hdr, sizeof(hdr));
    uint32_t type;
    uint64_t sector;
    memcpy(&type, hdr, 4);
    memcpy(&sector, hdr + 8, 8);
    type = le32toh(type);
    sector = le64toh(sector);

    switch (type) {
    case PV_VIRTIO_BLK_T_IN: {
        size_t len = elem->in_len - 1;
        if (!range_ok(s, sector, len)) {
            ioerr(s, q, elem, "read outside the disk or not whole sectors", sector, len);
            return true;
        }
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            finish(s, q, elem, PV_VIRTIO_BLK_S_IOERR);
            return true;
        }
        start_io(s, q, elem, type, PV_BLOCK_READ, sector * 512, len, buf);
        return true;
    }
    case PV_VIRTIO_BLK_T_OUT: {
        size_t len = elem->out_len - sizeof(hdr);
        if (s->readonly) {
            ioerr(s, q, elem, "write to a read-only disk", sector, len);
            return true;
        }
        if (!range_ok(s, sector, len)) {
            ioerr(s, q, elem, "write outside the disk or not whole sectors", sector, len);
            return true;
        }
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            finish(s, q, elem, PV_VIRTIO_BLK_S_IOERR);
            return true;
        }
        /* Copied now, under the lock: after a reset the guest may reuse
         * the buffers while the write is still in flight. */
        if (pv_virtq_copy_from_out(v->dma_as, elem, sizeof(hdr), buf, len) != len) {
            free(buf);
            finish(s, q, elem, PV_VIRTIO_BLK_S_IOERR);
            return true;
        }
        start_io(s, q, elem, type, PV_BLOCK_WRITE, sector * 512, len, buf);
        return true;
    }
    case PV_VIRTIO_BLK_T_FLUSH:
        start_io(s, q, elem, type, PV_BLOCK_FLUSH, 0, 0, NULL);
        return true;
    case PV_VIRTIO_BLK_T_GET_ID: {
        /* As QEMU: the string and its NUL, cut at 20 bytes and at the
         * buffer. */
        size_t n = strnlen(s->serial, sizeof(s->serial)) + 1;
        n = n > sizeof(s->serial) ? sizeof(s->serial) : n;
        n = n > elem->in_len - 1 ? elem->in_len - 1 : n;
        char id[PV_VIRTIO_BLK_ID_BYTES + 1] = { 0 };
        memcpy(id, s->serial, sizeof(s->serial));
        pv_virtq_copy_to_in(v->dma_as, elem, 0, id, n);
        finish(s, q, elem, PV_VIRTIO_BLK_S_OK);
        return true;
    }
    case PV_VIRTIO_BLK_T_DISCARD:
    case PV_VIRTIO_BLK_T_WRITE_ZEROES:
        discard_or_zero(s, q, elem, type);
        return true;
    default:
        finish(s, q, elem, PV_VIRTIO_BLK_S_UNSUPP);
        return true;
    }
}

static void blk_queue_notify(PvVirtioDevice *v, unsigned q)
{
    PvVirtioBlk *s = (PvVirtioBlk *)v;
    PvVirtqElem *elem;
    bool any = false;
    int r;

    if (pv_device_is_removed(&v->dev)) {
        return;                 /* unrealize waits for what is in flight only */
    }
    while ((r = pv_virtq_pop(&v->vq[q], v->dma_as, &elem)) == 1) {
        any = true;
        if (!handle(s, q, elem)) {
            return;
        }
    }
    if (r < 0) {
        pv_virtio_set_needs_reset(v, v->vq[q].broken_why ? v->vq[q].broken_why
                                                        : "virtio-blk: malformed queue");
        return;
    }
    if (any) {
        pv_virtio_notify(v, q);     /* requests finished at once */
    }
}

static void blk_reset(PvVirtioDevice *v)
{
    /* Requests in flight carry the old reset_epoch: done_run() drops them. */
    (void)v;
}

/* No lock held, after unrealize (no queue_notify starts any more). */
static void blk_unrealize(PvVirtioDevice *v)
{
    PvVirtioBlk *s = (PvVirtioBlk *)v;
    bool online = pv_rcu_reader_online();

    if (online) {
        pv_rcu_offline();       /* may wait for the disk */
    }
    pthread_mutex_lock(&s->inflight_lock);
    while (s->inflight) {
        pthread_cond_wait(&s->inflight_zero, &s->inflight_lock);
    }
    pthread_mutex_unlock(&s->inflight_lock);
    /* Every request's work ran; close waits for the backend's own
     * callbacks to return (cloud-hypervisor #7020: nothing is used after
     * it is freed). */
    pv_block_close(s->blk);
    s->blk = NULL;
    if (online) {
        pv_rcu_online();
    }
}

/* call_rcu thread, no lock: pv_virtio_finalize frees the object after. */
static void blk_finalize(PvVirtioDevice *v)
{
    PvVirtioBlk *s = (PvVirtioBlk *)v;

    pv_bh_free(s->retry_bh);
    pv_block_close(s->blk);     /* NULL unless never unrealized */
    pthread_cond_destroy(&s->inflight_zero);
    pthread_mutex_destroy(&s->inflight_lock);
}

static PvDeviceClass blk_class = {
    .type = "virtio-blk-device",
    .lock_class = PV_LOCK_CLASS_INIT("virtio-blk", PV_LOCK_KIND_DEVICE),
    .finalize = pv_virtio_finalize,
};

/* The ops of a read-write and of a read-only disk differ only in the RO
 * feature.  As QEMU: DISCARD and WRITE_ZEROES are offered on a read-only
 * disk too (they fail with IOERR). */
#define BLK_OPS(extra_features)                                                   \
    {                                                                             \
        .cls = &blk_class,                                                        \
        .device_id = PV_VIRTIO_BLK_ID,                                            \
        .num_queues = 1,                                                          \
        .queue_max = PV_VIRTIO_BLK_QUEUE_SIZE,                                    \
        .config_size = PV_VIRTIO_BLK_CONFIG_SIZE,                                 \
        .features = (1ull << PV_VIRTIO_BLK_F_SEG_MAX) |                           \
                    (1ull << PV_VIRTIO_BLK_F_BLK_SIZE) |                          \
                    (1ull << PV_VIRTIO_BLK_F_FLUSH) |                             \
                    (1ull << PV_VIRTIO_BLK_F_DISCARD) |                           \
                    (1ull << PV_VIRTIO_BLK_F_WRITE_ZEROES) | (extra_features),    \
        .reset = blk_reset,                                                       \
        .queue_notify = blk_queue_notify,                                         \
        .unrealize = blk_unrealize,                                               \
        .finalize = blk_finalize,                                                 \
    }

static const PvVirtioDeviceOps blk_ops_rw = BLK_OPS(0);
static const PvVirtioDeviceOps blk_ops_ro = BLK_OPS(1ull << PV_VIRTIO_BLK_F_RO);

PvVirtioBlk *pv_virtio_blk_new(PvVm *vm, AddressSpace *dma_as, PvEventLoop *loop,
                               const char *id, const PvIrq *irq, PvBlock *blk,
                               const char *serial, PvFlow flow)
{
    PvVirtioBlk *s = calloc(1, sizeof(*s));

    if (!s) {
        pv_block_close(blk);
        return NULL;
    }
    s->blk = blk;
    s->readonly = pv_block_readonly(blk);
    s->capacity = pv_block_size(blk) / 512;
    if (serial) {
        size_t n = strnlen(serial, sizeof(s->serial));
        memcpy(s->serial, serial, n);    /* not NUL-terminated at 20 */
    }
    atomic_init(&s->done, NULL);
    pthread_mutex_init(&s->inflight_lock, NULL);
    pthread_cond_init(&s->inflight_zero, NULL);
    s->work = (PvDeviceWork){ .run = done_run, .retry = done_retry, .opaque = s, .flow = flow };
    atomic_init(&s->work.pending, false);
    s->retry_bh = pv_bh_new(loop, retry_bh, s);
    if (!s->retry_bh ||
        pv_virtio_init(&s->v, s->readonly ? &blk_ops_ro : &blk_ops_rw, vm, dma_as, loop, id,
                       irq, flow) < 0) {
        pv_bh_free(s->retry_bh);
        pthread_cond_destroy(&s->inflight_zero);
        pthread_mutex_destroy(&s->inflight_lock);
        pv_block_close(blk);
        free(s);
        return NULL;
    }
    uint8_t *c = s->v.config;
    st64(c + PV_VIRTIO_BLK_CFG_CAPACITY, s->capacity);
    st32(c + PV_VIRTIO_BLK_CFG_SEG_MAX, PV_VIRTIO_BLK_SEG_MAX);
    st32(c + PV_VIRTIO_BLK_CFG_BLK_SIZE, 512);
    st32(c + PV_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, PV_VIRTIO_BLK_MAX_DWZ_SECTORS);
    st32(c + PV_VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1);
    st32(c + PV_VIRTIO_BLK_CFG_DISCARD_ALIGN, 1);
    st32(c + PV_VIRTIO_BLK_CFG_MAX_WZ_SECTORS, PV_VIRTIO_BLK_MAX_DWZ_SECTORS);
    st32(c + PV_VIRTIO_BLK_CFG_MAX_WZ_SEG, 1);
    c[PV_VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
    return s;
}

PvVirtioDevice *pv_virtio_blk_virtio(PvVirtioBlk *b)
{
    return &b->v;
}

MemoryRegion *pv_virtio_blk_mmio(PvVirtioBlk *b)
{
    return &b->v.mmio;
}

unsigned pv_virtio_blk_inflight(PvVirtioBlk *b)
{
    pthread_mutex_lock(&b->inflight_lock);
    unsigned n = b->inflight;
    pthread_mutex_unlock(&b->inflight_lock);
    return n;
}

void pv_virtio_blk_destroy(PvVirtioBlk *b)
{
    pv_virtio_destroy(&b->v);
}
