/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CLINT: see include/parvm/hw/clint.h for the register map.
 *
 * Lockless (S10).  mtime = (host_ns - base_ns) / 100 + delta, where delta
 * changes only when the guest writes mtime.  Per hart: mtimecmp and msip in
 * atomics, plus a generation counter bumped by every write that can change
 * the hart's MTIP level (its mtimecmp, or mtime).
 *
 * Several threads may update one hart's lines at once (its own hart writing
 * mtimecmp, the I/O thread's timer callback, another hart, a write of
 * mtime).  Without a lock, the order in which their pv_irq_set() calls land
 * is not the order in which they computed the level, so every updater
 * loops: compute the level from the current state, set the line, and go
 * again if the state (generation) or the level changed meanwhile.  The last
 * pv_irq_set() to land was then made from a state nobody changed after it,
 * so the line ends at the right level.  The same loop re-arms the timer, so
 * the timer ends armed for the current mtimecmp.
 */
#include "parvm/hw/clint.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "parvm/clock.h"

#define NS_PER_TICK (PV_NS_PER_SEC / PV_CLINT_FREQ_HZ)   /* 100 */

typedef struct ClintHart {
    _Atomic uint64_t mtimecmp;
    _Atomic uint64_t gen;
    atomic_bool msip;
    PvTimer *timer;
    PvClint *clint;
    PvIrq mtip_irq, msip_irq;
} __attribute__((aligned(64))) ClintHart;   /* one cache line per hart */

struct PvClint {
    PvDevice dev;
    MemoryRegion mmio;
    PvEventLoop *loop;
    unsigned nharts;
    int64_t base_ns;            /* pv_clock_fast_ns() at mtime's "raw 0"; constant */
    _Atomic uint64_t delta;     /* mtime - raw ticks, set by mtime writes */
    ClintHart *harts;
};

/*
 * mtime counts on pv_clock_fast_ns() (the TSC where it is a clock): harts
 * read it millions of times a second and CLOCK_MONOTONIC costs twice as
 * much.  Timer deadlines, which the event loop takes in CLOCK_MONOTONIC,
 * are computed as "now plus the ticks still to go", so the two clocks
 * never need a common origin, only the same rate.
 */
static uint64_t raw_ticks(const PvClint *c, int64_t fast_ns)
{
    return (uint64_t)(fast_ns - c->base_ns) / NS_PER_TICK;
}

uint64_t pv_clint_mtime(PvClint *c)
{
    return raw_ticks(c, pv_clock_fast_ns()) +
           atomic_load_explicit(&c->delta, memory_order_relaxed);
}

/* Bring hart @h's MTIP line and timer in line with mtime and its mtimecmp. */
static void hart_update_mtip(PvClint *c, ClintHart *h)
{
    for (;;) {
        uint64_t gen = atomic_load(&h->gen);
        uint64_t cmp = atomic_load(&h->mtimecmp);
        int64_t now_ns = pv_clock_ns();
        uint64_t now = pv_clint_mtime(c);
        bool level = now >= cmp;

        pv_irq_set(&h->mtip_irq, level);
        if (!level) {
            /* mtime reaches cmp exactly (cmp - now) ticks from now_ns. */
            uint64_t diff = cmp - now;
            if (diff > (uint64_t)(INT64_MAX - now_ns) / NS_PER_TICK) {
                pv_timer_cancel(h->timer);  /* beyond the clock's range */
            } else {
                pv_timer_mod(h->timer, now_ns + (int64_t)diff * NS_PER_TICK);
            }
        }
        /* Nothing changed meanwhile and time did not cross cmp: done. */
        if (atomic_load(&h->gen) == gen && (pv_clint_mtime(c) >= cmp) == level) {
            return;
        }
    }
}

static void hart_timer_cb(void *opaque)
{
    ClintHart *h = opaque;
    hart_update_mtip(h->clint, h);
}

