/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stress with real threads: dispatch threads hammer device slots (each
 * access a read, a write, a DMA-triggering write, or an 8-byte access the
 * device takes in two halves) while a churn thread unrealizes and re-creates
 * the devices, in rotating dispatch modes, and maps and unmaps a RAM region
 * and an alias of it.  Checks:
 *   counts add up: every OK access the dispatchers saw is exactly one
 *     handler run (two for 8-byte accesses), and each device's region
 *     statistics agree with its handler;
 *   G1: no handler starts or is still running after unrealize returned
 *     (sequence numbers stamped at unrealize and in every handler);
 *   G3: an 8-byte access is never half-applied;
 *   G2 (ASan) and races (TSan) by the sanitizer builds; ordering by the
 *     lock validator, on in this build.
 */
#include <pthread.h>
#include <stdlib.h>

#include "fixture.h"
#include "harness.h"

#define SLOTS 6
#define SLOT_BASE 0x100000
#define SLOT_SIZE 0x100
#define RAM_ADDR 0x800000
#define ALIAS_ADDR 0x900000
#define DISPATCHERS 2
#define ACCESSES_PER_THREAD 1000000

typedef struct Stress {
    Fixture f;
    atomic_uint_fast64_t seq;
    atomic_uint_fast64_t g1_violations, g3_violations, stat_mismatches;
    atomic_uint_fast64_t retired_hits, finalized;
    atomic_bool stop;
    atomic_uint_fast64_t ok_total, unassigned_total, other_total;
    unsigned creations, unrealizes, ram_toggles;
} Stress;

typedef struct StressDev {
    PvDevice dev;
    MemoryRegion mr;
    MemoryRegionOps ops;
    Stress *s;
    atomic_uint_fast64_t hits[4];       /* by offset / 4 */
    atomic_uint_fast64_t max_end_seq;
    atomic_uint_fast64_t unrealized_seq;
    atomic_uint_fast32_t reg[4];
} StressDev;

static void handler_enter(StressDev *d)
{
    atomic_fetch_add(&d->s->seq, 1);
    if (atomic_load(&d->unrealized_seq) != 0) {
        atomic_fetch_add(&d->s->g1_violations, 1);
    }
}

static void handler_leave(StressDev *d)
{
    uint64_t end = atomic_fetch_add(&d->s->seq, 1) + 1;
    uint64_t cur = atomic_load(&d->max_end_seq);
    while (cur < end && !atomic_compare_exchange_weak(&d->max_end_seq, &cur, end)) {
    }
}

static PvAccessStatus sd_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    StressDev *d = opaque;
    (void)size;
    handler_enter(d);
    atomic_fetch_add(&d->hits[off / 4], 1);
    *val = atomic_load_explicit(&d->reg[off / 4], memory_order_relaxed);
    handler_leave(d);
    return PV_ACCESS_OK;
}

static PvAccessStatus sd_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    StressDev *d = opaque;
    (void)size;
    handler_enter(d);
    atomic_fetch_add(&d->hits[off / 4], 1);
    atomic_store_explicit(&d->reg[off / 4], (uint32_t)val, memory_order_relaxed);
    if (off == 8) {
        /* DMA into RAM that the churn thread maps and unmaps (S7): it may
         * land in RAM or in nothing, and must do neither harm. */
        address_space_write(&d->s->f.as, RAM_ADDR + (val & 0xffc), 4, val);
    }
    handler_leave(d);
    return PV_ACCESS_OK;
}

