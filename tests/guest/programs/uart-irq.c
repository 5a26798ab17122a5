/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Receive interrupts through the PLIC: the UART raises IRQ 10 when bytes
 * arrive on the console (the test feeds "ping" and a newline on stdin),
 * hart 0 sleeps in WFI, claims the source in its M-mode context, drains the
 * receive buffer and completes; at the newline it prints what it got and
 * powers off.  Same output and status on qemu-system-riscv64.
 */
#include "runtime.h"

#define PLIC 0xc000000ul
#define PLIC_PRIORITY(s) (PLIC + 4 * (s))
#define PLIC_ENABLE(ctx) (PLIC + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (PLIC + 0x200004 + 0x1000 * (ctx))
#define UART_IRQ 10
#define UART_RBR 0
#define UART_IER 1
#define UART_MCR 4
#define UART_LSR 5
#define reg8(off) (*(volatile uint8_t *)(UART + (off)))

static char line[64];
static volatile unsigned len, interrupts;
static volatile int done;

void guest_trap(uint64_t cause)
{
    if (cause != (1ul << 63 | 11)) {            /* machine external interrupt */
        puts_("unexpected trap\n");
        power_off(false);
    }
    interrupts++;
    uint32_t src = mmio32(PLIC_CLAIM(0));
    if (src == UART_IRQ) {
        while (reg8(UART_LSR) & 1) {            /* data ready */
            char c = (char)reg8(UART_RBR);
            if (c == '\n') {
                done = 1;
            } else if (len < sizeof(line) - 1) {
                line[len++] = c;
            }
        }
    }
    mmio32(PLIC_CLAIM(0)) = src;                /* complete */
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    (void)fdt;
    if (h != 0) {
        return;
    }
    mmio32(PLIC_PRIORITY(UART_IRQ)) = 1;
    mmio32(PLIC_ENABLE(0)) = 1u << UART_IRQ;
    mmio32(PLIC_THRESHOLD(0)) = 0;
    reg8(UART_MCR) = 0x08;                      /* OUT2: interrupts to the PLIC */
    reg8(UART_IER) = 0x01;                      /* received data available */
    __asm__ volatile("csrs mie, %0" ::"r"(1ul << 11));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1ul << 3));
    while (!done) {
        __asm__ volatile("wfi");
    }
    __asm__ volatile("csrc mstatus, %0" ::"r"(1ul << 3));
    line[len] = 0;
    puts_("received '");
    puts_(line);
    puts_(interrupts > 0 ? "' through the PLIC\n" : "' without an interrupt\n");
    power_off(interrupts > 0);
}
