/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio core: the virtio-mmio Version 2 transport and split
 * virtqueues, driven as a guest would (register and RAM accesses) against
 * a test device that echoes requests (rig.h).  Kicks go through the
 * QueueNotify eventfd to the I/O thread.
 */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "rig.h"
#include "wait.h"
#include "parvm/dispatch.h"

#define QBASE0 (RIG_RAM_BASE + 0x10000)
#define QBASE1 (RIG_RAM_BASE + 0x20000)
#define BUF (RIG_RAM_BASE + 0x100000)      /* data buffers */
#define ITAB (RIG_RAM_BASE + 0x80000)      /* indirect tables */

static uint64_t errors(Rig *r)
{
    return pv_vm_guest_errors(&r->f.vm);
}

static void ram_fill(Rig *r, uint64_t addr, const void *p, size_t n)
{
    CHECK(address_space_rw(&r->f.as, addr, (void *)p, n, true) == PV_ACCESS_OK);
}

static void ram_get(Rig *r, uint64_t addr, void *p, size_t n)
{
    CHECK(address_space_rw(&r->f.as, addr, p, n, false) == PV_ACCESS_OK);
}

/* Negotiate @features, set up queue 0 (and 1) of size @num, DRIVER_OK. */
static void setup(Rig *r, Drv *d0, Drv *d1, uint64_t features, uint16_t num)
{
    CHECK(drv_negotiate(r, features) & PV_VIRTIO_STATUS_FEATURES_OK);
    drv_queue(r, d0, 0, num, QBASE0);
    if (d1) {
        drv_queue(r, d1, 1, num, QBASE1);
    }
    drv_driver_ok(r);
}

/* One request: @n bytes out at BUF, @cap bytes in at BUF + 0x1000, using
 * descriptors 0 and 1. */
static void echo_request(Rig *r, Drv *d, const char *msg, uint32_t cap)
{
    ram_fill(r, BUF, msg, strlen(msg));
    drv_desc(d, d->desc, 0, BUF, (uint32_t)strlen(msg), DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 0x1000, cap, DESC_F_WRITE, 0);
    drv_publish(d, 0);
    drv_kick(d);
}

static void check_echoed(Rig *r, Drv *d, const char *msg)
{
    uint32_t id, len;
    char got[64] = { 0 };

    CHECK(drv_wait_used(d, d->avail_idx));
    drv_used_elem(d, (uint16_t)(d->avail_idx - 1), &id, &len);
    CHECK_EQ_U64(id, 0);
    CHECK_EQ_U64(len, strlen(msg));
    ram_get(r, BUF + 0x1000, got, strlen(msg));
    CHECK(memcmp(got, msg, strlen(msg)) == 0);
}

/* ---- registers ------------------------------------------------------------ */

static void test_registers(void)
{
    Rig r;
    uint64_t v, e0;

    rig_init(&r, true);
    CHECK_EQ_U64(reg_r(&r, R_MAGIC), 0x74726976);
    CHECK_EQ_U64(reg_r(&r, R_VERSION), 2);
    CHECK_EQ_U64(reg_r(&r, R_DEVICE_ID), RIG_ECHO_ID);
    CHECK_EQ_U64(reg_r(&r, R_VENDOR_ID), 0x554d4551);
    reg_w(&r, R_DEV_FEATURES_SEL, 0);
    CHECK_EQ_U64(reg_r(&r, R_DEV_FEATURES), (1u << RIG_ECHO_F_TEST) | F_INDIRECT | F_EVENT_IDX);
    reg_w(&r, R_DEV_FEATURES_SEL, 1);
    CHECK_EQ_U64(reg_r(&r, R_DEV_FEATURES), 1);         /* VERSION_1 */
    reg_w(&r, R_DEV_FEATURES_SEL, 2);
    CHECK_EQ_U64(reg_r(&r, R_DEV_FEATURES), 0);
    reg_w(&r, R_QUEUE_SEL, 0);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_NUM_MAX), RIG_QUEUE_MAX);
    reg_w(&r, R_QUEUE_SEL, 1);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_NUM_MAX), RIG_QUEUE_MAX);
    reg_w(&r, R_QUEUE_SEL, 2);                          /* no such queue */
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_NUM_MAX), 0);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_READY), 0);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0);
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
    CHECK_EQ_U64(reg_r(&r, R_SHM_LEN_LO), 0xffffffff);  /* no shared memory, as QEMU */
    CHECK_EQ_U64(reg_r(&r, R_SHM_LEN_HI), 0xffffffff);
    CHECK_EQ_U64(reg_r(&r, R_CONFIG_GEN), 0);
    CHECK(!atomic_load(&r.irq));

    /* Config space: 1, 2, 4 and 8-byte reads, little-endian. */
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG + 1, 1, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x22);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG + 2, 2, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x4433);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG + 4, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x88776655);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0x8877665544332211);
    CHECK(address_space_write(&r.f.as, RIG_VBASE + R_CONFIG + 8, 2, 0xbeef) == PV_ACCESS_OK);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG + 8, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xccbbbeef);
    e0 = errors(&r);
    /* Past the device's config space: all ones, a guest error. */
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_CONFIG + 12, 4, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0xffffffff);
    CHECK_EQ_U64(errors(&r), e0 + 1);

    /* Registers are 32-bit: other sizes read 0, write nothing, and count. */
    e0 = errors(&r);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_MAGIC, 2, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_MAGIC, 1, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    CHECK(address_space_write(&r.f.as, RIG_VBASE + R_STATUS, 1, 1) == PV_ACCESS_OK);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0);
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_MAGIC, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_U64(errors(&r), e0 + 4);

    /* Write-only registers read 0; read-only ones ignore writes; both count. */
    e0 = errors(&r);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_NOTIFY), 0);
    CHECK_EQ_U64(reg_r(&r, R_DESC_LO), 0);
    reg_w(&r, R_MAGIC, 0);
    reg_w(&r, R_ISR, 1);
    reg_w(&r, 0x0f0, 1);                                /* no such register */
    CHECK_EQ_U64(reg_r(&r, R_MAGIC), 0x74726976);
    CHECK_EQ_U64(errors(&r), e0 + 5);
    /* A QueueNotify for a queue that does not exist. */
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_NOTIFY, 5);
    CHECK_EQ_U64(errors(&r), e0 + 1);
    rig_destroy(&r);
}

