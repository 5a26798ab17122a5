/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hart life cycle, the outer run loop, and the cross-thread API (pending
 * interrupts, kicks, TLB flushes, waiting in WFI).
 *
 * Cross-thread protocol: other threads only ever touch h->mip and
 * h->signal (atomic read-modify-writes) and read h->sleeping.  The hart
 * polls h->signal between blocks (one relaxed load) and, in
 * riscv_hart_wait(), sleeps on it with a futex: every notifier changes the
 * word before waking, so a wake-up cannot be lost.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Instructions run before the inner loop returns to the outer loop, which
 * reports a quiescent state: bounds the grace-period delay a hart causes
 * (about 100 us at the interpreter's speed). */
#define RUN_QUANTUM 50000

static void futex_wait(uint32_t *addr, uint32_t val,
                       const struct timespec *rel)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void notify(RiscvHart *h, uint32_t bits)
{
    __atomic_fetch_or(&h->signal, bits, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->sleeping, __ATOMIC_SEQ_CST))
        futex_wake(&h->signal);
}

RiscvHart *riscv_hart_new(const RiscvBus *bus, uint64_t hartid,
                          uint64_t reset_pc)
{
    RiscvHart *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->scratch = calloc(1, sizeof(Block) + 2 * sizeof(Insn));
    if (!h->scratch || !riscv_cache_init(&h->cache)) {
        free(h->scratch);
        free(h);
        return NULL;
    }
    h->bus = *bus;
    h->mhartid = hartid;
    h->reset_pc = reset_pc;
    riscv_hart_reset(h);
    return h;
}

void riscv_hart_free(RiscvHart *h)
{
    if (!h)
        return;
    riscv_cache_destroy(&h->cache);
    free(h->scratch);
    free(h);
}

void riscv_hart_reset(RiscvHart *h)
{
    memset(h->x, 0, sizeof(h->x));
    memset(h->f, 0, sizeof(h->f));
    h->fflags = h->frm = 0;
    h->pc = h->reset_pc;
    h->priv = RISCV_PRIV_M;
    h->mstatus = 0;
    h->mie = h->medeleg = h->mideleg = 0;
    h->mtvec = h->stvec = h->mepc = h->sepc = 0;
    h->mcause = h->scause = h->mtval = h->stval = 0;
    h->mscratch = h->sscratch = h->satp = 0;
    h->menvcfg = h->senvcfg = 0;
    h->mcounteren = h->scounteren = h->mcountinhibit = 0;
    h->instret_off = h->cycle_off = -h->retired;
    /* Software-set pending bits go; device lines belong to the devices. */
    __atomic_fetch_and(&h->mip, ~(uint64_t)(RISCV_MIP_SSIP | RISCV_MIP_STIP),
                       __ATOMIC_SEQ_CST);
    h->res_host = NULL;
    h->wfi = h->flush_code = false;
    riscv_pmp_reset(h); /* also flushes the TLB */
    riscv_cache_flush(h);
    riscv_mmu_update_context(h);
}

static void take_exception(RiscvHart *h)
{
    riscv_trap_take(h, h->exc_cause, h->exc_tval);
}

/* One instruction that is not cached: it crosses a page, or lives on a
 * page that PMP splits or that is not wholly RAM. */
static Block *fetch_uncached(RiscvHart *h)
{
    Block *b = h->scratch;
    Insn *d = &b->insns[0];
    uint32_t lo, hi;

    if (!riscv_fetch16(h, h->pc, &lo)) {
        take_exception(h);
        return NULL;
    }
    if ((lo & 3) == 3) {
        if (!riscv_fetch16(h, h->pc + 2, &hi)) {
            take_exception(h);
            return NULL;
        }
        riscv_decode32(lo | hi << 16, d);
    } else {
        riscv_decode16(lo, d);
    }
    d->pc_off = 0;
    Insn *end = &b->insns[1];
    memset(end, 0, sizeof(*end));
    end->op = OP_END;
    end->rd = 32;
    end->pc_off = d->len;
    b->n = 1;
    b->flags = BLOCK_NOCHAIN;
    b->chain[0] = b->chain[1] = NULL;
    return b;
}

