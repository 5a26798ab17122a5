/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark guest, built three times (bench/meson.build):
 *   -DBENCH_COMPUTE  a RAM-only integer loop, 10 instructions an iteration
 *   -DBENCH_MTIME    every hart reads the CLINT's mtime (a lockless register)
 *   -DBENCH_RTC      every hart reads the goldfish RTC's TIME_LOW
 * All harts start together (an atomic barrier), time themselves with mtime,
 * and hart 0 prints one line for bench/guest/run.sh:
 *   result NAME harts=H ops=TOTAL ticks=FIRST_START_TO_LAST_END
 * then powers off.  It runs unchanged on qemu-system-riscv64 -machine virt.
 */
#include "runtime.h"

#if defined(BENCH_COMPUTE)
#define NAME "compute"
#define OPS_PER_HART 100000000ul        /* iterations of 10 instructions */
#elif defined(BENCH_MTIME)
#define NAME "mtime"
#define OPS_PER_HART 10000000ul
#elif defined(BENCH_RTC)
#define NAME "rtc"
#define OPS_PER_HART 10000000ul
#else
#error "define BENCH_COMPUTE, BENCH_MTIME or BENCH_RTC"
#endif

static uint32_t arrived, finished;
static uint64_t started[MAX_HARTS], ended[MAX_HARTS];
static volatile uint64_t sink;

void guest_trap(uint64_t cause)
{
    (void)cause;
    puts_("unexpected trap\n");
    power_off(false);
}

static uint64_t work(uint64_t n)
{
#if defined(BENCH_COMPUTE)
    uint64_t a = 1, b = 2, c = 3, d = 4;
    __asm__ volatile("1: add  %0, %0, %1\n"
                     "   xor  %1, %1, %2\n"
                     "   addi %2, %2, 7\n"
                     "   slli %3, %0, 3\n"
                     "   sub  %0, %0, %3\n"
                     "   or   %1, %1, %3\n"
                     "   srli %2, %2, 1\n"
                     "   add  %3, %3, %2\n"
                     "   addi %4, %4, -1\n"
                     "   bnez %4, 1b\n"
                     : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(n));
    return a ^ b ^ c ^ d;
#else
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
#if defined(BENCH_MTIME)
        sum += mmio64(CLINT_MTIME);
#else
        sum += mmio32(RTC);
#endif
    }
    return sum;
#endif
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    unsigned harts = count_harts(fdt);

    if (h >= MAX_HARTS) {
        return;
    }
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < harts) {
    }
    started[h] = mmio64(CLINT_MTIME);
    sink = work(OPS_PER_HART);
    ended[h] = mmio64(CLINT_MTIME);
    __atomic_fetch_add(&finished, 1, __ATOMIC_RELEASE);
    if (h != 0) {
        return;
    }
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < harts) {
    }
    /* The whole span, not the slowest hart's own time: harts that did not
     * really overlap must not look parallel. */
    uint64_t first = ~0ul, last = 0;
    for (unsigned i = 0; i < harts && i < MAX_HARTS; i++) {
        first = started[i] < first ? started[i] : first;
        last = ended[i] > last ? ended[i] : last;
    }
    uint64_t slowest = last - first;
    puts_("result " NAME " harts=");
    putu(harts);
    puts_(" ops=");
    putu(OPS_PER_HART * harts);
    puts_(" ticks=");
    putu(slowest);
    puts_("\n");
    power_off(true);
}
