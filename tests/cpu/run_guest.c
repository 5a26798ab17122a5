/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs a bare-metal RISC-V test program on the test machine and exits with
 * its verdict: 0 when the guest wrote 0x5555 to the sifive_test device.
 * The guest programs report a failure as (line << 16) | 0x3333.
 *
 *   run_guest [--harts N] [--timeout S] [--expect TEXT] program.elf
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

int main(int argc, char **argv)
{
    unsigned harts = 1;
    double timeout = 60;
    const char *expect = NULL, *path = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--harts") && i + 1 < argc)
            harts = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "run_guest: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: run_guest [--harts N] program.elf\n");
        return 2;
    }
    TestMachine *m = tm_new(64ull << 20, harts, TM_RAM_BASE);
    if (!m) {
        fprintf(stderr, "run_guest: cannot create a %u-hart machine\n", harts);
        return 2;
    }
    m->echo = true;
    uint64_t entry;
    if (!tm_load_elf(m, path, &entry)) {
        tm_free(m);
        return 2;
    }
    for (unsigned i = 0; i < harts; i++) {
        riscv_hart_set_pc(m->harts[i], entry);
        riscv_hart_set_x(m->harts[i], 10, i); /* a0 = hart id */
    }
    int code = tm_run(m, timeout);
    int rc = 0;
    if (code == -1) {
        printf("\nFAIL: timeout after %.0f s (pc %#llx)\n", timeout,
               (unsigned long long)riscv_hart_get_pc(m->harts[0]));
        rc = 1;
    } else if (code != 0) {
        printf("\nFAIL: guest reported failure at line %d\n", code);
        rc = 1;
    } else if (expect && (!m->out || !strstr(m->out, expect))) {
        printf("\nFAIL: output lacks \"%s\"\n", expect);
        rc = 1;
    } else {
        printf("\nPASS (%llu instructions on hart 0)\n",
               (unsigned long long)riscv_hart_get_instret(m->harts[0]));
    }
    tm_free(m);
    return rc;
}
