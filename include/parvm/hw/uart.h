/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 16550A UART (ns16550a) as in QEMU's virt board: a 0x100 region whose
 * first 8 bytes are the registers (reg-shift 0, one byte each; an access of
 * any width at offset n reads or writes register n):
 *   0 RBR (read) / THR (write); DLL when LCR.DLAB
 *   1 IER; DLM when LCR.DLAB
 *   2 IIR (read) / FCR (write)
 *   3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
 * 16-byte RX FIFO with trigger levels and the character-timeout interrupt;
 * transmission is immediate (THR empties at once), so the TX FIFO never
 * fills.  MCR loopback sends THR to the receiver and MSR reflects MCR.
 * Offsets 8..0xff are guest errors (read 0).
 *
 * Dispatch mode DEVICE: the registers are under the UART's own device lock.
 * Output is write(2) to the fd given at creation, under that lock.  Input
 * comes from the I/O thread (pv_uart_attach_input()), which gets the same
 * lock without ever waiting for it (device work, trylock flow) to push
 * bytes into the RX FIFO; when the FIFO (or, FIFOs off, RBR)
 * is full it stops reading the fd until the guest drains it: no byte is
 * dropped.  The IRQ line is set under the device lock.
 */
#ifndef PARVM_HW_UART_H
#define PARVM_HW_UART_H

#include "parvm/device.h"
#include "parvm/event-loop.h"
#include "parvm/irq.h"
#include "parvm/memory.h"

/* Eight registers, one byte apart: QEMU's serial_mm region (reg-shift 0).
 * The board's device tree still says 0x100, as QEMU's does; the bytes past
 * the eighth are unassigned, so a guest access there faults as on QEMU. */
#define PV_UART_SIZE 0x8
/* The virt board's clock: QEMU passes 399193 as the baud base. */
#define PV_UART_BAUDBASE 399193

typedef struct PvUart PvUart;

/*
 * Create the UART.  Transmitted bytes go to @out_fd (-1: dropped); the
 * caller keeps ownership of the fd.  @loop runs the character-timeout
 * timer and, once attached, the input.  NULL on allocation failure.
 */
PvUart *pv_uart_new(PvVm *vm, PvEventLoop *loop, const PvIrq *irq, int out_fd);

/* System reset: registers as at power-on, RX FIFO emptied, interrupt
 * low.  Any thread holding no lock; takes the device lock. */
void pv_uart_reset(PvUart *u);

MemoryRegion *pv_uart_mmio(PvUart *u);
PvDevice *pv_uart_device(PvUart *u);

/*
 * Make the I/O thread read @fd into the RX FIFO (the board passes stdin).
 * Sets O_NONBLOCK on @fd (as QEMU does for stdio).  At end of file the
 * input detaches itself.  Any thread that does not hold the UART's lock.
 * Returns 0 or -errno.  The caller keeps ownership of the fd, which must
 * stay open until the UART is finalized.
 */
int pv_uart_attach_input(PvUart *u, PvEventLoop *loop, int fd);

/*
 * The only way to remove the UART (not a bare pv_device_unrealize(): the
 * I/O thread's callbacks take the device lock, which the core destroys
 * before finalize).  Unrealizes, detaches the input and stops the timer,
 * waiting for callbacks already running, then drops the creator's
 * reference.  Same rules as pv_device_unrealize(): no lock held, not in a
 * dispatch, not on the I/O thread.
 */
void pv_uart_destroy(PvUart *u);

#endif
