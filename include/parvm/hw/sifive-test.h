/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sifive_test (sifive,test0): the finisher of QEMU's virt board, a 0x1000
 * region with one register at offset 0.  A write there of
 *   0x5555                  requests power-off, status 0 ("pass")
 *   0x7777                  requests a reset
 *   (code << 16) | 0x3333   requests exit with status code ("fail")
 * (only the low 32 bits count, as QEMU's 2..4-byte accesses).  Other values
 * and offsets are guest errors, ignored; reads return 0.
 *
 * Dispatch mode LOCKLESS: the device has no state.  The request goes to the
 * board's callback, on the writing hart's thread, inside the dispatch and
 * possibly under the global lock (S12 mode): it must not block (set a flag,
 * kick a thread) and the device touches no hart state.
 */
#ifndef PARVM_HW_SIFIVE_TEST_H
#define PARVM_HW_SIFIVE_TEST_H

#include "parvm/device.h"
#include "parvm/memory.h"

#define PV_SIFIVE_TEST_SIZE 0x1000

typedef enum PvTestRequest {
    PV_TEST_POWEROFF,   /* 0x5555: exit status 0 */
    PV_TEST_RESET,      /* 0x7777 */
    PV_TEST_EXIT,       /* 0x3333: exit with the code in bits 31..16 */
} PvTestRequest;

typedef void PvTestRequestFunc(void *opaque, PvTestRequest req, int code);

typedef struct PvSifiveTest PvSifiveTest;

/* NULL on allocation failure. */
PvSifiveTest *pv_sifive_test_new(PvVm *vm, PvTestRequestFunc *request, void *opaque);

MemoryRegion *pv_sifive_test_mmio(PvSifiveTest *t);
PvDevice *pv_sifive_test_device(PvSifiveTest *t);

/* Unrealize and drop the creator's reference. */
void pv_sifive_test_destroy(PvSifiveTest *t);

#endif
