/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hot-unplug of a virtio-blk disk with I/O in flight.  The guest keeps
 * several requests (reads and writes of random sectors) in flight on the
 * disk in slot 7 and polls parvm's hot-plug controller.  When the host asks
 * for the disk, it stops submitting and writes EJECT with requests still
 * outstanding: when the store returns the slot must read empty, and the
 * device must never write into the rings or buffers again (its requests
 * were dropped, not completed, so no used entry may appear afterwards).
 * Built with -DIGNORE_EJECT: the guest never ejects and keeps hammering
 * until the host's forced removal takes the disk away under it.
 */
#include <stddef.h>

#include "runtime.h"
#include "virtio-mmio.h"

#define SLOT 7
#define BASE VIRTIO_MMIO_SLOT(SLOT)
#define HP 0x10200000ul
#define HP_EJECT_REQ 0x14
#define HP_EJECT 0x18
#define R(off) mmio32(BASE + (off))

#define QSIZE 16
#define INFLIGHT 4

static struct desc desc[QSIZE] __attribute__((aligned(16)));
static VQ_AVAIL(QSIZE) avail;
static VQ_USED(QSIZE) used __attribute__((aligned(4)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr[INFLIGHT];
static uint8_t status[INFLIGHT];
static uint8_t data[INFLIGHT][4096] __attribute__((aligned(8)));
static uint64_t seed = 12345;

static uint64_t rnd(void)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
}

/* Request slot @r uses descriptors 3r..3r+2. */
static void submit(unsigned r, uint64_t cap)
{
    unsigned d = 3 * r;
    bool write = rnd() & 1;
    hdr[r].type = write ? 1 : 0;
    hdr[r].sector = rnd() % (cap - 8);
    status[r] = 0xee;
    desc[d] = (struct desc){ (uintptr_t)&hdr[r], 16, 1, (uint16_t)(d + 1) };
    desc[d + 1] = (struct desc){ (uintptr_t)data[r], 4096, (uint16_t)(1 | (write ? 0 : 2)),
                                 (uint16_t)(d + 2) };
    desc[d + 2] = (struct desc){ (uintptr_t)&status[r], 1, 2, 0 };
    avail.ring[avail.idx % QSIZE] = (uint16_t)d;
    virtio_fence();
    avail.idx++;
    virtio_fence();
    R(R_QUEUE_NOTIFY) = 0;
}

static bool present(void)
{
    return R(R_MAGIC) == VIRTIO_MMIO_MAGIC_VALUE && R(R_DEVICE_ID) == VIRTIO_ID_BLOCK;
}

void guest_trap(uint64_t cause)
{
    puts_("unexpected trap ");
    putu(cause);
    puts_("\n");
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
    if (!present()) {
        puts_("no virtio-blk in slot 7\n");
        power_off(false);
    }
    uint64_t features;
    if (virtio_mmio_setup(BASE, 1ull << F_VERSION_1, &features, QSIZE, desc, &avail, &used) !=
        VIRTIO_SETUP_OK) {
        puts_("virtio-blk set-up refused\n");
        power_off(false);
    }
    uint64_t cap = R(R_CONFIG) | (uint64_t)R(R_CONFIG + 4) << 32;
    for (unsigned r = 0; r < INFLIGHT; r++) {
        submit(r, cap);
    }
    puts_("hammering\n");
    uint16_t seen = 0;
    uint64_t done = 0, errors = 0;
    for (uint64_t spin = 0;; spin++) {
        uint16_t idx = *(volatile uint16_t *)&used.idx;
        while (seen != idx) {
            virtio_fence();
            unsigned r = used.ring[seen % QSIZE].id / 3;
            errors += status[r] != 0;
            seen++;
            done++;
            submit(r, cap);
        }
#ifndef IGNORE_EJECT
        if (mmio32(HP + HP_EJECT_REQ) & (1u << SLOT)) {
            /* Requests still in flight: eject anyway. */
            mmio32(HP + HP_EJECT) = SLOT;
            bool gone = !present();
            uint16_t at = *(volatile uint16_t *)&used.idx;
            for (volatile unsigned long i = 0; i < 2000000; i++) {
            }
            bool quiet = *(volatile uint16_t *)&used.idx == at;
            puts_(done > 100 ? "completed many requests" : "completed few requests");
            puts_(errors ? ", some FAILED" : ", all ok");
            puts_(gone ? "; ejected with requests in flight, the slot is empty" : "; STILL THERE");
            puts_(quiet ? "; nothing written after eject\n" : "; USED RING WRITTEN AFTER EJECT\n");
            power_off(gone && quiet && !errors);
        }
#endif
        if ((spin & 0xffff) == 0 && !present()) {
            uint16_t at = *(volatile uint16_t *)&used.idx;
            for (volatile unsigned long i = 0; i < 2000000; i++) {
            }
            bool quiet = *(volatile uint16_t *)&used.idx == at;
            puts_(done > 100 ? "completed many requests" : "completed few requests");
            puts_(errors ? ", some FAILED" : ", all ok");
            puts_("; the disk was taken away while in use");
            puts_(quiet ? "; nothing written after removal\n" : "; USED RING WRITTEN AFTER REMOVAL\n");
            power_off(quiet && !errors);
        }
    }
}
