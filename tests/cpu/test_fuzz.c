/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bad input: guest-controlled values never crash the host.  Runs harts on
 * random instruction streams (random words and random instructions of
 * every major opcode, compressed ones included), with random CSR numbers
 * and values (satp modes, PMP configurations, mstatus, trap vectors),
 * random register values and random pending interrupts, under a budget.
 * It fails by crashing (or by a sanitizer report) -- and, at the end, if
 * a hart that has been through all that no longer runs a known program
 * correctly after a reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static const uint32_t opcodes[] = {
    0x03, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x2f, 0x33,
    0x37, 0x3b, 0x63, 0x67, 0x6f, 0x73, 0x73, 0x73,
};

static uint32_t random_insn(void)
{
    uint64_t r = rnd();
    switch (r & 7) {
    case 0: /* any word */
        return (uint32_t)(r >> 32);
    case 1: { /* a CSR instruction on a random CSR */
        uint32_t csr = (uint32_t)(r >> 20) & 0xfff;
        if (r & (1u << 3)) {
            static const uint16_t interesting[] = {
                0x180, 0x300, 0x100, 0x3a0, 0x3a2, 0x3b0, 0x3b1, 0x3bf,
                0x305, 0x105, 0x304, 0x344, 0x303, 0x302, 0xb02, 0x144,
            };
            csr = interesting[(r >> 8) & 15];
        }
        uint32_t f3 = 1 + (uint32_t)((r >> 40) % 7);
        if (f3 == 4)
            f3 = 1;
        return (csr << 20) | ((uint32_t)(r >> 48) & 31) << 15 | f3 << 12 |
               ((uint32_t)(r >> 56) & 31) << 7 | 0x73;
    }
    case 2: /* two compressed instructions */
        return (uint32_t)(r >> 16);
    default: /* a major opcode with random fields */
        return ((uint32_t)(r >> 24) & ~0x7fu) | opcodes[(r >> 4) & 15];
    }
}

static bool fuzz_one(unsigned seed)
{
    TestMachine *m = tm_new(1u << 20, 1, TM_RAM_BASE);
    if (!m)
        return false;
    rng_state = 0x9e3779b97f4a7c15ull * (seed + 1);
    RiscvHart *h = m->harts[0];
    uint32_t *words = (uint32_t *)m->ram;
    for (size_t i = 0; i < (1u << 20) / 4; i++)
        words[i] = (i < 16384) ? random_insn() : (uint32_t)rnd();
    for (unsigned r = 1; r < 32; r++) {
        uint64_t v = rnd();
        /* mostly pointers into RAM, so that loads and stores hit it */
        riscv_hart_set_x(h, r, (v & 3) ? TM_RAM_BASE + (v >> 44) : v);
    }
    riscv_hart_write_csr(h, 0x305, TM_RAM_BASE + (rnd() & 0xfffc));
    riscv_hart_set_pc(h, TM_RAM_BASE + (rnd() & 0xfffe));
    for (int round = 0; round < 20; round++) {
        riscv_hart_set_pending(h, rnd() & 0xaaa, rnd() & 1);
        riscv_hart_run(h, 5000);
        if (rnd() % 8 == 0)
            riscv_hart_flush_tlb(h);
        if (rnd() % 16 == 0) /* escape loops of faults */
            riscv_hart_set_pc(h, TM_RAM_BASE + (rnd() & 0xfffe));
    }
    tm_free(m);
    return true;
}

/* After the storm: reset, load "sum 1..100, exit", and check it. */
static bool still_works(void)
{
    TestMachine *m = tm_new(1u << 20, 1, TM_RAM_BASE);
    RiscvHart *h = m->harts[0];
    rng_state = 12345;
    for (size_t i = 0; i < (1u << 20) / 4; i++)
        ((uint32_t *)m->ram)[i] = random_insn();
    riscv_hart_run(h, 20000);
    riscv_hart_reset(h);
    const uint32_t prog[] = {
        0x00000413, /* li s0, 0 */
        0x06400493, /* li s1, 100 */
        0x00940433, /* add s0, s0, s1 */
        0xfff48493, /* addi s1, s1, -1 */
        0xfe049ce3, /* bnez s1, -8 */
        0x001002b7, /* lui t0, 0x100 */
        0x00005337, /* lui t1, 0x5 */
        0x5553031b, /* addiw t1, t1, 0x555 */
        0x0062a023, /* sw t1, 0(t0) */
        0x0000006f, /* j . */
    };
    memcpy(m->ram, prog, sizeof(prog));
    riscv_hart_flush_tlb(h); /* the host rewrote code */
    bool ok = riscv_hart_run(h, 100000) == RISCV_EXIT_KICK &&
              m->exit_state == 1 && m->exit_code == 0 &&
              riscv_hart_get_x(h, 8) == 5050;
    tm_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    unsigned seeds = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
    alarm(600);
    printf("1..2\n");
    unsigned done = 0;
    for (unsigned s = 0; s < seeds; s++)
        done += fuzz_one(s);
    printf("%s 1 - %u random programs ran without crashing the host\n",
           done == seeds ? "ok" : "not ok", done);
    bool ok = still_works();
    printf("%s 2 - a hart still runs correctly after a reset\n",
           ok ? "ok" : "not ok");
    return done == seeds && ok ? 0 : 1;
}
