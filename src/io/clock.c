/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "parvm/clock.h"

#include <time.h>

int64_t pv_clock_ns(void)
{
    struct timespec ts;

    /* Cannot fail for CLOCK_MONOTONIC with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * PV_NS_PER_SEC + ts.tv_nsec;
}
