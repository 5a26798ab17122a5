/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CSRs: values, WARL fields, counters, and every kind of illegal access
 * (which must raise illegal instruction with the encoding in mtval). */
#include "lib.h"

#define EXPECT_ILLEGAL(stmt)                                                 \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK_EQ(mtrap.cause, 2);                                            \
        CHECK_EQ(mtrap.tval, *(volatile uint32_t *)mtrap.epc);               \
    } while (0)

#define EXPECT_OK(stmt)                                                      \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_);                                          \
    } while (0)

static uint64_t s_mode_probe(uint64_t what)
{
    switch (what) {
    case 0: /* S may use its own CSRs */
        csr_write(sscratch, 0x1234);
        return csr_read(sscratch);
    case 1: /* but not M's */
        (void)csr_read(mstatus);
        (void)csr_read(mscratch);
        csr_write(mie, 0);
        return 0;
    case 2: /* counters, gated by mcounteren */
        (void)csr_read(cycle);
        (void)csr_read(time);
        (void)csr_read(instret);
        return 0;
    case 3: /* satp with mstatus.TVM set */
        (void)csr_read(satp);
        csr_write(satp, 0);
        return 0;
    default:
        return 0;
    }
}

static uint64_t u_mode_probe(uint64_t what)
{
    switch (what) {
    case 0:
        (void)csr_read(sstatus);
        (void)csr_read(sscratch);
        return 0;
    case 1:
        return csr_read(cycle) + csr_read(time) + csr_read(instret);
    default:
        return 0;
    }
}

