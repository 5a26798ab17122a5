/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPU run control with real hart threads: pause parks every hart (busy or
 * sleeping in WFI) at an instruction boundary, with no lock held, and
 * reports it asynchronously; while paused no guest instruction retires;
 * resume lets them go on; exit joins them.
 */
#include <unistd.h>

#include "../../src/accel/cpus.h"
#include "fixture.h"
#include "harness.h"
#include "parvm/clock.h"

#define RAM_BASE 0x80000000ull
#define NHARTS 3

typedef struct Rig {
    Fixture f;
    MemoryRegion ram;
    PvVcpu vcpus[NHARTS];
    PvCpus cpus;
    atomic_int paused_calls, not_paused_calls;
} Rig;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void paused_cb(void *opaque, bool paused)
{
    Rig *r = opaque;
    atomic_fetch_add(paused ? &r->paused_calls : &r->not_paused_calls, 1);
}

static bool wait_until(atomic_int *v, int want, int ms)
{
    int64_t end = pv_clock_ns() + ms * PV_NS_PER_MS;
    while (atomic_load(v) < want && pv_clock_ns() < end) {
        usleep(200);
    }
    return atomic_load(v) >= want;
}

static void test_pause_resume_exit(void)
{
    Rig *r = calloc(1, sizeof(*r));

    fixture_init(&r->f);
    CHECK(memory_region_init_ram(&r->ram, &r->f.vm, NULL, "ram", 0x10000) == 0);
    /* 0x0: addi x1, x1, 1; j 0x0       (busy harts)
     * 0x100: wfi; j 0x100              (a sleeping hart) */
    put32(r->ram.ram + 0x0, 0x00108093);
    put32(r->ram.ram + 0x4, 0xffdff06f);
    put32(r->ram.ram + 0x100, 0x10500073);
    put32(r->ram.ram + 0x104, 0xffdff06f);
    fixture_map(&r->f, &r->ram, RAM_BASE);
    for (unsigned h = 0; h < NHARTS; h++) {
        uint64_t pc = RAM_BASE + (h == NHARTS - 1 ? 0x100 : 0);
        CHECK(pv_vcpu_init(&r->vcpus[h], h, &r->f.as, pc, NULL, NULL) == 0);
    }
    pv_cpus_init(&r->cpus, r->vcpus, NHARTS);
    CHECK(pv_cpus_start(&r->cpus, false) == 0);
    usleep(20000);

    /* Asynchronous pause: the callback says when all have parked. */
    pv_cpus_pause(&r->cpus, paused_cb, r);
    CHECK(wait_until(&r->paused_calls, 1, 5000));
    CHECK(pv_cpus_paused(&r->cpus));
    uint64_t x1[NHARTS];
    for (unsigned h = 0; h < NHARTS; h++) {
        x1[h] = riscv_hart_get_x(r->vcpus[h].hart, 1);
    }
    CHECK(x1[0] > 0 && x1[1] > 0);      /* they did run */
    usleep(20000);
    for (unsigned h = 0; h < NHARTS; h++) {
        CHECK_EQ_U64(riscv_hart_get_x(r->vcpus[h].hart, 1), x1[h]);   /* and stopped */
    }
    /* Pausing what is paused completes at once, on this thread. */
    pv_cpus_pause(&r->cpus, paused_cb, r);
    CHECK_EQ_U64(atomic_load(&r->paused_calls), 2);

    pv_cpus_resume(&r->cpus);
    usleep(20000);
    pv_cpus_pause_wait(&r->cpus);
    CHECK(pv_cpus_paused(&r->cpus));
    CHECK(riscv_hart_get_x(r->vcpus[0].hart, 1) > x1[0]);    /* ran again */
    pv_cpus_resume(&r->cpus);
    usleep(5000);
    CHECK(!pv_cpus_paused(&r->cpus));

    pv_cpus_exit(&r->cpus);
    CHECK_EQ_U64(atomic_load(&r->not_paused_calls), 0);
    pv_cpus_destroy(&r->cpus);
    for (unsigned h = 0; h < NHARTS; h++) {
        pv_vcpu_destroy(&r->vcpus[h]);
    }
    fixture_unmap(&r->f, &r->ram);
    fixture_destroy(&r->f);
    memory_region_destroy(&r->ram);
    free(r);
}

/* Starting paused (-S): nothing runs until resume. */
static void test_start_paused(void)
{
    Rig *r = calloc(1, sizeof(*r));

    fixture_init(&r->f);
    CHECK(memory_region_init_ram(&r->ram, &r->f.vm, NULL, "ram", 0x1000) == 0);
    put32(r->ram.ram + 0x0, 0x00108093);
    put32(r->ram.ram + 0x4, 0xffdff06f);
    fixture_map(&r->f, &r->ram, RAM_BASE);
    CHECK(pv_vcpu_init(&r->vcpus[0], 0, &r->f.as, RAM_BASE, NULL, NULL) == 0);
    pv_cpus_init(&r->cpus, r->vcpus, 1);
    CHECK(pv_cpus_start(&r->cpus, true) == 0);
    pv_cpus_pause(&r->cpus, paused_cb, r);
    CHECK(wait_until(&r->paused_calls, 1, 5000));
    CHECK_EQ_U64(riscv_hart_get_x(r->vcpus[0].hart, 1), 0);
    pv_cpus_resume(&r->cpus);
    pv_cpus_pause_wait(&r->cpus);
    pv_cpus_exit(&r->cpus);
    pv_cpus_destroy(&r->cpus);
    pv_vcpu_destroy(&r->vcpus[0]);
    fixture_unmap(&r->f, &r->ram);
    fixture_destroy(&r->f);
    memory_region_destroy(&r->ram);
    free(r);
}

PV_TEST_MAIN(TEST(test_pause_resume_exit), TEST(test_start_paused))
