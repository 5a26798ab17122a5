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

typedef struct PvOptions {
    unsigned smp;               /* harts, 1..PV_VIRT_MAX_HARTS */
    uint64_t ram_size;          /* bytes */
    const char *bios;           /* "none", "default" or a file */
    const char *kernel;         /* NULL: none */
    const char *append;         /* kernel command line, NULL: none */
    char *dumpdtb;              /* -machine virt,dumpdtb=FILE: write the DTB and exit */
    int64_t hotplug_timeout_ms; /* -machine virt,hotplug-timeout=MS: forced removal */
    bool all_global;            /* -accel parvm,global-lock=all: S12 */
    const char *qmp[4];         /* -qmp SPEC, up to four */
    unsigned nqmp;
    bool start_paused;          /* -S */
    bool help, version;
} PvOptions;

/*
 * Parse argv into @o.  On a bad or unknown option, writes a one-line message
 * naming it into @err and returns -1.
 */
int pv_parse_options(int argc, char **argv, PvOptions *o, char *err, size_t errlen);
void pv_options_free(PvOptions *o);
void pv_print_help(void);

#endif
