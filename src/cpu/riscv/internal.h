/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private state of a RISC-V hart, shared by the files of the interpreter.
 * Everything here is touched only by the hart thread, except the fields
 * marked "cross-thread", which are accessed with __atomic builtins.
 */
#ifndef RISCV_INTERNAL_H
#define RISCV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/riscv/hart.h"
#include "ops.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the RISC-V interpreter assumes a little-endian host"
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define PAGE_BITS 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_BITS)
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* ---- CSR numbers and fields used across files ---- */
#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SD (1ull << 63)

#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9
#define SATP_MODE_SV57 10
#define SATP_PPN_MASK ((1ull << 44) - 1)
#define SATP_ASID_MASK (0xffffull << 44)

#define CAUSE_INTERRUPT (1ull << 63)
enum {
    EXC_INSN_MISALIGNED = 0,
    EXC_INSN_ACCESS = 1,
    EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INSN_PAGE = 12,
    EXC_LOAD_PAGE = 13,
    EXC_STORE_PAGE = 15,
};

/* ---- software TLB ---- */
#define TLB_SIZE 256
#define TLB_INVALID UINT64_MAX
/* One entry caches one guest-virtual page that is RAM.  A tag holds the
 * page's virtual address when the access kind is allowed without a walk,
 * else TLB_INVALID; the fast path compares (va & (PAGE_MASK | size-1))
 * with the tag, so misaligned accesses miss and take the slow path. */
typedef struct TlbEntry {
    uint64_t tag_r, tag_w, tag_x;
    uintptr_t addend; /* host address = va + addend (mod 2^64) */
    uint64_t ppage;   /* guest-physical page */
} TlbEntry;

/* One TLB per translation context, so that traps, returns and the SUM
 * toggling Linux does around user copies need no flush. */
enum { TLB_U, TLB_S, TLB_S_SUM, TLB_M, TLB_COUNT };

/* ---- decoded instructions and blocks ---- */
typedef struct Insn {
    uint16_t op;     /* enum RiscvOp */
    uint8_t rd;      /* 32 (the sink) when the instruction writes x0 */
    uint8_t rs1, rs2;
    uint8_t len;     /* 2 or 4 */
    uint16_t pc_off; /* offset from the start of the block */
    int32_t imm;
    uint32_t raw;    /* the encoding, for mtval on an illegal instruction */
} Insn;

#define BLOCK_MAX_INSNS 64
#define BLOCK_NOCHAIN 1u  /* a scratch block: never linked or cached */

typedef struct Block {
    uint64_t ppc;              /* guest-physical address of insns[0] */
    struct Block *hash_next;   /* bucket chain of the decode cache */
    struct Block *page_next;   /* blocks of the same physical page */
    struct Block *chain[2];    /* [0] taken branch/jal, [1] fall-through:
                                  only for targets in the same page */
    const uint8_t *host_page;  /* host address of the page (to decode
                                  chained targets) */
    uint32_t n;                /* guest instructions (insns[n] is OP_END) */
    uint32_t flags;
    uint32_t end_off;          /* page offset just past the last insn */
    uint32_t pad;
    Insn insns[];
} Block;

typedef struct CodePage {
    uint64_t ppage;  /* TLB_INVALID: free slot */
    uint64_t chunks; /* bit i: some block covers bytes [64i, 64i+64) */
    Block *blocks;
} CodePage;

typedef struct DecodeCache {
    uint8_t *arena;
    size_t arena_size, arena_used;
    Block **hash;
    unsigned hash_mask;
    CodePage *pages;
    unsigned pages_mask, pages_used;
} DecodeCache;

/* ---- bits of RiscvHart.signal (cross-thread) ---- */
enum {
    SIG_IRQ = 1u << 0,   /* mip gained a bit: re-check interrupts */
    SIG_KICK = 1u << 1,  /* leave riscv_hart_run() */
    SIG_FLUSH = 1u << 2, /* drop every cached host pointer */
    SIG_LOCAL = 1u << 3, /* the hart itself wants its inner loop left */
};

#define PMP_COUNT 16

struct RiscvHart {
    /* Hot state first. */
    uint64_t x[33]; /* x[32] absorbs writes to x0 */
    uint64_t pc;
    TlbEntry *dtlb, *itlb; /* the TLBs of the current data/fetch context */
    uint32_t signal;       /* cross-thread: SIG_* */
    uint32_t sleeping;     /* cross-thread: in riscv_hart_wait() */
    uint64_t retired;      /* instructions retired since creation */
    unsigned priv;

    /* Exception raised by a helper that returned false. */
    uint64_t exc_cause, exc_tval;
    /* Set by WFI / fence.i for the outer loop. */
    bool wfi, flush_code;

    RiscvBus bus;

    /* F and D: f registers (binary32 values NaN-boxed), fcsr fields. */
    uint64_t f[32];
    uint8_t fflags, frm;

    /* CSRs. */
    uint64_t mip; /* cross-thread */
    uint64_t mstatus, mie, medeleg, mideleg;
    uint64_t mtvec, stvec, mepc, sepc, mcause, scause, mtval, stval;
    uint64_t mscratch, sscratch, satp;
    uint64_t menvcfg, senvcfg;
    uint32_t mcounteren, scounteren, mcountinhibit;
    uint64_t instret_off, cycle_off; /* minstret = retired + instret_off */
    uint64_t mhartid, reset_pc;

    /* PMP: the CSR values and each entry's decoded [sa, ea] range. */
    uint8_t pmpcfg[PMP_COUNT];
    uint64_t pmpaddr[PMP_COUNT];
    uint64_t pmp_sa[PMP_COUNT], pmp_ea[PMP_COUNT];
    unsigned pmp_active; /* entries with A != OFF */

