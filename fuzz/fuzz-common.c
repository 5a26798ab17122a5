/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/dispatch.h"
#include "parvm/rcu.h"

/* virtio-mmio registers (virtio 1.2 4.2.2). */
enum {
    FR_DRV_FEATURES = 0x020, FR_DRV_FEATURES_SEL = 0x024, FR_DEV_FEATURES_SEL = 0x014,
    FR_QUEUE_SEL = 0x030, FR_QUEUE_NUM = 0x038, FR_QUEUE_READY = 0x044, FR_QUEUE_NOTIFY = 0x050,
    FR_ISR = 0x060, FR_ISR_ACK = 0x064, FR_STATUS = 0x070,
    FR_DESC_LO = 0x080, FR_DESC_HI = 0x084, FR_DRIVER_LO = 0x090, FR_DRIVER_HI = 0x094,
    FR_DEVICE_LO = 0x0a0, FR_DEVICE_HI = 0x0a4, FR_CONFIG = 0x100,
};

#define CANARY(a) ((uint8_t)(0xa5 ^ ((a) >> 3)))
#define D_NEXT 1u
#define D_WRITE 2u
#define D_INDIRECT 4u

/* ---- input --------------------------------------------------------------- */

size_t fin_bytes(FuzzIn *in, void *buf, size_t len)
{
    size_t n = len < in->n ? len : in->n;
    memcpy(buf, in->p, n);
    memset((uint8_t *)buf + n, 0, len - n);
    in->p += n;
    in->n -= n;
    return len;
}

uint8_t fin_u8(FuzzIn *in)
{
    uint8_t v;
    fin_bytes(in, &v, 1);
    return v;
}

uint16_t fin_u16(FuzzIn *in)
{
    uint8_t b[2];
    fin_bytes(in, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t fin_u32(FuzzIn *in)
{
    return fin_u16(in) | (uint32_t)fin_u16(in) << 16;
}

/* ---- RAM oracle ------------------------------------------------------------ */

void fuzz_ram_init(FuzzRam *m, AddressSpace *as, uint64_t base, size_t size, uint64_t rom,
                   uint64_t rom_size)
{
    memset(m, 0, sizeof(*m));
    m->as = as;
    m->base = base;
    m->size = size;
    m->rom = rom;
    m->rom_size = rom_size;
    m->expect = malloc(size);
    m->now = malloc(size);
    m->pristine = malloc(size);
    if (!m->expect || !m->now || !m->pristine) {
        abort();
    }
    for (size_t i = 0; i < size; i++) {
        m->pristine[i] = CANARY(i);
    }
}

static void push_range(FuzzRange **v, unsigned *n, unsigned *cap, uint64_t a, uint64_t len)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = realloc(*v, *cap * sizeof(**v));
        if (!*v) {
            abort();
        }
    }
    (*v)[(*n)++] = (FuzzRange){ a, len };
}

/* The host memory behind guest RAM (one region). */
static uint8_t *ram_ptr(FuzzRam *m)
{
    hwaddr avail = 0;
    uint8_t *p = address_space_ram_ptr(m->as, m->base, true, &avail);
    if (!p || avail < m->size) {
        abort();
    }
    return p;
}

void fuzz_ram_fill(FuzzRam *m)
{
    memcpy(m->expect, m->pristine, m->size);
    memcpy(ram_ptr(m), m->expect, m->size);
    m->nallow = m->ntables = 0;
}

void fuzz_ram_write(FuzzRam *m, uint64_t addr, const void *buf, size_t len)
{
    if (addr < m->base || addr - m->base >= m->size) {
        return;
    }
    uint64_t off = addr - m->base;
    if (len > m->size - off) {
        len = m->size - off;
    }
    memcpy(m->expect + off, buf, len);
    if (address_space_rw(m->as, addr, (void *)buf, len, true) != PV_ACCESS_OK) {
        abort();
    }
}

