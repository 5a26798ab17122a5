/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PLIC: see include/parvm/hw/plic.h for the register map and the rules.
 *
 * Why a leaf lock and a LOCKLESS region rather than the device lock: the
 * input handler is called by devices from every dispatch mode, including
 * from under the global lock, where a blocking device lock is forbidden
 * (S5).  A lock of kind CORE taken after every other lock is allowed there,
 * and MMIO takes the same lock itself so that claims and level changes are
 * serialised with each other.
 */
#include "parvm/hw/plic.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WORDS ((PV_PLIC_NUM_SOURCES + 31) / 32)

struct PvPlic {
    PvDevice dev;
    MemoryRegion mmio;
    unsigned ncontexts;
    PvIrq *outputs;             /* [ncontexts] */

    /* Leaf: everything below is under it. */
    PvMutex lock;
    uint32_t priority[PV_PLIC_NUM_SOURCES];
    uint32_t level[WORDS];      /* input line levels */
    uint32_t pending[WORDS];
    uint32_t claimed[WORDS];
    uint32_t *enable;           /* [ncontexts][WORDS] */
    uint32_t *threshold;        /* [ncontexts] */
    bool *out_level;            /* [ncontexts]: last level set on outputs[] */
};

static PvLockClass plic_lock_class = PV_LOCK_CLASS_INIT("sifive.plic", PV_LOCK_KIND_CORE);

static bool bit(const uint32_t *w, unsigned n)
{
    return (w[n / 32] >> (n % 32)) & 1;
}

static void set_bit(uint32_t *w, unsigned n, bool v)
{
    if (v) {
        w[n / 32] |= UINT32_C(1) << (n % 32);
    } else {
        w[n / 32] &= ~(UINT32_C(1) << (n % 32));
    }
}

/* The source context @ctx would get on a claim now: pending, enabled,
 * unclaimed, above the threshold; the highest priority, then the lowest
 * number.  0 if none. */
static unsigned best_source_locked(PvPlic *p, unsigned ctx)
{
    const uint32_t *en = &p->enable[ctx * WORDS];
    uint32_t max_prio = p->threshold[ctx];
    unsigned best = 0;

    for (unsigned w = 0; w < WORDS; w++) {
        uint32_t cand = p->pending[w] & ~p->claimed[w] & en[w];
        while (cand) {
            unsigned n = w * 32 + (unsigned)__builtin_ctz(cand);
            cand &= cand - 1;
            if (n < PV_PLIC_NUM_SOURCES && p->priority[n] > max_prio) {
                max_prio = p->priority[n];
                best = n;
            }
        }
    }
    return best;
}

/* Set every output whose level changed.  Under the lock, so that the
 * lines' order of changes is the state's order of changes. */
static void update_locked(PvPlic *p)
{
    for (unsigned ctx = 0; ctx < p->ncontexts; ctx++) {
        bool level = best_source_locked(p, ctx) != 0;
        if (level != p->out_level[ctx]) {
            p->out_level[ctx] = level;
            pv_irq_set(&p->outputs[ctx], level);
        }
    }
}

void pv_plic_set_irq(void *opaque, unsigned n, bool level)
{
    PvPlic *p = opaque;

    if (n == 0 || n >= PV_PLIC_NUM_SOURCES) {
        return;     /* a board wiring mistake, not the guest's */
    }
    pv_mutex_lock(&p->lock);
    set_bit(p->level, n, level);
    /* Pending follows the level, except while claimed: completion
     * re-pends a line that is still high. */
    if (!bit(p->claimed, n)) {
        set_bit(p->pending, n, level);
    }
    update_locked(p);
    pv_mutex_unlock(&p->lock);
}

PvIrq pv_plic_input(PvPlic *p, unsigned n)
{
    return pv_irq_make(pv_plic_set_irq, p, n);
}

static uint32_t claim_locked(PvPlic *p, unsigned ctx)
{
    unsigned n = best_source_locked(p, ctx);

    if (n) {
        set_bit(p->pending, n, false);
        set_bit(p->claimed, n, true);
        update_locked(p);
    }
    return n;
}

