/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control and status registers (privileged spec 1.12, RV64, M/S/U, F and
 * D; no V/H).  A CSR that is not listed here does not exist: any access to
 * it raises an illegal-instruction exception, which is how OpenSBI and
 * Linux probe for optional CSRs.  WARL fields keep only legal values.
 */
#include "internal.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03, CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143, CSR_SIP = 0x144,
    CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303, CSR_MIE = 0x304, CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a, CSR_MCOUNTINHIBIT = 0x320,
    CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343, CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af,
    CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR63 = 0x3ef,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02,
    CSR_MHPMCOUNTER3 = 0xb03, CSR_MHPMCOUNTER31 = 0xb1f,
    CSR_TSELECT = 0x7a0, CSR_TDATA1 = 0x7a1, CSR_TDATA2 = 0x7a2,
    CSR_TDATA3 = 0x7a3,
};

/* misa: MXL = 64, extensions A, C, D, F, I, M, S, U. */
#define MISA_VALUE ((2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) |    \
                    (1u << 5) | (1u << 8) | (1u << 12) | (1u << 18) |      \
                    (1u << 20))

#define MSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE |       \
                          MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |       \
                          MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM |        \
                          MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |         \
                          MSTATUS_TSR)
#define SSTATUS_VISIBLE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP |        \
                         MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR |          \
                         MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP |       \
                          MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)

#define MIP_S_BITS (RISCV_MIP_SSIP | RISCV_MIP_STIP | RISCV_MIP_SEIP)
#define MIE_WRITABLE (MIP_S_BITS | RISCV_MIP_MSIP | RISCV_MIP_MTIP | \
                      RISCV_MIP_MEIP)
/* Exceptions that may be delegated: not ecall from M (11) nor the
 * reserved causes 10 and 14. */
#define MEDELEG_WRITABLE 0xb3ffull
#define ENVCFG_FIOM 1ull

static uint64_t mstatus_read(const RiscvHart *h)
{
    uint64_t v = h->mstatus | (2ull << 32) | (2ull << 34); /* UXL=SXL=64 */
    if ((v & MSTATUS_FS) == MSTATUS_FS)
        v |= MSTATUS_SD;
    return v;
}

