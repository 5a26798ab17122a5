/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm-hotplug: every register, the line following STATUS, INSERTED W1C,
 * EJECT calling the board back (not for an empty slot), bad offsets and
 * sizes, and host calls racing each other and the guest with the line's
 * final level matching the final STATUS.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "fixture.h"
#include "harness.h"
#include "parvm/hw/hotplug.h"
#include "parvm/rcu.h"

#define BASE 0x10001000
#define NSLOTS 8

typedef struct Rig {
    Fixture f;
    PvHotplug *h;
    atomic_bool level;
    atomic_uint irq_calls;
    atomic_uint ejects;
    atomic_uint last_eject;
} Rig;

static void line_set(void *opaque, unsigned n, bool level)
{
    Rig *r = opaque;
    (void)n;
    /* Now and then let another thread overtake us between the level being
     * computed and its landing: the stale level must not stick. */
    if (atomic_fetch_add(&r->irq_calls, 1) % 4 == 0) {
        sched_yield();
    }
    atomic_store(&r->level, level);
}

static void eject_cb(void *opaque, unsigned slot)
{
    Rig *r = opaque;
    atomic_store(&r->last_eject, slot);
    atomic_fetch_add(&r->ejects, 1);
}

static void rig_init(Rig *r, unsigned slots)
{
    fixture_init(&r->f);
    atomic_init(&r->level, true);   /* creation must lower it */
    atomic_init(&r->irq_calls, 0);
    atomic_init(&r->ejects, 0);
    atomic_init(&r->last_eject, ~0u);
    PvIrq irq = pv_irq_make(line_set, r, 7);
    r->h = pv_hotplug_new(&r->f.vm, slots, &irq, eject_cb, r);
    CHECK(r->h != NULL);
    fixture_map(&r->f, pv_hotplug_mmio(r->h), BASE);
}

static void rig_destroy(Rig *r)
{
    pv_hotplug_destroy(r->h);
    fixture_destroy(&r->f);
}

static uint64_t rd(Rig *r, hwaddr off)
{
    uint64_t v = ~0ull;
    CHECK(address_space_read(&r->f.as, BASE + off, 4, &v) == PV_ACCESS_OK);
    return v;
}

static void wr(Rig *r, hwaddr off, uint64_t v)
{
    CHECK(address_space_write(&r->f.as, BASE + off, 4, v) == PV_ACCESS_OK);
}

static void test_bad_args(void)
{
    Fixture f;
    PvIrq none = { 0 };

    fixture_init(&f);
    CHECK(pv_hotplug_new(&f.vm, 0, &none, NULL, NULL) == NULL);
    CHECK(pv_hotplug_new(&f.vm, PV_HOTPLUG_MAX_SLOTS + 1, &none, NULL, NULL) == NULL);
    fixture_destroy(&f);
}

static void test_id_registers(void)
{
    Rig r;
    rig_init(&r, NSLOTS);
    CHECK(!atomic_load(&r.level));
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_MAGIC), 0x70687063);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_VERSION), 1);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_SLOTS), NSLOTS);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT_REQ), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 0);
    rig_destroy(&r);
}

static void test_plug_cycle(void)
{
    Rig r;
    rig_init(&r, NSLOTS);

    /* Plug: PRESENT and INSERTED, STATUS bit 0, line up. */
    pv_hotplug_plugged(r.h, 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 1u << 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 1u << 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 1);
    CHECK(atomic_load(&r.level));
    pv_hotplug_plugged(r.h, 5);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0x28);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 0x28);

    /* INSERTED is W1C: zeros and bits of other slots change nothing. */
    wr(&r, PV_HOTPLUG_REG_INSERTED, 0);
    wr(&r, PV_HOTPLUG_REG_INSERTED, 0xffffff00u);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 0x28);
    wr(&r, PV_HOTPLUG_REG_INSERTED, 1u << 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 1u << 5);
    CHECK(atomic_load(&r.level));
    wr(&r, PV_HOTPLUG_REG_INSERTED, 1u << 5);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 0);
    CHECK(!atomic_load(&r.level));
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0x28);   /* untouched */

    /* Eject request: STATUS bit 1, line up. */
    pv_hotplug_request_eject(r.h, 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT_REQ), 1u << 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 2);
    CHECK(atomic_load(&r.level));
    /* A plug meanwhile: both status bits. */
    pv_hotplug_plugged(r.h, 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 3);
    CHECK_EQ_U64(pv_hotplug_get(r.h, PV_HOTPLUG_REG_STATUS), 3);
    wr(&r, PV_HOTPLUG_REG_INSERTED, 1);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 2);
    CHECK(atomic_load(&r.level));

    /* The guest ejects: the board is called with the slot, no bit moves. */
    wr(&r, PV_HOTPLUG_REG_EJECT, 3);
    CHECK_EQ_U64(atomic_load(&r.ejects), 1);
    CHECK_EQ_U64(atomic_load(&r.last_eject), 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0x29);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT_REQ), 1u << 3);
    /* The board removes it. */
    pv_hotplug_unplugged(r.h, 3);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0x21);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT_REQ), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 0);
    CHECK(!atomic_load(&r.level));

    /* A guest-initiated eject of a present slot, without a request. */
    wr(&r, PV_HOTPLUG_REG_EJECT, 5);
    CHECK_EQ_U64(atomic_load(&r.ejects), 2);
    CHECK_EQ_U64(atomic_load(&r.last_eject), 5);

    /* Unplugging a slot whose insertion was never acknowledged clears
     * INSERTED too, and the line. */
    pv_hotplug_plugged(r.h, 7);
    CHECK(atomic_load(&r.level));
    pv_hotplug_unplugged(r.h, 7);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 0);
    CHECK(!atomic_load(&r.level));

    /* The last slot of a 32-slot controller. */
    rig_destroy(&r);
    rig_init(&r, 32);
    pv_hotplug_plugged(r.h, 31);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 0x80000000u);
    wr(&r, PV_HOTPLUG_REG_EJECT, 31);
    CHECK_EQ_U64(atomic_load(&r.last_eject), 31);
    wr(&r, PV_HOTPLUG_REG_INSERTED, 0x80000000u);
    CHECK(!atomic_load(&r.level));
    rig_destroy(&r);
}

