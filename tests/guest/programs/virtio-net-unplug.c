/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hot-unplug of a virtio-net device with traffic in flight both ways
 * (tests/monitor/hotplug-net.py).  The guest finds the network device in
 * any slot, keeps its transmit ring full of frames for the host peer and
 * its receive ring full of buffers while the peer floods it over a -netdev
 * dgram, and polls parvm's hot-plug controller (docs/hotplug.md).  When
 * the host asks for the device it ejects at once, traffic still flowing:
 * when the EJECT store returns the slot must read as an empty transport
 * (magic "virt", DeviceID 0) and neither used ring may change afterwards.
 * Then it waits for the next device_add on the same netdev and does it all
 * again, CYCLES times, and powers off with success if every cycle moved
 * frames both ways and passed.
 * Built with -DIGNORE_EJECT: one cycle, the guest never ejects and keeps
 * the traffic going until the host's forced removal takes the device away.
 */
#include <stddef.h>

#include "runtime.h"
#include "virtio-mmio.h"

#ifndef CYCLES
#define CYCLES 50
#endif
#define HP 0x10200000ul
#define HP_EJECT_REQ 0x14
#define HP_EJECT 0x18
#define QSIZE 16
#define BUFSZ 2048
#define HDR 12
#define RXQ 0
#define TXQ 1

struct vq {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    VQ_AVAIL(QSIZE) avail __attribute__((aligned(2)));
    VQ_USED(QSIZE) used __attribute__((aligned(4)));
    uint16_t seen;
    uint8_t buf[QSIZE][BUFSZ] __attribute__((aligned(8)));
};

static struct vq rxq, txq;
static unsigned long base;

#define R(off) mmio32(base + (off))

void guest_trap(uint64_t cause)
{
    puts_("unexpected trap ");
    putu(cause);
    puts_("\n");
    power_off(false);
}

static bool present(void)
{
    return R(R_MAGIC) == VIRTIO_MMIO_MAGIC_VALUE && R(R_DEVICE_ID) == VIRTIO_ID_NET;
}

static void publish(struct vq *v, uint16_t head)
{
    v->avail.ring[v->avail.idx % QSIZE] = head;
    virtio_fence();
    v->avail.idx++;
    virtio_fence();
}

static bool queue_setup(unsigned q, struct vq *v)
{
    v->seen = 0;
    return virtio_mmio_queue(base, q, QSIZE, v->desc, &v->avail, &v->used);
}

static void tx_one(uint16_t i, uint32_t seq)
{
    uint8_t *f = txq.buf[i];
    unsigned len = 60 + seq % 1000;
    for (unsigned k = 0; k < HDR; k++) {
        f[k] = 0;
    }
    /* dst 52:55:0a:00:02:02, src 52:54:00:12:34:56, type 0x88b5, seq */
    static const uint8_t eth[14] = { 0x52, 0x55, 0x0a, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56,
                                     0x88, 0xb5 };
    for (unsigned k = 0; k < 14; k++) {
        f[HDR + k] = eth[k];
    }
    for (unsigned k = 14; k < len; k++) {
        f[HDR + k] = (uint8_t)(seq + k);
    }
    txq.desc[i] = (struct desc){ (uintptr_t)f, HDR + len, 0, 0 };
    publish(&txq, i);
}

/* Reset, negotiate VERSION_1 only, both queues, DRIVER_OK, every receive
 * buffer posted, the transmit ring filled.  False if the device refused. */
static bool setup(uint32_t *seq)
{
    uint64_t features;
    if (!virtio_mmio_negotiate(base, 1ull << F_VERSION_1, &features) ||
        !queue_setup(RXQ, &rxq) || !queue_setup(TXQ, &txq)) {
        return false;
    }
    virtio_mmio_driver_ok(base);
    for (uint16_t i = 0; i < QSIZE; i++) {
        rxq.desc[i] = (struct desc){ (uintptr_t)rxq.buf[i], BUFSZ, VQ_DESC_F_WRITE, 0 };
        publish(&rxq, i);
    }
    R(R_QUEUE_NOTIFY) = RXQ;
    for (uint16_t i = 0; i < QSIZE; i++) {
        tx_one(i, (*seq)++);
    }
    R(R_QUEUE_NOTIFY) = TXQ;
    return true;
}

