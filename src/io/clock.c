/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "parvm/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

int64_t pv_clock_ns(void)
{
    struct timespec ts;

    /* Cannot fail for CLOCK_MONOTONIC with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * PV_NS_PER_SEC + ts.tv_nsec;
}

/* Written once under pthread_once, read-only afterwards. */
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;
static bool fast_tsc;
static uint64_t tsc_origin;
static uint64_t ns_per_tick_q32;    /* nanoseconds per TSC tick, 32.32 fixed point */

#if defined(__x86_64__)
/* The TSC counts at a constant rate in every power state only with both
 * flags; otherwise it is no clock. */
static bool tsc_invariant(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    bool constant = false, nonstop = false;

    if (!f) {
        return false;
    }
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "flags", 5)) {
            constant = strstr(line, " constant_tsc") != NULL;
            nonstop = strstr(line, " nonstop_tsc") != NULL;
            break;
        }
    }
    fclose(f);
    return constant && nonstop;
}

/* A (TSC, CLOCK_MONOTONIC) pair read as close together as we can manage:
 * the tightest of a few brackets. */
static void sample(uint64_t *tsc, int64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 8; i++) {
        uint64_t a = __rdtsc();
        int64_t n = pv_clock_ns();
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
}

static void calibrate(void)
{
    uint64_t t0 = 0, t1 = 0;
    int64_t n0 = 0, n1 = 0;
    struct timespec pause = { 0, 20 * 1000 * 1000 };

    if (!tsc_invariant()) {
        return;
    }
    sample(&t0, &n0);
    nanosleep(&pause, NULL);
    sample(&t1, &n1);
    if (t1 <= t0 || n1 <= n0) {
        return;
    }
    ns_per_tick_q32 = (uint64_t)((((unsigned __int128)(n1 - n0)) << 32) / (t1 - t0));
    tsc_origin = t0;
    fast_tsc = true;
}
#else
static void calibrate(void)
{
}
#endif

/* Set (release) once calibration is done: later calls skip pthread_once. */
static atomic_bool fast_ready;

int64_t pv_clock_fast_ns(void)
{
    if (__builtin_expect(!atomic_load_explicit(&fast_ready, memory_order_acquire), 0)) {
        pthread_once(&fast_once, calibrate);
        atomic_store_explicit(&fast_ready, true, memory_order_release);
    }
#if defined(__x86_64__)
    if (fast_tsc) {
        /* Not ordered against earlier loads (no lfence: it costs a third
         * of an mtime read).  One thread's reads never go back; across
         * harts a read may run a few ns early, less than one 100 ns tick,
         * within the skew the privileged spec lets a platform have between
         * its harts' time CSRs. */
        __extension__ unsigned __int128 t = (unsigned __int128)(__rdtsc() - tsc_origin);
        return (int64_t)((t * ns_per_tick_q32) >> 32);
    }
#endif
    return pv_clock_ns();
}
