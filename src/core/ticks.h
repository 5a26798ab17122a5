/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cheap timestamps for the lock profiler.  On x86-64 the TSC (a few ns to
 * read, invariant on the machines we target); elsewhere CLOCK_MONOTONIC.
 * Ticks become nanoseconds only when a profile is read.
 */
#ifndef PARVM_CORE_TICKS_H
#define PARVM_CORE_TICKS_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t pv_ticks(void)
{
    return __rdtsc();
}
#else
static inline uint64_t pv_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Convert a tick count to nanoseconds; calibrates once (about 10 ms). */
uint64_t pv_ticks_to_ns(uint64_t ticks);

#endif
