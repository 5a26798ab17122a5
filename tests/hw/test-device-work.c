/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device work (include/parvm/device-work.h), each of the seed's three
 * flows under fire: two "vCPU" threads keep the device lock busy through
 * dispatch while a producer thread feeds 10^5 sequence-numbered items to
 * the I/O thread, which hands them to the device through device work.
 * Checks: every item arrives exactly once and in order, always under the
 * device lock, and the busy path of the flow was taken.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "parvm/device-work.h"
#include "parvm/event-loop.h"
#include "parvm/rcu.h"
#include "wait.h"

#define BASE 0x40000000
#define ITEMS 100000u
#define RING 256u              /* the producer's bounded queue: backpressure */

typedef struct Dev {
    PvDevice dev;
    MemoryRegion mr;
    PvEventLoop *loop;
    PvBH *bh;
    PvDeviceWork work;
    /* Producer -> consumer ring; consumed under dev.lock. */
    uint32_t ring[RING];
    atomic_uint produced;
    atomic_uint consumed;
    uint32_t expect;            /* under dev.lock */
    atomic_uint out_of_order, unlocked_runs, vcpu_runs;
    atomic_bool stop;
    uint64_t hammer_accesses;   /* under dev.lock */
} Dev;

static _Thread_local bool on_vcpu;

static PvAccessStatus dev_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    Dev *d = opaque;
    (void)off;
    (void)size;
    /* Hold the lock a little, so that the I/O thread often finds it busy. */
    for (volatile int i = 0; i < 300; i++) {
    }
    *val = ++d->hammer_accesses;
    return PV_ACCESS_OK;
}

static PvAccessStatus dev_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    (void)opaque;
    (void)off;
    (void)size;
    (void)val;
    return PV_ACCESS_OK;
}

