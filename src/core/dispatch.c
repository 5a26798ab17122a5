/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dispatch (S2-S6): from an address to a device's handler, lock-free up to
 * the lock the region's dispatch mode asks for.  include/parvm/dispatch.h
 * describes the flow; docs/architecture.md the rules behind it.
 */
#include "parvm/dispatch.h"
#include "parvm/device-work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatview.h"
#include "region-stats.h"

#define PV_DISPATCH_MAX_DEPTH 8

/* Devices whose handlers are running on this thread, outermost first. */
static __thread struct {
    PvDevice *dev[PV_DISPATCH_MAX_DEPTH];
    unsigned depth;
} dispatch_stack;

/* Last range hit by this thread.  Only a hint: the range is re-checked
 * against the current view, so a stale entry costs a search, never a
 * wrong answer; the generation makes a hit on a new view unlikely. */
static __thread struct {
    uint64_t generation;
    unsigned long idx;
} lookup_cache;

static const char *const status_names[PV_ACCESS__COUNT] = {
    [PV_ACCESS_OK] = "ok",
    [PV_ACCESS_UNASSIGNED] = "unassigned",
    [PV_ACCESS_DEVICE_ERROR] = "device-error",
    [PV_ACCESS_REENTRANT] = "refused-reentrant",
    [PV_ACCESS_LOCK_BUSY] = "refused-lock-busy",
};

const char *pv_access_status_name(PvAccessStatus s)
{
    return (unsigned)s < PV_ACCESS__COUNT ? status_names[s] : "?";
}

unsigned pv_dispatch_depth(void)
{
    return dispatch_stack.depth;
}

/* Work deferred by handlers on this thread, oldest first. */
static __thread struct {
    PvDeferred *head, **tail;
} deferred;

void pv_dispatch_defer(PvDeferred *d)
{
    if (dispatch_stack.depth == 0) {
        fprintf(stderr, "parvm: pv_dispatch_defer outside a dispatch\n");
        abort();
    }
    d->next = NULL;
    if (!deferred.head) {
        deferred.tail = &deferred.head;
    }
    *deferred.tail = d;
    deferred.tail = &d->next;
}

/* The outermost dispatch is over: run what handlers deferred. */
static void __attribute__((noinline)) run_deferred(void)
{
    while (deferred.head) {
        PvDeferred *d = deferred.head;
        deferred.head = d->next;
        d->fn(d->opaque, pv_locks_held() == 0);
    }
}

static inline void after_dispatch(void)
{
    if (__builtin_expect(deferred.head != NULL, 0) && dispatch_stack.depth == 0) {
        run_deferred();
    }
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static inline bool is_pow2(unsigned x)
{
    return x && !(x & (x - 1));
}

static inline unsigned pow2_floor(unsigned x)
{
    return 1u << (31 - __builtin_clz(x));
}

static inline const FlatRange *lookup(const FlatView *fv, hwaddr addr)
{
    unsigned long idx = lookup_cache.idx;
    if (lookup_cache.generation == fv->generation && idx < fv->nr_ranges) {
        const FlatRange *fr = &fv->ranges[idx];
        if (addr >= fr->start && addr <= fr->last) {
            return fr;
        }
    }
    long i = flatview_find(fv, addr);
    if (i < 0) {
        return NULL;
    }
    lookup_cache.generation = fv->generation;
    lookup_cache.idx = (unsigned long)i;
    return &fv->ranges[i];
}

/* Bytes from @addr to the next mapped range, at most @limit and never past
 * the top of the address space. */
static unsigned gap_length(const FlatView *fv, hwaddr addr, unsigned limit)
{
    if (addr && limit - 1 > UINT64_MAX - addr) {
        limit = (unsigned)(UINT64_MAX - addr) + 1;
    }
    long lo = 0, hi = (long)fv->nr_ranges;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (fv->ranges[mid].start <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < (long)fv->nr_ranges && fv->ranges[lo].start - addr < limit) {
        return (unsigned)(fv->ranges[lo].start - addr);
    }
    return limit;
}

/* ---- RAM ----------------------------------------------------------------- */

/*
 * Guest RAM is shared with harts running on other threads: every access to
 * it is a relaxed atomic load or store (whole when aligned, else byte by
 * byte), so that a device's DMA racing a hart is a guest race, not a host
 * one.  On x86-64 these are plain moves.
 */
static void ram_read(const uint8_t *p, unsigned size, uint64_t *val)
{
    if (is_pow2(size) && !((uintptr_t)p & (size - 1))) {
        switch (size) {
        case 1: *val = __atomic_load_n(p, __ATOMIC_RELAXED); return;
        case 2: *val = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); return;
        case 4: *val = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED); return;
        case 8: *val = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); return;
        }
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {   /* little-endian, as the guest */
        v |= (uint64_t)__atomic_load_n(p + i, __ATOMIC_RELAXED) << (8 * i);
    }
    *val = v;
}

