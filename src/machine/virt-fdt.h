/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's device tree, built with libfdt: the same node names,
 * compatibles and interrupt wiring as qemu-system-riscv64 -machine virt, for
 * the devices parvm has.
 */
#ifndef PARVM_MACHINE_VIRT_FDT_H
#define PARVM_MACHINE_VIRT_FDT_H

#include <stddef.h>
#include <stdint.h>

typedef struct VirtFdtConfig {
    unsigned nharts;
    uint64_t ram_base, ram_size;
    const char *isa;            /* riscv,isa of every hart */
    const char *mmu_type;       /* e.g. "riscv,sv39" */
    const char *bootargs;       /* NULL: none */
} VirtFdtConfig;

/* A malloc'd, packed DTB (size in *size), or NULL on failure. */
void *virt_fdt_build(const VirtFdtConfig *cfg, size_t *size);

#endif
