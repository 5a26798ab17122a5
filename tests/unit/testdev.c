/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "testdev.h"

#include <stdlib.h>
#include <string.h>

static PvAccessStatus td_read(void *opaque, hwaddr off, unsigned size, uint64_t *val)
{
    TestDev *td = opaque;
    uint64_t v = 0;

    if (off + size > TESTDEV_SIZE) {
        return PV_ACCESS_DEVICE_ERROR;
    }
    memcpy(&v, &td->regs[off], size);
    if (td->nlog < TESTDEV_LOG_MAX) {
        td->log[td->nlog++] = (TestDevAccess){
            .off = off, .size = size, .val = v, .is_write = false,
            .global_held = pv_mutex_held(&td->dev.vm->global_lock),
            .dev_lock_held = pv_mutex_held(&td->dev.lock),
        };
    }
    if (td->hook) {
        td->hook(td, off, false);
    }
    *val = v;
    return PV_ACCESS_OK;
}

static PvAccessStatus td_write(void *opaque, hwaddr off, unsigned size, uint64_t val)
{
    TestDev *td = opaque;

    if (off + size > TESTDEV_SIZE) {
        return PV_ACCESS_DEVICE_ERROR;
    }
    memcpy(&td->regs[off], &val, size);
    if (td->nlog < TESTDEV_LOG_MAX) {
        td->log[td->nlog++] = (TestDevAccess){
            .off = off, .size = size, .val = val, .is_write = true,
            .global_held = pv_mutex_held(&td->dev.vm->global_lock),
            .dev_lock_held = pv_mutex_held(&td->dev.lock),
        };
    }
    if (td->hook) {
        td->hook(td, off, true);
    }
    return PV_ACCESS_OK;
}

static void td_finalize(PvDevice *dev)
{
    TestDev *td = (TestDev *)dev;
    if (td->finalized) {
        *td->finalized = true;
    }
    memory_region_destroy(&td->mr);
    free(td);
}

PvDeviceClass testdev_class = {
    .type = "testdev",
    .lock_class = PV_LOCK_CLASS_INIT("testdev", PV_LOCK_KIND_DEVICE),
    .finalize = td_finalize,
};

PvDeviceClass testdev_peer_class = {
    .type = "testdev-peer",
    .lock_class = PV_LOCK_CLASS_INIT("testdev-peer", PV_LOCK_KIND_DEVICE),
    .finalize = td_finalize,
};

TestDev *testdev_new(PvVm *vm, PvDeviceClass *cls, const char *id, PvDispatchMode mode,
                     unsigned min, unsigned max, bool unaligned)
{
    TestDev *td = calloc(1, sizeof(*td));
    if (!td) {
        abort();
    }
    pv_device_init(&td->dev, cls, vm, id);
    td->ops = (MemoryRegionOps){
        .read = td_read, .write = td_write,
        .impl = { .min_access_size = min, .max_access_size = max, .unaligned = unaligned },
    };
    memory_region_init_io(&td->mr, vm, &td->dev, &td->ops, td, id, TESTDEV_SIZE);
    memory_region_set_dispatch_mode(&td->mr, mode);
    return td;
}

void testdev_clear_log(TestDev *td)
{
    td->nlog = 0;
}
