/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 16550A UART: reset values, transmit through a pipe, THRE and data-ready
 * interrupts with IIR's priorities, divisor latch, FIFO trigger level and
 * character timeout, loopback, and input through the event loop with
 * backpressure: 10000 bytes, none lost, FIFOs off and on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/hw/uart.h"
#include "parvm/rcu.h"


#define BASE 0x10000000
enum { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

typedef struct Rig {
    Fixture f;
    PvEventLoop *loop;
    PvUart *uart;
    int out[2];     /* what the guest transmits */
    int in[2];      /* what the guest receives */
    atomic_bool irq;
} Rig;

static void irq_set(void *opaque, unsigned n, bool level)
{
    (void)n;
    atomic_store(&((Rig *)opaque)->irq, level);
}

static void rig_init(Rig *r)
{
    fixture_init(&r->f);
    atomic_init(&r->irq, false);
    r->loop = pv_event_loop_new();
    CHECK(r->loop && pv_event_loop_start(r->loop) == 0);
    CHECK(pipe(r->out) == 0 && pipe(r->in) == 0);
    fcntl(r->out[0], F_SETFL, O_NONBLOCK);
    PvIrq irq = pv_irq_make(irq_set, r, 10);
    r->uart = pv_uart_new(&r->f.vm, r->loop, &irq, r->out[1]);
    CHECK(r->uart != NULL);
    fixture_map(&r->f, pv_uart_mmio(r->uart), BASE);
}

static void rig_destroy(Rig *r)
{
    pv_uart_destroy(r->uart);
    fixture_destroy(&r->f);     /* finalize detaches the input */
    pv_event_loop_free(r->loop);
    close(r->out[0]);
    close(r->out[1]);
    close(r->in[0]);
    if (r->in[1] >= 0) {
        close(r->in[1]);
    }
}

static uint8_t rd(Rig *r, hwaddr reg)
{
    uint64_t v = 0;
    CHECK(address_space_read(&r->f.as, BASE + reg, 1, &v) == PV_ACCESS_OK);
    return (uint8_t)v;
}

static void wr(Rig *r, hwaddr reg, uint8_t v)
{
    CHECK(address_space_write(&r->f.as, BASE + reg, 1, v) == PV_ACCESS_OK);
}

static void test_reset_values(void)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ_U64(rd(&r, LSR), 0x60);
    CHECK_EQ_U64(rd(&r, IIR), 0x01);
    CHECK_EQ_U64(rd(&r, IER), 0);
    CHECK_EQ_U64(rd(&r, LCR), 0);
    CHECK_EQ_U64(rd(&r, MCR), 0x08);
    CHECK_EQ_U64(rd(&r, MSR), 0xb0);
    CHECK(!atomic_load(&r.irq));
    rig_destroy(&r);
}

static void test_transmit_and_thre(void)
{
    Rig r;
    char buf[16] = { 0 };
    rig_init(&r);

    wr(&r, THR, 'h');
    wr(&r, THR, 'i');
    CHECK(read(r.out[0], buf, sizeof(buf)) == 2);
    CHECK(memcmp(buf, "hi", 2) == 0);
    CHECK_EQ_U64(rd(&r, LSR) & 0x60, 0x60);     /* sent at once */
    CHECK(!atomic_load(&r.irq));                /* THRI not enabled */

    /* Enabling THRI with THR empty interrupts at once. */
    wr(&r, IER, 0x02);
    CHECK(atomic_load(&r.irq));
    CHECK_EQ_U64(rd(&r, IIR), 0x02);            /* reading acknowledges */
    CHECK(!atomic_load(&r.irq));
    CHECK_EQ_U64(rd(&r, IIR), 0x01);
    wr(&r, THR, '!');
    CHECK(atomic_load(&r.irq));
    /* 4-byte access at offset 0 is THR, as QEMU's serial_mm. */
    CHECK(address_space_write(&r.f.as, BASE, 4, '?') == PV_ACCESS_OK);
    CHECK(read(r.out[0], buf, sizeof(buf)) == 2);
    CHECK(memcmp(buf, "!?", 2) == 0);
    wr(&r, IER, 0);
    CHECK(!atomic_load(&r.irq));
    rig_destroy(&r);
}

