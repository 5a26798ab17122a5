/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rig.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wait.h"
#include "parvm/dispatch.h"

/* ---- the echo device ---------------------------------------------------- */

static void echo_irq(void *opaque, unsigned n, bool level)
{
    Rig *r = opaque;

    (void)n;
    if (level) {
        atomic_fetch_add(&r->raises, 1);
    }
    atomic_store(&r->irq, level);
}

/* Copy one request's readable bytes into its writable ones. */
static uint32_t echo_one(PvVirtioDevice *v, const PvVirtqElem *e)
{
    size_t n = e->out_len < e->in_len ? e->out_len : e->in_len;
    uint8_t *buf = malloc(n ? n : 1);

    if (!buf) {
        return 0;
    }
    n = pv_virtq_copy_from_out(v->dma_as, e, 0, buf, n);
    n = pv_virtq_copy_to_in(v->dma_as, e, 0, buf, n);
    free(buf);
    return (uint32_t)n;
}

void echo_process(Echo *e, unsigned q)
{
    PvVirtioDevice *v = &e->v;
    PvVirtqueue *vq = &v->vq[q];
    PvVirtqElem *el;
    int r;

    for (;;) {
        while ((r = pv_virtq_pop(vq, v->dma_as, &el)) == 1) {
            if (e->hold && e->nheld < sizeof(e->held) / sizeof(e->held[0])) {
                e->held_epoch[e->nheld] = v->reset_epoch;
                e->held[e->nheld++] = el;
                continue;
            }
            uint32_t written = echo_one(v, el);
            bool ok = pv_virtq_push(vq, v->dma_as, el, written);
            pv_virtq_elem_free(el);
            if (!ok) {
                r = -1;
                break;
            }
        }
        if (r < 0) {
            pv_virtio_set_needs_reset(v, vq->broken_why ? vq->broken_why : "bad queue");
            return;
        }
        if (!vq->event_idx) {
            break;
        }
        /* Ask for the next kick, then look again (the usual race). */
        pv_virtq_set_notification(vq, v->dma_as, true);
        if (!pv_virtq_avail(vq, v->dma_as)) {
            break;
        }
    }
    pv_virtio_notify(v, q);
}

unsigned echo_complete_held(Echo *e)
{
    unsigned pushed = 0;

    pv_device_lock(&e->v.dev);
    for (unsigned i = 0; i < e->nheld; i++) {
        PvVirtqElem *el = e->held[i];
        /* A request of an older epoch belongs to a ring the driver reset:
         * drop it without touching guest memory. */
        if (e->held_epoch[i] == e->v.reset_epoch && pv_virtio_running(&e->v)) {
            unsigned q = 0;
            pv_virtq_push(&e->v.vq[q], e->v.dma_as, el, echo_one(&e->v, el));
            pushed++;
        }
        pv_virtq_elem_free(el);
    }
    e->nheld = 0;
    if (pushed) {
        pv_virtio_notify(&e->v, 0);
    }
    pv_device_unlock(&e->v.dev);
    return pushed;
}

static void echo_queue_notify(PvVirtioDevice *v, unsigned q)
{
    Echo *e = (Echo *)v;

    atomic_fetch_add(&e->notifies, 1);
    if (e->loop && !pv_event_loop_in_io_thread(e->loop)) {
        atomic_fetch_add(&e->off_io_thread, 1);
    }
    echo_process(e, q);
}

static void echo_reset(PvVirtioDevice *v)
{
    Echo *e = (Echo *)v;

    atomic_fetch_add(&e->resets, 1);
    /* Held requests stay held: echo_complete_held() checks their epoch,
     * as a block device with I/O in flight must. */
}

static void echo_start(PvVirtioDevice *v)
{
    atomic_fetch_add(&((Echo *)v)->starts, 1);
}

static void echo_finalize(PvVirtioDevice *v)
{
    Echo *e = (Echo *)v;

    for (unsigned i = 0; i < e->nheld; i++) {
        pv_virtq_elem_free(e->held[i]);
    }
}

static PvDeviceClass echo_class = {
    .type = "virtio-echo",
    .lock_class = PV_LOCK_CLASS_INIT("virtio-echo", PV_LOCK_KIND_DEVICE),
    .finalize = pv_virtio_finalize,
};

static const PvVirtioDeviceOps echo_ops = {
    .cls = &echo_class,
    .device_id = RIG_ECHO_ID,
    .num_queues = 2,
    .queue_max = RIG_QUEUE_MAX,
    .config_size = RIG_CONFIG_SIZE,
    .features = UINT64_C(1) << RIG_ECHO_F_TEST,
    .start = echo_start,
    .reset = echo_reset,
    .queue_notify = echo_queue_notify,
    .finalize = echo_finalize,
};

void rig_init(Rig *r, bool start_loop)
{
    rig_init_flow(r, start_loop, PV_FLOW_TRYLOCK);
}

