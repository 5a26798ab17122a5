/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net driven as a guest's driver would, over a dgram (unix) netdev
 * whose other end the test holds: identity, features and config; transmit
 * (header stripped, frames in order, a short chain is a malformed queue);
 * receive (frames that arrive before buffers wait in the backend and are
 * delivered in order once buffers come; num_buffers; mergeable buffers
 * spanning chains; an oversize frame without MRG_RXBUF dropped as a guest
 * error; rx-drop=on drops and counts); transmit backpressure (a host that
 * does not read makes the device keep frames in the ring; all arrive
 * once it reads).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "netrig.h"
#include "wait.h"

static void frame(uint8_t *f, size_t len, uint32_t seq)
{
    static const uint8_t hdr[14] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,   /* dst: guest */
                                     0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,   /* src */
                                     0x88, 0xb5 };                         /* local exp. */
    memcpy(f, hdr, sizeof(hdr));
    memcpy(f + 14, &seq, 4);
    for (size_t i = 18; i < len; i++) {
        f[i] = (uint8_t)(seq * 7 + i);
    }
}

static bool frame_ok(const uint8_t *f, size_t len, uint32_t seq)
{
    uint8_t want[4096];
    frame(want, len, seq);
    return !memcmp(f, want, len);
}

static void test_identity_and_config(void)
{
    NetRig r;
    NrQueue rx, tx;

    CHECK(netrig_init(&r, NULL, "", NULL));
    CHECK_EQ_U64(nr_reg_r(&r, R_MAGIC), 0x74726976);
    CHECK_EQ_U64(nr_reg_r(&r, R_VERSION), 2);
    CHECK_EQ_U64(nr_reg_r(&r, R_DEVICE_ID), 1);
    nr_reg_w(&r, R_DEV_FEATURES_SEL, 0);
    uint32_t f0 = nr_reg_r(&r, R_DEV_FEATURES);
    nr_reg_w(&r, R_DEV_FEATURES_SEL, 1);
    uint32_t f1 = nr_reg_r(&r, R_DEV_FEATURES);
    CHECK(f0 & F_MAC);
    CHECK(f0 & F_STATUS);
    CHECK(f0 & F_MRG);
    CHECK(!(f0 & 0x7));     /* CSUM, GUEST_CSUM, CTRL_GUEST_OFFLOADS */
    CHECK(!(f0 & (1u << 17)));  /* no control queue */
    CHECK(f1 & 1);          /* VERSION_1 */
    /* QEMU's default MAC, link up. */
    CHECK_EQ_U64(nr_reg_r(&r, R_CONFIG), 0x12005452);
    CHECK_EQ_U64(nr_reg_r(&r, R_CONFIG + 4) & 0xffff, 0x5634);
    CHECK_EQ_U64(nr_reg_r(&r, R_CONFIG + 4) >> 16, 1);
    uint32_t st = nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    CHECK(st & PV_VIRTIO_STATUS_DRIVER_OK);
    CHECK(!(st & PV_VIRTIO_STATUS_NEEDS_RESET));
    netrig_destroy(&r);

    CHECK(netrig_init(&r, NULL, "", "mac=02:00:00:00:00:2a"));
    CHECK_EQ_U64(nr_reg_r(&r, R_CONFIG), 0x00000002);
    CHECK_EQ_U64(nr_reg_r(&r, R_CONFIG + 4) & 0xffff, 0x2a00);
    netrig_destroy(&r);

    PvVirtioNetConf c;
    char err[128];
    pv_virtio_net_conf_init(&c);
    CHECK(pv_virtio_net_conf_set(&c, "mac", "01:00:00:00:00:01", err, sizeof(err)) < 0);
    CHECK(pv_virtio_net_conf_set(&c, "mac", "52:54:00:12:34", err, sizeof(err)) < 0);
    CHECK(pv_virtio_net_conf_set(&c, "mac", "52:54:00:12:34:567", err, sizeof(err)) < 0);
    CHECK(pv_virtio_net_conf_set(&c, "rx-flow", "later", err, sizeof(err)) < 0);
    CHECK(pv_virtio_net_conf_set(&c, "rx-drop", "1", err, sizeof(err)) < 0);
    CHECK(pv_virtio_net_conf_set(&c, "netdev", "n", err, sizeof(err)) == 1);
    CHECK(pv_virtio_net_conf_set(&c, "rx-flow", "queue", err, sizeof(err)) == 0);
    CHECK(c.rx_flow == PV_FLOW_QUEUE);
}

