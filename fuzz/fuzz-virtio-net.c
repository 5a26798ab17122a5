/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the real virtio-net (src/hw/virtio-net.c) on a dgram
 * (unix) netdev whose host end the fuzzer holds, with the I/O thread
 * running.  Each input is laid into guest RAM as the receive and transmit
 * queues (descriptor tables, available rings) and buffers, then a script
 * of operations runs: kicks through QueueNotify or by hand, host->guest
 * frames of fuzzed sizes and contents (injected through the socket, read by
 * the I/O thread, delivered by device work), Status resets and QueueReady
 * toggles with traffic in flight, register writes, more ring entries, RAM
 * rewrites, and hot-unplug of the device (a new one attaches to the same
 * netdev for the next input).  ASan/UBSan watch the host; fuzz-common.c's
 * canary oracle watches guest RAM.  Built by fuzz/run.sh.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "netrig.h"
#include "wait.h"
#include "parvm/dispatch.h"
#include "parvm/rcu.h"

typedef struct Net {
    NetRig r;
    FuzzRam ram;
    FuzzDrv d;
    PvBH *bh;
    atomic_bool bh_ran;
} Net;

static Net *g;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void barrier_bh(void *opaque)
{
    atomic_store(&((Net *)opaque)->bh_ran, true);
}

static void io_barrier(Net *n)
{
    for (int i = 0; i < 2; i++) {
        atomic_store(&n->bh_ran, false);
        pv_bh_schedule(n->bh);
        (void)WAIT_FOR(atomic_load(&n->bh_ran), 2000);
    }
}

/* What the device transmitted: gone. */
static void host_drain(Net *n)
{
    static uint8_t buf[PV_NET_MAX_FRAME];
    while (recv(n->r.host_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
    }
}

/* Bytes the host sent that the netdev has not read yet (AF_UNIX charges
 * them to the sender until the receiver takes them). */
static int unread(Net *n)
{
    int q = 0;
    return ioctl(n->r.host_fd, SIOCOUTQ, &q) == 0 ? q : 0;
}

static void settle(FuzzDrv *d)
{
    Net *n = d->opaque;

    io_barrier(n);
    /* Read by the I/O thread (or left with the sender: the queue is full). */
    (void)WAIT_FOR(unread(n) == 0 || pv_net_rx_queued(n->r.nd) > 0, 1000);
    io_barrier(n);
    host_drain(n);
}

/* Host -> guest frames: a count, a size and a pattern from the input. */
static void extra_op(FuzzDrv *d, FuzzIn *in)
{
    static uint8_t f[PV_NET_MAX_FRAME];
    Net *n = d->opaque;
    unsigned count = fin_u8(in) % 4 + 1;
    uint16_t raw = fin_u16(in);
    size_t len = raw & 0x8000 ? raw : raw % 1600u;
    uint8_t seed = fin_u8(in);

    for (size_t i = 0; i < len; i++) {
        f[i] = (uint8_t)(seed + i * 7);
    }
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, n->r.path_dev);
    for (unsigned i = 0; i < count; i++) {
        /* Never waits: a full socket (the device takes nothing) drops. */
        (void)sendto(n->r.host_fd, f, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a));
    }
    if (seed & 1) {
        settle(d);
    }
}

static void create(Net *n)
{
    char err[256];
    PvVirtioNetConf conf;
    PvIrq irq = pv_irq_make(NULL, NULL, 1);

    pv_virtio_net_conf_init(&conf);
    n->r.net = pv_virtio_net_new(&n->r.f.vm, &n->r.f.as, n->r.loop, "vnet", &irq, n->r.nd,
                                 &conf, err, sizeof(err));
    if (!n->r.net) {
        abort();
    }
    fixture_map(&n->r.f, pv_virtio_net_mmio(n->r.net), NR_VBASE);
    n->d.v = pv_virtio_net_virtio(n->r.net);
}

/* Hot-unplug: the device goes with frames in flight both ways; the netdev
 * stays for the next one. */
static void remove_dev(FuzzDrv *d)
{
    Net *n = d->opaque;
    PvVirtioNet *net = n->r.net;

    n->r.net = NULL;
    d->v = NULL;
    fixture_unmap(&n->r.f, pv_virtio_net_mmio(net));
    pv_virtio_net_destroy(net);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pv_rcu_register_thread();
    g = calloc(1, sizeof(*g));
    if (!g || !netrig_init(&g->r, NULL, "rx-queue=16", NULL)) {
        abort();
    }
    g->bh = pv_bh_new(g->r.loop, barrier_bh, g);
    fuzz_ram_init(&g->ram, &g->r.f.as, NR_RAM_BASE, NR_RAM_SIZE, 0, 0);
    g->d = (FuzzDrv){ .ram = &g->ram, .as = &g->r.f.as, .vbase = NR_VBASE,
                      .v = pv_virtio_net_virtio(g->r.net), .nq = 2,
                      .window = NR_RAM_BASE + 0x10000, .settle = settle, .extra_op = extra_op,
                      .remove = remove_dev, .opaque = g };
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in = { data, size };
    uint64_t feat = (UINT64_C(1) << PV_VIRTIO_NET_F_MAC) | (UINT64_C(1) << PV_VIRTIO_NET_F_STATUS) |
                    (UINT64_C(1) << PV_VIRTIO_NET_F_MRG_RXBUF);

    if (size < 4) {
        return 0;
    }
    if (!g->r.net) {
        create(g);
    }
    /* Start clean: frames left from the last input are dropped. */
    settle(&g->d);
    pv_device_lock(&g->d.v->dev);
    while (pv_net_rx_peek(g->r.nd)) {
        pv_net_rx_pop(g->r.nd, false);
    }
    pv_device_unlock(&g->d.v->dev);
    fuzz_drv_run(&g->d, &in, feat);
    return 0;
}
