/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the real virtio-blk (src/hw/virtio-blk.c) over a
 * 64 KiB temporary raw file (threads engine), with the I/O thread running.
 * Each input is laid into guest RAM as the request queue (descriptor
 * table, available ring) and buffers (request headers with whatever types
 * and sectors the fuzzer writes), then a script of operations runs: kicks
 * through QueueNotify (the I/O thread's path) or by hand, bounded waits
 * for the requests in flight, Status resets and QueueReady toggles with
 * I/O in flight, register writes, more ring entries, RAM rewrites, and
 * hot-unplug of the device (recreated for the next input).  ASan/UBSan
 * watch the host; fuzz-common.c's canary oracle watches guest RAM.
 * Built by fuzz/run.sh (clang, -Dfuzz=true).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "rig.h"
#include "wait.h"
#include "parvm/dispatch.h"
#include "parvm/hw/virtio-blk.h"
#include "parvm/rcu.h"

#define DISK (64u << 10)

typedef struct Blk {
    Rig r;
    FuzzRam ram;
    FuzzDrv d;
    PvVirtioBlk *blk;
    char path[64];
    PvBH *bh;
    atomic_bool bh_ran;
} Blk;

static Blk *g;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void blk_irq(void *opaque, unsigned n, bool level)
{
    (void)opaque;
    (void)n;
    (void)level;
}

static void barrier_bh(void *opaque)
{
    atomic_store(&((Blk *)opaque)->bh_ran, true);
}

/* Everything the I/O thread had been handed before this call has been
 * looked at (two loop iterations, bounded). */
static void io_barrier(Blk *b)
{
    for (int i = 0; i < 2; i++) {
        atomic_store(&b->bh_ran, false);
        pv_bh_schedule(b->bh);
        (void)WAIT_FOR(atomic_load(&b->bh_ran), 2000);
    }
}

static void settle(FuzzDrv *d)
{
    Blk *b = d->opaque;

    if (!b->blk) {
        return;
    }
    io_barrier(b);
    (void)WAIT_FOR(pv_virtio_blk_inflight(b->blk) == 0, 2000);
    io_barrier(b);
}

static void extra_op(FuzzDrv *d, FuzzIn *in)
{
    (void)in;
    settle(d);
}

static void create(Blk *b)
{
    char err[256];
    PvBlock *blk = pv_block_open(b->r.loop, b->path, false, PV_BLOCK_ENGINE_THREADS, err,
                                 sizeof(err), NULL, 0);
    if (!blk) {
        abort();
    }
    PvIrq irq = pv_irq_make(blk_irq, b, 2);
    b->blk = pv_virtio_blk_new(&b->r.f.vm, &b->r.f.as, b->r.loop, "vblk", &irq, blk, "fuzz",
                               PV_FLOW_TRYLOCK);
    if (!b->blk) {
        abort();
    }
    fixture_map(&b->r.f, pv_virtio_blk_mmio(b->blk), RIG_VBASE);
    b->d.v = pv_virtio_blk_virtio(b->blk);
}

/* Hot-unplug: the window goes, then the device (requests in flight are
 * waited for and dropped). */
static void remove_dev(FuzzDrv *d)
{
    Blk *b = d->opaque;
    PvVirtioBlk *blk = b->blk;

    b->blk = NULL;
    d->v = NULL;
    fixture_unmap(&b->r.f, pv_virtio_blk_mmio(blk));
    pv_virtio_blk_destroy(blk);
}

static void cleanup(void)
{
    unlink(g->path);        /* recreating the device reopens it */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pv_rcu_register_thread();
    g = calloc(1, sizeof(*g));
    if (!g) {
        abort();
    }
    rig_init(&g->r, true);
    fixture_unmap(&g->r.f, &g->r.echo->v.mmio);
    strcpy(g->path, "/tmp/parvm-fuzz-blk-XXXXXX");
    int fd = mkstemp(g->path);
    if (fd < 0 || ftruncate(fd, DISK) != 0) {
        abort();
    }
    close(fd);
    atexit(cleanup);
    g->bh = pv_bh_new(g->r.loop, barrier_bh, g);
    create(g);
    fuzz_ram_init(&g->ram, &g->r.f.as, RIG_RAM_BASE, RIG_RAM_SIZE, RIG_ROM_BASE, RIG_ROM_SIZE);
    g->d = (FuzzDrv){ .ram = &g->ram, .as = &g->r.f.as, .vbase = RIG_VBASE, .v = g->d.v, .nq = 1,
                      .window = RIG_RAM_BASE + 0x10000, .settle = settle, .extra_op = extra_op,
                      .remove = remove_dev, .opaque = g };
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in = { data, size };
    uint64_t feat = (1ull << PV_VIRTIO_BLK_F_SEG_MAX) | (1ull << PV_VIRTIO_BLK_F_BLK_SIZE) |
                    (1ull << PV_VIRTIO_BLK_F_FLUSH) | (1ull << PV_VIRTIO_BLK_F_DISCARD) |
                    (1ull << PV_VIRTIO_BLK_F_WRITE_ZEROES);

    if (size < 4) {
        return 0;
    }
    if (!g->blk) {
        create(g);
    }
    fuzz_drv_run(&g->d, &in, feat);
    return 0;
}
