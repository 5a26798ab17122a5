/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Self-modifying code: code written to RAM and run, rewritten (with and
 * without FENCE.I on this hart) and run again; data stored beside code in
 * the same page; and a loop that patches its own next instruction. */
#include "lib.h"

static uint32_t code[64] __attribute__((aligned(4096)));
static volatile uint64_t beside_code[8];

static uint32_t li_a0(int imm) /* addi a0, x0, imm */
{
    return ((uint32_t)imm << 20) | (10 << 7) | 0x13;
}

#define RET 0x00008067u /* jalr x0, 0(ra) */

static uint64_t call(void *p)
{
    return ((uint64_t(*)(void))p)();
}

int main(int hartid)
{
    (void)hartid;
    code[0] = li_a0(1);
    code[1] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    CHECK_EQ(call(code), 1);
    CHECK_EQ(call(code), 1);

    /* rewrite with FENCE.I */
    code[0] = li_a0(2);
    __asm__ volatile("fence.i" ::: "memory");
    CHECK_EQ(call(code), 2);

    /* rewrite without FENCE.I: this hart's own stores are seen by its
     * later fetches here (as on QEMU), though the ISA does not promise it */
    for (int i = 3; i < 50; i++) {
        code[0] = li_a0(i);
        CHECK_EQ(call(code), (uint64_t)i);
    }

    /* a longer function in the same page, rewritten in the middle */
    code[8] = li_a0(10);
    code[9] = 0x00150513; /* addi a0, a0, 1 */
    code[10] = 0x00150513;
    code[11] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    CHECK_EQ(call(&code[8]), 12);
    code[10] = 0x06450513; /* addi a0, a0, 100 */
    __asm__ volatile("fence.i" ::: "memory");
    CHECK_EQ(call(&code[8]), 111);

    /* data beside code in one page: stores must not disturb the code */
    uint32_t *page_code = &code[32];
    volatile uint64_t *page_data = (volatile uint64_t *)&code[48];
    page_code[0] = li_a0(5);
    page_code[1] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    uint64_t sum = 0;
    for (int i = 0; i < 1000; i++) {
        page_data[i & 7] = (uint64_t)i;
        sum += call(page_code);
    }
    CHECK_EQ(sum, 5000);
    CHECK_EQ(page_data[7], 999);
    beside_code[0] = 1;

    /* code that patches an instruction ahead of it in the same block,
     * then runs FENCE.I before reaching it */
    code[40] = 0x00000517; /* auipc a0, 0        a0 = &code[40] */
    code[41] = 0x00c52823; /* sw a2, 16(a0)      code[44] = a2 */
    code[42] = 0x0000100f; /* fence.i */
    code[43] = 0x00000013; /* nop */
    code[44] = li_a0(0);   /* becomes li a0, 77 */
    code[45] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    {
        register uint64_t a2 __asm__("a2") = li_a0(77);
        register uint64_t a0 __asm__("a0");
        __asm__ volatile("jalr ra, 0(%[f])"
                         : "=r"(a0)
                         : [f] "r"(&code[40]), "r"(a2)
                         : "ra", "memory");
        CHECK_EQ(a0, 77);
    }

    puts_("smc: ok\n");
    return 0;
}
