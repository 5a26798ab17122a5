/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues (virtio 1.2 section 2.7), device side: see
 * include/parvm/virtio/virtqueue.h and docs/virtio.md.
 *
 * Guest memory is reached only through address_space_ram_ptr(), checked on
 * every access (the map may change between two pops), and read or written
 * with relaxed atomics, because the driver on another hart touches the same
 * bytes: a guest race stays a guest race, never a host data race.  Ring
 * indices are 16-bit fields read and written whole (the rings are checked
 * to be naturally aligned), so that the driver's idx update cannot be seen
 * torn.
 */
#include "parvm/virtio/virtqueue.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/dispatch.h"

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
/* avail->flags and used->flags (2.7.7, 2.7.10). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

#define DESC_SIZE 16u

/* Offsets inside the rings. */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING(i) (4u + 2u * (i))
#define USED_FLAGS 0u
#define USED_IDX 2u
#define USED_RING(i) (4u + 8u * (i))

typedef struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} Desc;

static bool mark_broken(PvVirtqueue *vq, const char *why)
{
    if (!vq->broken) {
        vq->broken = true;
        vq->broken_why = why;
    }
    return false;
}

/* ---- guest RAM access ---------------------------------------------------- */

/* Host pointer to @len bytes at @addr, all in one RAM range, or NULL. */
static uint8_t *ram_range(AddressSpace *as, uint64_t addr, uint64_t len, bool for_write)
{
    hwaddr avail = 0;
    uint8_t *p;

    if (len == 0 || addr + len - 1 < addr) {
        return NULL;
    }
    p = address_space_ram_ptr(as, addr, for_write, &avail);
    return p && avail >= len ? p : NULL;
}

static bool load16(AddressSpace *as, uint64_t addr, uint16_t *val)
{
    const uint8_t *p = ram_range(as, addr, 2, false);

    if (!p || ((uintptr_t)p & 1)) {
        return false;
    }
    *val = le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
    return true;
}

static bool store16(AddressSpace *as, uint64_t addr, uint16_t val)
{
    uint8_t *p = ram_range(as, addr, 2, true);

    if (!p || ((uintptr_t)p & 1)) {
        return false;
    }
    __atomic_store_n((uint16_t *)p, htole16(val), __ATOMIC_RELAXED);
    return true;
}

/*
 * Copy @len bytes between guest-physical @addr and @buf, across as many RAM
 * ranges as it spans.  Returns the bytes copied: short if the range leaves
 * RAM (the map changed since the element was validated).
 */
static size_t guest_copy(AddressSpace *as, uint64_t addr, void *buf, size_t len, bool to_guest)
{
    size_t done = 0;

    while (done < len) {
        hwaddr avail = 0;
        uint8_t *p = address_space_ram_ptr(as, addr + done, to_guest, &avail);
        if (!p || avail == 0) {
            break;
        }
        size_t n = len - done < avail ? len - done : (size_t)avail;
        pv_ram_copy(p, (uint8_t *)buf + done, n, to_guest);
        done += n;
    }
    return done;
}

/* Whether [@addr, @addr + @len) is RAM all along (writable if asked). */
static bool range_is_ram(AddressSpace *as, uint64_t addr, uint64_t len, bool for_write)
{
    if (addr + len - 1 < addr) {
        return false;
    }
    while (len) {
        hwaddr avail = 0;
        if (!address_space_ram_ptr(as, addr, for_write, &avail) || avail == 0) {
            return false;
        }
        if (avail >= len) {
            return true;
        }
        addr += avail;
        len -= avail;
    }
    return true;
}

static bool read_desc(AddressSpace *as, uint64_t table, unsigned i, Desc *d)
{
    uint8_t raw[DESC_SIZE];
    uint64_t addr = table + (uint64_t)i * DESC_SIZE;

    if (guest_copy(as, addr, raw, sizeof(raw), false) != sizeof(raw)) {
        return false;
    }
    memcpy(&d->addr, raw, 8);
    memcpy(&d->len, raw + 8, 4);
    memcpy(&d->flags, raw + 12, 2);
    memcpy(&d->next, raw + 14, 2);
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
    return true;
}

/* ---- rings --------------------------------------------------------------- */

/* The rings' natural alignment (2.7: 16, 2, 4) keeps the 16-bit indices
 * whole; a driver that misaligns them has a malformed queue. */
static bool rings_ok(PvVirtqueue *vq)
{
    if (vq->num == 0 || (vq->num & (vq->num - 1)) || vq->num > PV_VIRTQ_MAX_SIZE) {
        return mark_broken(vq, "bad queue size");
    }
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
        return mark_broken(vq, "misaligned virtqueue ring");
    }
    return true;
}

void pv_virtq_reset(PvVirtqueue *vq)
{
    memset(vq, 0, sizeof(*vq));
}

static bool read_avail_idx(PvVirtqueue *vq, AddressSpace *as, uint16_t *idx)
{
    if (!load16(as, vq->avail + AVAIL_IDX, idx)) {
        return mark_broken(vq, "available ring not in RAM");
    }
    /* The ring entries and descriptors the driver wrote before publishing
     * idx are read after it. */
    atomic_thread_fence(memory_order_acquire);
    if ((uint16_t)(*idx - vq->last_avail_idx) > vq->num) {
        return mark_broken(vq, "available idx ran more than the queue size ahead");
    }
    return true;
}

