/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FlatView: the immutable, flattened form of an address space's region tree
 * that readers use (S2).  Built by memory.c at commit, read by dispatch.c.
 */
#ifndef PARVM_CORE_FLATVIEW_H
#define PARVM_CORE_FLATVIEW_H

#include "parvm/memory.h"

typedef struct FlatRange {
    hwaddr start;
    hwaddr last;                /* inclusive, so a range may end at 2^64 - 1 */
    MemoryRegion *mr;           /* terminal region: RAM or IO */
    hwaddr offset;              /* offset in mr of start */
} FlatRange;

typedef struct FlatEventfd {
    hwaddr addr;                /* absolute */
    unsigned size;
    bool match_data;
    uint64_t data;
    PvEventNotifier *e;
    MemoryRegion *mr;
} FlatEventfd;

struct FlatView {
    PvRcuHead rcu;
    uint64_t generation;
    unsigned nr_ranges;
    FlatRange *ranges;          /* sorted by start, disjoint */
    unsigned nr_eventfds;
    FlatEventfd *eventfds;      /* sorted by addr */
    unsigned nr_devices;
    PvDevice **devices;         /* one reference each */
};

/* Flatten @root.  Map lock held.  Returns NULL on allocation failure. */
FlatView *flatview_build(MemoryRegion *root, uint64_t generation);
/* Drop the view's device references and free it (after a grace period). */
void flatview_reclaim(PvRcuHead *head);

/* Index of the range containing @addr, or -1. */
static inline long flatview_find(const FlatView *fv, hwaddr addr)
{
    long lo = 0, hi = (long)fv->nr_ranges - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        const FlatRange *fr = &fv->ranges[mid];
        if (addr < fr->start) {
            hi = mid - 1;
        } else if (addr > fr->last) {
            lo = mid + 1;
        } else {
            return mid;
        }
    }
    return -1;
}

#endif
