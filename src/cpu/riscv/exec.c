/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inner interpreter: runs decoded blocks with threaded dispatch
 * (computed goto), chaining from block to block without leaving this
 * function, and returns to the outer loop (hart.c) only when something
 * needs it: a trap, a CSR or privileged instruction, a block not yet
 * decoded, a signal from another thread, or the instruction quantum
 * running out.
 *
 * Fast paths take no lock and call nothing: loads and stores that hit the
 * software TLB are one compare and one host access; a branch to a block in
 * the same page follows a cached link; a jump elsewhere looks the target
 * up through the fetch TLB and the decode cache's hash table.
 *
 * Retired-instruction accounting: entering a block adds all its
 * instructions to h->retired; leaving it early (a trap, an exit after a
 * system instruction) subtracts the ones that did not retire.
 */
#include "fpu.h"

static inline void host_fence(bool full)
{
#ifdef __SANITIZE_THREAD__
    /* TSan does not support fences; a locked RMW orders the same way. */
    uint32_t dummy = 0;
    (void)full;
    __atomic_exchange_n(&dummy, 1, __ATOMIC_SEQ_CST);
#else
    if (full)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_thread_fence(__ATOMIC_ACQ_REL);
#endif
}

void riscv_exec(RiscvHart *h, Block *blk, uint64_t vpc, uint64_t stop)
{
    static const void *const labels[OP_COUNT] = {
#define RISCV_OP_LABEL(name) [OP_##name] = &&L_##name,
        RISCV_OPS(RISCV_OP_LABEL)
#undef RISCV_OP_LABEL
    };
    uint64_t *const x = h->x;
    const TlbEntry *const dtlb = h->dtlb;
    const TlbEntry *const itlb = h->itlb;
    const Insn *ins;
    uint64_t tgt;
    unsigned slot;
    Block *nb;

#define DISPATCH() goto *labels[ins->op]
#define NEXT()                                                               \
    do {                                                                     \
        ins++;                                                               \
        DISPATCH();                                                          \
    } while (0)
#define RD x[ins->rd]
#define RS1 x[ins->rs1]
#define RS2 x[ins->rs2]
#define IMM ((uint64_t)(int64_t)ins->imm)
#define PC (vpc + ins->pc_off)
/* Instructions of this block before ins: those that did retire. */
#define UNRETIRE() (h->retired -= blk->n - (uint64_t)(ins - blk->insns))

enter:
    h->retired += blk->n;
    ins = blk->insns;
    DISPATCH();

/* ---- block transitions ---- */
L_END:
    tgt = PC;
    slot = 1;
    goto follow;
follow:
    if (unlikely(__atomic_load_n(&h->signal, __ATOMIC_RELAXED) != 0 ||
                 h->retired >= stop)) {
        h->pc = tgt;
        return;
    }
    if (((tgt ^ vpc) & PAGE_MASK) == 0 && !(blk->flags & BLOCK_NOCHAIN)) {
        nb = blk->chain[slot];
        if (unlikely(!nb))
            nb = riscv_cache_link(h, blk, slot, tgt & ~PAGE_MASK);
        if (likely(nb != NULL)) {
            blk = nb;
            vpc = tgt;
            goto enter;
        }
    }
    goto lookup;
jump:
    if (unlikely(__atomic_load_n(&h->signal, __ATOMIC_RELAXED) != 0 ||
                 h->retired >= stop)) {
        h->pc = tgt;
        return;
    }
lookup: {
    const TlbEntry *e = &itlb[(tgt >> PAGE_BITS) & (TLB_SIZE - 1)];
    if (e->tag_x == (tgt & PAGE_MASK)) {
        nb = riscv_cache_find(&h->cache, e->ppage | (tgt & ~PAGE_MASK));
        if (nb) {
            blk = nb;
            vpc = tgt;
            goto enter;
        }
    }
    h->pc = tgt;
    return;
}

/* ---- exits to the outer loop ---- */
exc: /* a helper raised h->exc_cause: ins did not retire */
    UNRETIRE();
exc_unretired:
    h->pc = PC;
    riscv_trap_take(h, h->exc_cause, h->exc_tval);
    return;
exit_next: /* ins retired; the outer loop continues after it */
    UNRETIRE();
    h->retired++;
    h->pc = PC + ins->len;
    return;

L_ILLEGAL:
    hart_raise(h, EXC_ILLEGAL, ins->raw);
    goto exc;

/* ---- RV64I ---- */
L_AUIPC: RD = PC + IMM; NEXT();
L_JAL:
    tgt = PC + IMM;
    RD = PC + ins->len;
    slot = 0;
    goto follow;
L_JALR:
    tgt = (RS1 + IMM) & ~1ull;
    RD = PC + ins->len;
    goto jump;

#define BRANCH(name, cond)                                                   \
    L_##name:                                                                \
    if (cond) {                                                              \
        tgt = PC + IMM;                                                      \
        slot = 0;                                                            \
        goto follow;                                                         \
    }                                                                        \
    NEXT();
    BRANCH(BEQ, RS1 == RS2)
    BRANCH(BNE, RS1 != RS2)
    BRANCH(BLT, (int64_t)RS1 < (int64_t)RS2)
    BRANCH(BGE, (int64_t)RS1 >= (int64_t)RS2)
    BRANCH(BLTU, RS1 < RS2)
    BRANCH(BGEU, RS1 >= RS2)
#undef BRANCH

/* Loads and stores: one TLB compare (which also rejects misaligned
 * addresses), then a relaxed atomic host access. */
#define LOAD(name, T, size)                                                  \
    L_##name: {                                                              \
        uint64_t a = RS1 + IMM;                                              \
        const TlbEntry *e = &dtlb[(a >> PAGE_BITS) & (TLB_SIZE - 1)];        \
        if (likely((a & (PAGE_MASK | (size - 1))) == e->tag_r)) {            \
            RD = (uint64_t)(T)__atomic_load_n((T *)(uintptr_t)(a + e->addend), \
                                              __ATOMIC_RELAXED);             \
        } else {                                                             \
            uint64_t v;                                                      \
            if (unlikely(!riscv_load_slow(h, a, size, &v)))                  \
                goto exc;                                                    \
            RD = (uint64_t)(T)v;                                             \
        }                                                                    \
        NEXT();                                                              \
    }
    LOAD(LB, int8_t, 1)
    LOAD(LH, int16_t, 2)
    LOAD(LW, int32_t, 4)
    LOAD(LD, uint64_t, 8)
    LOAD(LBU, uint8_t, 1)
    LOAD(LHU, uint16_t, 2)
    LOAD(LWU, uint32_t, 4)
