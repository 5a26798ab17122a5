/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "harness.h"

#include "parvm/rcu.h"

int pv_test_failures;

int pv_test_run(const PvTestCase *cases, size_t n)
{
    int failed = 0;

    /* Every test thread that dispatches is an RCU reader; so is main. */
    pv_rcu_register_thread();
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        int before = pv_test_failures;
        cases[i].fn();
        pv_rcu_quiescent();
        bool ok = pv_test_failures == before;
        printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1, cases[i].name);
        fflush(stdout);
        failed += !ok;
    }
    pv_rcu_barrier();
    pv_rcu_unregister_thread();
    return failed ? 1 : 0;
}
