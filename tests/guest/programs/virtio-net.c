/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bare-metal virtio-net driver (virtio 1.2, virtio-mmio Version 2, split
 * queues, polled).  It finds the network device (DeviceID 1) among the
 * eight virtio-mmio slots, negotiates VERSION_1 | MAC | STATUS, reads the
 * MAC and link status, posts receive buffers, then:
 *   1. sends TX_FRAMES UDP-in-ethernet frames (10.0.2.15:1234 ->
 *      10.0.2.2:5555, payload "parvm-net tx NNNN" + a pattern) to the
 *      host peer (tests/guest/virtio-net-peer.py), which checks them;
 *   2. echoes ECHO_FRAMES frames the peer sends back to it unchanged,
 *      checking their sequence numbers (order) and header.
 * Everything it prints must be the same on qemu-system-riscv64 (run with
 * -global virtio-mmio.force-legacy=false and the same -netdev).
 *
 * Built with -DBENCH_NET (bench/net/run.py) it instead sends BENCH_TX
 * frames of BENCH_LEN bytes as fast as the ring allows, then receives
 * BENCH_RX frames and answers with one last frame: the host times both.
 */
#include <stddef.h>

#include "runtime.h"
#include "virtio-mmio.h"

#define F_MAC 5
#define F_STATUS 16

#define QSIZE 16
#define BUFSZ 2048
#define HDR 12
#define TX_FRAMES 64
#define ECHO_FRAMES 64

struct vq {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    VQ_AVAIL(QSIZE) avail __attribute__((aligned(2)));
    VQ_USED(QSIZE) used __attribute__((aligned(4)));
    uint16_t used_seen;
    uint8_t buf[QSIZE][BUFSZ] __attribute__((aligned(8)));
};

static struct vq rxq, txq;
static unsigned long base;
static bool failed;
static uint8_t mac[6];

#define reg(off) mmio32(base + (off))

static void say(const char *s) { puts_(s); }
static void sayu(const char *a, uint64_t v, const char *b)
{
    puts_(a);
    putu(v);
    puts_(b);
}

static void puthex2(uint8_t b)
{
    static const char hex[] = "0123456789abcdef";
    putc_(hex[b >> 4]);
    putc_(hex[b & 15]);
}

static bool queue_setup(unsigned q, struct vq *v)
{
    v->used_seen = 0;
    return virtio_mmio_queue(base, q, QSIZE, v->desc, &v->avail, &v->used);
}

static void rx_post(uint16_t i)
{
    rxq.desc[i] = (struct desc){ (uint64_t)(uintptr_t)rxq.buf[i], BUFSZ, 2 /* WRITE */, 0 };
    rxq.avail.ring[rxq.avail.idx % QSIZE] = i;
    virtio_fence();
    rxq.avail.idx++;
    virtio_fence();
}

static bool setup(void)
{
    uint64_t want = (1ull << F_VERSION_1) | (1ull << F_MAC) | (1ull << F_STATUS), features;
    if (!virtio_mmio_negotiate(base, want, &features)) {
        say("  FEATURES_OK refused\n");
        return false;
    }
    if (features != want) {
        say("  device lacks VERSION_1, MAC or STATUS\n");
        return false;
    }
    for (unsigned q = 0; q < 2; q++) {
        if (!queue_setup(q, q == 0 ? &rxq : &txq)) {
            sayu("  queue ", q, " unusable\n");
            return false;
        }
    }
    for (unsigned i = 0; i < 6; i++) {
        mac[i] = *(volatile uint8_t *)(base + R_CONFIG + i);
    }
    say("  mac ");
    for (unsigned i = 0; i < 6; i++) {
        puthex2(mac[i]);
        putc_(i < 5 ? ':' : ',');
    }
    sayu(" link status ", *(volatile uint16_t *)(base + R_CONFIG + 6), "\n");
    for (uint16_t i = 0; i < QSIZE; i++) {
        rx_post(i);
    }
    virtio_mmio_driver_ok(base);
    reg(R_QUEUE_NOTIFY) = 0;
    return true;
}

/* Send @len bytes from txq.buf[slot] + HDR (header zeroed here); wait until
 * the device has used it. */
