/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fixture.h"

#include "harness.h"

void fixture_init(Fixture *f)
{
    pv_vm_init(&f->vm);
    memory_region_init_container(&f->root, &f->vm, NULL, "root", UINT64_MAX);
    memory_region_transaction_begin(&f->vm);
    address_space_init(&f->as, &f->vm, &f->root, "memory");
    memory_region_transaction_commit(&f->vm);
}

void fixture_map(Fixture *f, MemoryRegion *mr, hwaddr addr)
{
    memory_region_transaction_begin(&f->vm);
    memory_region_add_subregion(&f->root, addr, mr);
    memory_region_transaction_commit(&f->vm);
}

void fixture_unmap(Fixture *f, MemoryRegion *mr)
{
    memory_region_transaction_begin(&f->vm);
    memory_region_del_subregion(&f->root, mr);
    memory_region_transaction_commit(&f->vm);
}

uint64_t fixture_read(Fixture *f, hwaddr addr, unsigned size)
{
    uint64_t v = 0;
    CHECK(address_space_read(&f->as, addr, size, &v) == PV_ACCESS_OK);
    return v;
}

void fixture_write(Fixture *f, hwaddr addr, unsigned size, uint64_t val)
{
    CHECK(address_space_write(&f->as, addr, size, val) == PV_ACCESS_OK);
}

void fixture_destroy(Fixture *f)
{
    memory_region_transaction_begin(&f->vm);
    while (f->root.nr_subregions) {
        memory_region_del_subregion(&f->root, f->root.subregions[0]);
    }
    address_space_destroy(&f->as);
    memory_region_transaction_commit(&f->vm);
    pv_rcu_barrier();
    pv_rcu_barrier();   /* view reclaim may queue device finalizers */
    memory_region_destroy(&f->root);
    pv_vm_destroy(&f->vm);
}
