/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sv39, Sv48 and Sv57: translation, superpages, permission checks, page faults
 * with their causes and tvals, A/D updates, SUM, MXR, MPRV, sfence.vma,
 * and delegation of page faults to S. */
#include "lib.h"

#define PTE_V 0x01ul
#define PTE_R 0x02ul
#define PTE_W 0x04ul
#define PTE_X 0x08ul
#define PTE_U 0x10ul
#define PTE_A 0x40ul
#define PTE_D 0x80ul
#define PPN(pa) ((((uint64_t)(pa)) >> 12) << 10)

#define TEST_VA 0x1000000000ul /* root index 64 */
#define VA(i) (TEST_VA + (uint64_t)(i) * 4096)

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t root48[512] __attribute__((aligned(4096)));
static uint64_t root57[512] __attribute__((aligned(4096)));
static uint64_t ptpage[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint8_t pages[8][4096] __attribute__((aligned(4096)));

static bool jump_fault_hook(uint64_t cause, uint64_t *regs)
{
    if (cause == 12 || cause == 1) {
        csr_write(mepc, regs[1]);
        return true;
    }
    return false;
}

static uint64_t mprv_load(unsigned mpp, uint64_t va)
{
    uint64_t v = 0;
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, (uint64_t)mpp << 11);
    __asm__ volatile("csrs mstatus, %1\n\t"
                     "ld %0, 0(%2)\n\t"
                     "csrc mstatus, %1"
                     : "+&r"(v)
                     : "r"(MSTATUS_MPRV), "r"(va)
                     : "memory");
    return v;
}

/* U-mode tests run their code from the identity-mapped RAM gigapage, so
 * it gets the U bit for them (S can then neither run nor, without SUM,
 * touch it). */
static void ram_user(bool user)
{
    if (user)
        root[2] |= PTE_U;
    else
        root[2] &= ~PTE_U;
    __asm__ volatile("sfence.vma" ::: "memory");
}

static void set_satp(uint64_t v)
{
    csr_write(satp, v);
    __asm__ volatile("sfence.vma" ::: "memory");
}

