/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host clock that every timer of parvm runs on.
 *
 * CLOCK_MONOTONIC in nanoseconds: never jumps with the wall clock, so the
 * CLINT's mtime and the event loop's timer deadlines stay consistent.
 * Lock-free and callable from any thread (it is one vDSO call).
 */
#ifndef PARVM_CLOCK_H
#define PARVM_CLOCK_H

#include <stdint.h>

#define PV_NS_PER_SEC INT64_C(1000000000)
#define PV_NS_PER_MS INT64_C(1000000)
#define PV_NS_PER_US INT64_C(1000)

/* Host CLOCK_MONOTONIC, nanoseconds.  Any thread, no lock. */
int64_t pv_clock_ns(void);

/*
 * A cheaper clock for reads on hot paths (the CLINT's mtime, read by harts
 * millions of times a second): the x86-64 TSC scaled to nanoseconds, its
 * rate calibrated against CLOCK_MONOTONIC once (the first call takes about
 * 20 ms); plain CLOCK_MONOTONIC where the TSC is not invariant or the host
 * is not x86-64.  It runs at CLOCK_MONOTONIC's rate to within a few ppm but
 * from its own origin: take differences of it, never compare it with
 * pv_clock_ns() values.  Any thread, no lock.
 */
int64_t pv_clock_fast_ns(void);

#endif
