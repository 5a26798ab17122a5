/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupt lines.  A device raises and lowers its output lines through a
 * PvIrq that the board connected to an interrupt controller input (or, for
 * the controllers themselves, to a hart's mip bit).  A device never touches
 * hart state or another device's header.
 *
 * Contract of every handler: it may be called from any thread, from any
 * dispatch mode (under the global lock, under a device lock, or lockless)
 * and from the I/O thread; it takes at most the interrupt controller's own
 * leaf lock (class kind PV_LOCK_KIND_CORE, taken after every other lock) and
 * never blocks on anything else; it never waits for a grace period.
 */
#ifndef PARVM_IRQ_H
#define PARVM_IRQ_H

#include <stdbool.h>
#include <stddef.h>

typedef void PvIrqHandler(void *opaque, unsigned n, bool level);

typedef struct PvIrq {
    PvIrqHandler *handler;   /* NULL: a line connected to nothing */
    void *opaque;
    unsigned n;              /* which input of the handler's owner */
} PvIrq;

static inline PvIrq pv_irq_make(PvIrqHandler *handler, void *opaque, unsigned n)
{
    return (PvIrq){ .handler = handler, .opaque = opaque, .n = n };
}

static inline void pv_irq_set(const PvIrq *irq, bool level)
{
    if (irq->handler) {
        irq->handler(irq->opaque, irq->n, level);
    }
}

static inline void pv_irq_raise(const PvIrq *irq)
{
    pv_irq_set(irq, true);
}

static inline void pv_irq_lower(const PvIrq *irq)
{
    pv_irq_set(irq, false);
}

#endif