static bool tx(uint16_t slot, uint32_t len)
{
    for (unsigned i = 0; i < HDR; i++) {
        txq.buf[slot][i] = 0;
    }
    txq.desc[slot] = (struct desc){ (uint64_t)(uintptr_t)txq.buf[slot], HDR + len, 0, 0 };
    txq.avail.ring[txq.avail.idx % QSIZE] = slot;
    virtio_fence();
    txq.avail.idx++;
    virtio_fence();
    reg(R_QUEUE_NOTIFY) = 1;
    for (unsigned long spin = 0; *(volatile uint16_t *)&txq.used.idx == txq.used_seen; spin++) {
        if (spin > 400000000ul) {
            say("  transmit timed out\n");
            return false;
        }
    }
    virtio_fence();
    txq.used_seen++;
    reg(R_ISR_ACK) = reg(R_ISR);
    return true;
}

/* Wait for a received frame; returns its buffer index and length (without
 * the header), or -1. */
static __attribute__((unused)) int rx(uint32_t *len)
{
    for (unsigned long spin = 0; *(volatile uint16_t *)&rxq.used.idx == rxq.used_seen; spin++) {
        if (spin > 2000000000ul) {
            say("  receive timed out\n");
            return -1;
        }
    }
    virtio_fence();
    uint32_t id = rxq.used.ring[rxq.used_seen % QSIZE].id;
    uint32_t l = rxq.used.ring[rxq.used_seen % QSIZE].len;
    rxq.used_seen++;
    reg(R_ISR_ACK) = reg(R_ISR);
    if (id >= QSIZE || l < HDR || l > BUFSZ) {
        sayu("  bad used entry: id ", id, "");
        sayu(" len ", l, "\n");
        return -1;
    }
    *len = l - HDR;
    return (int)id;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* eth + IPv4 + UDP + "parvm-net tx NNNN" + pattern, into @f; its length. */
static uint32_t build_frame(uint8_t *f, unsigned seq)
{
    static const uint8_t host_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
#ifdef BENCH_NET
    unsigned plen = BENCH_LEN - 42;
#else
    unsigned plen = 64 + seq * 11;   /* 64 .. 757 bytes of payload */
#endif
    uint8_t *ip = f + 14, *udp = ip + 20, *pl = udp + 8;

    for (unsigned i = 0; i < 6; i++) {
        f[i] = host_mac[i];
        f[6 + i] = mac[i];
    }
    put16(f + 12, 0x0800);
    for (unsigned i = 0; i < 20; i++) {
        ip[i] = 0;
    }
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 8 + plen));
    put16(ip + 4, (uint16_t)seq);
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10, ip[13] = 0, ip[14] = 2, ip[15] = 15;
    ip[16] = 10, ip[17] = 0, ip[18] = 2, ip[19] = 2;
    uint32_t sum = 0;
    for (unsigned i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(ip + 10, (uint16_t)~sum);
    put16(udp, 1234);
    put16(udp + 2, 5555);
    put16(udp + 4, (uint16_t)(8 + plen));
    put16(udp + 6, 0);
    const char *tag = "parvm-net tx ";
    unsigned n = 0;
    while (tag[n]) {
        pl[n] = (uint8_t)tag[n];
        n++;
    }
    pl[n++] = (uint8_t)('0' + seq / 1000 % 10);
    pl[n++] = (uint8_t)('0' + seq / 100 % 10);
    pl[n++] = (uint8_t)('0' + seq / 10 % 10);
    pl[n++] = (uint8_t)('0' + seq % 10);
    for (; n < plen; n++) {
        pl[n] = (uint8_t)(seq * 7 + n);
    }
    return 14 + 20 + 8 + plen;
}

#ifdef BENCH_NET
#ifndef BENCH_LEN
#define BENCH_LEN 64
#endif
#define BENCH_TX 100000u
#define BENCH_RX 100000u

/* Keep the transmit ring full: fill free slots, kick once per batch,
 * reclaim what the device used. */
static void bench_tx(void)
{
    unsigned sent = 0, done = 0;
    for (unsigned s = 0; s < QSIZE; s++) {
        uint32_t len = build_frame(txq.buf[s] + HDR, 0);
        (void)len;
        for (unsigned i = 0; i < HDR; i++) {
            txq.buf[s][i] = 0;
        }
        txq.desc[s] = (struct desc){ (uint64_t)(uintptr_t)txq.buf[s], HDR + BENCH_LEN, 0, 0 };
    }
    while (done < BENCH_TX) {
        bool added = false;
        while (sent < BENCH_TX && sent - done < QSIZE) {
            txq.avail.ring[txq.avail.idx % QSIZE] = (uint16_t)(sent % QSIZE);
            virtio_fence();
            txq.avail.idx++;
            sent++;
            added = true;
        }
        if (added) {
            virtio_fence();
            reg(R_QUEUE_NOTIFY) = 1;
        }
        while (*(volatile uint16_t *)&txq.used.idx == txq.used_seen) {
        }
        virtio_fence();
        while (txq.used_seen != *(volatile uint16_t *)&txq.used.idx) {
            txq.used_seen++;
            done++;
        }
    }
}

