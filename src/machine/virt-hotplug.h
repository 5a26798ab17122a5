/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hot-plug on the virt board (S9): device_add puts a device into a free
 * virtio-mmio slot and tells the guest through the hot-plug controller;
 * device_del asks the guest to let go; the guest's eject write returns only
 * once the device is gone; a guest that does not eject within the timeout
 * gets the device removed anyway, with the same guarantees.
 *
 * Who removes: the guest's vCPU thread (deferred to the end of its eject
 * write, pv_dispatch_defer), or the main thread (forced removal, or an eject
 * that arrived under a lock).  Never the I/O thread: removal waits for a
 * grace period, that is for every vCPU, and the I/O thread never waits on
 * a vCPU.
 */
#ifndef PARVM_MACHINE_VIRT_HOTPLUG_H
#define PARVM_MACHINE_VIRT_HOTPLUG_H

#include <stdint.h>

#include "options.h"

typedef struct Virt Virt;
typedef struct VirtHotplug VirtHotplug;

/* Create the controller, map it, register device_add/device_del.  Main
 * thread, before the harts run.  0 or -1. */
int virt_hotplug_init(Virt *m, const PvOptions *o);
/* Open the -drive backends, then create the -device devices, into slots
 * 7, 6, ... as on QEMU (present, no
 * hot-plug interrupt).  Main thread, after init, before the harts run.
 * 0, or -1 after printing a one-line error. */
int virt_hotplug_cold_plug(Virt *m, const PvOptions *o);
/* Board reset: every plugged device back to its reset state (virtio:
 * pv_virtio_reset).  Main thread, harts held, no lock held. */
void virt_hotplug_reset(Virt *m);
/* Main thread: do the removals handed to it.  Returns how many. */
unsigned virt_hotplug_run_pending(Virt *m);
/* Main thread, harts stopped: remove whatever is plugged; free. */
void virt_hotplug_destroy(Virt *m);

#endif
