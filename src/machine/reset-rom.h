/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reset vector at 0x1000, as QEMU's virt board has it: every hart
 * starts there, loads a0 = mhartid, a1 = the device tree's address,
 * a2 = the fw_dynamic info block, and jumps to the entry point.
 */
#ifndef PARVM_MACHINE_RESET_ROM_H
#define PARVM_MACHINE_RESET_ROM_H

#include <stddef.h>
#include <stdint.h>

/* Bytes written at the start of the ROM. */
#define RESET_ROM_USED 88

/* Fill @rom (at least RESET_ROM_USED bytes). */
void reset_rom_fill(uint8_t *rom, uint64_t entry, uint64_t fdt_addr, uint64_t next_addr);

#endif
