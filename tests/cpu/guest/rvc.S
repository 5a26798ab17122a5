/* SPDX-License-Identifier: GPL-2.0-or-later */
/* C extension: every RV64C integer instruction, written explicitly, and
 * reserved encodings (which are illegal). */
#include "asm_test.h"

    .option rvc
TEST_BEGIN
    la s0, cbuf
    c.li a0, -5
    CHECK(a0, -5)
    c.li a0, 31
    c.addi a0, -1
    CHECK(a0, 30)
    c.lui a1, 0xfffff       /* nzimm = -1 << 12 */
    CHECK(a1, 0xfffffffffffff000)
    c.lui a1, 1
    CHECK(a1, 0x1000)
    li a0, 0x7fffffff
    c.addiw a0, 1
    CHECK(a0, 0xffffffff80000000)
    mv a2, sp
    c.addi16sp sp, -64
    addi a3, a2, -64
    CHECK_REG(sp, a3)
    c.addi16sp sp, 64
    CHECK_REG(sp, a2)
    c.addi4spn a0, sp, 16
    addi a3, sp, 16
    CHECK_REG(a0, a3)
    li a0, 0x8000000000000001
    c.slli a0, 1
    CHECK(a0, 2)
    li a0, -16
    c.srli a0, 60
    CHECK(a0, 15)
    li a0, -16
    c.srai a0, 2
    CHECK(a0, -4)
    li a0, 0xff
    c.andi a0, -16
    CHECK(a0, 0xf0)
    li a0, 10
    li a1, 3
    c.sub a0, a1
    CHECK(a0, 7)
    c.xor a0, a1
    CHECK(a0, 4)
    c.or a0, a1
    CHECK(a0, 7)
    c.and a0, a1
    CHECK(a0, 3)
    li a0, 0x7fffffff
    li a1, 1
    c.addw a0, a1
    CHECK(a0, 0xffffffff80000000)
    c.subw a0, a1
    CHECK(a0, 0x7fffffff)
    c.mv a2, a0
    CHECK(a2, 0x7fffffff)
    c.add a2, a1
    CHECK(a2, 0x80000000)

    /* loads and stores */
    mv a0, s0
    li a1, 0x1122334455667788
    c.sd a1, 8(a0)
    c.ld a2, 8(a0)
    CHECK_REG(a2, a1)
    li a1, 0x80000001
    c.sw a1, 4(a0)
    c.lw a2, 4(a0)
    CHECK(a2, 0xffffffff80000001)
    addi sp, sp, -32
    li a1, 0x5566
    c.sdsp a1, 8(sp)
    c.ldsp a2, 8(sp)
    CHECK(a2, 0x5566)
    li a1, -2
    c.swsp a1, 20(sp)
    c.lwsp a2, 20(sp)
    CHECK(a2, -2)
    addi sp, sp, 32

    /* control transfer */
    li a0, 0
    c.beqz a0, 1f
    j fail
1:  c.bnez a0, 12f
    j 13f
12: j fail
13: li a0, 1
    c.bnez a0, 2f
    j fail
2:  c.j 3f
    j fail
3:  la a1, 4f
    c.jr a1
    j fail
4:  la a1, 5f
    c.jalr a1
6:  j 7f
5:  la a2, 6b
    CHECK_REG(ra, a2)       /* link = address + 2 */
    ret
7:
    /* a compressed branch loop */
    li a0, 0
    li a1, 10
8:  c.addi a0, 3
    c.addi a1, -1
    c.bnez a1, 8b
    CHECK(a0, 30)

    /* reserved/illegal encodings: tval is the 16-bit parcel */
    EXPECT_TRAP(2, .hword 0x0000)           /* all zeros */
    CHECK(s11, 0)
    EXPECT_TRAP(2, .hword 0x6101)           /* c.addi16sp nzimm = 0 */
    CHECK(s11, 0x6101)
    EXPECT_TRAP(2, .hword 0x6081)           /* c.lui with nzimm = 0 */
    EXPECT_TRAP(2, .hword 0x2001)           /* c.addiw rd = 0 */
    EXPECT_TRAP(2, .hword 0x8002)           /* c.jr x0 */
    EXPECT_TRAP(2, .hword 0x4002)           /* c.lwsp rd = 0 */
    EXPECT_TRAP(2, .hword 0x2000)           /* c.fld (no D) */
    EXPECT_TRAP(2, .hword 0x9c41)           /* reserved ALU op */
    /* c.ebreak: breakpoint at its own pc; tval 0 (as on QEMU) */
    la s2, 8f
    EXPECT_TRAP(3, 8: c.ebreak)
    CHECK_REG(s9, s2)
    CHECK(s11, 0)
    /* c.nop and hints */
    c.nop
    c.li x0, 5
    c.mv x0, a0
    TEST_END

    .data
    .balign 16
cbuf: .space 32
