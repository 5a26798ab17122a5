/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#include "parvm/block.h"
#include "parvm/device-work.h"

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* QEMU's -m: a number with an optional K/M/G/T suffix; no suffix is MiB. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') {
        return -1;
    }
    uint64_t v = strtoull(s, &end, 10);
    if (errno) {
        return -1;
    }
    unsigned shift;
    switch (*end) {
    case '\0': case 'M': case 'm': shift = 20; break;
    case 'K': case 'k': shift = 10; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    case 'B': case 'b': shift = 0; break;
    default: return -1;
    }
    if (*end && end[1] && !((end[1] == 'B' || end[1] == 'b' || end[1] == 'i') && !end[2])) {
        return -1;
    }
    if (v > (UINT64_MAX >> shift)) {
        return -1;
    }
    *out = v << shift;
    return 0;
}

static int parse_smp(const char *s, unsigned *out)
{
    if (!strncmp(s, "cpus=", 5)) {
        s += 5;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || (*end && *end != ',')) {
        return -1;
    }
    *out = (unsigned)(v > 100000 ? 100000 : v);
    return 0;
}

static int parse_machine(const char *s, PvOptions *o, char *err, size_t len)
{
    char *copy = strdup(s), *save = NULL;
    int ret = 0;
    if (!copy) {
        return fail(err, len, "out of memory");
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (tok == copy && strchr(tok, '=') == NULL) {
            if (strcmp(tok, "virt") != 0) {
                ret = fail(err, len, "-machine: unsupported machine '%s' (parvm has: virt)", tok);
                break;
            }
        } else if (!strncmp(tok, "type=", 5)) {
            if (strcmp(tok + 5, "virt") != 0) {
                ret = fail(err, len, "-machine: unsupported machine '%s' (parvm has: virt)", tok + 5);
                break;
            }
        } else if (!strncmp(tok, "hotplug-timeout=", 16)) {
            char *end;
            errno = 0;
            long long ms = strtoll(tok + 16, &end, 10);
            if (errno || end == tok + 16 || *end || ms < 1 || ms > 3600000) {
                ret = fail(err, len, "-machine: hotplug-timeout='%s' is not 1..3600000 ms",
                           tok + 16);
                break;
            }
            o->hotplug_timeout_ms = ms;
        } else if (!strncmp(tok, "dumpdtb=", 8) && tok[8]) {
            free(o->dumpdtb);
            o->dumpdtb = strdup(tok + 8);
        } else {
            ret = fail(err, len, "-machine: unknown property '%s'", tok);
            break;
        }
    }
    free(copy);
    return ret;
}

static int parse_accel(const char *s, PvOptions *o, char *err, size_t len)
{
    if (!strcmp(s, "parvm") || !strcmp(s, "tcg") || !strcmp(s, "tcg,thread=multi")) {
        return 0;
    }
    if (!strcmp(s, "parvm,global-lock=all")) {
        o->all_global = true;
        return 0;
    }
    if (!strcmp(s, "parvm,global-lock=per-region")) {
        o->all_global = false;
        return 0;
    }
    return fail(err, len, "-accel: unsupported '%s' (parvm has: parvm[,global-lock=all|per-region])", s);
}

/* ---- -drive, -device, -netdev -------------------------------------------- */

/* "ARG: message" -> "-OPT ARG: message", as QEMU names the option. */
static int prefix_fail(char *err, size_t len, const char *opt)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", err);
    snprintf(err, len, "%s %s", opt, tmp);
    return -1;
}

/* QEMU's key=value lists; a first item without '=' is @implied's value.
 * Calls @fn for each pair; stops at its first error. */
typedef int KvFunc(const char *key, const char *val, void *opaque, char *err, size_t len);

static int parse_kv(const char *arg, const char *implied, KvFunc *fn, void *opaque, char *err,
                    size_t len)
{
    char *copy = strdup(arg), *save = NULL;
    int ret = 0;
    if (!copy) {
        return fail(err, len, "out of memory");
    }
    for (char *tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq && tok == copy && implied) {
            ret = fn(implied, tok, opaque, err, len);
        } else if (!eq) {
            ret = fail(err, len, "%s: Invalid parameter '%s'", arg, tok);
        } else {
            *eq = '\0';
            ret = fn(tok, eq + 1, opaque, err, len);
        }
    }
    free(copy);
    return ret;
}