static uint64_t ld(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* The guest's descriptor at @addr (false: not wholly in RAM). */
static bool read_desc(FuzzRam *m, uint64_t addr, uint64_t *a, uint32_t *len, uint16_t *flags)
{
    if (addr < m->base || addr - m->base > m->size - 16) {
        return false;
    }
    const uint8_t *p = m->expect + (addr - m->base);
    *a = ld(p, 8);
    *len = (uint32_t)ld(p + 8, 4);
    *flags = (uint16_t)ld(p + 12, 2);
    return true;
}

void fuzz_ram_note_queues(FuzzRam *m, PvVirtioDevice *v)
{
    PvVirtqueue vq[PV_VIRTIO_MAX_QUEUES];
    unsigned nq = v->ops->num_queues;

    pv_device_lock(&v->dev);
    memcpy(vq, v->vq, sizeof(vq));
    pv_device_unlock(&v->dev);
    for (unsigned q = 0; q < nq; q++) {
        uint16_t num = vq[q].num;
        push_range(&m->allow, &m->nallow, &m->cap_allow, vq[q].used, 6 + 8u * num);
        push_range(&m->tables, &m->ntables, &m->cap_tables, vq[q].avail, 6 + 2u * num);
        push_range(&m->tables, &m->ntables, &m->cap_tables, vq[q].desc, 16u * num);
        for (unsigned i = 0; i < num; i++) {
            uint64_t a;
            uint32_t len;
            uint16_t fl;
            if (!read_desc(m, vq[q].desc + 16u * i, &a, &len, &fl)) {
                continue;
            }
            if (!(fl & D_INDIRECT)) {
                if (fl & D_WRITE) {
                    push_range(&m->allow, &m->nallow, &m->cap_allow, a, len);
                }
                continue;
            }
            /* The device accepts at most num entries in a table. */
            push_range(&m->tables, &m->ntables, &m->cap_tables, a, len);
            for (unsigned j = 0; j < len / 16 && j < num; j++) {
                uint64_t ia;
                uint32_t ilen;
                uint16_t ifl;
                if (read_desc(m, a + 16u * j, &ia, &ilen, &ifl) && (ifl & D_WRITE)) {
                    push_range(&m->allow, &m->nallow, &m->cap_allow, ia, ilen);
                }
            }
        }
    }
}

static int cmp_range(const void *a, const void *b)
{
    const FuzzRange *x = a, *y = b;
    return x->a < y->a ? -1 : x->a > y->a;
}

/* Clip @r to RAM (offsets from its base), sort, merge: returns the count of
 * disjoint ranges left in @r, in order. */
static unsigned normalize(FuzzRam *m, FuzzRange *r, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t lo = r[i].a, hi = r[i].a + r[i].len;
        if (hi < lo) {
            hi = UINT64_MAX;
        }
        if (hi <= m->base || lo >= m->base + m->size || lo == hi) {
            continue;
        }
        lo = lo < m->base ? 0 : lo - m->base;
        hi = hi - m->base > m->size ? m->size : hi - m->base;
        r[k++] = (FuzzRange){ lo, hi - lo };
    }
    qsort(r, k, sizeof(*r), cmp_range);
    unsigned out = 0;
    for (unsigned i = 0; i < k; i++) {
        if (out && r[i].a <= r[out - 1].a + r[out - 1].len) {
            uint64_t end = r[i].a + r[i].len;
            if (end > r[out - 1].a + r[out - 1].len) {
                r[out - 1].len = end - r[out - 1].a;
            }
        } else {
            r[out++] = r[i];
        }
    }
    return out;
}

static bool in_ranges(const FuzzRange *r, unsigned n, uint64_t off)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (off < r[mid].a) {
            hi = mid;
        } else if (off >= r[mid].a + r[mid].len) {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    return false;
}