static void ram_write(uint8_t *p, unsigned size, uint64_t val)
{
    if (is_pow2(size) && !((uintptr_t)p & (size - 1))) {
        switch (size) {
        case 1: __atomic_store_n(p, (uint8_t)val, __ATOMIC_RELAXED); return;
        case 2: __atomic_store_n((uint16_t *)p, (uint16_t)val, __ATOMIC_RELAXED); return;
        case 4: __atomic_store_n((uint32_t *)p, (uint32_t)val, __ATOMIC_RELAXED); return;
        case 8: __atomic_store_n((uint64_t *)p, val, __ATOMIC_RELAXED); return;
        }
    }
    for (unsigned i = 0; i < size; i++) {
        __atomic_store_n(p + i, (uint8_t)(val >> (8 * i)), __ATOMIC_RELAXED);
    }
}

/* DMA between guest RAM and a private host buffer, in the same spirit:
 * 8-byte atomics where the guest side is aligned, bytes elsewhere. */
void pv_ram_copy(uint8_t *guest, uint8_t *buf, size_t n, bool to_guest)
{
    size_t i = 0;
    while (i < n) {
        if (!((uintptr_t)(guest + i) & 7) && n - i >= 8) {
            uint64_t v;
            if (to_guest) {
                memcpy(&v, buf + i, 8);
                __atomic_store_n((uint64_t *)(guest + i), v, __ATOMIC_RELAXED);
            } else {
                v = __atomic_load_n((const uint64_t *)(guest + i), __ATOMIC_RELAXED);
                memcpy(buf + i, &v, 8);
            }
            i += 8;
        } else {
            if (to_guest) {
                __atomic_store_n(guest + i, buf[i], __ATOMIC_RELAXED);
            } else {
                buf[i] = __atomic_load_n(guest + i, __ATOMIC_RELAXED);
            }
            i++;
        }
    }
}

/* ---- device ops, adapted to the sizes the region accepts --------------- */

static PvAccessStatus ops_call(const MemoryRegion *mr, hwaddr off, unsigned size,
                               uint64_t *val, bool is_write)
{
    const MemoryRegionOps *ops = mr->ops;
    if (is_write) {
        return ops->write ? ops->write(mr->opaque, off, size, *val & size_mask(size))
                          : PV_ACCESS_DEVICE_ERROR;
    }
    if (!ops->read) {
        return PV_ACCESS_DEVICE_ERROR;
    }
    uint64_t v = 0;
    PvAccessStatus st = ops->read(mr->opaque, off, size, &v);
    *val = v & size_mask(size);
    return st;
}

/*
 * Split an access the device does not accept into naturally aligned pieces
 * it does.  A piece narrower than the device's minimum is widened to the
 * enclosing minimum-size word as QEMU does: a read reads the word and keeps
 * the bytes asked for; a write writes the word with the value shifted into
 * place and zeros elsewhere, without reading first (a read could have side
 * effects, and the device may have no read op at all).
 */
