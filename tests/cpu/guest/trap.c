/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Traps: causes and tvals, the mstatus stack on trap and return, MRET/SRET
 * privilege changes, delegation with medeleg, and the privileged
 * instructions that are illegal in lower modes. */
#include "lib.h"

static uint64_t do_ecall(uint64_t x)
{
    /* a7 = 0: not run_in_mode's return call */
    __asm__ volatile("li a7, 0; ecall" ::: "a7", "memory");
    return x;
}

static uint64_t do_illegal(uint64_t x)
{
    __asm__ volatile(".word 0xffffffff" ::: "memory");
    return x;
}

static uint64_t read_mstatus(uint64_t x)
{
    (void)x;
    return csr_read(mstatus); /* illegal below M */
}

static uint64_t priv_insns(uint64_t which)
{
    switch (which) {
    case 0: __asm__ volatile("mret"); break;
    case 1: __asm__ volatile("sret"); break;
    case 2: __asm__ volatile("wfi"); break;
    case 3: __asm__ volatile("sfence.vma"); break;
    }
    return which;
}

static uint64_t s_sret_to_u_target_ran;

static uint64_t u_target(uint64_t x)
{
    s_sret_to_u_target_ran = 1;
    /* in U: reading sstatus must trap to M (no delegation) */
    (void)csr_read(sstatus);
    return x + 1;
}

static uint64_t s_then_sret_to_u(uint64_t x)
{
    /* in S: drop to U with SRET, into u_target, which returns through the
     * run_in_mode ECALL (from U, with our own return address). */
    csr_clear(sstatus, MSTATUS_SPP);
    csr_write(sepc, (uint64_t)u_target);
    register uint64_t a0 __asm__("a0") = x;
    __asm__ volatile("la ra, 1f; sret; 1: li a7, 0x5e7ba; ecall"
                     : "+r"(a0) :: "ra", "a7", "memory");
    return 0; /* not reached */
}

static bool jump_fault_hook(uint64_t cause, uint64_t *regs)
{
    if (cause == 1 || cause == 12) {
        csr_write(mepc, regs[1]); /* return to the caller */
        return true;
    }
    return false;
}

