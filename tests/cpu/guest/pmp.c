/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PMP: NAPOT, TOR and NA4 regions, permissions for S and U, M-mode
 * exemption unless locked, the no-match rule, and locking. */
#include "lib.h"

static uint8_t region[3][4096] __attribute__((aligned(4096)));

static uint64_t s_load32(uint64_t va)
{
    return *(volatile uint32_t *)va;
}

static bool jump_hook(uint64_t cause, uint64_t *regs)
{
    if (cause == 1) {
        csr_write(mepc, regs[1]);
        return true;
    }
    return false;
}

#define NAPOT(base, size) (((uint64_t)(base) >> 2) | (((size) >> 3) - 1))
#define CFG_R 1
#define CFG_W 2
#define CFG_X 4
#define CFG_TOR (1 << 3)
#define CFG_NA4 (2 << 3)
#define CFG_NAPOT (3 << 3)
#define CFG_L 0x80

int main(int hartid)
{
    (void)hartid;
    uint64_t r0 = (uint64_t)region[0], r1 = (uint64_t)region[1];
    uint64_t r2 = (uint64_t)region[2];
    uint64_t entry15 = csr_read(pmpcfg2) & 0xff00000000000000ul;

    /* entry 0: region 0 read-only (NAPOT); others from entry 15 */
    csr_write(pmpaddr0, NAPOT(r0, 4096));
    csr_write(pmpcfg0, CFG_NAPOT | CFG_R);
    CHECK_EQ(csr_read(pmpcfg0) & 0xff, CFG_NAPOT | CFG_R);
    EXPECT_OK(run_in_mode(PRV_S, load_at, r0));
    EXPECT_FAULT(run_in_mode(PRV_S, store_at, r0 + 8), 7, r0 + 8);
    EXPECT_FAULT(run_in_mode(PRV_U, store_at, r0 + 16), 7, r0 + 16);
    EXPECT_OK(run_in_mode(PRV_S, store_at, r1)); /* not in entry 0 */
    EXPECT_OK(store_at(r0));                     /* M ignores unlocked entries */
    /* (R=0 W=1 is reserved: parvm drops W, as Spike does, see impl.c;
     * QEMU 7.2 keeps it) */

    /* entry 0 no access for region 0, execute in region 1 */
    *(uint32_t *)region[1] = 0x00900513; /* li a0, 9 */
    *(uint16_t *)(region[1] + 4) = 0x8082; /* ret */
    __asm__ volatile("fence.i");
    csr_write(pmpaddr1, NAPOT(r1, 4096));
    csr_write(pmpcfg0, (CFG_NAPOT << 8) | CFG_NAPOT);
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, r0), 5, r0);
    m_trap_hook = jump_hook;
    EXPECT_FAULT(run_in_mode(PRV_S, call_at, r1), 1, r1);
    csr_write(pmpcfg0, ((CFG_NAPOT | CFG_X) << 8) | CFG_NAPOT);
    uint64_t c = mtrap.count;
    CHECK_EQ(run_in_mode(PRV_S, call_at, r1), 9);
    CHECK_EQ(mtrap.count, c);
    m_trap_hook = NULL;

    /* TOR: [r1, r2) writable, in entry 2 with base pmpaddr1 */
    csr_write(pmpcfg0, 0);
    csr_write(pmpaddr1, r1 >> 2);
    csr_write(pmpaddr2, r2 >> 2);
    csr_write(pmpcfg0, (uint64_t)(CFG_TOR | CFG_R) << 16);
    EXPECT_OK(run_in_mode(PRV_S, load_at, r1 + 4088));
    EXPECT_FAULT(run_in_mode(PRV_S, store_at, r1 + 4088), 7, r1 + 4088);
    EXPECT_OK(run_in_mode(PRV_S, store_at, r2)); /* just above: entry 15 */
    EXPECT_OK(run_in_mode(PRV_S, store_at, r1 - 8));

    /* NA4: one word of a page; its neighbours are unaffected (the page
     * can no longer be cached whole) */
    csr_write(pmpcfg0, 0);
    csr_write(pmpaddr3, (r2 + 68) >> 2);
    csr_write(pmpcfg0, (uint64_t)CFG_NA4 << 24);
    EXPECT_FAULT(run_in_mode(PRV_S, s_load32, r2 + 68), 5, r2 + 68);
    EXPECT_OK(run_in_mode(PRV_S, s_load32, r2 + 64));
    EXPECT_OK(run_in_mode(PRV_S, s_load32, r2 + 72));
    /* an 8-byte access matching only half of the entry fails */
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, r2 + 64), 5, r2 + 64);
    csr_write(pmpcfg0, 0);

    /* no entry matches: S and U fail, M succeeds */
    csr_write(pmpaddr0, NAPOT(RAM_BASE, 16ul << 20));
    csr_write(pmpcfg0, CFG_NAPOT | CFG_R | CFG_W | CFG_X);
    csr_write(pmpaddr1, NAPOT(0, 1ul << 30)); /* devices */
    csr_write(pmpcfg0, ((CFG_NAPOT | CFG_R | CFG_W) << 8) |
                           CFG_NAPOT | CFG_R | CFG_W | CFG_X);
    csr_write(pmpcfg2, 0);                    /* entry 15 off */
    uint64_t outside = RAM_BASE + (16ul << 20) + 64;
    EXPECT_FAULT(run_in_mode(PRV_S, load_at, outside), 5, outside);
    EXPECT_OK(load_at(outside));
    csr_write(pmpcfg2, entry15);
    EXPECT_OK(run_in_mode(PRV_S, load_at, outside));
    csr_write(pmpcfg0, 0);

    /* pmpcfg1 does not exist on RV64 */
    c = mtrap.count;
    (void)csr_read(pmpcfg1);
    CHECK_EQ(mtrap.count, c + 1);
    CHECK_EQ(mtrap.cause, 2);

    /* lock: entry 4 (region 0, read-only) applies to M too, and can no
     * longer be changed; a locked TOR entry also freezes the address
     * below it */
    csr_write(pmpaddr4, NAPOT(r0, 4096));
    csr_write(pmpcfg0, (uint64_t)(CFG_NAPOT | CFG_R | CFG_L) << 32);
    EXPECT_OK(load_at(r0));
    EXPECT_FAULT(store_at(r0), 7, r0);
    csr_write(pmpcfg0, 0);
    CHECK_EQ((csr_read(pmpcfg0) >> 32) & 0xff, CFG_NAPOT | CFG_R | CFG_L);
    csr_write(pmpaddr4, 0);
    CHECK_EQ(csr_read(pmpaddr4), NAPOT(r0, 4096));
    EXPECT_FAULT(store_at(r0 + 8), 7, r0 + 8);
    csr_write(pmpaddr5, r2 >> 2);
    csr_write(pmpaddr6, (r2 + 4096) >> 2);
    csr_write(pmpcfg0, (uint64_t)(CFG_TOR | CFG_R | CFG_W | CFG_L) << 48);
    csr_write(pmpaddr5, 0);
    CHECK_EQ(csr_read(pmpaddr5), r2 >> 2);
    EXPECT_OK(store_at(r2));

    puts_("pmp: ok\n");
    return 0;
}