int main(int hartid)
{
    (void)hartid;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4096; j += 8)
            *(uint64_t *)&pages[i][j] = 0x1000ul * (uint64_t)i + (uint64_t)j;

    /* identity gigapages: devices (0-1 GiB) and RAM (2-3 GiB), S only */
    root[0] = PPN(0) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    root[2] = PPN(RAM_BASE) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    root[64] = PPN(l1) | PTE_V;
    l1[0] = PPN(l0) | PTE_V;
    l0[0] = PPN(pages[0]) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    l0[1] = PPN(pages[0]) | PTE_V | PTE_R | PTE_A;          /* read-only */
    l0[2] = PPN(pages[1]) | PTE_V | PTE_R | PTE_W;          /* A = D = 0 */
    l0[3] = PPN(pages[2]) | PTE_V | PTE_X | PTE_A;          /* exec-only */
    l0[4] = PPN(pages[3]) | PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
    l0[5] = 0;                                              /* unmapped */
    l0[6] = PPN(pages[4]) | PTE_V | PTE_R | PTE_A | (1ul << 60); /* rsvd */
    l0[7] = PPN(pages[4]) | PTE_V | PTE_W | PTE_A | PTE_D;  /* W, no R */
    l0[8] = PPN(pages[5]) | PTE_V | PTE_R | PTE_X | PTE_U | PTE_A; /* U code */
    l0[9] = PPN(pages[6]) | PTE_V | PTE_R | PTE_A;
    /* 2 MiB superpages: one misaligned, one aligned */
    l1[1] = PPN(pages[4]) | PTE_V | PTE_R | PTE_A;
    l1[2] = PPN(RAM_BASE + 0x200000) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    /* U code page: "li a0, 7; ret" */
    *(uint32_t *)&pages[5][0] = 0x00700513;
    *(uint16_t *)&pages[5][4] = 0x8082;
    __asm__ volatile("fence.i");

    csr_write(stvec, (uint64_t)s_trap_entry);
    set_satp((8ul << 60) | ((uint64_t)root >> 12));

    /* basic translation and aliasing */
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(0) + 8)), 8);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(1) + 16)), 16);
    EXPECT_NO_FAULT(run_in_mode(PRV_S, store_at, VA(0) + 24));
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(1) + 24)),
             STORE_AT_VALUE);
    CHECK_EQ(*(uint64_t *)&pages[0][24], STORE_AT_VALUE);
    /* aligned superpage */
    *(volatile uint64_t *)(RAM_BASE + 0x201238) = 0xabcdef;
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at,
                                         TEST_VA + 0x400000 + 0x1238)),
             0xabcdef);

    /* page faults: cause and tval */
    EXPECT_FAULT(run_in_mode(PRV_S, store_at, VA(1)), 15, VA(1));
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(5) + 0x40), 13, VA(5) + 0x40);
    EXPECT_FAULT(run_in_mode(PRV_S, store_at, VA(5)), 15, VA(5));
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(6)), 13, VA(6));
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(7)), 13, VA(7));
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, TEST_VA + 0x200000), 13,
                 TEST_VA + 0x200000);
    /* bits 63:39 must copy bit 38 */
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0x4000000000ul), 13,
                 0x4000000000ul);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0xffff000000000000ul), 13,
                 0xffff000000000000ul);
    m_trap_hook = jump_fault_hook;
    EXPECT_FAULT(run_in_mode(PRV_S, call_at, VA(5)), 12, VA(5));
    EXPECT_FAULT(run_in_mode(PRV_S, call_at, VA(0)), 12, VA(0)); /* no X */
    /* S may not execute a U page, even with SUM */
    csr_set(mstatus, MSTATUS_SUM);
    EXPECT_FAULT(run_in_mode(PRV_S, call_at, VA(8)), 12, VA(8));
    csr_clear(mstatus, MSTATUS_SUM);
    ram_user(true);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_U, call_at, VA(8))), 7);
    ram_user(false);
    m_trap_hook = NULL;

    /* misaligned access crossing into an unmapped page */
    {
        uint64_t c0 = mtrap.count;
        run_in_mode(PRV_S, load_at, VA(5) - 4);
        CHECK_EQ(mtrap.count, c0 + 1);
        CHECK_EQ(mtrap.cause, 13);
    }

    /* U and S pages */
    ram_user(true);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_U, load_at, VA(4) + 8)),
             0x3008);
    EXPECT_FAULT(run_in_mode(PRV_U, load_at, VA(0)), 13, VA(0));
    EXPECT_FAULT(run_in_mode(PRV_U, store_at, VA(0)), 15, VA(0));
    ram_user(false);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(4)), 13, VA(4));
    csr_set(mstatus, MSTATUS_SUM);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(4) + 16)),
             0x3010);
    csr_clear(mstatus, MSTATUS_SUM);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(4)), 13, VA(4));

    /* MXR: execute-only pages become readable */
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(3)), 13, VA(3));
    csr_set(mstatus, MSTATUS_MXR);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(3) + 8)), 0x2008);
    csr_clear(mstatus, MSTATUS_MXR);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, VA(3)), 13, VA(3));

    /* A and D are set by the walk, atomically */
    CHECK_EQ(l0[2] & (PTE_A | PTE_D), 0);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(2))), 0x1000);
    CHECK_EQ(l0[2] & (PTE_A | PTE_D), PTE_A);
    EXPECT_NO_FAULT(run_in_mode(PRV_S, store_at, VA(2)));
    CHECK_EQ(l0[2] & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(*(uint64_t *)&pages[1][0], STORE_AT_VALUE);
    /* a store through a clean page after the load sets D */
    l0[2] &= ~(PTE_A | PTE_D);
    __asm__ volatile("sfence.vma" ::: "memory");
    run_in_mode(PRV_S, load_at, VA(2));
    CHECK_EQ(l0[2] & (PTE_A | PTE_D), PTE_A);
    run_in_mode(PRV_S, store_at, VA(2));
    CHECK_EQ(l0[2] & PTE_D, PTE_D);

    /* sfence.vma makes a changed PTE visible */
    CHECK_EQ(run_in_mode(PRV_S, load_at, VA(9)), 0x6000);
    l0[9] = PPN(pages[7]) | PTE_V | PTE_R | PTE_A;
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECK_EQ(run_in_mode(PRV_S, load_at, VA(9)), 0x7000);

    /* MPRV: M-mode loads translated with MPP's rights */
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_S, VA(0) + 8)), 8);
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_U, VA(4) + 8)), 0x3008);
    EXPECT_FAULT(mprv_load(PRV_U, VA(0)), 13, VA(0));
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_M, (uint64_t)&pages[2][8])),
             0x2008);
    CHECK_EQ(csr_read(mstatus) & MSTATUS_MPRV, 0);

    /* page faults delegated to S */
    csr_write(medeleg, (1 << 13) | (1 << 15));
    uint64_t mc = mtrap.count, sc = strap.count;
    run_in_mode(PRV_S, load_at, VA(5));
    CHECK_EQ(strap.count, sc + 1);
    CHECK_EQ(strap.cause, 13);
    CHECK_EQ(strap.tval, VA(5));
    run_in_mode(PRV_S, store_at, VA(1));
    CHECK_EQ(strap.count, sc + 2);
    CHECK_EQ(strap.cause, 15);
    CHECK_EQ(strap.tval, VA(1));
    CHECK_EQ(mtrap.count, mc);
    csr_write(medeleg, 0);

    /* Sv48: a 4-level table whose entry 0 is the Sv39 root */
    root48[0] = PPN(root) | PTE_V;
    set_satp((9ul << 60) | ((uint64_t)root48 >> 12));
    CHECK_EQ(csr_read(satp) >> 60, 9);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(0) + 8)), 8);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0x800000000000ul), 13,
                 0x800000000000ul);
    /* under Sv48, 0x4000000000 is canonical (root48[0] covers it) and
     * unmapped in the level-3 table */
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0x4000000000ul), 13,
                 0x4000000000ul);

    /* Sv57: a 5-level table whose entry 0 is the Sv48 root */
    root57[0] = PPN(root48) | PTE_V;
    set_satp((10ul << 60) | ((uint64_t)root57 >> 12));
    CHECK_EQ(csr_read(satp) >> 60, 10);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, load_at, VA(0) + 16)), 16);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0x800000000000ul), 13,
                 0x800000000000ul); /* canonical, not mapped */
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, 0x100000000000000ul), 13,
                 0x100000000000000ul); /* bits 63:57 must copy bit 56 */
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_S, VA(1) + 32)), 32);

    /* page tables that PMP denies to S: access fault, not page fault */
    ptpage[0] = PPN(root) | PTE_V;
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_S, VA(0) + 40)), 40);
    set_satp((9ul << 60) | ((uint64_t)ptpage >> 12));
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_S, VA(0) + 40)), 40);
    csr_write(pmpaddr0, ((uint64_t)ptpage >> 2) | 0x1ff); /* NAPOT 4 KiB */
    csr_write(pmpcfg0, 0x18);                             /* no access */
    __asm__ volatile("sfence.vma" ::: "memory");
    EXPECT_FAULT(mprv_load(PRV_S, VA(0) + 40), 5, VA(0) + 40);
    csr_write(pmpcfg0, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECK_EQ(EXPECT_NO_FAULT(mprv_load(PRV_S, VA(0) + 40)), 40);

    /* page tables where there is no memory: the spec says access fault,
     * as parvm gives (impl.c); QEMU 7.2 gives a page fault */
    set_satp((8ul << 60) | (UNASSIGNED_ADDR >> 12));
    {
        uint64_t c0 = mtrap.count;
        mprv_load(PRV_S, VA(0));
        CHECK_EQ(mtrap.count, c0 + 1);
        CHECK(mtrap.cause == 5 || mtrap.cause == 13);
        CHECK_EQ(mtrap.tval, VA(0));
    }
    set_satp(0);

    puts_("vm: ok\n");
    return 0;
}