static void mstatus_write(RiscvHart *h, uint64_t val)
{
    uint64_t old = h->mstatus;
    uint64_t v = (old & ~MSTATUS_WRITABLE) | (val & MSTATUS_WRITABLE);
    if (((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        v = (v & ~MSTATUS_MPP) | (old & MSTATUS_MPP); /* WARL: keep */
    h->mstatus = v;
    /* MXR changes what every cached read permission means. */
    if ((old ^ v) & MSTATUS_MXR)
        riscv_tlb_flush(h);
    riscv_mmu_update_context(h);
}

/* Atomically replaces the bits of mip in mask (others stay as devices
 * set them concurrently). */
static void mip_update(RiscvHart *h, uint64_t mask, uint64_t val)
{
    uint64_t old = __atomic_load_n(&h->mip, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&h->mip, &old,
                                        (old & ~mask) | (val & mask), false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        ;
}

static bool satp_write(RiscvHart *h, uint64_t val)
{
    unsigned mode = (unsigned)(val >> SATP_MODE_SHIFT);
    /* Sv39, Sv48 and Sv57, as QEMU 7.2's harts (Linux picks the
     * largest that a write leaves in place). */
    if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 &&
        mode != SATP_MODE_SV48 && mode != SATP_MODE_SV57)
        return true; /* unsupported MODE: the write has no effect at all */
    if (mode == SATP_MODE_BARE)
        val = 0;
    h->satp = val & ((0xfull << SATP_MODE_SHIFT) | SATP_ASID_MASK |
                     SATP_PPN_MASK);
    /* The TLB is not tagged with the ASID: drop it all. */
    riscv_tlb_flush(h);
    return true;
}

/* Counter visible below M?  cycle/time/instret/hpmcounterN are gated by
 * bit N of mcounteren (for S and U) and of scounteren (for U). */
static bool counter_allowed(const RiscvHart *h, unsigned csr)
{
    uint32_t bit = 1u << (csr & 31);
    if (h->priv < RISCV_PRIV_M && !(h->mcounteren & bit))
        return false;
    if (h->priv < RISCV_PRIV_S && !(h->scounteren & bit))
        return false;
    return true;
}

/* fflags, frm and fcsr exist only while mstatus.FS is not Off. */
static bool fp_csr_on(const RiscvHart *h)
{
    return (h->mstatus & MSTATUS_FS) != 0;
}

bool riscv_csr_read(RiscvHart *h, unsigned csr, uint64_t *val)
{
    uint64_t v;

    switch (csr) {
    case CSR_FFLAGS: case CSR_FRM: case CSR_FCSR:
        if (!fp_csr_on(h))
            return false;
        v = csr == CSR_FFLAGS ? h->fflags
            : csr == CSR_FRM  ? h->frm
                              : (uint64_t)h->frm << 5 | h->fflags;
        break;
    case CSR_CYCLE: case CSR_TIME: case CSR_INSTRET:
    case CSR_HPMCOUNTER3 ... CSR_HPMCOUNTER31:
        if (!counter_allowed(h, csr))
            return false;
        if (csr == CSR_CYCLE)
            v = h->retired + h->cycle_off;
        else if (csr == CSR_INSTRET)
            v = h->retired + h->instret_off;
        else if (csr == CSR_TIME)
            v = h->bus.time ? h->bus.time(h->bus.opaque) : 0;
        else
            v = 0;
        break;
    case CSR_SSTATUS: v = mstatus_read(h) & SSTATUS_VISIBLE; break;
    case CSR_SIE: v = h->mie & h->mideleg; break;
    case CSR_STVEC: v = h->stvec; break;
    case CSR_SCOUNTEREN: v = h->scounteren; break;
    case CSR_SENVCFG: v = h->senvcfg; break;
    case CSR_SSCRATCH: v = h->sscratch; break;
    case CSR_SEPC: v = h->sepc; break;
    case CSR_SCAUSE: v = h->scause; break;
    case CSR_STVAL: v = h->stval; break;
    case CSR_SIP: v = hart_mip(h) & h->mideleg; break;
    case CSR_SATP:
        if (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return false;
        v = h->satp;
        break;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID:
    case CSR_MCONFIGPTR:
        v = 0;
        break;
    case CSR_MHARTID: v = h->mhartid; break;
    case CSR_MSTATUS: v = mstatus_read(h); break;
    case CSR_MISA: v = MISA_VALUE; break;
    case CSR_MEDELEG: v = h->medeleg; break;
    case CSR_MIDELEG: v = h->mideleg; break;
    case CSR_MIE: v = h->mie; break;
    case CSR_MTVEC: v = h->mtvec; break;
    case CSR_MCOUNTEREN: v = h->mcounteren; break;
    case CSR_MENVCFG: v = h->menvcfg; break;
    case CSR_MCOUNTINHIBIT: v = h->mcountinhibit; break;
    case CSR_MHPMEVENT3 ... CSR_MHPMEVENT31: v = 0; break;
    case CSR_MSCRATCH: v = h->mscratch; break;
    case CSR_MEPC: v = h->mepc; break;
    case CSR_MCAUSE: v = h->mcause; break;
    case CSR_MTVAL: v = h->mtval; break;
    case CSR_MIP: v = hart_mip(h); break;
    case CSR_PMPCFG0 ... CSR_PMPCFG15:
        if (csr & 1)
            return false; /* odd pmpcfg registers do not exist on RV64 */
        v = riscv_pmpcfg_read(h, csr - CSR_PMPCFG0);
        break;
    case CSR_PMPADDR0 ... CSR_PMPADDR63:
        v = riscv_pmpaddr_read(h, csr - CSR_PMPADDR0);
        break;
    case CSR_MCYCLE: v = h->retired + h->cycle_off; break;
    case CSR_MINSTRET: v = h->retired + h->instret_off; break;
    case CSR_MHPMCOUNTER3 ... CSR_MHPMCOUNTER31: v = 0; break;
    /* Debug triggers: the registers exist, no trigger does (tselect
     * stays 0 and tdata1 reads type 0, "no trigger"). */
    case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3:
        v = 0;
        break;
    default:
        return false;
    }
    *val = v;
    return true;
}

bool riscv_csr_write(RiscvHart *h, unsigned csr, uint64_t val)
{
    switch (csr) {
    case CSR_FFLAGS: case CSR_FRM: case CSR_FCSR:
        if (!fp_csr_on(h))
            return false;
        if (csr == CSR_FFLAGS)
            h->fflags = val & 0x1f;
        else if (csr == CSR_FRM)
            h->frm = val & 7; /* reserved modes are kept: using them traps */
        else {
            h->fflags = val & 0x1f;
            h->frm = (val >> 5) & 7;
        }
        h->mstatus |= MSTATUS_FS; /* FP state changed: Dirty */
        return true;
    case CSR_SSTATUS:
        mstatus_write(h, (h->mstatus & ~SSTATUS_WRITABLE) |
                             (val & SSTATUS_WRITABLE));
        return true;
    case CSR_SIE:
        h->mie = (h->mie & ~h->mideleg) | (val & h->mideleg & MIE_WRITABLE);
        return true;
    case CSR_STVEC:
        if ((val & 3) < 2)
            h->stvec = val; /* reserved modes: the write is ignored */
        return true;
    case CSR_SCOUNTEREN: h->scounteren = (uint32_t)val; return true;
    case CSR_SENVCFG: h->senvcfg = val & ENVCFG_FIOM; return true;
    case CSR_SSCRATCH: h->sscratch = val; return true;
    case CSR_SEPC: h->sepc = val & ~1ull; return true;
    case CSR_SCAUSE: h->scause = val; return true;
    case CSR_STVAL: h->stval = val; return true;
    case CSR_SIP:
        /* Only SSIP is writable through sip, and only when delegated. */
        mip_update(h, h->mideleg & RISCV_MIP_SSIP, val);
        return true;
    case CSR_SATP:
        if (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return false;
        return satp_write(h, val);
    case CSR_MSTATUS: mstatus_write(h, val); return true;
    case CSR_MISA: return true; /* WARL: fixed */
    case CSR_MEDELEG: h->medeleg = val & MEDELEG_WRITABLE; return true;
    case CSR_MIDELEG: h->mideleg = val & MIP_S_BITS; return true;
    case CSR_MIE: h->mie = val & MIE_WRITABLE; return true;
    case CSR_MTVEC:
        if ((val & 3) < 2)
            h->mtvec = val;
        return true;
    case CSR_MCOUNTEREN: h->mcounteren = (uint32_t)val; return true;
    case CSR_MENVCFG: h->menvcfg = val & ENVCFG_FIOM; return true;
    case CSR_MCOUNTINHIBIT:
        /* Stored, not honoured: counters keep counting. */
        h->mcountinhibit = (uint32_t)val & ~2u;
        return true;
    case CSR_MHPMEVENT3 ... CSR_MHPMEVENT31: return true;
    case CSR_MSCRATCH: h->mscratch = val; return true;
    case CSR_MEPC: h->mepc = val & ~1ull; return true;
    case CSR_MCAUSE: h->mcause = val; return true;
    case CSR_MTVAL: h->mtval = val; return true;
    case CSR_MIP:
        /* MSIP, MTIP and MEIP are driven by the CLINT and the PLIC. */
        mip_update(h, MIP_S_BITS, val);
        return true;
    case CSR_PMPCFG0 ... CSR_PMPCFG15:
        if (csr & 1)
            return false;
        riscv_pmpcfg_write(h, csr - CSR_PMPCFG0, val);
        return true;
    case CSR_PMPADDR0 ... CSR_PMPADDR63:
        riscv_pmpaddr_write(h, csr - CSR_PMPADDR0, val);
        return true;
    /* Counters: the CSR instruction retires after the write, and the
     * spec wants the next instruction to see the value written. */
    case CSR_MCYCLE: h->cycle_off = val - h->retired - 1; return true;
    case CSR_MINSTRET: h->instret_off = val - h->retired - 1; return true;
    case CSR_MHPMCOUNTER3 ... CSR_MHPMCOUNTER31: return true;
    case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3:
        return true;
    default:
        return false;
    }
}

bool riscv_csr_insn(RiscvHart *h, const Insn *ins, uint64_t pc)
{
    (void)pc;
    unsigned csr = (unsigned)ins->imm & 0xfff;
    unsigned f3 = ins->rs2;  /* funct3 */
    unsigned field = ins->rs1; /* rs1 number or 5-bit immediate */
    uint64_t src = (f3 & 4) ? field : h->x[field];
    bool writes = (f3 & 3) == 1 || field != 0; /* CSRRW(I) always write */
    uint64_t old;

    if (((csr >> 8) & 3) > h->priv)
        goto illegal;
    if (writes && (csr >> 10) == 3)
        goto illegal; /* read-only CSR */
    /* Reading has no side effect here, so CSRRW with rd = x0 may read. */
    if (!riscv_csr_read(h, csr, &old))
        goto illegal;
    if (writes) {
        uint64_t v = (f3 & 3) == 1 ? src : (f3 & 3) == 2 ? old | src
                                                         : old & ~src;
        if (!riscv_csr_write(h, csr, v))
            goto illegal;
    }
    h->x[ins->rd] = old;
    return true;
illegal:
    hart_raise(h, EXC_ILLEGAL, ins->raw);
    return false;
}
