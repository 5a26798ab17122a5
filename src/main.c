/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm: run a RISC-V guest on the virt board, QEMU's command-line style.
 *   parvm -machine virt -smp 2 -m 128M -bios none -kernel guest.elf -nographic
 */
#include <pthread.h>
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
    /* SIGINT, SIGTERM and SIGHUP end the machine cleanly (SHUTDOWN with
     * reason host-signal, exit 0, as QEMU): blocked here, before any thread
     * exists, so every thread inherits the mask and the main thread takes
     * them from a signalfd. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pv_rcu_register_thread();
    int status = virt_machine_run(&o);
    pv_rcu_unregister_thread();
    pv_options_free(&o);
    return status;
}
