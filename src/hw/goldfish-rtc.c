/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Goldfish RTC: see include/parvm/hw/goldfish-rtc.h for the register map.
 *
 * Lockless.  The IRQ level is a pure function of one atomic word (flags),
 * so updaters use the same "set, then check the word did not change, else
 * again" loop as the CLINT: the last pv_irq_set() to land always reflects
 * the current flags.  The alarm callback re-checks everything itself, so
 * a stale timer firing (the guest re-armed or cleared meanwhile) does no
 * harm and nothing here ever waits for the timer.
 */
#include "parvm/hw/goldfish-rtc.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "parvm/clock.h"

#define RTC_TIME_LOW 0x00
#define RTC_TIME_HIGH 0x04
#define RTC_ALARM_LOW 0x08
#define RTC_ALARM_HIGH 0x0c
#define RTC_IRQ_ENABLED 0x10
#define RTC_CLEAR_ALARM 0x14
#define RTC_ALARM_STATUS 0x18
#define RTC_CLEAR_INTERRUPT 0x1c

#define F_IRQ_ENABLED 1u
#define F_IRQ_PENDING 2u
#define F_ALARM_RUNNING 4u

struct PvGoldfishRtc {
    PvDevice dev;
    MemoryRegion mmio;
    PvIrq irq;
    PvTimer *timer;
    _Atomic uint64_t offset;        /* guest time - host realtime, mod 2^64 */
    _Atomic uint64_t alarm_next;
    _Atomic unsigned flags;
};

static uint64_t host_realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * (uint64_t)PV_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t rtc_now(PvGoldfishRtc *r)
{
    return host_realtime_ns() + atomic_load_explicit(&r->offset, memory_order_relaxed);
}

static void update_irq(PvGoldfishRtc *r)
{
    unsigned f;

    do {
        f = atomic_load(&r->flags);
        pv_irq_set(&r->irq, (f & F_IRQ_ENABLED) && (f & F_IRQ_PENDING));
    } while (atomic_load(&r->flags) != f);
}

/* The alarm fired (or was set in the past): running -> pending.  Only if it
 * is still running, so a CLEAR_ALARM that won the race is respected. */
static void fire_alarm(PvGoldfishRtc *r)
{
    unsigned f = atomic_load(&r->flags);

    do {
        if (!(f & F_ALARM_RUNNING)) {
            return;
        }
    } while (!atomic_compare_exchange_weak(&r->flags, &f,
                                           (f & ~F_ALARM_RUNNING) | F_IRQ_PENDING));
    update_irq(r);
}

/* Arm the timer for alarm_next, or fire now if it has passed. */
static void schedule_alarm(PvGoldfishRtc *r)
{
    uint64_t now = rtc_now(r);
    uint64_t alarm = atomic_load(&r->alarm_next);

    if (alarm <= now) {
        pv_timer_cancel(r->timer);
        fire_alarm(r);
        return;
    }
    int64_t mono = pv_clock_ns();
    uint64_t diff = alarm - now;
    if (diff <= (uint64_t)(INT64_MAX - mono)) {
        pv_timer_mod(r->timer, mono + (int64_t)diff);
    }
    /* else: centuries away; it stays "running" and never fires. */
}

static void alarm_cb(void *opaque)
{
    PvGoldfishRtc *r = opaque;

    if (!(atomic_load(&r->flags) & F_ALARM_RUNNING)) {
        return;     /* cleared meanwhile */
    }
    if (rtc_now(r) >= atomic_load(&r->alarm_next)) {
        fire_alarm(r);
    } else {
        schedule_alarm(r);  /* moved later, or the guest moved time back */
    }
}

/* Replace the 32-bit half at @shift of @word. */
static uint64_t deposit_half(uint64_t word, unsigned shift, uint64_t val)
{
    uint64_t mask = UINT64_C(0xffffffff) << shift;
    return (word & ~mask) | ((val << shift) & mask);
}

static void store_half(_Atomic uint64_t *word, unsigned shift, uint64_t val)
{
    uint64_t old = atomic_load(word);
    while (!atomic_compare_exchange_weak(word, &old, deposit_half(old, shift, val))) {
    }
}

/* Set one half of the time: adjust the offset by how far it moves. */
static void write_time_half(PvGoldfishRtc *r, unsigned shift, uint64_t val)
{
    uint64_t host = host_realtime_ns();
    uint64_t off = atomic_load(&r->offset), next;

    do {
        uint64_t cur = host + off;
        next = off + (deposit_half(cur, shift, val) - cur);
    } while (!atomic_compare_exchange_weak(&r->offset, &off, next));
}

/*
 * The TIME_LOW -> TIME_HIGH latch, per accessing thread (each hart is one):
 * two harts reading the clock at once each get their own consistent pair,
 * and the hot read path writes no line that other harts share.  A TIME_HIGH
 * read without a recent TIME_LOW on the same thread gets the current high
 * word.
 */
static __thread struct {
    const PvGoldfishRtc *rtc;
    uint64_t value;     /* the whole time latched by TIME_LOW */
    uint64_t host_ns;   /* when, in host realtime (the read's own clock) */
} thread_latch;

/* A latch older than this is not the pair being read (the guest task moved
 * to another hart between its two reads): use the current time instead. */
#define LATCH_FRESH_NS 100000000ull

