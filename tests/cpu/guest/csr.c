/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CSRs: values, WARL fields, counters, and every kind of illegal access
 * (which must raise illegal instruction with the encoding in mtval). */
#include "lib.h"

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
    /* misa: MXL = 64 and at least RV64IMAFDCSU (QEMU 7.2 also reports
     * H; parvm reports exactly these eight). */
    uint64_t misa = csr_read(misa);
    CHECK_EQ(misa >> 62, 2);
    CHECK_EQ(misa & 0x14112dul, 0x14112dul); /* A C D F I M S U */
    CHECK_EQ(misa & ((1ul << 4) | (1ul << 17)), 0); /* not E, not N */
    CHECK_EQ(csr_read(mhartid), 0);
    CHECK_EQ(csr_read(mvendorid), 0);
    /* marchid and mimpid are the implementation's (QEMU 7.2 puts its
     * version there, parvm 0): readable, and read-only (below) */
    (void)csr_read(marchid);
    (void)csr_read(mimpid);
    csr_write(misa, 0); /* WARL: writing 0 must not remove extensions */
    CHECK_EQ(csr_read(misa), misa);

    /* plain read/write registers */
    csr_write(mscratch, 0xdeadbeefcafef00dul);
    CHECK_EQ(csr_read(mscratch), 0xdeadbeefcafef00dul);
    CHECK_EQ(csr_swap(mscratch, 5), 0xdeadbeefcafef00dul);
    csr_set(mscratch, 0x30);
    csr_clear(mscratch, 0x1);
    CHECK_EQ(csr_read(mscratch), 0x34);
    /* mepc/sepc bit 0 is always 0 (the spec; parvm, checked by spec.c);
     * QEMU 7.2 keeps it, so only the other bits are compared here */
    csr_write(mepc, 0x80001003ul);
    CHECK_EQ(csr_read(mepc) | 1, 0x80001003ul);
    csr_write(sepc, 0xffffffffffffffff);
    CHECK_EQ(csr_read(sepc) | 1, 0xffffffffffffffff);
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
    csr_clear(mstatus, MSTATUS_MPP); /* MPP = U: U mode exists */
    CHECK_EQ((csr_read(mstatus) >> 11) & 3, 0);
    /* MPP = 2 is reserved: parvm leaves MPP alone (spec.c), QEMU 7.2
     * stores it; not compared here */
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

    /* delegation and interrupt-enable masks.  Only the bits of the base
     * ISA with S and U are compared: QEMU 7.2 also has the H extension's
     * (medeleg 10, 20-23; VS interrupts 2, 6, 10, 12) and lets medeleg[11]
     * (ECALL from M) be written, which parvm hardwires to zero (as the
     * spec says it should; see spec.c). */
    csr_write(medeleg, -1);
    CHECK_EQ(csr_read(medeleg) & 0xff3ff, 0xb3ff);
    csr_write(medeleg, 0);
    CHECK_EQ(csr_read(medeleg), 0);
    csr_write(mideleg, -1);
    CHECK_EQ(csr_read(mideleg) & 0xaaa, 0x222);
    csr_write(mideleg, 0x222);
    csr_write(mie, -1);
    CHECK_EQ(csr_read(mie) & 0xaaa, 0xaaa);
    CHECK_EQ(csr_read(sie) & 0xaaa, 0x222);
    csr_write(sie, 0);
    CHECK_EQ(csr_read(mie) & 0xaaa, 0x888);
    csr_write(mideleg, 0x2); /* only SSI delegated */
    CHECK_EQ(csr_read(sie), 0);
    csr_write(mie, 0);
    /* mip: M may set SSIP/STIP/SEIP; MSIP/MTIP/MEIP belong to devices.
     * mtimecmp resets to 0 on QEMU's CLINT and parvm's, so MTIP is
     * pending until it is moved into the future. */
    volatile uint64_t *mtimecmp = (volatile uint64_t *)(CLINT_BASE + 0x4000);
    CHECK_EQ(csr_read(mip) & 0x80, 0x80);
    *mtimecmp = -1ul;
    CHECK_EQ(csr_read(mip) & 0x80, 0);
    csr_write(mip, 0xaaa);
    CHECK_EQ(csr_read(mip) & 0xaaa, 0x222);
    CHECK_EQ(csr_read(sip), 0x2); /* through mideleg */
    csr_write(sip, 0);            /* clears SSIP (delegated) only */
    CHECK_EQ(csr_read(mip) & 0xaaa, 0x220);
    csr_write(mip, 0);
    CHECK_EQ(csr_read(mip) & 0xaaa, 0);
    csr_write(mideleg, 0);

    /* satp: Sv39/Sv48/Sv57 accepted (as on QEMU 7.2); unsupported modes
     * leave it unchanged (Linux probes Sv57, Sv48, Sv39 that way) */
    csr_write(satp, 0);
    csr_write(satp, (11ul << 60) | 0x80123ul); /* Sv64: none has it */
    CHECK_EQ(csr_read(satp), 0);
    csr_write(satp, (9ul << 60) | 0x80123ul); /* Sv48 */
    CHECK_EQ(csr_read(satp), (9ul << 60) | 0x80123ul);
    csr_write(satp, (11ul << 60) | 0x80555ul);
    CHECK_EQ(csr_read(satp), (9ul << 60) | 0x80123ul);
    csr_write(satp, (10ul << 60) | 0x80124ul); /* Sv57 */
    CHECK_EQ(csr_read(satp), (10ul << 60) | 0x80124ul);
    csr_write(satp, (8ul << 60) | (0x5ul << 44) | 0x80123ul); /* Sv39 */
    CHECK_EQ(csr_read(satp), (8ul << 60) | (0x5ul << 44) | 0x80123ul);
    csr_write(satp, (1ul << 60) | 0x1);
    CHECK_EQ(csr_read(satp) >> 60, 8);
    csr_write(satp, 0);
    CHECK_EQ(csr_read(satp), 0);

    /* counters: instret counts up and is writable; cycle too.  QEMU 7.2
     * (without -icount) counts host clock ticks in both, so exact counts
     * are checked on parvm only (spec.c). */
    uint64_t i0 = csr_read(minstret);
    __asm__ volatile("nop; nop; nop; nop");
    uint64_t i1 = csr_read(minstret);
    CHECK(i1 > i0);
    csr_write(minstret, 1000000);
    uint64_t i2 = csr_read(minstret);
    CHECK(i2 >= 1000000 && i2 - 1000000 < (1ul << 32));
    CHECK(csr_read(instret) >= i2);
    csr_write(mcycle, 0);
    CHECK(csr_read(mcycle) < (1ul << 32));
    /* time follows the CLINT's mtime */
    volatile uint64_t *mtime = (volatile uint64_t *)(CLINT_BASE + 0xbff8);
    uint64_t t0 = *mtime;
    uint64_t t1 = csr_read(time);
    uint64_t t2 = *mtime;
    CHECK(t0 <= t1 && t1 <= t2);
    CHECK_EQ(csr_read(mcountinhibit) & 2, 0);
    CHECK_EQ(csr_read(mhpmcounter3), 0);
    CHECK_EQ(csr_read(mhpmevent3), 0);

    /* envcfg: FIOM is writable (parvm has only FIOM; QEMU 7.2 also has
     * the CBO and PBMT/STCE fields), and every field can be cleared */
    csr_write(menvcfg, -1);
    CHECK_EQ(csr_read(menvcfg) & 1, 1);
    csr_write(menvcfg, 0);
    CHECK_EQ(csr_read(menvcfg), 0);
    csr_write(senvcfg, -1);
    CHECK_EQ(csr_read(senvcfg) & 1, 1);
    csr_write(senvcfg, 0);
    CHECK_EQ(csr_read(senvcfg), 0);
    /* triggers: the CSRs exist (parvm has no trigger: tdata1 reads 0,
     * checked in impl.c; QEMU 7.2 has mcontrol triggers) */
    csr_write(tselect, 0);
    CHECK_EQ(csr_read(tselect), 0);
    (void)csr_read(tdata1);
    /* PMP: 16 entries, grain 4 bytes (bits 63:54 are zero per the spec,
     * as on parvm, see impl.c; QEMU 7.2 keeps them) */
    csr_write(pmpaddr3, -1);
    CHECK_EQ(csr_read(pmpaddr3) & ((1ul << 54) - 1), (1ul << 54) - 1);
    csr_write(pmpaddr3, 0);
    /* entries 16..63: the spec makes their CSRs read-only zero (parvm,
     * impl.c); QEMU 7.2 raises illegal instruction */

    /* CSRs that do not exist */
    EXPECT_ILLEGAL((void)csr_read(0x7c0));   /* custom */
    /* fflags, fcsr: mstatus.FS is Off (as after reset).  (Sstc's
     * stimecmp and H's CSRs exist on QEMU 7.2 only: impl.c) */
    EXPECT_ILLEGAL((void)csr_read(0x001));   /* fflags */
    EXPECT_ILLEGAL((void)csr_read(0x003));   /* fcsr */
    EXPECT_ILLEGAL((void)csr_read(0x747));   /* mseccfg: no Smepmp */
    EXPECT_ILLEGAL((void)csr_read(0x310));   /* mstatush: RV32 only */
    EXPECT_ILLEGAL((void)csr_read(0x3a1));   /* pmpcfg1: RV32 only */
    EXPECT_ILLEGAL((void)csr_read(0xb01));   /* no mtime CSR */
    EXPECT_ILLEGAL((void)csr_read(0x7b0));   /* dcsr: debug mode only */
    EXPECT_ILLEGAL(csr_write(0x7c0, 1));
    /* CSRRW with rd = x0 to a missing CSR is still illegal */
    EXPECT_ILLEGAL(__asm__ volatile("csrw 0x7c1, zero"));
    /* writes to read-only CSRs; reading them with csrrs x0 is fine */
    EXPECT_ILLEGAL(csr_write(mhartid, 1));
    EXPECT_ILLEGAL(csr_write(cycle, 1));
    EXPECT_ILLEGAL(csr_write(mvendorid, 1));
    EXPECT_ILLEGAL(csr_write(marchid, 1));
    EXPECT_ILLEGAL(csr_write(mimpid, 1));
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
