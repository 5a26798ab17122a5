/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Misaligned accesses, as QEMU's virt performs them: loads and stores to
 * RAM at any alignment are performed without a trap, in every mode and
 * through translation, also across a page boundary; when the second page
 * of a crossing access faults, nothing is written and the tval is the
 * address of the part that faulted (the start of that page), so that an
 * OS that pages on demand can fault the page in.  Misaligned AMOs and LR
 * trap (address misaligned, before any page fault) and write nothing.
 */
#include "lib.h"

#define PTE_V 0x01ul
#define PTE_R 0x02ul
#define PTE_W 0x04ul
#define PTE_X 0x08ul
#define PTE_U 0x10ul
#define PTE_A 0x40ul
#define PTE_D 0x80ul
#define PPN(pa) ((((uint64_t)(pa)) >> 12) << 10)

#define TEST_VA 0x1000000000ul
#define VA(i) (TEST_VA + (uint64_t)(i) * 4096)

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint8_t pages[6][4096] __attribute__((aligned(4096)));

/* A misaligned AMO: cause 6, or 4 as QEMU 7.2 gives with one hart. */
#define EXPECT_AMO_FAULT(expr, want_tval)                                    \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        (void)(expr);                                                        \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK(mtrap.cause == 6 || mtrap.cause == 4);                         \
        CHECK_EQ(mtrap.tval, want_tval);                                     \
    } while (0)

/* Accesses through pointers the compiler cannot see through, so that it
 * emits the one instruction asked for. */