unsigned pv_virtq_avail(PvVirtqueue *vq, AddressSpace *as)
{
    uint16_t idx;

    if (!vq->ready || vq->broken || !rings_ok(vq) || !read_avail_idx(vq, as, &idx)) {
        return 0;
    }
    return (uint16_t)(idx - vq->last_avail_idx);
}

static bool elem_add(PvVirtqElem *e, unsigned *cap, uint64_t addr, uint32_t len)
{
    unsigned n = e->out_num + e->in_num;

    if (n == *cap) {
        unsigned ncap = *cap ? *cap * 2 : 4;
        PvVirtqSg *sg = realloc(e->sg, ncap * sizeof(*sg));
        if (!sg) {
            return false;
        }
        e->sg = sg;
        *cap = ncap;
    }
    e->sg[n] = (PvVirtqSg){ .addr = addr, .len = len };
    return true;
}

/* Walk the chain at @head into @e; false (queue broken) if malformed. */
static bool walk_chain(PvVirtqueue *vq, AddressSpace *as, uint16_t head, PvVirtqElem *e,
                       bool *nomem)
{
    uint64_t table = vq->desc;
    unsigned table_num = vq->num, count = 0, cap = 0;
    bool in_indirect = false;
    unsigned i = head;
    Desc d;

    for (;;) {
        if (!read_desc(as, table, i, &d)) {
            return mark_broken(vq, in_indirect ? "indirect table not in RAM"
                                               : "descriptor table not in RAM");
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect) {
                return mark_broken(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
            }
            if (in_indirect) {
                return mark_broken(vq, "nested indirect descriptor");
            }
            /* 2.7.5.3.1: the only descriptor of its chain, in our reading
             * (the driver must not set NEXT with it, and Linux and QEMU
             * put it at the head). */
            if (count || (d.flags & VIRTQ_DESC_F_NEXT)) {
                return mark_broken(vq, "indirect descriptor inside a chain");
            }
            if (d.len == 0 || d.len % DESC_SIZE || d.len > (uint32_t)vq->num * DESC_SIZE) {
                return mark_broken(vq, "bad indirect table length");
            }
            if (!range_is_ram(as, d.addr, d.len, false)) {
                return mark_broken(vq, "indirect table not in RAM");
            }
            table = d.addr;
            table_num = d.len / DESC_SIZE;
            in_indirect = true;
            i = 0;
            continue;
        }
        /* More descriptors than the table holds means a loop. */
        if (++count > table_num) {
            return mark_broken(vq, "descriptor chain loops or is too long");
        }
        bool is_in = d.flags & VIRTQ_DESC_F_WRITE;
        if (!is_in && e->in_num) {
            return mark_broken(vq, "device-readable descriptor after a writable one");
        }
        if (d.len) {
            size_t *total = is_in ? &e->in_len : &e->out_len;
            if (*total + d.len > UINT32_MAX) {
                return mark_broken(vq, "descriptor chain length overflows");
            }
            if (!range_is_ram(as, d.addr, d.len, is_in)) {
                return mark_broken(vq, is_in ? "device-writable buffer not in writable RAM"
                                             : "buffer not in RAM");
            }
            if (!elem_add(e, &cap, d.addr, d.len)) {
                *nomem = true;
                return false;
            }
            *total += d.len;
            if (is_in) {
                e->in_num++;
            } else {
                e->out_num++;
            }
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            return true;
        }
        if (d.next >= table_num) {
            return mark_broken(vq, "descriptor next index out of range");
        }
        i = d.next;
    }
}

int pv_virtq_pop(PvVirtqueue *vq, AddressSpace *as, PvVirtqElem **out)
{
    uint16_t idx, head;
    PvVirtqElem *e;
    bool nomem = false;

    *out = NULL;
    if (!vq->ready || vq->broken) {
        return 0;
    }
    if (!rings_ok(vq) || !read_avail_idx(vq, as, &idx)) {
        return -1;
    }
    if (idx == vq->last_avail_idx) {
        return 0;
    }
    if (!load16(as, vq->avail + AVAIL_RING(vq->last_avail_idx % vq->num), &head)) {
        mark_broken(vq, "available ring not in RAM");
        return -1;
    }
    if (head >= vq->num) {
        mark_broken(vq, "descriptor head index out of range");
        return -1;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        return 0;   /* host trouble, not the guest's: try again later */
    }
    e->head = head;
    if (!walk_chain(vq, as, head, e, &nomem)) {
        pv_virtq_elem_free(e);
        return nomem ? 0 : -1;
    }
    vq->last_avail_idx++;
    vq->inflight++;
    if (vq->event_idx && !vq->kicks_off) {
        /* Kick me for the entry after this one.  The next pop's read of
         * avail idx must come after this store (a full fence): either it
         * sees the driver's next entry, or the driver sees this event. */
        if (!store16(as, vq->used + USED_RING(vq->num), vq->last_avail_idx)) {
            pv_virtq_elem_free(e);
            mark_broken(vq, "used ring not in writable RAM");
            return -1;
        }
        atomic_thread_fence(memory_order_seq_cst);
    }
    *out = e;
    return 1;
}

