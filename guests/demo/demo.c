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
#include <stdbool.h>
#include <stdint.h>

#define UART 0x10000000ul
#define TEST 0x100000ul
#define RTC 0x101000ul
#define CLINT_MTIMECMP(h) (0x2004000ul + 8 * (h))
#define CLINT_MTIME 0x200bff8ul
#define TICKS 5                 /* timer interrupts per hart */
#define ADDS 100000             /* atomic adds per hart */
#define MAX_HARTS 64

#define mmio32(a) (*(volatile uint32_t *)(a))
#define mmio64(a) (*(volatile uint64_t *)(a))

static uint32_t print_lock;     /* LR/SC spinlock around UART output */
static uint64_t counter;        /* amoadd target */
static uint32_t finished;       /* harts done counting */
static volatile uint32_t ticks[MAX_HARTS];

static void lock(uint32_t *l)
{
    uint32_t busy;
    do {
        __asm__ volatile("1: lr.w.aq %0, (%1)\n"
                         "   bnez %0, 1b\n"
                         "   li %0, 1\n"
                         "   sc.w.rl %0, %0, (%1)\n"
                         : "=&r"(busy) : "r"(l) : "memory");
    } while (busy);
}

static void unlock(uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static void putc_(char c)
{
    while (!(*(volatile uint8_t *)(UART + 5) & 0x20)) {   /* LSR.THRE */
    }
    *(volatile uint8_t *)UART = (uint8_t)c;
}

static void puts_(const char *s)
{
    while (*s) {
        putc_(*s++);
    }
}

static void putu(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        putc_(buf[--n]);
    }
}

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Harts in the device tree: the cpu@N nodes under /cpus. */
static unsigned count_harts(const uint8_t *fdt)
{
    if (be32(fdt) != 0xd00dfeed) {
        return 1;
    }
    const uint8_t *p = fdt + be32(fdt + 8);     /* structure block */
    unsigned depth = 0, harts = 0;
    bool in_cpus = false;
    for (;;) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == 1) {                         /* FDT_BEGIN_NODE */
            const char *name = (const char *)p;
            depth++;
            if (depth == 2) {
                in_cpus = name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == 's' &&
                          name[4] == 0;
            } else if (depth == 3 && in_cpus && name[0] == 'c' && name[1] == 'p' &&
                       name[2] == 'u' && name[3] == '@') {
                harts++;
            }
            while (*p) {
                p++;
            }
            p = (const uint8_t *)(((uintptr_t)p + 4) & ~3ul);
        } else if (tok == 2) {                  /* FDT_END_NODE */
            depth--;
        } else if (tok == 3) {                  /* FDT_PROP: len, nameoff, value */
            p += 8 + ((be32(p) + 3) & ~3u);
        } else if (tok == 4) {                  /* FDT_NOP */
        } else {                                /* FDT_END or garbage */
            break;
        }
    }
    return harts ? harts : 1;
}

static uint64_t hartid(void)
{
    uint64_t h;
    __asm__ volatile("csrr %0, mhartid" : "=r"(h));
    return h;
}

void demo_trap(uint64_t cause)
{
    uint64_t h = hartid();
    if (cause == (1ul << 63 | 7)) {             /* machine timer interrupt */
        ticks[h]++;
        mmio64(CLINT_MTIMECMP(h)) = ticks[h] < TICKS ? mmio64(CLINT_MTIME) + 10000 : ~0ul;
        return;
    }
    puts_("unexpected trap\n");
    mmio32(TEST) = (1u << 16) | 0x3333;         /* exit status 1 */
}

static void power_off(bool ok)
{
    mmio32(TEST) = ok ? 0x5555 : (1u << 16) | 0x3333;
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void demo_main(uint64_t h, const uint8_t *fdt)
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
    uint64_t secs = ((hi << 32) | lo) / 1000000000ul;
    uint64_t year = 1970 + secs / 31556952;             /* mean Gregorian year */
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
