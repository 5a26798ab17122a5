/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM with one address space over a root container, for core tests.
 */
#ifndef PARVM_TEST_FIXTURE_H
#define PARVM_TEST_FIXTURE_H

#include "parvm/dispatch.h"

typedef struct Fixture {
    PvVm vm;
    AddressSpace as;
    MemoryRegion root;
} Fixture;

void fixture_init(Fixture *f);
/* Map @mr at @addr in one transaction. */
void fixture_map(Fixture *f, MemoryRegion *mr, hwaddr addr);
void fixture_unmap(Fixture *f, MemoryRegion *mr);
/* Accesses that must succeed: any other status is a test failure (CHECK),
 * and a failed read returns 0. */
uint64_t fixture_read(Fixture *f, hwaddr addr, unsigned size);
void fixture_write(Fixture *f, hwaddr addr, unsigned size, uint64_t val);

/* Unmaps nothing: unrealize/unref devices first. */
void fixture_destroy(Fixture *f);

#endif
