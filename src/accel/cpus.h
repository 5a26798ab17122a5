/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run control of a machine's vCPUs: start, pause (every hart parked at an
 * instruction boundary, holding no lock, RCU offline), resume, and exit.
 * Everything is done by kicking the harts out of their run loops or WFI
 * sleeps; nothing polls.
 *
 * The I/O thread must never wait on a vCPU, so pausing has an asynchronous
 * form: pv_cpus_pause() returns at once and calls back when the last hart
 * has parked (on that hart's thread, or on the caller's if they already
 * were).  The main thread may use pv_cpus_pause_wait().
 */
#ifndef PARVM_ACCEL_CPUS_H
#define PARVM_ACCEL_CPUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "vcpu.h"

typedef void PvCpusPausedFunc(void *opaque, bool paused);

typedef struct PvCpusWaiter PvCpusWaiter;

typedef struct PvCpus {
    PvVcpu *vcpus;
    unsigned n;
    /* A leaf: taken by parking vCPUs (which hold nothing else) and by
     * callers of the functions below; no pv lock is taken under it.  A
     * plain pthread mutex because vCPUs sleep on its condition. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_int request;         /* run / pause / exit: derived from the
                                   two below; written under lock */
    bool user_paused;           /* pv_cpus_pause/resume (QMP stop/cont) */
    unsigned holds;             /* pv_cpus_hold/release (the board's reset) */
    bool exiting;
    unsigned parked;            /* under lock */
    PvCpusWaiter *waiters;      /* pause callbacks not yet called; under lock */
} PvCpus;

/* @vcpus (@n of them) must be initialised (pv_vcpu_init).  Starts nothing. */
void pv_cpus_init(PvCpus *c, PvVcpu *vcpus, unsigned n);
/* Start one thread per vCPU, running, or parked when @paused (-S).
 * Returns 0 or an errno value (then no thread runs). */
int pv_cpus_start(PvCpus *c, bool paused);

/* [any thread, no pv lock held] Ask every hart to park; @done(@opaque,
 * true) runs once all are parked, or (@opaque, false) if pv_cpus_resume()
 * or pv_cpus_exit() came first.  Never waits. */
void pv_cpus_pause(PvCpus *c, PvCpusPausedFunc *done, void *opaque);
/* [not the I/O thread, not a vCPU; no pv lock held] Pause and wait until
 * every hart is parked. */
void pv_cpus_pause_wait(PvCpus *c);
/* [any thread] Let parked harts run again (unless the board holds them). */
void pv_cpus_resume(PvCpus *c);
/*
 * [the main thread; no pv lock held] Park every hart for the board's own
 * work (a reset) and wait until they are; pv_cpus_resume() cannot undo a
 * hold, only pv_cpus_release() does, so a QMP cont during a reset cannot
 * run a hart being reset.  The user's paused state is kept across.
 */
void pv_cpus_hold(PvCpus *c);
void pv_cpus_release(PvCpus *c);
bool pv_cpus_paused(PvCpus *c);
/* [any thread] Whether a pause was asked for and not resumed (parked or
 * not yet): what QMP's query-status reports. */
bool pv_cpus_user_paused(PvCpus *c);
/* [not a vCPU] Make every hart leave and join the threads. */
void pv_cpus_exit(PvCpus *c);
void pv_cpus_destroy(PvCpus *c);

#endif