/* Both used indices stay put for a while (the device is gone). */
static bool quiet(void)
{
    uint16_t rx = *(volatile uint16_t *)&rxq.used.idx, tx = *(volatile uint16_t *)&txq.used.idx;
    for (volatile unsigned long i = 0; i < 2000000; i++) {
    }
    return *(volatile uint16_t *)&rxq.used.idx == rx && *(volatile uint16_t *)&txq.used.idx == tx;
}

static void wait_for_device(void)
{
    for (;;) {
        for (unsigned s = 0; s < VIRTIO_MMIO_SLOTS; s++) {
            base = VIRTIO_MMIO_SLOT(s);
            if (present()) {
                return;
            }
        }
        for (volatile unsigned long i = 0; i < 10000; i++) {
        }
    }
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    (void)fdt;
    if (h != 0) {
        for (;;) {
            __asm__ volatile("wfi");
        }
    }
    uint32_t seq = 0;
    bool ok = true;
#ifdef IGNORE_EJECT
    const unsigned cycles = 1;
#else
    const unsigned cycles = CYCLES;
#endif
    for (unsigned c = 1; c <= cycles; c++) {
        wait_for_device();
#ifndef IGNORE_EJECT
        unsigned slot = (unsigned)((base - VIRTIO_MMIO_SLOT(0)) / 0x1000);
#endif
        if (!setup(&seq)) {
            puts_("FAIL: the device refused VERSION_1\n");
            power_off(false);
        }
        puts_("up ");
        putu(c);
        puts_("\n");
        uint64_t rx = 0, tx = 0;
        for (uint64_t spin = 0;; spin++) {
            uint16_t idx = *(volatile uint16_t *)&rxq.used.idx;
            bool kick = false;
            while (rxq.seen != idx) {
                virtio_fence();
                uint32_t id = rxq.used.ring[rxq.seen % QSIZE].id;
                rxq.seen++;
                rx++;
                if (id < QSIZE) {
                    publish(&rxq, (uint16_t)id);
                    kick = true;
                }
            }
            if (kick) {
                R(R_QUEUE_NOTIFY) = RXQ;
            }
            idx = *(volatile uint16_t *)&txq.used.idx;
            kick = false;
            while (txq.seen != idx) {
                virtio_fence();
                uint32_t id = txq.used.ring[txq.seen % QSIZE].id;
                txq.seen++;
                tx++;
                if (id < QSIZE) {
                    tx_one((uint16_t)id, seq++);
                    kick = true;
                }
            }
            if (kick) {
                R(R_QUEUE_NOTIFY) = TXQ;
            }
#ifndef IGNORE_EJECT
            if (mmio32(HP + HP_EJECT_REQ) & (1u << slot)) {
                /* Frames still in flight both ways: eject anyway. */
                mmio32(HP + HP_EJECT) = slot;
                bool gone = R(R_MAGIC) == VIRTIO_MMIO_MAGIC_VALUE && R(R_DEVICE_ID) == 0;
                bool still = quiet();
                bool moved = rx > 0 && tx > 0;
                puts_("cycle ");
                putu(c);
                puts_(moved ? ": frames moved both ways" : ": NO TRAFFIC");
                puts_(gone ? "; ejected, the slot is empty" : "; STILL THERE");
                puts_(still ? "; nothing written after eject" : "; USED RING WRITTEN AFTER EJECT");
                puts_(" [done]\n");
                ok = ok && gone && still && moved;
                break;
            }
#endif
            if ((spin & 0xffff) == 0 && !present()) {
                bool still = quiet();
                bool moved = rx > 0 && tx > 0;
                puts_(moved ? "frames moved both ways" : "NO TRAFFIC");
                puts_("; the device was taken away while in use");
                puts_(still ? "; nothing written after removal\n"
                            : "; USED RING WRITTEN AFTER REMOVAL\n");
                ok = ok && still && moved;
                break;
            }
        }
    }
    puts_(ok ? "all cycles ok\n" : "SOME CYCLE FAILED\n");
    power_off(ok);
}
