/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device work: the seed's three ways for the I/O thread to run code under a
 * device lock that a vCPU may hold, without waiting for it
 * (include/parvm/device-work.h).
 *
 * The races that matter are "the submitter finds the lock busy" against
 * "the holder is releasing it".  Both sides publish first and look second,
 * with a full fence in between, so at least one of them sees the other:
 *   submitter: push the work / waiter  -> fence -> trylock
 *   holder:    release the lock         -> fence -> look at the lists
 * Either the holder finds the entry (and runs it, or calls its retry), or
 * the submitter's trylock finds the lock free (or held by a later holder,
 * who will look at the lists when it releases).
 */
#include "parvm/device-work.h"

#include <sched.h>
#include <string.h>
#include <time.h>

enum { STAT_DIRECT, STAT_HOLDER, STAT_RETRIES, STAT_YIELDS };

/*
 * How long a vCPU yields to a raised "I/O thread wants the lock" flag
 * before it takes the lock anyway.  The I/O thread retries from a bottom
 * half, normally within microseconds, and lowers the flag once it got the
 * lock; a vCPU that gave up too early would take the lock again before the
 * I/O thread's next try, over and over on a loaded host (a sanitizer build
 * on a busy machine showed it).  The bound only keeps a vCPU from waiting
 * forever when the I/O thread cannot run at all (teardown).
 */
#define WANTS_LOCK_MAX_WAIT_NS 2000000

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stat_add(PvDevice *dev, unsigned i)
{
    atomic_fetch_add_explicit(&dev->work_stats[i], 1, memory_order_relaxed);
}

const char *pv_flow_name(PvFlow f)
{
    switch (f) {
    case PV_FLOW_TRYLOCK:
        return "trylock";
    case PV_FLOW_QUEUE:
        return "queue";
    case PV_FLOW_NOTIFY:
        return "notify";
    }
    return "?";
}

int pv_flow_parse(const char *s)
{
    for (int f = PV_FLOW_TRYLOCK; f <= PV_FLOW_NOTIFY; f++) {
        if (strcmp(s, pv_flow_name((PvFlow)f)) == 0) {
            return f;
        }
    }
    return -1;
}

/* Push @w on a LIFO list. */
static void list_push(PvDeviceWork *_Atomic *head, PvDeviceWork *w)
{
    PvDeviceWork *old = atomic_load_explicit(head, memory_order_relaxed);

    do {
        w->next = old;
    } while (!atomic_compare_exchange_weak_explicit(head, &old, w, memory_order_seq_cst,
                                                    memory_order_relaxed));
}

/* Take the whole list, oldest first. */
static PvDeviceWork *list_take_fifo(PvDeviceWork *_Atomic *head)
{
    PvDeviceWork *w = atomic_exchange_explicit(head, NULL, memory_order_acquire);
    PvDeviceWork *fifo = NULL;

    while (w) {
        PvDeviceWork *next = w->next;
        w->next = fifo;
        fifo = w;
        w = next;
    }
    return fifo;
}

void pv_device_lock_at(PvDevice *dev, const PvLockSite *site)
{
    /* S8 flow 1: while the I/O thread wants the lock, let it have it. */
    if (atomic_load_explicit(&dev->io_wants_lock, memory_order_relaxed)) {
        stat_add(dev, STAT_YIELDS);
        int64_t until = now_ns() + WANTS_LOCK_MAX_WAIT_NS;
        do {
            sched_yield();
        } while (atomic_load_explicit(&dev->io_wants_lock, memory_order_relaxed) &&
                 now_ns() < until);
    }
    pv_mutex_lock_at(&dev->lock, site);
}

bool pv_device_trylock_at(PvDevice *dev, const PvLockSite *site)
{
    return pv_mutex_trylock_at(&dev->lock, site);
}

/* Under dev->lock: run the queued work, oldest first, counted under
 * @stat. */
