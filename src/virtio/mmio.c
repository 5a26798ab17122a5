/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-mmio transport, Version 2 registers (virtio 1.2 section
 * 4.2.2), and the device object around it: see include/parvm/virtio/virtio.h
 * and docs/virtio.md (threads, locks, the notify path, reset rules).
 *
 * Where the spec leaves room we do as QEMU: unknown registers and accesses
 * of the wrong size read 0 and ignore writes (a guest error each), ShmLen
 * reads -1 (no shared memory regions), config reads past the device's
 * config space read all ones.
 */
#include "parvm/virtio/virtio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/dispatch.h"

#define MMIO_MAGIC 0x74726976u     /* "virt" */
#define MMIO_VERSION 2u
#define MMIO_VENDOR 0x554d4551u    /* "QEMU" */

enum {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044,
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090,
    REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0,
    REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_SHM_SEL = 0x0ac,
    REG_SHM_LEN_LOW = 0x0b0,
    REG_SHM_LEN_HIGH = 0x0b4,
    REG_SHM_BASE_LOW = 0x0b8,
    REG_SHM_BASE_HIGH = 0x0bc,
    REG_CONFIG_GENERATION = 0x0fc,
    REG_CONFIG = 0x100,
};

/* Features the transport itself offers on top of the device's. */
#define TRANSPORT_FEATURES                                                    \
    ((UINT64_C(1) << PV_VIRTIO_F_VERSION_1) | (UINT64_C(1) << PV_VIRTIO_F_EVENT_IDX) | \
     (UINT64_C(1) << PV_VIRTIO_F_INDIRECT_DESC))

static uint64_t offered_features(const PvVirtioDevice *v)
{
    return v->ops->features | TRANSPORT_FEATURES;
}

/* ---- interrupts ---------------------------------------------------------- */

/*
 * The line follows isr != 0.  isr changes from any thread (the device's
 * notify under its lock, InterruptACK from a vCPU also under the lock, but
 * pv_virtio_notify may race a vCPU's ACK of the other bit), so as in
 * src/hw/hotplug.c: set the level, re-read, and set again if it moved.
 * Whichever pv_irq_set() lands last was followed by a re-check that saw
 * the final isr, so the final level matches it.
 */
static void update_irq(PvVirtioDevice *v)
{
    bool level = atomic_load(&v->isr) != 0;

    for (;;) {
        pv_irq_set(&v->irq, level);
        bool now = atomic_load(&v->isr) != 0;
        if (now == level) {
            return;
        }
        level = now;
    }
}

static void raise_isr(PvVirtioDevice *v, unsigned bits)
{
    atomic_fetch_or(&v->isr, bits);
    update_irq(v);
}

void pv_virtio_notify(PvVirtioDevice *v, unsigned q)
{
    if (q >= v->ops->num_queues || !pv_virtio_running(v)) {
        return;
    }
    if (pv_virtq_should_notify(&v->vq[q], v->dma_as)) {
        raise_isr(v, PV_VIRTIO_ISR_QUEUE);
    }
}

void pv_virtio_config_changed(PvVirtioDevice *v)
{
    v->config_generation++;
    if (v->status & PV_VIRTIO_STATUS_DRIVER_OK) {
        raise_isr(v, PV_VIRTIO_ISR_CONFIG);
    }
}

void pv_virtio_set_needs_reset(PvVirtioDevice *v, const char *why)
{
    pv_guest_error(v->dev.vm, "%s: %s: device needs reset", v->dev.id, why);
    for (unsigned q = 0; q < v->ops->num_queues; q++) {
        if (!v->vq[q].broken) {
            v->vq[q].broken = true;
            v->vq[q].broken_why = why;
        }
    }
    if (v->status & PV_VIRTIO_STATUS_NEEDS_RESET) {
        return;
    }
    v->status |= PV_VIRTIO_STATUS_NEEDS_RESET;
    /* 2.1.2: with DRIVER_OK set, tell the driver. */
    if (v->status & PV_VIRTIO_STATUS_DRIVER_OK) {
        raise_isr(v, PV_VIRTIO_ISR_CONFIG);
    }
}