static int set_str(char **dst, const char *val)
{
    free(*dst);
    *dst = strdup(val);
    return *dst ? 0 : -1;
}

static int on_off(const char *val)
{
    return !strcmp(val, "on") ? 1 : !strcmp(val, "off") ? 0 : -1;
}

static int drive_kv(const char *key, const char *val, void *opaque, char *err, size_t len)
{
    PvDriveOpt *d = opaque;
    if (!strcmp(key, "file")) {
        return set_str(&d->file, val);
    }
    if (!strcmp(key, "id")) {
        return set_str(&d->id, val);
    }
    if (!strcmp(key, "format")) {
        return strcmp(val, "raw") ? fail(err, len, "%s: Unknown driver '%s' (parvm has: raw)",
                                         d->arg, val) : 0;
    }
    if (!strcmp(key, "if")) {
        return strcmp(val, "none") ? fail(err, len, "%s: parvm supports if=none only "
                                          "(attach the drive with -device virtio-blk-device,drive=ID)",
                                          d->arg) : 0;
    }
    if (!strcmp(key, "readonly") || !strcmp(key, "read-only")) {
        int v = on_off(val);
        if (v < 0) {
            return fail(err, len, "%s: Parameter 'read-only' expects 'on' or 'off'", d->arg);
        }
        d->readonly = v;
        return 0;
    }
    if (!strcmp(key, "aio")) {
        int e = pv_block_engine_parse(val);
        if (e < 0) {
            return fail(err, len, "%s: invalid aio option '%s' (parvm has: threads, io_uring)",
                        d->arg, val);
        }
        d->aio = e;
        return 0;
    }
    return fail(err, len, "%s: Block format 'raw' does not support the option '%s'", d->arg, key);
}

static const struct {
    const char *driver;
    const char *props[6];
} device_types[] = {
    { "virtio-blk-device", { "drive", "serial", "x-flow", NULL } },
    { "virtio-net-device", { "netdev", "mac", "x-flow", NULL } },
    { "parvm-testdev", { NULL } },
};

bool pv_device_driver_known(const char *driver)
{
    for (size_t i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++) {
        if (!strcmp(device_types[i].driver, driver)) {
            return true;
        }
    }
    return false;
}

bool pv_device_prop_known(const char *driver, const char *prop)
{
    if (!strcmp(prop, "id") || !strcmp(prop, "driver")) {
        return true;
    }
    for (size_t i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++) {
        if (!strcmp(device_types[i].driver, driver)) {
            for (const char *const *p = device_types[i].props; *p; p++) {
                if (!strcmp(*p, prop)) {
                    return true;
                }
            }
        }
    }
    return false;
}

static int device_kv(const char *key, const char *val, void *opaque, char *err, size_t len)
{
    PvDeviceOpt *d = opaque;
    if (!strcmp(key, "driver")) {
        if (!pv_device_driver_known(val) || !strcmp(val, "parvm-testdev")) {
            return fail(err, len, "%s: '%s' is not a valid device model name", d->arg, val);
        }
        return set_str(&d->driver, val);
    }
    if (!d->driver) {
        return fail(err, len, "%s: Parameter 'driver' is missing", d->arg);
    }
    if (!pv_device_prop_known(d->driver, key)) {
        return fail(err, len, "%s: Property '%s.%s' not found", d->arg, d->driver, key);
    }
    if (!strcmp(key, "x-flow")) {
        d->flow = pv_flow_parse(val);
        if (d->flow < 0) {
            return fail(err, len, "%s: x-flow='%s' (parvm has: trylock, queue, notify)", d->arg,
                        val);
        }
        return 0;
    }
    char **dst = !strcmp(key, "id")       ? &d->id
                 : !strcmp(key, "drive")  ? &d->drive
                 : !strcmp(key, "serial") ? &d->serial
                 : !strcmp(key, "netdev") ? &d->netdev
                                          : &d->mac;
    return set_str(dst, val);
}