void fuzz_ram_check(FuzzRam *m)
{
    for (uint64_t i = 0; i < m->rom_size; i += 8) {
        uint64_t val = 0;
        if (address_space_read(m->as, m->rom + i, 8, &val) != PV_ACCESS_OK || val) {
            fprintf(stderr, "fuzz: ROM at %#llx changed\n", (unsigned long long)(m->rom + i));
            abort();
        }
    }
    /* Plain copies: the device is idle or gone now (pv_ram_copy's
     * per-word atomics would make every run 20 times slower). */
    memcpy(m->now, ram_ptr(m), m->size);
    if (!memcmp(m->now, m->expect, m->size)) {
        return;
    }
    unsigned na = normalize(m, m->allow, m->nallow), nt = normalize(m, m->tables, m->ntables);
    /* Does a writable range overlap a table the device reads? */
    for (unsigned i = 0, j = 0; i < na && j < nt;) {
        if (m->allow[i].a + m->allow[i].len <= m->tables[j].a) {
            i++;
        } else if (m->tables[j].a + m->tables[j].len <= m->allow[i].a) {
            j++;
        } else {
            m->nallow = m->ntables = 0;
            return;     /* the device may rewrite what it reads: not checked */
        }
    }
    for (size_t c = 0; c < m->size; c += 4096) {
        size_t len = m->size - c < 4096 ? m->size - c : 4096;
        if (!memcmp(m->now + c, m->expect + c, len)) {
            continue;
        }
        for (size_t i = c; i < c + len; i++) {
            if (m->now[i] != m->expect[i] && !in_ranges(m->allow, na, i)) {
                fprintf(stderr, "fuzz: the device wrote guest RAM at %#llx (%#x, was %#x) "
                        "outside every used ring and device-writable buffer\n",
                        (unsigned long long)(m->base + i), m->now[i], m->expect[i]);
                abort();
            }
        }
    }
    m->nallow = m->ntables = 0;
}

/* ---- driver ---------------------------------------------------------------- */

uint32_t fz_reg_r(FuzzDrv *d, uint32_t off)
{
    uint64_t v = 0;
    if (d->v) {
        address_space_read(d->as, d->vbase + off, 4, &v);
    }
    return (uint32_t)v;
}

void fz_reg_w(FuzzDrv *d, uint32_t off, uint32_t val)
{
    if (d->v) {
        address_space_write(d->as, d->vbase + off, 4, val);
        if (off != FR_QUEUE_NOTIFY && off != FR_ISR_ACK) {
            fuzz_ram_note_queues(d->ram, d->v);
        }
    }
}

static uint64_t ring(FuzzDrv *d, unsigned q, unsigned which)
{
    return d->window + q * FZ_QSTRIDE + which * 0x1000u;
}

/* The init sequence of virtio 1.2 3.1.1 with the window's layout. */
static void drv_init(FuzzDrv *d)
{
    fz_reg_w(d, FR_STATUS, 0);
    fz_reg_w(d, FR_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE);
    fz_reg_w(d, FR_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER);
    fz_reg_w(d, FR_DRV_FEATURES_SEL, 0);
    fz_reg_w(d, FR_DRV_FEATURES, (uint32_t)d->features);
    fz_reg_w(d, FR_DRV_FEATURES_SEL, 1);
    fz_reg_w(d, FR_DRV_FEATURES, (uint32_t)(d->features >> 32));
    fz_reg_w(d, FR_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER |
                               PV_VIRTIO_STATUS_FEATURES_OK);
    for (unsigned q = 0; q < d->nq; q++) {
        fz_reg_w(d, FR_QUEUE_SEL, q);
        fz_reg_w(d, FR_QUEUE_NUM, d->num[q]);
        fz_reg_w(d, FR_DESC_LO, (uint32_t)ring(d, q, 0));
        fz_reg_w(d, FR_DESC_HI, (uint32_t)(ring(d, q, 0) >> 32));
        fz_reg_w(d, FR_DRIVER_LO, (uint32_t)ring(d, q, 1));
        fz_reg_w(d, FR_DRIVER_HI, (uint32_t)(ring(d, q, 1) >> 32));
        fz_reg_w(d, FR_DEVICE_LO, (uint32_t)ring(d, q, 2));
        fz_reg_w(d, FR_DEVICE_HI, (uint32_t)(ring(d, q, 2) >> 32));
        fz_reg_w(d, FR_QUEUE_READY, 1);
    }
    fz_reg_w(d, FR_STATUS, fz_reg_r(d, FR_STATUS) | PV_VIRTIO_STATUS_DRIVER_OK);
}

/* What the I/O thread's kick would do (notify_run in src/virtio/mmio.c),
 * synchronously. */
