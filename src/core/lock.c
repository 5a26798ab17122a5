/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock API: pthread mutexes plus a per-thread stack of held locks, which
 * feeds the validator (ordering), the profiler (hold times) and dispatch
 * (does this thread already run under the global lock?).
 */
#include "lock-internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "ticks.h"

__thread PvLockThread pv_lock_thread;

void pv_mutex_init(PvMutex *m, PvLockClass *cls)
{
    /* Error-checking mutexes would catch less than the validator and cost
     * more; plain ones are enough. */
    pthread_mutex_init(&m->m, NULL);
    m->cls = cls;
}

void pv_mutex_destroy(PvMutex *m)
{
    pthread_mutex_destroy(&m->m);
}

static _Noreturn void lock_fatal(const char *msg, const PvMutex *m, const PvLockSite *site)
{
    fprintf(stderr, "parvm: lock API: %s: \"%s\" at %s:%d (%s)\n", msg, m->cls->name,
            site ? site->file : "?", site ? site->line : 0, site ? site->func : "?");
    abort();
}

static void push_held(PvLockThread *t, PvMutex *m, const PvLockSite *site,
                      PvLockStat *st, bool trylock)
{
    if (t->nheld == PV_MAX_HELD_LOCKS) {
        lock_fatal("too many locks held by one thread", m, site);
    }
    t->held[t->nheld++] = (PvHeldLock){
        .m = m, .site = site, .acquired_at = pv_ticks(), .stat = st, .trylock = trylock,
    };
}

void pv_mutex_lock_at(PvMutex *m, const PvLockSite *site)
{
    PvLockThread *t = &pv_lock_thread;
#ifdef PV_LOCK_VALIDATOR
    pv_validate_lock(t, m, site);
#endif
    PvLockStat *st = pv_lock_stat_slot(m->cls, site);

    /* Try first so that the uncontended path reads the clock only once. */
    if (pthread_mutex_trylock(&m->m) != 0) {
        uint64_t t0 = pv_ticks();
        pthread_mutex_lock(&m->m);
        pv_stat_add(&st->contended, 1);
        pv_stat_add(&st->wait_ticks, pv_ticks() - t0);
    }
    pv_stat_add(&st->acquisitions, 1);
    push_held(t, m, site, st, false);
}

bool pv_mutex_trylock_at(PvMutex *m, const PvLockSite *site)
{
    if (pthread_mutex_trylock(&m->m) != 0) {
        return false;
    }
    PvLockStat *st = pv_lock_stat_slot(m->cls, site);
    pv_stat_add(&st->acquisitions, 1);
    push_held(&pv_lock_thread, m, site, st, true);
    return true;
}

void pv_mutex_unlock(PvMutex *m)
{
    PvLockThread *t = &pv_lock_thread;
    unsigned i = t->nheld;

    /* Locks are usually released in reverse order: search from the top. */
    while (i > 0 && t->held[i - 1].m != m) {
        i--;
    }
    if (i == 0) {
        lock_fatal("unlock of a lock this thread does not hold", m, NULL);
    }
    PvHeldLock *h = &t->held[i - 1];
    pv_stat_add(&h->stat->hold_ticks, pv_ticks() - h->acquired_at);
    for (; i < t->nheld; i++) {
        t->held[i - 1] = t->held[i];
    }
    t->nheld--;
    pthread_mutex_unlock(&m->m);
}

bool pv_mutex_held(const PvMutex *m)
{
    const PvLockThread *t = &pv_lock_thread;
    for (unsigned i = 0; i < t->nheld; i++) {
        if (t->held[i].m == m) {
            return true;
        }
    }
    return false;
}

unsigned pv_locks_held(void)
{
    return pv_lock_thread.nheld;
}

unsigned pv_lock_kinds_held(void)
{
    const PvLockThread *t = &pv_lock_thread;
    unsigned kinds = 0;
    for (unsigned i = 0; i < t->nheld; i++) {
        kinds |= 1u << t->held[i].m->cls->kind;
    }
    return kinds;
}

/* In every build: the held-lock stack exists anyway, and waiting for other
 * threads under a lock is a deadlock in release builds too (G4). */
void pv_assert_no_locks_held_at(const char *what, const PvLockSite *site)
{
    const PvLockThread *t = &pv_lock_thread;
    if (t->nheld > 0) {
        const PvHeldLock *h = &t->held[t->nheld - 1];
        fprintf(stderr,
                "parvm: lock validator: %s at %s:%d (%s) while holding \"%s\" "
                "acquired at %s:%d (%s)\n",
                what, site->file, site->line, site->func, h->m->cls->name,
                h->site->file, h->site->line, h->site->func);
        abort();
    }
}
