/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The demo guest, parvm's main job until Linux boots: a bare-metal program
 * for QEMU's riscv64 virt board (it runs unchanged on qemu-system-riscv64
 * -machine virt -bios none -kernel demo.elf).  Every hart says hello over
 * the UART, takes timer interrupts while sleeping in WFI, and counts with
 * atomic adds into one shared counter; hart 0 checks the total, reads the
 * goldfish RTC and powers the machine off (exit status 0), or exits with
 * status 1 if anything was wrong.
 */
#include "runtime.h"

#define TICKS 5                 /* timer interrupts per hart */
#define ADDS 100000             /* atomic adds per hart */

static uint32_t print_lock;     /* LR/SC spinlock around UART output */
static uint64_t counter;        /* amoadd target */
static uint32_t finished;       /* harts done counting */
static volatile uint32_t ticks[MAX_HARTS];

void guest_trap(uint64_t cause)
{
    uint64_t h = hartid();
    if (cause == (1ul << 63 | 7)) {             /* machine timer interrupt */
        ticks[h]++;
        mmio64(CLINT_MTIMECMP(h)) = ticks[h] < TICKS ? mmio64(CLINT_MTIME) + 10000 : ~0ul;
        return;
    }
    puts_("unexpected trap\n");
    power_off(false);
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    unsigned harts = count_harts(fdt);

    if (h >= MAX_HARTS) {
        return;
    }
    lock(&print_lock);
    puts_("hello from hart ");
    putu(h);
    puts_("\n");
    unlock(&print_lock);

    /* Timer interrupts every millisecond, sleeping in WFI in between. */
    mmio64(CLINT_MTIMECMP(h)) = mmio64(CLINT_MTIME) + 10000;
    __asm__ volatile("csrs mie, %0" ::"r"(1ul << 7));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1ul << 3));
    while (ticks[h] < TICKS) {
        __asm__ volatile("wfi");
    }
    __asm__ volatile("csrc mstatus, %0" ::"r"(1ul << 3));

    for (int i = 0; i < ADDS; i++) {
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);      /* amoadd.d */
    }
    __atomic_fetch_add(&finished, 1, __ATOMIC_RELEASE);
    if (h != 0) {
        return;
    }
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < harts) {
    }

    uint64_t lo = mmio32(RTC), hi = mmio32(RTC + 4);    /* TIME_LOW latches TIME_HIGH */
    uint64_t year = 1970 + ((hi << 32) | lo) / 1000000000ul / 31556952;
    bool ok = counter == (uint64_t)harts * ADDS && year >= 2024;
    lock(&print_lock);
    puts_(ok ? "all " : "FAILED: ");
    putu(harts);
    puts_(" harts took ");
    putu(TICKS);
    puts_(" timer interrupts each and counted to ");
    putu(counter);
    puts_("; the RTC says it is ");
    putu(year);
    puts_("\n");
    unlock(&print_lock);
    power_off(ok);
}
