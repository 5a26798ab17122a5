/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cpus.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "parvm/rcu.h"

enum { REQ_RUN, REQ_PAUSE, REQ_EXIT };

struct PvCpusWaiter {
    PvCpusPausedFunc *done;
    void *opaque;
    PvCpusWaiter *next;
};

typedef struct VcpuArg {
    PvCpus *c;
    PvVcpu *v;
} VcpuArg;

void pv_cpus_init(PvCpus *c, PvVcpu *vcpus, unsigned n)
{
    c->vcpus = vcpus;
    c->n = n;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    atomic_init(&c->request, REQ_RUN);
    c->user_paused = false;
    c->holds = 0;
    c->exiting = false;
    c->parked = 0;
    c->waiters = NULL;
}

/* Lock held: what the harts should do now. */
static void update_request(PvCpus *c)
{
    int req = c->exiting ? REQ_EXIT : (c->user_paused || c->holds) ? REQ_PAUSE : REQ_RUN;
    atomic_store_explicit(&c->request, req, memory_order_release);
}

/* Lock held.  Detach the waiters to call (outside the lock). */
static PvCpusWaiter *take_waiters(PvCpus *c)
{
    PvCpusWaiter *w = c->waiters;
    c->waiters = NULL;
    return w;
}

static void call_waiters(PvCpusWaiter *w, bool paused)
{
    while (w) {
        PvCpusWaiter *next = w->next;
        w->done(w->opaque, paused);
        free(w);
        w = next;
    }
}

static void kick_all(PvCpus *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        pv_vcpu_kick(&c->vcpus[i]);
    }
}

/* On the vCPU thread, between instruction blocks: sleep while paused. */
static void park(PvCpus *c)
{
    PvCpusWaiter *done = NULL;

    /* A parked hart holds no lock (a pause must never stall a device) and
     * no RCU-protected pointer (it goes offline). */
    pv_assert_no_locks_held("parking a vCPU");
    pv_rcu_offline();
    pthread_mutex_lock(&c->lock);
    c->parked++;
    if (c->parked == c->n) {
        done = take_waiters(c);
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_waiters(done, true);

    pthread_mutex_lock(&c->lock);
    while (atomic_load(&c->request) == REQ_PAUSE) {
        pthread_cond_wait(&c->cond, &c->lock);
    }
    c->parked--;
    pthread_mutex_unlock(&c->lock);
    pv_rcu_online();
}

static void *vcpu_thread(void *opaque)
{
    VcpuArg *a = opaque;
    PvCpus *c = a->c;
    PvVcpu *v = a->v;

    free(a);
    atomic_store(&v->tid, (int)gettid());
    pv_rcu_register_thread();
    pv_vcpu_enter(v);
    for (;;) {
        int req = atomic_load_explicit(&c->request, memory_order_acquire);
        if (req == REQ_EXIT) {
            break;
        }
        if (req == REQ_PAUSE) {
            park(c);
            continue;
        }
        pv_vcpu_run(v);
    }
    pv_rcu_unregister_thread();
    return NULL;
}

int pv_cpus_start(PvCpus *c, bool paused)
{
    pthread_mutex_lock(&c->lock);
    c->user_paused = paused;
    update_request(c);
    pthread_mutex_unlock(&c->lock);
    for (unsigned i = 0; i < c->n; i++) {
        VcpuArg *a = malloc(sizeof(*a));
        int r = ENOMEM;
        if (a) {
            *a = (VcpuArg){ c, &c->vcpus[i] };
            r = pthread_create(&c->vcpus[i].thread, NULL, vcpu_thread, a);
        }
        if (r != 0) {
            free(a);
            pv_cpus_exit(c);
            return r;
        }
        c->vcpus[i].started = true;
    }
    return 0;
}

void pv_cpus_pause(PvCpus *c, PvCpusPausedFunc *done, void *opaque)
{
    PvCpusWaiter *w = malloc(sizeof(*w)), *now = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->exiting) {
        pthread_mutex_unlock(&c->lock);
        if (done) {
            done(opaque, false);
        }
        free(w);
        return;
    }
    c->user_paused = true;
    update_request(c);
    if (done && w) {
        *w = (PvCpusWaiter){ .done = done, .opaque = opaque, .next = c->waiters };
        c->waiters = w;
        w = NULL;
    }
    if (c->parked == c->n) {
        now = take_waiters(c);      /* already all parked */
    }
    pthread_mutex_unlock(&c->lock);
    free(w);
    kick_all(c);
    call_waiters(now, true);
}

/* Blocking waits below: an online RCU reader goes offline for them, so
 * grace periods go on while it sleeps. */
static bool offline_for_wait(void)
{
    bool was = pv_rcu_reader_online();
    if (was) {
        pv_rcu_offline();
    }
    return was;
}

static void online_after_wait(bool was)
{
    if (was) {
        pv_rcu_online();
    }
}

/* Lock held by the caller's caller; wait until every hart parked. */
static void wait_parked(PvCpus *c)
{
    bool was = offline_for_wait();
    pthread_mutex_lock(&c->lock);
    while (c->parked < c->n && atomic_load(&c->request) == REQ_PAUSE) {
        pthread_cond_wait(&c->cond, &c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    online_after_wait(was);
}

void pv_cpus_pause_wait(PvCpus *c)
{
    pv_assert_no_locks_held("pv_cpus_pause_wait");
    pv_cpus_pause(c, NULL, NULL);
    wait_parked(c);
}

void pv_cpus_hold(PvCpus *c)
{
    pv_assert_no_locks_held("pv_cpus_hold");
    pthread_mutex_lock(&c->lock);
    c->holds++;
    update_request(c);
    pthread_mutex_unlock(&c->lock);
    kick_all(c);
    wait_parked(c);
}

void pv_cpus_release(PvCpus *c)
{
    PvCpusWaiter *w = NULL;

    pthread_mutex_lock(&c->lock);
    c->holds--;
    update_request(c);
    if (atomic_load(&c->request) != REQ_PAUSE) {
        w = take_waiters(c);
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_waiters(w, false);
}

void pv_cpus_resume(PvCpus *c)
{
    PvCpusWaiter *w;

    pthread_mutex_lock(&c->lock);
    c->user_paused = false;
    update_request(c);
    /* Pending stop callbacks learn they were overtaken, unless the board
     * still holds the harts (then they park anyway and will be called). */
    w = atomic_load(&c->request) != REQ_PAUSE ? take_waiters(c) : NULL;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_waiters(w, false);
}

bool pv_cpus_paused(PvCpus *c)
{
    bool paused;
    pthread_mutex_lock(&c->lock);
    paused = c->user_paused && c->parked == c->n;
    pthread_mutex_unlock(&c->lock);
    return paused;
}

bool pv_cpus_user_paused(PvCpus *c)
{
    bool paused;
    pthread_mutex_lock(&c->lock);
    paused = c->user_paused;
    pthread_mutex_unlock(&c->lock);
    return paused;
}

void pv_cpus_exit(PvCpus *c)
{
    PvCpusWaiter *w;

    pthread_mutex_lock(&c->lock);
    c->exiting = true;
    update_request(c);
    w = take_waiters(c);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_waiters(w, false);
    kick_all(c);
    bool was = offline_for_wait();
    for (unsigned i = 0; i < c->n; i++) {
        pv_vcpu_join(&c->vcpus[i]);
    }
    online_after_wait(was);
}

void pv_cpus_destroy(PvCpus *c)
{
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
}
