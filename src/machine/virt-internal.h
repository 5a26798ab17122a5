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

/* What the main thread is asked to do: bits of Virt.request, so that no
 * request overwrites another; exits win over resets. */
enum {
    VIRT_REQ_EXIT = 1 << 0,         /* guest poweroff or exit, QMP quit */
    VIRT_REQ_GUEST_RESET = 1 << 1,  /* sifive_test 0x7777 */
    VIRT_REQ_HOST_RESET = 1 << 2,   /* QMP system_reset */
};


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
    atomic_int exit_code;       /* -1 until the first exit request sets it */
    PvEventNotifier wakeup;     /* main waits on it */
    int signal_fd;              /* SIGINT/SIGTERM/SIGHUP, or -1 */
    /* -S and no cont yet: query-status says "prelaunch".  Otherwise the
     * run control's own state says "running" or "paused", so the two can
     * never disagree. */
    atomic_bool prelaunch;
} Virt;

/* Any thread, never waits: ask the main thread to act. */
void virt_request(Virt *m, int req);
/* Any thread: ask to exit with @status; the first exit request's status
 * sticks (as QEMU, whose first sifive_test write ends the process). */
void virt_request_exit(Virt *m, int status);

/* Register the machine's QMP commands.  Returns 0 or -errno. */
int virt_qmp_register(Virt *m);
/* Emit SHUTDOWN / RESET (any thread; no-op without a monitor). */
void virt_qmp_shutdown_event(Virt *m, bool guest, const char *reason);
void virt_qmp_reset_event(Virt *m, bool guest, const char *reason);

#endif