static uint64_t ld(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static uint64_t lw(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static uint64_t lwu(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lwu %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static uint64_t lh(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lh %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static uint64_t lhu(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lhu %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static uint64_t sd(uint64_t a)
{
    __asm__ volatile("sd %0, 0(%1)" ::"r"(0x1122334455667788ul), "r"(a)
                     : "memory");
    return 0;
}
static uint64_t sw(uint64_t a)
{
    __asm__ volatile("sw %0, 0(%1)" ::"r"(0x99aabbccul), "r"(a) : "memory");
    return 0;
}
static uint64_t sh(uint64_t a)
{
    __asm__ volatile("sh %0, 0(%1)" ::"r"(0xddeeul), "r"(a) : "memory");
    return 0;
}
/* compressed forms: c.ld / c.sd / c.lw / c.sw with offset 0 */
static uint64_t c_ld(uint64_t a)
{
    register uint64_t v __asm__("a4");
    register uint64_t p __asm__("a5") = a;
    __asm__ volatile(".option push; .option rvc; c.ld %0, 0(%1); .option pop"
                     : "=r"(v) : "r"(p) : "memory");
    return v;
}
static uint64_t c_sw(uint64_t a)
{
    register uint64_t v __asm__("a4") = 0x0badf00dul;
    register uint64_t p __asm__("a5") = a;
    __asm__ volatile(".option push; .option rvc; c.sw %0, 0(%1); .option pop"
                     ::"r"(v), "r"(p) : "memory");
    return 0;
}
static uint64_t amoadd_w(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(v) : "r"(a), "r"(1ul)
                     : "memory");
    return v;
}
static uint64_t amoswap_d(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("amoswap.d %0, %2, (%1)" : "=r"(v) : "r"(a), "r"(1ul)
                     : "memory");
    return v;
}
static uint64_t lr_d(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("lr.d %0, (%1)" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static void fill(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

/* The bytes at p read as a little-endian number. */
static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static void m_mode_every_offset(void)
{
    uint8_t *b = pages[0];
    for (uint64_t off = 0; off < 16; off++) {
        uint64_t a = (uint64_t)b + off;
        fill(b, 32, 0x80);
        CHECK_EQ(ld(a), le(b + off, 8));
        CHECK_EQ(lw(a), sext(le(b + off, 4), 32));
        CHECK_EQ(lwu(a), le(b + off, 4));
        CHECK_EQ(lh(a), sext(le(b + off, 2), 16));
        CHECK_EQ(lhu(a), le(b + off, 2));
        CHECK_EQ(c_ld(a), le(b + off, 8));
        sd(a);
        CHECK_EQ(le(b + off, 8), 0x1122334455667788ul);
        CHECK_EQ(b[off + 8], (uint8_t)(0x80 + off + 8)); /* no more */
        if (off)
            CHECK_EQ(b[off - 1], (uint8_t)(0x80 + off - 1)); /* no less */
        sw(a);
        CHECK_EQ(le(b + off, 4), 0x99aabbcc);
        CHECK_EQ(b[off + 4], 0x44); /* sd's byte 4 is still there */
        sh(a);
        CHECK_EQ(le(b + off, 2), 0xddee);
        c_sw(a);
        CHECK_EQ(le(b + off, 4), 0x0badf00d);
    }
    /* M mode, across a page boundary, no translation */
    uint64_t edge = (uint64_t)pages[1];
    for (uint64_t back = 1; back < 8; back++) {
        fill(pages[0] + 4080, 16, 0x10);
        fill(pages[1], 16, 0x20);
        CHECK_EQ(ld(edge - back), le((uint8_t *)(edge - back), 8));
        sd(edge - back);
        CHECK_EQ(le((uint8_t *)(edge - back), 8), 0x1122334455667788ul);
    }
    /* AMOs and LR: misaligned traps, nothing written, even in M mode */
    fill(b, 32, 0x80);
    EXPECT_AMO_FAULT(amoadd_w((uint64_t)b + 2), (uint64_t)b + 2);
    EXPECT_AMO_FAULT(amoswap_d((uint64_t)b + 4), (uint64_t)b + 4);
    EXPECT_AMO_FAULT(amoswap_d(edge - 4), edge - 4); /* across a page */
    EXPECT_FAULT(lr_d((uint64_t)b + 1), 4, (uint64_t)b + 1);
    CHECK_EQ(le(b, 8), 0x8786858483828180ul);
    CHECK_EQ(le(b + 8, 8), 0x8f8e8d8c8b8a8988ul);
}

static void set_satp(uint64_t v)
{
    csr_write(satp, v);
    __asm__ volatile("sfence.vma" ::: "memory");
}

static void pmp_sync(void)
{
    /* after PMP changes with translation on (priv. spec 3.7.2) */
    __asm__ volatile("sfence.vma" ::: "memory");
}

static void translated(void)
{
    /* identity gigapage for RAM (code, stack, data), then test pages */
    root[2] = PPN(RAM_BASE) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    root[0] = PPN(0) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    root[64] = PPN(l1) | PTE_V;
    l1[0] = PPN(l0) | PTE_V;
    const uint64_t rw = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    const uint64_t ro = PTE_V | PTE_R | PTE_A;
    l0[0] = PPN(pages[2]) | rw;
    l0[1] = PPN(pages[3]) | rw;
    l0[2] = PPN(pages[4]) | ro;
    l0[3] = 0;
    l0[4] = PPN(pages[5]) | rw;
    l0[5] = PPN(pages[1]) | rw | PTE_U;
    l0[6] = PPN(pages[4]) | ro;
    l0[7] = PPN(pages[5]) | rw;
    l0[8] = PPN(pages[2]) | rw;
    l0[9] = 0;
    l0[10] = PPN(pages[5]) | rw; /* not physically followed by pages[3] */
    l0[11] = PPN(pages[3]) | rw;
    set_satp((8ul << 60) | ((uint64_t)root >> 12));
    for (int i = 1; i < 6; i++)
        fill(pages[i], 4096, (uint8_t)(i * 0x10));

    /* within a page, and across two mapped pages (not contiguous in
     * physical memory) */
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, ld, VA(0) + 13)),
             le(pages[2] + 13, 8));
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, lw, VA(1) - 2)),
             sext(le(pages[2] + 4094, 2) | le(pages[3], 2) << 16, 32));
    EXPECT_NO_FAULT(run_in_mode(PRV_S, sd, VA(1) - 3));
    CHECK_EQ(le(pages[2] + 4093, 3), 0x667788);
    CHECK_EQ(le(pages[3], 5), 0x1122334455ul);
    CHECK_EQ(pages[3][5], 0x35);

    /* second page read-only: store page fault at its first byte, nothing
     * written on either page; a load is fine */
    uint64_t before = le(pages[3] + 4088, 8), before2 = le(pages[4], 8);
    EXPECT_FAULT(run_in_mode(PRV_S, sd, VA(2) - 4), 15, VA(2));
    EXPECT_FAULT(run_in_mode(PRV_S, sh, VA(2) - 1), 15, VA(2));
    CHECK_EQ(le(pages[3] + 4088, 8), before);
    CHECK_EQ(le(pages[4], 8), before2);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, lwu, VA(2) - 1)),
             pages[3][4095] | le(pages[4], 3) << 8);
    /* second page unmapped: load and store page faults, tval = its start */
    before = le(pages[4] + 4088, 8);
    EXPECT_FAULT(run_in_mode(PRV_S, ld, VA(3) - 6), 13, VA(3));
    CHECK_EQ(le(pages[4] + 4088, 8), before);
    before = le(pages[2] + 4088, 8);
    EXPECT_FAULT(run_in_mode(PRV_S, sw, VA(9) - 2), 15, VA(9));
    EXPECT_FAULT(run_in_mode(PRV_S, sd, VA(9) - 1), 15, VA(9));
    CHECK_EQ(le(pages[2] + 4088, 8), before);
    /* first page unmapped: tval = the access's own address */
    before = le(pages[5], 8);
    EXPECT_FAULT(run_in_mode(PRV_S, ld, VA(4) - 6), 13, VA(4) - 6);
    EXPECT_FAULT(run_in_mode(PRV_S, sd, VA(4) - 6), 15, VA(4) - 6);
    /* first page read-only, second writable: fault at the first */
    EXPECT_FAULT(run_in_mode(PRV_S, sd, VA(7) - 4), 15, VA(7) - 4);
    CHECK_EQ(le(pages[5], 8), before);

    /* U mode: within a U page, then across into an S page */
    root[2] |= PTE_U; /* U runs from RAM */
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_U, ld, VA(5) + 7)),
             le(pages[1] + 7, 8));
    EXPECT_NO_FAULT(run_in_mode(PRV_U, sw, VA(5) + 4085));
    CHECK_EQ(le(pages[1] + 4085, 4), 0x99aabbcc);
    EXPECT_FAULT(run_in_mode(PRV_U, lhu, VA(6) - 1), 13, VA(6));
    root[2] &= ~PTE_U;
    __asm__ volatile("sfence.vma" ::: "memory");

    /* misaligned AMO on an unmapped page: misaligned comes first */
    before = le(pages[2] + 8, 8);
    EXPECT_AMO_FAULT(run_in_mode(PRV_S, amoadd_w, VA(3) + 2), VA(3) + 2);
    EXPECT_AMO_FAULT(run_in_mode(PRV_S, amoswap_d, VA(0) + 12), VA(0) + 12);
    EXPECT_FAULT(run_in_mode(PRV_S, lr_d, VA(0) + 12), 4, VA(0) + 12);
    CHECK_EQ(le(pages[2] + 8, 8), before);

    /* PMP: a misaligned access whose second half PMP denies to S faults
     * at that half (access fault), writing nothing.  (The first half's
     * page is not physically followed by the denied page: QEMU 7.2 checks
     * PMP for the whole size at the first half's physical address.) */
    before = le(pages[5] + 4088, 8);
    csr_write(pmpaddr0, ((uint64_t)pages[3] >> 2) | 0x1ff); /* NAPOT 4K */
    csr_write(pmpcfg0, 0x18 | 0x1);                         /* R only */
    pmp_sync();
    EXPECT_FAULT(run_in_mode(PRV_S, sd, VA(11) - 2), 7, VA(11));
    CHECK_EQ(le(pages[5] + 4088, 8), before);
    CHECK_EQ(EXPECT_NO_FAULT(run_in_mode(PRV_S, lhu, VA(11) - 1)),
             pages[5][4095] | (uint64_t)pages[3][0] << 8);
    csr_write(pmpcfg0, 0x18); /* no access */
    pmp_sync();
    EXPECT_FAULT(run_in_mode(PRV_S, ld, VA(11) - 2), 5, VA(11));
    csr_write(pmpcfg0, 0);
    pmp_sync();
    set_satp(0);
}

int main(int hartid)
{
    (void)hartid;
    m_mode_every_offset();
    translated();
    puts_("misalign: ok\n");
    return 0;
}
