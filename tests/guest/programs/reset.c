/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sifive_test reset (0x7777): the first boot leaves a mark in RAM outside
 * the loaded image and asks for a reset; the machine resets every hart to
 * the reset vector and reloads the image, but keeps RAM, so the second boot
 * finds the mark, clears it and powers off.  Before the reset the first
 * boot changes the devices' registers (UART, PLIC, CLINT, RTC); the second
 * prints what they read back, which must be what qemu-system-riscv64 shows
 * (its devices go back to their power-on state).
 */
#include "runtime.h"

#define MARK (*(volatile uint64_t *)0x80800000ul)   /* past the image */
#define MAGIC 0x7265736574ul                         /* "reset" */

#define PLIC 0xc000000ul
#define PLIC_PRIORITY(n) (PLIC + 4 * (n))
#define PLIC_ENABLE0 (PLIC + 0x2000)
#define PLIC_THRESHOLD0 (PLIC + 0x200000)
#define CLINT_MSIP0 0x2000000ul
#define UART_IER (UART + 1)
#define UART_LCR (UART + 3)
#define UART_SCR (UART + 7)
#define RTC_IRQ_ENABLED (RTC + 0x10)

static uint32_t boots_seen_by_image;

/* Leave every device in a state that differs from power-on. */
static void dirty_devices(void)
{
    *(volatile uint8_t *)UART_SCR = 0x5a;
    *(volatile uint8_t *)UART_LCR = 0x1b;
    *(volatile uint8_t *)UART_IER = 0x0d;
    mmio32(PLIC_PRIORITY(10)) = 5;
    mmio32(PLIC_ENABLE0) = 1u << 10;
    mmio32(PLIC_THRESHOLD0) = 3;
    mmio32(CLINT_MSIP0) = 1;
    mmio64(CLINT_MTIMECMP(0)) = 0x123456789ull;
    mmio32(RTC_IRQ_ENABLED) = 1;
}

static void show(const char *what, uint64_t v)
{
    puts_(what);
    putu(v);
    putc_('\n');
}

static void show_devices(void)
{
    show("uart scr ", *(volatile uint8_t *)UART_SCR);
    show("uart lcr ", *(volatile uint8_t *)UART_LCR);
    show("uart ier ", *(volatile uint8_t *)UART_IER);
    show("plic priority 10 ", mmio32(PLIC_PRIORITY(10)));
    show("plic enable ", mmio32(PLIC_ENABLE0));
    show("plic threshold ", mmio32(PLIC_THRESHOLD0));
    show("clint msip ", mmio32(CLINT_MSIP0));
    show("clint mtimecmp ", mmio64(CLINT_MTIMECMP(0)));
    show("rtc irq enabled ", mmio32(RTC_IRQ_ENABLED));
    /* mtime went back to 0 at the reset: well under an hour since. */
    show("mtime under an hour ", mmio64(CLINT_MTIME) < 3600 * MTIME_HZ);
}     /* reloaded with the image: 0 */

void guest_trap(uint64_t cause)
{
    (void)cause;
    puts_("unexpected trap\n");
    power_off(false);
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    (void)fdt;
    if (h != 0) {
        return;
    }
    if (boots_seen_by_image++ != 0) {
        puts_("the image was not reloaded\n");
        power_off(false);
    }
    if (MARK != MAGIC) {
        puts_("first boot: asking for a reset\n");
        MARK = MAGIC;
        dirty_devices();
        mmio32(TEST) = 0x7777;
        for (;;) {
            __asm__ volatile("wfi");
        }
    }
    MARK = 0;
    puts_("second boot: RAM kept, image reloaded\n");
    show_devices();
    power_off(true);
}
