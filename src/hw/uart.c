/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 16550A UART: see include/parvm/hw/uart.h for the register map.
 *
 * Everything below "under dev.lock" is only touched with the device lock
 * held: by MMIO handlers (dispatch mode DEVICE takes it for us), by the
 * I/O thread's input callback and by the character-timeout timer callback.
 * Those two never wait for the lock (a vCPU may hold it): they submit
 * device work in the trylock flow and, if the lock is busy, run again from
 * a bottom half while vCPUs yield to them (device-work.h).  Under it we
 * take only leaf locks:
 * the event loop's (timers, fd handler) and the interrupt controller's.
 */
#include "parvm/hw/uart.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "parvm/clock.h"
#include "parvm/device-work.h"

#define FIFO_LEN 16

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_ID 0x0f
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FE 0xc0

#define FCR_FE 0x01
#define FCR_RFR 0x02
#define FCR_XFR 0x04

#define LCR_DLAB 0x80

#define MCR_LOOP 0x10
#define MCR_OUT2 0x08

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_INT_ANY 0x1e

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80
#define MSR_ANY_DELTA 0x0f

struct PvUart {
    PvDevice dev;
    MemoryRegion mmio;
    PvIrq irq;
    int out_fd;
    PvTimer *fifo_timer;        /* character timeout */

    /* Under dev.lock. */
    uint8_t rbr, ier, iir, fcr, lcr, mcr, lsr, msr, scr;
    uint16_t divider;
    uint8_t rx[FIFO_LEN];
    unsigned rx_head, rx_count, rx_itl;
    bool thr_ipending, timeout_ipending;
    bool irq_level;             /* last level set on irq */
    int64_t char_ns;            /* time to transmit one frame */

    /* The I/O thread's callbacks reach the lock through device work
     * (trylock flow: never waiting on a vCPU inside a UART handler); a
     * busy lock re-runs them from retry_bh. */
    PvDeviceWork input_work, timeout_work;
    atomic_bool retry_input, retry_timeout;
    PvBH *retry_bh;

    PvEventLoop *in_loop;       /* input: set once by attach */
    int in_fd;                  /* -1: no input */
    bool in_paused;             /* fd handler removed for backpressure */
};

static void update_irq_locked(PvUart *u)
{
    uint8_t id = IIR_NO_INT;

    /* The 16550's priorities, highest first. */
    if ((u->ier & IER_RLSI) && (u->lsr & LSR_INT_ANY)) {
        id = IIR_RLSI;
    } else if ((u->ier & IER_RDI) && u->timeout_ipending) {
        id = IIR_CTI;
    } else if ((u->ier & IER_RDI) && (u->lsr & LSR_DR) &&
               (!(u->fcr & FCR_FE) || u->rx_count >= u->rx_itl)) {
        id = IIR_RDI;
    } else if ((u->ier & IER_THRI) && u->thr_ipending) {
        id = IIR_THRI;
    } else if ((u->ier & IER_MSI) && (u->msr & MSR_ANY_DELTA)) {
        id = IIR_MSI;
    }
    u->iir = id | (u->iir & 0xf0);

    bool level = id != IIR_NO_INT;
    if (level != u->irq_level) {
        u->irq_level = level;
        pv_irq_set(&u->irq, level);
    }
}

static void update_params_locked(PvUart *u)
{
    unsigned frame = 1 + (u->lcr & 3) + 5 + ((u->lcr & 4) ? 2 : 1) + ((u->lcr & 8) ? 1 : 0);
    unsigned speed;

    if (u->divider == 0) {
        return;
    }
    speed = PV_UART_BAUDBASE / u->divider;
    if (speed == 0) {
        speed = 1;
    }
    u->char_ns = (PV_NS_PER_SEC / speed) * frame;
}

/* ---- receive side ------------------------------------------------------ */

static void arm_char_timeout_locked(PvUart *u)
{
    pv_timer_mod(u->fifo_timer, pv_clock_ns() + 4 * u->char_ns);
}

/* How many bytes the receiver takes now.  As QEMU: with FIFOs, up to the
 * trigger level, then one at a time, so the guest sees its trigger level
 * honoured rather than a FIFO that is always filled at once. */
static unsigned can_receive_locked(const PvUart *u)
{
    if (u->fcr & FCR_FE) {
        if (u->rx_count >= FIFO_LEN) {
            return 0;
        }
        return u->rx_count < u->rx_itl ? u->rx_itl - u->rx_count : 1;
    }
    return !(u->lsr & LSR_DR);
}