static void sd_finalize(PvDevice *dev)
{
    StressDev *d = (StressDev *)dev;
    Stress *s = d->s;
    uint64_t counts[PV_ACCESS__COUNT];
    uint64_t h0 = atomic_load(&d->hits[0]), h1 = atomic_load(&d->hits[1]);
    uint64_t h2 = atomic_load(&d->hits[2]), h3 = atomic_load(&d->hits[3]);

    if (atomic_load(&d->max_end_seq) >= atomic_load(&d->unrealized_seq)) {
        atomic_fetch_add(&s->g1_violations, 1);
    }
    if (h0 != h1) {     /* an 8-byte access applied by halves */
        atomic_fetch_add(&s->g3_violations, 1);
    }
    memory_region_get_counts(&d->mr, counts);
    if (counts[PV_ACCESS_OK] != h0 + h2 + h3) {
        atomic_fetch_add(&s->stat_mismatches, 1);
    }
    atomic_fetch_add(&s->retired_hits, h0 + h2 + h3);
    atomic_fetch_add(&s->finalized, 1);
    memory_region_destroy(&d->mr);
    free(d);
}

static PvDeviceClass stressdev_class = {
    .type = "stressdev",
    .lock_class = PV_LOCK_CLASS_INIT("stressdev", PV_LOCK_KIND_DEVICE),
    .finalize = sd_finalize,
};

