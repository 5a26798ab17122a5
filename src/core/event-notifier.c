/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "parvm/event-notifier.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int pv_event_notifier_init(PvEventNotifier *e)
{
    e->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return e->fd < 0 ? -errno : 0;
}

void pv_event_notifier_cleanup(PvEventNotifier *e)
{
    if (e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
}

void pv_event_notifier_set(PvEventNotifier *e)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the waiter will see it set. */
    while (write(e->fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

bool pv_event_notifier_test_and_clear(PvEventNotifier *e)
{
    uint64_t v;
    ssize_t r;
    do {
        r = read(e->fd, &v, sizeof(v));
    } while (r < 0 && errno == EINTR);
    return r == (ssize_t)sizeof(v) && v > 0;
}
