/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

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

int pv_parse_options(int argc, char **argv, PvOptions *o, char *err, size_t len)
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
            "-machine", "-M", "-smp", "-m", "-bios", "-kernel", "-append", "-accel", "-qmp",
            NULL,
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
        }
    }
    return 0;
}

void pv_options_free(PvOptions *o)
{
    free(o->dumpdtb);
    o->dumpdtb = NULL;
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
           "  -accel parvm[,global-lock=all] all-global mode: every device under the\n"
           "                                global lock, for comparison (S12)\n"
           "  -qmp unix:PATH,server=on,wait=off | stdio\n"
           "                                QMP monitor (QEMU's protocol); several allowed\n"
           "  -S                            start with the harts paused (QMP cont runs them)\n"
           "  -nographic                    accepted; the console is always stdio\n"
           "  -version, -help\n"
           "The exit status is the guest's (sifive_test device), as with QEMU.\n",
           PV_VIRT_MAX_HARTS);
}
