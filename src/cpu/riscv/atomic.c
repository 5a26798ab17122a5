/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The A extension: AMOs and LR/SC, atomic across host threads.
 *
 * AMOs on RAM are host atomic read-modify-writes (__atomic builtins, or a
 * compare-and-swap loop for min/max), sequentially consistent whatever the
 * aq/rl bits say: on x86 a locked instruction is a full barrier anyway.
 *
 * LR/SC: LR records the host address, size and value it loaded; SC
 * succeeds when it targets the same address and a compare-and-swap from
 * that value to the new one succeeds.  This is the usual emulator
 * approach, with its known caveat (ABA): if other harts change the word
 * and change it back between the LR and the SC, the SC succeeds although
 * a real reservation would have been lost.  LR/SC loops that only need
 * atomicity of the update (locks, counters, lists with the value as the
 * only key) behave correctly.
 *
 * Misaligned AMOs and LR/SC raise address-misaligned exceptions (load for
 * LR, store/AMO otherwise).  LR/SC to non-RAM raise access faults; AMOs to
 * MMIO are performed as a read then a write, not atomically.
 */
#include "internal.h"

enum {
    AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_XOR = 0x04, AMO_OR = 0x08,
    AMO_AND = 0x0c, AMO_MIN = 0x10, AMO_MAX = 0x14, AMO_MINU = 0x18,
    AMO_MAXU = 0x1c,
};

/* Translates a naturally aligned atomic access; TLB first. */
static bool atomic_translate(RiscvHart *h, uint64_t va, unsigned size,
                             RiscvAccess access, uint64_t *pa,
                             uint8_t **host)
{
    if (va & (size - 1)) {
        hart_raise(h, access == RISCV_ACCESS_READ ? EXC_LOAD_MISALIGNED
                                                  : EXC_STORE_MISALIGNED, va);
        return false;
    }
    const TlbEntry *e = &h->dtlb[(va >> PAGE_BITS) & (TLB_SIZE - 1)];
    uint64_t tag = access == RISCV_ACCESS_READ ? e->tag_r : e->tag_w;
    if ((va & PAGE_MASK) == tag) {
        *host = (uint8_t *)(uintptr_t)(va + e->addend);
        *pa = e->ppage | (va & ~PAGE_MASK);
        return true;
    }
    return riscv_mmu_access(h, va, size, access, pa, host);
}

static uint64_t apply(unsigned f5, uint64_t a, uint64_t b, unsigned size)
{
    if (size == 4) {
        a = sext(a, 32);
        b = sext(b, 32);
    }
    switch (f5) {
    case AMO_ADD: return a + b;
    case AMO_SWAP: return b;
    case AMO_XOR: return a ^ b;
    case AMO_OR: return a | b;
    case AMO_AND: return a & b;
    case AMO_MIN: return (int64_t)a < (int64_t)b ? a : b;
    case AMO_MAX: return (int64_t)a > (int64_t)b ? a : b;
    case AMO_MINU:
        if (size == 4)
            return (uint32_t)a < (uint32_t)b ? a : b;
        return a < b ? a : b;
    default: /* AMO_MAXU */
        if (size == 4)
            return (uint32_t)a > (uint32_t)b ? a : b;
        return a > b ? a : b;
    }
}

static uint64_t amo32(uint32_t *p, unsigned f5, uint32_t v)
{
    switch (f5) {
    case AMO_ADD: return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
    case AMO_SWAP: return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
    case AMO_XOR: return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
    case AMO_OR: return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
    case AMO_AND: return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
    default: {
        uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old,
                                            (uint32_t)apply(f5, old, v, 4),
                                            false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
        return old;
    }
    }
}

static uint64_t amo64(uint64_t *p, unsigned f5, uint64_t v)
{
    switch (f5) {
    case AMO_ADD: return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
    case AMO_SWAP: return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
    case AMO_XOR: return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
    case AMO_OR: return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
    case AMO_AND: return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
    default: {
        uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old, apply(f5, old, v, 8),
                                            false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
        return old;
    }
    }
}

bool riscv_amo(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t src,
               uint64_t *old)
{
    unsigned size = (unsigned)ins->imm & 0xff;
    unsigned f5 = (unsigned)ins->imm >> 8;
    uint64_t pa;
    uint8_t *host;

    if (!atomic_translate(h, va, size, RISCV_ACCESS_WRITE, &pa, &host))
        return false;
    if (host) {
        *old = size == 4 ? sext(amo32((uint32_t *)host, f5, (uint32_t)src), 32)
                         : amo64((uint64_t *)host, f5, src);
        return true;
    }
    uint64_t cur;
    if (h->bus.mmio_read(h->bus.opaque, pa, size, &cur) != 0 ||
        h->bus.mmio_write(h->bus.opaque, pa, size,
                          apply(f5, cur, src, size) &
                              (size == 4 ? 0xffffffffull : UINT64_MAX)) != 0) {
        hart_raise(h, EXC_STORE_ACCESS, va);
        return false;
    }
    *old = size == 4 ? sext(cur, 32) : cur;
    return true;
}

bool riscv_lr(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t *val)
{
    unsigned size = (unsigned)ins->imm;
    uint64_t pa;
    uint8_t *host;

    if (!atomic_translate(h, va, size, RISCV_ACCESS_READ, &pa, &host))
        return false;
    if (!host) {
        hart_raise(h, EXC_LOAD_ACCESS, va);
        return false;
    }
    uint64_t v = size == 4
                     ? __atomic_load_n((uint32_t *)host, __ATOMIC_SEQ_CST)
                     : __atomic_load_n((uint64_t *)host, __ATOMIC_SEQ_CST);
    h->res_host = host;
    h->res_size = size;
    h->res_val = v;
    *val = size == 4 ? sext(v, 32) : v;
    return true;
}

bool riscv_sc(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t src,
              uint64_t *result)
{
    unsigned size = (unsigned)ins->imm;
    uint64_t pa;
    uint8_t *host;

    if (va & (size - 1)) {
        hart_raise(h, EXC_STORE_MISALIGNED, va);
        return false;
    }
    uint8_t *res = h->res_host;
    h->res_host = NULL; /* an SC always ends the reservation */
    if (!res || h->res_size != size) {
        *result = 1;
        return true;
    }
    if (!atomic_translate(h, va, size, RISCV_ACCESS_WRITE, &pa, &host))
        return false;
    if (host != res) {
        *result = 1;
        return true;
    }
    bool ok;
    if (size == 4) {
        uint32_t expected = (uint32_t)h->res_val;
        ok = __atomic_compare_exchange_n((uint32_t *)host, &expected,
                                         (uint32_t)src, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        uint64_t expected = h->res_val;
        ok = __atomic_compare_exchange_n((uint64_t *)host, &expected, src,
                                         false, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST);
    }
    *result = ok ? 0 : 1;
    return true;
}
