/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runtime of the assembly tests: setup, pass/fail exits, trap handler. */
#include "asm_test.h"

#define EXIT_ADDR 0x100000
#define UART 0x10000000

    .text
    .globl test_setup
test_setup:
    la t0, asm_trap
    csrw mtvec, t0
    /* PMP: everything readable/writable/executable for S and U too. */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    li t4, 0
    li s8, 0
    ret

    .globl pass
pass:
    li t0, 0x5555
    li t1, EXIT_ADDR
    sw t0, 0(t1)
1:  j 1b

    .globl fail
fail:
    /* the host keeps 8 bits of the status: never let a line read as 0 */
    andi t5, t6, 0xff
    bnez t5, 2f
    ori t6, t6, 0xff
2:  slli t6, t6, 16
    li t0, 0x3333
    or t0, t0, t6
    li t1, EXIT_ADDR
    sw t0, 0(t1)
1:  j 1b

/* Prints a0 in hex on the UART (clobbers a0-a3). */
put_hex:
    li a1, UART
    li a2, 60
1:  srl a3, a0, a2
    andi a3, a3, 15
    addi a3, a3, '0'
    li t0, '9' + 1
    blt a3, t0, 2f
    addi a3, a3, 'a' - '0' - 10
2:  sb a3, 0(a1)
    addi a2, a2, -4
    bgez a2, 1b
    li a3, '\n'
    sb a3, 0(a1)
    ret

    .balign 4
asm_trap:
    csrr s10, mcause
    csrr s11, mtval
    csrr s9, mepc
    addi s8, s8, 1
    bltz s10, 1f            /* interrupts: the test looks at s10 */
    beqz t4, unexpected
    csrw mepc, t4
    li t4, 0
1:  mret
unexpected:
    mv a0, s10
    call put_hex
    mv a0, s9
    call put_hex
    mv a0, s11
    call put_hex
    li t6, 1
    j fail
