/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scaffolding shared by the virtio fuzz targets (fuzz-virtio-blk.c,
 * fuzz-virtio-net.c): an input reader, a canary oracle over guest RAM, and
 * a driver that plays the guest against a real device through its
 * registers and RAM, with the operations the fuzzer picks (kicks, resets,
 * QueueReady toggles, register writes, ring and RAM updates).
 *
 * The oracle: the harness knows every byte the "guest" wrote to RAM (the
 * rest is a canary pattern).  After a run every RAM byte must still be what
 * the guest wrote, unless it lies in a used ring or in a buffer some
 * descriptor marked device-writable, taken from every ring configuration
 * the device held during the run (read under its lock after each register
 * write) and every descriptor the guest wrote.  When a writable buffer or
 * a used ring overlaps a descriptor table or an available ring, the device
 * may legally rewrite what it reads next, so the run is only checked for
 * the ROM page (nothing outside RAM is written) -- ASan/UBSan watch the
 * host in every run.  Single-threaded: the fuzzer's thread only.
 */
#ifndef PARVM_FUZZ_COMMON_H
#define PARVM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "parvm/virtio/virtio.h"

/* ---- input --------------------------------------------------------------- */

typedef struct FuzzIn {
    const uint8_t *p;
    size_t n;
} FuzzIn;

/* Little-endian values from the input; 0 once it ran out. */
uint8_t fin_u8(FuzzIn *in);
uint16_t fin_u16(FuzzIn *in);
uint32_t fin_u32(FuzzIn *in);
/* Up to @len bytes into @buf (zero-filled after the end); returns @len. */
size_t fin_bytes(FuzzIn *in, void *buf, size_t len);

/* ---- guest RAM oracle ------------------------------------------------------ */

typedef struct FuzzRange {
    uint64_t a, len;
} FuzzRange;

typedef struct FuzzRam {
    AddressSpace *as;
    uint64_t base;
    size_t size;
    uint8_t *expect;            /* what the guest wrote (or the canary) */
    uint8_t *now;               /* scratch: RAM read back */
    uint8_t *pristine;          /* the canary pattern */
    FuzzRange *allow, *tables;  /* device-writable; read by the device */
    unsigned nallow, ntables, cap_allow, cap_tables;
    uint64_t rom;               /* a ROM page that must stay 0 (0: none) */
    uint64_t rom_size;
} FuzzRam;

void fuzz_ram_init(FuzzRam *m, AddressSpace *as, uint64_t base, size_t size, uint64_t rom,
                   uint64_t rom_size);
/* Canary over all of RAM, nothing allowed. */
void fuzz_ram_fill(FuzzRam *m);
/* A guest store (clipped to RAM). */
void fuzz_ram_write(FuzzRam *m, uint64_t addr, const void *buf, size_t len);
/* Note queue @q's configuration as the device holds it now (takes the
 * device lock): its used ring is writable, its tables and the writable
 * buffers its descriptors (and their indirect tables) name, as the guest
 * wrote them, are added. */
void fuzz_ram_note_queues(FuzzRam *m, PvVirtioDevice *v);
/* Abort if a byte outside the allowed ranges changed, or the ROM did. */
void fuzz_ram_check(FuzzRam *m);

/* ---- the guest's driver ------------------------------------------------- */

#define FZ_MAX_Q 2

typedef struct FuzzDrv FuzzDrv;
struct FuzzDrv {
    FuzzRam *ram;
    AddressSpace *as;
    uint64_t vbase;             /* the device's register window */
    PvVirtioDevice *v;          /* NULL once removed */
    unsigned nq;
    uint64_t window;            /* RAM the input lays out (FZ_WINDOW bytes) */
    uint16_t num[FZ_MAX_Q];
    uint16_t avail_idx[FZ_MAX_Q];
    uint64_t features;
    /* Device-specific hooks. */
    void (*settle)(FuzzDrv *d);             /* wait (bounded) for async work */
    void (*extra_op)(FuzzDrv *d, FuzzIn *in);  /* e.g. inject frames */
    void (*remove)(FuzzDrv *d);             /* hot-unplug the device */
    void *opaque;
};

/* Window layout: queue q's rings at window + q * FZ_QSTRIDE (descriptor
 * table, available ring at +0x1000, used ring at +0x2000), buffers from
 * FZ_BUFS on. */
#define FZ_WINDOW 0x20000u
#define FZ_QSTRIDE 0x4000u
#define FZ_BUFS 0x8000u

uint32_t fz_reg_r(FuzzDrv *d, uint32_t off);
void fz_reg_w(FuzzDrv *d, uint32_t off, uint32_t val);

/*
 * One run: the header bytes pick features (@feat_mask: the device bits the
 * fuzzer may choose), queue sizes and the layout mode; the input is laid
 * into the window as descriptor tables, available rings and buffers; then
 * the rest of the input is a script of operations.  The device is left
 * reset (or removed), and RAM checked.
 */
void fuzz_drv_run(FuzzDrv *d, FuzzIn *in, uint64_t feat_mask);

#endif