static PvAccessStatus ops_access(const MemoryRegion *mr, hwaddr off, unsigned size,
                                 uint64_t *val, bool is_write)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
    unsigned max = ops->impl.max_access_size ? ops->impl.max_access_size : 8;
    bool unaligned = ops->impl.unaligned;

    if (is_pow2(size) && size >= min && size <= max && (unaligned || !(off & (size - 1)))) {
        return ops_call(mr, off, size, val, is_write);
    }

    uint64_t in = is_write ? *val : 0, out = 0;
    PvAccessStatus st = PV_ACCESS_OK;
    for (unsigned done = 0; done < size;) {
        hwaddr pos = off + done;
        unsigned s = pow2_floor(size - done < max ? size - done : max);
        if (!unaligned || s < min) {
            while (pos & (s - 1)) {
                s >>= 1;
            }
        }
        uint64_t piece = (in >> (8 * done)) & size_mask(s);
        PvAccessStatus r;
        if (s >= min) {
            r = ops_call(mr, pos, s, &piece, is_write);
        } else {
            hwaddr base = pos & ~(hwaddr)(min - 1);
            unsigned sh = (unsigned)(pos - base) * 8;
            uint64_t wide = piece << sh;
            r = ops_call(mr, base, min, &wide, is_write);
            piece = (wide >> sh) & size_mask(s);
        }
        out |= piece << (8 * done);
        if (r != PV_ACCESS_OK) {
            st = r;
        }
        done += s;
    }
    if (!is_write) {
        *val = out;
    }
    return st;
}

/* ---- MMIO ------------------------------------------------------------- */

static PvAccessStatus io_access(MemoryRegion *mr, hwaddr off, unsigned size,
                                uint64_t *val, bool is_write)
{
    PvDevice *dev = mr->owner;
    PvVm *vm = mr->vm;
    unsigned depth = dispatch_stack.depth;
    PvAccessStatus st;

    /* S6: a handler whose work reaches its own device again (directly or
     * through another device) is refused instead of deadlocking on its own
     * lock or recursing; lockless regions get the same guard. */
    for (unsigned i = 0; i < depth; i++) {
        if (dispatch_stack.dev[i] == dev) {
            pv_guest_error(vm, "re-entrant %s of \"%s\" at offset 0x%llx refused",
                           is_write ? "write" : "read", mr->name, (unsigned long long)off);
            st = PV_ACCESS_REENTRANT;
            goto out;
        }
    }
    if (depth == PV_DISPATCH_MAX_DEPTH) {
        pv_guest_error(vm, "access to \"%s\" nested %u deep refused", mr->name, depth);
        st = PV_ACCESS_REENTRANT;
        goto out;
    }

    /*
     * S4 and S12.  A device-mode region runs under its device's lock, and
     * in all-global mode under the global lock as well: the device's other
     * paths (I/O thread, timers) still take only its own lock, so dropping
     * it would race them.  Order: device lock, then global lock.
     */
    PvMutex *taken_global = NULL;
    bool taken_dev = false;
    bool all_global = pv_vm_all_global(vm);
    if (mr->mode == PV_DISPATCH_DEVICE) {
        /* S5: global lock -> device lock is forbidden; only trylock.  And
         * device lock -> device lock would let the guest choose the lock
         * order (its DMA addresses pick the target), so two harts could
         * deadlock two devices: nested device locks are only tried too. */
        if (pv_lock_kinds_held() & (1u << PV_LOCK_KIND_GLOBAL | 1u << PV_LOCK_KIND_DEVICE)) {
            if (!pv_device_trylock(dev)) {
                pv_guest_error(vm, "access to \"%s\" from under another lock: device busy",
                               mr->name);
                st = PV_ACCESS_LOCK_BUSY;
                goto out;
            }
        } else {
            pv_device_lock(dev);
        }
        taken_dev = true;
    }
    if (mr->mode == PV_DISPATCH_GLOBAL || all_global) {
        /* A caller that already holds the global lock (a global-mode
         * handler doing DMA, or a vCPU exit that needs it) runs the handler
         * under that same hold: the lock is not recursive. */
        if (!pv_mutex_held(&vm->global_lock)) {
            pv_mutex_lock(&vm->global_lock);
            taken_global = &vm->global_lock;
        }
    }

    dispatch_stack.dev[depth] = dev;
    dispatch_stack.depth = depth + 1;
    /* G1/G3: checked under the mode's lock, or for lockless regions inside
     * the read-side section that unrealize's grace period waits for. */
    if (pv_device_is_removed(dev)) {
        st = PV_ACCESS_UNASSIGNED;
    } else {
        st = ops_access(mr, off, size, val, is_write);
    }
    if (taken_global) {
        pv_mutex_unlock(taken_global);
    }
    if (taken_dev) {
        /* Runs work the I/O thread queued for the device (S8 flow 2) while
         * the device is still on this thread's stack, so that the work's
         * own accesses to it are refused as re-entrant. */
        pv_device_unlock(dev);
    }
    dispatch_stack.depth = depth;

out:
    region_stats_count(mr->stats, st);
    if (st != PV_ACCESS_OK && !is_write) {
        *val = size_mask(size);
    }
    return st;
}

