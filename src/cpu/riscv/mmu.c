/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address translation: Sv39/Sv48/Sv57 page walks, PMP, and the software TLB.
 *
 * The TLB caches only RAM pages whose PMP decision is the same for every
 * byte, so a hit needs no further check.  A/D bits are set with a
 * compare-and-swap on the PTE in host memory: when another hart changed
 * the PTE in between, the walk starts over, so no update is ever lost.
 */
#include <string.h>

#include "internal.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_MASK ((1ull << 44) - 1)

void riscv_tlb_flush(RiscvHart *h)
{
    /* All tags (and ppage) become TLB_INVALID. */
    memset(h->tlb, 0xff, sizeof(h->tlb));
}

void riscv_tlb_drop_write(RiscvHart *h, uint64_t ppage)
{
    for (unsigned t = 0; t < TLB_COUNT; t++)
        for (unsigned i = 0; i < TLB_SIZE; i++)
            if (h->tlb[t][i].ppage == ppage)
                h->tlb[t][i].tag_w = TLB_INVALID;
}

static unsigned ctx_index(unsigned priv, uint64_t mstatus)
{
    switch (priv) {
    case RISCV_PRIV_M: return TLB_M;
    case RISCV_PRIV_S: return (mstatus & MSTATUS_SUM) ? TLB_S_SUM : TLB_S;
    default: return TLB_U;
    }
}

static unsigned data_priv(const RiscvHart *h)
{
    if (h->priv == RISCV_PRIV_M && (h->mstatus & MSTATUS_MPRV))
        return (unsigned)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    return h->priv;
}

void riscv_mmu_update_context(RiscvHart *h)
{
    h->dtlb = h->tlb[ctx_index(data_priv(h), h->mstatus)];
    h->itlb = h->tlb[ctx_index(h->priv, h->mstatus)];
}

static uint64_t page_fault(RiscvAccess a)
{
    return a == RISCV_ACCESS_EXEC ? EXC_INSN_PAGE
           : a == RISCV_ACCESS_READ ? EXC_LOAD_PAGE : EXC_STORE_PAGE;
}

static uint64_t access_fault(RiscvAccess a)
{
    return a == RISCV_ACCESS_EXEC ? EXC_INSN_ACCESS
           : a == RISCV_ACCESS_READ ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS;
}

/* Host pointer to a PTE, or NULL when page tables are not in RAM or PMP
 * forbids the implicit access (which is made with S-mode rights). */
static uint64_t *pte_ptr(RiscvHart *h, uint64_t pa, RiscvAccess a)
{
    uint64_t avail;
    if (!riscv_pmp_check(h, pa, 8, a, RISCV_PRIV_S))
        return NULL;
    uint8_t *p = h->bus.ram_ptr(h->bus.opaque, pa, a, &avail);
    if (!p || avail < 8)
        return NULL;
    return (uint64_t *)p;
}