static void test_features(void)
{
    Rig r;
    Drv d;
    uint64_t e0;

    rig_init(&r, true);
    /* Without VERSION_1: FEATURES_OK does not stick. */
    e0 = errors(&r);
    CHECK(!(drv_negotiate(&r, F_EVENT_IDX) & PV_VIRTIO_STATUS_FEATURES_OK));
    CHECK_EQ_U64(errors(&r), e0 + 1);
    /* A bit the device did not offer. */
    CHECK(!(drv_negotiate(&r, F_VERSION_1 | (UINT64_C(1) << 40)) &
            PV_VIRTIO_STATUS_FEATURES_OK));
    CHECK(!(drv_negotiate(&r, F_VERSION_1 | 2) & PV_VIRTIO_STATUS_FEATURES_OK));
    /* Queues cannot be made ready before FEATURES_OK. */
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_SEL, 0);
    reg_w(&r, R_QUEUE_READY, 1);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_READY), 0);
    CHECK_EQ_U64(errors(&r), e0 + 1);
    /* DRIVER_OK before FEATURES_OK is out of order. */
    reg_w(&r, R_STATUS, 0x7);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0x3);
    CHECK_EQ_U64(atomic_load(&r.echo->starts), 0);

    /* The full set the device offers is accepted. */
    CHECK_EQ_U64(drv_negotiate(&r, F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | 1), 0xb);
    CHECK_EQ_U64(r.echo->v.driver_features, F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | 1);
    /* DriverFeatures are frozen after FEATURES_OK. */
    e0 = errors(&r);
    reg_w(&r, R_DRV_FEATURES_SEL, 0);
    reg_w(&r, R_DRV_FEATURES, 0);
    CHECK_EQ_U64(errors(&r), e0 + 1);
    CHECK_EQ_U64(r.echo->v.driver_features, F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | 1);
    /* The driver never clears a bit except by reset. */
    reg_w(&r, R_STATUS, 0x3);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0xb);
    /* A status write that sets NEEDS_RESET does not set it. */
    reg_w(&r, R_STATUS, 0xb | PV_VIRTIO_STATUS_NEEDS_RESET);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0xb);

    /* Queue registers: size must be a power of 2 up to the max; nothing
     * changes on a ready queue; absent queues refuse. */
    drv_queue(&r, &d, 0, 64, QBASE0);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_READY), 1);
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_NUM, 32);
    reg_w(&r, R_DESC_LO, 0x1234);
    CHECK_EQ_U64(errors(&r), e0 + 2);
    CHECK_EQ_U64(r.echo->v.vq[0].num, 64);
    CHECK_EQ_U64(r.echo->v.vq[0].desc, QBASE0);
    reg_w(&r, R_QUEUE_SEL, 1);
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_NUM, 3);
    reg_w(&r, R_QUEUE_NUM, 0);
    reg_w(&r, R_QUEUE_NUM, 2 * RIG_QUEUE_MAX);
    CHECK_EQ_U64(errors(&r), e0 + 3);
    CHECK_EQ_U64(r.echo->v.vq[1].num, RIG_QUEUE_MAX);
    reg_w(&r, R_QUEUE_SEL, 7);
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_NUM, 16);
    reg_w(&r, R_QUEUE_READY, 1);
    CHECK_EQ_U64(errors(&r), e0 + 2);
    CHECK(r.echo->v.vq[0].event_idx && r.echo->v.vq[0].indirect);

    drv_driver_ok(&r);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0xf);
    CHECK_EQ_U64(atomic_load(&r.echo->starts), 1);
    /* Queue size is fixed after DRIVER_OK, even on a queue not ready. */
    reg_w(&r, R_QUEUE_SEL, 1);
    e0 = errors(&r);
    reg_w(&r, R_QUEUE_NUM, 16);
    CHECK_EQ_U64(errors(&r), e0 + 1);
    CHECK_EQ_U64(r.echo->v.vq[1].num, RIG_QUEUE_MAX);

    /* Reset clears everything. */
    uint64_t epoch = r.echo->v.reset_epoch;
    reg_w(&r, R_STATUS, 0);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0);
    CHECK_EQ_U64(r.echo->v.driver_features, 0);
    CHECK_EQ_U64(r.echo->v.reset_epoch, epoch + 1);
    reg_w(&r, R_QUEUE_SEL, 0);
    CHECK_EQ_U64(reg_r(&r, R_QUEUE_READY), 0);
    rig_destroy(&r);
}