static PvAccessStatus rtc_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvGoldfishRtc *r = opaque;
    uint64_t v;

    switch (off) {
    case RTC_TIME_LOW:
        thread_latch.host_ns = host_realtime_ns();
        v = thread_latch.host_ns + atomic_load_explicit(&r->offset, memory_order_relaxed);
        thread_latch.rtc = r;
        thread_latch.value = v;
        *val = (uint32_t)v;
        break;
    case RTC_TIME_HIGH:
        v = host_realtime_ns();
        if (thread_latch.rtc == r && v - thread_latch.host_ns < LATCH_FRESH_NS) {
            *val = (uint32_t)(thread_latch.value >> 32);
        } else {
            *val = (uint32_t)((v + atomic_load_explicit(&r->offset, memory_order_relaxed)) >> 32);
        }
        break;
    case RTC_ALARM_LOW:
        *val = (uint32_t)atomic_load(&r->alarm_next);
        break;
    case RTC_ALARM_HIGH:
        *val = atomic_load(&r->alarm_next) >> 32;
        break;
    case RTC_IRQ_ENABLED:
        *val = !!(atomic_load(&r->flags) & F_IRQ_ENABLED);
        break;
    case RTC_ALARM_STATUS:
        *val = !!(atomic_load(&r->flags) & F_ALARM_RUNNING);
        break;
    default:
        pv_guest_error(r->dev.vm, "goldfish_rtc: read of size %u at invalid offset 0x%" PRIx64,
                       size, (uint64_t)off);
        *val = 0;
        break;
    }
    return PV_ACCESS_OK;
}

static PvAccessStatus rtc_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    PvGoldfishRtc *r = opaque;

    val &= 0xffffffff;
    switch (off) {
    case RTC_TIME_LOW:
        write_time_half(r, 0, val);
        break;
    case RTC_TIME_HIGH:
        write_time_half(r, 32, val);
        break;
    case RTC_ALARM_LOW:
        store_half(&r->alarm_next, 0, val);
        atomic_fetch_or(&r->flags, F_ALARM_RUNNING);
        schedule_alarm(r);
        break;
    case RTC_ALARM_HIGH:
        store_half(&r->alarm_next, 32, val);
        break;
    case RTC_IRQ_ENABLED:
        if (val & 1) {
            atomic_fetch_or(&r->flags, F_IRQ_ENABLED);
        } else {
            atomic_fetch_and(&r->flags, ~F_IRQ_ENABLED);
        }
        update_irq(r);
        break;
    case RTC_CLEAR_ALARM:
        atomic_fetch_and(&r->flags, ~F_ALARM_RUNNING);
        pv_timer_cancel(r->timer);
        break;
    case RTC_CLEAR_INTERRUPT:
        atomic_fetch_and(&r->flags, ~F_IRQ_PENDING);
        update_irq(r);
        break;
    default:
        pv_guest_error(r->dev.vm, "goldfish_rtc: write of size %u at invalid offset 0x%" PRIx64
                       " ignored", size, (uint64_t)off);
        break;
    }
    return PV_ACCESS_OK;
}

static const MemoryRegionOps rtc_ops = {
    .read = rtc_read,
    .write = rtc_write,
    /* 32-bit registers; an 8-byte read at TIME_LOW is split into TIME_LOW
     * then TIME_HIGH, which is the latched pair. */
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void rtc_finalize(PvDevice *dev)
{
    PvGoldfishRtc *r = (PvGoldfishRtc *)dev;

    pv_timer_free(r->timer);    /* no lock held: may wait for alarm_cb */
    memory_region_destroy(&r->mmio);
    free(r);
}

static PvDeviceClass rtc_class = {
    .type = "goldfish_rtc",
    .lock_class = PV_LOCK_CLASS_INIT("goldfish_rtc", PV_LOCK_KIND_DEVICE),
    .finalize = rtc_finalize,
};

PvGoldfishRtc *pv_goldfish_rtc_new(PvVm *vm, PvEventLoop *loop, const PvIrq *irq)
{
    PvGoldfishRtc *r = calloc(1, sizeof(*r));

    if (!r) {
        return NULL;
    }
    r->timer = pv_timer_new(loop, alarm_cb, r);
    if (!r->timer) {
        free(r);
        return NULL;
    }
    r->irq = *irq;
    atomic_init(&r->offset, 0);
    atomic_init(&r->alarm_next, 0);
    atomic_init(&r->flags, 0);
    pv_device_init(&r->dev, &rtc_class, vm, "rtc");
    memory_region_init_io(&r->mmio, vm, &r->dev, &rtc_ops, r, "goldfish_rtc",
                          PV_GOLDFISH_RTC_SIZE);
    memory_region_set_dispatch_mode(&r->mmio, PV_DISPATCH_LOCKLESS);
    return r;
}

void pv_goldfish_rtc_reset(PvGoldfishRtc *r)
{
    pv_timer_cancel(r->timer);
    atomic_store(&r->alarm_next, 0);
    atomic_store(&r->flags, 0);
    update_irq(r);
}

MemoryRegion *pv_goldfish_rtc_mmio(PvGoldfishRtc *r)
{
    return &r->mmio;
}

PvDevice *pv_goldfish_rtc_device(PvGoldfishRtc *r)
{
    return &r->dev;
}

void pv_goldfish_rtc_destroy(PvGoldfishRtc *r)
{
    pv_device_unrealize(&r->dev);
    pv_device_unref(&r->dev);
}
