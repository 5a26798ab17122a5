/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flattening a region tree into a FlatView.
 *
 * Regions are rendered from the root down, each container's subregions in
 * priority order (highest first, newest first among equals), and a terminal
 * region only fills the gaps that earlier, higher-priority renders left: so
 * where regions overlap the higher priority wins, as in QEMU.  Aliases
 * render their target shifted and clipped to the alias window.  Positions
 * are computed in 128 bits because an alias may place its target's start
 * below address 0 and a region may reach the top of the address space.
 */
#include "flatview.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 pos_t;
#define POS_END ((pos_t)1 << 64)

typedef struct Builder {
    FlatRange *r;
    unsigned n, cap;
    bool oom;
} Builder;

static pos_t region_size(const MemoryRegion *mr)
{
    /* UINT64_MAX stands for the whole 2^64 space (a root container). */
    return mr->size == UINT64_MAX ? POS_END : (pos_t)mr->size;
}

static void insert_at(Builder *b, unsigned i, MemoryRegion *mr, pos_t lo, pos_t hi, hwaddr off)
{
    if (b->n == b->cap) {
        unsigned cap = b->cap ? b->cap * 2 : 32;
        FlatRange *r = realloc(b->r, cap * sizeof(*r));
        if (!r) {
            b->oom = true;
            return;
        }
        b->r = r;
        b->cap = cap;
    }
    memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(*b->r));
    b->r[i] = (FlatRange){ .start = (hwaddr)lo, .last = (hwaddr)(hi - 1), .mr = mr, .offset = off };
    b->n++;
}

/* Map [lo, hi) of the address space to @mr at offset @off0 (for lo),
 * wherever nothing is mapped yet. */
static void insert_gaps(Builder *b, MemoryRegion *mr, pos_t lo, pos_t hi, hwaddr off0)
{
    unsigned lo_i = 0, hi_i = b->n;
    while (lo_i < hi_i) {       /* first range that ends at or after lo */
        unsigned mid = (lo_i + hi_i) / 2;
        if ((pos_t)b->r[mid].last < lo) {
            lo_i = mid + 1;
        } else {
            hi_i = mid;
        }
    }
    unsigned i = lo_i;
    pos_t pos = lo;
    while (pos < hi && !b->oom) {
        if (i >= b->n || (pos_t)b->r[i].start > pos) {
            pos_t end = (i < b->n && (pos_t)b->r[i].start < hi) ? (pos_t)b->r[i].start : hi;
            insert_at(b, i, mr, pos, end, off0 + (hwaddr)(pos - lo));
            i++;
            pos = end;
        } else {
            pos = (pos_t)b->r[i].last + 1;
            i++;
        }
    }
}

static void render(Builder *b, MemoryRegion *mr, pos_t base, pos_t clip_lo, pos_t clip_hi)
{
    if (!mr->enabled) {
        return;
    }
    pos_t lo = base > clip_lo ? base : clip_lo;
    pos_t end = base + region_size(mr);
    pos_t hi = end < clip_hi ? end : clip_hi;
    if (lo >= hi) {
        return;
    }
    switch (mr->kind) {
    case MR_KIND_ALIAS:
        render(b, mr->alias, base - (pos_t)mr->alias_offset, lo, hi);
        break;
    case MR_KIND_CONTAINER:
        for (unsigned i = 0; i < mr->nr_subregions; i++) {
            MemoryRegion *sub = mr->subregions[i];
            render(b, sub, base + (pos_t)sub->addr, lo, hi);
        }
        break;
    case MR_KIND_RAM:
    case MR_KIND_IO:
        insert_gaps(b, mr, lo, hi, (hwaddr)(lo - base));
        break;
    }
}

/* Join neighbours that continue the same region at the same offset. */
static void simplify(Builder *b)
{
    unsigned out = 0;
    for (unsigned i = 0; i < b->n; i++) {
        FlatRange *prev = out ? &b->r[out - 1] : NULL;
        FlatRange *cur = &b->r[i];
        if (prev && prev->mr == cur->mr && prev->last + 1 == cur->start &&
            prev->offset + (prev->last - prev->start) + 1 == cur->offset) {
            prev->last = cur->last;
        } else {
            b->r[out++] = *cur;
        }
    }
    b->n = out;
}

static int cmp_eventfd(const void *a, const void *b)
{
    const FlatEventfd *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static bool collect_eventfds(FlatView *fv)
{
    unsigned n = 0, cap = 0;
    FlatEventfd *out = NULL;

    for (unsigned i = 0; i < fv->nr_ranges; i++) {
        const FlatRange *fr = &fv->ranges[i];
        hwaddr len_m1 = fr->last - fr->start;
        for (MemoryRegionEventfd *e = fr->mr->eventfds; e; e = e->next) {
            /* Only notifiers wholly inside the visible part of the region. */
            if (e->addr < fr->offset || e->addr - fr->offset > len_m1 ||
                e->size - 1 > len_m1 - (e->addr - fr->offset)) {
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                FlatEventfd *p = realloc(out, cap * sizeof(*p));
                if (!p) {
                    free(out);
                    return false;
                }
                out = p;
            }
            out[n++] = (FlatEventfd){
                .addr = fr->start + (e->addr - fr->offset), .size = e->size,
                .match_data = e->match_data, .data = e->data, .e = e->e, .mr = fr->mr,
            };
        }
    }
    if (n) {
        qsort(out, n, sizeof(*out), cmp_eventfd);
    }
    fv->eventfds = out;
    fv->nr_eventfds = n;
    return true;
}

static bool collect_devices(FlatView *fv)
{
    PvDevice **devs = malloc((fv->nr_ranges + 1) * sizeof(*devs));
    unsigned n = 0;

    if (!devs) {
        return false;
    }
    for (unsigned i = 0; i < fv->nr_ranges; i++) {
        if (fv->ranges[i].mr->owner) {
            devs[n++] = fv->ranges[i].mr->owner;
        }
    }
    qsort(devs, n, sizeof(*devs), cmp_ptr);
    unsigned u = 0;
    for (unsigned i = 0; i < n; i++) {
        if (u == 0 || devs[u - 1] != devs[i]) {
            devs[u++] = devs[i];
        }
    }
    for (unsigned i = 0; i < u; i++) {
        pv_device_ref(devs[i]);
    }
    fv->devices = devs;
    fv->nr_devices = u;
    return true;
}

FlatView *flatview_build(MemoryRegion *root, uint64_t generation)
{
    Builder b = { 0 };
    FlatView *fv = calloc(1, sizeof(*fv));

    if (!fv) {
        return NULL;
    }
    if (root) {
        render(&b, root, 0, 0, POS_END);
    }
    if (b.oom) {
        goto fail;
    }
    simplify(&b);
    fv->generation = generation;
    fv->ranges = b.r;
    fv->nr_ranges = b.n;
    if (!collect_eventfds(fv)) {
        goto fail;
    }
    if (!collect_devices(fv)) {
        free(fv->eventfds);
        goto fail;
    }
    return fv;

fail:
    free(b.r);
    free(fv);
    return NULL;
}

void flatview_reclaim(PvRcuHead *head)
{
    FlatView *fv = (FlatView *)((char *)head - offsetof(FlatView, rcu));

    for (unsigned i = 0; i < fv->nr_devices; i++) {
        pv_device_unref(fv->devices[i]);
    }
    free(fv->devices);
    free(fv->eventfds);
    free(fv->ranges);
    free(fv);
}
