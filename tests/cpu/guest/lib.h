/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime for the C test programs (start.S, lib.c): QEMU virt's UART and
 * sifive_test, CSR access, checks, trap recording, and running a function
 * in S or U mode.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_BASE 0x80000000ul
#define UART_BASE 0x10000000ul
#define EXIT_BASE 0x100000ul
#define CLINT_BASE 0x2000000ul
/* Nothing there on parvm's or QEMU's virt (QEMU's PCIe window at
 * 0x40000000 answers accesses). */
#define UNASSIGNED_ADDR 0x200000ul

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE (1ul << 1)
#define MSTATUS_MIE (1ul << 3)
#define MSTATUS_SPIE (1ul << 5)
#define MSTATUS_MPIE (1ul << 7)
#define MSTATUS_SPP (1ul << 8)
#define MSTATUS_MPP (3ul << 11)
#define MSTATUS_MPRV (1ul << 17)
#define MSTATUS_SUM (1ul << 18)
#define MSTATUS_MXR (1ul << 19)
#define MSTATUS_TVM (1ul << 20)
#define MSTATUS_TW (1ul << 21)
#define MSTATUS_TSR (1ul << 22)

#define CAUSE_IRQ (1ul << 63)

#define STR_(x) #x
#define STR(x) STR_(x)
#define csr_read(csr)                                                        \
    ({                                                                       \
        uint64_t v_;                                                         \
        __asm__ volatile("csrr %0, " STR(csr) : "=r"(v_)::"memory");         \
        v_;                                                                  \
    })
#define csr_write(csr, val)                                                  \
    __asm__ volatile("csrw " STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_set(csr, val)                                                    \
    __asm__ volatile("csrs " STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val)                                                  \
    __asm__ volatile("csrc " STR(csr) ", %0" ::"r"((uint64_t)(val)) : "memory")
#define csr_swap(csr, val)                                                   \
    ({                                                                       \
        uint64_t v_;                                                         \
        __asm__ volatile("csrrw %0, " STR(csr) ", %1"                         \
                         : "=r"(v_) : "r"((uint64_t)(val)) : "memory");      \
        v_;                                                                  \
    })

void putch(char c);
void puts_(const char *s);
void put_hex(uint64_t v);
__attribute__((noreturn)) void exit_(int code);
__attribute__((noreturn)) void fail_at(int line, const char *what,
                                       uint64_t got, uint64_t want);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond))                                                         \
            fail_at(__LINE__, #cond, 0, 0);                                  \
    } while (0)
#define CHECK_EQ(got, want)                                                  \
    do {                                                                     \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                \
        if (g_ != w_)                                                        \
            fail_at(__LINE__, #got " == " #want, g_, w_);                    \
    } while (0)

/* Traps taken by the default M-mode (and S-mode) handlers.  Exceptions
 * are recorded and skipped (mepc advances past the instruction, which
 * must be at an identity-mapped address). */
typedef struct TrapRecord {
    volatile uint64_t count, cause, tval, epc;
    volatile uint64_t priv; /* mode the trap came from (MPP/SPP) */
} TrapRecord;
extern TrapRecord mtrap, strap;

/* Optional hooks, called for every trap before the default handling;
 * return true when the hook handled it (then nothing else happens). */
extern bool (*m_trap_hook)(uint64_t cause, uint64_t *regs);
extern bool (*s_trap_hook)(uint64_t cause, uint64_t *regs);

/* Runs fn(arg) in mode (PRV_S or PRV_U) and returns its result in M mode.
 * fn returns through an ECALL that the handlers recognise; if fn traps
 * to S mode, the S handler is s_trap_entry (stvec is set by the caller). */
uint64_t run_in_mode(unsigned mode, uint64_t (*fn)(uint64_t), uint64_t arg);

extern char s_trap_entry[];
extern char _end[];

/* Expect @expr to take exactly one M-mode trap, with this cause and tval. */
#define EXPECT_FAULT(expr, want_cause, want_tval)                            \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        (void)(expr);                                                        \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK_EQ(mtrap.cause, want_cause);                                   \
        CHECK_EQ(mtrap.tval, want_tval);                                     \
    } while (0)

/* Expect @expr to take no M-mode trap; yields its value. */
#define EXPECT_NO_FAULT(expr)                                                \
    ({                                                                       \
        uint64_t c0_ = mtrap.count;                                          \
        uint64_t r_ = (expr);                                                \
        CHECK_EQ(mtrap.count, c0_);                                          \
        r_;                                                                  \
    })

/* Expect the statement to raise illegal instruction, with its encoding
 * in mtval; or to take no trap at all. */
#define EXPECT_ILLEGAL(stmt)                                                 \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK_EQ(mtrap.cause, 2);                                            \
        CHECK_EQ(mtrap.tval, *(volatile uint32_t *)mtrap.epc);               \
    } while (0)

#define EXPECT_OK(stmt)                                                      \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_);                                          \
    } while (0)

/* Accesses to run with run_in_mode(): a 64-bit load, a 64-bit store of
 * STORE_AT_VALUE, and a call of the code at @va. */
#define STORE_AT_VALUE 0x5a5a5a5aul
uint64_t load_at(uint64_t va);
uint64_t store_at(uint64_t va);
uint64_t call_at(uint64_t va);

int main(int hartid);

#endif