static int netdev_kv(const char *key, const char *val, void *opaque, char *err, size_t len)
{
    PvNetdevOpt *n = opaque;
    (void)err;
    (void)len;
    if (!strcmp(key, "type")) {
        return set_str(&n->type, val);
    }
    if (!strcmp(key, "id")) {
        return set_str(&n->id, val);
    }
    return 0;                   /* the backend's own: the network code checks them */
}

/* After every option is read (as QEMU, -drive and -netdev may come after the
 * -device that uses them). */
static int check_devices(PvOptions *o, char *err, size_t len)
{
    for (unsigned i = 0; i < o->ndrives; i++) {
        PvDriveOpt *d = &o->drives[i];
        if (!d->file) {
            return fail(err, len, "-drive %s: parvm needs file=PATH", d->arg);
        }
        if (!d->id) {
            return fail(err, len, "-drive %s: parvm needs id=ID (attach it with -device "
                        "virtio-blk-device,drive=ID)", d->arg);
        }
        for (unsigned j = 0; j < i; j++) {
            if (!strcmp(o->drives[j].id, d->id)) {
                return fail(err, len, "-drive %s: Duplicate ID '%s' for drive", d->arg, d->id);
            }
        }
    }
    for (unsigned i = 0; i < o->nnetdevs; i++) {
        PvNetdevOpt *n = &o->netdevs[i];
        if (!n->type) {
            return fail(err, len, "-netdev %s: Parameter 'type' is missing", n->arg);
        }
        if (!n->id) {
            return fail(err, len, "-netdev %s: Parameter 'id' is missing", n->arg);
        }
        for (unsigned j = 0; j < i; j++) {
            if (!strcmp(o->netdevs[j].id, n->id)) {
                return fail(err, len, "-netdev %s: Duplicate ID '%s' for netdev", n->arg, n->id);
            }
        }
    }
    for (unsigned i = 0; i < o->ndevices; i++) {
        PvDeviceOpt *d = &o->devices[i];
        for (unsigned j = 0; d->id && j < i; j++) {
            if (o->devices[j].id && !strcmp(o->devices[j].id, d->id)) {
                return fail(err, len, "-device %s: Duplicate ID '%s' for device", d->arg, d->id);
            }
        }
        if (!strcmp(d->driver, "virtio-blk-device")) {
            if (!d->drive) {
                return fail(err, len, "-device %s: drive property not set", d->arg);
            }
            bool found = false;
            for (unsigned j = 0; j < o->ndrives; j++) {
                found |= !strcmp(o->drives[j].id, d->drive);
            }
            if (!found) {
                return fail(err, len, "-device %s: Property 'virtio-blk-device.drive' can't find value '%s'",
                            d->arg, d->drive);
            }
            for (unsigned j = 0; j < i; j++) {
                if (o->devices[j].drive && !strcmp(o->devices[j].drive, d->drive)) {
                    return fail(err, len, "-device %s: Drive '%s' is already in use by another device",
                                d->arg, d->drive);
                }
            }
        } else if (!strcmp(d->driver, "virtio-net-device") && d->netdev) {
            bool found = false;
            for (unsigned j = 0; j < o->nnetdevs; j++) {
                found |= !strcmp(o->netdevs[j].id, d->netdev);
            }
            if (!found) {
                return fail(err, len,
                            "-device %s: Property 'virtio-net-device.netdev' can't find value '%s'",
                            d->arg, d->netdev);
            }
            for (unsigned j = 0; j < i; j++) {
                if (o->devices[j].netdev && !strcmp(o->devices[j].netdev, d->netdev)) {
                    return fail(err, len, "-device %s: Property 'virtio-net-device.netdev' can't take "
                                "value '%s', it's in use", d->arg, d->netdev);
                }
            }
        }
    }
    return 0;
}