static void test_guest_errors(void)
{
    Rig r;
    uint64_t v;
    rig_init(&r, NSLOTS);
    pv_hotplug_plugged(r.h, 1);

    /* Eject of an empty slot or one beyond SLOTS: no callback. */
    uint64_t e0 = pv_vm_guest_errors(&r.f.vm);
    wr(&r, PV_HOTPLUG_REG_EJECT, 2);
    wr(&r, PV_HOTPLUG_REG_EJECT, NSLOTS);
    wr(&r, PV_HOTPLUG_REG_EJECT, 32);
    wr(&r, PV_HOTPLUG_REG_EJECT, 0xffffffffu);
    CHECK_EQ_U64(atomic_load(&r.ejects), 0);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 4);

    /* Writes to read-only registers: ignored. */
    e0 = pv_vm_guest_errors(&r.f.vm);
    wr(&r, PV_HOTPLUG_REG_MAGIC, 0);
    wr(&r, PV_HOTPLUG_REG_VERSION, 0);
    wr(&r, PV_HOTPLUG_REG_SLOTS, 0);
    wr(&r, PV_HOTPLUG_REG_PRESENT, 0);
    wr(&r, PV_HOTPLUG_REG_EJECT_REQ, 0xff);
    wr(&r, PV_HOTPLUG_REG_STATUS, 0);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 6);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_SLOTS), NSLOTS);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_PRESENT), 2);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT_REQ), 0);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_STATUS), 1);

    /* Reading EJECT, unknown offsets: 0 and an error. */
    e0 = pv_vm_guest_errors(&r.f.vm);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_EJECT), 0);
    CHECK_EQ_U64(rd(&r, 0x20), 0);
    CHECK_EQ_U64(rd(&r, 0xffc), 0);
    wr(&r, 0x20, 1);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 4);

    /* Sizes other than 32 bits: reads 0, writes ignored. */
    e0 = pv_vm_guest_errors(&r.f.vm);
    v = ~0ull;
    CHECK(address_space_read(&r.f.as, BASE, 1, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    v = ~0ull;
    CHECK(address_space_read(&r.f.as, BASE + 8, 2, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    v = ~0ull;
    CHECK(address_space_read(&r.f.as, BASE, 8, &v) == PV_ACCESS_OK);
    CHECK_EQ_U64(v, 0);
    CHECK(address_space_write(&r.f.as, BASE + PV_HOTPLUG_REG_INSERTED, 1, 0xff) == PV_ACCESS_OK);
    CHECK(address_space_write(&r.f.as, BASE + PV_HOTPLUG_REG_INSERTED, 8, 0xff) == PV_ACCESS_OK);
    CHECK(address_space_write(&r.f.as, BASE + PV_HOTPLUG_REG_EJECT, 2, 1) == PV_ACCESS_OK);
    CHECK_EQ_U64(pv_vm_guest_errors(&r.f.vm) - e0, 6);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 2);
    CHECK_EQ_U64(atomic_load(&r.ejects), 0);
    /* A misaligned word is split into aligned pieces: errors, no effect. */
    e0 = pv_vm_guest_errors(&r.f.vm);
    CHECK(address_space_write(&r.f.as, BASE + PV_HOTPLUG_REG_INSERTED + 2, 4, 0xffffffff) ==
          PV_ACCESS_OK);
    CHECK(pv_vm_guest_errors(&r.f.vm) - e0 >= 1);
    CHECK_EQ_U64(rd(&r, PV_HOTPLUG_REG_INSERTED), 2);
    CHECK(atomic_load(&r.level));
    rig_destroy(&r);
}

/* ---- races -------------------------------------------------------------- */

/* Two host threads (and optionally a guest acknowledging INSERTED through
 * MMIO) change the state at once for a few rounds, then all stop at a
 * barrier and the main thread checks that the line's level matches STATUS;
 * repeated many times, so that a stale level landing last would be seen. */
#define REPS 2000
#define ROUNDS 8

typedef struct Race Race;

typedef struct Racer {
    Race *race;
    pthread_t th;
    unsigned slot;
} Racer;

struct Race {
    Rig *r;
    pthread_barrier_t done, go;
    bool with_guest;
    Racer host[2], guest;
};

/* Rep @rep ends with slot @slot plugged or not. */
static bool ends_plugged(unsigned rep, unsigned slot)
{
    return (rep >> slot) & 1;
}

static void *host_fn(void *opaque)
{
    Racer *x = opaque;
    PvHotplug *h = x->race->r->h;

    for (unsigned rep = 0; rep < REPS; rep++) {
        for (unsigned i = 0; i < ROUNDS; i++) {
            pv_hotplug_plugged(h, x->slot);
            pv_hotplug_request_eject(h, x->slot);
            pv_hotplug_unplugged(h, x->slot);
        }
        if (ends_plugged(rep, x->slot)) {
            pv_hotplug_plugged(h, x->slot);
        }
        pthread_barrier_wait(&x->race->done);
        pthread_barrier_wait(&x->race->go);
    }
    return NULL;
}

static void *guest_fn(void *opaque)
{
    Racer *x = opaque;
    AddressSpace *as = &x->race->r->f.as;
    uint64_t v;

    pv_rcu_register_thread();
    for (unsigned rep = 0; rep < REPS; rep++) {
        for (unsigned i = 0; i < 2 * ROUNDS; i++) {
            if (address_space_read(as, BASE + PV_HOTPLUG_REG_INSERTED, 4, &v) == PV_ACCESS_OK &&
                (v & 3)) {
                address_space_write(as, BASE + PV_HOTPLUG_REG_INSERTED, 4, v & 3);
            }
        }
        pv_rcu_quiescent();
        pthread_barrier_wait(&x->race->done);
        pthread_barrier_wait(&x->race->go);
    }
    pv_rcu_unregister_thread();
    return NULL;
}

static void race(bool with_guest)
{
    Rig r;
    Race race = { .r = &r, .with_guest = with_guest };
    unsigned n = with_guest ? 4 : 3, bad = 0;

    rig_init(&r, NSLOTS);
    pthread_barrier_init(&race.done, NULL, n);
    pthread_barrier_init(&race.go, NULL, n);
    for (unsigned i = 0; i < 2; i++) {
        race.host[i] = (Racer){ .race = &race, .slot = i };
        pthread_create(&race.host[i].th, NULL, host_fn, &race.host[i]);
    }
    race.guest = (Racer){ .race = &race };
    if (with_guest) {
        pthread_create(&race.guest.th, NULL, guest_fn, &race.guest);
    }
    pv_rcu_offline();   /* the guest thread's quiescent states need no help */
    for (unsigned rep = 0; rep < REPS; rep++) {
        pthread_barrier_wait(&race.done);
        uint32_t status = pv_hotplug_get(r.h, PV_HOTPLUG_REG_STATUS);
        uint32_t present = pv_hotplug_get(r.h, PV_HOTPLUG_REG_PRESENT);
        uint32_t want = (ends_plugged(rep, 0) ? 1u : 0) | (ends_plugged(rep, 1) ? 2u : 0);
        bad += atomic_load(&r.level) != (status != 0);
        bad += present != want;
        bad += pv_hotplug_get(r.h, PV_HOTPLUG_REG_EJECT_REQ) != 0;
        if (!with_guest) {
            bad += status != (want ? 1u : 0);
        }
        pthread_barrier_wait(&race.go);
    }
    for (unsigned i = 0; i < 2; i++) {
        pthread_join(race.host[i].th, NULL);
    }
    if (with_guest) {
        pthread_join(race.guest.th, NULL);
    }
    pv_rcu_online();
    CHECK_EQ_U64(bad, 0);
    CHECK(atomic_load(&r.irq_calls) >= 6u * ROUNDS * REPS);
    pthread_barrier_destroy(&race.done);
    pthread_barrier_destroy(&race.go);
    rig_destroy(&r);
}

static void test_race_host(void)
{
    race(false);
}

static void test_race_with_guest(void)
{
    race(true);
}

PV_TEST_MAIN(
    TEST(test_bad_args),
    TEST(test_id_registers),
    TEST(test_plug_cycle),
    TEST(test_guest_errors),
    TEST(test_race_host),
    TEST(test_race_with_guest),
)
