/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A guest that never ends: every hart says it is up, then spins.  For
 * monitor tests (stop, cont, reset, quit while harts run).
 */
#include "runtime.h"

static uint32_t print_lock;
static volatile uint64_t spins[MAX_HARTS];

void guest_trap(uint64_t cause)
{
    (void)cause;
    puts_("unexpected trap\n");
    power_off(false);
}

void guest_main(uint64_t h, const uint8_t *fdt)
{
    (void)fdt;
    if (h >= MAX_HARTS) {
        return;
    }
    lock(&print_lock);
    puts_("hart ");
    putu(h);
    puts_(" up\n");
    unlock(&print_lock);
    for (;;) {
        spins[h]++;
    }
}
