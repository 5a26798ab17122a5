/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vcpu.h"

#include <stdio.h>

#include "parvm/dispatch.h"
#include "parvm/rcu.h"

static uint8_t *bus_ram_ptr(void *opaque, uint64_t paddr, RiscvAccess access, uint64_t *avail)
{
    PvVcpu *v = opaque;
    hwaddr n = 0;
    uint8_t *p = address_space_ram_ptr(v->as, paddr, access == RISCV_ACCESS_WRITE, &n);
    *avail = n;
    return p;
}

static int bus_status(PvAccessStatus st)
{
    switch (st) {
    case PV_ACCESS_OK:
        return RISCV_BUS_OK;
    case PV_ACCESS_UNASSIGNED:
        return RISCV_BUS_UNASSIGNED;
    default:
        return RISCV_BUS_ERROR;
    }
}

static int bus_mmio_read(void *opaque, uint64_t paddr, unsigned size, uint64_t *val)
{
    PvVcpu *v = opaque;
    return bus_status(address_space_read(v->as, paddr, size, val));
}

static int bus_mmio_write(void *opaque, uint64_t paddr, unsigned size, uint64_t val)
{
    PvVcpu *v = opaque;
    return bus_status(address_space_write(v->as, paddr, size, val));
}

static uint64_t bus_time(void *opaque)
{
    PvVcpu *v = opaque;
    return v->time ? v->time(v->time_opaque) : 0;
}

/*
 * Between blocks.  The hart drops its cached host pointers right after this
 * returns if asked to; asking whenever the view changed means a RAM region
 * that a commit unmapped is no longer cached by the time the grace period
 * that frees it can end (this very quiescent state is part of it).
 */
static void bus_quiescent(void *opaque)
{
    PvVcpu *v = opaque;
    pv_rcu_quiescent();
    uint64_t gen = address_space_generation(v->as);
    if (gen != v->view_generation) {
        v->view_generation = gen;
        riscv_hart_flush_tlb(v->hart);
    }
}

int pv_vcpu_init(PvVcpu *v, unsigned index, AddressSpace *as, uint64_t reset_pc,
                 uint64_t (*time)(void *), void *time_opaque)
{
    *v = (PvVcpu){ .index = index, .as = as, .time = time, .time_opaque = time_opaque };
    const RiscvBus bus = {
        .opaque = v,
        .ram_ptr = bus_ram_ptr,
        .mmio_read = bus_mmio_read,
        .mmio_write = bus_mmio_write,
        .time = bus_time,
        .quiescent = bus_quiescent,
    };
    v->hart = riscv_hart_new(&bus, index, reset_pc);
    return v->hart ? 0 : -1;
}

void pv_vcpu_enter(PvVcpu *v)
{
    v->view_generation = address_space_generation(v->as);
}

void pv_vcpu_run(PvVcpu *v)
{
    RiscvExit e = riscv_hart_run(v->hart, 0);
    if (e == RISCV_EXIT_WFI) {
        /* Sleeping holds up no grace period and no lock. */
        pv_rcu_offline();
        riscv_hart_wait(v->hart, -1);
        pv_rcu_online();
    }
}

void pv_vcpu_kick(PvVcpu *v)
{
    riscv_hart_kick(v->hart);
}

void pv_vcpu_join(PvVcpu *v)
{
    if (v->started) {
        pthread_join(v->thread, NULL);
        v->started = false;
    }
}

void pv_vcpu_destroy(PvVcpu *v)
{
    pv_vcpu_join(v);
    riscv_hart_free(v->hart);
    v->hart = NULL;
}
