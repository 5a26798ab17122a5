/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm's own answers where QEMU 7.2's differ: run on parvm only, never
 * compared with QEMU.  Each is either what the privileged spec 1.12
 * mandates and QEMU 7.2 does not do, or a legal choice (WARL, optional
 * extension) where parvm's is checked exactly here and the compared tests
 * (csr.c, rv64a.S, vm.c, pmp.c) accept both.
 */
#include "lib.h"

#define EXPECT_TRAP(stmt, want_cause, want_tval)                             \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK_EQ(mtrap.cause, want_cause);                                   \
        CHECK_EQ(mtrap.tval, want_tval);                                     \
    } while (0)

static uint64_t data[4] __attribute__((aligned(16)));
static uint64_t root[512] __attribute__((aligned(4096)));

static uint64_t mprv_load(uint64_t va)
{
    uint64_t v = 0;
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 1ul << 11); /* MPP = S */
    __asm__ volatile("csrs mstatus, %1\n\t"
                     "ld %0, 0(%2)\n\t"
                     "csrc mstatus, %1"
                     : "+&r"(v)
                     : "r"(MSTATUS_MPRV), "r"(va)
                     : "memory");
    return v;
}

int main(int hartid)
{
    (void)hartid;

    /* identification: RV64 ACDFIMSU exactly; no vendor, arch, impl ids */
    CHECK_EQ(csr_read(misa), 0x800000000014112dul);
    CHECK_EQ(csr_read(marchid), 0);
    CHECK_EQ(csr_read(mimpid), 0);

    /* mepc/sepc bit 0 is always 0 (spec; QEMU 7.2 keeps it) */
    csr_write(mepc, 0x80001003ul);
    CHECK_EQ(csr_read(mepc), 0x80001002ul);
    csr_write(sepc, -1ul);
    CHECK_EQ(csr_read(sepc), 0xfffffffffffffffeul);

    /* MPP is WARL: 2 (no such mode) leaves it unchanged (QEMU stores 2) */
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 1ul << 11);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, 2ul << 11);
    CHECK_EQ((csr_read(mstatus) >> 11) & 3, 0);

    /* delegable exceptions and interrupts: no H, and medeleg[11] (ECALL
     * from M) hardwired to 0 as the spec recommends */
    csr_write(medeleg, -1);
    CHECK_EQ(csr_read(medeleg), 0xb3ff);
    csr_write(medeleg, 0);
    csr_write(mideleg, -1);
    CHECK_EQ(csr_read(mideleg), 0x222);
    csr_write(mideleg, 0);
    csr_write(mie, -1);
    CHECK_EQ(csr_read(mie), 0xaaa);
    csr_write(mie, 0);

    /* instret counts instructions exactly; cycle follows it */
    uint64_t i0 = csr_read(minstret);
    __asm__ volatile("nop; nop; nop; nop");
    uint64_t i1 = csr_read(minstret);
    CHECK(i1 - i0 >= 5 && i1 - i0 < 20);
    csr_write(minstret, 1000000);
    uint64_t i2 = csr_read(minstret);
    CHECK(i2 >= 1000000 && i2 < 1000010);
    csr_write(mcycle, 0);
    CHECK(csr_read(mcycle) < 1000);

    /* envcfg: only FIOM; no triggers; no Sstc, no H */
    csr_write(menvcfg, -1);
    CHECK_EQ(csr_read(menvcfg), 1);
    csr_write(menvcfg, 0);
    csr_write(senvcfg, -1);
    CHECK_EQ(csr_read(senvcfg), 1);
    csr_write(senvcfg, 0);
    csr_write(tselect, 0);
    CHECK_EQ(csr_read(tdata1), 0);
    EXPECT_ILLEGAL((void)csr_read(0x14d)); /* stimecmp */
    EXPECT_ILLEGAL((void)csr_read(0x600)); /* hstatus */

    /* PMP: address bits 63:54 are zero; entries 16-63 exist (spec 3.7:
     * all PMP CSRs are implemented if any is) and are read-only zero;
     * R=0 W=1 is reserved and W is dropped (as Spike does) */
    csr_write(pmpaddr3, -1);
    CHECK_EQ(csr_read(pmpaddr3), (1ul << 54) - 1);
    csr_write(pmpaddr3, 0);
    EXPECT_OK(csr_write(pmpaddr20, -1));
    EXPECT_OK(CHECK_EQ(csr_read(pmpaddr20), 0));
    EXPECT_OK(CHECK_EQ(csr_read(pmpaddr63), 0));
    EXPECT_OK(csr_write(pmpcfg4, -1));
    EXPECT_OK(CHECK_EQ(csr_read(pmpcfg4), 0));
    EXPECT_OK(CHECK_EQ(csr_read(pmpcfg14), 0));
    csr_write(pmpcfg0, 0x18 | 0x2);
    CHECK_EQ(csr_read(pmpcfg0) & 0xff, 0x18);
    csr_write(pmpcfg0, 0);

    /* misaligned AMOs: store/AMO address misaligned (6); QEMU 7.2 with
     * one hart reports 4 */
    uint64_t a = (uint64_t)data;
    EXPECT_TRAP(__asm__ volatile("amoadd.d zero, zero, (%0)" ::"r"(a + 4)
                                 : "memory"),
                6, a + 4);
    EXPECT_TRAP(__asm__ volatile("amoor.w zero, zero, (%0)" ::"r"(a + 2)
                                 : "memory"),
                6, a + 2);
    /* a misaligned SC traps even without a reservation (QEMU 7.2 fails
     * it quietly) */
    EXPECT_TRAP(__asm__ volatile("sc.w t0, zero, (%0)" ::"r"(a + 2)
                                 : "t0", "memory"),
                6, a + 2);
    EXPECT_TRAP(__asm__ volatile("sc.d t0, zero, (%0)" ::"r"(a + 4)
                                 : "t0", "memory"),
                6, a + 4);

    /* page tables where there is no memory: access fault (spec 4.3.2
     * step 2; QEMU 7.2 gives a page fault) */
    csr_write(satp, (8ul << 60) | (UNASSIGNED_ADDR >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    EXPECT_TRAP(mprv_load(0x1000), 5, 0x1000);
    /* and a leaf in RAM pointing at nothing: access fault too */
    root[0] = 0xc7; /* V R W A D gigapage at physical 0 */
    csr_write(satp, (8ul << 60) | ((uint64_t)root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    EXPECT_TRAP(mprv_load(UNASSIGNED_ADDR), 5, UNASSIGNED_ADDR);
    csr_write(satp, 0);

    /* fflags changed by an instruction that writes only an x register
     * (here flt.d with a NaN): the F state is modified, so FS becomes
     * Dirty (priv. spec 3.1.6.6); QEMU 7.2 leaves it Clean */
    uint64_t r;
    csr_set(mstatus, 1ul << 13); /* FS = Initial */
    __asm__ volatile("fmv.d.x ft2, %0" ::"r"(0x7ff8000000000000ul) : "ft2");
    csr_clear(mstatus, 3ul << 13);
    csr_set(mstatus, 2ul << 13); /* FS = Clean */
    __asm__ volatile("flt.d %0, ft2, ft2" : "=r"(r));
    CHECK_EQ(r, 0);
    CHECK_EQ((csr_read(mstatus) >> 13) & 3, 3);
    CHECK_EQ(csr_read(fflags), 0x10);
    csr_clear(mstatus, 3ul << 13);

    puts_("impl: ok\n");
    return 0;
}