static int parse_options(int argc, char **argv, PvOptions *o, char *err, size_t len)
{
    *o = (PvOptions){ .smp = 1, .ram_size = 128ull << 20, .bios = "default",
                      .hotplug_timeout_ms = 5000 };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* QEMU accepts both -opt and --opt. */
        if (a[0] == '-' && a[1] == '-') {
            a++;
        }
        if (!strcmp(a, "-help") || !strcmp(a, "-h")) {
            o->help = true;
            continue;
        }
        if (!strcmp(a, "-version")) {
            o->version = true;
            continue;
        }
        if (!strcmp(a, "-nographic")) {
            continue;   /* the console is the terminal already */
        }
        if (!strcmp(a, "-S")) {
            o->start_paused = true;
            continue;
        }
        static const char *const with_arg[] = {
            "-machine", "-M", "-smp", "-m", "-bios", "-kernel", "-append", "-initrd", "-accel", "-qmp",
            "-drive", "-device", "-netdev", NULL,
        };
        bool known = false;
        for (const char *const *w = with_arg; *w; w++) {
            known |= !strcmp(a, *w);
        }
        if (!known) {
            return fail(err, len, "unknown option '%s' (try --help)", argv[i]);
        }
        if (i + 1 >= argc) {
            return fail(err, len, "option '%s' needs an argument", argv[i]);
        }
        const char *v = argv[++i];
        if (!strcmp(a, "-machine") || !strcmp(a, "-M")) {
            if (parse_machine(v, o, err, len) < 0) {
                return -1;
            }
        } else if (!strcmp(a, "-smp")) {
            if (parse_smp(v, &o->smp) < 0) {
                return fail(err, len, "-smp: '%s' is not a number of CPUs", v);
            }
            if (o->smp < 1 || o->smp > PV_VIRT_MAX_HARTS) {
                return fail(err, len, "-smp: %s CPUs requested, the virt board supports 1 to %d",
                            v, PV_VIRT_MAX_HARTS);
            }
        } else if (!strcmp(a, "-m")) {
            if (parse_size(v, &o->ram_size) < 0) {
                return fail(err, len, "-m: '%s' is not a memory size (e.g. 128M, 1G)", v);
            }
            if (o->ram_size < (1u << 20) || o->ram_size > (64ull << 30)) {
                return fail(err, len, "-m: %s is outside 1M..64G", v);
            }
        } else if (!strcmp(a, "-bios")) {
            o->bios = v;
        } else if (!strcmp(a, "-kernel")) {
            o->kernel = v;
        } else if (!strcmp(a, "-append")) {
            o->append = v;
        } else if (!strcmp(a, "-initrd")) {
            o->initrd = v;
        } else if (!strcmp(a, "-qmp")) {
            if (o->nqmp == sizeof(o->qmp) / sizeof(o->qmp[0])) {
                return fail(err, len, "-qmp: at most %zu monitors",
                            sizeof(o->qmp) / sizeof(o->qmp[0]));
            }
            o->qmp[o->nqmp++] = v;
        } else if (!strcmp(a, "-accel")) {
            if (parse_accel(v, o, err, len) < 0) {
                return -1;
            }
        } else if (!strcmp(a, "-drive")) {
            if (o->ndrives == PV_MAX_DRIVES) {
                return fail(err, len, "-drive %s: at most %d drives", v, PV_MAX_DRIVES);
            }
            PvDriveOpt *d = &o->drives[o->ndrives++];
            *d = (PvDriveOpt){ .arg = v, .aio = PV_BLOCK_ENGINE_AUTO };
            if (parse_kv(v, NULL, drive_kv, d, err, len) < 0) {
                return prefix_fail(err, len, "-drive");
            }
        } else if (!strcmp(a, "-device")) {
            if (o->ndevices == PV_MAX_DEVICES) {
                return fail(err, len, "-device %s: no free virtio-mmio slot (the virt board has %d)",
                            v, PV_MAX_DEVICES);
            }
            PvDeviceOpt *d = &o->devices[o->ndevices++];
            *d = (PvDeviceOpt){ .arg = v, .flow = -1 };
            if (parse_kv(v, "driver", device_kv, d, err, len) < 0) {
                return prefix_fail(err, len, "-device");
            }
            if (!d->driver) {
                return fail(err, len, "-device %s: Parameter 'driver' is missing", v);
            }
        } else if (!strcmp(a, "-netdev")) {
            if (o->nnetdevs == PV_MAX_NETDEVS) {
                return fail(err, len, "-netdev %s: at most %d network backends", v,
                            PV_MAX_NETDEVS);
            }
            PvNetdevOpt *n = &o->netdevs[o->nnetdevs++];
            *n = (PvNetdevOpt){ .arg = v };
            if (parse_kv(v, "type", netdev_kv, n, err, len) < 0) {
                return prefix_fail(err, len, "-netdev");
            }
        }
    }
    if (o->initrd && !o->kernel) {
        return fail(err, len, "-initrd only allowed with -kernel option");
    }
    return check_devices(o, err, len);
}

