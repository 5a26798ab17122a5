/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock profiler (S11): per-thread tables of counters per (class, site),
 * so that counting never bounces a cache line between threads; a snapshot
 * sums the live tables and those of threads that have exited.
 */
#include "lock-internal.h"

#include <stdlib.h>
#include <string.h>

#include "ticks.h"

#define STAT_SLOTS 256          /* per thread; power of two */

typedef struct PvLockStatTable {
    PvLockStat slot[STAT_SLOTS];
    struct PvLockStatTable *next;   /* in the registry, registry_lock */
} PvLockStatTable;

/* Process-wide like the validator: profiles are read per process. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static PvLockStatTable *live_tables;
static PvLockStatTable retired;     /* totals of exited threads */
static pthread_key_t table_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static PvLockStat *find_slot(PvLockStatTable *tab, PvLockClass *cls,
                             const PvLockSite *site, bool insert)
{
    size_t h = (((uintptr_t)site >> 3) ^ ((uintptr_t)cls >> 4) * 31) & (STAT_SLOTS - 1);

    for (size_t n = 0; n < STAT_SLOTS; n++, h = (h + 1) & (STAT_SLOTS - 1)) {
        PvLockStat *st = &tab->slot[h];
        const PvLockSite *s = atomic_load_explicit(&st->site, memory_order_acquire);
        if (s == site && st->cls == cls) {
            return st;
        }
        if (!s) {
            if (!insert) {
                return NULL;
            }
            st->cls = cls;
            /* Publish last: readers skip slots whose site is still NULL. */
            atomic_store_explicit(&st->site, site, memory_order_release);
            return st;
        }
    }
    return NULL;
}

static PvLockStat overflow_slot;

static void fold_slot(PvLockStatTable *dst, PvLockStat *s)
{
    const PvLockSite *site = atomic_load_explicit(&s->site, memory_order_acquire);
    if (!site) {
        return;
    }
    PvLockStat *d = find_slot(dst, s->cls, site, true);
    if (!d) {
        /* More (class, site) pairs than slots: count them together. */
        d = find_slot(dst, overflow_slot.cls, atomic_load(&overflow_slot.site), true);
        if (!d) {
            return;
        }
    }
    pv_stat_add(&d->acquisitions, atomic_load_explicit(&s->acquisitions, memory_order_relaxed));
    pv_stat_add(&d->contended, atomic_load_explicit(&s->contended, memory_order_relaxed));
    pv_stat_add(&d->wait_ticks, atomic_load_explicit(&s->wait_ticks, memory_order_relaxed));
    pv_stat_add(&d->hold_ticks, atomic_load_explicit(&s->hold_ticks, memory_order_relaxed));
}

static void fold_into(PvLockStatTable *dst, PvLockStatTable *src)
{
    for (size_t i = 0; i < STAT_SLOTS; i++) {
        fold_slot(dst, &src->slot[i]);
    }
}

static void table_destructor(void *p)
{
    PvLockStatTable *tab = p;

    pthread_mutex_lock(&registry_lock);
    for (PvLockStatTable **pp = &live_tables; *pp; pp = &(*pp)->next) {
        if (*pp == tab) {
            *pp = tab->next;
            break;
        }
    }
    fold_into(&retired, tab);
    pthread_mutex_unlock(&registry_lock);
    /* Later key destructors of this thread may still take pv locks: they
     * get a fresh table (folded again) rather than this freed one. */
    pv_lock_thread.stats = NULL;
    free(tab);
}

static void make_key(void)
{
    pthread_key_create(&table_key, table_destructor);
}

/* Used when a thread's table is full or cannot be allocated: counts still
 * land somewhere (racily: several threads may share it), reported under a
 * site of their own rather than lost silently. */
static const PvLockSite overflow_site = { "(profile table full)", 0, "?" };
static PvLockClass overflow_class = PV_LOCK_CLASS_INIT("(various)", PV_LOCK_KIND_CORE);
static PvLockStat overflow_slot = { .site = &overflow_site, .cls = &overflow_class };

PvLockStat *pv_lock_stat_slot(PvLockClass *cls, const PvLockSite *site)
{
    PvLockThread *t = &pv_lock_thread;
    PvLockStatTable *tab = t->stats;

    if (__builtin_expect(!tab, 0)) {
        pthread_once(&key_once, make_key);
        tab = calloc(1, sizeof(*tab));
        if (!tab) {
            return &overflow_slot;
        }
        pthread_mutex_lock(&registry_lock);
        tab->next = live_tables;
        live_tables = tab;
        pthread_mutex_unlock(&registry_lock);
        pthread_setspecific(table_key, tab);
        t->stats = tab;
    }
    PvLockStat *st = find_slot(tab, cls, site, true);
    return st ? st : &overflow_slot;
}

size_t pv_lock_profile(PvLockProfileEntry **out)
{
    PvLockStatTable *sum = calloc(1, sizeof(*sum));
    size_t n = 0;

    *out = NULL;
    if (!sum) {
        return 0;
    }
    pthread_mutex_lock(&registry_lock);
    fold_into(sum, &retired);
    for (PvLockStatTable *tab = live_tables; tab; tab = tab->next) {
        fold_into(sum, tab);
    }
    pthread_mutex_unlock(&registry_lock);
    fold_slot(sum, &overflow_slot);

    PvLockProfileEntry *e = calloc(STAT_SLOTS, sizeof(*e));
    if (e) {
        for (size_t i = 0; i < STAT_SLOTS; i++) {
            PvLockStat *s = &sum->slot[i];
            const PvLockSite *site = atomic_load_explicit(&s->site, memory_order_relaxed);
            if (!site) {
                continue;
            }
            e[n++] = (PvLockProfileEntry){
                .class_name = s->cls->name,
                .site = site,
                .acquisitions = atomic_load_explicit(&s->acquisitions, memory_order_relaxed),
                .contended = atomic_load_explicit(&s->contended, memory_order_relaxed),
                .wait_ns = pv_ticks_to_ns(atomic_load_explicit(&s->wait_ticks, memory_order_relaxed)),
                .hold_ns = pv_ticks_to_ns(atomic_load_explicit(&s->hold_ticks, memory_order_relaxed)),
            };
        }
    }
    free(sum);
    *out = e;
    return n;
}