    /* LR reservation (res_host NULL: none). */
    uint8_t *res_host;
    uint64_t res_val;
    unsigned res_size;

    /* Scratch block for instructions that are not cached (crossing a page
     * or on a page that PMP splits): one instruction plus OP_END. */
    Block *scratch;

    DecodeCache cache;
    TlbEntry tlb[TLB_COUNT][TLB_SIZE];
};

static inline uint64_t sext(uint64_t v, unsigned bits)
{
    return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static inline uint64_t hart_mip(const RiscvHart *h)
{
    return __atomic_load_n(&h->mip, __ATOMIC_ACQUIRE);
}

static inline void hart_raise(RiscvHart *h, uint64_t cause, uint64_t tval)
{
    h->exc_cause = cause;
    h->exc_tval = tval;
}

static inline void hart_signal_self(RiscvHart *h, uint32_t bits)
{
    __atomic_fetch_or(&h->signal, bits, __ATOMIC_RELAXED);
}

/* decode.c */
void riscv_decode32(uint32_t w, Insn *d);
void riscv_decode16(uint32_t w, Insn *d);
/* True when op ends a block. */
bool riscv_op_ends_block(unsigned op);

/* cache.c */
bool riscv_cache_init(DecodeCache *c);
void riscv_cache_destroy(DecodeCache *c);
void riscv_cache_flush(RiscvHart *h);
Block *riscv_cache_find(const DecodeCache *c, uint64_t ppc);
/* Decodes and caches the block at ppc (host_page: its page).  NULL when
 * the arena is full (then the cache must be flushed outside any block). */
Block *riscv_cache_translate(RiscvHart *h, uint64_t ppc,
                             const uint8_t *host_page);
/* Links blk->chain[slot] to the block at page offset off of blk's page. */
Block *riscv_cache_link(RiscvHart *h, Block *blk, unsigned slot,
                        uint64_t off);
/* A store of size bytes at RAM address pa: invalidates cached code it
 * overlaps.  Returns true when the page still holds cached code (so the
 * TLB must not allow fast stores to it). */
bool riscv_cache_note_store(RiscvHart *h, uint64_t pa, unsigned size);

/* exec.c: runs blk (entered at virtual pc vpc) and the blocks it chains
 * to, until something needs the outer loop or h->retired reaches stop
 * (checked between blocks).  Leaves h->pc right. */
void riscv_exec(RiscvHart *h, Block *blk, uint64_t vpc, uint64_t stop);

/* mmu.c */
void riscv_tlb_flush(RiscvHart *h);
void riscv_tlb_drop_write(RiscvHart *h, uint64_t ppage);
/* Recomputes h->dtlb/h->itlb after priv or mstatus changed. */
void riscv_mmu_update_context(RiscvHart *h);
/* Translates va for an access of size bytes (size <= 8, within a page),
 * checks PMP and asks the bus for a host pointer.  On success *pa is set,
 * *host is the host address or NULL for MMIO, and the TLB is filled when
 * the page allows.  On failure raises the exception and returns false. */
bool riscv_mmu_access(RiscvHart *h, uint64_t va, unsigned size,
                      RiscvAccess access, uint64_t *pa, uint8_t **host);

/* mem.c: slow paths of loads and stores (misaligned, MMIO, TLB miss). */
bool riscv_load_slow(RiscvHart *h, uint64_t va, unsigned size, uint64_t *v);
bool riscv_store_slow(RiscvHart *h, uint64_t va, unsigned size, uint64_t v);
/* Instruction fetch for the uncached path: a 16-bit parcel. */
bool riscv_fetch16(RiscvHart *h, uint64_t va, uint32_t *parcel);

/* atomic.c */
bool riscv_amo(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t src,
               uint64_t *old);
bool riscv_lr(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t *val);
bool riscv_sc(RiscvHart *h, const Insn *ins, uint64_t va, uint64_t src,
              uint64_t *result);

/* pmp.c */
bool riscv_pmp_check(const RiscvHart *h, uint64_t pa, unsigned size,
                     RiscvAccess access, unsigned priv);
/* True when one PMP decision holds for the whole page. */
bool riscv_pmp_page_uniform(const RiscvHart *h, uint64_t ppage);
uint64_t riscv_pmpcfg_read(const RiscvHart *h, unsigned reg);
void riscv_pmpcfg_write(RiscvHart *h, unsigned reg, uint64_t val);
uint64_t riscv_pmpaddr_read(const RiscvHart *h, unsigned idx);
void riscv_pmpaddr_write(RiscvHart *h, unsigned idx, uint64_t val);
void riscv_pmp_reset(RiscvHart *h);

/* csr.c */
bool riscv_csr_read(RiscvHart *h, unsigned csr, uint64_t *val);
bool riscv_csr_write(RiscvHart *h, unsigned csr, uint64_t val);
/* Executes a Zicsr instruction at pc (retired count already excludes it). */
bool riscv_csr_insn(RiscvHart *h, const Insn *ins, uint64_t pc);

/* trap.c */
void riscv_trap_take(RiscvHart *h, uint64_t cause, uint64_t tval);
/* Takes the highest-priority pending and enabled interrupt, if any. */
bool riscv_check_interrupts(RiscvHart *h);
bool riscv_mret(RiscvHart *h);
bool riscv_sret(RiscvHart *h);
void riscv_set_priv(RiscvHart *h, unsigned priv);

#endif
