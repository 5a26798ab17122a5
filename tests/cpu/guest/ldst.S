/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loads and stores of every width at every alignment, including accesses
 * that cross a page boundary (misaligned accesses are performed, as QEMU
 * does for RAM), sign/zero extension, and x0 as a destination. */
#include "asm_test.h"

    .option norvc
TEST_BEGIN
    la s0, buf
    /* fill buf[0..31] with bytes 0x80..0x9f */
    li t0, 0
    li t1, 0x80
1:  add t2, s0, t0
    sb t1, 0(t2)
    addi t0, t0, 1
    addi t1, t1, 1
    li t2, 32
    bne t0, t2, 1b

    lb a0, 0(s0)
    CHECK(a0, 0xffffffffffffff80)
    lbu a0, 0(s0)
    CHECK(a0, 0x80)
    lh a0, 0(s0)
    CHECK(a0, 0xffffffffffff8180)
    lhu a0, 0(s0)
    CHECK(a0, 0x8180)
    lw a0, 0(s0)
    CHECK(a0, 0xffffffff83828180)
    lwu a0, 0(s0)
    CHECK(a0, 0x83828180)
    ld a0, 0(s0)
    CHECK(a0, 0x8786858483828180)
    /* every misalignment */
    lh a0, 1(s0)
    CHECK(a0, 0xffffffffffff8281)
    lhu a0, 3(s0)
    CHECK(a0, 0x8483)
    lw a0, 1(s0)
    CHECK(a0, 0xffffffff84838281)
    lw a0, 2(s0)
    CHECK(a0, 0xffffffff85848382)
    lwu a0, 3(s0)
    CHECK(a0, 0x86858483)
    ld a0, 1(s0)
    CHECK(a0, 0x8887868584838281)
    ld a0, 3(s0)
    CHECK(a0, 0x8a89888786858483)
    ld a0, 7(s0)
    CHECK(a0, 0x8e8d8c8b8a898887)
    /* negative offsets */
    addi s1, s0, 16
    lbu a0, -1(s1)
    CHECK(a0, 0x8f)
    ld a0, -8(s1)
    CHECK(a0, 0x8f8e8d8c8b8a8988)

    /* stores of each width, aligned and not */
    li t0, -1
    sd t0, 0(s0)
    sd t0, 8(s0)
    li t1, 0x11
    sb t1, 1(s0)
    li t1, 0x2233
    sh t1, 3(s0)            /* misaligned */
    li t1, 0x44556677
    sw t1, 9(s0)            /* misaligned */
    ld a0, 0(s0)
    CHECK(a0, 0xffffff2233ff11ff)
    ld a0, 8(s0)
    CHECK(a0, 0xffffff44556677ff)
    li t1, 0x0123456789abcdef
    sd t1, 5(s0)            /* misaligned doubleword */
    ld a0, 0(s0)
    CHECK(a0, 0xabcdef2233ff11ff)
    ld a0, 8(s0)
    CHECK(a0, 0xffffff0123456789)
    sh t1, 0(s0)
    sw t1, 4(s0)
    ld a0, 0(s0)
    CHECK(a0, 0x89abcdef33ffcdef)

    /* loads into x0 are performed and discarded */
    lw x0, 0(s0)
    CHECK(x0, 0)

    /* across a page boundary */
    la s1, page_edge        /* 4096-aligned */
    li t0, 0x1122334455667788
    sd t0, -4(s1)
    ld a0, -4(s1)
    CHECK(a0, 0x1122334455667788)
    lwu a0, -4(s1)
    CHECK(a0, 0x55667788)
    lw a0, 0(s1)
    CHECK(a0, 0x11223344)
    lh a0, -1(s1)
    CHECK(a0, 0x4455)
    lw a0, -2(s1)
    CHECK(a0, 0x33445566)
    li t0, 0xa1b2
    sh t0, -1(s1)
    lbu a0, -1(s1)
    CHECK(a0, 0xb2)
    lbu a0, 0(s1)
    CHECK(a0, 0xa1)

    /* store then load the same word through different widths */
    li t0, 0xdeadbeef
    sw t0, 16(s0)
    lhu a0, 18(s0)
    CHECK(a0, 0xdead)
    lb a0, 16(s0)
    CHECK(a0, 0xffffffffffffffef)

    /* a load from an unassigned physical address: access fault, tval */
    li s2, UNASSIGNED_ADDR
    EXPECT_TRAP(5, lw a0, 0(s2))
    CHECK_REG(s11, s2)
    EXPECT_TRAP(7, sw a0, 8(s2))
    addi s2, s2, 8
    CHECK_REG(s11, s2)
    TEST_END

    .data
    .balign 16
buf: .space 64
    .balign 4096
    .space 4096
page_edge: .space 64
