/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region-stats.h"

#include <stdlib.h>

__thread unsigned pv_stat_shard;
static atomic_uint next_shard;

unsigned region_stats_assign_shard(void)
{
    pv_stat_shard = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed)
                        % PV_STAT_SHARDS + 1;
    return pv_stat_shard;
}

MemoryRegionStats *region_stats_new(void)
{
    MemoryRegionStats *s = aligned_alloc(64, sizeof(*s));
    if (s) {
        for (unsigned i = 0; i < PV_STAT_SHARDS; i++) {
            for (unsigned j = 0; j < PV_ACCESS__COUNT; j++) {
                atomic_init(&s->shard[i].n[j], 0);
            }
        }
    }
    return s;
}

void region_stats_free(MemoryRegionStats *s)
{
    free(s);
}

void region_stats_sum(const MemoryRegionStats *s, uint64_t counts[PV_ACCESS__COUNT])
{
    for (unsigned j = 0; j < PV_ACCESS__COUNT; j++) {
        counts[j] = 0;
    }
    if (!s) {
        return;
    }
    for (unsigned i = 0; i < PV_STAT_SHARDS; i++) {
        for (unsigned j = 0; j < PV_ACCESS__COUNT; j++) {
            counts[j] += atomic_load_explicit(&s->shard[i].n[j], memory_order_relaxed);
        }
    }
}