static void receive_locked(PvUart *u, const uint8_t *buf, unsigned n)
{
    if (u->fcr & FCR_FE) {
        for (unsigned i = 0; i < n; i++) {
            if (u->rx_count < FIFO_LEN) {
                u->rx[(u->rx_head + u->rx_count++) % FIFO_LEN] = buf[i];
            } else {
                u->lsr |= LSR_OE;   /* overrun keeps the FIFO's contents */
            }
        }
        u->lsr |= LSR_DR;
        arm_char_timeout_locked(u);
    } else {
        if (u->lsr & LSR_DR) {
            u->lsr |= LSR_OE;
        }
        u->rbr = buf[n - 1];
        u->lsr |= LSR_DR;
    }
    update_irq_locked(u);
}

static void uart_input_cb(void *opaque);

static void pause_input_locked(PvUart *u)
{
    if (!u->in_paused) {
        u->in_paused = true;
        pv_event_loop_set_fd(u->in_loop, u->in_fd, NULL, NULL, NULL);
    }
}

/* The guest made room: read the fd again.  0 or -errno from the loop. */
static int resume_input_locked(PvUart *u)
{
    int r = 0;

    if (u->in_fd >= 0 && u->in_paused && can_receive_locked(u) > 0) {
        r = pv_event_loop_set_fd(u->in_loop, u->in_fd, uart_input_cb, NULL, u);
        u->in_paused = r < 0;
    }
    return r;
}

static void detach_input_locked(PvUart *u)
{
    if (u->in_fd >= 0) {
        pv_event_loop_set_fd(u->in_loop, u->in_fd, NULL, NULL, NULL);
        u->in_fd = -1;
    }
}

/* Under dev.lock (device work): read what the FIFO can take. */
static void uart_input_run(PvDeviceWork *w)
{
    PvUart *u = w->opaque;
    uint8_t buf[FIFO_LEN];

    /* A spurious call after a pause or detach is harmless: look again. */
    if (u->in_fd < 0 || u->in_paused) {
        return;
    }
    unsigned n = can_receive_locked(u);
    if (n == 0) {
        pause_input_locked(u);
        return;
    }
    ssize_t r = read(u->in_fd, buf, n);
    if (r > 0) {
        receive_locked(u, buf, (unsigned)r);
        if (can_receive_locked(u) == 0) {
            pause_input_locked(u);
        }
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        detach_input_locked(u);     /* end of file or a broken fd */
    }
}

/* Under dev.lock (device work): 4 character times passed without a read. */
static void uart_timeout_run(PvDeviceWork *w)
{
    PvUart *u = w->opaque;

    if ((u->fcr & FCR_FE) && u->rx_count) {
        u->timeout_ipending = true;
        update_irq_locked(u);
    }
}

/* Lock busy: try again from the bottom half.  Any thread, never waits. */
static void uart_retry(PvDeviceWork *w)
{
    PvUart *u = w->opaque;

    atomic_store(w == &u->input_work ? &u->retry_input : &u->retry_timeout, true);
    pv_bh_schedule(u->retry_bh);
}

/* I/O thread, no lock held. */
static void uart_retry_cb(void *opaque)
{
    PvUart *u = opaque;

    if (atomic_exchange(&u->retry_input, false)) {
        pv_device_work_submit(&u->dev, &u->input_work);
    }
    if (atomic_exchange(&u->retry_timeout, false)) {
        pv_device_work_submit(&u->dev, &u->timeout_work);
    }
}

/* I/O thread, no lock held: the input fd is readable. */
static void uart_input_cb(void *opaque)
{
    PvUart *u = opaque;
    pv_device_work_submit(&u->dev, &u->input_work);
}

/* I/O thread, no lock held: the character timeout fired. */
static void uart_fifo_timeout_cb(void *opaque)
{
    PvUart *u = opaque;
    pv_device_work_submit(&u->dev, &u->timeout_work);
}

/* ---- transmit side ----------------------------------------------------- */

static void transmit_locked(PvUart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        receive_locked(u, &byte, 1);
    } else if (u->out_fd >= 0) {
        ssize_t r;
        do {
            r = write(u->out_fd, &byte, 1);
        } while (r < 0 && errno == EINTR);
        /* A full non-blocking output drops the byte, as a serial line
         * with nobody listening would. */
    }
    /* Sent at once: THR and the shift register are empty again. */
    u->lsr |= LSR_THRE | LSR_TEMT;
    u->thr_ipending = true;
    update_irq_locked(u);
}

/* ---- registers ---------------------------------------------------------- */

static uint8_t read_rbr_locked(PvUart *u)
{
    uint8_t ret;

    if (u->fcr & FCR_FE) {
        ret = 0;
        if (u->rx_count) {
            ret = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % FIFO_LEN;
            u->rx_count--;
        }
        if (u->rx_count == 0) {
            u->lsr &= ~(LSR_DR | LSR_BI);
        } else {
            arm_char_timeout_locked(u);
        }
        u->timeout_ipending = false;
    } else {
        ret = u->rbr;
        u->lsr &= ~(LSR_DR | LSR_BI);
    }
    update_irq_locked(u);
    if (!(u->mcr & MCR_LOOP)) {
        resume_input_locked(u);
    }
    return ret;
}

