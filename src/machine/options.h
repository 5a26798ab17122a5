/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line, QEMU's conventions where parvm has the feature.
 */
#ifndef PARVM_MACHINE_OPTIONS_H
#define PARVM_MACHINE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PV_VIRT_MAX_HARTS 64
#define PV_MAX_DRIVES 16
#define PV_MAX_DEVICES 8        /* the virt board's virtio-mmio slots */
#define PV_MAX_NETDEVS 8

/* -drive file=PATH,format=raw,if=none,id=ID[,readonly=on][,aio=threads|io_uring] */
typedef struct PvDriveOpt {
    const char *arg;            /* the option's text, for messages */
    char *id, *file;
    bool readonly;
    int aio;                    /* PvBlockEngine */
} PvDriveOpt;

/* -device DRIVER,prop=value,...  Known drivers and their properties are
 * checked at parse time (pv_device_prop_known). */
typedef struct PvDeviceOpt {
    const char *arg;
    char *driver;
    char *id;                   /* NULL: none */
    char *drive;                /* virtio-blk-device */
    char *serial;               /* virtio-blk-device: GET_ID (default: drive id) */
    char *netdev, *mac;         /* virtio-net-device */
    int flow;                   /* x-flow=trylock|queue|notify (PvFlow); -1: default */
} PvDeviceOpt;

/* -netdev TYPE,id=ID,...: the backend's own options are parsed by the
 * network code from @arg. */
typedef struct PvNetdevOpt {
    const char *arg;
    char *type, *id;
} PvNetdevOpt;

typedef struct PvOptions {
    unsigned smp;               /* harts, 1..PV_VIRT_MAX_HARTS */
    uint64_t ram_size;          /* bytes */
    const char *bios;           /* "none", "default" or a file */
    const char *kernel;         /* NULL: none */
    const char *append;         /* kernel command line, NULL: none */
    const char *initrd;         /* initial RAM disk, NULL: none */
    char *dumpdtb;              /* -machine virt,dumpdtb=FILE: write the DTB and exit */
    int64_t hotplug_timeout_ms; /* -machine virt,hotplug-timeout=MS: forced removal */
    bool all_global;            /* -accel parvm,global-lock=all: S12 */
    const char *qmp[4];         /* -qmp SPEC, up to four */
    unsigned nqmp;
    bool start_paused;          /* -S */
    PvDriveOpt drives[PV_MAX_DRIVES];
    unsigned ndrives;
    PvDeviceOpt devices[PV_MAX_DEVICES];    /* in command-line order */
    unsigned ndevices;
    PvNetdevOpt netdevs[PV_MAX_NETDEVS];
    unsigned nnetdevs;
    bool help, version;
} PvOptions;

/*
 * Parse argv into @o.  On a bad or unknown option, writes a one-line message
 * naming it into @err and returns -1.
 */
int pv_parse_options(int argc, char **argv, PvOptions *o, char *err, size_t errlen);
void pv_options_free(PvOptions *o);

/* Whether @driver is a device parvm can create (-device, device_add), and
 * whether it has property @prop ("id" and "driver" included). */
bool pv_device_driver_known(const char *driver);
bool pv_device_prop_known(const char *driver, const char *prop);
void pv_print_help(void);

#endif
