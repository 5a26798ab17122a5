/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for src/core/device-work.c, linked into the virtio tests only
 * while the core has none (meson checks): every submission takes the lock
 * and runs the work at once, whatever its flow.  Enough for the transport,
 * which only submits from the I/O thread; the real flows are tested with
 * the real implementation.
 */
#include <string.h>

#include "parvm/device-work.h"

const char *pv_flow_name(PvFlow f)
{
    switch (f) {
    case PV_FLOW_TRYLOCK: return "trylock";
    case PV_FLOW_QUEUE: return "queue";
    case PV_FLOW_NOTIFY: return "notify";
    }
    return "?";
}

int pv_flow_parse(const char *s)
{
    for (int f = PV_FLOW_TRYLOCK; f <= PV_FLOW_NOTIFY; f++) {
        if (!strcmp(s, pv_flow_name((PvFlow)f))) {
            return f;
        }
    }
    return -1;
}

bool pv_device_work_submit(PvDevice *dev, PvDeviceWork *w)
{
    pv_mutex_lock(&dev->lock);
    w->run(w);
    pv_mutex_unlock(&dev->lock);
    return true;
}

void pv_device_lock_at(PvDevice *dev, const PvLockSite *site)
{
    pv_mutex_lock_at(&dev->lock, site);
}

bool pv_device_trylock_at(PvDevice *dev, const PvLockSite *site)
{
    return pv_mutex_trylock_at(&dev->lock, site);
}

void pv_device_unlock(PvDevice *dev)
{
    pv_mutex_unlock(&dev->lock);
}

void pv_device_work_stats(PvDevice *dev, PvDeviceWorkStats *out)
{
    (void)dev;
    memset(out, 0, sizeof(*out));
}
