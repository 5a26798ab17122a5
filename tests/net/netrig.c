/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "netrig.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "wait.h"
#include "parvm/dispatch.h"

static void nr_irq(void *opaque, unsigned n, bool level)
{
    NetRig *r = opaque;
    (void)n;
    if (level) {
        atomic_fetch_add(&r->irqs, 1);
    }
}

static int rig_seq;

bool netrig_init(NetRig *r, const char *netdev, const char *extra, const char *dev_props)
{
    char opts[512], err[256] = "";
    PvVirtioNetConf conf;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    PvIrq irq = pv_irq_make(nr_irq, r, 1);

    memset(r, 0, sizeof(*r));
    r->host_fd = -1;
    fixture_init(&r->f);
    atomic_init(&r->irqs, 0);
    CHECK(memory_region_init_ram(&r->ram, &r->f.vm, NULL, "ram", NR_RAM_SIZE) == 0);
    fixture_map(&r->f, &r->ram, NR_RAM_BASE);
    r->loop = pv_event_loop_new();
    CHECK(r->loop && pv_event_loop_start(r->loop) == 0);

    if (!netdev) {
        snprintf(r->path_dev, sizeof(r->path_dev), "/tmp/parvm-nr-%d-%d-d.sock", (int)getpid(),
                 rig_seq);
        snprintf(r->path_host, sizeof(r->path_host), "/tmp/parvm-nr-%d-%d-h.sock",
                 (int)getpid(), rig_seq++);
        unlink(r->path_dev);
        unlink(r->path_host);
        r->host_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        strcpy(a.sun_path, r->path_host);
        CHECK(r->host_fd >= 0 && bind(r->host_fd, (struct sockaddr *)&a, sizeof(a)) == 0);
        snprintf(opts, sizeof(opts), "dgram,id=net0,local.type=unix,local.path=%s,"
                 "remote.type=unix,remote.path=%s%s%s", r->path_dev, r->path_host,
                 extra && *extra ? "," : "", extra ? extra : "");
        netdev = opts;
    }
    r->nd = pv_netdev_new(r->loop, netdev, err, sizeof(err));
    if (!r->nd) {
        printf("# netdev: %s\n", err);
        return false;
    }
    pv_virtio_net_conf_init(&conf);
    if (dev_props) {
        char *copy = strdup(dev_props), *save = NULL, *kv;
        for (kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            CHECK(eq != NULL);
            *eq = '\0';
            CHECK(pv_virtio_net_conf_set(&conf, kv, eq + 1, err, sizeof(err)) == 0);
        }
        free(copy);
    }
    r->net = pv_virtio_net_new(&r->f.vm, &r->f.as, r->loop, "virtio-net0", &irq, r->nd, &conf,
                               err, sizeof(err));
    if (!r->net) {
        printf("# device: %s\n", err);
        return false;
    }
    fixture_map(&r->f, pv_virtio_net_mmio(r->net), NR_VBASE);
    return true;
}

void netrig_destroy(NetRig *r)
{
    if (r->net) {
        pv_virtio_net_destroy(r->net);
    }
    fixture_destroy(&r->f);
    pv_netdev_free(r->nd);
    pv_event_loop_stop(r->loop);
    pv_event_loop_free(r->loop);
    memory_region_destroy(&r->ram);
    if (r->host_fd >= 0) {
        close(r->host_fd);
        unlink(r->path_host);
    }
}

uint32_t nr_reg_r(NetRig *r, uint32_t off)
{
    return (uint32_t)fixture_read(&r->f, NR_VBASE + off, 4);
}

void nr_reg_w(NetRig *r, uint32_t off, uint32_t val)
{
    fixture_write(&r->f, NR_VBASE + off, 4, val);
}

uint64_t nr_ram_r(NetRig *r, uint64_t addr, unsigned size)
{
    return fixture_read(&r->f, addr, size);
}

void nr_ram_w(NetRig *r, uint64_t addr, unsigned size, uint64_t val)
{
    fixture_write(&r->f, addr, size, val);
}

void nr_ram_write(NetRig *r, uint64_t addr, const void *buf, size_t len)
{
    CHECK(address_space_rw(&r->f.as, addr, (void *)buf, len, true) == PV_ACCESS_OK);
}

void nr_ram_read(NetRig *r, uint64_t addr, void *buf, size_t len)
{
    CHECK(address_space_rw(&r->f.as, addr, buf, len, false) == PV_ACCESS_OK);
}