bool pv_virtio_running(const PvVirtioDevice *v)
{
    return (v->status & (PV_VIRTIO_STATUS_DRIVER_OK | PV_VIRTIO_STATUS_NEEDS_RESET |
                         PV_VIRTIO_STATUS_FAILED)) == PV_VIRTIO_STATUS_DRIVER_OK;
}

/* ---- reset --------------------------------------------------------------- */

/* Under dev.lock. */
static void do_reset(PvVirtioDevice *v)
{
    if (v->ops->reset) {
        v->ops->reset(v);
    }
    for (unsigned q = 0; q < v->ops->num_queues; q++) {
        pv_virtq_reset(&v->vq[q]);
        v->vq[q].num = v->ops->queue_max;   /* QEMU's default size */
    }
    v->status = 0;
    v->driver_features = 0;
    v->device_features_sel = 0;
    v->driver_features_sel = 0;
    v->queue_sel = 0;
    v->reset_epoch++;
    atomic_store(&v->isr, 0);
    update_irq(v);
}

void pv_virtio_reset(PvVirtioDevice *v)
{
    pv_device_lock(&v->dev);
    do_reset(v);
    pv_device_unlock(&v->dev);
}

/* ---- status and features ------------------------------------------------- */

static void write_status(PvVirtioDevice *v, uint32_t val)
{
    uint32_t old = v->status;

    if (val == 0) {
        do_reset(v);
        return;
    }
    /* NEEDS_RESET is the device's; keep ours, ignore the driver's. */
    val = (val & ~PV_VIRTIO_STATUS_NEEDS_RESET) | (old & PV_VIRTIO_STATUS_NEEDS_RESET);
    if (val & ~(uint32_t)0xff) {
        pv_guest_error(v->dev.vm, "%s: status 0x%" PRIx32 " has unknown bits: ignored",
                       v->dev.id, val);
        return;
    }
    /* 2.1.2: the driver never clears a bit (only a reset does). */
    if (old & ~val) {
        pv_guest_error(v->dev.vm, "%s: status 0x%" PRIx32 " clears bits of 0x%" PRIx32
                       ": ignored", v->dev.id, val, old);
        return;
    }
    uint32_t set = val & ~old;
    /* 3.1.1: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, in that order. */
    if (((set & PV_VIRTIO_STATUS_DRIVER) && !(val & PV_VIRTIO_STATUS_ACKNOWLEDGE)) ||
        ((set & PV_VIRTIO_STATUS_FEATURES_OK) && !(val & PV_VIRTIO_STATUS_DRIVER)) ||
        ((set & PV_VIRTIO_STATUS_DRIVER_OK) && !(val & PV_VIRTIO_STATUS_FEATURES_OK))) {
        pv_guest_error(v->dev.vm, "%s: status 0x%" PRIx32 " out of order: ignored",
                       v->dev.id, val);
        return;
    }
    if (set & PV_VIRTIO_STATUS_FEATURES_OK) {
        uint64_t unknown = v->driver_features & ~offered_features(v);
        if (unknown || !(v->driver_features & (UINT64_C(1) << PV_VIRTIO_F_VERSION_1))) {
            /* 3.1.1: the driver re-reads FEATURES_OK and sees it unset. */
            pv_guest_error(v->dev.vm, "%s: features 0x%" PRIx64 " refused (%s)", v->dev.id,
                           v->driver_features, unknown ? "not offered" : "no VERSION_1");
            val &= ~PV_VIRTIO_STATUS_FEATURES_OK;
            set &= ~PV_VIRTIO_STATUS_FEATURES_OK;
        }
    }
    v->status = val;
    if ((set & PV_VIRTIO_STATUS_DRIVER_OK) && !(val & PV_VIRTIO_STATUS_NEEDS_RESET) &&
        v->ops->start) {
        v->ops->start(v);
    }
}