/* ---- requests --------------------------------------------------------------- */

static void test_echo_and_interrupts(void)
{
    Rig r;
    Drv d;
    uint64_t e0;

    rig_init(&r, true);
    e0 = errors(&r);
    setup(&r, &d, NULL, F_VERSION_1, 64);
    echo_request(&r, &d, "hello, virtio", 64);
    check_echoed(&r, &d, "hello, virtio");
    /* The kick went through the notifier to the I/O thread. */
    CHECK(atomic_load(&r.echo->notifies) >= 1);
    CHECK_EQ_U64(atomic_load(&r.echo->off_io_thread), 0);
    CHECK_EQ_U64(errors(&r), e0);
    /* The interrupt: ISR bit 0 and the line up, until acknowledged. */
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    CHECK_EQ_U64(reg_r(&r, R_ISR), PV_VIRTIO_ISR_QUEUE);
    reg_w(&r, R_ISR_ACK, PV_VIRTIO_ISR_QUEUE);
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
    CHECK(!atomic_load(&r.irq));

    /* VIRTQ_AVAIL_F_NO_INTERRUPT: the request completes, no interrupt. */
    unsigned raises = atomic_load(&r.raises);
    ram_w(&r, d.avail, 2, 1);
    echo_request(&r, &d, "quiet", 64);
    check_echoed(&r, &d, "quiet");
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);   /* taken under the device lock: after the notify */
    CHECK_EQ_U64(atomic_load(&r.raises), raises);
    ram_w(&r, d.avail, 2, 0);
    echo_request(&r, &d, "loud", 64);
    check_echoed(&r, &d, "loud");
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    reg_w(&r, R_ISR_ACK, 1);
    CHECK(!atomic_load(&r.irq));

    /* A short "in" buffer gets what fits. */
    echo_request(&r, &d, "truncated", 4);
    CHECK(drv_wait_used(&d, d.avail_idx));
    uint32_t id, len;
    drv_used_elem(&d, (uint16_t)(d.avail_idx - 1), &id, &len);
    CHECK_EQ_U64(len, 4);
    CHECK_EQ_U64(errors(&r), e0);
    rig_destroy(&r);
}

