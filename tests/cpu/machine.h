/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal test machine for the hart library's tests: RAM at 0x80000000
 * and, at QEMU virt's addresses, a sifive_test exit device (0x100000), a
 * write-only 16550 THR (0x10000000) and a CLINT (0x2000000: msip,
 * mtimecmp, mtime at 10 MHz).  It is not the board (src/machine): just
 * enough to run bare-metal test programs on N harts in N threads.
 */
#ifndef TESTS_CPU_MACHINE_H
#define TESTS_CPU_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/riscv/hart.h"

#define TM_RAM_BASE 0x80000000ull
#define TM_EXIT_ADDR 0x100000ull
#define TM_UART_ADDR 0x10000000ull
#define TM_CLINT_ADDR 0x2000000ull
#define TM_MAX_HARTS 8

typedef struct TestMachine {
    uint8_t *ram;
    uint64_t ram_size;
    unsigned nharts;
    RiscvHart *harts[TM_MAX_HARTS];
    uint64_t mtimecmp[TM_MAX_HARTS]; /* atomic */
    uint64_t t0_ns;
    int exit_state;                  /* atomic: 0 running, 1 exited */
    int exit_code;                   /* valid when exit_state == 1 */
    bool echo;                       /* UART output also to stdout */
    char *out;                       /* UART output (for checks) */
    size_t out_len, out_cap;
    uint64_t mmio_errors;            /* atomic */
} TestMachine;

/* RAM of ram_size bytes (page-aligned host memory) and nharts harts that
 * start at reset_pc. */
TestMachine *tm_new(uint64_t ram_size, unsigned nharts, uint64_t reset_pc);
void tm_free(TestMachine *m);

/* Loads an ELF64 RISC-V executable into RAM; returns false with a message
 * on stderr when it cannot.  *entry receives the entry point. */
bool tm_load_elf(TestMachine *m, const char *path, uint64_t *entry);

/* Runs every hart in its own thread until the guest writes the exit
 * device or timeout_s passes.  Returns the guest's exit code (0 = pass),
 * or -1 on timeout. */
int tm_run(TestMachine *m, double timeout_s);

uint64_t tm_mtime(const TestMachine *m);

#endif
