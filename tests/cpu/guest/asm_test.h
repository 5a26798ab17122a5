/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Macros for the assembly test programs (with asm_common.S).
 *
 * A failing check exits through the sifive_test device with its source
 * line as the code, so both parvm and QEMU report which check failed.
 * Registers: t4, t5, t6, s8-s11 belong to the framework.
 *   t6  line of the current check      t4  resume address after a trap
 *   s10 mcause of the last trap        s11 mtval of the last trap
 *   s9  mepc of the last trap          s8  number of traps taken
 */
#ifndef ASM_TEST_H
#define ASM_TEST_H

#define TEST_BEGIN                                                         \
    .section .text.start; .globl _start; _start: la sp, _stack_top; call test_setup;

#define TEST_END j pass

/* reg must equal the 64-bit constant val. */
#define CHECK(reg, val)                                                     \
    li t6, __LINE__; li t5, val; bne reg, t5, fail

/* Two registers must be equal. */
#define CHECK_REG(a, b) li t6, __LINE__; bne a, b, fail

/* Executes the instructions, which must trap with the given mcause; the
 * trap handler resumes after them. */
#define EXPECT_TRAP(cause, ...)                                             \
    la t4, 9f; li s10, -1; __VA_ARGS__; 9: li t6, __LINE__;                \
    li t5, cause; bne s10, t5, fail

/* A misaligned AMO must trap with cause 6 (store/AMO address misaligned)
 * or, as QEMU 7.2 reports it when it runs one hart, 4. */
#define EXPECT_TRAP_AMO(...)                                                \
    la t4, 9f; li s10, -1; __VA_ARGS__; 9: li t6, __LINE__;                \
    li t5, 6; beq s10, t5, 8f; li t5, 4; bne s10, t5, fail; 8:

/* A physical address where neither parvm's nor QEMU's virt board has
 * anything (QEMU's PCIe window at 0x40000000 answers accesses). */
#define UNASSIGNED_ADDR 0x200000

/* Register-register and register-immediate ALU checks. */
#define TEST_RR(op, a, b, exp)                                              \
    li a1, a; li a2, b; op a0, a1, a2; CHECK(a0, exp)
#define TEST_RI(op, a, imm, exp)                                            \
    li a1, a; op a0, a1, imm; CHECK(a0, exp)

#endif
