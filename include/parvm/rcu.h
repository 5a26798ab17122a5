/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RCU for parvm: liburcu's QSBR flavour behind a small wrapper.
 *
 * Why QSBR: read-side sections cost nothing (no per-access store or
 * barrier), which the dispatch fast path and the harts' TLB need.  The
 * price is explicit: every thread that looks at RCU-protected data must be
 * registered, must report a quiescent state now and then
 * (pv_rcu_quiescent(), e.g. between guest instruction blocks or loop
 * iterations), and must go offline around anything that blocks for long
 * (epoll_wait, condition waits, WFI).  A registered, online thread is
 * always inside a read-side section, so the whole of a dispatch is.
 *
 * Why a wrapper: pointer publication uses C11 release/acquire (which
 * ThreadSanitizer understands, unlike liburcu's volatile accesses), and in
 * TSan builds quiescent states and grace periods are annotated so that TSan
 * sees "every reader finished before the reclaim" as the ordering it is.
 */
#ifndef PARVM_RCU_H
#define PARVM_RCU_H

#include <stdbool.h>
#include <stddef.h>

#include "parvm/lock.h"

/* Embed in the object to reclaim.  The first member is liburcu's storage. */
typedef struct PvRcuHead {
    void *urcu_head[2];
    void (*func)(struct PvRcuHead *head);
} PvRcuHead;

/* Register the calling thread as an RCU reader; it starts online. */
void pv_rcu_register_thread(void);
/* Unregister; the thread must hold no RCU-protected pointer. */
void pv_rcu_unregister_thread(void);
bool pv_rcu_thread_registered(void);

/* Report that the calling (online) thread holds no RCU-protected pointer.
 * Never from inside a dispatch (aborts): a handler's view must outlive it. */
void pv_rcu_quiescent(void);
/* Go offline before blocking; come back online after.  While offline the
 * thread must not touch RCU-protected data.  Never from inside a dispatch
 * (aborts): a handler may not block for long at all. */
void pv_rcu_offline(void);
void pv_rcu_online(void);
/* Whether the calling thread is registered and online (may read). */
bool pv_rcu_reader_online(void);

/*
 * Run @func(@head) after a grace period, on liburcu's call_rcu thread.
 * The caller must be registered and online.  Never waits.
 */
void pv_call_rcu(PvRcuHead *head, void (*func)(PvRcuHead *head));

/*
 * Wait for a grace period.  The caller must hold no pv lock and no
 * RCU-protected pointer, and must not be inside a dispatch (checked in
 * validator builds): waiting from inside a read-side section or under a
 * lock that a reader may need deadlocks (QEMU GitLab #650).
 */
#define pv_synchronize_rcu() pv_synchronize_rcu_at(PV_LOCK_SITE)
void pv_synchronize_rcu_at(const PvLockSite *site);

/* Wait until every pv_call_rcu() queued so far has run.  Same rules as
 * pv_synchronize_rcu(). */
void pv_rcu_barrier(void);

/* Publication and dereference of RCU-protected pointers. */
#define pv_rcu_assign(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define pv_rcu_deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

#endif