static void test_transmit(void)
{
    NetRig r;
    NrQueue rx, tx;
    uint8_t f[1600], got[2048];
    PvVirtioNetStats st;
    PvNetStats ns;

    CHECK(netrig_init(&r, NULL, "", NULL));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    for (uint32_t i = 0; i < 20; i++) {
        size_t len = 60 + i * 70;
        frame(f, len, i);
        nr_tx(&tx, f, len);
    }
    for (uint32_t i = 0; i < 20; i++) {
        ssize_t n = nr_host_recv(&r, got, sizeof(got));
        CHECK_EQ_U64(n, 60 + i * 70);
        CHECK(n > 0 && frame_ok(got, (size_t)n, i));
    }
    CHECK(nr_wait_used(&tx, 20));
    uint32_t id, len;
    nr_used_elem(&tx, 19, &id, &len);
    CHECK_EQ_U64(id, 19);
    CHECK_EQ_U64(len, 0);
    pv_virtio_net_get_stats(r.net, &st);
    CHECK_EQ_U64(st.tx_frames, 20);
    pv_netdev_get_stats(r.nd, &ns);
    CHECK_EQ_U64(ns.tx_packets, 20);
    CHECK(atomic_load(&r.irqs) > 0);

    /* A chain shorter than the header is a malformed queue. */
    uint64_t errs = pv_vm_guest_errors(&r.f.vm);
    nr_tx(&tx, f, 0);   /* 12 bytes: an empty frame, fine */
    CHECK_EQ_U64(nr_host_recv(&r, got, sizeof(got)), 0);
    uint16_t slot = tx.avail_idx % NR_QSIZE;
    nr_ram_w(&r, tx.desc + 16u * slot, 8, NR_TXBUF);
    nr_ram_w(&r, tx.desc + 16u * slot + 8, 4, 6);
    nr_ram_w(&r, tx.desc + 16u * slot + 12, 4, 0);
    nr_ram_w(&r, tx.avail + 4 + 2u * slot, 2, slot);
    nr_ram_w(&r, tx.avail + 2, 2, ++tx.avail_idx);
    nr_kick(&tx);
    CHECK(WAIT_FOR(nr_reg_r(&r, R_STATUS) & PV_VIRTIO_STATUS_NEEDS_RESET, 10000));
    CHECK(pv_vm_guest_errors(&r.f.vm) > errs);
    netrig_destroy(&r);
}

static void test_receive_waits_for_buffers(void)
{
    NetRig r;
    NrQueue rx, tx;
    uint8_t f[1514], got[NR_BUFSZ];

    CHECK(netrig_init(&r, NULL, "", NULL));
    /* Frames before the driver exists: they wait in the netdev. */
    for (uint32_t i = 0; i < 5; i++) {
        frame(f, 100 + i, i);
        nr_host_send(&r, f, 100 + i);
    }
    CHECK(WAIT_FOR(pv_net_rx_queued(r.nd) == 5, 10000));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    /* DRIVER_OK but no buffers: still waiting. */
    for (uint32_t i = 5; i < 8; i++) {
        frame(f, 100 + i, i);
        nr_host_send(&r, f, 100 + i);
    }
    CHECK(WAIT_FOR(pv_net_rx_queued(r.nd) == 8, 10000));
    CHECK_EQ_U64(nr_used_idx(&rx), 0);
    for (uint16_t i = 0; i < 16; i++) {
        nr_rx_post(&rx, i, NR_BUFSZ);
    }
    nr_kick(&rx);
    CHECK(nr_wait_used(&rx, 8));
    for (uint16_t i = 0; i < 8; i++) {
        uint32_t id, len;
        nr_used_elem(&rx, i, &id, &len);
        CHECK_EQ_U64(id, i);
        CHECK_EQ_U64(len, 12 + 100 + i);
        nr_ram_read(&r, NR_RXBUF + id * NR_BUFSZ, got, len);
        CHECK_EQ_U64(got[10] | got[11] << 8, 1);    /* num_buffers */
        CHECK_EQ_U64(got[0], 0);                    /* flags */
        CHECK_EQ_U64(got[1], 0);                    /* GSO_NONE */
        CHECK(frame_ok(got + 12, 100 + i, i));
    }
    CHECK_EQ_U64(pv_net_rx_queued(r.nd), 0);
    /* And later ones go straight in. */
    frame(f, 1514, 99);
    nr_host_send(&r, f, 1514);
    CHECK(nr_wait_used(&rx, 9));
    PvNetStats ns;
    pv_netdev_get_stats(r.nd, &ns);
    CHECK_EQ_U64(ns.rx_delivered, 9);
    CHECK_EQ_U64(ns.rx_dropped, 0);
    netrig_destroy(&r);
}

