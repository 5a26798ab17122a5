/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sifive_test reset (0x7777): the first boot leaves a mark in RAM outside
 * the loaded image and asks for a reset; the machine resets every hart to
 * the reset vector and reloads the image, but keeps RAM, so the second boot
 * finds the mark, clears it and powers off.  Same on qemu-system-riscv64.
 */
#include "runtime.h"

#define MARK (*(volatile uint64_t *)0x80800000ul)   /* past the image */
#define MAGIC 0x7265736574ul                         /* "reset" */

static uint32_t boots_seen_by_image;     /* reloaded with the image: 0 */

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
        mmio32(TEST) = 0x7777;
        for (;;) {
            __asm__ volatile("wfi");
        }
    }
    MARK = 0;
    puts_("second boot: RAM kept, image reloaded\n");
    power_off(true);
}
