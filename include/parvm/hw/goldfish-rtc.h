/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Goldfish RTC (google,goldfish-rtc) as in QEMU's virt board: a 0x1000
 * region of 32-bit registers:
 *   0x00 TIME_LOW         read: low half of now, latches TIME_HIGH; write:
 *                         sets the low half of the time
 *   0x04 TIME_HIGH        read: the half latched by the last TIME_LOW read;
 *                         write: sets the high half of the time
 *   0x08 ALARM_LOW        write: low half of the alarm, and arms it
 *   0x0c ALARM_HIGH       write: high half of the alarm (arm with ALARM_LOW)
 *   0x10 IRQ_ENABLED      bit 0
 *   0x14 CLEAR_ALARM      write: disarm
 *   0x18 ALARM_STATUS     read: 1 while an alarm is armed
 *   0x1c CLEAR_INTERRUPT  write: drop the pending alarm interrupt
 * Time is nanoseconds since the Unix epoch: host CLOCK_REALTIME plus an
 * offset that time writes adjust.  The IRQ line is high while an alarm
 * fired, is not cleared, and IRQ_ENABLED is set.
 *
 * Dispatch mode LOCKLESS: reading the time takes no lock (S10); the
 * latched high word, the offset and the alarm state are atomics.  The alarm
 * is an event-loop timer; it raises the line from the I/O thread.
 */
#ifndef PARVM_HW_GOLDFISH_RTC_H
#define PARVM_HW_GOLDFISH_RTC_H

#include "parvm/device.h"
#include "parvm/event-loop.h"
#include "parvm/irq.h"
#include "parvm/memory.h"

#define PV_GOLDFISH_RTC_SIZE 0x1000

typedef struct PvGoldfishRtc PvGoldfishRtc;

/* NULL on allocation failure. */
PvGoldfishRtc *pv_goldfish_rtc_new(PvVm *vm, PvEventLoop *loop, const PvIrq *irq);

/* System reset, as QEMU's: alarm stopped, interrupt disabled and not
 * pending; the time keeps running (its offset from host time stays).  Any
 * thread, never waits (an alarm callback already running finds the alarm
 * stopped). */
void pv_goldfish_rtc_reset(PvGoldfishRtc *r);

MemoryRegion *pv_goldfish_rtc_mmio(PvGoldfishRtc *r);
PvDevice *pv_goldfish_rtc_device(PvGoldfishRtc *r);

/* Unrealize and drop the creator's reference; finalize waits for a running
 * alarm callback and frees. */
void pv_goldfish_rtc_destroy(PvGoldfishRtc *r);

#endif