static void test_receive_mergeable(void)
{
    NetRig r;
    NrQueue rx, tx;
    uint8_t f[3000], got[3100];
    uint32_t id, len;
    PvVirtioNetStats st;

    CHECK(netrig_init(&r, NULL, "", NULL));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS | F_MRG, &rx, &tx);
    for (uint16_t i = 0; i < 4; i++) {
        nr_rx_post(&rx, i, 512);
    }
    nr_kick(&rx);
    /* 12 + 1500 bytes: three 512-byte buffers (512, 512, 488). */
    frame(f, 1500, 7);
    nr_host_send(&r, f, 1500);
    CHECK(nr_wait_used(&rx, 3));
    size_t off = 0;
    for (uint16_t i = 0; i < 3; i++) {
        nr_used_elem(&rx, i, &id, &len);
        CHECK_EQ_U64(id, i);
        CHECK_EQ_U64(len, i < 2 ? 512 : 488);
        nr_ram_read(&r, NR_RXBUF + id * NR_BUFSZ, got + off, len);
        off += len;
    }
    CHECK_EQ_U64(got[10] | got[11] << 8, 3);
    CHECK(frame_ok(got + 12, 1500, 7));
    /* A frame needing more than the one buffer left waits for more. */
    frame(f, 1000, 8);
    nr_host_send(&r, f, 1000);
    CHECK(WAIT_FOR((pv_virtio_net_get_stats(r.net, &st), st.rx_no_buffers > 0), 10000));
    CHECK_EQ_U64(nr_used_idx(&rx), 3);
    nr_rx_post(&rx, 4, 512);
    nr_rx_post(&rx, 5, 512);
    nr_kick(&rx);
    CHECK(nr_wait_used(&rx, 5));
    nr_used_elem(&rx, 3, &id, &len);
    CHECK_EQ_U64(id, 3);
    CHECK_EQ_U64(len, 512);
    nr_ram_read(&r, NR_RXBUF + 3 * NR_BUFSZ, got, 512);
    nr_used_elem(&rx, 4, &id, &len);
    CHECK_EQ_U64(id, 4);
    CHECK_EQ_U64(len, 500);
    nr_ram_read(&r, NR_RXBUF + 4 * NR_BUFSZ, got + 512, 500);
    CHECK_EQ_U64(got[10] | got[11] << 8, 2);    /* 1012 bytes: 512 + 500 */
    CHECK(frame_ok(got + 12, 1000, 8));
    netrig_destroy(&r);
}

