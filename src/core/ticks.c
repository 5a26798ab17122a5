/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ticks.h"

#include <pthread.h>

static pthread_once_t calib_once = PTHREAD_ONCE_INIT;
static double ns_per_tick = 1.0;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void calibrate(void)
{
#if defined(__x86_64__)
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    uint64_t n0 = mono_ns(), t0 = pv_ticks();
    nanosleep(&pause, NULL);
    uint64_t n1 = mono_ns(), t1 = pv_ticks();
    if (t1 > t0) {
        ns_per_tick = (double)(n1 - n0) / (double)(t1 - t0);
    }
#endif
}

uint64_t pv_ticks_to_ns(uint64_t ticks)
{
    pthread_once(&calib_once, calibrate);
    return (uint64_t)((double)ticks * ns_per_tick);
}
