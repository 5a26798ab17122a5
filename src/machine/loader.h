/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading guest images (firmware, kernels) into guest RAM: RISC-V ELF64
 * files by their PT_LOAD segments' physical addresses, anything else as a
 * raw binary at a given address.  Every offset and size in the file is
 * checked against the file and against RAM before a byte is copied.
 */
#ifndef PARVM_MACHINE_LOADER_H
#define PARVM_MACHINE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct PvGuestRam {
    uint8_t *host;
    uint64_t base, size;
} PvGuestRam;

typedef struct PvImage {
    bool is_elf;
    uint64_t entry;         /* ELF entry, or the raw load address */
    uint64_t low, high;     /* guest-physical extent loaded: [low, high) */
} PvImage;

/*
 * Load @path into @ram.  A file that is not ELF is copied to @raw_addr.
 * Returns 0, or -1 with a one-line reason in @err (the caller prefixes the
 * file name): unreadable, truncated, not RISC-V, a segment outside RAM.
 */
int pv_load_image(const char *path, const PvGuestRam *ram, uint64_t raw_addr, PvImage *out,
                  char *err, size_t errlen);

/* Copy @path to @addr as it is, whatever it contains (an initrd).  Same
 * checks and errors as pv_load_image(). */
int pv_load_raw(const char *path, const PvGuestRam *ram, uint64_t addr, PvImage *out,
                char *err, size_t errlen);

#endif
