/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RV64I: arithmetic, logic, shifts, compares, LUI/AUIPC, branches, jumps. */
#include "asm_test.h"

    .option norvc   /* exact instruction sizes below; C has its own test */

TEST_BEGIN
    TEST_RR(add, 1, 2, 3)
    TEST_RR(add, -1, 1, 0)
    TEST_RR(add, 0x7fffffffffffffff, 1, 0x8000000000000000)
    TEST_RR(sub, 3, 5, -2)
    TEST_RR(sub, 0x8000000000000000, 1, 0x7fffffffffffffff)
    TEST_RR(sll, 1, 63, 0x8000000000000000)
    TEST_RR(sll, 1, 64, 1)              /* shift amount is rs2[5:0] */
    TEST_RR(srl, 0x8000000000000000, 63, 1)
    TEST_RR(sra, 0x8000000000000000, 63, -1)
    TEST_RR(sra, 0x8000000000000000, 65, 0xc000000000000000)
    TEST_RR(slt, -1, 1, 1)
    TEST_RR(slt, 1, -1, 0)
    TEST_RR(sltu, -1, 1, 0)
    TEST_RR(sltu, 1, -1, 1)
    TEST_RR(xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0)
    TEST_RR(or, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0)
    TEST_RR(and, 0xff00ff00, 0x0ff00ff0, 0x0f000f00)
    TEST_RI(addi, 5, -6, -1)
    TEST_RI(addi, 0x7fffffffffffffff, 1, 0x8000000000000000)
    TEST_RI(slti, -5, -4, 1)
    TEST_RI(sltiu, 5, -1, 1)            /* imm sign-extended, then unsigned */
    TEST_RI(sltiu, 0, 1, 1)
    TEST_RI(xori, 0x0f, -1, 0xfffffffffffffff0)
    TEST_RI(ori, 0x100, 0x0ff, 0x1ff)
    TEST_RI(andi, -1, 0x7f0, 0x7f0)
    TEST_RI(slli, 3, 62, 0xc000000000000000)
    TEST_RI(srli, -1, 60, 15)
    TEST_RI(srai, 0x8000000000000000, 4, 0xf800000000000000)
    /* 32-bit forms sign-extend their results */
    TEST_RR(addw, 0x7fffffff, 1, 0xffffffff80000000)
    TEST_RR(addw, 0x100000001, 0x100000001, 2)
    TEST_RR(subw, 0, 1, -1)
    TEST_RR(sllw, 1, 31, 0xffffffff80000000)
    TEST_RR(sllw, 1, 32, 1)             /* rs2[4:0] */
    TEST_RR(srlw, 0xffffffff80000000, 31, 1)
    TEST_RR(srlw, 0x80000000, 0, 0xffffffff80000000)
    TEST_RR(sraw, 0x80000000, 31, -1)
    TEST_RI(addiw, 0x7fffffff, 1, 0xffffffff80000000)
    TEST_RI(addiw, 0xffffffff00000005, 0, 5)
    TEST_RI(slliw, 1, 31, 0xffffffff80000000)
    TEST_RI(srliw, 0xffffffff, 4, 0x0fffffff)
    TEST_RI(sraiw, 0x80000000, 4, 0xfffffffff8000000)

    /* writes to x0 are discarded */
    li t0, 42
    add x0, t0, t0
    CHECK(x0, 0)
    addi x0, x0, 5
    mv a0, x0
    CHECK(a0, 0)

    lui a0, 0x80000
    CHECK(a0, 0xffffffff80000000)
    lui a0, 0x7ffff
    CHECK(a0, 0x7ffff000)
1:  auipc a0, 0
    la a1, 1b
    CHECK_REG(a0, a1)
2:  auipc a0, 0x1
    la a1, 2b
    li a2, 0x1000
    add a1, a1, a2
    CHECK_REG(a0, a1)

    /* branches: taken and not taken, signed and unsigned */
    li a1, -1
    li a2, 1
    li t6, __LINE__
    beq a1, a2, fail
    bne a1, a1, fail
    blt a2, a1, fail
    bge a1, a2, fail
    bltu a1, a2, fail
    bgeu a2, a1, fail
    li s0, 0
    beq a1, a1, 3f
    j fail
3:  bne a1, a2, 3f
    j fail
3:  blt a1, a2, 3f
    j fail
3:  bge a2, a1, 3f
    j fail
3:  bge a1, a1, 3f
    j fail
3:  bltu a2, a1, 3f
    j fail
3:  bgeu a1, a2, 3f
    j fail
3:  bgeu a1, a1, 3f
    j fail
3:
    /* backward branch loop: sum 1..100 */
    li a0, 0
    li a1, 100
4:  add a0, a0, a1
    addi a1, a1, -1
    bnez a1, 4b
    CHECK(a0, 5050)

    /* jal / jalr link values and targets, including rd == rs1 */
    jal ra, 5f
6:  j 7f
5:  la a0, 6b
    CHECK_REG(ra, a0)
    jalr x0, 0(ra)
7:  la a0, 8f
    addi a0, a0, 1          /* jalr clears bit 0 of the target */
    jalr a0, 0(a0)
8:  la a1, 8b
    CHECK_REG(a0, a1)       /* link = address after the jalr */
    la a0, 9f
    jalr t0, -4(a0)         /* negative offset */
    j fail
    j 10f
9:  j fail
10: la a1, 9b
    addi a1, a1, -8
    CHECK_REG(t0, a1)

    /* a function call through the stack */
    li a0, 10
    call fib
    CHECK(a0, 55)

    /* fence variants execute as no-ops here */
    fence
    fence rw, rw
    fence.tso
    fence.i
    fence r, r
    TEST_END

fib:    /* recursive fib(a0) */
    li t0, 2
    blt a0, t0, 1f
    addi sp, sp, -24
    sd ra, 0(sp)
    sd a0, 8(sp)
    addi a0, a0, -1
    call fib
    sd a0, 16(sp)
    ld a0, 8(sp)
    addi a0, a0, -2
    call fib
    ld t0, 16(sp)
    add a0, a0, t0
    ld ra, 0(sp)
    addi sp, sp, 24
1:  ret
