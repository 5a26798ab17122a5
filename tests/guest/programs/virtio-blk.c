/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bare-metal virtio-blk driver (virtio 1.2, virtio-mmio Version 2, split
 * queue, polled).  It scans the eight virtio-mmio slots and, for every
 * block device (DeviceID 2), negotiates features, sets up queue 0, reads
 * the config, then: writes known patterns to a few sectors, flushes, reads
 * them back and compares, zeroes one sector with WRITE_ZEROES, reads the
 * serial with GET_ID, and checks that reads past the end get IOERR and an
 * unknown request type UNSUPP.  A read-only disk must refuse the write.
 * Everything it prints must be the same on qemu-system-riscv64 (run with
 * -global virtio-mmio.force-legacy=false); the test script also checks the
 * disk image's bytes afterwards.
 *
 * Pattern of sector S, byte i: (S * 7 + i) & 0xff, with sector 1 zeroed by
 * WRITE_ZEROES at the end of the writable disk's sequence.
 */
#include <stddef.h>

#include "runtime.h"
#include "virtio-mmio.h"

#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13

#define QSIZE 8

static struct desc desc[QSIZE] __attribute__((aligned(16)));
static VQ_AVAIL(QSIZE) avail __attribute__((aligned(2)));
static VQ_USED(QSIZE) used __attribute__((aligned(4)));

static struct {
    uint32_t type, reserved;
    uint64_t sector;
} hdr;
static uint8_t status;
static uint8_t buf[4096] __attribute__((aligned(8)));
static uint16_t used_seen;
static unsigned long base;
static bool failed;

#define reg(off) mmio32(base + (off))

static void say(const char *s) { puts_(s); }
static void sayu(const char *a, uint64_t v, const char *b)
{
    puts_(a);
    putu(v);
    puts_(b);
}

/*
 * One request: header, optional data (device-writable for IN and GET_ID),
 * status.  Returns the status byte; *@used_len gets the used length.
 */
static int request(uint32_t type, uint64_t sector, void *data, uint32_t len, bool data_in,
                   uint32_t *used_len)
{
    unsigned n = 0;
    hdr.type = type;
    hdr.reserved = 0;
    hdr.sector = sector;
    status = 0xee;
    desc[n] = (struct desc){ (uint64_t)(uintptr_t)&hdr, sizeof(hdr), 1, 1 };
    n++;
    if (len) {
        desc[n] = (struct desc){ (uint64_t)(uintptr_t)data, len, (uint16_t)(1 | (data_in ? 2 : 0)),
                                 2 };
        n++;
    }
    desc[n] = (struct desc){ (uint64_t)(uintptr_t)&status, 1, 2, 0 };
    desc[n - 1].next = (uint16_t)n;
    avail.ring[avail.idx % QSIZE] = 0;
    virtio_fence();
    avail.idx++;
    virtio_fence();
    reg(R_QUEUE_NOTIFY) = 0;
    for (unsigned long spin = 0; *(volatile uint16_t *)&used.idx == used_seen; spin++) {
        if (spin > 400000000ul) {
            say("  request timed out\n");
            failed = true;
            return -1;
        }
    }
    virtio_fence();
    struct used_elem *u = &used.ring[used_seen % QSIZE];
    if (used_len) {
        *used_len = u->len;
    }
    used_seen++;
    reg(R_ISR_ACK) = reg(R_ISR);
    return *(volatile uint8_t *)&status;
}

static uint8_t pattern(uint64_t sector, unsigned i)
{
    return (uint8_t)(sector * 7 + i);
}

static void fill(uint64_t sector, unsigned nsect)
{
    for (unsigned s = 0; s < nsect; s++) {
        for (unsigned i = 0; i < 512; i++) {
            buf[s * 512 + i] = pattern(sector + s, i);
        }
    }
}

static bool check(uint64_t sector, unsigned nsect, bool zero)
{
    for (unsigned s = 0; s < nsect; s++) {
        for (unsigned i = 0; i < 512; i++) {
            if (buf[s * 512 + i] != (zero ? 0 : pattern(sector + s, i))) {
                return false;
            }
        }
    }
    return true;
}

static void expect(const char *what, int got, int want)
{
    say("  ");
    say(what);
    sayu(": status ", (uint64_t)got, got == want ? "\n" : " (WRONG)\n");
    if (got != want) {
        failed = true;
    }
}

static bool setup(uint64_t *features)
{
    uint64_t want = (1ull << F_VERSION_1) | (1ull << F_SEG_MAX) | (1ull << F_BLK_SIZE) |
                    (1ull << F_FLUSH) | (1ull << F_RO) | (1ull << F_WRITE_ZEROES) |
                    (1ull << F_DISCARD);
    switch (virtio_mmio_setup(base, want, features, QSIZE, desc, &avail, &used)) {
    case VIRTIO_SETUP_OK:
        used_seen = 0;
        return true;
    case VIRTIO_SETUP_FEATURES_REFUSED:
        say("  FEATURES_OK refused\n");
        return false;
    case VIRTIO_SETUP_QUEUE_UNUSABLE:
        break;
    }
    say("  queue 0 unusable\n");
    return false;
}