static void write_driver_features(PvVirtioDevice *v, uint32_t val)
{
    if (v->status & PV_VIRTIO_STATUS_FEATURES_OK) {
        pv_guest_error(v->dev.vm, "%s: DriverFeatures written after FEATURES_OK: ignored",
                       v->dev.id);
        return;
    }
    switch (v->driver_features_sel) {
    case 0:
        v->driver_features = (v->driver_features & ~(uint64_t)UINT32_MAX) | val;
        break;
    case 1:
        v->driver_features = (v->driver_features & UINT32_MAX) | (uint64_t)val << 32;
        break;
    default:
        if (val) {
            pv_guest_error(v->dev.vm, "%s: DriverFeatures bank %" PRIu32 " written: ignored",
                           v->dev.id, v->driver_features_sel);
        }
        break;
    }
}

/* ---- queues -------------------------------------------------------------- */

static PvVirtqueue *sel_queue(PvVirtioDevice *v)
{
    return v->queue_sel < v->ops->num_queues ? &v->vq[v->queue_sel] : NULL;
}

/* A write to a queue configuration register: only to an existing queue
 * that is not ready (4.2.2.1: the driver must not change a live queue). */
static PvVirtqueue *queue_for_config(PvVirtioDevice *v, hwaddr off)
{
    PvVirtqueue *vq = sel_queue(v);

    if (!vq) {
        pv_guest_error(v->dev.vm, "%s: queue register 0x%" PRIx64 " for absent queue %" PRIu32
                       ": ignored", v->dev.id, (uint64_t)off, v->queue_sel);
        return NULL;
    }
    if (vq->ready) {
        pv_guest_error(v->dev.vm, "%s: queue register 0x%" PRIx64 " written while queue %"
                       PRIu32 " is ready: ignored", v->dev.id, (uint64_t)off, v->queue_sel);
        return NULL;
    }
    return vq;
}

static void set_low(uint64_t *r, uint32_t val)
{
    *r = (*r & ~(uint64_t)UINT32_MAX) | val;
}

static void set_high(uint64_t *r, uint32_t val)
{
    *r = (*r & UINT32_MAX) | (uint64_t)val << 32;
}

static void write_queue_ready(PvVirtioDevice *v, uint32_t val)
{
    PvVirtqueue *vq = sel_queue(v);

    if (!vq) {
        pv_guest_error(v->dev.vm, "%s: QueueReady for absent queue %" PRIu32 ": ignored",
                       v->dev.id, v->queue_sel);
        return;
    }
    if (!val) {
        /* Stop using the queue; its indices stay (QEMU does the same). */
        vq->ready = false;
        return;
    }
    if (vq->ready) {
        return;
    }
    if (!(v->status & PV_VIRTIO_STATUS_FEATURES_OK)) {
        pv_guest_error(v->dev.vm, "%s: queue %" PRIu32 " made ready before FEATURES_OK: ignored",
                       v->dev.id, v->queue_sel);
        return;
    }
    vq->event_idx = v->driver_features & (UINT64_C(1) << PV_VIRTIO_F_EVENT_IDX);
    vq->indirect = v->driver_features & (UINT64_C(1) << PV_VIRTIO_F_INDIRECT_DESC);
    vq->ready = true;
}

static void write_queue_notify(PvVirtioDevice *v, uint32_t val)
{
    /* A 4-byte write of an existing queue's index matched its notifier and
     * never reaches here: what does is an index with no queue (or a queue
     * kicked while the device is being removed). */
    pv_guest_error(v->dev.vm, "%s: QueueNotify of absent queue %" PRIu32 ": ignored",
                   v->dev.id, val & 0xffff);
}

/* ---- register window ----------------------------------------------------- */

static PvAccessStatus config_read(PvVirtioDevice *v, hwaddr off, unsigned size, uint64_t *val)
{
    uint64_t x = 0;

    off -= REG_CONFIG;
    if (off + size > v->ops->config_size) {
        pv_guest_error(v->dev.vm, "%s: config read of %u at 0x%" PRIx64 " past its end",
                       v->dev.id, size, (uint64_t)off);
        *val = UINT64_MAX;
        return PV_ACCESS_OK;
    }
    for (unsigned i = 0; i < size; i++) {       /* little-endian */
        x |= (uint64_t)v->config[off + i] << (8 * i);
    }
    *val = x;
    return PV_ACCESS_OK;
}