static void complete_locked(PvPlic *p, uint32_t n)
{
    /* As QEMU: any source number below the count completes, whether or
     * not this context had claimed it. */
    if (n >= PV_PLIC_NUM_SOURCES) {
        pv_guest_error(p->dev.vm, "plic: complete of source %" PRIu32 " out of range", n);
        return;
    }
    set_bit(p->claimed, n, false);
    if (n != 0 && bit(p->level, n)) {
        set_bit(p->pending, n, true);
    }
    update_locked(p);
}

/* Which context a context-space or enable-space offset names; -1 if none. */
static long context_of(PvPlic *p, hwaddr off, hwaddr base, hwaddr stride)
{
    hwaddr ctx = (off - base) / stride;
    return ctx < p->ncontexts ? (long)ctx : -1;
}

static PvAccessStatus plic_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvPlic *p = opaque;
    bool ok = false;
    long ctx;

    *val = 0;
    if (size != 4) {
        goto bad;
    }
    pv_mutex_lock(&p->lock);
    if (off < PV_PLIC_PENDING_BASE) {
        if (off / 4 < PV_PLIC_NUM_SOURCES) {
            *val = p->priority[off / 4];
            ok = true;
        }
    } else if (off < PV_PLIC_ENABLE_BASE) {
        hwaddr w = (off - PV_PLIC_PENDING_BASE) / 4;
        if (w < WORDS) {
            *val = p->pending[w];
            ok = true;
        }
    } else if (off < PV_PLIC_CONTEXT_BASE) {
        hwaddr w = (off % PV_PLIC_ENABLE_STRIDE) / 4;
        ctx = context_of(p, off, PV_PLIC_ENABLE_BASE, PV_PLIC_ENABLE_STRIDE);
        if (ctx >= 0 && w < WORDS) {
            *val = p->enable[ctx * WORDS + w];
            ok = true;
        }
    } else {
        hwaddr reg = off % PV_PLIC_CONTEXT_STRIDE;
        ctx = context_of(p, off, PV_PLIC_CONTEXT_BASE, PV_PLIC_CONTEXT_STRIDE);
        if (ctx >= 0 && reg == 0) {
            *val = p->threshold[ctx];
            ok = true;
        } else if (ctx >= 0 && reg == 4) {
            *val = claim_locked(p, (unsigned)ctx);
            ok = true;
        }
    }
    pv_mutex_unlock(&p->lock);
    if (ok) {
        return PV_ACCESS_OK;
    }
bad:
    pv_guest_error(p->dev.vm, "plic: read of size %u at invalid offset 0x%" PRIx64,
                   size, (uint64_t)off);
    return PV_ACCESS_OK;
}

static PvAccessStatus plic_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvPlic *p = opaque;
    uint32_t v = (uint32_t)val;
    bool ok = false;
    long ctx;

    if (size != 4) {
        goto bad;
    }
    pv_mutex_lock(&p->lock);
    if (off < PV_PLIC_PENDING_BASE) {
        if (off / 4 < PV_PLIC_NUM_SOURCES) {
            /* WARL: 8 levels, so the unimplemented bits are dropped. */
            p->priority[off / 4] = v % (PV_PLIC_MAX_PRIORITY + 1);
            update_locked(p);
            ok = true;
        }
    } else if (off < PV_PLIC_ENABLE_BASE) {
        /* Pending bits are read-only: falls through to the error. */
    } else if (off < PV_PLIC_CONTEXT_BASE) {
        hwaddr w = (off % PV_PLIC_ENABLE_STRIDE) / 4;
        ctx = context_of(p, off, PV_PLIC_ENABLE_BASE, PV_PLIC_ENABLE_STRIDE);
        if (ctx >= 0 && w < WORDS) {
            p->enable[ctx * WORDS + w] = v;
            update_locked(p);
            ok = true;
        }
    } else {
        hwaddr reg = off % PV_PLIC_CONTEXT_STRIDE;
        ctx = context_of(p, off, PV_PLIC_CONTEXT_BASE, PV_PLIC_CONTEXT_STRIDE);
        if (ctx >= 0 && reg == 0) {
            p->threshold[ctx] = v % (PV_PLIC_MAX_PRIORITY + 1);
            update_locked(p);
            ok = true;
        } else if (ctx >= 0 && reg == 4) {
            complete_locked(p, v);  /* logs its own range error */
            ok = true;
        }
    }
    pv_mutex_unlock(&p->lock);
    if (ok) {
        return PV_ACCESS_OK;
    }