static void test_divisor_and_scratch(void)
{
    Rig r;
    char buf[4];
    rig_init(&r);

    wr(&r, LCR, 0x83);
    wr(&r, 0, 0x01);
    wr(&r, 1, 0x02);
    CHECK_EQ_U64(rd(&r, 0), 0x01);
    CHECK_EQ_U64(rd(&r, 1), 0x02);
    CHECK(read(r.out[0], buf, sizeof(buf)) < 0);    /* DLL write sent nothing */
    wr(&r, LCR, 0x03);
    CHECK_EQ_U64(rd(&r, LCR), 0x03);
    CHECK_EQ_U64(rd(&r, IER), 0);
    wr(&r, SCR, 0x5a);
    CHECK_EQ_U64(rd(&r, SCR), 0x5a);
    /* Past the eight registers nothing is mapped, as on QEMU: unassigned. */
    uint64_t v;
    CHECK(address_space_write(&r.f.as, BASE + 0x10, 1, 1) == PV_ACCESS_UNASSIGNED);
    CHECK(address_space_read(&r.f.as, BASE + 0xff, 1, &v) == PV_ACCESS_UNASSIGNED);
    CHECK_EQ_U64(v, 0xff);
    rig_destroy(&r);
}

static void test_loopback(void)
{
    Rig r;
    char buf[4];
    rig_init(&r);

    wr(&r, MCR, 0x1f);
    CHECK_EQ_U64(rd(&r, MSR), 0xf0);
    wr(&r, IER, 0x01);
    wr(&r, THR, 'z');
    CHECK(read(r.out[0], buf, sizeof(buf)) < 0);    /* not on the line */
    CHECK(atomic_load(&r.irq));
    CHECK_EQ_U64(rd(&r, IIR), 0x04);
    CHECK_EQ_U64(rd(&r, LSR) & 1, 1);
    CHECK_EQ_U64(rd(&r, RBR), 'z');
    CHECK(!atomic_load(&r.irq));
    /* A second byte before the first is read: overrun, as a 16450. */
    wr(&r, THR, '1');
    wr(&r, THR, '2');
    CHECK_EQ_U64(rd(&r, LSR) & 0x03, 0x03);
    CHECK_EQ_U64(rd(&r, LSR) & 0x02, 0);        /* OE clears on read */
    CHECK_EQ_U64(rd(&r, RBR), '2');
    rig_destroy(&r);
}

static void test_rx_interrupt(void)
{
    Rig r;
    rig_init(&r);
    CHECK(pv_uart_attach_input(r.uart, r.loop, r.in[0]) == 0);
    CHECK(pv_uart_attach_input(r.uart, r.loop, r.in[0]) == -EBUSY);

    wr(&r, IER, 0x03);                  /* RDI and THRI */
    CHECK(atomic_load(&r.irq));         /* THRE */
    CHECK(write(r.in[1], "ab", 2) == 2);
    CHECK(WAIT_FOR(rd(&r, LSR) & 1, 2000));
    /* Data ready outranks THRE. */
    CHECK_EQ_U64(rd(&r, IIR), 0x04);
    CHECK_EQ_U64(rd(&r, RBR), 'a');
    CHECK(WAIT_FOR(rd(&r, LSR) & 1, 2000));
    CHECK_EQ_U64(rd(&r, RBR), 'b');
    CHECK_EQ_U64(rd(&r, IIR), 0x02);    /* then THRE, acknowledged */
    CHECK_EQ_U64(rd(&r, IIR), 0x01);
    CHECK(!atomic_load(&r.irq));
    CHECK(write(r.in[1], "c", 1) == 1);
    CHECK(WAIT_FOR(atomic_load(&r.irq), 2000));
    CHECK_EQ_U64(rd(&r, RBR), 'c');
    CHECK(!atomic_load(&r.irq));

    /* End of file: the input detaches, the UART keeps working. */
    close(r.in[1]);
    r.in[1] = -1;
    usleep(20000);
    CHECK_EQ_U64(rd(&r, LSR) & 1, 0);
    rig_destroy(&r);
}