static bool walk(RiscvHart *h, uint64_t va, RiscvAccess access,
                 unsigned priv, uint64_t *pa)
{
    unsigned mode = (unsigned)(h->satp >> SATP_MODE_SHIFT);
    int levels = (int)mode - SATP_MODE_SV39 + 3; /* Sv39/48/57: 3/4/5 */
    unsigned va_bits = PAGE_BITS + 9 * (unsigned)levels;

    if (sext(va, va_bits) != va) {
        hart_raise(h, page_fault(access), va);
        return false;
    }
restart:;
    uint64_t base = (h->satp & SATP_PPN_MASK) << PAGE_BITS;
    for (int level = levels - 1; level >= 0; level--) {
        uint64_t pte_pa = base + ((va >> (PAGE_BITS + 9 * level)) & 511) * 8;
        uint64_t *pp = pte_ptr(h, pte_pa, RISCV_ACCESS_READ);
        if (!pp) {
            hart_raise(h, access_fault(access), va);
            return false;
        }
        uint64_t pte = __atomic_load_n(pp, __ATOMIC_ACQUIRE);
        /* Bits 63:54 are N, PBMT and reserved: none is implemented. */
        if (!(pte & PTE_V) || ((pte & (PTE_R | PTE_W)) == PTE_W) ||
            (pte >> 54) != 0)
            break;
        uint64_t ppn = (pte >> 10) & PTE_PPN_MASK;
        if (!(pte & (PTE_R | PTE_X))) {
            base = ppn << PAGE_BITS; /* pointer to the next level */
            continue;
        }
        /* Leaf: permission checks come before any A/D update. */
        if (priv == RISCV_PRIV_U && !(pte & PTE_U))
            break;
        if (priv == RISCV_PRIV_S && (pte & PTE_U) &&
            (access == RISCV_ACCESS_EXEC || !(h->mstatus & MSTATUS_SUM)))
            break;
        if (access == RISCV_ACCESS_EXEC && !(pte & PTE_X))
            break;
        if (access == RISCV_ACCESS_READ &&
            !((pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X))))
            break;
        if (access == RISCV_ACCESS_WRITE && !(pte & PTE_W))
            break;
        uint64_t low = ((uint64_t)1 << (9 * level)) - 1;
        if (ppn & low)
            break; /* misaligned superpage */
        uint64_t want = PTE_A | (access == RISCV_ACCESS_WRITE ? PTE_D : 0);
        if ((pte & want) != want) {
            uint64_t *pw = pte_ptr(h, pte_pa, RISCV_ACCESS_WRITE);
            if (!pw) {
                hart_raise(h, access_fault(access), va);
                return false;
            }
            uint64_t expected = pte;
            if (!__atomic_compare_exchange_n(pw, &expected, pte | want, false,
                                             __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST))
                goto restart; /* another hart changed it: walk again */
        }
        uint64_t off_mask = ((uint64_t)1 << (PAGE_BITS + 9 * level)) - 1;
        *pa = ((ppn << PAGE_BITS) & ~off_mask) | (va & off_mask);
        return true;
    }
    hart_raise(h, page_fault(access), va);
    return false;
}

static void tlb_fill(RiscvHart *h, uint64_t va, uint64_t pa, uint8_t *host,
                     RiscvAccess access, bool code_page)
{
    TlbEntry *tlb = access == RISCV_ACCESS_EXEC ? h->itlb : h->dtlb;
    TlbEntry *e = &tlb[(va >> PAGE_BITS) & (TLB_SIZE - 1)];
    uint64_t vpage = va & PAGE_MASK;
    uintptr_t addend = (uintptr_t)(host - (pa & ~PAGE_MASK)) - (uintptr_t)vpage;

    bool same = (e->tag_r == vpage || e->tag_w == vpage ||
                 e->tag_x == vpage) && e->addend == addend;
    if (!same)
        e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
    e->addend = addend;
    e->ppage = pa & PAGE_MASK;
    switch (access) {
    case RISCV_ACCESS_READ:
        e->tag_r = vpage;
        break;
    case RISCV_ACCESS_WRITE:
        /* Writable implies readable for both PTEs and PMP (R=0/W=1 is
         * reserved in each). */
        e->tag_r = vpage;
        if (!code_page)
            e->tag_w = vpage;
        break;
    case RISCV_ACCESS_EXEC:
        e->tag_x = vpage;
        break;
    }
}

bool riscv_mmu_access(RiscvHart *h, uint64_t va, unsigned size,
                      RiscvAccess access, uint64_t *pa, uint8_t **host)
{
    unsigned priv = access == RISCV_ACCESS_EXEC ? h->priv : data_priv(h);
    unsigned mode = (unsigned)(h->satp >> SATP_MODE_SHIFT);
    uint64_t p = va;

    if (priv != RISCV_PRIV_M && mode != SATP_MODE_BARE) {
        if (!walk(h, va, access, priv, &p))
            return false;
    }
    if (!riscv_pmp_check(h, p, size, access, priv)) {
        hart_raise(h, access_fault(access), va);
        return false;
    }
    uint64_t avail = 0;
    uint8_t *hp = h->bus.ram_ptr(h->bus.opaque, p, access, &avail);
    if (hp && avail < size)
        hp = NULL;
    bool code_page = false;
    if (hp && access == RISCV_ACCESS_WRITE)
        code_page = riscv_cache_note_store(h, p, size);
    if (hp && avail >= PAGE_SIZE - (p & ~PAGE_MASK) &&
        riscv_pmp_page_uniform(h, p & PAGE_MASK))
        tlb_fill(h, va, p, hp, access, code_page);
    *pa = p;
    *host = hp;
    return true;
}
