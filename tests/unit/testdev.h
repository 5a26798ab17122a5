/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device for core tests: one MMIO region whose handler logs exactly what
 * it received (offset, size, value) and serves reads from a byte-addressed
 * register file, with configurable access sizes and dispatch mode.
 */
#ifndef PARVM_TEST_TESTDEV_H
#define PARVM_TEST_TESTDEV_H

#include "parvm/dispatch.h"
#include "parvm/memory.h"

#define TESTDEV_LOG_MAX 64
#define TESTDEV_SIZE 0x100

typedef struct TestDevAccess {
    hwaddr off;
    unsigned size;
    uint64_t val;
    bool is_write;
    bool global_held, dev_lock_held;
} TestDevAccess;

typedef struct TestDev {
    PvDevice dev;
    MemoryRegion mr;
    MemoryRegionOps ops;
    uint8_t regs[TESTDEV_SIZE];
    TestDevAccess log[TESTDEV_LOG_MAX];
    unsigned nlog;
    /* Optional extra work in the handler (re-entrancy tests). */
    void (*hook)(struct TestDev *td, hwaddr off, bool is_write);
    void *hook_opaque;
    bool *finalized;    /* set by finalize, if not NULL */
} TestDev;

extern PvDeviceClass testdev_class;
extern PvDeviceClass testdev_peer_class;  /* a second type, own lock class */

/* Allocate a device of @cls with one region of TESTDEV_SIZE bytes. */
TestDev *testdev_new(PvVm *vm, PvDeviceClass *cls, const char *id, PvDispatchMode mode,
                     unsigned min, unsigned max, bool unaligned);
void testdev_clear_log(TestDev *td);

#endif
