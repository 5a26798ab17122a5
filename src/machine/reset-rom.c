/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reset-rom.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* RISC-V encodings, built from their fields. */
static uint32_t i_type(uint32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

enum { T0 = 5, A0 = 10, A1 = 11, A2 = 12 };

void reset_rom_fill(uint8_t *rom, uint64_t entry, uint64_t fdt_addr, uint64_t next_addr)
{
    const uint32_t code[] = {
        (T0 << 7) | 0x17,                       /* auipc t0, 0            */
        i_type(40, T0, 0, A2, 0x13),            /* addi  a2, t0, 40       */
        i_type(0xf14, 0, 2, A0, 0x73),          /* csrr  a0, mhartid      */
        i_type(32, T0, 3, A1, 0x03),            /* ld    a1, 32(t0)       */
        i_type(24, T0, 3, T0, 0x03),            /* ld    t0, 24(t0)       */
        i_type(0, T0, 0, 0, 0x67),              /* jr    t0               */
    };

    memset(rom, 0, RESET_ROM_USED);
    for (unsigned i = 0; i < sizeof(code) / sizeof(code[0]); i++) {
        put32(rom + 4 * i, code[i]);
    }
    put64(rom + 24, entry);
    put64(rom + 32, fdt_addr);
    /* OpenSBI's fw_dynamic_info (version 2): magic "OSBI", version, next
     * stage address, next mode (S), options, boot hart. */
    put64(rom + 40, 0x4942534f);
    put64(rom + 48, 2);
    put64(rom + 56, next_addr);
    put64(rom + 64, 1);
    put64(rom + 72, 0);
    put64(rom + 80, 0);         /* boot hart, as QEMU fills it */
}