/* S2 notifiers: a matching write signals the eventfd instead of ops. */
static bool notify(const FlatView *fv, hwaddr addr, unsigned size, uint64_t val)
{
    long lo = 0, hi = (long)fv->nr_eventfds;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (fv->eventfds[mid].addr < addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (long i = lo; i < (long)fv->nr_eventfds && fv->eventfds[i].addr == addr; i++) {
        const FlatEventfd *e = &fv->eventfds[i];
        if (e->size == size && (!e->match_data || e->data == (val & size_mask(size))) &&
            !pv_device_is_removed(e->mr->owner)) {
            pv_event_notifier_set(e->e);
            region_stats_count(e->mr->stats, PV_ACCESS_OK);
            return true;
        }
    }
    return false;
}

/* An access wholly inside @fr. */
static PvAccessStatus range_access(const FlatView *fv, const FlatRange *fr, hwaddr addr,
                                   unsigned size, uint64_t *val, bool is_write)
{
    MemoryRegion *mr = fr->mr;
    hwaddr off = fr->offset + (addr - fr->start);

    if (mr->kind == MR_KIND_RAM) {
        if (is_write) {
            if (!mr->readonly) {
                ram_write(mr->ram + off, size, *val);
            }
        } else {
            ram_read(mr->ram + off, size, val);
        }
        region_stats_count(mr->stats, PV_ACCESS_OK);
        return PV_ACCESS_OK;
    }
    if (is_write && fv->nr_eventfds && notify(fv, addr, size, *val)) {
        return PV_ACCESS_OK;
    }
    return io_access(mr, off, size, val, is_write);
}

/* An access that crosses range boundaries or touches unassigned space:
 * each piece goes to its own region; the first failure is reported. */
static PvAccessStatus split_access(AddressSpace *as, const FlatView *fv, hwaddr addr,
                                   unsigned size, uint64_t *val, bool is_write)
{
    uint64_t in = is_write ? *val : 0, out = 0;
    PvAccessStatus st = PV_ACCESS_OK;

    for (unsigned done = 0; done < size;) {
        hwaddr pos = addr + done;
        unsigned rem = size - done, n;
        uint64_t piece;
        PvAccessStatus r;
        /* Past the top of the address space nothing is mapped: an access
         * never wraps around to address 0. */
        const FlatRange *fr = done > 0 && pos == 0 ? NULL : lookup(fv, pos);
        if (fr) {
            n = fr->last - pos < rem ? (unsigned)(fr->last - pos) + 1 : rem;
            piece = (in >> (8 * done)) & size_mask(n);
            r = range_access(fv, fr, pos, n, &piece, is_write);
        } else {
            n = done > 0 && pos == 0 ? rem : gap_length(fv, pos, rem);
            piece = size_mask(n);
            r = PV_ACCESS_UNASSIGNED;
            region_stats_count(as->unassigned_stats, r);
        }
        out |= (piece & size_mask(n)) << (8 * done);
        if (r != PV_ACCESS_OK && st == PV_ACCESS_OK) {
            st = r;
        }
        done += n;
    }
    if (!is_write) {
        *val = out;
    }
    return st;
}

static inline void check_caller(AddressSpace *as, unsigned size)
{
#ifdef PV_LOCK_VALIDATOR
    if (!pv_rcu_reader_online()) {
        fprintf(stderr, "parvm: dispatch on \"%s\" from a thread that is not an online "
                        "RCU reader\n", as->name);
        abort();
    }
#else
    (void)as;
#endif
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        fprintf(stderr, "parvm: dispatch of size %u\n", size);
        abort();
    }
}

