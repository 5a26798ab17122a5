/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: random virtqueue memory for the virtio core.  The
 * input is laid into guest RAM as the descriptor table, the available ring
 * and whatever indirect tables and buffers the descriptors point at; a few
 * leading bytes pick the queue's configuration (size, features, the ring
 * indices it starts from, ring placement).  The test echo device
 * (tests/virtio/rig.h) then pops, copies and pushes as a kick would, under
 * its lock.  ASan/UBSan watch the host; the checks below watch that the
 * device never writes guest memory it was not given.
 *
 * Built by fuzz/run.sh (clang, -Dfuzz=true).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig.h"
#include "parvm/dispatch.h"
#include "parvm/rcu.h"

#define QBASE (RIG_RAM_BASE + 0x10000)
#define WINDOW 0x10000u         /* RAM the input may fill, from QBASE */

static Rig *rig;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pv_rcu_register_thread();
    rig = calloc(1, sizeof(*rig));
    rig_init(rig, false);       /* no I/O thread: we process by hand */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Rig *r = rig;
    Echo *e = r->echo;
    Drv d;
    uint8_t zero[WINDOW];

    if (size < 8) {
        return 0;
    }
    uint8_t log_num = data[0] % 9;                  /* 1..256 */
    uint8_t flags = data[1];
    uint16_t start_idx = (uint16_t)(data[2] | data[3] << 8);
    uint16_t ring_shift = (uint16_t)(data[4] | data[5] << 8);
    uint8_t hold = data[6];
    data += 8;
    size -= 8;

    /* Clean window, then the input over it. */
    memset(zero, 0, sizeof(zero));
    address_space_rw(&r->f.as, QBASE, zero, WINDOW, true);
    address_space_rw(&r->f.as, QBASE, (void *)data, size < WINDOW ? size : WINDOW, true);

    uint64_t features = F_VERSION_1;
    if (flags & 1) {
        features |= F_EVENT_IDX;
    }
    if (flags & 2) {
        features |= F_INDIRECT;
    }
    if (!(drv_negotiate(r, features) & PV_VIRTIO_STATUS_FEATURES_OK)) {
        abort();
    }
    /* Rings where the driver put them (drv_queue's layout), or moved by a
     * fuzzed amount, possibly misaligned or out of RAM. */
    uint16_t num = (uint16_t)(1u << log_num);
    d = (Drv){ .r = r, .q = 0, .num = num, .desc = QBASE, .avail = QBASE + 0x1000,
               .used = QBASE + 0x2000 };
    if (flags & 4) {
        d.desc += ring_shift;
    }
    if (flags & 8) {
        d.avail += ring_shift;
    }
    if (flags & 16) {
        d.used = (flags & 32) ? RIG_ROM_BASE : RIG_VBASE;
    }
    reg_w(r, R_QUEUE_SEL, 0);
    reg_w(r, R_QUEUE_NUM, num);
    reg_w(r, R_DESC_LO, (uint32_t)d.desc);
    reg_w(r, R_DESC_HI, (uint32_t)(d.desc >> 32));
    reg_w(r, R_DRIVER_LO, (uint32_t)d.avail);
    reg_w(r, R_DRIVER_HI, (uint32_t)(d.avail >> 32));
    reg_w(r, R_DEVICE_LO, (uint32_t)d.used);
    reg_w(r, R_DEVICE_HI, (uint32_t)(d.used >> 32));
    reg_w(r, R_QUEUE_READY, 1);
    drv_driver_ok(r);

    pv_device_lock(&e->v.dev);
    /* As if the queue had run for a while. */
    e->v.vq[0].last_avail_idx = start_idx;
    e->v.vq[0].used_idx = start_idx;
    e->hold = hold & 1;
    echo_process(e, 0);
    pv_device_unlock(&e->v.dev);
    /* Held requests: some complete, the reset drops the rest. */
    if (hold & 2) {
        echo_complete_held(e);
    }
    reg_w(r, R_STATUS, 0);
    echo_complete_held(e);      /* old epoch: must not touch guest memory */
    /* Nothing outside RAM changed: the ROM page still reads zero. */
    for (unsigned i = 0; i < RIG_ROM_SIZE; i += 8) {
        if (ram_r(r, RIG_ROM_BASE + i, 8) != 0) {
            abort();
        }
    }
    pv_rcu_quiescent();
    return 0;
}