static void test_event_idx(void)
{
    Rig r;
    Drv d;
    uint16_t num = 16;

    rig_init(&r, true);
    setup(&r, &d, NULL, F_VERSION_1 | F_EVENT_IDX, num);
    /* used_event 0: the first completion interrupts. */
    echo_request(&r, &d, "one", 64);
    check_echoed(&r, &d, "one");
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    reg_w(&r, R_ISR_ACK, 1);
    /* The device asked for the next kick: avail_event == its last_avail. */
    CHECK_EQ_U64(ram_r(&r, d.used + 4 + 8u * num, 2), 1);
    /* used_event 5: no interrupt until the used idx passes 5. */
    ram_w(&r, d.avail + 4 + 2u * num, 2, 5);
    unsigned raises = atomic_load(&r.raises);
    for (int i = 2; i <= 5; i++) {
        echo_request(&r, &d, "shh", 64);
        check_echoed(&r, &d, "shh");
        CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
        CHECK_EQ_U64(ram_r(&r, d.used + 4 + 8u * num, 2), i);
    }
    CHECK_EQ_U64(atomic_load(&r.raises), raises);
    echo_request(&r, &d, "six", 64);
    check_echoed(&r, &d, "six");
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    CHECK_EQ_U64(atomic_load(&r.raises), raises + 1);
    CHECK_EQ_U64(reg_r(&r, R_ISR), 1);
    reg_w(&r, R_ISR_ACK, 1);
    CHECK(!atomic_load(&r.irq));
    /* The avail flags are not looked at with EVENT_IDX. */
    ram_w(&r, d.avail, 2, 1);
    ram_w(&r, d.avail + 4 + 2u * num, 2, 6);
    echo_request(&r, &d, "seven", 64);
    check_echoed(&r, &d, "seven");
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    rig_destroy(&r);
}

static void test_indirect(void)
{
    Rig r;
    Drv d;
    const char msg[] = "indirect and in three pieces";
    char got[64] = { 0 };

    rig_init(&r, true);
    setup(&r, &d, NULL, F_VERSION_1 | F_INDIRECT, 8);
    ram_fill(&r, BUF, msg, sizeof(msg));
    /* Table of 4: two readable pieces, two writable ones. */
    drv_desc(&d, ITAB, 0, BUF, 10, DESC_F_NEXT, 1);
    drv_desc(&d, ITAB, 1, BUF + 10, sizeof(msg) - 10, DESC_F_NEXT, 2);
    drv_desc(&d, ITAB, 2, BUF + 0x1000, 7, DESC_F_WRITE | DESC_F_NEXT, 3);
    drv_desc(&d, ITAB, 3, BUF + 0x2000, 57, DESC_F_WRITE, 0);
    drv_desc(&d, d.desc, 5, ITAB, 4 * 16, DESC_F_INDIRECT, 0);
    drv_publish(&d, 5);
    drv_kick(&d);
    CHECK(drv_wait_used(&d, 1));
    uint32_t id, len;
    drv_used_elem(&d, 0, &id, &len);
    CHECK_EQ_U64(id, 5);
    CHECK_EQ_U64(len, sizeof(msg));
    ram_get(&r, BUF + 0x1000, got, 7);
    ram_get(&r, BUF + 0x2000, got + 7, sizeof(msg) - 7);
    CHECK(memcmp(got, msg, sizeof(msg)) == 0);
    CHECK_EQ_U64(reg_r(&r, R_STATUS) & PV_VIRTIO_STATUS_NEEDS_RESET, 0);
    rig_destroy(&r);
}

/* ---- malformed queues ------------------------------------------------------ */

typedef struct BadCase {
    const char *name;
    uint64_t features;
    /* Lay out the bad request (descriptors, tables); return the head. */
    uint16_t (*build)(Rig *r, Drv *d);
    bool avail_jump;            /* publish an avail idx num + 1 ahead */
} BadCase;

static uint16_t bad_head(Rig *r, Drv *d)
{
    (void)r;
    return d->num;              /* one past the table */
}

static uint16_t bad_next(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, (uint16_t)(d->num + 3));
    return 0;
}

static uint16_t bad_loop(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 8, 8, DESC_F_NEXT, 2);
    drv_desc(d, d->desc, 2, BUF + 16, 8, DESC_F_NEXT, 1);
    return 0;
}

static uint16_t bad_self_loop(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 3, BUF + 0x1000, 8, DESC_F_WRITE | DESC_F_NEXT, 3);
    return 3;
}

