/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A RISC-V RV64IMAFDC hart (Zicsr, Zifencei; M, S and U modes; Sv39/48/57):
 * an interpreter with a decode cache and a software TLB.
 *
 * Threads.  A hart is run by one thread at a time, "the hart thread": the
 * one that calls riscv_hart_run().  Functions marked [any thread] may be
 * called from any thread at any time, including while the hart runs.  All
 * others must be called from the hart thread, or while no thread runs the
 * hart (e.g. before the hart thread starts, with a happens-before edge such
 * as pthread_create).
 *
 * Memory map changes.  When the board changes what the bus callbacks return
 * (a RAM region moves or goes away), it calls riscv_hart_flush_tlb() for
 * every hart.  The hart drops every host pointer it caches (TLB, decode
 * cache, LR reservation) the next time it checks, which it does right after
 * each call of bus->quiescent() and before using any cached pointer again.
 * So: flush_tlb() on every hart, then wait for an RCU grace period, then the
 * old host memory may be freed.
 */
#ifndef PARVM_RISCV_HART_H
#define PARVM_RISCV_HART_H

#include <stdbool.h>
#include <stdint.h>

#include "parvm/riscv/bus.h"

typedef struct RiscvHart RiscvHart;

/* Interrupt-pending bits of mip (for riscv_hart_set_pending). */
enum {
    RISCV_MIP_SSIP = 1u << 1,
    RISCV_MIP_MSIP = 1u << 3,
    RISCV_MIP_STIP = 1u << 5,
    RISCV_MIP_MTIP = 1u << 7,
    RISCV_MIP_SEIP = 1u << 9,
    RISCV_MIP_MEIP = 1u << 11,
};

/* Privilege modes. */
enum { RISCV_PRIV_U = 0, RISCV_PRIV_S = 1, RISCV_PRIV_M = 3 };

/* Why riscv_hart_run() returned. */
typedef enum RiscvExit {
    RISCV_EXIT_WFI = 1,   /* WFI with nothing pending in mip & mie; pc is
                             past the WFI.  Call riscv_hart_wait(). */
    RISCV_EXIT_KICK = 2,  /* riscv_hart_kick() was called (consumed) */
    RISCV_EXIT_LIMIT = 3, /* the instruction budget given to run is spent */
} RiscvExit;

/* Creates a hart in its reset state: M mode, pc = reset_pc, mhartid =
 * hartid, every other register and CSR as after reset (x regs 0).  The
 * bus structure is copied.  Returns NULL when out of memory. */
RiscvHart *riscv_hart_new(const RiscvBus *bus, uint64_t hartid,
                          uint64_t reset_pc);
void riscv_hart_free(RiscvHart *h);

/* Back to the reset state (also drops caches, keeps mip's device bits). */
void riscv_hart_reset(RiscvHart *h);

/*
 * Runs guest code until WFI, a kick, or (when max_insns != 0) about
 * max_insns retired instructions (checked between blocks, so it may run a
 * block further).  Takes no lock.  Between blocks it calls bus->quiescent
 * now and then and looks at kicks, TLB flush requests and interrupts.
 */
RiscvExit riscv_hart_run(RiscvHart *h, uint64_t max_insns);

/* Result of riscv_hart_wait(). */
typedef enum RiscvWait {
    RISCV_WAIT_IRQ = 1,     /* mip & mie != 0: run again */
    RISCV_WAIT_KICK = 2,    /* a kick is pending: run returns it */
    RISCV_WAIT_TIMEOUT = 3, /* timeout_ns passed */
} RiscvWait;

/*
 * Blocks the hart thread (no spinning: a futex) until an interrupt is
 * pending and enabled in mie (whatever mstatus.MIE/SIE say, as WFI
 * requires), a kick is pending, or timeout_ns nanoseconds pass (negative:
 * no timeout).  Hart thread only.  A thread registered with RCU should go
 * offline around it.
 */
RiscvWait riscv_hart_wait(RiscvHart *h, int64_t timeout_ns);

/* [any thread] Sets (level true) or clears (false) the mip bits in mask,
 * atomically.  Raising a bit makes a running hart look at its interrupts
 * at the next block boundary and wakes a hart in riscv_hart_wait(). */
void riscv_hart_set_pending(RiscvHart *h, uint64_t mask, bool level);

/* [any thread] Reads mip (device and software bits). */
uint64_t riscv_hart_get_pending(const RiscvHart *h);

/* [any thread] Makes riscv_hart_run() return RISCV_EXIT_KICK at the next
 * block boundary (or at once if the hart is not running: the kick stays
 * pending until a run consumes it) and wakes riscv_hart_wait(). */
void riscv_hart_kick(RiscvHart *h);

/* [any thread] Asks the hart to drop its TLB, decode cache and LR
 * reservation: see "Memory map changes" above. */
void riscv_hart_flush_tlb(RiscvHart *h);

/* Register file (hart thread, or while not running). */
uint64_t riscv_hart_get_pc(const RiscvHart *h);
void riscv_hart_set_pc(RiscvHart *h, uint64_t pc);
uint64_t riscv_hart_get_x(const RiscvHart *h, unsigned reg); /* 0..31 */
void riscv_hart_set_x(RiscvHart *h, unsigned reg, uint64_t val);
unsigned riscv_hart_get_priv(const RiscvHart *h);
uint64_t riscv_hart_get_instret(const RiscvHart *h); /* minstret */

/* Reads/writes a CSR with M-mode rights and the same WARL rules as a CSR
 * instruction (side effects included, e.g. a satp write flushes the TLB).
 * Returns false when the CSR does not exist or refuses the access. */
bool riscv_hart_read_csr(RiscvHart *h, unsigned csr, uint64_t *val);
bool riscv_hart_write_csr(RiscvHart *h, unsigned csr, uint64_t val);

#endif
