/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interrupts: CLINT software and timer interrupts, WFI wake-up with
 * interrupts globally disabled, priority, vectored mtvec, delegation of
 * SSI/STI to S, and M interrupts preempting S whatever mstatus.MIE says. */
#include "lib.h"

static volatile uint32_t *const msip = (volatile uint32_t *)CLINT_BASE;
static volatile uint64_t *const mtimecmp =
    (volatile uint64_t *)(CLINT_BASE + 0x4000);
static volatile uint64_t *const mtime =
    (volatile uint64_t *)(CLINT_BASE + 0xbff8);

static volatile uint64_t m_irqs, s_irqs, order[4];
volatile uint64_t vec_msi_flag;

static bool m_irq_hook(uint64_t cause, uint64_t *regs)
{
    (void)regs;
    if (!(cause & CAUSE_IRQ))
        return false;
    if (m_irqs < 4)
        order[m_irqs] = cause;
    m_irqs++;
    switch (cause & 63) {
    case 3: *msip = 0; break;
    case 7: *mtimecmp = ~0ul; break;
    default: exit_(100); /* not expected in M */
    }
    return true;
}

static bool s_irq_hook(uint64_t cause, uint64_t *regs)
{
    (void)regs;
    if (!(cause & CAUSE_IRQ))
        return false;
    s_irqs++;
    switch (cause & 63) {
    case 1: csr_clear(sip, 2); break;  /* SSIP is writable in sip */
    case 5: csr_clear(sie, 32); break; /* STIP is not: mask it */
    default: exit_(101);
    }
    return true;
}

static void spin(void)
{
    for (volatile int i = 0; i < 2000; i++)
        ;
}

static uint64_t s_spin(uint64_t x)
{
    spin();
    return x;
}

/* Vector table: each slot jumps to the common entry; slot 3 (MSI) first
 * records that the vector was used. */
__asm__(".pushsection .text\n"
        ".option push\n.option norvc\n"
        ".balign 256\n"
        "vec_table:\n"
        "  j m_trap_entry\n j m_trap_entry\n j m_trap_entry\n j vec_msi\n"
        "  .rept 12\n j m_trap_entry\n .endr\n"
        "vec_msi:\n"
        "  csrw mscratch, t0\n"
        "  la t0, vec_msi_flag\n"
        "  sd t0, 0(t0)\n"
        "  csrr t0, mscratch\n"
        "  j m_trap_entry\n"
        ".option pop\n"
        ".popsection\n");
extern char vec_table[];

int main(int hartid)
{
    (void)hartid;
    m_trap_hook = m_irq_hook;
    s_trap_hook = s_irq_hook;
    *mtimecmp = ~0ul;

    /* software interrupt through the CLINT */
    csr_write(mie, 1 << 3);
    csr_set(mstatus, MSTATUS_MIE);
    *msip = 1;
    for (int i = 0; i < 100000 && !m_irqs; i++)
        ;
    CHECK_EQ(m_irqs, 1);
    CHECK_EQ(order[0], CAUSE_IRQ | 3);
    CHECK_EQ(csr_read(mip) & 8, 0);

    /* timer interrupt, waiting in WFI */
    csr_write(mie, 1 << 7);
    uint64_t deadline = *mtime + 2000; /* 200 us */
    *mtimecmp = deadline;
    while (m_irqs == 1)
        __asm__ volatile("wfi");
    CHECK_EQ(m_irqs, 2);
    CHECK_EQ(order[1], CAUSE_IRQ | 7);
    CHECK(*mtime >= deadline);

    /* WFI wakes on a pending enabled interrupt even with MIE = 0, and no
     * trap is taken */
    csr_clear(mstatus, MSTATUS_MIE);
    *mtimecmp = *mtime + 1000;
    while (!(csr_read(mip) & (1 << 7)))
        __asm__ volatile("wfi");
    CHECK_EQ(m_irqs, 2);
    *mtimecmp = ~0ul;
    CHECK_EQ(csr_read(mip) & (1 << 7), 0);

    /* priority: MSI before MTI */
    csr_write(mie, (1 << 3) | (1 << 7));
    *msip = 1;
    *mtimecmp = 0;
    CHECK_EQ(csr_read(mip) & 0x88, 0x88);
    csr_set(mstatus, MSTATUS_MIE);
    spin();
    csr_clear(mstatus, MSTATUS_MIE);
    CHECK_EQ(m_irqs, 4);
    CHECK_EQ(order[2], CAUSE_IRQ | 3);
    CHECK_EQ(order[3], CAUSE_IRQ | 7);

    /* vectored mtvec: interrupt cause 3 enters at base + 12 */
    uint64_t old_tvec = csr_read(mtvec);
    csr_write(mtvec, (uint64_t)vec_table | 1);
    CHECK_EQ(csr_read(mtvec), (uint64_t)vec_table | 1);
    *msip = 1;
    csr_set(mstatus, MSTATUS_MIE);
    spin();
    csr_clear(mstatus, MSTATUS_MIE);
    CHECK_EQ(m_irqs, 5);
    CHECK(vec_msi_flag != 0);
    /* exceptions still use the base */
    uint64_t c = mtrap.count;
    __asm__ volatile("ebreak");
    CHECK_EQ(mtrap.count, c + 1);
    csr_write(mtvec, old_tvec);

    /* S-level interrupts are delegated and never taken in M */
    csr_write(stvec, (uint64_t)s_trap_entry);
    csr_write(mideleg, (1 << 1) | (1 << 5));
    csr_write(mie, (1 << 1) | (1 << 5));
    csr_set(mstatus, MSTATUS_MIE | MSTATUS_SIE);
    csr_set(mip, 1 << 1); /* SSIP */
    spin();
    CHECK_EQ(s_irqs, 0);
    CHECK_EQ(m_irqs, 5);
    /* ... but are taken as soon as S runs with SIE */
    run_in_mode(PRV_S, s_spin, 0);
    CHECK_EQ(s_irqs, 1);
    CHECK_EQ(strap.cause, CAUSE_IRQ | 1);
    CHECK_EQ(csr_read(mip) & 2, 0);
    /* STIP, set by M as SBI firmware does */
    csr_set(mip, 1 << 5);
    run_in_mode(PRV_S, s_spin, 0);
    CHECK_EQ(s_irqs, 2);
    CHECK_EQ(strap.cause, CAUSE_IRQ | 5);
    csr_clear(mip, 1 << 5);
    /* with SIE = 0, S does not take its own interrupts */
    csr_clear(mstatus, MSTATUS_SIE);
    csr_set(mip, 1 << 1);
    run_in_mode(PRV_S, s_spin, 0);
    CHECK_EQ(s_irqs, 2);
    csr_clear(mip, 1 << 1);
    /* in U they are taken whatever SIE says */
    csr_set(mip, 1 << 1);
    run_in_mode(PRV_U, s_spin, 0);
    CHECK_EQ(s_irqs, 3);
    CHECK_EQ(strap.priv, PRV_U);

    /* M interrupts preempt S even with mstatus.MIE = 0 */
    csr_clear(mstatus, MSTATUS_MIE);
    csr_write(mie, 1 << 3);
    *msip = 1;
    run_in_mode(PRV_S, s_spin, 0);
    CHECK_EQ(m_irqs, 6);
    CHECK_EQ(mtrap.priv, PRV_S);
    CHECK_EQ(order[0], CAUSE_IRQ | 3);
    csr_write(mie, 0);
    csr_write(mideleg, 0);

    puts_("irq: ok\n");
    return 0;
}
