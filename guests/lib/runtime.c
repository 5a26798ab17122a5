/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runtime.h"

void lock(uint32_t *l)
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

void unlock(uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

void putc_(char c)
{
    while (!(*(volatile uint8_t *)(UART + 5) & 0x20)) {   /* LSR.THRE */
    }
    *(volatile uint8_t *)UART = (uint8_t)c;
}

void puts_(const char *s)
{
    while (*s) {
        putc_(*s++);
    }
}

void putu(uint64_t v)
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

uint64_t hartid(void)
{
    uint64_t h;
    __asm__ volatile("csrr %0, mhartid" : "=r"(h));
    return h;
}

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool name_is(const char *name, const char *want, bool prefix)
{
    while (*want) {
        if (*name++ != *want++) {
            return false;
        }
    }
    return prefix || *name == 0;
}

unsigned count_harts(const uint8_t *fdt)
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
                in_cpus = name_is(name, "cpus", false);
            } else if (depth == 3 && in_cpus && name_is(name, "cpu@", true)) {
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
        } else if (tok != 4) {                  /* not FDT_NOP: FDT_END or garbage */
            break;
        }
    }
    return harts ? harts : 1;
}

void power_off(bool ok)
{
    mmio32(TEST) = ok ? 0x5555 : (1u << 16) | 0x3333;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