static void test_fifo_trigger_and_timeout(void)
{
    Rig r;
    rig_init(&r);
    CHECK(pv_uart_attach_input(r.uart, r.loop, r.in[0]) == 0);

    /* Slowest baud rate: the character timeout is seconds away. */
    wr(&r, LCR, 0x80);
    wr(&r, 0, 0xff);
    wr(&r, 1, 0xff);
    wr(&r, LCR, 0x03);
    wr(&r, FCR, 0x41);                  /* FIFOs on, trigger level 4 */
    CHECK_EQ_U64(rd(&r, IIR), 0xc1);
    wr(&r, IER, 0x01);
    CHECK(write(r.in[1], "abc", 3) == 3);
    CHECK(WAIT_FOR(rd(&r, LSR) & 1, 2000));
    usleep(5000);
    CHECK(!atomic_load(&r.irq));        /* 3 < 4 and no timeout yet */
    CHECK(write(r.in[1], "d", 1) == 1);
    CHECK(WAIT_FOR(atomic_load(&r.irq), 2000));
    CHECK_EQ_U64(rd(&r, IIR), 0xc4);
    CHECK_EQ_U64(rd(&r, RBR), 'a');
    CHECK(!atomic_load(&r.irq));        /* below the trigger again */

    /* Fast baud rate: the remaining bytes come by character timeout. */
    wr(&r, LCR, 0x80);
    wr(&r, 0, 0x01);
    wr(&r, 1, 0x00);
    wr(&r, LCR, 0x03);
    CHECK_EQ_U64(rd(&r, RBR), 'b');     /* re-arms the timeout */
    CHECK(WAIT_FOR(atomic_load(&r.irq), 2000));
    CHECK_EQ_U64(rd(&r, IIR), 0xcc);
    CHECK_EQ_U64(rd(&r, RBR), 'c');
    CHECK_EQ_U64(rd(&r, RBR), 'd');
    CHECK_EQ_U64(rd(&r, LSR) & 1, 0);
    CHECK(!atomic_load(&r.irq));

    /* Receiver FIFO reset drops what is there. */
    CHECK(write(r.in[1], "xy", 2) == 2);
    CHECK(WAIT_FOR(rd(&r, LSR) & 1, 2000));
    wr(&r, FCR, 0x43);
    CHECK_EQ_U64(rd(&r, LSR) & 1, 0);
    rig_destroy(&r);
}

/* ---- backpressure ---- */

#define NBYTES 10000

typedef struct Writer {
    int fd;
    pthread_t th;
} Writer;

static uint8_t pattern(unsigned i)
{
    return (uint8_t)(i * 7 + i / 251);
}

static void *writer_fn(void *opaque)
{
    Writer *w = opaque;
    uint8_t buf[NBYTES];

    for (unsigned i = 0; i < NBYTES; i++) {
        buf[i] = pattern(i);
    }
    /* Blocking writes in chunks: the pipe fills while the guest is slow. */
    for (size_t done = 0; done < NBYTES;) {
        ssize_t r = write(w->fd, buf + done, NBYTES - done < 1000 ? NBYTES - done : 1000);
        if (r <= 0) {
            break;
        }
        done += (size_t)r;
    }
    return NULL;
}

static void backpressure(bool fifo)
{
    Rig r;
    Writer w;
    unsigned got = 0, bad = 0, overruns = 0;

    rig_init(&r);
    fcntl(r.in[1], F_SETPIPE_SZ, 4096);     /* small pipe: the writer blocks */
    if (fifo) {
        wr(&r, FCR, 0xc7);                  /* FIFOs on, trigger 14 */
    }
    CHECK(pv_uart_attach_input(r.uart, r.loop, r.in[0]) == 0);
    w.fd = r.in[1];
    pthread_create(&w.th, NULL, writer_fn, &w);

    int64_t deadline = pv_clock_ns() + 60 * PV_NS_PER_SEC;
    while (got < NBYTES && pv_clock_ns() < deadline) {
        uint8_t lsr = rd(&r, LSR);
        overruns += !!(lsr & 0x02);
        if (lsr & 1) {
            bad += rd(&r, RBR) != pattern(got);
            got++;
            /* A slow guest now and then: the FIFO fills up. */
            if (got % 1000 == 0) {
                usleep(2000);
            }
        } else {
            pv_rcu_quiescent();
        }
    }
    pv_rcu_offline();
    pthread_join(w.th, NULL);
    pv_rcu_online();
    CHECK_EQ_U64(got, NBYTES);
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(overruns, 0);
    CHECK_EQ_U64(rd(&r, LSR) & 1, 0);
    rig_destroy(&r);
}

static void test_backpressure_no_fifo(void)
{
    backpressure(false);
}

static void test_backpressure_fifo(void)
{
    backpressure(true);
}

PV_TEST_MAIN(
    TEST(test_reset_values),
    TEST(test_transmit_and_thre),
    TEST(test_divisor_and_scratch),
    TEST(test_loopback),
    TEST(test_rx_interrupt),
    TEST(test_fifo_trigger_and_timeout),
    TEST(test_backpressure_no_fifo),
    TEST(test_backpressure_fifo),
)