static void bench_rx(void)
{
    for (unsigned got = 0; got < BENCH_RX;) {
        while (*(volatile uint16_t *)&rxq.used.idx == rxq.used_seen) {
        }
        virtio_fence();
        while (rxq.used_seen != *(volatile uint16_t *)&rxq.used.idx) {
            uint16_t id = (uint16_t)rxq.used.ring[rxq.used_seen % QSIZE].id;
            rxq.used_seen++;
            rx_post(id % QSIZE);
            got++;
        }
        reg(R_QUEUE_NOTIFY) = 0;
    }
    tx(0, build_frame(txq.buf[0] + HDR, 1));   /* "done" */
}

static void test_nic(unsigned slot)
{
    base = VIRTIO_MMIO_SLOT(slot);
    if (!setup()) {
        failed = true;
        return;
    }
    bench_tx();
    bench_rx();
    say("bench done\n");
}
#else
static void test_nic(unsigned slot)
{
    base = VIRTIO_MMIO_SLOT(slot);
    sayu("slot ", slot, ": virtio-net");
    sayu(", version ", reg(R_VERSION), "\n");
    if (!setup()) {
        failed = true;
        return;
    }
    /* 1. Guest -> host. */
    unsigned sent = 0;
    for (unsigned i = 0; i < TX_FRAMES; i++) {
        uint16_t s = (uint16_t)(i % QSIZE);
        if (!tx(s, build_frame(txq.buf[s] + HDR, i))) {
            failed = true;
            break;
        }
        sent++;
    }
    sayu("  sent ", sent, " frames\n");

    /* 2. Host -> guest, echoed back.  The peer numbers them in bytes
     * 14..17 (big-endian) after a 14-byte ethernet header. */
    unsigned echoed = 0, bad = 0;
    for (unsigned i = 0; i < ECHO_FRAMES; i++) {
        uint32_t len;
        int id = rx(&len);
        if (id < 0) {
            failed = true;
            break;
        }
        uint8_t *f = rxq.buf[id];
        uint32_t seq = (uint32_t)f[HDR + 14] << 24 | (uint32_t)f[HDR + 15] << 16 |
                       (uint32_t)f[HDR + 16] << 8 | f[HDR + 17];
        /* virtio_net_hdr: flags 0, gso NONE, num_buffers 1 (or 0 on a
         * legacy-style device: not ours). */
        if (seq != i || len < 18 || f[0] != 0 || f[1] != 0) {
            if (bad++ < 4) {
                sayu("  frame ", i, "");
                sayu(": seq ", seq, "");
                sayu(" len ", len, " (WRONG)\n");
            }
        }
        uint16_t s = (uint16_t)(i % QSIZE);
        for (uint32_t k = 0; k < len; k++) {
            txq.buf[s][HDR + k] = f[HDR + k];
        }
        rx_post((uint16_t)id);
        reg(R_QUEUE_NOTIFY) = 0;
        if (!tx(s, len)) {
            failed = true;
            break;
        }
        echoed++;
    }
    sayu("  echoed ", echoed, "");
    sayu(" frames, ", bad, " out of order or malformed\n");
    failed |= bad != 0 || echoed != ECHO_FRAMES || sent != TX_FRAMES;
    reg(R_STATUS) = 0;
    sayu("  after reset: status ", reg(R_STATUS), "\n");
}
#endif

void guest_trap(uint64_t cause)
{
    sayu("unexpected trap ", cause, "\n");
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
    unsigned found = 0;
    for (int i = virtio_mmio_find(VIRTIO_ID_NET, 0); i >= 0;
         i = virtio_mmio_find(VIRTIO_ID_NET, (unsigned)i + 1)) {
        test_nic((unsigned)i);
        found++;
    }
    sayu("virtio-net devices: ", found, failed ? ", FAILED\n" : ", all checks passed\n");
    power_off(!failed && found > 0);
}