static inline PvAccessStatus dispatch(AddressSpace *as, hwaddr addr, unsigned size,
                                      uint64_t *val, bool is_write)
{
    check_caller(as, size);
    const FlatView *fv = pv_rcu_deref(as->current);
    for (unsigned tries = 0;; tries++) {
        const FlatRange *fr = lookup(fv, addr);
        if (__builtin_expect(!fr || size - 1 > fr->last - addr, 0)) {
            return split_access(as, fv, addr, size, val, is_write);
        }
        PvAccessStatus st = range_access(fv, fr, addr, size, val, is_write);
        /*
         * UNASSIGNED from a mapped range means the device was removed
         * between our lookup and its lock (G3: refused whole).  Removal
         * publishes the view without it before it marks the device, so a
         * newer view exists now: run the access there, as if it had
         * started after the removal (G1), where the slot's empty transport
         * (or nothing) answers, as on QEMU.  Bounded, in case removals
         * keep coming.
         */
        if (__builtin_expect(st != PV_ACCESS_UNASSIGNED, 1) || tries == 3) {
            return st;
        }
        const FlatView *now = pv_rcu_deref(as->current);
        if (now == fv) {
            return st;
        }
        fv = now;
    }
}

PvAccessStatus address_space_read(AddressSpace *as, hwaddr addr, unsigned size, uint64_t *val)
{
    PvAccessStatus st = dispatch(as, addr, size, val, false);
    after_dispatch();
    return st;
}

PvAccessStatus address_space_write(AddressSpace *as, hwaddr addr, unsigned size, uint64_t val)
{
    PvAccessStatus st = dispatch(as, addr, size, &val, true);
    after_dispatch();
    return st;
}

PvAccessStatus address_space_rw(AddressSpace *as, hwaddr addr, void *buf, size_t len,
                                bool is_write)
{
    check_caller(as, 1);
    const FlatView *fv = pv_rcu_deref(as->current);
    uint8_t *p = buf;
    PvAccessStatus st = PV_ACCESS_OK;

    for (size_t done = 0; done < len;) {
        hwaddr pos = addr + done;
        size_t rem = len - done, n;
        PvAccessStatus r = PV_ACCESS_OK;
        bool wrapped = done > 0 && pos == 0;
        const FlatRange *fr = wrapped ? NULL : lookup(fv, pos);

        if (fr && fr->mr->kind == MR_KIND_RAM) {
            n = fr->last - pos < rem ? (size_t)(fr->last - pos) + 1 : rem;
            uint8_t *host = fr->mr->ram + fr->offset + (pos - fr->start);
            if (!is_write || !fr->mr->readonly) {
                pv_ram_copy(host, p + done, n, is_write);
            }
            region_stats_count(fr->mr->stats, PV_ACCESS_OK);
        } else if (fr) {
            /* Naturally aligned pieces of up to 8 bytes, within the range. */
            unsigned s = rem < 8 ? pow2_floor((unsigned)rem) : 8;
            while (pos & (s - 1)) {
                s >>= 1;
            }
            while (s - 1 > fr->last - pos) {
                s >>= 1;
            }
            n = s;
            uint64_t v = 0;
            if (is_write) {
                memcpy(&v, p + done, s);
            }
            r = range_access(fv, fr, pos, s, &v, is_write);
            if (!is_write) {
                memcpy(p + done, &v, s);
            }
        } else {
            n = wrapped ? rem : gap_length(fv, pos, rem > 4096 ? 4096 : (unsigned)rem);
            if (!is_write) {
                memset(p + done, 0xff, n);
            }
            r = PV_ACCESS_UNASSIGNED;
            region_stats_count(as->unassigned_stats, r);
        }
        if (r != PV_ACCESS_OK && st == PV_ACCESS_OK) {
            st = r;
        }
        done += n;
    }
    after_dispatch();
    return st;
}

uint8_t *address_space_ram_ptr(AddressSpace *as, hwaddr addr, bool for_write, hwaddr *avail)
{
    const FlatView *fv = pv_rcu_deref(as->current);
    const FlatRange *fr = lookup(fv, addr);

    if (!fr || fr->mr->kind != MR_KIND_RAM || (for_write && fr->mr->readonly)) {
        return NULL;
    }
    if (avail) {
        *avail = fr->last - addr + 1;
    }
    return fr->mr->ram + fr->offset + (addr - fr->start);
}
