/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-region access counters (S11), sharded by thread so that two threads
 * hammering one lockless region do not bounce a shared counter line.
 */
#ifndef PARVM_CORE_REGION_STATS_H
#define PARVM_CORE_REGION_STATS_H

#include "parvm/memory.h"

#define PV_STAT_SHARDS 16

struct MemoryRegionStats {
    struct {
        atomic_uint_fast64_t n[PV_ACCESS__COUNT];
    } __attribute__((aligned(64))) shard[PV_STAT_SHARDS];
};

MemoryRegionStats *region_stats_new(void);
void region_stats_free(MemoryRegionStats *s);
void region_stats_sum(const MemoryRegionStats *s, uint64_t counts[PV_ACCESS__COUNT]);

extern __thread unsigned pv_stat_shard;   /* 0: not assigned yet */
unsigned region_stats_assign_shard(void);

static inline void region_stats_count(MemoryRegionStats *s, PvAccessStatus st)
{
    unsigned shard = pv_stat_shard;
    if (__builtin_expect(shard == 0, 0)) {
        shard = region_stats_assign_shard();
    }
    /* Several threads may share a shard, hence the atomic add. */
    atomic_fetch_add_explicit(&s->shard[shard - 1].n[st], 1, memory_order_relaxed);
}

#endif
