/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a RISC-V hart reaches guest-physical memory.
 *
 * The hart library knows nothing of the memory map: the board implements
 * these callbacks on top of the core's dispatch.  RAM (and ROM) is reached
 * through host pointers that the hart caches in its software TLB, so the
 * callbacks run only on TLB misses and for MMIO.  Every callback is called
 * on the hart's own thread, from inside riscv_hart_run(); none is called
 * with a lock of the hart library held (it has none).
 */
#ifndef PARVM_RISCV_BUS_H
#define PARVM_RISCV_BUS_H

#include <stdint.h>

/* What an access is for; ram_ptr() uses it to refuse e.g. writes to ROM. */
typedef enum RiscvAccess {
    RISCV_ACCESS_READ = 0,
    RISCV_ACCESS_WRITE = 1,
    RISCV_ACCESS_EXEC = 2,
} RiscvAccess;

/* Results of mmio_read/mmio_write.  Every nonzero result makes the hart
 * raise an access fault (load, store/AMO or instruction), as QEMU's RISC-V
 * target does for a failed transaction (unassigned address or a device
 * that refused).  The codes differ only so the board can count them. */
enum {
    RISCV_BUS_OK = 0,
    RISCV_BUS_UNASSIGNED = 1, /* nothing answers at this address */
    RISCV_BUS_ERROR = 2,      /* a device answered and refused */
};

typedef struct RiscvBus {
    void *opaque; /* passed to every callback */

    /*
     * Host pointer to guest-physical address paddr when it is RAM or ROM
     * that may be accessed directly for `access`, else NULL (then the hart
     * uses mmio_read/mmio_write; a fetch from non-RAM is an instruction
     * access fault).  *avail receives how many bytes from paddr are
     * contiguous in host memory within the same region; the hart caches
     * the page in its TLB only when avail reaches the end of the 4 KiB page.
     * The host pointer must have the same alignment modulo 8 as paddr.
     * It must stay valid until the hart has seen a riscv_hart_flush_tlb()
     * issued after the memory map changed (see hart.h for the protocol).
     * Required.
     */
    uint8_t *(*ram_ptr)(void *opaque, uint64_t paddr, RiscvAccess access,
                        uint64_t *avail);

    /* MMIO of size 1, 2, 4 or 8 at a naturally aligned paddr (the hart
     * splits misaligned accesses into single bytes).  Return RISCV_BUS_OK
     * or a nonzero code (see above).  Required. */
    int (*mmio_read)(void *opaque, uint64_t paddr, unsigned size,
                     uint64_t *val);
    int (*mmio_write)(void *opaque, uint64_t paddr, unsigned size,
                      uint64_t val);

    /* The CLINT's mtime (10 MHz), read by the time CSR.  May be NULL: time
     * then reads 0. */
    uint64_t (*time)(void *opaque);

    /* Called between instruction blocks (whenever the hart leaves its
     * inner loop, which it does at least every 50,000 instructions) so the
     * board can report an RCU quiescent state.  Must be cheap.  May be
     * NULL. */
    void (*quiescent)(void *opaque);
} RiscvBus;

#endif