static void hart_update_msip(ClintHart *h)
{
    bool v;

    do {
        v = atomic_load(&h->msip);
        pv_irq_set(&h->msip_irq, v);
    } while (atomic_load(&h->msip) != v);
}

/* Replace the 32-bit half of @word at byte @shift (0 or 32) atomically. */
static void store_half(_Atomic uint64_t *word, unsigned shift, uint64_t val)
{
    uint64_t mask = UINT64_C(0xffffffff) << shift;
    uint64_t old = atomic_load(word);

    while (!atomic_compare_exchange_weak(word, &old,
                                         (old & ~mask) | ((val << shift) & mask))) {
    }
}

static void write_mtime(PvClint *c, hwaddr off, unsigned size, uint64_t val)
{
    uint64_t raw = raw_ticks(c, pv_clock_fast_ns());
    uint64_t delta = atomic_load(&c->delta), want;

    /* A CAS so that two half-writes racing each other both land. */
    do {
        uint64_t cur = raw + delta;
        if (size == 8) {
            want = val;
        } else if (off == PV_CLINT_MTIME) {
            want = (cur & ~UINT64_C(0xffffffff)) | (val & 0xffffffff);
        } else {
            want = (val << 32) | (cur & 0xffffffff);
        }
    } while (!atomic_compare_exchange_weak(&c->delta, &delta, want - raw));

    for (unsigned i = 0; i < c->nharts; i++) {
        atomic_fetch_add(&c->harts[i].gen, 1);
        hart_update_mtip(c, &c->harts[i]);
    }
}

static PvAccessStatus clint_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvClint *c = opaque;

    *val = 0;
    if (off < PV_CLINT_MTIMECMP) {
        unsigned hart = off / 4;
        if (hart < c->nharts && size == 4) {
            *val = atomic_load(&c->harts[hart].msip);
            return PV_ACCESS_OK;
        }
    } else if (off == PV_CLINT_MTIME || off == PV_CLINT_MTIME + 4) {
        uint64_t t = pv_clint_mtime(c);
        /* 8 bytes at mtime, or one 4-byte half. */
        *val = off == PV_CLINT_MTIME ? (size == 8 ? t : (uint32_t)t) : t >> 32;
        return PV_ACCESS_OK;
    } else if (off < PV_CLINT_MTIME) {
        unsigned hart = (off - PV_CLINT_MTIMECMP) / 8;
        if (hart < c->nharts) {
            uint64_t cmp = atomic_load(&c->harts[hart].mtimecmp);
            *val = (off & 4) ? cmp >> 32 : (size == 8 ? cmp : (uint32_t)cmp);
            return PV_ACCESS_OK;
        }
    }
    pv_guest_error(c->dev.vm, "clint: read of size %u at unimplemented offset 0x%" PRIx64,
                   size, (uint64_t)off);
    return PV_ACCESS_OK;
}

static PvAccessStatus clint_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvClint *c = opaque;

    if (off < PV_CLINT_MTIMECMP) {
        unsigned hart = off / 4;
        if (hart < c->nharts && size == 4) {
            atomic_store(&c->harts[hart].msip, (val & 1) != 0);
            hart_update_msip(&c->harts[hart]);
            return PV_ACCESS_OK;
        }
    } else if (off == PV_CLINT_MTIME || off == PV_CLINT_MTIME + 4) {
        if (size == 4 || off == PV_CLINT_MTIME) {
            write_mtime(c, off, size, val);
            return PV_ACCESS_OK;
        }
    } else if (off < PV_CLINT_MTIME) {
        unsigned hart = (off - PV_CLINT_MTIMECMP) / 8;
        if (hart < c->nharts && (size == 4 || !(off & 4))) {
            ClintHart *h = &c->harts[hart];
            if (size == 8) {
                atomic_store(&h->mtimecmp, val);
            } else {
                store_half(&h->mtimecmp, (off & 4) ? 32 : 0, val);
            }
            atomic_fetch_add(&h->gen, 1);
            hart_update_mtip(c, h);
            return PV_ACCESS_OK;
        }
    }
    pv_guest_error(c->dev.vm, "clint: write of size %u at unimplemented offset 0x%" PRIx64
                   " (value 0x%" PRIx64 ") ignored", size, (uint64_t)off, val);
    return PV_ACCESS_OK;
}

