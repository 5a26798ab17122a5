/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's device tree, built with libfdt: the same node names,
 * compatibles and interrupt wiring as qemu-system-riscv64 -machine virt, for
 * the devices parvm has.
 */
#ifndef PARVM_MACHINE_VIRT_FDT_H
#define PARVM_MACHINE_VIRT_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct VirtFdtConfig {
    unsigned nharts;
    uint64_t ram_base, ram_size;
    const char *isa;            /* riscv,isa of every hart */
    const char *mmu_type;       /* e.g. "riscv,sv39" */
    const char *bootargs;       /* NULL: none */
    bool initrd;                /* /chosen gets linux,initrd-start/end, 0 until
                                   virt_fdt_set_initrd() patches them */
} VirtFdtConfig;

/* A malloc'd, packed DTB (size in *size), or NULL on failure. */
void *virt_fdt_build(const VirtFdtConfig *cfg, size_t *size);

/* Set the initrd's [start, end) in a blob built with cfg->initrd, in
 * place (32-bit cells, as QEMU 7.2 writes them).  0, or -1 if an address
 * does not fit 32 bits or the blob has no such properties. */
int virt_fdt_set_initrd(void *fdt, uint64_t start, uint64_t end);

#endif
