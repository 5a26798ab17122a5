/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark (not a test): guest MIPS of one hart on RAM-only integer
 * loops.  Prints one line per loop.
 *
 *   bench_mips [million-instructions]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ALU only: 8 instructions per iteration, one block chained to itself. */
static const uint32_t alu_loop[] = {
    0x00150513, /* loop: addi a0, a0, 1 */
    0x00a5c5b3, /*       xor a1, a1, a0 */
    0x00b60633, /*       add a2, a2, a1 */
    0x00351693, /*       slli a3, a0, 3 */
    0x40d60633, /*       sub a2, a2, a3 */
    0x0ff67713, /*       andi a4, a2, 255 */
    0x00e7e7b3, /*       or a5, a5, a4 */
    0xfe0008e3, /*       beqz zero... (beq x0, x0, loop) */
};

/* Memory: a word array walked with loads and stores (the store goes to
 * a data page, the TLB fast path). */
static const uint32_t mem_loop[] = {
    0x00100437, /*       lui s0, 0x100        (s0 = 1 MiB) */
    0x00d40433, /*       add s0, s0, a3       (a3 = RAM base) */
    0x000404b3, /*       mv s1, s0 (add s1, s0, x0) */
    0x0004b503, /* loop: ld a0, 0(s1) */
    0x00150513, /*       addi a0, a0, 1 */
    0x00a4b023, /*       sd a0, 0(s1) */
    0x00848493, /*       addi s1, s1, 8 */
    0x0ff4f593, /*       andi a1, s1, 255 */
    0x00059463, /*       bnez a1, +8 */
    0x000404b3, /*       mv s1, s0 */
    0xfe0002e3, /*       beq x0, x0, loop (-28) */
};

static void bench(const char *name, const uint32_t *code, size_t n,
                  uint64_t insns)
{
    TestMachine *m = tm_new(4u << 20, 1, TM_RAM_BASE);
    memcpy(m->ram, code, n * 4);
    RiscvHart *h = m->harts[0];
    riscv_hart_set_x(h, 13, TM_RAM_BASE);
    riscv_hart_run(h, 1000000); /* warm up: decode, TLB */
    uint64_t i0 = riscv_hart_get_instret(h);
    double t0 = now();
    riscv_hart_run(h, insns);
    double t1 = now();
    uint64_t done = riscv_hart_get_instret(h) - i0;
    printf("%-10s %8.1f MIPS  (%llu instructions in %.3f s)\n", name,
           (double)done / (t1 - t0) / 1e6, (unsigned long long)done, t1 - t0);
    tm_free(m);
}

int main(int argc, char **argv)
{
    uint64_t mi = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000;
    bench("alu-loop", alu_loop, sizeof(alu_loop) / 4, mi * 1000000);
    bench("mem-loop", mem_loop, sizeof(mem_loop) / 4, mi * 1000000);
    return 0;
}