static PvAccessStatus config_write(PvVirtioDevice *v, hwaddr off, unsigned size, uint64_t val)
{
    off -= REG_CONFIG;
    if (off + size > v->ops->config_size) {
        pv_guest_error(v->dev.vm, "%s: config write of %u at 0x%" PRIx64 " past its end",
                       v->dev.id, size, (uint64_t)off);
        return PV_ACCESS_OK;
    }
    for (unsigned i = 0; i < size; i++) {
        v->config[off + i] = (uint8_t)(val >> (8 * i));
    }
    if (v->ops->config_write) {
        v->ops->config_write(v, (uint32_t)off, size);
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus mmio_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvVirtioDevice *v = opaque;
    PvVirtqueue *vq;

    *val = 0;
    if (off >= REG_CONFIG) {
        return config_read(v, off, size, val);
    }
    if (size != 4) {
        pv_guest_error(v->dev.vm, "%s: read of size %u at 0x%" PRIx64 ": registers are 32-bit",
                       v->dev.id, size, (uint64_t)off);
        return PV_ACCESS_OK;
    }
    switch (off) {
    case REG_MAGIC:
        *val = MMIO_MAGIC;
        break;
    case REG_VERSION:
        *val = MMIO_VERSION;
        break;
    case REG_DEVICE_ID:
        *val = v->ops->device_id;
        break;
    case REG_VENDOR_ID:
        *val = MMIO_VENDOR;
        break;
    case REG_DEVICE_FEATURES:
        if (v->device_features_sel < 2) {
            *val = (uint32_t)(offered_features(v) >> (32 * v->device_features_sel));
        }
        break;
    case REG_QUEUE_NUM_MAX:
        vq = sel_queue(v);
        *val = vq ? v->ops->queue_max : 0;
        break;
    case REG_QUEUE_READY:
        vq = sel_queue(v);
        *val = vq && vq->ready;
        break;
    case REG_INTERRUPT_STATUS:
        *val = atomic_load(&v->isr);
        break;
    case REG_STATUS:
        *val = v->status;
        break;
    case REG_SHM_LEN_LOW:
    case REG_SHM_LEN_HIGH:
        *val = UINT32_MAX;      /* no such region (4.2.2) */
        break;
    case REG_SHM_BASE_LOW:
    case REG_SHM_BASE_HIGH:
        break;
    case REG_CONFIG_GENERATION:
        *val = v->config_generation;
        break;
    default:
        pv_guest_error(v->dev.vm, "%s: read of %s register 0x%" PRIx64, v->dev.id,
                       off == REG_QUEUE_NOTIFY || off == REG_INTERRUPT_ACK ||
                               (off >= REG_DEVICE_FEATURES_SEL && off <= REG_QUEUE_NUM) ||
                               (off >= REG_QUEUE_DESC_LOW && off <= REG_SHM_SEL)
                           ? "write-only" : "unknown",
                       (uint64_t)off);
        break;
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus mmio_write(void *opaque, hwaddr off, unsigned size, uint64_t val64)
{
    PvVirtioDevice *v = opaque;
    uint32_t val = (uint32_t)val64;
    PvVirtqueue *vq;

    if (off >= REG_CONFIG) {
        return config_write(v, off, size, val64);
    }
    if (size != 4) {
        pv_guest_error(v->dev.vm, "%s: write of size %u at 0x%" PRIx64 ": registers are 32-bit",
                       v->dev.id, size, (uint64_t)off);
        return PV_ACCESS_OK;
    }
    switch (off) {
    case REG_DEVICE_FEATURES_SEL:
        v->device_features_sel = val;
        break;
    case REG_DRIVER_FEATURES:
        write_driver_features(v, val);
        break;
    case REG_DRIVER_FEATURES_SEL:
        v->driver_features_sel = val;
        break;
    case REG_QUEUE_SEL:
        v->queue_sel = val;
        break;
    case REG_QUEUE_NUM:
        if ((vq = queue_for_config(v, off))) {
            if (val == 0 || val > v->ops->queue_max || (val & (val - 1))) {
                pv_guest_error(v->dev.vm, "%s: QueueNum %" PRIu32 " invalid (max %u): ignored",
                               v->dev.id, val, v->ops->queue_max);
            } else if (v->status & PV_VIRTIO_STATUS_DRIVER_OK) {
                pv_guest_error(v->dev.vm, "%s: QueueNum written after DRIVER_OK: ignored",
                               v->dev.id);
            } else {
                vq->num = (uint16_t)val;
            }
        }
        break;
    case REG_QUEUE_READY:
        write_queue_ready(v, val);
        break;
    case REG_QUEUE_NOTIFY:
        write_queue_notify(v, val);
        break;
    case REG_INTERRUPT_ACK:
        atomic_fetch_and(&v->isr, ~val);
        update_irq(v);
        break;
    case REG_STATUS:
        write_status(v, val);
        break;
    case REG_QUEUE_DESC_LOW:
    case REG_QUEUE_DESC_HIGH:
    case REG_QUEUE_DRIVER_LOW:
    case REG_QUEUE_DRIVER_HIGH:
    case REG_QUEUE_DEVICE_LOW:
    case REG_QUEUE_DEVICE_HIGH:
        if ((vq = queue_for_config(v, off))) {
            uint64_t *r = off < REG_QUEUE_DRIVER_LOW ? &vq->desc
                        : off < REG_QUEUE_DEVICE_LOW ? &vq->avail : &vq->used;
            if (off & 4) {
                set_high(r, val);
            } else {
                set_low(r, val);
            }
        }
        break;
    case REG_SHM_SEL:
        break;                  /* no regions: every selection reads -1 */
    default:
        pv_guest_error(v->dev.vm, "%s: write of 0x%" PRIx32 " to %s register 0x%" PRIx64
                       ": ignored", v->dev.id, val,
                       off <= REG_DEVICE_FEATURES || off == REG_QUEUE_NUM_MAX ||
                               off == REG_INTERRUPT_STATUS || off == REG_CONFIG_GENERATION ||
                               (off >= REG_SHM_LEN_LOW && off <= REG_SHM_BASE_HIGH)
                           ? "read-only" : "unknown",
                       (uint64_t)off);
        break;
    }
    return PV_ACCESS_OK;
}

static const MemoryRegionOps mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    /* Every size reaches us so that non-word register accesses are
     * reported and config space takes 1, 2, 4 and 8; misaligned accesses
     * are split into aligned pieces by the core. */
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* ---- queue notifiers ----------------------------------------------------- */

/* Device work: under dev.lock, on the I/O thread or the next lock holder. */
static void notify_run(PvDeviceWork *w)
{
    PvVirtioQueueNotifier *n = w->opaque;
    PvVirtioDevice *v = n->v;

    if (pv_device_is_removed(&v->dev) || !pv_virtio_running(v) || !v->vq[n->q].ready ||
        v->vq[n->q].broken) {
        return;
    }
    v->ops->queue_notify(v, n->q);
}

/* The lock was busy (TRYLOCK, NOTIFY): ring our own doorbell again, so the
 * I/O thread submits once more.  Never waits: one write(2). */
static void notify_retry(PvDeviceWork *w)
{
    PvVirtioQueueNotifier *n = w->opaque;

    pv_event_notifier_set(&n->e);
}

/* I/O thread: the guest kicked (one or more times). */
static void notify_fd_read(void *opaque)
{
    PvVirtioQueueNotifier *n = opaque;

    if (pv_event_notifier_test_and_clear(&n->e)) {
        pv_device_work_submit(&n->v->dev, &n->work);
    }
}

static void notifiers_cleanup(PvVirtioDevice *v, unsigned count)
{
    for (unsigned q = 0; q < count; q++) {
        pv_event_notifier_cleanup(&v->notifier[q].e);
    }
}

/* ---- life cycle ---------------------------------------------------------- */

int pv_virtio_init(PvVirtioDevice *v, const PvVirtioDeviceOps *ops, PvVm *vm,
                   AddressSpace *dma_as, PvEventLoop *loop, const char *id,
                   const PvIrq *irq, PvFlow notify_flow)
{
    unsigned q;
    int r;

    if (!ops->cls || ops->num_queues == 0 || ops->num_queues > PV_VIRTIO_MAX_QUEUES ||
        ops->queue_max == 0 || ops->queue_max > PV_VIRTQ_MAX_SIZE ||
        (ops->queue_max & (ops->queue_max - 1)) || ops->config_size > PV_VIRTIO_CONFIG_MAX ||
        !ops->queue_notify) {
        return -EINVAL;
    }
    v->ops = ops;
    v->dma_as = dma_as;
    v->loop = loop;
    v->irq = irq ? *irq : (PvIrq){ 0 };
    v->notify_flow = notify_flow;
    atomic_init(&v->isr, 0);
    for (q = 0; q < ops->num_queues; q++) {
        PvVirtioQueueNotifier *n = &v->notifier[q];
        n->v = v;
        n->q = q;
        n->work = (PvDeviceWork){ .run = notify_run, .retry = notify_retry, .opaque = n,
                                  .flow = notify_flow };
        atomic_init(&n->work.pending, false);
        r = pv_event_notifier_init(&n->e);
        if (r < 0) {
            goto fail_notifiers;
        }
        pv_virtq_reset(&v->vq[q]);
        v->vq[q].num = ops->queue_max;
    }
    pv_device_init(&v->dev, ops->cls, vm, id);
    memory_region_init_io(&v->mmio, vm, &v->dev, &mmio_ops, v, id, PV_VIRTIO_MMIO_SIZE);
    memory_region_set_dispatch_mode(&v->mmio, PV_DISPATCH_DEVICE);
    memory_region_transaction_begin(vm);
    for (q = 0; q < ops->num_queues; q++) {
        memory_region_add_eventfd(&v->mmio, REG_QUEUE_NOTIFY, 4, true, q, &v->notifier[q].e);
    }
    memory_region_transaction_commit(vm);
    for (q = 0; q < ops->num_queues; q++) {
        r = pv_event_loop_set_fd(loop, v->notifier[q].e.fd, notify_fd_read, NULL,
                                 &v->notifier[q]);
        if (r < 0) {
            goto fail_handlers;
        }
    }
    pv_irq_lower(&v->irq);
    return 0;

fail_handlers:
    while (q-- > 0) {
        pv_event_loop_set_fd(loop, v->notifier[q].e.fd, NULL, NULL, NULL);
    }
    pv_event_loop_quiesce(loop);
    memory_region_destroy(&v->mmio);     /* never mapped: no view holds it */
    pv_mutex_destroy(&v->dev.lock);
    q = ops->num_queues;
fail_notifiers:
    notifiers_cleanup(v, q);
    return r;
}

void pv_virtio_destroy(PvVirtioDevice *v)
{
    /* G1, G3: no register access runs after this. */
    pv_device_unrealize(&v->dev);
    for (unsigned q = 0; q < v->ops->num_queues; q++) {
        pv_event_loop_set_fd(v->loop, v->notifier[q].e.fd, NULL, NULL, NULL);
    }
    /* A kick already fetched may still be in notify_fd_read: wait for it.
     * Work it submitted runs under the lock and sees the device removed. */
    pv_event_loop_quiesce(v->loop);
    if (v->ops->unrealize) {
        v->ops->unrealize(v);
    }
    pv_device_unref(&v->dev);
}

void pv_virtio_finalize(PvDevice *dev)
{
    PvVirtioDevice *v = (PvVirtioDevice *)dev;

    if (v->ops->finalize) {
        v->ops->finalize(v);
    }
    /* Grace periods have passed since the last view that mapped the
     * notifiers was replaced: no reader can signal them any more. */
    notifiers_cleanup(v, v->ops->num_queues);
    memory_region_destroy(&v->mmio);
    free(v);
}
