/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bare-metal hot-plug driver for parvm's controller (docs/hotplug.md) and
 * its test device.  Hart 0 takes the controller's interrupt: for a plugged
 * slot it acknowledges, checks the device's ID and lets the other harts use
 * it; for an eject request it makes them stop, waits until they have, and
 * writes EJECT, after which the slot must read as the empty virtio-mmio
 * transport again (G1, as the guest sees it).  The other harts hammer the
 * live slots' lockless counter, locked VALUE register and DMA doorbell
 * meanwhile; before ejecting, hart 0 checks that the counts add up (G3):
 * the device's COUNTER equals the writes the harts made, and its DMA
 * sequence number the doorbells they rang.
 * Built twice: -DIGNORE_EJECT makes a guest that never ejects (the host's
 * forced removal path).
 */
#include "runtime.h"

#define PLIC 0xc000000ul
#define HP 0x10200000ul
#define HP_IRQ 12
#define SLOT(i) (0x10001000ul + 0x1000ul * (i))
#define NSLOTS 8

static uint32_t print_lock;
static volatile uint32_t live;          /* bit i: slot i may be used */
static volatile uint32_t using_[MAX_HARTS];  /* bit i: hart is inside slot i */
static volatile uint64_t hammered[MAX_HARTS];
/* Per hart and slot, for the current device in the slot; reset at plug. */
static volatile uint32_t writes[MAX_HARTS][NSLOTS], rings[MAX_HARTS][NSLOTS];
/* Where each slot's device DMAs: value, then sequence number. */
static volatile uint32_t dmabuf[NSLOTS][2] __attribute__((aligned(8)));

#define TD_COUNTER 0x04
#define TD_VALUE 0x100
#define TD_DMA_LO 0x200
#define TD_DMA_HI 0x204
#define TD_DOORBELL 0x208

static void say(const char *a, unsigned slot, const char *b)
{
    lock(&print_lock);
    puts_(a);
    putu(slot);
    puts_(b);
    unlock(&print_lock);
}

static __attribute__((unused)) void quiesce(unsigned slot, unsigned harts)
{
    __atomic_and_fetch(&live, ~(1u << slot), __ATOMIC_SEQ_CST);
    for (unsigned h = 1; h < harts; h++) {
        while (__atomic_load_n(&using_[h], __ATOMIC_SEQ_CST) & (1u << slot)) {
        }
    }
}

static unsigned nharts;

/* G3: every access the harts made to the live device took effect whole. */
static __attribute__((unused)) void check_counts(unsigned slot)
{
    uint32_t w = 0, r = 0;

    for (unsigned h = 1; h < nharts; h++) {
        w += writes[h][slot];
        r += rings[h][slot];
    }
    uint32_t counter = mmio32(SLOT(slot) + TD_COUNTER);
    if (counter != w || dmabuf[slot][1] != r) {
        say("slot ", slot, ": COUNTS DO NOT ADD UP\n");
    }
}

void guest_trap(uint64_t cause)
{
    if (cause != (1ul << 63 | 11)) {
        uint64_t epc, tval;
        __asm__ volatile("csrr %0, mepc" : "=r"(epc));
        __asm__ volatile("csrr %0, mtval" : "=r"(tval));
        lock(&print_lock);
        puts_("unexpected trap: hart ");
        putu(hartid());
        puts_(" cause ");
        putu(cause);
        puts_(" mepc ");
        putu(epc);
        puts_(" mtval ");
        putu(tval);
        puts_("\n");
        unlock(&print_lock);
        power_off(false);
    }
    uint32_t src = mmio32(PLIC + 0x200004);
    if (src == HP_IRQ) {
        uint32_t ins = mmio32(HP + 0x10), ej = mmio32(HP + 0x14);
        for (unsigned i = 0; i < NSLOTS; i++) {
            if (ins & (1u << i)) {
                mmio32(HP + 0x10) = 1u << i;                    /* acknowledge */
                uint32_t id = mmio32(SLOT(i));
                say("slot ", i, id == 0x74737470 ? ": testdev plugged\n" : ": unknown device\n");
                if (id == 0x74737470) {
                    for (unsigned h = 0; h < MAX_HARTS; h++) {
                        writes[h][i] = rings[h][i] = 0;
                    }
                    dmabuf[i][0] = dmabuf[i][1] = 0;
                    mmio32(SLOT(i) + TD_DMA_LO) = (uint32_t)(uintptr_t)dmabuf[i];
                    mmio32(SLOT(i) + TD_DMA_HI) = (uint32_t)((uintptr_t)dmabuf[i] >> 32);
                    __atomic_or_fetch(&live, 1u << i, __ATOMIC_SEQ_CST);
                }
            }
#ifndef IGNORE_EJECT
            if (ej & (1u << i)) {
                /* Let the harts get some work in first (bounded). */
                for (unsigned n = 0; n < 2000000 && mmio32(SLOT(i) + TD_COUNTER) < 32; n++) {
                }
                quiesce(i, nharts);
                check_counts(i);
                mmio32(HP + 0x18) = i;                          /* eject: gone on return */
                uint32_t magic = mmio32(SLOT(i));
                say("slot ", i, magic == 0x74726976 ? ": ejected, the slot is empty again\n"
                                                     : ": STILL THERE after eject\n");
            }
#else
            (void)ej;
#endif
        }
    }
    mmio32(PLIC + 0x200004) = src;
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    if (h >= MAX_HARTS) {
        return;
    }
    if (h == 0) {
        nharts = count_harts(fdt);
        mmio32(PLIC + 4 * HP_IRQ) = 1;
        mmio32(PLIC + 0x2000) = 1u << HP_IRQ;
        mmio32(PLIC + 0x200000) = 0;
        __asm__ volatile("csrs mie, %0" ::"r"(1ul << 11));
        __asm__ volatile("csrs mstatus, %0" ::"r"(1ul << 3));
        puts_("hotplug driver ready\n");
        for (;;) {
            __asm__ volatile("wfi");
        }
    }
    /* With 4 harts or more the last one is a rogue: it reads every slot
     * all the time, live or not, so that reads race each removal (G1: the
     * device's tripwire aborts parvm if one reaches a removed device).
     * Reads change no count, so the G3 check still holds. */
    unsigned n = count_harts(fdt);
    if (n >= 4 && h == n - 1) {
        for (;;) {
            for (unsigned i = 0; i < NSLOTS; i++) {
                (void)mmio32(SLOT(i) + TD_COUNTER);
                (void)mmio32(SLOT(i) + TD_VALUE);
            }
        }
    }
    /* Other harts: use every live slot, announcing it first. */
    for (;;) {
        for (unsigned i = 0; i < NSLOTS; i++) {
            __atomic_or_fetch(&using_[h], 1u << i, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&live, __ATOMIC_SEQ_CST) & (1u << i)) {
                mmio32(SLOT(i) + TD_COUNTER) = 1;               /* lockless */
                writes[h][i]++;
                mmio32(SLOT(i) + TD_VALUE) = (uint32_t)hammered[h];  /* device lock */
                if ((hammered[h] & 3) == 0) {
                    mmio32(SLOT(i) + TD_DOORBELL) = (uint32_t)h;    /* DMA, device lock */
                    rings[h][i]++;
                }
                hammered[h]++;
            }
            __atomic_and_fetch(&using_[h], ~(1u << i), __ATOMIC_SEQ_CST);
        }
    }
}
