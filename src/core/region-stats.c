/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "region-stats.h"

#include <pthread.h>
#include <stdlib.h>

__thread unsigned pv_stat_shard;
__thread bool pv_stat_shard_exclusive;

/* Process-wide: which exclusive shards are taken (bit i: shard i). */
static pthread_mutex_t shard_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned shards_taken;
static pthread_key_t shard_key;
static pthread_once_t shard_key_once = PTHREAD_ONCE_INIT;

static void release_shard(void *p)
{
    unsigned shard = (unsigned)(uintptr_t)p - 1;
    pthread_mutex_lock(&shard_lock);
    shards_taken &= ~(1u << shard);
    pthread_mutex_unlock(&shard_lock);
}

static void make_key(void)
{
    pthread_key_create(&shard_key, release_shard);
}

unsigned region_stats_assign_shard(void)
{
    unsigned shard = PV_STAT_SHARDS - 1;    /* the shared one */

    pthread_once(&shard_key_once, make_key);
    pthread_mutex_lock(&shard_lock);
    for (unsigned i = 0; i < PV_STAT_SHARDS - 1; i++) {
        if (!(shards_taken & (1u << i))) {
            shards_taken |= 1u << i;
            shard = i;
            break;
        }
    }
    pthread_mutex_unlock(&shard_lock);
    pv_stat_shard_exclusive = shard != PV_STAT_SHARDS - 1;
    if (pv_stat_shard_exclusive) {
        pthread_setspecific(shard_key, (void *)(uintptr_t)(shard + 1));
    }
    pv_stat_shard = shard + 1;
    return pv_stat_shard;
}

MemoryRegionStats *region_stats_new(void)
{
    MemoryRegionStats *s = aligned_alloc(128, sizeof(*s));
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
