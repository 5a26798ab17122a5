/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slow paths of guest loads and stores: TLB misses, MMIO, misaligned
 * accesses and accesses that cross a page.
 *
 * Misaligned accesses are performed (as QEMU does for RAM), byte by byte
 * and not atomically.  Both pages of a crossing access are translated
 * before any byte is stored, so a page or PMP fault leaves memory
 * untouched.  Guest RAM is shared with other harts, so every host access
 * to it is an __atomic one (relaxed: plain moves on x86 and arm64), which
 * keeps guest data races from being host data races.
 */
#include "internal.h"

static uint64_t host_load(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return __atomic_load_n(p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
    }
}

static void host_store(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: __atomic_store_n(p, (uint8_t)v, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED);
        break;
    case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED);
        break;
    default: __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); break;
    }
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
}

/* One translated piece of an access: n bytes at va, within one page. */
typedef struct Piece {
    uint64_t va, pa;
    uint8_t *host;
    unsigned n;
} Piece;

/* On failure, raise an access fault at the byte that failed. */
static bool piece_read(RiscvHart *h, const Piece *p, uint64_t *v)
{
    uint64_t r = 0;
    if (p->host) {
        for (unsigned i = 0; i < p->n; i++)
            r |= host_load(p->host + i, 1) << (8 * i);
    } else {
        for (unsigned i = 0; i < p->n; i++) {
            uint64_t b;
            if (h->bus.mmio_read(h->bus.opaque, p->pa + i, 1, &b) != 0) {
                hart_raise(h, EXC_LOAD_ACCESS, p->va + i);
                return false;
            }
            r |= (b & 0xff) << (8 * i);
        }
    }
    *v = r;
    return true;
}

static bool piece_write(RiscvHart *h, const Piece *p, uint64_t v)
{
    for (unsigned i = 0; i < p->n; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (p->host)
            host_store(p->host + i, 1, b);
        else if (h->bus.mmio_write(h->bus.opaque, p->pa + i, 1, b) != 0) {
            hart_raise(h, EXC_STORE_ACCESS, p->va + i);
            return false;
        }
    }
    return true;
}

/* Splits [va, va+size) at the page boundary and translates the pieces.
 * A fault reports the address of the piece that faulted (priv. spec
 * 3.1.16, and QEMU): an OS that demand-pages must see the second page's
 * address when only the second page is missing, or it would retry the
 * access forever. */
static unsigned split(RiscvHart *h, uint64_t va, unsigned size,
                      RiscvAccess access, Piece pieces[2])
{
    uint64_t to_end = PAGE_SIZE - (va & ~PAGE_MASK);
    unsigned first = size <= to_end ? size : (unsigned)to_end;
    unsigned count = first == size ? 1 : 2;

    pieces[0].va = va;
    pieces[0].n = first;
    pieces[1].va = va + first;
    pieces[1].n = size - first;
    for (unsigned i = 0; i < count; i++) {
        if (!riscv_mmu_access(h, pieces[i].va, pieces[i].n, access,
                              &pieces[i].pa, &pieces[i].host))
            return 0;
    }
    return count;
}

bool riscv_load_slow(RiscvHart *h, uint64_t va, unsigned size, uint64_t *v)
{
    if (!(va & (size - 1))) {
        uint64_t pa;
        uint8_t *host;
        if (!riscv_mmu_access(h, va, size, RISCV_ACCESS_READ, &pa, &host))
            return false;
        if (host) {
            *v = host_load(host, size);
            return true;
        }
        uint64_t val = 0;
        if (h->bus.mmio_read(h->bus.opaque, pa, size, &val) != 0) {
            hart_raise(h, EXC_LOAD_ACCESS, va);
            return false;
        }
        *v = val & size_mask(size);
        return true;
    }

    Piece pieces[2];
    unsigned count = split(h, va, size, RISCV_ACCESS_READ, pieces);
    if (!count)
        return false;
    uint64_t lo, hi = 0;
    if (!piece_read(h, &pieces[0], &lo) ||
        (count == 2 && !piece_read(h, &pieces[1], &hi)))
        return false;
    *v = lo | (count == 2 ? hi << (8 * pieces[0].n) : 0);
    return true;
}

bool riscv_store_slow(RiscvHart *h, uint64_t va, unsigned size, uint64_t v)
{
    if (!(va & (size - 1))) {
        uint64_t pa;
        uint8_t *host;
        if (!riscv_mmu_access(h, va, size, RISCV_ACCESS_WRITE, &pa, &host))
            return false;
        if (host) {
            host_store(host, size, v);
            return true;
        }
        if (h->bus.mmio_write(h->bus.opaque, pa, size, v & size_mask(size))
            != 0) {
            hart_raise(h, EXC_STORE_ACCESS, va);
            return false;
        }
        return true;
    }

    Piece pieces[2];
    unsigned count = split(h, va, size, RISCV_ACCESS_WRITE, pieces);
    if (!count)
        return false;
    /* MMIO that fails part-way leaves the bytes before it written, as
     * on QEMU (RAM faults are found by split() before anything is). */
    if (!piece_write(h, &pieces[0], v) ||
        (count == 2 && !piece_write(h, &pieces[1], v >> (8 * pieces[0].n))))
        return false;
    return true;
}

bool riscv_fetch16(RiscvHart *h, uint64_t va, uint32_t *parcel)
{
    uint64_t pa;
    uint8_t *host;

    if (!riscv_mmu_access(h, va, 2, RISCV_ACCESS_EXEC, &pa, &host))
        return false;
    if (!host) {
        hart_raise(h, EXC_INSN_ACCESS, va);
        return false;
    }
    *parcel = (uint32_t)host_load(host, 2);
    return true;
}