static void process(FuzzDrv *d, unsigned q)
{
    PvVirtioDevice *v = d->v;

    pv_device_lock(&v->dev);
    if (!pv_device_is_removed(&v->dev) && pv_virtio_running(v) && v->vq[q].ready &&
        !v->vq[q].broken) {
        v->ops->queue_notify(v, q);
    }
    pv_device_unlock(&v->dev);
}

static void publish(FuzzDrv *d, unsigned q, uint16_t k)
{
    uint8_t b[2];
    d->avail_idx[q] = (uint16_t)(d->avail_idx[q] + k);
    b[0] = (uint8_t)d->avail_idx[q];
    b[1] = (uint8_t)(d->avail_idx[q] >> 8);
    fuzz_ram_write(d->ram, ring(d, q, 1) + 2, b, 2);
}

/* Lay queue @q's descriptor table and available ring from the input. */
static void lay_queue(FuzzDrv *d, FuzzIn *in, unsigned q, uint8_t mode, uint16_t start)
{
    uint16_t num = d->num[q];
    uint8_t buf[16 * 256];

    for (unsigned i = 0; i < num; i++) {
        uint8_t *p = buf + 16 * i;
        fin_bytes(in, p, 16);
        if (mode & 1) {     /* buffers inside the window */
            uint64_t a = ld(p, 8) % (FZ_WINDOW - FZ_BUFS) + d->window + FZ_BUFS;
            for (unsigned j = 0; j < 8; j++) {
                p[j] = (uint8_t)(a >> (8 * j));
            }
        }
        if (mode & 2) {     /* short lengths */
            uint32_t l = (uint32_t)ld(p + 8, 4) % 0x2000;
            for (unsigned j = 0; j < 4; j++) {
                p[8 + j] = (uint8_t)(l >> (8 * j));
            }
        }
        if (mode & 4) {     /* next within the table */
            uint16_t nx = (uint16_t)(ld(p + 14, 2) % num);
            p[14] = (uint8_t)nx;
            p[15] = (uint8_t)(nx >> 8);
        }
    }
    fuzz_ram_write(d->ram, ring(d, q, 0), buf, 16u * num);
    /* flags, idx, ring[num], used_event */
    fin_bytes(in, buf, 4 + 2u * num + 2);
    if (mode & 8) {         /* heads within the table */
        for (unsigned i = 0; i < num; i++) {
            uint16_t h = (uint16_t)(ld(buf + 4 + 2 * i, 2) % num);
            buf[4 + 2 * i] = (uint8_t)h;
            buf[5 + 2 * i] = (uint8_t)(h >> 8);
        }
    }
    d->avail_idx[q] = start;
    if (mode & 16) {        /* a plausible avail idx */
        d->avail_idx[q] = (uint16_t)(start + ld(buf + 2, 2) % (num + 1u));
    } else {
        d->avail_idx[q] = (uint16_t)ld(buf + 2, 2);
    }
    buf[2] = (uint8_t)d->avail_idx[q];
    buf[3] = (uint8_t)(d->avail_idx[q] >> 8);
    fuzz_ram_write(d->ram, ring(d, q, 1), buf, 4 + 2u * num + 2);
}

static const uint32_t fuzz_regs[] = {
    FR_STATUS, FR_QUEUE_SEL, FR_QUEUE_NUM, FR_QUEUE_READY, FR_QUEUE_NOTIFY, FR_ISR_ACK,
    FR_DRV_FEATURES, FR_DRV_FEATURES_SEL, FR_DEV_FEATURES_SEL, FR_DESC_LO, FR_DESC_HI,
    FR_DRIVER_LO, FR_DRIVER_HI, FR_DEVICE_LO, FR_DEVICE_HI, FR_CONFIG, FR_CONFIG + 4,
};

