/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Traps (exceptions and interrupts), their delegation to S mode, and the
 * MRET/SRET returns, per privileged spec 1.12.
 */
#include "internal.h"

void riscv_set_priv(RiscvHart *h, unsigned priv)
{
    h->priv = priv;
    riscv_mmu_update_context(h);
}

void riscv_trap_take(RiscvHart *h, uint64_t cause, uint64_t tval)
{
    bool irq = (cause & CAUSE_INTERRUPT) != 0;
    unsigned code = (unsigned)(cause & 63);
    uint64_t deleg = irq ? h->mideleg : h->medeleg;
    uint64_t st = h->mstatus;

    /* A trap ends any LR/SC sequence (a context switch may follow). */
    h->res_host = NULL;

    if (h->priv <= RISCV_PRIV_S && ((deleg >> code) & 1)) {
        h->scause = cause;
        h->sepc = h->pc;
        h->stval = tval;
        st &= ~(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE);
        if (h->mstatus & MSTATUS_SIE)
            st |= MSTATUS_SPIE;
        if (h->priv == RISCV_PRIV_S)
            st |= MSTATUS_SPP;
        h->mstatus = st;
        uint64_t base = h->stvec & ~3ull;
        h->pc = ((h->stvec & 1) && irq) ? base + 4ull * code : base;
        riscv_set_priv(h, RISCV_PRIV_S);
        return;
    }
    h->mcause = cause;
    h->mepc = h->pc;
    h->mtval = tval;
    st &= ~(MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MIE);
    if (h->mstatus & MSTATUS_MIE)
        st |= MSTATUS_MPIE;
    st |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
    h->mstatus = st;
    uint64_t base = h->mtvec & ~3ull;
    h->pc = ((h->mtvec & 1) && irq) ? base + 4ull * code : base;
    riscv_set_priv(h, RISCV_PRIV_M);
}

/* Interrupt priority: MEI, MSI, MTI, SEI, SSI, STI. */
static const unsigned irq_order[] = { 11, 3, 7, 9, 1, 5 };

static int pick(uint64_t bits)
{
    for (unsigned i = 0; i < sizeof(irq_order) / sizeof(irq_order[0]); i++)
        if (bits & (1ull << irq_order[i]))
            return (int)irq_order[i];
    return -1;
}

bool riscv_check_interrupts(RiscvHart *h)
{
    uint64_t pending = hart_mip(h) & h->mie;
    if (!pending)
        return false;

    bool m_on = h->priv < RISCV_PRIV_M || (h->mstatus & MSTATUS_MIE);
    bool s_on = h->priv < RISCV_PRIV_S ||
                (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_SIE));
    uint64_t m_bits = m_on ? pending & ~h->mideleg : 0;
    uint64_t s_bits = s_on ? pending & h->mideleg : 0;
    int code = pick(m_bits);
    if (code < 0)
        code = pick(s_bits);
    if (code < 0)
        return false;
    riscv_trap_take(h, CAUSE_INTERRUPT | (uint64_t)code, 0);
    return true;
}

bool riscv_mret(RiscvHart *h)
{
    if (h->priv != RISCV_PRIV_M)
        return false;
    uint64_t st = h->mstatus;
    unsigned to = (unsigned)((st & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    st &= ~(MSTATUS_MIE | MSTATUS_MPP);
    if (st & MSTATUS_MPIE)
        st |= MSTATUS_MIE;
    st |= MSTATUS_MPIE; /* MPP becomes U (0) */
    if (to != RISCV_PRIV_M)
        st &= ~MSTATUS_MPRV;
    h->mstatus = st;
    h->pc = h->mepc;
    riscv_set_priv(h, to);
    return true;
}

bool riscv_sret(RiscvHart *h)
{
    if (h->priv < RISCV_PRIV_S ||
        (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TSR)))
        return false;
    uint64_t st = h->mstatus;
    unsigned to = (st & MSTATUS_SPP) ? RISCV_PRIV_S : RISCV_PRIV_U;
    st &= ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
    if (st & MSTATUS_SPIE)
        st |= MSTATUS_SIE;
    st |= MSTATUS_SPIE;
    h->mstatus = st;
    h->pc = h->sepc;
    riscv_set_priv(h, to);
    return true;
}