static const MemoryRegionOps clint_ops = {
    .read = clint_read,
    .write = clint_write,
    /* 4 and 8 reach us as they are (mtimecmp/mtime as halves or whole);
     * the core widens 1- and 2-byte accesses to 4 (writes zero-filled). */
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

static void clint_finalize(PvDevice *dev)
{
    PvClint *c = (PvClint *)dev;

    /* No lock held here (call_rcu thread): waiting for a running timer
     * callback is allowed, and it takes no lock of ours. */
    for (unsigned i = 0; i < c->nharts; i++) {
        pv_timer_free(c->harts[i].timer);
    }
    memory_region_destroy(&c->mmio);
    free(c->harts);
    free(c);
}

static PvDeviceClass clint_class = {
    .type = "riscv.clint",
    .lock_class = PV_LOCK_CLASS_INIT("riscv.clint", PV_LOCK_KIND_DEVICE),
    .finalize = clint_finalize,
};

PvClint *pv_clint_new(PvVm *vm, PvEventLoop *loop, unsigned nharts,
                      const PvIrq *mtip, const PvIrq *msip)
{
    PvClint *c;

    if (nharts == 0 || nharts > PV_CLINT_MAX_HARTS) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->harts = aligned_alloc(64, sizeof(ClintHart) * nharts);
    if (!c->harts) {
        goto fail;
    }
    c->nharts = nharts;
    c->loop = loop;
    for (unsigned i = 0; i < nharts; i++) {
        ClintHart *h = &c->harts[i];
        atomic_init(&h->mtimecmp, 0);
        atomic_init(&h->gen, 0);
        atomic_init(&h->msip, false);
        h->clint = c;
        h->mtip_irq = mtip[i];
        h->msip_irq = msip[i];
        h->timer = pv_timer_new(loop, hart_timer_cb, h);
        if (!h->timer) {
            while (i--) {
                pv_timer_free(c->harts[i].timer);
            }
            goto fail;
        }
    }
    c->base_ns = pv_clock_fast_ns();
    atomic_init(&c->delta, 0);

    pv_device_init(&c->dev, &clint_class, vm, "clint");
    memory_region_init_io(&c->mmio, vm, &c->dev, &clint_ops, c, "riscv.clint", PV_CLINT_SIZE);
    memory_region_set_dispatch_mode(&c->mmio, PV_DISPATCH_LOCKLESS);

    /* As QEMU 7.2's reset: mtime 0, every mtimecmp 0, so MTIP is pending
     * until the guest moves mtimecmp (the csr guest test checks it on both). */
    for (unsigned i = 0; i < nharts; i++) {
        hart_update_mtip(c, &c->harts[i]);
        hart_update_msip(&c->harts[i]);
    }
    return c;

fail:
    free(c->harts);
    free(c);
    return NULL;
}

void pv_clint_reset(PvClint *c)
{
    for (unsigned i = 0; i < c->nharts; i++) {
        atomic_store(&c->harts[i].msip, false);
        hart_update_msip(&c->harts[i]);
    }
    /* mtime back to 0 (the ACLINT spec and QEMU 7.2); mtimecmp is left
     * alone, as QEMU leaves it (the spec calls it unknown after reset).
     * Re-evaluates MTIP on every hart. */
    write_mtime(c, PV_CLINT_MTIME, 8, 0);
}

MemoryRegion *pv_clint_mmio(PvClint *c)
{
    return &c->mmio;
}

PvDevice *pv_clint_device(PvClint *c)
{
    return &c->dev;
}

void pv_clint_destroy(PvClint *c)
{
    pv_device_unrealize(&c->dev);
    pv_device_unref(&c->dev);
}