void pv_virtq_unpop(PvVirtqueue *vq, const PvVirtqElem *elem)
{
    (void)elem;
    vq->last_avail_idx--;
    vq->inflight--;
}

bool pv_virtq_push(PvVirtqueue *vq, AddressSpace *as, const PvVirtqElem *elem, uint32_t written)
{
    uint8_t *p;
    uint32_t ent[2];

    if (vq->broken || !vq->ready) {
        return false;
    }
    if (!rings_ok(vq)) {
        return false;
    }
    if (written > elem->in_len) {
        written = (uint32_t)elem->in_len;   /* a device never claims more */
    }
    p = ram_range(as, vq->used + USED_RING(vq->used_idx % vq->num), 8, true);
    if (!p) {
        return mark_broken(vq, "used ring not in writable RAM");
    }
    ent[0] = htole32(elem->head);
    ent[1] = htole32(written);
    pv_ram_copy(p, (uint8_t *)ent, sizeof(ent), true);
    p = ram_range(as, vq->used + USED_IDX, 2, true);
    if (!p) {
        return mark_broken(vq, "used ring not in writable RAM");
    }
    vq->used_idx++;
    if (vq->inflight) {
        vq->inflight--;
    }
    /* The element (and the data written into its buffers) before idx. */
    atomic_thread_fence(memory_order_release);
    __atomic_store_n((uint16_t *)p, htole16(vq->used_idx), __ATOMIC_RELAXED);
    return true;
}

/* 2.7.10: whether new_idx has just passed event (as in the spec's
 * vring_need_event()). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool pv_virtq_should_notify(PvVirtqueue *vq, AddressSpace *as)
{
    uint16_t v;

    if (!vq->ready || vq->broken) {
        return false;
    }
    /* Our used idx store before the driver's flags/used_event: pairs with
     * the driver's barrier between updating used_event and reading idx. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!vq->event_idx) {
        if (!load16(as, vq->avail + AVAIL_FLAGS, &v)) {
            return mark_broken(vq, "available ring not in RAM");
        }
        return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (!load16(as, vq->avail + AVAIL_RING(vq->num), &v)) {   /* used_event */
        return mark_broken(vq, "available ring not in RAM");
    }
    uint16_t old = vq->signalled_used;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    return !valid || need_event(v, vq->used_idx, old);
}

void pv_virtq_set_notification(PvVirtqueue *vq, AddressSpace *as, bool enable)
{
    bool ok;

    if (!vq->ready || vq->broken || !rings_ok(vq)) {
        return;
    }
    vq->kicks_off = !enable;
    if (vq->event_idx) {
        /* avail_event: kick me when you make this entry available.  While
         * disabled it is left behind, which suppresses kicks as well. */
        ok = !enable || store16(as, vq->used + USED_RING(vq->num), vq->last_avail_idx);
    } else {
        uint16_t flags;
        ok = load16(as, vq->used + USED_FLAGS, &flags);
        if (ok) {
            flags = enable ? flags & ~VIRTQ_USED_F_NO_NOTIFY : flags | VIRTQ_USED_F_NO_NOTIFY;
            ok = store16(as, vq->used + USED_FLAGS, flags);
        }
    }
    if (!ok) {
        mark_broken(vq, "used ring not in writable RAM");
        return;
    }
    /* The store above before the caller re-reads avail idx (2.7.10). */
    atomic_thread_fence(memory_order_seq_cst);
}

/* ---- buffers ------------------------------------------------------------- */

static size_t sg_copy(AddressSpace *as, const PvVirtqSg *sg, unsigned first, unsigned n,
                      size_t offset, void *buf, size_t len, bool to_guest)
{
    size_t done = 0;

    for (unsigned i = first; i < first + n && done < len; i++) {
        if (offset >= sg[i].len) {
            offset -= sg[i].len;
            continue;
        }
        size_t chunk = sg[i].len - offset;
        if (chunk > len - done) {
            chunk = len - done;
        }
        size_t got = guest_copy(as, sg[i].addr + offset, (uint8_t *)buf + done, chunk, to_guest);
        done += got;
        if (got < chunk) {
            break;  /* no longer RAM: stop short, never touch anything else */
        }
        offset = 0;
    }
    return done;
}

size_t pv_virtq_copy_from_out(AddressSpace *as, const PvVirtqElem *elem, size_t offset,
                              void *buf, size_t len)
{
    return sg_copy(as, elem->sg, 0, elem->out_num, offset, buf, len, false);
}

size_t pv_virtq_copy_to_in(AddressSpace *as, const PvVirtqElem *elem, size_t offset,
                           const void *buf, size_t len)
{
    return sg_copy(as, elem->sg, elem->out_num, elem->in_num, offset, (void *)buf, len, true);
}

void pv_virtq_elem_free(PvVirtqElem *elem)
{
    if (elem) {
        free(elem->sg);
        free(elem);
    }
}