#undef LOAD

#define STORE(name, T, size)                                                 \
    L_##name: {                                                              \
        uint64_t a = RS1 + IMM;                                              \
        const TlbEntry *e = &dtlb[(a >> PAGE_BITS) & (TLB_SIZE - 1)];        \
        if (likely((a & (PAGE_MASK | (size - 1))) == e->tag_w)) {            \
            __atomic_store_n((T *)(uintptr_t)(a + e->addend), (T)RS2,        \
                             __ATOMIC_RELAXED);                              \
        } else if (unlikely(!riscv_store_slow(h, a, size, RS2))) {           \
            goto exc;                                                        \
        }                                                                    \
        NEXT();                                                              \
    }
    STORE(SB, uint8_t, 1)
    STORE(SH, uint16_t, 2)
    STORE(SW, uint32_t, 4)
    STORE(SD, uint64_t, 8)
#undef STORE

L_ADDI: RD = RS1 + IMM; NEXT();
L_SLTI: RD = (int64_t)RS1 < (int64_t)IMM; NEXT();
L_SLTIU: RD = RS1 < IMM; NEXT();
L_XORI: RD = RS1 ^ IMM; NEXT();
L_ORI: RD = RS1 | IMM; NEXT();
L_ANDI: RD = RS1 & IMM; NEXT();
L_SLLI: RD = RS1 << ins->imm; NEXT();
L_SRLI: RD = RS1 >> ins->imm; NEXT();
L_SRAI: RD = (uint64_t)((int64_t)RS1 >> ins->imm); NEXT();
L_ADD: RD = RS1 + RS2; NEXT();
L_SUB: RD = RS1 - RS2; NEXT();
L_SLL: RD = RS1 << (RS2 & 63); NEXT();
L_SLT: RD = (int64_t)RS1 < (int64_t)RS2; NEXT();
L_SLTU: RD = RS1 < RS2; NEXT();
L_XOR: RD = RS1 ^ RS2; NEXT();
L_SRL: RD = RS1 >> (RS2 & 63); NEXT();
L_SRA: RD = (uint64_t)((int64_t)RS1 >> (RS2 & 63)); NEXT();
L_OR: RD = RS1 | RS2; NEXT();
L_AND: RD = RS1 & RS2; NEXT();
L_ADDIW: RD = sext(RS1 + IMM, 32); NEXT();
L_SLLIW: RD = sext((uint32_t)RS1 << ins->imm, 32); NEXT();
L_SRLIW: RD = sext((uint32_t)RS1 >> ins->imm, 32); NEXT();
L_SRAIW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> ins->imm); NEXT();
L_ADDW: RD = sext(RS1 + RS2, 32); NEXT();
L_SUBW: RD = sext(RS1 - RS2, 32); NEXT();
L_SLLW: RD = sext((uint32_t)RS1 << (RS2 & 31), 32); NEXT();
L_SRLW: RD = sext((uint32_t)RS1 >> (RS2 & 31), 32); NEXT();
L_SRAW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> (RS2 & 31)); NEXT();