static StressDev *stressdev_new(Stress *s, PvDispatchMode mode)
{
    StressDev *d = calloc(1, sizeof(*d));
    if (!d) {
        abort();
    }
    d->s = s;
    pv_device_init(&d->dev, &stressdev_class, &s->f.vm, "stress");
    d->ops = (MemoryRegionOps){
        .read = sd_read, .write = sd_write,
        .impl = { .min_access_size = 4, .max_access_size = 4 },
    };
    memory_region_init_io(&d->mr, &s->f.vm, &d->dev, &d->ops, d, "stress", 16);
    memory_region_set_dispatch_mode(&d->mr, mode);
    return d;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void *dispatcher(void *p)
{
    Stress *s = p;
    uint64_t rng = (uint64_t)pthread_self() | 1, ok = 0, unassigned = 0, other = 0;

    pv_rcu_register_thread();
    for (unsigned i = 0; i < ACCESSES_PER_THREAD; i++) {
        uint64_t r = xorshift(&rng), v = r;
        hwaddr base = SLOT_BASE + (r % SLOTS) * SLOT_SIZE;
        PvAccessStatus st;
        switch ((r >> 16) % 5) {
        case 0: st = address_space_read(&s->f.as, base + 12, 4, &v); break;
        case 1: st = address_space_write(&s->f.as, base + 8, 4, v); break;
        case 2: st = address_space_write(&s->f.as, base, 8, v); break;
        case 3: st = address_space_read(&s->f.as, base, 8, &v); break;
        default:
            /* RAM and its alias, coming and going. */
            address_space_write(&s->f.as, ((r >> 20) & 1 ? RAM_ADDR : ALIAS_ADDR) + (r & 0xff8),
                                8, v);
            continue;
        }
        if (st == PV_ACCESS_OK) {
            ok++;
        } else if (st == PV_ACCESS_UNASSIGNED) {
            unassigned++;
        } else {
            other++;
        }
        if ((i & 63) == 0) {
            pv_rcu_quiescent();
        }
    }
    atomic_fetch_add(&s->ok_total, ok);
    atomic_fetch_add(&s->unassigned_total, unassigned);
    atomic_fetch_add(&s->other_total, other);
    pv_rcu_unregister_thread();
    return NULL;
}

static void *churn(void *p)
{
    Stress *s = p;
    StressDev *slot[SLOTS] = { 0 };
    MemoryRegion ram, alias;
    bool ram_mapped = false;
    uint64_t rng = 88172645463325252ull;

    pv_rcu_register_thread();
    if (memory_region_init_ram(&ram, &s->f.vm, NULL, "churn-ram", 0x1000) != 0) {
        abort();
    }
    memory_region_init_alias(&alias, &s->f.vm, NULL, "churn-alias", &ram, 0, 0x1000);

    while (!atomic_load(&s->stop)) {
        unsigned i = (unsigned)(xorshift(&rng) % SLOTS);
        if (slot[i]) {
            StressDev *d = slot[i];
            pv_device_unrealize(&d->dev);
            atomic_store(&d->unrealized_seq, atomic_fetch_add(&s->seq, 1) + 1);
            slot[i] = NULL;
            pv_device_unref(&d->dev);
            s->unrealizes++;
        } else {
            StressDev *d = stressdev_new(s, (PvDispatchMode)(s->creations % 3));
            memory_region_transaction_begin(&s->f.vm);
            memory_region_add_subregion(&s->f.root, SLOT_BASE + i * SLOT_SIZE, &d->mr);
            memory_region_transaction_commit(&s->f.vm);
            slot[i] = d;
            s->creations++;
        }
        if ((xorshift(&rng) & 3) == 0) {
            memory_region_transaction_begin(&s->f.vm);
            if (ram_mapped) {
                memory_region_del_subregion(&s->f.root, &ram);
                memory_region_del_subregion(&s->f.root, &alias);
            } else {
                memory_region_add_subregion(&s->f.root, RAM_ADDR, &ram);
                memory_region_add_subregion(&s->f.root, ALIAS_ADDR, &alias);
            }
            ram_mapped = !ram_mapped;
            memory_region_transaction_commit(&s->f.vm);
            s->ram_toggles++;
        }
        pv_rcu_quiescent();
    }

    for (unsigned i = 0; i < SLOTS; i++) {
        if (slot[i]) {
            pv_device_unrealize(&slot[i]->dev);
            atomic_store(&slot[i]->unrealized_seq, atomic_fetch_add(&s->seq, 1) + 1);
            pv_device_unref(&slot[i]->dev);
        }
    }
    if (ram_mapped) {
        memory_region_transaction_begin(&s->f.vm);
        memory_region_del_subregion(&s->f.root, &ram);
        memory_region_del_subregion(&s->f.root, &alias);
        memory_region_transaction_commit(&s->f.vm);
    }
    pv_rcu_barrier();
    memory_region_destroy(&alias);
    memory_region_destroy(&ram);
    pv_rcu_unregister_thread();
    return NULL;
}

static void run(bool all_global)
{
    Stress *s = calloc(1, sizeof(*s));
    pthread_t disp[DISPATCHERS], ch;

    fixture_init(&s->f);
    pv_vm_set_all_global(&s->f.vm, all_global);
    pthread_create(&ch, NULL, churn, s);
    for (int i = 0; i < DISPATCHERS; i++) {
        pthread_create(&disp[i], NULL, dispatcher, s);
    }
    /* Joining blocks: go offline so grace periods do not wait for us. */
    pv_rcu_offline();
    for (int i = 0; i < DISPATCHERS; i++) {
        pthread_join(disp[i], NULL);
    }
    atomic_store(&s->stop, true);
    pthread_join(ch, NULL);
    pv_rcu_online();
    fixture_destroy(&s->f);

    printf("# all_global=%d: %u devices created, %u unrealized, %u RAM toggles; "
           "%" PRIu64 " accesses reached a device, %" PRIu64 " unassigned\n",
           all_global, s->creations, s->unrealizes, s->ram_toggles,
           (uint64_t)atomic_load(&s->ok_total), (uint64_t)atomic_load(&s->unassigned_total));
    CHECK_EQ_U64(atomic_load(&s->finalized), s->creations);
    CHECK_EQ_U64(atomic_load(&s->retired_hits), atomic_load(&s->ok_total));
    CHECK_EQ_U64(atomic_load(&s->g1_violations), 0);
    CHECK_EQ_U64(atomic_load(&s->g3_violations), 0);
    CHECK_EQ_U64(atomic_load(&s->stat_mismatches), 0);
    CHECK_EQ_U64(atomic_load(&s->other_total), 0);
    CHECK(s->unrealizes >= 20);             /* the churn really happened */
    CHECK(atomic_load(&s->ok_total) > 0);
    CHECK(atomic_load(&s->unassigned_total) > 0);
    free(s);
}

static void test_stress_per_region_modes(void)
{
    run(false);
}

static void test_stress_all_global(void)
{
    run(true);
}

PV_TEST_MAIN(TEST(test_stress_per_region_modes), TEST(test_stress_all_global))