/* The block at h->pc, decoding it if needed; NULL after a fetch fault
 * (already taken). */
static Block *fetch_block(RiscvHart *h)
{
    uint64_t pc = h->pc;
    uint64_t vpage = pc & PAGE_MASK;
    const TlbEntry *e = &h->itlb[(pc >> PAGE_BITS) & (TLB_SIZE - 1)];

    if (e->tag_x != vpage) {
        uint64_t pa;
        uint8_t *host;
        if (!riscv_mmu_access(h, pc, 2, RISCV_ACCESS_EXEC, &pa, &host)) {
            take_exception(h);
            return NULL;
        }
        if (!host) {
            hart_raise(h, EXC_INSN_ACCESS, pc);
            take_exception(h);
            return NULL;
        }
        if (e->tag_x != vpage) /* not cacheable: see riscv_mmu_access */
            return fetch_uncached(h);
    }
    uint64_t ppc = e->ppage | (pc & ~PAGE_MASK);
    const uint8_t *host_page = (const uint8_t *)(uintptr_t)(vpage + e->addend);

    Block *b = riscv_cache_find(&h->cache, ppc);
    if (b)
        return b;
    b = riscv_cache_translate(h, ppc, host_page);
    if (!b && h->flush_code) {
        h->flush_code = false;
        riscv_cache_flush(h);
        b = riscv_cache_translate(h, ppc, host_page);
    }
    return b ? b : fetch_uncached(h);
}

RiscvExit riscv_hart_run(RiscvHart *h, uint64_t max_insns)
{
    uint64_t stop = max_insns ? h->retired + max_insns : UINT64_MAX;

    /* Each pass also counts against the budget: a guest whose trap vector
     * faults retires nothing, and must not keep run from returning. */
    for (uint64_t passes = 0;; passes++) {
        /* Quiescent first, then the flush check: a flush requested before
         * this quiescent state is seen before any cached pointer is used
         * again (see hart.h). */
        if (h->bus.quiescent)
            h->bus.quiescent(h->bus.opaque);
        uint32_t sig = __atomic_load_n(&h->signal, __ATOMIC_SEQ_CST);
        if (unlikely(sig)) {
            uint32_t take = sig & (SIG_IRQ | SIG_LOCAL | SIG_FLUSH);
            __atomic_fetch_and(&h->signal, ~take, __ATOMIC_SEQ_CST);
            if (sig & SIG_FLUSH) {
                riscv_tlb_flush(h);
                riscv_cache_flush(h);
                h->res_host = NULL;
            }
            if (sig & SIG_KICK) {
                __atomic_fetch_and(&h->signal, ~(uint32_t)SIG_KICK,
                                   __ATOMIC_SEQ_CST);
                return RISCV_EXIT_KICK;
            }
        }
        if (h->flush_code) {
            h->flush_code = false;
            riscv_cache_flush(h);
        }
        bool took_irq = riscv_check_interrupts(h);
        if (h->wfi) {
            h->wfi = false;
            if (!took_irq && !(hart_mip(h) & h->mie))
                return RISCV_EXIT_WFI;
        }
        if (h->retired >= stop || (max_insns && passes >= max_insns))
            return RISCV_EXIT_LIMIT;
        Block *b = fetch_block(h);
        if (b) {
            uint64_t quantum = h->retired + RUN_QUANTUM;
            riscv_exec(h, b, h->pc, quantum < stop ? quantum : stop);
        }
    }
}

