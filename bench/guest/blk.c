/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk random-read benchmark guest (bench/guest/blk.sh).  Built once
 * per queue depth (-DQD=1, -DQD=32; bench/meson.build).  Hart 0 finds the
 * first virtio-blk device, sets up queue 0 (guests/lib/virtio-mmio.h),
 * keeps QD 4 KiB reads in flight at pseudo-random 4 KiB-aligned offsets of
 * the whole disk, and refills each slot as soon as its completion shows up
 * in the used ring, which it polls: no interrupts (the avail ring asks for
 * none).  After WARMUP untimed reads it times OPS reads with the CLINT's
 * mtime (10 MHz) and prints one line:
 *   result blk qd=QD ops=OPS ticks=T errors=E
 * then powers off (status 1 if any read failed).  The offsets come from a
 * fixed seed, so every run and every emulator reads the same blocks.  Runs
 * unchanged on qemu-system-riscv64 -global virtio-mmio.force-legacy=false.
 */
#include <stddef.h>

#include "runtime.h"
#include "virtio-mmio.h"

#ifndef QD
#error "define QD (requests in flight)"
#endif
#ifndef OPS
/* About a second on parvm either way; QD 32 is several times faster. */
#define OPS (QD >= 8 ? 50000u : 20000u)
#endif
#define WARMUP 1000u
#define BLOCK 4096u
/* Each request is a chain of three descriptors: header, data, status. */
#define QSIZE 128
_Static_assert(QD >= 1 && 3 * QD <= QSIZE, "QD requests must fit the queue");

#define T_IN 0

static struct desc desc[QSIZE] __attribute__((aligned(16)));
static VQ_AVAIL(QSIZE) avail __attribute__((aligned(2)));
static VQ_USED(QSIZE) used __attribute__((aligned(4)));
static struct {
    uint32_t type, reserved;
    uint64_t sector;
} hdr[QD];
static volatile uint8_t status[QD];
static uint8_t data[QD][BLOCK] __attribute__((aligned(BLOCK)));

/* Driver state: one device, one queue, hart 0 only. */
struct bench {
    unsigned long base;
    uint64_t blocks;        /* 4 KiB blocks on the disk */
    uint64_t seed;
    uint16_t avail_idx;     /* next avail.idx to publish */
    uint16_t used_seen;     /* used entries consumed */
    uint64_t errors;
};

static uint64_t rnd(struct bench *b)
{
    b->seed = b->seed * 6364136223846793005ull + 1442695040888963407ull;
    return b->seed >> 33;
}

static void say(const char *s) { puts_(s); }

/* Queues request slot @r (not yet visible to the device: see publish()). */
static void prepare(struct bench *b, unsigned r)
{
    hdr[r].sector = (rnd(b) % b->blocks) * (BLOCK / 512);
    status[r] = 0xee;
    avail.ring[b->avail_idx % QSIZE] = (uint16_t)(3 * r);
    b->avail_idx++;
}

/* Makes the prepared requests visible and notifies unless the device says
 * it does not need it (it is already processing the queue). */
static void publish(struct bench *b)
{
    virtio_fence();
    *(volatile uint16_t *)&avail.idx = b->avail_idx;
    virtio_fence();
    if (!(*(volatile uint16_t *)&used.flags & VQ_USED_F_NO_NOTIFY)) {
        mmio32(b->base + R_QUEUE_NOTIFY) = 0;
    }
}

/* @count reads with QD in flight; returns when all have completed. */
static void run(struct bench *b, uint32_t count)
{
    uint32_t submitted = 0, completed = 0;
    for (unsigned r = 0; r < QD && submitted < count; r++, submitted++) {
        prepare(b, r);
    }
    publish(b);
    while (completed < count) {
        uint16_t idx = *(volatile uint16_t *)&used.idx;
        if (idx == b->used_seen) {
            continue;
        }
        virtio_fence();
        bool more = false;
        for (; b->used_seen != idx; b->used_seen++) {
            uint32_t id = used.ring[b->used_seen % QSIZE].id;
            completed++;
            if (id % 3 || id / 3 >= QD) {
                b->errors++;    /* the device returned a head we never gave */
                continue;
            }
            unsigned r = id / 3;
            if (status[r] != 0) {
                b->errors++;
            }
            if (submitted < count) {
                prepare(b, r);
                submitted++;
                more = true;
            }
        }
        if (more) {
            publish(b);
        }
    }
}

void guest_trap(uint64_t cause)
{
    say("unexpected trap ");
    putu(cause);
    say("\n");
    power_off(false);
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    (void)fdt;
    if (h != 0) {
        for (;;) {
            __asm__ volatile("wfi");
        }
    }
    int slot = virtio_mmio_find(VIRTIO_ID_BLOCK, 0);
    if (slot < 0) {
        say("no virtio-blk device\n");
        power_off(false);
    }
    struct bench b = { .base = VIRTIO_MMIO_SLOT(slot), .seed = 12345 };
    uint64_t features;
    if (virtio_mmio_setup(b.base, 1ull << F_VERSION_1, &features, QSIZE, desc, &avail, &used) !=
        VIRTIO_SETUP_OK) {
        say("virtio-blk set-up failed\n");
        power_off(false);
    }
    uint64_t cap = mmio32(b.base + R_CONFIG) | (uint64_t)mmio32(b.base + R_CONFIG + 4) << 32;
    b.blocks = cap / (BLOCK / 512);
    if (b.blocks == 0) {
        say("disk smaller than one block\n");
        power_off(false);
    }
    avail.flags = VQ_AVAIL_F_NO_INTERRUPT;
    for (unsigned r = 0; r < QD; r++) {
        hdr[r].type = T_IN;
        hdr[r].reserved = 0;
        desc[3 * r] = (struct desc){ (uintptr_t)&hdr[r], sizeof(hdr[r]), VQ_DESC_F_NEXT,
                                     (uint16_t)(3 * r + 1) };
        desc[3 * r + 1] = (struct desc){ (uintptr_t)data[r], BLOCK,
                                         VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, (uint16_t)(3 * r + 2) };
        desc[3 * r + 2] = (struct desc){ (uintptr_t)&status[r], 1, VQ_DESC_F_WRITE, 0 };
    }

    run(&b, WARMUP);
    uint64_t t0 = mmio64(CLINT_MTIME);
    run(&b, OPS);
    uint64_t t1 = mmio64(CLINT_MTIME);
    mmio32(b.base + R_STATUS) = 0;

    say("result blk qd=");
    putu(QD);
    say(" ops=");
    putu(OPS);
    say(" ticks=");
    putu(t1 - t0);
    say(" errors=");
    putu(b.errors);
    say("\n");
    power_off(b.errors == 0);
}
