/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parvm command line.  The I/O core is in place; the virt board and its
 * harts come next ([harts]), and with them -machine, -smp, -m, -bios and
 * -kernel.  Until then parvm only answers --help and --version and refuses
 * everything else with a one-line error, as it will for unknown options.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: parvm [options]\n"
          "  --help, -h        this text\n"
          "  --version         print the version\n"
          "The virt board (-machine virt, -smp, -m, -bios, -kernel) is not built yet:\n"
          "today parvm is the I/O core and its benchmark (bench/dispatch).\n",
          out);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "-help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-version")) {
            puts("parvm " PARVM_VERSION);
            return 0;
        }
        fprintf(stderr, "parvm: unknown option '%s' (try --help)\n", argv[i]);
        return 1;
    }
    usage(stderr);
    return 1;
}
