/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal TAP test harness: each test case is a function; CHECK records a
 * failure with its location and the case goes on, so one run shows every
 * broken assertion.  meson runs the programs with protocol 'tap'.
 */
#ifndef PARVM_TEST_HARNESS_H
#define PARVM_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

extern int pv_test_failures;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            pv_test_failures++;                                                 \
        }                                                                       \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                      \
    do {                                                                        \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                        \
        if (a_ != b_) {                                                         \
            printf("# %s:%d: %s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64 "\n", \
                   __FILE__, __LINE__, #a, a_, #b, b_);                         \
            pv_test_failures++;                                                 \
        }                                                                       \
    } while (0)

typedef struct PvTestCase {
    const char *name;
    void (*fn)(void);
} PvTestCase;

/* Runs every case, prints TAP, returns the process exit status. */
int pv_test_run(const PvTestCase *cases, size_t n);

#define PV_TEST_MAIN(...)                                                       \
    int main(void)                                                              \
    {                                                                           \
        static const PvTestCase cases_[] = { __VA_ARGS__ };                     \
        return pv_test_run(cases_, sizeof(cases_) / sizeof(cases_[0]));         \
    }

#define TEST(fn) { #fn, fn }

#endif
