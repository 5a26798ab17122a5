/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * WAIT_FOR(cond, ms): poll @cond until it holds or @ms milliseconds pass;
 * true if it held.  The waiting thread stays a well-behaved RCU reader
 * (quiescent between polls), so grace periods go on meanwhile.
 */
#ifndef PARVM_TEST_WAIT_H
#define PARVM_TEST_WAIT_H

#include <stdbool.h>
#include <unistd.h>

#include "parvm/clock.h"
#include "parvm/rcu.h"

#define WAIT_FOR(cond, ms)                                                      \
    __extension__({                                                             \
        int64_t deadline_ = pv_clock_ns() + (int64_t)(ms) * PV_NS_PER_MS;       \
        bool ok_;                                                               \
        while (!(ok_ = (cond)) && pv_clock_ns() < deadline_) {                  \
            pv_rcu_quiescent();                                                 \
            usleep(100);                                                        \
        }                                                                       \
        ok_;                                                                    \
    })

#endif
