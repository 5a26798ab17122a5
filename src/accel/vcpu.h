/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vCPU: one host thread running one hart (S1).  The thread holds no lock
 * while it runs guest code; it reaches devices only through dispatch, and
 * it is an RCU reader that reports a quiescent state between instruction
 * blocks and goes offline while it sleeps in WFI.
 *
 * The interpreter is behind RiscvHart; a KVM accelerator would replace this
 * file, not the core.
 */
#ifndef PARVM_ACCEL_VCPU_H
#define PARVM_ACCEL_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "parvm/memory.h"
#include "parvm/riscv/hart.h"

typedef struct PvVcpu {
    unsigned index;
    RiscvHart *hart;
    AddressSpace *as;
    uint64_t view_generation;   /* of the view the hart's TLB was filled from */
    uint64_t (*time)(void *opaque);
    void *time_opaque;
    pthread_t thread;           /* started and joined by cpus.c */
    atomic_int tid;             /* the thread's kernel id, for query-cpus-fast */
    bool started;
} PvVcpu;

/*
 * Create the hart of @v (reset at @reset_pc) with a bus that goes through
 * @as.  Returns 0 or -1 (out of memory).
 */
int pv_vcpu_init(PvVcpu *v, unsigned index, AddressSpace *as, uint64_t reset_pc,
                 uint64_t (*time)(void *), void *time_opaque);
/* On the vCPU thread, once registered with RCU, before the first run. */
void pv_vcpu_enter(PvVcpu *v);
/* On the vCPU thread: run guest code until a kick; sleep (RCU offline)
 * through WFI until an interrupt or a kick. */
void pv_vcpu_run(PvVcpu *v);
/* [any thread] Make the hart leave guest code (or WFI) soon. */
void pv_vcpu_kick(PvVcpu *v);
/* Wait for the thread to leave, if it was started. */
void pv_vcpu_join(PvVcpu *v);
/* Join if running; free the hart. */
void pv_vcpu_destroy(PvVcpu *v);

#endif