int main(int hartid)
{
    (void)hartid;

    /* ECALL from each mode */
    uint64_t c = mtrap.count;
    do_ecall(0);
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.cause, 11);
    CHECK_EQ(mtrap.tval, 0);
    CHECK_EQ(mtrap.priv, PRV_M);
    run_in_mode(PRV_S, do_ecall, 0);
    CHECK_EQ(mtrap.cause, 9);
    CHECK_EQ(mtrap.priv, PRV_S);
    run_in_mode(PRV_U, do_ecall, 0);
    CHECK_EQ(mtrap.cause, 8);
    CHECK_EQ(mtrap.priv, PRV_U);

    /* EBREAK: mepc = its pc; mtval may be 0 or the pc (priv. spec
     * 3.1.16), and is 0 on QEMU, so parvm writes 0 too */
    uint64_t here;
    __asm__ volatile("auipc %0, 0; ebreak" : "=r"(here));
    CHECK_EQ(mtrap.cause, 3);
    CHECK_EQ(mtrap.epc, here + 4);
    CHECK_EQ(mtrap.tval, 0);
    /* illegal instruction: tval = the encoding */
    do_illegal(0);
    CHECK_EQ(mtrap.cause, 2);
    CHECK_EQ(mtrap.tval, 0xffffffff);
    __asm__ volatile(".word 0x0000007f"); /* an unused major opcode */
    CHECK_EQ(mtrap.tval, 0x7f);
    __asm__ volatile(".word 0x00007053"); /* F instruction: no F */
    CHECK_EQ(mtrap.cause, 2);

    /* mstatus stack: MIE -> MPIE, MPP = previous mode; MRET restores */
    csr_set(mstatus, MSTATUS_MIE);
    csr_write(mie, 0);
    do_ecall(0);
    uint64_t ms = csr_read(mstatus);
    CHECK(ms & MSTATUS_MIE); /* restored by the handler's MRET */
    CHECK(ms & MSTATUS_MPIE);
    CHECK_EQ((ms >> 11) & 3, 0); /* MPP = U after MRET */
    csr_clear(mstatus, MSTATUS_MIE);

    /* lower modes cannot read M CSRs */
    c = mtrap.count;
    run_in_mode(PRV_S, read_mstatus, 0);
    run_in_mode(PRV_U, read_mstatus, 0);
    CHECK_EQ(mtrap.count, c + 2);

    /* privileged instructions below their mode */
    c = mtrap.count;
    run_in_mode(PRV_S, priv_insns, 0); /* mret in S */
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.cause, 2);
    CHECK_EQ(mtrap.tval, 0x30200073);
    run_in_mode(PRV_U, priv_insns, 1); /* sret in U */
    CHECK_EQ(mtrap.count, c + 2);
    CHECK_EQ(mtrap.tval, 0x10200073);
    run_in_mode(PRV_U, priv_insns, 2); /* wfi in U */
    CHECK_EQ(mtrap.count, c + 3);
    CHECK_EQ(mtrap.tval, 0x10500073);
    run_in_mode(PRV_U, priv_insns, 3); /* sfence.vma in U */
    CHECK_EQ(mtrap.count, c + 4);
    csr_set(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    run_in_mode(PRV_S, priv_insns, 1);
    run_in_mode(PRV_S, priv_insns, 2);
    run_in_mode(PRV_S, priv_insns, 3);
    CHECK_EQ(mtrap.count, c + 7);
    csr_clear(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    run_in_mode(PRV_S, priv_insns, 3); /* sfence.vma is fine in S */
    CHECK_EQ(mtrap.count, c + 7);

    /* SRET from S to U, then U code runs in U */
    c = mtrap.count;
    CHECK_EQ(run_in_mode(PRV_S, s_then_sret_to_u, 41), 42);
    CHECK_EQ(s_sret_to_u_target_ran, 1);
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.priv, PRV_U);

    /* delegation: ecall from U and illegal instruction go to S */
    csr_write(stvec, (uint64_t)s_trap_entry);
    csr_write(medeleg, (1 << 8) | (1 << 2));
    c = mtrap.count;
    uint64_t sc = strap.count;
    run_in_mode(PRV_U, do_ecall, 0);
    CHECK_EQ(strap.count, sc + 1);
    CHECK_EQ(strap.cause, 8);
    CHECK_EQ(strap.priv, 0); /* SPP = U */
    CHECK_EQ(mtrap.count, c);
    run_in_mode(PRV_U, do_illegal, 0);
    CHECK_EQ(strap.count, sc + 2);
    CHECK_EQ(strap.cause, 2);
    CHECK_EQ(strap.tval, 0xffffffff);
    run_in_mode(PRV_S, do_illegal, 0); /* from S: also to S */
    CHECK_EQ(strap.count, sc + 3);
    CHECK_EQ(strap.priv, 1); /* SPP = S */
    CHECK_EQ(mtrap.count, c);
    run_in_mode(PRV_S, do_ecall, 0); /* ecall from S: not delegated */
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.cause, 9);
    do_illegal(0); /* in M: never delegated */
    CHECK_EQ(mtrap.count, c + 2);
    CHECK_EQ(strap.count, sc + 3);
    /* stvec in vectored mode: exceptions still go to the base */
    csr_write(stvec, (uint64_t)s_trap_entry | 1);
    run_in_mode(PRV_U, do_illegal, 0);
    CHECK_EQ(strap.count, sc + 4);
    csr_write(stvec, (uint64_t)s_trap_entry);
    csr_write(medeleg, 0);

    /* instruction access fault: jump to an unassigned address */
    m_trap_hook = jump_fault_hook;
    c = mtrap.count;
    ((void (*)(void))UNASSIGNED_ADDR)();
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.cause, 1);
    CHECK_EQ(mtrap.tval, UNASSIGNED_ADDR);
    CHECK_EQ(mtrap.epc, UNASSIGNED_ADDR);
    m_trap_hook = NULL;

    /* mepc/sepc of a trap: the faulting instruction */
    __asm__ volatile("la t0, 1f; 1: ebreak; sd t0, %0" : "=m"(ms)::"t0");
    CHECK_EQ(mtrap.epc, ms);

    puts_("trap: ok\n");
    return 0;
}