static void run_queued(PvDevice *dev, unsigned stat)
{
    PvDeviceWork *w = list_take_fifo(&dev->work_queue);

    while (w) {
        PvDeviceWork *next = w->next;
        /* Cleared before running, so that @run (or another thread) may
         * submit it again and be heard. */
        atomic_store_explicit(&w->pending, false, memory_order_seq_cst);
        stat_add(dev, stat);
        w->run(w);
        w = next;
    }
}

/* No lock of @dev held: tell NOTIFY waiters the lock was released. */
static void call_waiters(PvDevice *dev)
{
    PvDeviceWork *w = list_take_fifo(&dev->notify_list);

    while (w) {
        PvDeviceWork *next = w->next;
        atomic_store_explicit(&w->pending, false, memory_order_seq_cst);
        w->retry(w);
        w = next;
    }
}

static void unlock_draining(PvDevice *dev, unsigned stat)
{
    for (;;) {
        if (atomic_load_explicit(&dev->work_queue, memory_order_relaxed)) {
            run_queued(dev, stat);
        }
        pv_mutex_unlock(&dev->lock);
        /* Release, then look (see the top of the file). */
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&dev->notify_list, memory_order_relaxed)) {
            call_waiters(dev);
        }
        if (!atomic_load_explicit(&dev->work_queue, memory_order_relaxed) ||
            !pv_mutex_trylock(&dev->lock)) {
            return;
        }
    }
}

void pv_device_unlock(PvDevice *dev)
{
    unlock_draining(dev, STAT_HOLDER);
}

/* Got the lock by trylock: run @w, then release (which runs the queue). */
static void run_direct(PvDevice *dev, PvDeviceWork *w)
{
    stat_add(dev, STAT_DIRECT);
    w->run(w);
    pv_device_unlock(dev);
}

bool pv_device_work_submit(PvDevice *dev, PvDeviceWork *w)
{
    switch (w->flow) {
    case PV_FLOW_TRYLOCK:
        if (pv_mutex_trylock(&dev->lock)) {
            atomic_store_explicit(&dev->io_wants_lock, false, memory_order_relaxed);
            run_direct(dev, w);
            return true;
        }
        atomic_store_explicit(&dev->io_wants_lock, true, memory_order_relaxed);
        stat_add(dev, STAT_RETRIES);
        w->retry(w);
        return false;

    case PV_FLOW_QUEUE:
        if (atomic_exchange_explicit(&w->pending, true, memory_order_seq_cst)) {
            return false;       /* already queued: one run serves both */
        }
        list_push(&dev->work_queue, w);
        atomic_thread_fence(memory_order_seq_cst);
        if (pv_mutex_trylock(&dev->lock)) {
            unlock_draining(dev, STAT_DIRECT);  /* runs the queue, @w included */
            return !atomic_load_explicit(&w->pending, memory_order_relaxed);
        }
        return false;

    case PV_FLOW_NOTIFY:
        if (pv_mutex_trylock(&dev->lock)) {
            run_direct(dev, w);
            return true;
        }
        if (atomic_exchange_explicit(&w->pending, true, memory_order_seq_cst)) {
            return false;       /* already waiting for the release */
        }
        stat_add(dev, STAT_RETRIES);
        list_push(&dev->notify_list, w);
        atomic_thread_fence(memory_order_seq_cst);
        if (pv_mutex_trylock(&dev->lock)) {
            /* Released before it saw us.  Run now; our entry is still on
             * the list, so this unlock calls @retry once more, spuriously:
             * @run must tolerate finding nothing to do. */
            run_direct(dev, w);
            return true;
        }
        return false;
    }
    return false;
}

void pv_device_work_stats(PvDevice *dev, PvDeviceWorkStats *out)
{
    out->ran_direct = atomic_load_explicit(&dev->work_stats[STAT_DIRECT], memory_order_relaxed);
    out->ran_by_holder = atomic_load_explicit(&dev->work_stats[STAT_HOLDER], memory_order_relaxed);
    out->retries = atomic_load_explicit(&dev->work_stats[STAT_RETRIES], memory_order_relaxed);
    out->yields = atomic_load_explicit(&dev->work_stats[STAT_YIELDS], memory_order_relaxed);
}