RiscvWait riscv_hart_wait(RiscvHart *h, int64_t timeout_ns)
{
    struct timespec now, deadline;

    if (timeout_ns >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ns / 1000000000;
        deadline.tv_nsec += timeout_ns % 1000000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
    }
    for (;;) {
        /* Clear SIG_IRQ so that the next raise changes the futex word. */
        __atomic_fetch_and(&h->signal, ~(uint32_t)SIG_IRQ, __ATOMIC_SEQ_CST);
        __atomic_store_n(&h->sleeping, 1, __ATOMIC_SEQ_CST);
        uint32_t sig = __atomic_load_n(&h->signal, __ATOMIC_SEQ_CST);
        RiscvWait r = 0;
        struct timespec rel, *relp = NULL;
        if (sig & SIG_KICK) {
            r = RISCV_WAIT_KICK;
        } else if (hart_mip(h) & h->mie) {
            r = RISCV_WAIT_IRQ;
        } else if (timeout_ns >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t left = (int64_t)(deadline.tv_sec - now.tv_sec) *
                               1000000000 +
                           (deadline.tv_nsec - now.tv_nsec);
            if (left <= 0) {
                r = RISCV_WAIT_TIMEOUT;
            } else {
                rel.tv_sec = left / 1000000000;
                rel.tv_nsec = left % 1000000000;
                relp = &rel;
            }
        }
        if (r) {
            __atomic_store_n(&h->sleeping, 0, __ATOMIC_SEQ_CST);
            return r;
        }
        futex_wait(&h->signal, sig, relp);
        __atomic_store_n(&h->sleeping, 0, __ATOMIC_SEQ_CST);
    }
}

void riscv_hart_set_pending(RiscvHart *h, uint64_t mask, bool level)
{
    if (level) {
        uint64_t old = __atomic_fetch_or(&h->mip, mask, __ATOMIC_SEQ_CST);
        if ((old & mask) != mask)
            notify(h, SIG_IRQ);
    } else {
        __atomic_fetch_and(&h->mip, ~mask, __ATOMIC_SEQ_CST);
    }
}

uint64_t riscv_hart_get_pending(const RiscvHart *h)
{
    return hart_mip(h);
}

void riscv_hart_kick(RiscvHart *h)
{
    notify(h, SIG_KICK);
}

void riscv_hart_flush_tlb(RiscvHart *h)
{
    __atomic_fetch_or(&h->signal, SIG_FLUSH, __ATOMIC_SEQ_CST);
}

uint64_t riscv_hart_get_pc(const RiscvHart *h)
{
    return h->pc;
}

void riscv_hart_set_pc(RiscvHart *h, uint64_t pc)
{
    h->pc = pc & ~1ull;
}

uint64_t riscv_hart_get_x(const RiscvHart *h, unsigned reg)
{
    return reg < 32 ? h->x[reg] : 0;
}

void riscv_hart_set_x(RiscvHart *h, unsigned reg, uint64_t val)
{
    if (reg > 0 && reg < 32)
        h->x[reg] = val;
}

unsigned riscv_hart_get_priv(const RiscvHart *h)
{
    return h->priv;
}

uint64_t riscv_hart_get_instret(const RiscvHart *h)
{
    return h->retired + h->instret_off;
}

bool riscv_hart_read_csr(RiscvHart *h, unsigned csr, uint64_t *val)
{
    unsigned priv = h->priv;
    h->priv = RISCV_PRIV_M;
    bool ok = riscv_csr_read(h, csr & 0xfff, val);
    h->priv = priv;
    return ok;
}

bool riscv_hart_write_csr(RiscvHart *h, unsigned csr, uint64_t val)
{
    unsigned priv = h->priv;
    csr &= 0xfff;
    h->priv = RISCV_PRIV_M;
    bool ok = (csr >> 10) != 3 && riscv_csr_write(h, csr, val);
    h->priv = priv;
    riscv_mmu_update_context(h);
    /* The counter write rule assumes a CSR instruction that retires. */
    if (ok && csr == 0xb00)
        h->cycle_off++;
    if (ok && csr == 0xb02)
        h->instret_off++;
    return ok;
}