int main(int hartid)
{
    (void)hartid;
    /* identification */
    CHECK_EQ(csr_read(misa), 0x8000000000141105ul); /* RV64 ACIMSU */
    CHECK_EQ(csr_read(mhartid), 0);
    CHECK_EQ(csr_read(mvendorid), 0);
    CHECK_EQ(csr_read(marchid), 0);
    CHECK_EQ(csr_read(mimpid), 0);
    csr_write(misa, 0); /* WARL, fixed */
    CHECK_EQ(csr_read(misa), 0x8000000000141105ul);

    /* plain read/write registers */
    csr_write(mscratch, 0xdeadbeefcafef00dul);
    CHECK_EQ(csr_read(mscratch), 0xdeadbeefcafef00dul);
    CHECK_EQ(csr_swap(mscratch, 5), 0xdeadbeefcafef00dul);
    csr_set(mscratch, 0x30);
    csr_clear(mscratch, 0x1);
    CHECK_EQ(csr_read(mscratch), 0x34);
    csr_write(mepc, 0x80001003ul); /* bit 0 is always 0 (IALIGN 16) */
    CHECK_EQ(csr_read(mepc), 0x80001002ul);
    csr_write(sepc, 0xffffffffffffffff);
    CHECK_EQ(csr_read(sepc), 0xfffffffffffffffe);
    csr_write(mtval, 0x55);
    CHECK_EQ(csr_read(mtval), 0x55);
    csr_write(mcause, 0x8000000000000007ul);
    CHECK_EQ(csr_read(mcause), 0x8000000000000007ul);

    /* mtvec: modes 0 and 1 only; a reserved mode leaves it unchanged */
    uint64_t tvec = csr_read(mtvec);
    csr_write(mtvec, 0x80000102ul);
    CHECK_EQ(csr_read(mtvec), tvec);
    csr_write(stvec, 0x80000101ul);
    CHECK_EQ(csr_read(stvec), 0x80000101ul);

    /* mstatus: UXL = SXL = 2, MPP WARL, SD follows FS */
    uint64_t ms = csr_read(mstatus);
    CHECK_EQ((ms >> 32) & 0xf, 0xa);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 1ul << 11); /* MPP = S */
    CHECK_EQ((csr_read(mstatus) >> 11) & 3, 1);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 2ul << 11); /* MPP = 2 (reserved): unchanged */
    CHECK_EQ((csr_read(mstatus) >> 11) & 3, 0);
    csr_set(mstatus, 3ul << 13); /* FS = dirty -> SD */
    CHECK(csr_read(mstatus) >> 63);
    CHECK(csr_read(sstatus) >> 63);
    csr_clear(mstatus, 3ul << 13);
    CHECK(!(csr_read(mstatus) >> 63));
    /* sstatus shows and writes only its own fields */
    csr_set(mstatus, MSTATUS_MIE | MSTATUS_TVM);
    CHECK_EQ(csr_read(sstatus) & (MSTATUS_MIE | MSTATUS_TVM), 0);
    csr_write(sstatus, 0);
    CHECK(csr_read(mstatus) & MSTATUS_TVM);
    csr_clear(mstatus, MSTATUS_MIE | MSTATUS_TVM);
    csr_set(sstatus, MSTATUS_SUM | MSTATUS_SIE);
    CHECK_EQ(csr_read(mstatus) & (MSTATUS_SUM | MSTATUS_SIE),
             MSTATUS_SUM | MSTATUS_SIE);
    csr_clear(sstatus, MSTATUS_SUM | MSTATUS_SIE);
    CHECK_EQ((csr_read(sstatus) >> 32) & 3, 2); /* UXL */

    /* delegation and interrupt-enable masks */
    csr_write(medeleg, -1);
    CHECK_EQ(csr_read(medeleg), 0xb3ff);
    csr_write(medeleg, 0);
    csr_write(mideleg, -1);
    CHECK_EQ(csr_read(mideleg), 0x222);
    csr_write(mie, -1);
    CHECK_EQ(csr_read(mie), 0xaaa);
    CHECK_EQ(csr_read(sie), 0x222);
    csr_write(sie, 0);
    CHECK_EQ(csr_read(mie), 0x888);
    csr_write(mideleg, 0x2); /* only SSI delegated */
    CHECK_EQ(csr_read(sie), 0);
    csr_write(mie, 0);
    /* mip: M may set SSIP/STIP/SEIP; MSIP/MTIP/MEIP belong to devices */
    csr_write(mip, 0xaaa);
    CHECK_EQ(csr_read(mip) & 0xaaa, 0x222);
    CHECK_EQ(csr_read(sip), 0x2); /* through mideleg */
    csr_write(sip, 0);            /* clears SSIP (delegated) only */
    CHECK_EQ(csr_read(mip) & 0xaaa, 0x220);
    csr_write(mip, 0);
    CHECK_EQ(csr_read(mip) & 0xaaa, 0);
    csr_write(mideleg, 0);

    /* satp: Sv39/Sv48 accepted; unsupported modes leave it unchanged */
    csr_write(satp, 0);
    csr_write(satp, (10ul << 60) | 0x80123ul); /* Sv57 */
    CHECK_EQ(csr_read(satp), 0);
    csr_write(satp, (9ul << 60) | 0x80123ul); /* Sv48 */
    CHECK_EQ(csr_read(satp), (9ul << 60) | 0x80123ul);
    csr_write(satp, (10ul << 60) | 0x80555ul);
    CHECK_EQ(csr_read(satp), (9ul << 60) | 0x80123ul);
    csr_write(satp, (8ul << 60) | (0x5ul << 44) | 0x80123ul); /* Sv39 */
    CHECK_EQ(csr_read(satp), (8ul << 60) | (0x5ul << 44) | 0x80123ul);
    csr_write(satp, (1ul << 60) | 0x1);
    CHECK_EQ(csr_read(satp) >> 60, 8);
    csr_write(satp, 0);
    CHECK_EQ(csr_read(satp), 0);

    /* counters: instret counts, and is writable; cycle too */
    uint64_t i0 = csr_read(minstret);
    __asm__ volatile("nop; nop; nop; nop");
    uint64_t i1 = csr_read(minstret);
    CHECK(i1 - i0 >= 5 && i1 - i0 < 20);
    csr_write(minstret, 1000000);
    uint64_t i2 = csr_read(minstret);
    CHECK(i2 >= 1000000 && i2 < 1000010);
    CHECK_EQ(csr_read(instret) - i2 < 10, 1);
    csr_write(mcycle, 0);
    CHECK(csr_read(mcycle) < 1000);
    /* time follows the CLINT's mtime */
    volatile uint64_t *mtime = (volatile uint64_t *)(CLINT_BASE + 0xbff8);
    uint64_t t0 = *mtime;
    uint64_t t1 = csr_read(time);
    uint64_t t2 = *mtime;
    CHECK(t0 <= t1 && t1 <= t2);
    CHECK_EQ(csr_read(mcountinhibit) & 2, 0);
    CHECK_EQ(csr_read(mhpmcounter3), 0);
    CHECK_EQ(csr_read(mhpmevent3), 0);

    /* envcfg: only FIOM exists here */
    csr_write(menvcfg, -1);
    CHECK_EQ(csr_read(menvcfg), 1);
    csr_write(senvcfg, -1);
    CHECK_EQ(csr_read(senvcfg), 1);
    /* triggers: present, none implemented */
    csr_write(tselect, 0);
    CHECK_EQ(csr_read(tselect), 0);
    CHECK_EQ(csr_read(tdata1), 0);
    /* PMP: 16 entries, grain 4 bytes; entries 16..63 read as zero */
    csr_write(pmpaddr3, -1);
    CHECK_EQ(csr_read(pmpaddr3), (1ul << 54) - 1);
    csr_write(pmpaddr3, 0);
    csr_write(pmpaddr20, -1);
    CHECK_EQ(csr_read(pmpaddr20), 0);
    CHECK_EQ(csr_read(pmpcfg4), 0);

    /* CSRs that do not exist */
    EXPECT_ILLEGAL((void)csr_read(0x7c0));   /* custom */
    EXPECT_ILLEGAL((void)csr_read(0x001));   /* fflags: no F */
    EXPECT_ILLEGAL((void)csr_read(0x003));   /* fcsr */
    EXPECT_ILLEGAL((void)csr_read(0x14d));   /* stimecmp: no Sstc */
    EXPECT_ILLEGAL((void)csr_read(0x747));   /* mseccfg: no Smepmp */
    EXPECT_ILLEGAL((void)csr_read(0x310));   /* mstatush: RV32 only */
    EXPECT_ILLEGAL((void)csr_read(0x3a1));   /* pmpcfg1: RV32 only */
    EXPECT_ILLEGAL((void)csr_read(0xb01));   /* no mtime CSR */
    EXPECT_ILLEGAL((void)csr_read(0x7b0));   /* dcsr: debug mode only */
    EXPECT_ILLEGAL((void)csr_read(0x600));   /* hstatus: no H */
    EXPECT_ILLEGAL(csr_write(0x7c0, 1));
    /* CSRRW with rd = x0 to a missing CSR is still illegal */
    EXPECT_ILLEGAL(__asm__ volatile("csrw 0x7c1, zero"));
    /* writes to read-only CSRs; reading them with csrrs x0 is fine */
    EXPECT_ILLEGAL(csr_write(mhartid, 1));
    EXPECT_ILLEGAL(csr_write(cycle, 1));
    EXPECT_ILLEGAL(csr_write(mvendorid, 1));
    EXPECT_ILLEGAL(__asm__ volatile("csrsi mhartid, 1"));
    EXPECT_OK(__asm__ volatile("csrsi mhartid, 0"));
    EXPECT_OK(__asm__ volatile("csrs mhartid, zero"));

    /* from S mode */
    CHECK_EQ(run_in_mode(PRV_S, s_mode_probe, 0), 0x1234);
    CHECK_EQ(csr_read(mscratch), 0x34);
    uint64_t c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 1);
    CHECK_EQ(mtrap.count, c + 3);
    CHECK_EQ(mtrap.cause, 2);
    CHECK_EQ(mtrap.priv, PRV_S);
    csr_write(mcounteren, 0);
    c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 2);
    CHECK_EQ(mtrap.count, c + 3);
    csr_write(mcounteren, 0x5); /* CY and IR, not TM */
    c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 2);
    CHECK_EQ(mtrap.count, c + 1);
    csr_write(mcounteren, 7);
    c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 2);
    CHECK_EQ(mtrap.count, c);
    csr_set(mstatus, MSTATUS_TVM);
    c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 3);
    CHECK_EQ(mtrap.count, c + 2);
    csr_clear(mstatus, MSTATUS_TVM);
    c = mtrap.count;
    run_in_mode(PRV_S, s_mode_probe, 3);
    CHECK_EQ(mtrap.count, c);

    /* from U mode: S CSRs are illegal; counters need both enables */
    c = mtrap.count;
    run_in_mode(PRV_U, u_mode_probe, 0);
    CHECK_EQ(mtrap.count, c + 2);
    CHECK_EQ(mtrap.priv, PRV_U);
    csr_write(scounteren, 0);
    c = mtrap.count;
    run_in_mode(PRV_U, u_mode_probe, 1);
    CHECK_EQ(mtrap.count, c + 3);
    csr_write(scounteren, 7);
    c = mtrap.count;
    CHECK(run_in_mode(PRV_U, u_mode_probe, 1) != 0);
    CHECK_EQ(mtrap.count, c);

    puts_("csr: ok\n");
    return 0;
}
