/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runtime for the C test programs: see lib.h. */
#include "lib.h"

#define RIM_MAGIC 0x5e7ba

TrapRecord mtrap, strap;
bool (*m_trap_hook)(uint64_t cause, uint64_t *regs);
bool (*s_trap_hook)(uint64_t cause, uint64_t *regs);

void putch(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
    while (!(uart[5] & 0x20))
        ;
    uart[0] = (uint8_t)c;
}

void puts_(const char *s)
{
    while (*s)
        putch(*s++);
}

void put_hex(uint64_t v)
{
    puts_("0x");
    for (int i = 60; i >= 0; i -= 4)
        putch("0123456789abcdef"[(v >> i) & 15]);
}

static void put_dec(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putch(buf[--n]);
}

void exit_(int code)
{
    volatile uint32_t *t = (volatile uint32_t *)EXIT_BASE;
    /* A host exit status keeps 8 bits: a failure at line 256 must not
     * read as success. */
    if (code != 0 && (code & 0xff) == 0)
        code |= 0xff;
    *t = code == 0 ? 0x5555 : ((uint32_t)code << 16) | 0x3333;
    for (;;)
        ;
}

void fail_at(int line, const char *what, uint64_t got, uint64_t want)
{
    puts_("FAIL line ");
    put_dec((uint64_t)line);
    puts_(": ");
    puts_(what);
    puts_(" got ");
    put_hex(got);
    puts_(" want ");
    put_hex(want);
    putch('\n');
    exit_(line);
}

static uint64_t insn_len(uint64_t epc)
{
    return (*(volatile uint16_t *)epc & 3) == 3 ? 4 : 2;
}

/* Called from m_trap_entry; returns 1 to resume run_in_mode's caller. */
uint64_t m_trap(uint64_t *regs)
{
    uint64_t cause = csr_read(mcause);
    uint64_t mpp = (csr_read(mstatus) >> 11) & 3;

    if ((cause == 8 || cause == 9 || cause == 11) && regs[17] == RIM_MAGIC)
        return 1;
    mtrap.count++;
    mtrap.cause = cause;
    mtrap.tval = csr_read(mtval);
    mtrap.epc = csr_read(mepc);
    mtrap.priv = mpp;
    if (m_trap_hook && m_trap_hook(cause, regs))
        return 0;
    if (cause & CAUSE_IRQ) {
        puts_("unexpected M interrupt ");
        put_hex(cause);
        putch('\n');
        exit_(2);
    }
    csr_write(mepc, mtrap.epc + insn_len(mtrap.epc));
    return 0;
}

void s_trap(uint64_t *regs)
{
    uint64_t cause = csr_read(scause);

    if ((cause == 8 || cause == 9) && regs[17] == RIM_MAGIC) {
        /* fn ran in U and its exit ECALL was delegated: forward to M. */
        register uint64_t a0 __asm__("a0") = regs[10];
        register uint64_t a7 __asm__("a7") = RIM_MAGIC;
        __asm__ volatile("ecall" ::"r"(a0), "r"(a7));
        for (;;)
            ;
    }
    strap.count++;
    strap.cause = cause;
    strap.tval = csr_read(stval);
    strap.epc = csr_read(sepc);
    strap.priv = (csr_read(sstatus) >> 8) & 1;
    if (s_trap_hook && s_trap_hook(cause, regs))
        return;
    if (cause & CAUSE_IRQ) {
        puts_("unexpected S interrupt ");
        put_hex(cause);
        putch('\n');
        exit_(3);
    }
    csr_write(sepc, strap.epc + insn_len(strap.epc));
}

uint64_t load_at(uint64_t va)
{
    return *(volatile uint64_t *)va;
}

uint64_t store_at(uint64_t va)
{
    *(volatile uint64_t *)va = STORE_AT_VALUE;
    return 0;
}

uint64_t call_at(uint64_t va)
{
    return ((uint64_t(*)(void))va)();
}
