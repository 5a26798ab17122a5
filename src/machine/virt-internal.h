/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's state, shared by virt.c (assembly, the main thread's
 * loop) and virt-qmp.c (the monitor's commands).  Not for devices.
 */
#ifndef PARVM_MACHINE_VIRT_INTERNAL_H
#define PARVM_MACHINE_VIRT_INTERNAL_H

#include <stdatomic.h>

#include "../accel/cpus.h"
#include "../accel/vcpu.h"
#include "parvm/event-loop.h"
#include "parvm/hw/clint.h"
#include "parvm/hw/goldfish-rtc.h"
#include "parvm/hw/plic.h"
#include "parvm/hw/sifive-test.h"
#include "parvm/hw/uart.h"
#include "parvm/hw/virtio-mmio.h"
#include "parvm/qmp.h"
#include "virt-hotplug.h"
#include "virt-map.h"

/* What the main thread is asked to do (Virt.request). */
enum {
    VIRT_REQ_NONE,
    VIRT_REQ_GUEST_POWEROFF,    /* sifive_test 0x5555: exit 0 */
    VIRT_REQ_GUEST_EXIT,        /* sifive_test 0x3333: exit with exit_code */
    VIRT_REQ_GUEST_RESET,       /* sifive_test 0x7777 */
    VIRT_REQ_HOST_QUIT,         /* QMP quit: exit 0 */
    VIRT_REQ_HOST_RESET,        /* QMP system_reset */
};

/* query-status's "status". */
enum { VIRT_RUNNING, VIRT_PAUSED, VIRT_PRELAUNCH };

typedef struct Virt {
    PvVm vm;
    AddressSpace as;
    MemoryRegion root, ram, rom;
    PvEventLoop *loop;
    PvQmp *qmp;                 /* NULL without -qmp */
    unsigned nharts;
    PvVcpu *vcpus;
    PvCpus cpus;
    bool cpus_ready;
    PvIrq *mtip, *msip, *plic_out;
    PvClint *clint;
    PvPlic *plic;
    PvUart *uart;
    PvSifiveTest *test;
    PvGoldfishRtc *rtc;
    PvVirtioMmio *virtio[VIRT_VIRTIO_COUNT];
    VirtHotplug *hotplug;
    /* Set by devices (vCPU threads) and QMP commands (I/O thread); the
     * main thread acts on it and clears it. */
    atomic_int request;
    atomic_int exit_code;
    PvEventNotifier wakeup;     /* main waits on it */
    atomic_int status;          /* VIRT_RUNNING, ...; for query-status */
} Virt;

/* Any thread, never waits: ask the main thread to act. */
void virt_request(Virt *m, int req);

/* Register the machine's QMP commands.  Returns 0 or -errno. */
int virt_qmp_register(Virt *m);
/* Emit SHUTDOWN / RESET (any thread; no-op without a monitor). */
void virt_qmp_shutdown_event(Virt *m, bool guest, const char *reason);
void virt_qmp_reset_event(Virt *m, bool guest, const char *reason);

#endif
