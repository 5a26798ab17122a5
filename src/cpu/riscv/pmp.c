/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Physical memory protection: 16 entries, grain 4 bytes (G = 0), OFF, TOR,
 * NA4 and NAPOT, with the lock bit.  Checked on every access that misses
 * the TLB; the TLB caches only pages that one decision covers entirely.
 */
#include "internal.h"

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_A_SHIFT 3
#define PMP_L 0x80
#define PMP_ADDR_MASK ((1ull << 54) - 1) /* pmpaddr holds bits 55:2 */

enum { PMP_OFF, PMP_TOR, PMP_NA4, PMP_NAPOT };

static unsigned a_field(uint8_t cfg)
{
    return (cfg >> PMP_A_SHIFT) & 3;
}

static void update_range(RiscvHart *h, unsigned i)
{
    uint64_t addr = h->pmpaddr[i];
    uint64_t sa = 1, ea = 0; /* empty */

    switch (a_field(h->pmpcfg[i])) {
    case PMP_TOR: {
        uint64_t lo = i ? h->pmpaddr[i - 1] << 2 : 0;
        uint64_t hi = addr << 2;
        if (hi > lo) {
            sa = lo;
            ea = hi - 1;
        }
        break;
    }
    case PMP_NA4:
        sa = addr << 2;
        ea = sa + 3;
        break;
    case PMP_NAPOT: {
        unsigned t = (unsigned)__builtin_ctzll(~addr); /* trailing ones */
        if (t + 3 >= 64) {
            sa = 0;
            ea = UINT64_MAX;
        } else {
            uint64_t size = (uint64_t)1 << (t + 3);
            sa = (addr << 2) & ~(size - 1);
            ea = sa + size - 1;
        }
        break;
    }
    default:
        break;
    }
    h->pmp_sa[i] = sa;
    h->pmp_ea[i] = ea;
}

static void update_all(RiscvHart *h)
{
    h->pmp_active = 0;
    for (unsigned i = 0; i < PMP_COUNT; i++) {
        update_range(h, i);
        if (a_field(h->pmpcfg[i]) != PMP_OFF)
            h->pmp_active++;
    }
    /* Cached pages were checked against the old rules. */
    riscv_tlb_flush(h);
}

void riscv_pmp_reset(RiscvHart *h)
{
    for (unsigned i = 0; i < PMP_COUNT; i++) {
        h->pmpcfg[i] = 0;
        h->pmpaddr[i] = 0;
    }
    update_all(h);
}

static bool in_range(const RiscvHart *h, unsigned i, uint64_t a)
{
    return a >= h->pmp_sa[i] && a <= h->pmp_ea[i];
}

bool riscv_pmp_check(const RiscvHart *h, uint64_t pa, unsigned size,
                     RiscvAccess access, unsigned priv)
{
    if (h->pmp_active == 0)
        return priv == RISCV_PRIV_M;
    uint64_t last = pa + size - 1;
    for (unsigned i = 0; i < PMP_COUNT; i++) {
        uint8_t cfg = h->pmpcfg[i];
        if (a_field(cfg) == PMP_OFF)
            continue;
        bool s = in_range(h, i, pa), e = in_range(h, i, last);
        if (!s && !e)
            continue;
        /* The first entry matching any byte decides; it must match all. */
        if (s != e)
            return false;
        if (priv == RISCV_PRIV_M && !(cfg & PMP_L))
            return true;
        unsigned need = access == RISCV_ACCESS_READ ? PMP_R
                        : access == RISCV_ACCESS_WRITE ? PMP_W : PMP_X;
        return (cfg & need) != 0;
    }
    /* No match: M succeeds; S and U fail since entries are implemented. */
    return priv == RISCV_PRIV_M;
}

bool riscv_pmp_page_uniform(const RiscvHart *h, uint64_t ppage)
{
    uint64_t last = ppage + PAGE_SIZE - 1;
    for (unsigned i = 0; i < PMP_COUNT; i++) {
        if (a_field(h->pmpcfg[i]) == PMP_OFF)
            continue;
        if (h->pmp_sa[i] <= ppage && h->pmp_ea[i] >= last)
            return true; /* covers the page: lower entries don't matter */
        if (h->pmp_sa[i] <= last && h->pmp_ea[i] >= ppage)
            return false; /* covers part of it */
    }
    return true;
}

uint64_t riscv_pmpcfg_read(const RiscvHart *h, unsigned reg)
{
    uint64_t v = 0;
    if (reg * 4 + 8 > PMP_COUNT)
        return 0;
    for (unsigned b = 0; b < 8; b++)
        v |= (uint64_t)h->pmpcfg[reg * 4 + b] << (8 * b);
    return v;
}

void riscv_pmpcfg_write(RiscvHart *h, unsigned reg, uint64_t val)
{
    if (reg * 4 + 8 > PMP_COUNT)
        return; /* entries that do not exist are read-only zero */
    for (unsigned b = 0; b < 8; b++) {
        unsigned i = reg * 4 + b;
        uint8_t cfg = (uint8_t)(val >> (8 * b));
        if (h->pmpcfg[i] & PMP_L)
            continue;
        cfg &= PMP_R | PMP_W | PMP_X | (3 << PMP_A_SHIFT) | PMP_L;
        if ((cfg & (PMP_R | PMP_W)) == PMP_W)
            cfg &= (uint8_t)~PMP_W; /* R=0 W=1 is reserved */
        h->pmpcfg[i] = cfg;
    }
    update_all(h);
}

uint64_t riscv_pmpaddr_read(const RiscvHart *h, unsigned idx)
{
    return idx < PMP_COUNT ? h->pmpaddr[idx] : 0;
}

void riscv_pmpaddr_write(RiscvHart *h, unsigned idx, uint64_t val)
{
    if (idx >= PMP_COUNT || (h->pmpcfg[idx] & PMP_L))
        return;
    if (idx + 1 < PMP_COUNT && (h->pmpcfg[idx + 1] & PMP_L) &&
        a_field(h->pmpcfg[idx + 1]) == PMP_TOR)
        return; /* the locked TOR entry above uses this as its base */
    h->pmpaddr[idx] = val & PMP_ADDR_MASK;
    update_all(h);
}
