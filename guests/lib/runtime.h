/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny runtime for parvm's bundled bare-metal guests (the demo and the
 * benchmark guests): QEMU virt's UART, CLINT, RTC and sifive_test, an LR/SC
 * spinlock, and the number of harts from the device tree.  Everything here
 * works the same on qemu-system-riscv64 -machine virt.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#define UART 0x10000000ul
#define TEST 0x100000ul
#define RTC 0x101000ul
#define CLINT_MTIMECMP(h) (0x2004000ul + 8 * (h))
#define CLINT_MTIME 0x200bff8ul
#define MTIME_HZ 10000000ul
#define MAX_HARTS 64

#define mmio32(a) (*(volatile uint32_t *)(a))
#define mmio64(a) (*(volatile uint64_t *)(a))

/* Provided by the program. */
void guest_main(uint64_t hartid, const uint8_t *fdt);
void guest_trap(uint64_t mcause);

void lock(uint32_t *l);
void unlock(uint32_t *l);
void putc_(char c);
void puts_(const char *s);
void putu(uint64_t v);
uint64_t hartid(void);
/* The cpu@N nodes under /cpus (1 if @fdt is not a device tree). */
unsigned count_harts(const uint8_t *fdt);
/* sifive_test: power off (status 0) or exit with status 1; never returns. */
__attribute__((noreturn)) void power_off(bool ok);

#endif
