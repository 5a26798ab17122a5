/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whole file in memory; images are at most RAM-sized. */
static uint8_t *read_file(const char *path, uint64_t limit, size_t *size, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f) {
        fail(err, len, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fail(err, len, "cannot read: %s", strerror(errno));
        goto out;
    }
    if ((uint64_t)n > limit) {
        fail(err, len, "%ld bytes do not fit in %" PRIu64 " bytes of RAM", n, limit);
        goto out;
    }
    buf = malloc(n ? (size_t)n : 1);
    if (!buf) {
        fail(err, len, "out of memory");
        goto out;
    }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fail(err, len, "cannot read: %s", ferror(f) ? strerror(errno) : "short read");
        free(buf);
        buf = NULL;
        goto out;
    }
    *size = (size_t)n;
out:
    fclose(f);
    return buf;
}

static bool in_ram(const PvGuestRam *ram, uint64_t addr, uint64_t size)
{
    return addr >= ram->base && addr - ram->base <= ram->size &&
           size <= ram->size - (addr - ram->base);
}

static int load_elf(const uint8_t *buf, size_t size, const PvGuestRam *ram, PvImage *out,
                    char *err, size_t len)
{
    Elf64_Ehdr eh;

    if (size < EI_NIDENT || buf[EI_CLASS] != ELFCLASS64) {
        return fail(err, len, "not a 64-bit ELF file");
    }
    if (size < sizeof(eh)) {
        return fail(err, len, "truncated ELF header");
    }
    memcpy(&eh, buf, sizeof(eh));
    if (buf[EI_DATA] != ELFDATA2LSB) {
        return fail(err, len, "not a little-endian ELF file");
    }
    if (eh.e_machine != EM_RISCV) {
        return fail(err, len, "not a RISC-V ELF file (e_machine %u)", eh.e_machine);
    }
    if (eh.e_type != ET_EXEC) {
        return fail(err, len, "not an executable ELF file (e_type %u)", eh.e_type);
    }
    if (eh.e_phnum == 0 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
        return fail(err, len, "no usable program headers");
    }
    if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff) {
        return fail(err, len, "truncated: program headers past the end of the file");
    }

    /* Check every segment before copying any, so a bad file changes nothing. */
    unsigned loads = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            memcpy(&ph, buf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
            if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
                continue;
            }
            if (pass == 0) {
                if (ph.p_filesz > ph.p_memsz) {
                    return fail(err, len, "segment %u: file size larger than memory size", i);
                }
                if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset) {
                    return fail(err, len, "truncated: segment %u extends past the end of the file", i);
                }
                if (!in_ram(ram, ph.p_paddr, ph.p_memsz)) {
                    return fail(err, len,
                                "segment %u at 0x%" PRIx64 " (0x%" PRIx64 " bytes) is outside RAM "
                                "0x%" PRIx64 "-0x%" PRIx64, i, (uint64_t)ph.p_paddr,
                                (uint64_t)ph.p_memsz, ram->base, ram->base + ram->size - 1);
                }
                loads++;
                continue;
            }
            uint8_t *dst = ram->host + (ph.p_paddr - ram->base);
            memcpy(dst, buf + ph.p_offset, ph.p_filesz);
            memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
            out->low = ph.p_paddr < out->low ? ph.p_paddr : out->low;
            out->high = ph.p_paddr + ph.p_memsz > out->high ? ph.p_paddr + ph.p_memsz : out->high;
        }
        if (loads == 0) {
            return fail(err, len, "no loadable segment");
        }
    }
    out->is_elf = true;
    out->entry = eh.e_entry;
    return 0;
}

static int copy_raw(const uint8_t *buf, size_t size, const PvGuestRam *ram, uint64_t addr,
                    PvImage *out, char *err, size_t len)
{
    if (size == 0) {
        return fail(err, len, "empty file");
    }
    if (size > ram->size || !in_ram(ram, addr, size)) {
        return fail(err, len, "%zu bytes at 0x%" PRIx64 " do not fit in RAM", size, addr);
    }
    memcpy(ram->host + (addr - ram->base), buf, size);
    *out = (PvImage){ .is_elf = false, .entry = addr, .low = addr, .high = addr + size };
    return 0;
}

int pv_load_image(const char *path, const PvGuestRam *ram, uint64_t raw_addr, PvImage *out,
                  char *err, size_t len)
{
    size_t size = 0;
    /* A kernel with debug info may be larger than RAM; only what is loaded
     * must fit.  4 GiB bounds what we read into memory. */
    uint8_t *buf = read_file(path, UINT64_C(4) << 30, &size, err, len);
    int ret;

    if (!buf) {
        return -1;
    }
    *out = (PvImage){ .low = UINT64_MAX, .high = 0 };
    if (size >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG)) {
        ret = load_elf(buf, size, ram, out, err, len);
    } else {
        ret = copy_raw(buf, size, ram, raw_addr, out, err, len);
    }
    free(buf);
    return ret;
}

int pv_load_raw(const char *path, const PvGuestRam *ram, uint64_t addr, PvImage *out,
                char *err, size_t len)
{
    size_t size = 0;
    /* Only what fits between @addr and the end of RAM is worth reading. */
    uint64_t room = addr >= ram->base && addr - ram->base < ram->size
                        ? ram->size - (addr - ram->base) : 0;
    uint8_t *buf = read_file(path, room, &size, err, len);

    if (!buf) {
        return -1;
    }
    int ret = copy_raw(buf, size, ram, addr, out, err, len);
    free(buf);
    return ret;
}
