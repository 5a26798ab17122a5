/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * liburcu (QSBR flavour) behind parvm's RCU API; see include/parvm/rcu.h
 * for why QSBR and why a wrapper.
 */
#include "parvm/rcu.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "parvm/dispatch.h"

#if defined(__SANITIZE_THREAD__)
#define PV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PV_TSAN 1
#endif
#endif

static char tsan_grace_period;
static char tsan_callbacks_done;

#ifdef PV_TSAN
/*
 * TSan cannot see liburcu's grace-period machinery.  Model it: each
 * quiescent state releases a process-wide sync object and each reclaim
 * acquires it, which is exactly RCU's promise ("every read-side section
 * that could see the old pointer ended before the callback runs").
 */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_RELEASE(p) __tsan_release(p)
#define TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define TSAN_RELEASE(p) ((void)(p))
#define TSAN_ACQUIRE(p) ((void)(p))
#endif

_Static_assert(sizeof(((PvRcuHead *)0)->urcu_head) >= sizeof(struct rcu_head),
               "PvRcuHead too small for liburcu's rcu_head");

static __thread struct {
    bool registered;
    bool online;
} rcu_thread;

void pv_rcu_register_thread(void)
{
    urcu_qsbr_register_thread();
    rcu_thread.registered = true;
    rcu_thread.online = true;
}

void pv_rcu_unregister_thread(void)
{
    TSAN_RELEASE(&tsan_grace_period);
    if (!rcu_thread.online) {
        urcu_qsbr_thread_online();
    }
    urcu_qsbr_unregister_thread();
    rcu_thread.registered = false;
    rcu_thread.online = false;
}

bool pv_rcu_thread_registered(void)
{
    return rcu_thread.registered;
}

/* A handler must not end its own read-side section: the view it was
 * dispatched through, and its device, could be freed under it (G1, G2). */
static void check_not_in_dispatch(const char *what)
{
    if (pv_dispatch_depth() > 0) {
        fprintf(stderr, "parvm: RCU: %s from inside a dispatch (a handler may not go "
                        "quiescent or offline)\n", what);
        abort();
    }
}

void pv_rcu_quiescent(void)
{
    check_not_in_dispatch("pv_rcu_quiescent");
    TSAN_RELEASE(&tsan_grace_period);
    urcu_qsbr_quiescent_state();
}

void pv_rcu_offline(void)
{
    check_not_in_dispatch("pv_rcu_offline");
    TSAN_RELEASE(&tsan_grace_period);
    urcu_qsbr_thread_offline();
    rcu_thread.online = false;
}

void pv_rcu_online(void)
{
    urcu_qsbr_thread_online();
    rcu_thread.online = true;
}

bool pv_rcu_reader_online(void)
{
    return rcu_thread.registered && rcu_thread.online;
}

static void call_rcu_trampoline(struct rcu_head *rh)
{
    PvRcuHead *head = (PvRcuHead *)((char *)rh - offsetof(PvRcuHead, urcu_head));

    TSAN_ACQUIRE(&tsan_grace_period);
    TSAN_ACQUIRE(head);
    /* liburcu registers its call_rcu threads as online readers; say so,
     * since callbacks may dispatch or queue further callbacks. */
    rcu_thread.registered = true;
    rcu_thread.online = true;
    head->func(head);
    /* pv_rcu_barrier() returns after this callback: make that visible. */
    TSAN_RELEASE(&tsan_callbacks_done);
}

void pv_call_rcu(PvRcuHead *head, void (*func)(PvRcuHead *head))
{
    if (!pv_rcu_reader_online()) {
        fprintf(stderr, "parvm: pv_call_rcu from a thread that is not an online RCU reader\n");
        abort();
    }
    head->func = func;
    TSAN_RELEASE(head);
    urcu_qsbr_call_rcu((struct rcu_head *)(void *)head->urcu_head, call_rcu_trampoline);
}

static void check_may_wait(const char *what, const PvLockSite *site)
{
    pv_assert_no_locks_held_at(what, site);
    if (pv_dispatch_depth() > 0) {
        /* The caller's dispatch still uses the view it looked up. */
        fprintf(stderr, "parvm: RCU: %s at %s:%d (%s) from inside a dispatch\n",
                what, site->file, site->line, site->func);
        abort();
    }
}

void pv_synchronize_rcu_at(const PvLockSite *site)
{
    check_may_wait("waiting for a grace period", site);
    TSAN_RELEASE(&tsan_grace_period);
    /* An online QSBR caller is taken offline for the wait by liburcu. */
    urcu_qsbr_synchronize_rcu();
    TSAN_ACQUIRE(&tsan_grace_period);
}

void pv_rcu_barrier(void)
{
    check_may_wait("waiting for RCU callbacks", PV_LOCK_SITE);
    urcu_qsbr_barrier();
    TSAN_ACQUIRE(&tsan_callbacks_done);
}