static uint16_t bad_unassigned(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, 0x40000000, 64, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_mmio(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, RIG_VBASE + R_STATUS, 4, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_mmio_out(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, RIG_VBASE, 16, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 0x1000, 16, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_ram_end(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, RIG_RAM_BASE + RIG_RAM_SIZE - 8, 64, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_wrap(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, UINT64_MAX - 7, 64, 0, 0);
    return 0;
}

static uint16_t bad_len_overflow(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF + 0x1000, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 0x2000, UINT32_MAX - 8, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_rom_write(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, RIG_ROM_BASE, 16, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_out_after_in(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF + 0x1000, 8, DESC_F_WRITE | DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF, 8, 0, 0);
    return 0;
}

static uint16_t bad_nested_indirect(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, ITAB + 0x100, 0, BUF, 8, 0, 0);
    drv_desc(d, ITAB, 0, ITAB + 0x100, 16, DESC_F_INDIRECT, 0);
    drv_desc(d, d->desc, 0, ITAB, 16, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t bad_indirect_nofeat(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, ITAB, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, ITAB, 1, BUF + 0x1000, 8, DESC_F_WRITE, 0);
    drv_desc(d, d->desc, 0, ITAB, 32, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t bad_indirect_len(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, ITAB, 0, BUF, 8, 0, 0);
    drv_desc(d, d->desc, 0, ITAB, 24, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t bad_indirect_big(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, ITAB, 16u * d->num + 16, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t bad_indirect_next(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, ITAB, 0, BUF, 8, 0, 0);
    drv_desc(d, d->desc, 0, ITAB, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 0x1000, 8, DESC_F_WRITE, 0);
    return 0;
}

static uint16_t bad_indirect_loop(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, ITAB, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, ITAB, 1, BUF, 8, DESC_F_NEXT, 0);
    drv_desc(d, d->desc, 0, ITAB, 32, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t bad_indirect_table_mmio(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, RIG_VBASE, 32, DESC_F_INDIRECT, 0);
    return 0;
}

static uint16_t good_request(Rig *r, Drv *d)
{
    (void)r;
    drv_desc(d, d->desc, 0, BUF, 8, DESC_F_NEXT, 1);
    drv_desc(d, d->desc, 1, BUF + 0x1000, 8, DESC_F_WRITE, 0);
    return 0;
}

static const BadCase bad_cases[] = {
    { "head index out of range", F_VERSION_1, bad_head },
    { "next index out of range", F_VERSION_1, bad_next },
    { "loop in chain", F_VERSION_1, bad_loop },
    { "descriptor chained to itself", F_VERSION_1, bad_self_loop },
    { "buffer in unassigned space", F_VERSION_1, bad_unassigned },
    { "writable buffer in MMIO", F_VERSION_1, bad_mmio },
    { "readable buffer in MMIO", F_VERSION_1, bad_mmio_out },
    { "buffer past the end of RAM", F_VERSION_1, bad_ram_end },
    { "buffer wrapping the address space", F_VERSION_1, bad_wrap },
    { "length overflow", F_VERSION_1, bad_len_overflow },
    { "writable buffer in ROM", F_VERSION_1, bad_rom_write },
    { "readable after writable", F_VERSION_1, bad_out_after_in },
    { "nested indirect", F_VERSION_1 | F_INDIRECT, bad_nested_indirect },
    { "indirect without the feature", F_VERSION_1, bad_indirect_nofeat },
    { "indirect length not a multiple of 16", F_VERSION_1 | F_INDIRECT, bad_indirect_len },
    { "indirect table bigger than the queue", F_VERSION_1 | F_INDIRECT, bad_indirect_big },
    { "indirect with NEXT", F_VERSION_1 | F_INDIRECT, bad_indirect_next },
    { "loop in indirect table", F_VERSION_1 | F_INDIRECT, bad_indirect_loop },
    { "indirect table in MMIO", F_VERSION_1 | F_INDIRECT, bad_indirect_table_mmio },
    { "avail idx jumps past the queue size", F_VERSION_1, good_request, true },
};

/* Every byte of RAM outside the queue's used ring (where the device may
 * write avail_event/flags) must be as it was. */
static uint8_t *snapshot(Rig *r)
{
    uint8_t *s = malloc(RIG_RAM_SIZE);
    CHECK(s != NULL);
    ram_get(r, RIG_RAM_BASE, s, RIG_RAM_SIZE);
    return s;
}

static bool same_outside_used(Rig *r, const uint8_t *before, Drv *d)
{
    uint8_t *after = snapshot(r);
    uint64_t u0 = d->used - RIG_RAM_BASE, u1 = u0 + 0x1000;
    bool same = memcmp(before, after, u0) == 0 &&
                memcmp(before + u1, after + u1, RIG_RAM_SIZE - u1) == 0;
    free(after);
    return same;
}

static void run_bad_case(const BadCase *c, bool with_event_idx)
{
    Rig r;
    Drv d;
    uint64_t e0;
    uint8_t rom_before[16], rom_after[16];

    rig_init(&r, true);
    /* Recognisable contents everywhere the device could write. */
    for (uint64_t a = BUF; a < BUF + 0x4000; a += 8) {
        ram_w(&r, a, 8, 0x5a5a5a5a5a5a5a5a ^ a);
    }
    setup(&r, &d, NULL, c->features | (with_event_idx ? F_EVENT_IDX : 0), 16);
    uint16_t head = c->build(&r, &d);
    ram_get(&r, RIG_ROM_BASE, rom_before, sizeof(rom_before));
    uint8_t *before = snapshot(&r);
    e0 = errors(&r);
    uint32_t irq_before = atomic_load(&r.raises);
    if (c->avail_jump) {
        ram_w(&r, d.avail + 4, 2, head);
        d.avail_idx = (uint16_t)(d.num + 1);
        ram_w(&r, d.avail + 2, 2, d.avail_idx);
        free(before);
        before = snapshot(&r);
        drv_kick(&d);
    } else {
        ram_w(&r, d.avail + 4, 2, head);
        d.avail_idx = 1;
        ram_w(&r, d.avail + 2, 2, 1);
        free(before);
        before = snapshot(&r);
        drv_kick(&d);
    }
    bool nr = WAIT_FOR(reg_r(&r, R_STATUS) & PV_VIRTIO_STATUS_NEEDS_RESET, 20000);
    if (!nr) {
        printf("# case \"%s\": no NEEDS_RESET\n", c->name);
    }
    CHECK(nr);
    CHECK(errors(&r) > e0);
    CHECK_EQ_U64(drv_used_idx(&d), 0);
    CHECK(same_outside_used(&r, before, &d));
    ram_get(&r, RIG_ROM_BASE, rom_after, sizeof(rom_after));
    CHECK(memcmp(rom_before, rom_after, sizeof(rom_after)) == 0);
    /* DRIVER_OK was set: a configuration-change interrupt. */
    CHECK(atomic_load(&r.raises) > irq_before);
    CHECK(reg_r(&r, R_ISR) & PV_VIRTIO_ISR_CONFIG);
    /* Further kicks are not processed. */
    unsigned n = atomic_load(&r.echo->notifies);
    drv_kick(&d);
    CHECK_EQ_U64(reg_r(&r, R_STATUS) & 0xff, 0x4f);
    (void)n;
    /* After a reset the device works again. */
    free(before);
    setup(&r, &d, NULL, F_VERSION_1, 16);
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
    CHECK(!atomic_load(&r.irq));
    echo_request(&r, &d, "recovered", 64);
    check_echoed(&r, &d, "recovered");
    rig_destroy(&r);
}

static void test_malformed(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        int before = pv_test_failures;
        run_bad_case(&bad_cases[i], i & 1);
        if (pv_test_failures != before) {
            printf("# failed case: %s\n", bad_cases[i].name);
        }
    }
}

static void test_misaligned_ring(void)
{
    Rig r;
    Drv d;

    rig_init(&r, true);
    CHECK(drv_negotiate(&r, F_VERSION_1) & PV_VIRTIO_STATUS_FEATURES_OK);
    drv_queue(&r, &d, 0, 16, QBASE0);
    /* Move the descriptor table off its 16-byte alignment. */
    reg_w(&r, R_QUEUE_READY, 0);
    reg_w(&r, R_DESC_LO, (uint32_t)QBASE0 + 8);
    reg_w(&r, R_QUEUE_READY, 1);
    drv_driver_ok(&r);
    good_request(&r, &d);
    drv_publish(&d, 0);
    drv_kick(&d);
    CHECK(WAIT_FOR(reg_r(&r, R_STATUS) & PV_VIRTIO_STATUS_NEEDS_RESET, 20000));
    CHECK_EQ_U64(drv_used_idx(&d), 0);
    rig_destroy(&r);
}

/* ---- reset with requests in flight -------------------------------------- */

static void test_reset_in_flight(void)
{
    Rig r;
    Drv d;

    rig_init(&r, true);
    setup(&r, &d, NULL, F_VERSION_1, 16);
    pv_device_lock(&r.echo->v.dev);
    r.echo->hold = true;
    pv_device_unlock(&r.echo->v.dev);
    for (int i = 0; i < 4; i++) {
        drv_desc(&d, d.desc, 2u * i, BUF, 8, DESC_F_NEXT, (uint16_t)(2 * i + 1));
        drv_desc(&d, d.desc, 2u * i + 1, BUF + 0x1000 + 64u * i, 8, DESC_F_WRITE, 0);
        drv_publish(&d, (uint16_t)(2 * i));
    }
    drv_kick(&d);
    CHECK(WAIT_FOR(({
        pv_device_lock(&r.echo->v.dev);
        unsigned n_ = r.echo->nheld;
        pv_device_unlock(&r.echo->v.dev);
        n_ == 4;
    }), 20000));
    CHECK_EQ_U64(r.echo->v.vq[0].inflight, 4);
    /* An interrupt pending at reset is withdrawn. */
    pv_device_lock(&r.echo->v.dev);
    pv_virtio_config_changed(&r.echo->v);
    pv_device_unlock(&r.echo->v.dev);
    CHECK(atomic_load(&r.irq));
    CHECK_EQ_U64(reg_r(&r, R_CONFIG_GEN), 1);
    /* The driver resets and sets the queue up again elsewhere. */
    uint8_t *before;
    unsigned resets = atomic_load(&r.echo->resets);
    reg_w(&r, R_STATUS, 0);
    CHECK(!atomic_load(&r.irq));
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
    CHECK_EQ_U64(atomic_load(&r.echo->resets), resets + 1);
    CHECK_EQ_U64(r.echo->v.vq[0].inflight, 0);
    before = malloc(RIG_RAM_SIZE);
    ram_get(&r, RIG_RAM_BASE, before, RIG_RAM_SIZE);
    /* The old requests complete now: they belong to the old epoch and must
     * not touch guest memory. */
    CHECK_EQ_U64(echo_complete_held(r.echo), 0);
    uint8_t *after = malloc(RIG_RAM_SIZE);
    ram_get(&r, RIG_RAM_BASE, after, RIG_RAM_SIZE);
    CHECK(memcmp(before, after, RIG_RAM_SIZE) == 0);
    free(before);
    free(after);
    /* The new configuration works, held requests included. */
    setup(&r, &d, NULL, F_VERSION_1, 16);
    echo_request(&r, &d, "again", 64);
    CHECK(WAIT_FOR(({
        pv_device_lock(&r.echo->v.dev);
        unsigned n_ = r.echo->nheld;
        pv_device_unlock(&r.echo->v.dev);
        n_ == 1;
    }), 20000));
    CHECK_EQ_U64(echo_complete_held(r.echo), 1);
    check_echoed(&r, &d, "again");
    CHECK(WAIT_FOR(atomic_load(&r.irq), 20000));
    /* The board's reset does the same. */
    pv_virtio_reset(&r.echo->v);
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0);
    CHECK(!atomic_load(&r.irq));
    rig_destroy(&r);
}

/* ---- many requests from two threads ----------------------------------------- */

#define BATCH 5000      /* per thread: 10^4 in all */
#define INFLIGHT 32

typedef struct Worker {
    Rig *r;
    Drv d;
    unsigned id;
    int failures;
    unsigned interrupts_acked;
} Worker;

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static void *worker_main(void *opaque)
{
    Worker *w = opaque;
    Rig *r = w->r;
    Drv *d = &w->d;
    uint32_t free_slots[INFLIGHT], nfree = INFLIGHT;
    uint32_t sent = 0, done = 0, seq_of[INFLIGHT];
    uint64_t payload_base = BUF + 0x10000 + w->id * 0x10000;
    int64_t deadline = pv_clock_ns() + 60 * PV_NS_PER_SEC;

    pv_rcu_register_thread();
    for (uint32_t s = 0; s < INFLIGHT; s++) {
        free_slots[s] = s;
    }
    while (done < BATCH && pv_clock_ns() < deadline) {
        uint16_t old = d->avail_idx;
        while (nfree && sent < BATCH) {
            uint32_t s = free_slots[--nfree];
            uint64_t out = payload_base + s * 64, in = out + 32;
            ram_w(r, out, 8, ((uint64_t)w->id << 56) | sent);
            ram_w(r, out + 8, 8, ~(uint64_t)sent);
            ram_w(r, in, 8, 0);
            ram_w(r, in + 8, 8, 0);
            drv_desc(d, d->desc, 2 * s, out, 16, DESC_F_NEXT, (uint16_t)(2 * s + 1));
            drv_desc(d, d->desc, 2 * s + 1, in, 32, DESC_F_WRITE, 0);
            seq_of[s] = sent++;
            drv_publish(d, (uint16_t)(2 * s));
        }
        if (d->avail_idx != old) {
            /* Kick only if the device asked (EVENT_IDX, 2.7.10). */
            atomic_thread_fence(memory_order_seq_cst);
            uint16_t ev = (uint16_t)ram_r(r, d->used + 4 + 8u * d->num, 2);
            if (need_event(ev, d->avail_idx, old)) {
                drv_kick(d);
            }
        }
        uint16_t used = drv_used_idx(d);
        while (d->used_seen != used) {
            uint32_t id, len;
            drv_used_elem(d, d->used_seen, &id, &len);
            uint32_t s = id / 2;
            if (id % 2 || s >= INFLIGHT || len != 16) {
                w->failures++;
                break;
            }
            uint64_t in = payload_base + s * 64 + 32;
            if (ram_r(r, in, 8) != (((uint64_t)w->id << 56) | seq_of[s]) ||
                ram_r(r, in + 8, 8) != ~(uint64_t)seq_of[s]) {
                w->failures++;
            }
            free_slots[nfree++] = s;
            d->used_seen++;
            done++;
        }
        /* Ask for an interrupt at the next completion; acknowledge any. */
        ram_w(r, d->avail + 4 + 2u * d->num, 2, d->used_seen);
        if (reg_r(r, R_ISR) & 1) {
            reg_w(r, R_ISR_ACK, 1);
            w->interrupts_acked++;
        }
        pv_rcu_quiescent();
    }
    if (done != BATCH) {
        w->failures++;
    }
    pv_rcu_unregister_thread();
    return NULL;
}

static void two_threads(PvFlow flow)
{
    Rig r;
    Worker w[2];
    pthread_t t[2];

    rig_init_flow(&r, true, flow);
    memset(w, 0, sizeof(w));
    setup(&r, &w[0].d, &w[1].d, F_VERSION_1 | F_EVENT_IDX, 64);
    for (unsigned i = 0; i < 2; i++) {
        w[i].r = &r;
        w[i].id = i;
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    pv_rcu_offline();
    for (unsigned i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    pv_rcu_online();
    for (unsigned i = 0; i < 2; i++) {
        CHECK_EQ_U64(w[i].failures, 0);
        CHECK_EQ_U64(w[i].d.used_seen, (uint16_t)BATCH);
    }
    CHECK(w[0].interrupts_acked + w[1].interrupts_acked > 0);
    /* Only the QUEUE flow may run a kick on the next lock holder (here a
     * driver thread in its register access). */
    if (flow != PV_FLOW_QUEUE) {
        CHECK_EQ_U64(atomic_load(&r.echo->off_io_thread), 0);
    }
    CHECK_EQ_U64(reg_r(&r, R_STATUS), 0xf);
    /* The line ends where the ISR says it should. */
    reg_w(&r, R_ISR_ACK, 3);
    CHECK_EQ_U64(reg_r(&r, R_ISR), 0);
    CHECK(!atomic_load(&r.irq));
    rig_destroy(&r);
}

static void test_two_threads_trylock(void)
{
    two_threads(PV_FLOW_TRYLOCK);
}

static void test_two_threads_queue(void)
{
    two_threads(PV_FLOW_QUEUE);
}

static void test_two_threads_notify(void)
{
    two_threads(PV_FLOW_NOTIFY);
}

/* Kicks racing removal: the device is destroyed while a thread kicks. */
static void *kicker_main(void *opaque)
{
    Worker *w = opaque;

    pv_rcu_register_thread();
    for (int i = 0; i < 2000; i++) {
        uint64_t v = w->d.q;
        /* UNASSIGNED once the device is gone: that is the point. */
        (void)address_space_write(&w->r->f.as, RIG_VBASE + R_QUEUE_NOTIFY, 4, v);
        pv_rcu_quiescent();
    }
    pv_rcu_unregister_thread();
    return NULL;
}

static void test_destroy_while_kicked(void)
{
    Rig r;
    Worker w = { 0 };
    pthread_t t;

    rig_init(&r, true);
    setup(&r, &w.d, NULL, F_VERSION_1, 16);
    w.r = &r;
    CHECK(pthread_create(&t, NULL, kicker_main, &w) == 0);
    WAIT_FOR(atomic_load(&r.echo->notifies) > 10, 20000);
    pv_virtio_destroy(&r.echo->v);
    uint64_t v = 0;
    /* G1: gone. */
    CHECK(address_space_read(&r.f.as, RIG_VBASE + R_MAGIC, 4, &v) == PV_ACCESS_UNASSIGNED);
    pv_rcu_offline();
    pthread_join(t, NULL);
    pv_rcu_online();
    fixture_destroy(&r.f);
    pv_event_loop_free(r.loop);
    memory_region_destroy(&r.ram);
    memory_region_destroy(&r.rom);
}

PV_TEST_MAIN(TEST(test_registers), TEST(test_features), TEST(test_echo_and_interrupts),
             TEST(test_event_idx), TEST(test_indirect), TEST(test_malformed),
             TEST(test_misaligned_ring), TEST(test_reset_in_flight), TEST(test_two_threads_trylock),
             TEST(test_two_threads_queue), TEST(test_two_threads_notify),
             TEST(test_destroy_while_kicked))