static PvAccessStatus uart_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    PvUart *u = opaque;
    uint8_t ret = 0;

    switch (off) {
    case 0:
        ret = (u->lcr & LCR_DLAB) ? (uint8_t)u->divider : read_rbr_locked(u);
        break;
    case 1:
        ret = (u->lcr & LCR_DLAB) ? (uint8_t)(u->divider >> 8) : u->ier;
        break;
    case 2:
        ret = u->iir;
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if ((ret & IIR_ID) == IIR_THRI) {
            u->thr_ipending = false;
            update_irq_locked(u);
        }
        break;
    case 3:
        ret = u->lcr;
        break;
    case 4:
        ret = u->mcr;
        break;
    case 5:
        ret = u->lsr;
        if (u->lsr & (LSR_BI | LSR_OE)) {
            u->lsr &= ~(LSR_BI | LSR_OE);
            update_irq_locked(u);
        }
        break;
    case 6:
        if (u->mcr & MCR_LOOP) {
            /* Loopback wires the modem outputs to the inputs. */
            ret = (uint8_t)(((u->mcr & 0x0c) << 4) | ((u->mcr & 0x02) << 3) |
                            ((u->mcr & 0x01) << 5));
        } else {
            ret = u->msr;
            if (u->msr & MSR_ANY_DELTA) {
                u->msr &= 0xf0;
                update_irq_locked(u);
            }
        }
        break;
    case 7:
        ret = u->scr;
        break;
    default:
        pv_guest_error(u->dev.vm, "uart: read of size %u at unimplemented offset 0x%" PRIx64,
                       size, (uint64_t)off);
        break;
    }
    *val = ret;
    return PV_ACCESS_OK;
}

static void write_fcr_locked(PvUart *u, uint8_t val)
{
    static const unsigned itl[4] = { 1, 4, 8, 14 };

    if (u->fcr == val) {
        return;
    }
    /* Switching the FIFOs on or off flushes them. */
    if ((val ^ u->fcr) & FCR_FE) {
        val |= FCR_RFR | FCR_XFR;
    }
    if (val & FCR_RFR) {
        pv_timer_cancel(u->fifo_timer);
        u->timeout_ipending = false;
        u->rx_head = u->rx_count = 0;
        u->lsr &= ~(LSR_DR | LSR_BI);
    }
    /* Nothing to flush on transmit: bytes leave at once. */
    if (val & FCR_FE) {
        u->iir |= IIR_FE;
        u->rx_itl = itl[val >> 6];
    } else {
        u->iir &= ~IIR_FE;
    }
    u->fcr = val & 0xc9;    /* the bits that stick */
    update_irq_locked(u);
    resume_input_locked(u);
}

static PvAccessStatus uart_write(void *opaque, hwaddr off, unsigned size, uint64_t val64)
{
    PvUart *u = opaque;
    uint8_t val = (uint8_t)val64;

    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB) {
            u->divider = (uint16_t)((u->divider & 0xff00) | val);
            update_params_locked(u);
        } else {
            u->thr_ipending = false;
            u->lsr &= ~(LSR_THRE | LSR_TEMT);
            transmit_locked(u, val);
        }
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->divider = (uint16_t)((u->divider & 0x00ff) | (val << 8));
            update_params_locked(u);
        } else {
            uint8_t changed = (u->ier ^ val) & 0x0f;
            u->ier = val & 0x0f;
            /* Enabling THRI with THR empty raises it (Windows relies on
             * it; QEMU and Bochs do this on the rising edge). */
            if (changed & IER_THRI) {
                u->thr_ipending = (u->ier & IER_THRI) && (u->lsr & LSR_THRE);
            }
            if (changed) {
                update_irq_locked(u);
            }
        }
        break;
    case 2:
        write_fcr_locked(u, val);
        break;
    case 3:
        u->lcr = val;
        update_params_locked(u);
        break;
    case 4:
        u->mcr = val & 0x1f;
        if (!(u->mcr & MCR_LOOP)) {
            resume_input_locked(u);
        }
        break;
    case 5:
    case 6:
        break;      /* LSR and MSR are read-only; writes are ignored */
    case 7:
        u->scr = val;
        break;
    default:
        pv_guest_error(u->dev.vm, "uart: write of size %u at unimplemented offset 0x%" PRIx64
                       " ignored", size, (uint64_t)off);
        break;
    }
    return PV_ACCESS_OK;
}