static const MemoryRegionOps dev_ops = {
    .read = dev_read,
    .write = dev_write,
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* The test frees the struct itself, after pv_rcu_barrier(). */
static void dev_finalize(PvDevice *dev)
{
    Dev *d = (Dev *)dev;
    memory_region_destroy(&d->mr);
}

static PvDeviceClass dev_class = {
    .type = "work-test",
    .lock_class = PV_LOCK_CLASS_INIT("work-test", PV_LOCK_KIND_DEVICE),
    .finalize = dev_finalize,
};

/* Under dev.lock, any thread: take everything produced so far. */
static void work_run(PvDeviceWork *w)
{
    Dev *d = w->opaque;

    if (!pv_mutex_held(&d->dev.lock)) {
        atomic_fetch_add(&d->unlocked_runs, 1);
    }
    if (on_vcpu) {
        atomic_fetch_add(&d->vcpu_runs, 1);
    }
    unsigned c = atomic_load_explicit(&d->consumed, memory_order_relaxed);
    unsigned p = atomic_load_explicit(&d->produced, memory_order_acquire);
    for (; c != p; c++) {
        if (d->ring[c % RING] != d->expect) {
            atomic_fetch_add(&d->out_of_order, 1);
        }
        d->expect++;
    }
    atomic_store_explicit(&d->consumed, c, memory_order_release);
}

/* Lock busy (TRYLOCK, NOTIFY): the I/O thread tries again from its BH. */
static void work_retry(PvDeviceWork *w)
{
    Dev *d = w->opaque;
    pv_bh_schedule(d->bh);
}

/* I/O thread: "the backend has packets". */
static void bh_cb(void *opaque)
{
    Dev *d = opaque;
    pv_device_work_submit(&d->dev, &d->work);
}

static void *producer(void *opaque)
{
    Dev *d = opaque;

    for (uint32_t i = 0; i < ITEMS; i++) {
        unsigned p = atomic_load_explicit(&d->produced, memory_order_relaxed);
        while (p - atomic_load_explicit(&d->consumed, memory_order_acquire) >= RING) {
            /* Full: the consumer is behind; it was told already. */
            pv_bh_schedule(d->bh);
            sched_yield();
        }
        d->ring[p % RING] = i;
        atomic_store_explicit(&d->produced, p + 1, memory_order_release);
        if ((i & 7) == 0) {
            pv_bh_schedule(d->bh);
        }
    }
    pv_bh_schedule(d->bh);
    return NULL;
}

typedef struct Hammer {
    Fixture *f;
    Dev *d;
} Hammer;

static void *hammer(void *opaque)
{
    Hammer *h = opaque;
    uint64_t v;

    on_vcpu = true;
    pv_rcu_register_thread();
    while (!atomic_load_explicit(&h->d->stop, memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            address_space_read(&h->f->as, BASE, 4, &v);
        }
        pv_rcu_quiescent();
    }
    pv_rcu_unregister_thread();
    return NULL;
}

static void run_flow(PvFlow flow)
{
    Fixture f;
    Dev *d = calloc(1, sizeof(*d));
    PvDeviceWorkStats st;
    pthread_t hammers[2], prod;
    Hammer h;

    printf("# flow %s\n", pv_flow_name(flow));
    fixture_init(&f);
    pv_device_init(&d->dev, &dev_class, &f.vm, "work0");
    memory_region_init_io(&d->mr, &f.vm, &d->dev, &dev_ops, d, "work-test", 0x1000);
    memory_region_set_dispatch_mode(&d->mr, PV_DISPATCH_DEVICE);
    fixture_map(&f, &d->mr, BASE);
    d->loop = pv_event_loop_new();
    d->bh = pv_bh_new(d->loop, bh_cb, d);
    d->work = (PvDeviceWork){ .run = work_run, .retry = work_retry, .opaque = d, .flow = flow };
    CHECK(pv_event_loop_start(d->loop) == 0);

    h = (Hammer){ &f, d };
    for (int i = 0; i < 2; i++) {
        pthread_create(&hammers[i], NULL, hammer, &h);
    }
    pthread_create(&prod, NULL, producer, d);
    pthread_join(prod, NULL);
    /* Every item must get through; keep the hammers running meanwhile, so
     * that nothing is delivered by an idle lock only. */
    CHECK(WAIT_FOR(atomic_load(&d->consumed) == ITEMS, 60000));
    atomic_store(&d->stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(hammers[i], NULL);
    }

    pv_device_work_stats(&d->dev, &st);
    printf("# direct %llu by-holder %llu retries %llu yields %llu vcpu-runs %u\n",
           (unsigned long long)st.ran_direct, (unsigned long long)st.ran_by_holder,
           (unsigned long long)st.retries, (unsigned long long)st.yields,
           atomic_load(&d->vcpu_runs));
    CHECK_EQ_U64(atomic_load(&d->consumed), ITEMS);
    CHECK_EQ_U64(d->expect, ITEMS);
    CHECK_EQ_U64(atomic_load(&d->out_of_order), 0);
    CHECK_EQ_U64(atomic_load(&d->unlocked_runs), 0);
    /* The flow's own busy path was taken (the hammers hold the lock most of
     * the time, 10^5 items give it plenty of chances). */
    switch (flow) {
    case PV_FLOW_TRYLOCK:
        CHECK(st.retries > 0);
        CHECK(st.yields > 0);
        CHECK_EQ_U64(atomic_load(&d->vcpu_runs), 0);
        break;
    case PV_FLOW_QUEUE:
        CHECK(st.ran_by_holder > 0);
        CHECK(atomic_load(&d->vcpu_runs) > 0);
        break;
    case PV_FLOW_NOTIFY:
        CHECK(st.retries > 0);
        CHECK_EQ_U64(atomic_load(&d->vcpu_runs), 0);
        break;
    }

    pv_event_loop_stop(d->loop);
    pv_bh_free(d->bh);
    pv_event_loop_free(d->loop);
    pv_device_unrealize(&d->dev);
    pv_device_unref(&d->dev);
    fixture_destroy(&f);
    pv_rcu_barrier();
    free(d);
}

static void test_trylock(void)
{
    run_flow(PV_FLOW_TRYLOCK);
}

static void test_queue(void)
{
    run_flow(PV_FLOW_QUEUE);
}

static void test_notify(void)
{
    run_flow(PV_FLOW_NOTIFY);
}

static void test_flow_names(void)
{
    for (int f = PV_FLOW_TRYLOCK; f <= PV_FLOW_NOTIFY; f++) {
        CHECK_EQ_U64(pv_flow_parse(pv_flow_name((PvFlow)f)), f);
    }
    CHECK_EQ_U64(pv_flow_parse("spin"), (uint64_t)-1);
}

PV_TEST_MAIN(TEST(test_flow_names), TEST(test_trylock), TEST(test_queue), TEST(test_notify))