static void setup_queue(NetRig *r, NrQueue *d, unsigned q, uint64_t ring, uint64_t bufs)
{
    *d = (NrQueue){ .r = r, .q = q, .desc = ring, .avail = ring + 0x1000, .used = ring + 0x2000,
                    .bufs = bufs };
    for (uint64_t a = ring; a < ring + 0x3000; a += 8) {
        nr_ram_w(r, a, 8, 0);
    }
    nr_reg_w(r, R_QUEUE_SEL, q);
    nr_reg_w(r, R_QUEUE_NUM, NR_QSIZE);
    nr_reg_w(r, R_DESC_LO, (uint32_t)d->desc);
    nr_reg_w(r, R_DESC_HI, 0);
    nr_reg_w(r, R_DRIVER_LO, (uint32_t)d->avail);
    nr_reg_w(r, R_DRIVER_HI, 0);
    nr_reg_w(r, R_DEVICE_LO, (uint32_t)d->used);
    nr_reg_w(r, R_DEVICE_HI, 0);
    nr_reg_w(r, R_QUEUE_READY, 1);
}

uint32_t nr_driver_up(NetRig *r, uint64_t features, NrQueue *rx, NrQueue *tx)
{
    nr_reg_w(r, R_STATUS, 0);
    nr_reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE);
    nr_reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER);
    nr_reg_w(r, R_DRV_FEATURES_SEL, 0);
    nr_reg_w(r, R_DRV_FEATURES, (uint32_t)features);
    nr_reg_w(r, R_DRV_FEATURES_SEL, 1);
    nr_reg_w(r, R_DRV_FEATURES, (uint32_t)(features >> 32));
    nr_reg_w(r, R_STATUS, PV_VIRTIO_STATUS_ACKNOWLEDGE | PV_VIRTIO_STATUS_DRIVER |
                              PV_VIRTIO_STATUS_FEATURES_OK);
    setup_queue(r, rx, PV_VIRTIO_NET_RXQ, NR_RXRING, NR_RXBUF);
    setup_queue(r, tx, PV_VIRTIO_NET_TXQ, NR_TXRING, NR_TXBUF);
    nr_reg_w(r, R_STATUS, nr_reg_r(r, R_STATUS) | PV_VIRTIO_STATUS_DRIVER_OK);
    return nr_reg_r(r, R_STATUS);
}

static void publish(NrQueue *q, uint16_t head)
{
    nr_ram_w(q->r, q->avail + 4 + 2u * (q->avail_idx % NR_QSIZE), 2, head);
    atomic_thread_fence(memory_order_release);
    q->avail_idx++;
    nr_ram_w(q->r, q->avail + 2, 2, q->avail_idx);
}

static void desc(NrQueue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
    uint64_t p = q->desc + 16u * i;
    nr_ram_w(q->r, p, 8, addr);
    nr_ram_w(q->r, p + 8, 4, len);
    nr_ram_w(q->r, p + 12, 2, flags);
    nr_ram_w(q->r, p + 14, 2, 0);
}

void nr_rx_post(NrQueue *q, uint16_t i, uint32_t len)
{
    desc(q, i, q->bufs + (uint64_t)i * NR_BUFSZ, len, 2 /* WRITE */);
    publish(q, i);
}

void nr_kick(NrQueue *q)
{
    nr_reg_w(q->r, R_QUEUE_NOTIFY, q->q);
}

uint16_t nr_used_idx(NrQueue *q)
{
    uint16_t idx = (uint16_t)nr_ram_r(q->r, q->used + 2, 2);
    atomic_thread_fence(memory_order_acquire);
    return idx;
}

void nr_used_elem(NrQueue *q, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint64_t p = q->used + 4 + 8u * (i % NR_QSIZE);
    *id = (uint32_t)nr_ram_r(q->r, p, 4);
    *len = (uint32_t)nr_ram_r(q->r, p + 4, 4);
}

bool nr_wait_used(NrQueue *q, uint16_t idx)
{
    return WAIT_FOR((uint16_t)(nr_used_idx(q) - idx) < 0x8000, 10000);
}

void nr_tx(NrQueue *q, const void *frame, size_t len)
{
    uint16_t slot = q->avail_idx % NR_QSIZE;
    uint64_t buf = q->bufs + (uint64_t)slot * NR_BUFSZ;
    uint8_t hdr[PV_VIRTIO_NET_HDR_LEN] = { 0 };

    nr_ram_write(q->r, buf, hdr, sizeof(hdr));
    nr_ram_write(q->r, buf + sizeof(hdr), frame, len);
    desc(q, slot, buf, (uint32_t)(sizeof(hdr) + len), 0);
    publish(q, slot);
    nr_kick(q);
}

void nr_host_send(NetRig *r, const void *buf, size_t len)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };

    strcpy(a.sun_path, r->path_dev);
    while (sendto(r->host_fd, buf, len, 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
            printf("# host sendto: %s\n", strerror(errno));
            CHECK(0);
            return;
        }
        usleep(100);
    }
}

ssize_t nr_host_recv(NetRig *r, void *buf, size_t cap)
{
    struct pollfd p = { .fd = r->host_fd, .events = POLLIN };

    if (!WAIT_FOR(poll(&p, 1, 0) == 1, 10000)) {
        return -1;
    }
    return recv(r->host_fd, buf, cap, MSG_DONTWAIT);
}
