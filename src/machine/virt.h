/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board: QEMU's riscv64 `virt` machine as far as parvm has its
 * devices.  One host thread per hart, the I/O thread for the console and
 * timers, and the main thread waiting for the guest to ask to stop.
 */
#ifndef PARVM_MACHINE_VIRT_H
#define PARVM_MACHINE_VIRT_H

#include "options.h"

/*
 * Build the machine from @o, run it until the guest powers off or exits
 * through the sifive_test device, and tear it down.  Returns the process
 * exit status: the guest's, or 1 after printing a one-line error.
 * The calling thread must be a registered RCU reader.
 */
int virt_machine_run(const PvOptions *o);

#endif
