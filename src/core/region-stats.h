/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-region access counters (S11), sharded by thread so that two harts
 * hammering one lockless region never write a shared line.  The first
 * PV_STAT_SHARDS - 1 threads that count get a shard of their own and count
 * with plain relaxed stores; later threads share the last shard and count
 * with atomic adds.  A thread's shard is given back when it exits.
 */
#ifndef PARVM_CORE_REGION_STATS_H
#define PARVM_CORE_REGION_STATS_H

#include "parvm/memory.h"

#define PV_STAT_SHARDS 16

struct MemoryRegionStats {
    /* 128 bytes a shard: adjacent-line prefetchers pull lines in pairs. */
    struct {
        atomic_uint_fast64_t n[PV_ACCESS__COUNT];
    } __attribute__((aligned(128))) shard[PV_STAT_SHARDS];
};

MemoryRegionStats *region_stats_new(void);
void region_stats_free(MemoryRegionStats *s);
void region_stats_sum(const MemoryRegionStats *s, uint64_t counts[PV_ACCESS__COUNT]);

/* This thread's shard + 1 (0: none yet), and whether it owns it alone. */
extern __thread unsigned pv_stat_shard;
extern __thread bool pv_stat_shard_exclusive;
unsigned region_stats_assign_shard(void);

static inline void region_stats_count(MemoryRegionStats *s, PvAccessStatus st)
{
    unsigned shard = pv_stat_shard;
    if (__builtin_expect(shard == 0, 0)) {
        shard = region_stats_assign_shard();
    }
    atomic_uint_fast64_t *c = &s->shard[shard - 1].n[st];
    if (__builtin_expect(pv_stat_shard_exclusive, 1)) {
        /* Sole writer: no locked instruction. */
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
    }
}

#endif
