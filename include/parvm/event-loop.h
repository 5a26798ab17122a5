/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O thread's event loop (S8): one epoll loop run by one thread, with
 * fd handlers, timers on the host monotonic clock (clock.h) and bottom
 * halves.
 *
 * Threads.  pv_event_loop_start() spawns "the I/O thread", which runs every
 * callback of the loop.  It is a registered RCU reader (rcu.h): online
 * while callbacks run (so they may dispatch, e.g. DMA), offline while it
 * sleeps in epoll_wait, quiescent after every iteration.  Every other
 * function here may be called from any thread, including device handlers in
 * every dispatch mode and the I/O thread's own callbacks, unless it says
 * otherwise.
 *
 * Locks.  The loop has one internal lock, a leaf of kind PV_LOCK_KIND_CORE:
 * the functions below take it briefly and take no other lock under it, so a
 * caller may hold the global lock, a device lock or any other core lock.
 * Callbacks run on the I/O thread with NO lock held; they may take the
 * global lock or a device lock (blocking) and may call every function here.
 *
 * Waiting.  Nothing in the loop waits on a vCPU.  Only pv_timer_del(),
 * pv_timer_free(), pv_bh_free() and pv_event_loop_quiesce() ever wait: for a
 * callback of the loop that is running right now, on another thread, to
 * return.  So they must not be called while holding a lock that such a
 * callback takes (a device handler must use pv_timer_cancel() instead), and
 * callbacks must never wait for an RCU grace period.  Called from the I/O
 * thread itself they never wait.
 */
#ifndef PARVM_EVENT_LOOP_H
#define PARVM_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct PvEventLoop PvEventLoop;
typedef struct PvTimer PvTimer;
typedef struct PvBH PvBH;

typedef void PvEventFunc(void *opaque);

/* ---- the loop ---------------------------------------------------------- */

/* NULL if the epoll, eventfd or timerfd cannot be created. */
PvEventLoop *pv_event_loop_new(void);
/*
 * The loop must be stopped (or never started), and every timer and bottom
 * half of it freed.  fd handlers still registered are dropped (their fds are
 * not closed).  Not from the I/O thread.
 */
void pv_event_loop_free(PvEventLoop *loop);

/* Spawn the I/O thread.  Returns 0 or -errno (-EBUSY if already running). */
int pv_event_loop_start(PvEventLoop *loop);
/*
 * Ask the I/O thread to stop after its current iteration and join it.  Not
 * from the I/O thread; the caller must hold no lock that a callback takes.
 * The loop may be started again; timers and handlers stay registered.
 */
void pv_event_loop_stop(PvEventLoop *loop);

/* Whether the calling thread is @loop's I/O thread. */
bool pv_event_loop_in_io_thread(const PvEventLoop *loop);

/*
 * Wait until every callback of @loop that had started before this call has
 * returned (a callback started later may be running when it returns).  Used
 * after pv_event_loop_set_fd(fd, NULL, NULL, ...) before freeing the
 * handler's opaque.  Returns at once on the I/O thread.  See "Waiting".
 */
void pv_event_loop_quiesce(PvEventLoop *loop);

/* ---- fd handlers ------------------------------------------------------- */

/*
 * Call @on_read when @fd is readable (or hung up / in error) and @on_write
 * when it is writable, level-triggered, on the I/O thread.  Replaces the
 * handlers @fd had; (NULL, NULL) removes them.  Never waits: a callback that
 * already started may still be running when it returns (see
 * pv_event_loop_quiesce()), and a removed or replaced handler may still be
 * called once if its event was already fetched, so handlers must tolerate
 * spurious calls (use non-blocking fds).  Remove a handler before closing
 * its fd.  Returns 0 or -errno (e.g. -EPERM for a regular file).
 */
int pv_event_loop_set_fd(PvEventLoop *loop, int fd, PvEventFunc *on_read,
                         PvEventFunc *on_write, void *opaque);

/* ---- timers ------------------------------------------------------------ */

/* A disarmed timer that will call @cb(@opaque) on the I/O thread.  NULL on
 * allocation failure. */
PvTimer *pv_timer_new(PvEventLoop *loop, PvEventFunc *cb, void *opaque);
/*
 * (Re)arm @t to fire once at @deadline_ns on pv_clock_ns()'s clock (a
 * deadline in the past fires at once).  Timers with equal deadlines fire in
 * the order they were armed.  Never waits.
 */
void pv_timer_mod(PvTimer *t, int64_t deadline_ns);
/* Disarm without waiting: a callback already running may still finish.
 * The one to use from device handlers.  Never waits. */
void pv_timer_cancel(PvTimer *t);
/*
 * Disarm and, off the I/O thread, wait until a running callback of @t has
 * returned: when it returns the callback is not running and will not run
 * unless re-armed.  See "Waiting".
 */
void pv_timer_del(PvTimer *t);
/* pv_timer_del(), then free.  NULL is a no-op. */
void pv_timer_free(PvTimer *t);
/* Whether @t is armed (racy by nature; for tests and statistics). */
bool pv_timer_pending(PvTimer *t);

/* ---- bottom halves ----------------------------------------------------- */

/* A bottom half: @cb(@opaque) runs once on the I/O thread after each
 * pv_bh_schedule() (several schedules before it runs count as one). */
PvBH *pv_bh_new(PvEventLoop *loop, PvEventFunc *cb, void *opaque);
/* Any thread, never waits: takes only the leaf lock and kicks the loop. */
void pv_bh_schedule(PvBH *bh);
/* Unschedule, wait for a running callback of @bh (see "Waiting"), free.
 * NULL is a no-op. */
void pv_bh_free(PvBH *bh);

#endif