L_FENCE:
    /* Only store->load ordering needs a host barrier on x86 (TSO); other
     * hosts get the matching acquire/release fences. */
    host_fence((ins->imm & 0x10) && (ins->imm & 0x02)); /* PW and SR */
    NEXT();
L_FENCE_I:
    h->flush_code = true;
    goto exit_next;
L_ECALL:
    hart_raise(h, EXC_ECALL_U + h->priv, 0);
    goto exc;
L_EBREAK:
    /* mtval may be zero on a breakpoint (priv. spec 3.1.16); QEMU writes
     * zero, and guests written for it see the same. */
    hart_raise(h, EXC_BREAKPOINT, 0);
    goto exc;

/* ---- M ---- */
L_MUL: RD = RS1 * RS2; NEXT();
L_MULH:
    RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64);
    NEXT();
L_MULHSU:
    RD = (uint64_t)(((__int128)(int64_t)RS1 *
                     (__int128)(unsigned __int128)RS2) >> 64);
    NEXT();
L_MULHU:
    RD = (uint64_t)(((unsigned __int128)RS1 * RS2) >> 64);
    NEXT();
L_DIV: {
    int64_t a = (int64_t)RS1, b = (int64_t)RS2;
    RD = b == 0 ? UINT64_MAX
         : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
    NEXT();
}
L_DIVU: RD = RS2 == 0 ? UINT64_MAX : RS1 / RS2; NEXT();
L_REM: {
    int64_t a = (int64_t)RS1, b = (int64_t)RS2;
    RD = b == 0 ? (uint64_t)a
         : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
    NEXT();
}
L_REMU: RD = RS2 == 0 ? RS1 : RS1 % RS2; NEXT();
L_MULW: RD = sext(RS1 * RS2, 32); NEXT();
L_DIVW: {
    int32_t a = (int32_t)RS1, b = (int32_t)RS2;
    RD = b == 0 ? UINT64_MAX
         : (a == INT32_MIN && b == -1) ? sext((uint32_t)a, 32)
                                       : (uint64_t)(int64_t)(a / b);
    NEXT();
}
L_DIVUW: {
    uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
    RD = b == 0 ? UINT64_MAX : sext(a / b, 32);
    NEXT();
}
L_REMW: {
    int32_t a = (int32_t)RS1, b = (int32_t)RS2;
    RD = b == 0 ? (uint64_t)(int64_t)a
         : (a == INT32_MIN && b == -1) ? 0 : (uint64_t)(int64_t)(a % b);
    NEXT();
}
L_REMUW: {
    uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
    RD = sext(b == 0 ? a : a % b, 32);
    NEXT();
}

/* ---- A ---- */
L_LR: {
    uint64_t v;
    if (unlikely(!riscv_lr(h, ins, RS1, &v)))
        goto exc;
    RD = v;
    NEXT();
}
L_SC: {
    uint64_t v;
    if (unlikely(!riscv_sc(h, ins, RS1, RS2, &v)))
        goto exc;
    RD = v;
    NEXT();
}
L_AMO: {
    uint64_t v;
    if (unlikely(!riscv_amo(h, ins, RS1, RS2, &v)))
        goto exc;
    RD = v;
    NEXT();
}