void fuzz_drv_run(FuzzDrv *d, FuzzIn *in, uint64_t feat_mask)
{
    uint8_t feat = fin_u8(in), mode = fin_u8(in);
    uint16_t start = fin_u16(in);
    uint64_t dev_bits[64];
    unsigned ndev = 0;

    for (unsigned b = 0; b < 64; b++) {
        if (feat_mask & (UINT64_C(1) << b)) {
            dev_bits[ndev++] = UINT64_C(1) << b;
        }
    }
    d->features = UINT64_C(1) << PV_VIRTIO_F_VERSION_1;
    if (feat & 1) {
        d->features |= UINT64_C(1) << PV_VIRTIO_F_EVENT_IDX;
    }
    if (feat & 2) {
        d->features |= UINT64_C(1) << PV_VIRTIO_F_INDIRECT_DESC;
    }
    for (unsigned i = 0; i < ndev && i < 6; i++) {
        if (feat & (4u << i)) {
            d->features |= dev_bits[i];
        }
    }
    if (!(mode & 32)) {
        start = 0;
    }

    fz_reg_w(d, FR_STATUS, 0);
    fuzz_ram_fill(d->ram);
    for (unsigned q = 0; q < d->nq; q++) {
        d->num[q] = (uint16_t)(1u << (fin_u8(in) % 9));     /* 1..256 */
        lay_queue(d, in, q, mode, start);
    }
    uint16_t blen = fin_u16(in) % (FZ_WINDOW - FZ_BUFS);
    uint8_t *bufs = calloc(1, blen ? blen : 1);
    if (!bufs) {
        abort();
    }
    fin_bytes(in, bufs, blen);
    fuzz_ram_write(d->ram, d->window + FZ_BUFS, bufs, blen);
    free(bufs);

    drv_init(d);
    if (start) {            /* as if the queues had run for a while */
        pv_device_lock(&d->v->dev);
        for (unsigned q = 0; q < d->nq; q++) {
            d->v->vq[q].last_avail_idx = start;
            d->v->vq[q].used_idx = start;
        }
        pv_device_unlock(&d->v->dev);
    }
    fuzz_ram_note_queues(d->ram, d->v);

    for (unsigned ops = 0; in->n && ops < 64 && d->v; ops++) {
        uint8_t op = fin_u8(in);
        unsigned q = (op >> 4) % d->nq;
        switch (op & 15) {
        case 0:
            fz_reg_w(d, FR_QUEUE_NOTIFY, q);
            break;
        case 1:
        case 2:
            process(d, q);
            break;
        case 3:
            d->settle(d);
            break;
        case 4:
            fz_reg_w(d, FR_STATUS, 0);      /* reset with work in flight */
            break;
        case 5:
            drv_init(d);
            break;
        case 6:
            fz_reg_w(d, FR_QUEUE_SEL, q);
            fz_reg_w(d, FR_QUEUE_READY, fin_u8(in) & 1);
            break;
        case 7: {
            uint32_t off = fuzz_regs[fin_u8(in) % (sizeof(fuzz_regs) / sizeof(fuzz_regs[0]))];
            uint32_t val = fin_u32(in);
            if ((off == FR_DESC_LO || off == FR_DRIVER_LO || off == FR_DEVICE_LO) && (op & 0x80)) {
                val = (uint32_t)(d->window + val % FZ_WINDOW);
            }
            fz_reg_w(d, off, val);
            break;
        }
        case 8:
        case 9:
            publish(d, q, fin_u8(in) % (d->num[q] + 1u));
            break;
        case 10: {
            uint8_t b[32];
            uint64_t at = d->window + fin_u16(in) % FZ_WINDOW;
            unsigned len = fin_u8(in) % sizeof(b) + 1;
            fin_bytes(in, b, len);
            fuzz_ram_write(d->ram, at, b, len);
            fuzz_ram_note_queues(d->ram, d->v);
            break;
        }
        case 11:
        case 12:
            d->extra_op(d, in);
            break;
        case 13:
            fz_reg_w(d, FR_ISR_ACK, fz_reg_r(d, FR_ISR));
            break;
        case 14:
            fz_reg_w(d, FR_STATUS, fz_reg_r(d, FR_STATUS) | PV_VIRTIO_STATUS_FAILED);
            break;
        case 15:
            if (op & 0x80) {
                d->remove(d);       /* hot-unplug with whatever is in flight */
            } else {
                process(d, q);
            }
            break;
        }
    }
    if (d->v) {
        d->settle(d);
        fz_reg_w(d, FR_STATUS, 0);
        d->settle(d);
    }
    fuzz_ram_check(d->ram);
    pv_rcu_quiescent();
}
