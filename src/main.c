/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm: run a RISC-V guest on the virt board, QEMU's command-line style.
 *   parvm -machine virt -smp 2 -m 128M -bios none -kernel guest.elf -nographic
 */
#include <signal.h>
#include <stdio.h>

#include "machine/options.h"
#include "machine/virt.h"
#include "parvm/rcu.h"

int main(int argc, char **argv)
{
    PvOptions o;
    char err[512];

    if (pv_parse_options(argc, argv, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "parvm: %s\n", err);
        return 1;
    }
    if (o.help) {
        pv_print_help();
        pv_options_free(&o);
        return 0;
    }
    if (o.version) {
        puts("parvm " PARVM_VERSION);
        pv_options_free(&o);
        return 0;
    }
    /* A monitor client or console reader that goes away must not kill us
     * (QEMU ignores SIGPIPE too); writes just fail. */
    signal(SIGPIPE, SIG_IGN);
    pv_rcu_register_thread();
    int status = virt_machine_run(&o);
    pv_rcu_unregister_thread();
    pv_options_free(&o);
    return status;
}