static const MemoryRegionOps uart_ops = {
    .read = uart_read,
    .write = uart_write,
    /* Like QEMU's serial_mm: any width, addressed by offset only. */
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* Power-on register state, as QEMU's; the RX FIFO emptied. */
static void reset_regs_locked(PvUart *u)
{
    u->rbr = u->ier = u->fcr = u->lcr = u->scr = 0;
    u->iir = IIR_NO_INT;
    u->lsr = LSR_TEMT | LSR_THRE;
    u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    u->mcr = MCR_OUT2;
    u->divider = 0x0c;
    u->rx_head = u->rx_count = 0;
    u->rx_itl = 1;
    u->thr_ipending = u->timeout_ipending = false;
    update_params_locked(u);
}

void pv_uart_reset(PvUart *u)
{
    pv_device_lock(&u->dev);
    reset_regs_locked(u);
    pv_timer_cancel(u->fifo_timer);
    update_irq_locked(u);
    /* The emptied FIFO has room again. */
    if (u->in_loop) {
        resume_input_locked(u);
    }
    pv_device_unlock(&u->dev);
}

static void uart_finalize(PvDevice *dev)
{
    PvUart *u = (PvUart *)dev;

    /* The core has destroyed dev->lock by now; pv_uart_destroy() made sure
     * that no callback of ours can take it any more. */
    pv_timer_free(u->fifo_timer);
    pv_bh_free(u->retry_bh);
    memory_region_destroy(&u->mmio);
    free(u);
}

static PvDeviceClass uart_class = {
    .type = "ns16550a",
    .lock_class = PV_LOCK_CLASS_INIT("ns16550a", PV_LOCK_KIND_DEVICE),
    .finalize = uart_finalize,
};

PvUart *pv_uart_new(PvVm *vm, PvEventLoop *loop, const PvIrq *irq, int out_fd)
{
    PvUart *u = calloc(1, sizeof(*u));

    if (!u) {
        return NULL;
    }
    u->fifo_timer = pv_timer_new(loop, uart_fifo_timeout_cb, u);
    u->retry_bh = pv_bh_new(loop, uart_retry_cb, u);
    if (!u->fifo_timer || !u->retry_bh) {
        pv_timer_free(u->fifo_timer);
        pv_bh_free(u->retry_bh);
        free(u);
        return NULL;
    }
    u->input_work = (PvDeviceWork){ .run = uart_input_run, .retry = uart_retry,
                                    .opaque = u, .flow = PV_FLOW_TRYLOCK };
    u->timeout_work = (PvDeviceWork){ .run = uart_timeout_run, .retry = uart_retry,
                                      .opaque = u, .flow = PV_FLOW_TRYLOCK };
    u->irq = *irq;
    u->out_fd = out_fd;
    u->in_fd = -1;
    reset_regs_locked(u);

    pv_device_init(&u->dev, &uart_class, vm, "uart");
    memory_region_init_io(&u->mmio, vm, &u->dev, &uart_ops, u, "serial", PV_UART_SIZE);
    memory_region_set_dispatch_mode(&u->mmio, PV_DISPATCH_DEVICE);
    return u;
}

int pv_uart_attach_input(PvUart *u, PvEventLoop *loop, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    int r = 0;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        return -errno;
    }
    pv_device_lock(&u->dev);
    if (u->in_loop || u->in_fd >= 0) {
        r = -EBUSY;     /* one input per UART, attached once */
        goto out;
    }
    u->in_loop = loop;
    u->in_fd = fd;
    u->in_paused = true;
    r = resume_input_locked(u);
    if (r < 0) {
        u->in_loop = NULL;
        u->in_fd = -1;
    }
out:
    pv_device_unlock(&u->dev);
    return r;
}

MemoryRegion *pv_uart_mmio(PvUart *u)
{
    return &u->mmio;
}

PvDevice *pv_uart_device(PvUart *u)
{
    return &u->dev;
}

void pv_uart_destroy(PvUart *u)
{
    PvEventLoop *in_loop;

    /* First no MMIO: only MMIO resumes the input or re-arms the timer
     * once the input is detached. */
    pv_device_unrealize(&u->dev);
    pv_device_lock(&u->dev);
    in_loop = u->in_loop;
    detach_input_locked(u);
    pv_timer_cancel(u->fifo_timer);
    pv_device_unlock(&u->dev);
    /* Then wait out the callbacks that had already started: they take
     * dev->lock, which finalize will find destroyed.  No lock held here. */
    if (in_loop) {
        pv_event_loop_quiesce(in_loop);
    }
    pv_timer_del(u->fifo_timer);
    /* A retry scheduled by a callback that started before the detach
     * finds the input gone, or no data: harmless, and waited for here. */
    pv_bh_free(u->retry_bh);
    u->retry_bh = NULL;
    pv_device_unref(&u->dev);
}