int pv_parse_options(int argc, char **argv, PvOptions *o, char *err, size_t len)
{
    if (parse_options(argc, argv, o, err, len) < 0) {
        pv_options_free(o);     /* the caller frees only what succeeded */
        return -1;
    }
    return 0;
}

void pv_options_free(PvOptions *o)
{
    free(o->dumpdtb);
    o->dumpdtb = NULL;
    for (unsigned i = 0; i < o->ndrives; i++) {
        free(o->drives[i].id);
        free(o->drives[i].file);
    }
    for (unsigned i = 0; i < o->ndevices; i++) {
        PvDeviceOpt *d = &o->devices[i];
        free(d->driver);
        free(d->id);
        free(d->drive);
        free(d->serial);
        free(d->netdev);
        free(d->mac);
    }
    for (unsigned i = 0; i < o->nnetdevs; i++) {
        free(o->netdevs[i].type);
        free(o->netdevs[i].id);
    }
    o->ndrives = o->ndevices = o->nnetdevs = 0;
}

void pv_print_help(void)
{
    printf("usage: parvm [options]\n"
           "  -machine virt[,dumpdtb=FILE][,hotplug-timeout=MS]\n"
           "                                the board (QEMU's riscv64 virt); dumpdtb writes\n"
           "                                the device tree to FILE and exits; a device_del\n"
           "                                the guest ignores is forced after MS (5000)\n"
           "  -smp N                        harts, one host thread each (1..%d)\n"
           "  -m SIZE                       RAM at 0x80000000 (default 128M)\n"
           "  -bios none|default|FILE       firmware (default: Debian's OpenSBI fw_jump)\n"
           "  -kernel FILE                  ELF or raw image to boot\n"
           "  -append STRING                kernel command line (/chosen/bootargs)\n"
           "  -initrd FILE                  initial RAM disk, placed as QEMU places it\n"
           "  -accel parvm[,global-lock=all] all-global mode: every device under the\n"
           "                                global lock, for comparison (S12)\n"
           "  -qmp unix:PATH,server=on,wait=off | stdio\n"
           "                                QMP monitor (QEMU's protocol); several allowed\n"
           "  -S                            start with the harts paused (QMP cont runs them)\n"
           "  -drive file=PATH,format=raw,if=none,id=ID[,readonly=on][,aio=io_uring|threads]\n"
           "                                a raw disk image, attached with -device\n"
           "  -device virtio-blk-device,drive=ID[,id=DEVID][,serial=S][,x-flow=F]\n"
           "                                a virtio-blk disk (virtio-mmio Version 2); the first\n"
           "                                -device takes slot 7, the next slot 6 (as QEMU);\n"
           "                                x-flow=trylock|queue|notify: how the I/O thread gets\n"
           "                                the device lock (default trylock)\n"
           "  -device virtio-net-device[,netdev=ID][,mac=MAC][,id=DEVID]\n"
           "  -netdev TYPE,id=ID[,...]      a network backend for virtio-net-device\n"
           "  -nographic                    accepted; the console is always stdio\n"
           "  -version, -help\n"
           "The exit status is the guest's (sifive_test device), as with QEMU.\n",
           PV_VIRT_MAX_HARTS);
}