static void test_disk(unsigned slot)
{
    uint64_t f;
    uint32_t ulen;
    base = VIRTIO_MMIO_SLOT(slot);
    sayu("slot ", slot, ": virtio-blk");
    sayu(", version ", reg(R_VERSION), "\n");
    if (!setup(&f)) {
        failed = true;
        return;
    }
    bool ro = f & (1ull << F_RO);
    uint64_t cap = mmio32(base + R_CONFIG) | (uint64_t)mmio32(base + R_CONFIG + 4) << 32;
    sayu("  capacity ", cap, " sectors");
    sayu(", blk_size ", mmio32(base + R_CONFIG + 20), "");
    sayu(", seg_max ", mmio32(base + R_CONFIG + 12), "");
    say(ro ? ", read-only" : ", read-write");
    say(f & (1ull << F_FLUSH) ? ", flush" : ", NO FLUSH");
    say(f & (1ull << F_WRITE_ZEROES) ? ", write-zeroes\n" : "\n");

    static const uint64_t sectors[] = { 0, 1, 7, 100 };
    if (!ro) {
        for (unsigned i = 0; i < 4; i++) {
            fill(sectors[i], 1);
            sayu("  write sector ", sectors[i], "");
            expect("", request(T_OUT, sectors[i], buf, 512, false, NULL), 0);
        }
        fill(10, 8);
        expect("write sectors 10-17", request(T_OUT, 10, buf, 8 * 512, false, NULL), 0);
        expect("flush", request(T_FLUSH, 0, 0, 0, false, &ulen), 0);
        sayu("  flush used len ", ulen, "\n");
    } else {
        fill(0, 1);
        expect("write to the read-only disk (IOERR)",
               request(T_OUT, 0, buf, 512, false, NULL), 1);
    }
    for (unsigned i = 0; i < 4; i++) {
        for (unsigned j = 0; j < 512; j++) {
            buf[j] = 0xcc;
        }
        int st = request(T_IN, sectors[i], buf, 512, true, &ulen);
        sayu("  read sector ", sectors[i], "");
        sayu(": status ", (uint64_t)st, "");
        sayu(", used len ", ulen, check(sectors[i], 1, false) ? ", pattern ok\n" : ", no pattern\n");
        if (!ro && (st != 0 || !check(sectors[i], 1, false))) {
            failed = true;
        }
    }
    int st = request(T_IN, 10, buf, 8 * 512, true, NULL);
    sayu("  read sectors 10-17: status ", (uint64_t)st,
         check(10, 8, false) ? ", pattern ok\n" : ", no pattern\n");
    if (!ro && (f & (1ull << F_WRITE_ZEROES))) {
        /* One segment: sector 1, one sector, no unmap. */
        static struct { uint64_t sector; uint32_t num, flags; } seg = { 1, 1, 0 };
        expect("write-zeroes sector 1", request(T_WRITE_ZEROES, 0, &seg, sizeof(seg), false, NULL), 0);
        request(T_IN, 1, buf, 512, true, NULL);
        say(check(1, 1, true) ? "  sector 1 reads zeros\n" : "  sector 1 NOT ZERO\n");
        failed |= !check(1, 1, true);
        fill(1, 1);
        expect("rewrite sector 1", request(T_OUT, 1, buf, 512, false, NULL), 0);
    }

    char id[21] = { 0 };
    for (unsigned i = 0; i < 20; i++) {
        id[i] = 'X';
    }
    expect("get-id", request(T_GET_ID, 0, id, 20, true, &ulen), 0);
    id[20] = 0;
    say("  serial '");
    say(id);
    sayu("', used len ", ulen, "\n");

    expect("read at the capacity (IOERR)", request(T_IN, cap, buf, 512, true, NULL), 1);
    expect("read across the end (IOERR)", request(T_IN, cap - 1, buf, 1024, true, NULL), 1);
    expect("unknown request type (UNSUPP)", request(99, 0, buf, 512, true, NULL), 2);
    reg(R_STATUS) = 0;
    sayu("  after reset: status ", reg(R_STATUS), "");
    sayu(", queue ready ", (reg(R_QUEUE_SEL) = 0, reg(R_QUEUE_READY)), "\n");
}

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
    for (int i = virtio_mmio_find(VIRTIO_ID_BLOCK, 0); i >= 0;
         i = virtio_mmio_find(VIRTIO_ID_BLOCK, (unsigned)i + 1)) {
        test_disk((unsigned)i);
        found++;
    }
    sayu("virtio-blk disks: ", found, failed ? ", FAILED\n" : ", all checks passed\n");
    power_off(!failed && found > 0);
}