/* ---- F and D: loads and stores as the integer ones, after the
 * mstatus.FS check; a load makes FS Dirty (it writes an f register).
 * Everything else is fpu.c's. ---- */
#define FP_ON() (h->mstatus & MSTATUS_FS)
#define FLOAD(name, T, size, box)                                            \
    L_##name: {                                                              \
        uint64_t a = RS1 + IMM, v;                                           \
        const TlbEntry *e = &dtlb[(a >> PAGE_BITS) & (TLB_SIZE - 1)];        \
        if (unlikely(!FP_ON())) {                                            \
            hart_raise(h, EXC_ILLEGAL, ins->raw);                            \
            goto exc;                                                        \
        }                                                                    \
        if (likely((a & (PAGE_MASK | (size - 1))) == e->tag_r)) {            \
            v = __atomic_load_n((T *)(uintptr_t)(a + e->addend),             \
                                __ATOMIC_RELAXED);                           \
        } else if (unlikely(!riscv_load_slow(h, a, size, &v))) {             \
            goto exc;                                                        \
        }                                                                    \
        h->f[ins->rd] = (T)v | (box);                                        \
        h->mstatus |= MSTATUS_FS;                                            \
        NEXT();                                                              \
    }
    FLOAD(FLW, uint32_t, 4, 0xffffffff00000000ull)
    FLOAD(FLD, uint64_t, 8, 0)
#undef FLOAD

#define FSTORE(name, T, size)                                                \
    L_##name: {                                                              \
        uint64_t a = RS1 + IMM, v = h->f[ins->rs2];                          \
        const TlbEntry *e = &dtlb[(a >> PAGE_BITS) & (TLB_SIZE - 1)];        \
        if (unlikely(!FP_ON())) {                                            \
            hart_raise(h, EXC_ILLEGAL, ins->raw);                            \
            goto exc;                                                        \
        }                                                                    \
        if (likely((a & (PAGE_MASK | (size - 1))) == e->tag_w)) {            \
            __atomic_store_n((T *)(uintptr_t)(a + e->addend), (T)v,          \
                             __ATOMIC_RELAXED);                              \
        } else if (unlikely(!riscv_store_slow(h, a, size, v))) {             \
            goto exc;                                                        \
        }                                                                    \
        NEXT();                                                              \
    }
    FSTORE(FSW, uint32_t, 4)
    FSTORE(FSD, uint64_t, 8)
#undef FSTORE
#undef FP_ON

L_FP:
    if (unlikely(!riscv_fp_exec(h, ins)))
        goto exc;
    NEXT();

/* ---- Zicsr and privileged: always leave for the outer loop, which
 * re-evaluates interrupts and the translation context. ---- */
L_CSR:
    UNRETIRE();
    if (!riscv_csr_insn(h, ins, PC))
        goto exc_unretired;
    h->retired++;
    h->pc = PC + ins->len;
    return;
L_MRET:
    if (h->priv != RISCV_PRIV_M) {
        hart_raise(h, EXC_ILLEGAL, ins->raw);
        goto exc;
    }
    UNRETIRE();
    h->retired++;
    riscv_mret(h);
    return;
L_SRET:
    if (h->priv < RISCV_PRIV_S ||
        (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TSR))) {
        hart_raise(h, EXC_ILLEGAL, ins->raw);
        goto exc;
    }
    UNRETIRE();
    h->retired++;
    riscv_sret(h);
    return;
L_WFI:
    if (h->priv == RISCV_PRIV_U ||
        (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TW))) {
        hart_raise(h, EXC_ILLEGAL, ins->raw);
        goto exc;
    }
    h->wfi = true;
    goto exit_next;
L_SFENCE_VMA:
    if (h->priv == RISCV_PRIV_U ||
        (h->priv == RISCV_PRIV_S && (h->mstatus & MSTATUS_TVM))) {
        hart_raise(h, EXC_ILLEGAL, ins->raw);
        goto exc;
    }
    /* The TLB has no ASIDs and is small: drop all of it. */
    riscv_tlb_flush(h);
    goto exit_next;

#undef DISPATCH
#undef NEXT
#undef RD
#undef RS1
#undef RS2
#undef IMM
#undef PC
#undef UNRETIRE
}
