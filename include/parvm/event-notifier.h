/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An eventfd-backed doorbell: one thread sets it, another waits on its fd
 * (epoll) and clears it.  The core uses it for MMIO write notifiers (S2):
 * a matching guest write signals the notifier instead of calling ops.
 */
#ifndef PARVM_EVENT_NOTIFIER_H
#define PARVM_EVENT_NOTIFIER_H

#include <stdbool.h>

typedef struct PvEventNotifier {
    int fd;
} PvEventNotifier;

/* Returns 0 or -errno. */
int pv_event_notifier_init(PvEventNotifier *e);
void pv_event_notifier_cleanup(PvEventNotifier *e);
/* Async-signal-safe and lock-free: one write(2) to the eventfd. */
void pv_event_notifier_set(PvEventNotifier *e);
/* Consume pending signals; true if there were any.  Never blocks. */
bool pv_event_notifier_test_and_clear(PvEventNotifier *e);

#endif
