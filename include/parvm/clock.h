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

#endif
