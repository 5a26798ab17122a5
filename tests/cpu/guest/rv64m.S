/* SPDX-License-Identifier: GPL-2.0-or-later */
/* M extension, with the division-by-zero and overflow cases. */
#include "asm_test.h"

TEST_BEGIN
    TEST_RR(mul, 7, -3, -21)
    TEST_RR(mul, 0x100000000, 0x100000000, 0)
    TEST_RR(mulh, -1, -1, 0)
    TEST_RR(mulh, 0x8000000000000000, 0x8000000000000000, 0x4000000000000000)
    TEST_RR(mulh, 0x8000000000000000, 2, -1)
    TEST_RR(mulhu, -1, -1, 0xfffffffffffffffe)
    TEST_RR(mulhu, 0x100000000, 0x100000000, 1)
    TEST_RR(mulhsu, -1, -1, -1)
    TEST_RR(mulhsu, 0x8000000000000000, 0xffffffffffffffff, 0x8000000000000000)
    TEST_RR(mulhsu, 2, 0x8000000000000000, 1)
    TEST_RR(mulw, 0x7fffffff, 2, -2)
    TEST_RR(mulw, 0x123456789, 1, 0x23456789)
    TEST_RR(div, -7, 2, -3)
    TEST_RR(div, 7, -2, -3)
    TEST_RR(div, 5, 0, -1)
    TEST_RR(div, 0x8000000000000000, -1, 0x8000000000000000)
    TEST_RR(divu, -1, 2, 0x7fffffffffffffff)
    TEST_RR(divu, 5, 0, -1)
    TEST_RR(rem, -7, 2, -1)
    TEST_RR(rem, 7, -2, 1)
    TEST_RR(rem, 5, 0, 5)
    TEST_RR(rem, 0x8000000000000000, -1, 0)
    TEST_RR(remu, -1, 10, 5)
    TEST_RR(remu, 5, 0, 5)
    TEST_RR(divw, -7, 2, -3)
    TEST_RR(divw, 0x80000000, -1, 0xffffffff80000000)
    TEST_RR(divw, 5, 0, -1)
    TEST_RR(divw, 0x100000006, 3, 2)       /* upper bits ignored */
    TEST_RR(divuw, 0xffffffff, 2, 0x7fffffff)
    TEST_RR(divuw, 0x80000000, 1, 0xffffffff80000000)
    TEST_RR(divuw, 5, 0, -1)
    TEST_RR(remw, -7, 2, -1)
    TEST_RR(remw, 0x80000000, -1, 0)
    TEST_RR(remw, 0x80000005, 0, 0xffffffff80000005)
    TEST_RR(remuw, 0xffffffff, 10, 5)
    TEST_RR(remuw, 0x80000005, 0, 0xffffffff80000005)
    /* rd aliasing a source */
    li a0, 6
    li a1, 7
    mul a0, a0, a1
    CHECK(a0, 42)
    div a1, a0, a1
    CHECK(a1, 6)
    TEST_END