void rig_init_flow(Rig *r, bool start_loop, PvFlow flow)
{
    fixture_init(&r->f);
    atomic_init(&r->irq, false);
    atomic_init(&r->raises, 0);
    CHECK(memory_region_init_ram(&r->ram, &r->f.vm, NULL, "ram", RIG_RAM_SIZE) == 0);
    CHECK(memory_region_init_ram(&r->rom, &r->f.vm, NULL, "rom", RIG_ROM_SIZE) == 0);
    memory_region_set_readonly(&r->rom, true);
    fixture_map(&r->f, &r->ram, RIG_RAM_BASE);
    fixture_map(&r->f, &r->rom, RIG_ROM_BASE);
    r->loop = pv_event_loop_new();
    CHECK(r->loop != NULL);
    if (start_loop) {
        CHECK(pv_event_loop_start(r->loop) == 0);
    }
    r->echo = calloc(1, sizeof(*r->echo));
    CHECK(r->echo != NULL);
    r->echo->loop = start_loop ? r->loop : NULL;
    PvIrq irq = pv_irq_make(echo_irq, r, 1);
    CHECK(pv_virtio_init(&r->echo->v, &echo_ops, &r->f.vm, &r->f.as, r->loop, "virtio-echo",
                         &irq, flow) == 0);
    static const uint8_t cfg[RIG_CONFIG_SIZE] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                                  0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc };
    memcpy(r->echo->v.config, cfg, sizeof(cfg));
    fixture_map(&r->f, &r->echo->v.mmio, RIG_VBASE);
}

void rig_destroy(Rig *r)
{
    pv_virtio_destroy(&r->echo->v);
    fixture_destroy(&r->f);     /* grace periods: the device is finalized */
    pv_event_loop_stop(r->loop);
    pv_event_loop_free(r->loop);
    memory_region_destroy(&r->ram);
    memory_region_destroy(&r->rom);
}

/* ---- driver side --------------------------------------------------------- */

uint32_t reg_r(Rig *r, hwaddr off)
{
    return (uint32_t)fixture_read(&r->f, RIG_VBASE + off, 4);
}

void reg_w(Rig *r, hwaddr off, uint32_t val)
{
    fixture_write(&r->f, RIG_VBASE + off, 4, val);
}

uint64_t ram_r(Rig *r, uint64_t addr, unsigned size)
{
    return fixture_read(&r->f, addr, size);
}

void ram_w(Rig *r, uint64_t addr, unsigned size, uint64_t val)
{
    fixture_write(&r->f, addr, size, val);
}

uint32_t drv_negotiate(Rig *r, uint64_t features)
{
    reg_w(r, R_STATUS, 0);
    reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE);
    reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER);
    reg_w(r, R_DRV_FEATURES_SEL, 0);
    reg_w(r, R_DRV_FEATURES, (uint32_t)features);
    reg_w(r, R_DRV_FEATURES_SEL, 1);
    reg_w(r, R_DRV_FEATURES, (uint32_t)(features >> 32));
    reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER |
                           PV_VIRTIO_STATUS_FEATURES_OK);
    return reg_r(r, R_STATUS);
}

void drv_queue(Rig *r, Drv *d, unsigned q, uint16_t num, uint64_t base)
{
    *d = (Drv){ .r = r, .q = q, .num = num, .desc = base, .avail = base + 0x1000,
                .used = base + 0x2000 };
    /* Rings zeroed as a driver allocates them. */
    for (uint64_t a = base; a < base + 0x3000; a += 8) {
        ram_w(r, a, 8, 0);
    }
    reg_w(r, R_QUEUE_SEL, q);
    CHECK_EQ_U64(reg_r(r, R_QUEUE_READY), 0);
    reg_w(r, R_QUEUE_NUM, num);
    reg_w(r, R_DESC_LO, (uint32_t)d->desc);
    reg_w(r, R_DESC_HI, (uint32_t)(d->desc >> 32));
    reg_w(r, R_DRIVER_LO, (uint32_t)d->avail);
    reg_w(r, R_DRIVER_HI, (uint32_t)(d->avail >> 32));
    reg_w(r, R_DEVICE_LO, (uint32_t)d->used);
    reg_w(r, R_DEVICE_HI, (uint32_t)(d->used >> 32));
    reg_w(r, R_QUEUE_READY, 1);
}

void drv_driver_ok(Rig *r)
{
    uint32_t s = reg_r(r, R_STATUS);
    reg_w(r, R_STATUS, s | PV_VIRTIO_STATUS_DRIVER_OK);
}

void drv_desc(Drv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
              uint16_t flags, uint16_t next)
{
    uint64_t p = table + 16u * i;
    ram_w(d->r, p, 8, addr);
    ram_w(d->r, p + 8, 4, len);
    ram_w(d->r, p + 12, 2, flags);
    ram_w(d->r, p + 14, 2, next);
}

void drv_publish(Drv *d, uint16_t head)
{
    ram_w(d->r, d->avail + 4 + 2u * (d->avail_idx % d->num), 2, head);
    atomic_thread_fence(memory_order_release);
    d->avail_idx++;
    ram_w(d->r, d->avail + 2, 2, d->avail_idx);
}

void drv_kick(Drv *d)
{
    reg_w(d->r, R_QUEUE_NOTIFY, d->q);
}

uint16_t drv_used_idx(Drv *d)
{
    uint16_t idx = (uint16_t)ram_r(d->r, d->used + 2, 2);
    atomic_thread_fence(memory_order_acquire);
    return idx;
}

void drv_used_elem(Drv *d, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint64_t p = d->used + 4 + 8u * (i % d->num);
    *id = (uint32_t)ram_r(d->r, p, 4);
    *len = (uint32_t)ram_r(d->r, p + 4, 4);
}

bool drv_wait_used(Drv *d, uint16_t idx)
{
    return WAIT_FOR(drv_used_idx(d) == idx, 20000);
}