static void test_receive_oversize_and_drop(void)
{
    NetRig r;
    NrQueue rx, tx;
    uint8_t f[1514], got[NR_BUFSZ];
    PvVirtioNetStats st;
    PvNetStats ns;
    uint32_t id, len;

    /* No MRG_RXBUF, 512-byte buffers: a 1000-byte frame cannot fit. */
    CHECK(netrig_init(&r, NULL, "", NULL));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    nr_rx_post(&rx, 0, 512);
    nr_rx_post(&rx, 1, 512);
    nr_kick(&rx);
    uint64_t errs = pv_vm_guest_errors(&r.f.vm);
    frame(f, 1000, 1);
    nr_host_send(&r, f, 1000);
    frame(f, 200, 2);
    nr_host_send(&r, f, 200);
    CHECK(nr_wait_used(&rx, 1));
    nr_used_elem(&rx, 0, &id, &len);
    CHECK_EQ_U64(id, 0);
    CHECK_EQ_U64(len, 212);
    nr_ram_read(&r, NR_RXBUF, got, len);
    CHECK(frame_ok(got + 12, 200, 2));
    pv_virtio_net_get_stats(r.net, &st);
    CHECK_EQ_U64(st.rx_oversize, 1);
    CHECK(pv_vm_guest_errors(&r.f.vm) > errs);
    netrig_destroy(&r);

    /* rx-drop=on: what finds no buffer is dropped and counted. */
    CHECK(netrig_init(&r, NULL, "rx-drop=on", NULL));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    for (uint32_t i = 0; i < 10; i++) {
        frame(f, 80, i);
        nr_host_send(&r, f, 80);
    }
    CHECK(WAIT_FOR((pv_netdev_get_stats(r.nd, &ns), ns.rx_dropped == 10), 10000));
    pv_virtio_net_get_stats(r.net, &st);
    CHECK_EQ_U64(st.rx_dropped, 10);
    nr_rx_post(&rx, 0, NR_BUFSZ);
    nr_kick(&rx);
    frame(f, 80, 10);
    nr_host_send(&r, f, 80);
    CHECK(nr_wait_used(&rx, 1));
    nr_ram_read(&r, NR_RXBUF, got, 92);
    CHECK(frame_ok(got + 12, 80, 10));
    netrig_destroy(&r);

    /* rx-drop=on on the device overrides the netdev's off. */
    CHECK(netrig_init(&r, NULL, "", "rx-drop=on"));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    frame(f, 80, 0);
    nr_host_send(&r, f, 80);
    CHECK(WAIT_FOR((pv_virtio_net_get_stats(r.net, &st), st.rx_dropped == 1), 10000));
    netrig_destroy(&r);
}

/* The host does not read: the device's sends fail with EAGAIN and the
 * frames stay in the ring; once the host reads, all of them arrive. */
static void test_transmit_backpressure(void)
{
    NetRig r;
    NrQueue rx, tx;
    uint8_t f[1000], got[2048];
    PvVirtioNetStats st;
    enum { N = 1000 };

    CHECK(netrig_init(&r, NULL, "", NULL));
    nr_driver_up(&r, F_VERSION_1 | F_MAC | F_STATUS, &rx, &tx);
    uint32_t sent = 0, recvd = 0;
    bool in_order = true;
    /* Fill the ring; the host's socket queue fills first. */
    while (sent < NR_QSIZE - 1) {
        frame(f, sizeof(f), sent);
        nr_tx(&tx, f, sizeof(f));
        sent++;
    }
    CHECK(WAIT_FOR((pv_virtio_net_get_stats(r.net, &st), st.tx_blocked > 0), 10000));
    CHECK(nr_used_idx(&tx) < sent);
    while (recvd < N) {
        ssize_t n = nr_host_recv(&r, got, sizeof(got));
        if (n < 0) {
            break;
        }
        in_order &= n == (ssize_t)sizeof(f) && frame_ok(got, sizeof(f), recvd);
        recvd++;
        /* Keep the ring busy while it drains. */
        if (sent < N && (uint16_t)(tx.avail_idx - nr_used_idx(&tx)) < NR_QSIZE - 1) {
            frame(f, sizeof(f), sent);
            nr_tx(&tx, f, sizeof(f));
            sent++;
        }
    }
    CHECK_EQ_U64(recvd, N);
    CHECK(in_order);
    pv_virtio_net_get_stats(r.net, &st);
    CHECK(st.tx_errors == 0);
    netrig_destroy(&r);
}

PV_TEST_MAIN(TEST(test_identity_and_config), TEST(test_transmit),
             TEST(test_receive_waits_for_buffers), TEST(test_receive_mergeable),
             TEST(test_receive_oversize_and_drop), TEST(test_transmit_backpressure))
