/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SMP (run with 4 harts): every hart does K amoadd on one word, and K
 * increments of a plain counter under an LR/SC spinlock; the totals must
 * be exact.  Also an AMO-based barrier and LR/SC contention on a word. */
#include "lib.h"

#define NHARTS 4
#define K_AMO 20000
#define K_LOCK 3000

static volatile uint32_t amo_word;
static volatile uint64_t amo_dword;
static volatile uint32_t lock;
static volatile uint64_t plain_counter;
static volatile uint32_t arrived, done;
static volatile uint64_t lrsc_counter;

static void spin_lock(volatile uint32_t *l)
{
    uint32_t tmp, one = 1;
    __asm__ volatile("1: lr.w.aq %0, (%1)\n"
                     "   bnez %0, 1b\n"
                     "   sc.w.rl %0, %2, (%1)\n"
                     "   bnez %0, 1b\n"
                     : "=&r"(tmp)
                     : "r"(l), "r"(one)
                     : "memory");
}

static void spin_unlock(volatile uint32_t *l)
{
    __asm__ volatile("amoswap.w.rl zero, zero, (%0)" ::"r"(l) : "memory");
}

static void lrsc_add(volatile uint64_t *p, uint64_t v)
{
    uint64_t tmp, res;
    __asm__ volatile("1: lr.d %0, (%2)\n"
                     "   add %0, %0, %3\n"
                     "   sc.d %1, %0, (%2)\n"
                     "   bnez %1, 1b\n"
                     : "=&r"(tmp), "=&r"(res)
                     : "r"(p), "r"(v)
                     : "memory");
}

static void barrier(volatile uint32_t *count, uint32_t target)
{
    __atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(count, __ATOMIC_SEQ_CST) < target)
        ;
}

int main(int hartid)
{
    barrier(&arrived, NHARTS);
    for (int i = 0; i < K_AMO; i++) {
        __atomic_fetch_add(&amo_word, 1, __ATOMIC_RELAXED); /* amoadd.w */
        __atomic_fetch_add(&amo_dword, 2, __ATOMIC_RELAXED); /* amoadd.d */
    }
    for (int i = 0; i < K_LOCK; i++) {
        spin_lock(&lock);
        plain_counter = plain_counter + 1;
        spin_unlock(&lock);
        lrsc_add(&lrsc_counter, 3);
    }
    barrier(&done, NHARTS);
    if (hartid != 0)
        for (;;)
            __asm__ volatile("wfi");
    CHECK_EQ(amo_word, (uint64_t)NHARTS * K_AMO);
    CHECK_EQ(amo_dword, (uint64_t)NHARTS * K_AMO * 2);
    CHECK_EQ(plain_counter, (uint64_t)NHARTS * K_LOCK);
    CHECK_EQ(lrsc_counter, (uint64_t)NHARTS * K_LOCK * 3);
    puts_("smp: ok\n");
    return 0;
}