bad:
    pv_guest_error(p->dev.vm, "plic: write of size %u at invalid offset 0x%" PRIx64
                   " (value 0x%" PRIx64 ") ignored", size, (uint64_t)off, val);
    return PV_ACCESS_OK;
}

static const MemoryRegionOps plic_ops = {
    .read = plic_read,
    .write = plic_write,
    /* Registers are 4 bytes; 8-byte accesses are split by the core, and
     * narrower ones reach us (and are refused) instead of being widened:
     * a widened byte read of the claim register would claim. */
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void plic_finalize(PvDevice *dev)
{
    PvPlic *p = (PvPlic *)dev;

    memory_region_destroy(&p->mmio);
    pv_mutex_destroy(&p->lock);
    free(p->outputs);
    free(p->enable);
    free(p->threshold);
    free(p->out_level);
    free(p);
}

static PvDeviceClass plic_class = {
    .type = "sifive.plic",
    .lock_class = PV_LOCK_CLASS_INIT("sifive.plic.dev", PV_LOCK_KIND_DEVICE),
    .finalize = plic_finalize,
};

PvPlic *pv_plic_new(PvVm *vm, unsigned nharts, const PvIrq *outputs)
{
    PvPlic *p;

    if (nharts == 0 || nharts > PV_PLIC_MAX_HARTS) {
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->ncontexts = 2 * nharts;
    p->outputs = calloc(p->ncontexts, sizeof(*p->outputs));
    p->enable = calloc((size_t)p->ncontexts * WORDS, sizeof(*p->enable));
    p->threshold = calloc(p->ncontexts, sizeof(*p->threshold));
    p->out_level = calloc(p->ncontexts, sizeof(*p->out_level));
    if (!p->outputs || !p->enable || !p->threshold || !p->out_level) {
        goto fail;
    }
    for (unsigned i = 0; i < p->ncontexts; i++) {
        p->outputs[i] = outputs[i];
    }
    pv_mutex_init(&p->lock, &plic_lock_class);
    pv_device_init(&p->dev, &plic_class, vm, "plic");
    memory_region_init_io(&p->mmio, vm, &p->dev, &plic_ops, p, "riscv.sifive.plic", PV_PLIC_SIZE);
    memory_region_set_dispatch_mode(&p->mmio, PV_DISPATCH_LOCKLESS);
    return p;

fail:
    free(p->outputs);
    free(p->enable);
    free(p->threshold);
    free(p->out_level);
    free(p);
    return NULL;
}

void pv_plic_reset(PvPlic *p)
{
    pv_mutex_lock(&p->lock);
    memset(p->priority, 0, sizeof(p->priority));
    memset(p->claimed, 0, sizeof(p->claimed));
    memset(p->enable, 0, (size_t)p->ncontexts * WORDS * sizeof(*p->enable));
    memset(p->threshold, 0, p->ncontexts * sizeof(*p->threshold));
    /* The input wires keep their levels (their devices drive them); a
     * line still high is pending again, as after a completion. */
    memcpy(p->pending, p->level, sizeof(p->pending));
    set_bit(p->pending, 0, false);
    update_locked(p);
    pv_mutex_unlock(&p->lock);
}

MemoryRegion *pv_plic_mmio(PvPlic *p)
{
    return &p->mmio;
}

PvDevice *pv_plic_device(PvPlic *p)
{
    return &p->dev;
}

void pv_plic_destroy(PvPlic *p)
{
    pv_device_unrealize(&p->dev);
    pv_device_unref(&p->dev);
}
