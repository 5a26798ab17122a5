/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user backend (libslirp) behind virtio-net, at the frame level (a
 * bare-metal guest has no TCP stack): the guest's ARP request for the
 * gateway gets slirp's answer; its DHCPDISCOVER gets an OFFER of
 * 10.0.2.15; a host connect() to the hostfwd port reaches the guest as a
 * TCP SYN to the forwarded port in the receive ring; after the guest's
 * SYN-ACK, what the host writes arrives as a data segment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "netrig.h"
#include "wait.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define GUEST_IP 0x0a00020fu    /* 10.0.2.15 */
#define GW_IP 0x0a000202u       /* 10.0.2.2 */
#define GUEST_PORT 2222

typedef struct Guest {
    NetRig r;
    NrQueue rx, tx;
    uint8_t gw_mac[6];
} Guest;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get16(p + i);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, type);
    return 14;
}

/* IPv4 header at @ip with @plen payload bytes. */
static void ipv4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, size_t plen)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + plen));
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20, 0));
}

/* Wait for the next received frame; copy it (without the virtio header)
 * to @f, repost the buffer.  Returns its length, or 0. */
static size_t next_frame(Guest *g, uint8_t *f, size_t cap)
{
    uint32_t id, len;
    uint8_t buf[NR_BUFSZ];

    if (!nr_wait_used(&g->rx, (uint16_t)(g->rx.used_seen + 1))) {
        return 0;
    }
    nr_used_elem(&g->rx, g->rx.used_seen++, &id, &len);
    CHECK(id < NR_QSIZE && len > PV_VIRTIO_NET_HDR_LEN && len <= NR_BUFSZ);
    if (id >= NR_QSIZE || len <= PV_VIRTIO_NET_HDR_LEN || len > NR_BUFSZ) {
        return 0;
    }
    nr_ram_read(&g->r, NR_RXBUF + id * NR_BUFSZ, buf, len);
    len -= PV_VIRTIO_NET_HDR_LEN;
    memcpy(f, buf + PV_VIRTIO_NET_HDR_LEN, len < cap ? len : cap);
    nr_rx_post(&g->rx, (uint16_t)id, NR_BUFSZ);
    nr_kick(&g->rx);
    return len;
}

static void send_arp(Guest *g, uint16_t op, const uint8_t *tha, uint32_t tpa)
{
    uint8_t f[60] = { 0 };
    size_t o = eth(f, op == 1 ? bcast : tha, 0x0806);

    put16(f + o, 1);
    put16(f + o + 2, 0x0800);
    f[o + 4] = 6;
    f[o + 5] = 4;
    put16(f + o + 6, op);
    memcpy(f + o + 8, guest_mac, 6);
    put32(f + o + 14, GUEST_IP);
    memcpy(f + o + 18, op == 1 ? (const uint8_t[6]){ 0 } : tha, 6);
    put32(f + o + 24, tpa);
    nr_tx(&g->tx, f, sizeof(f));
}

static bool guest_up(Guest *g, const char *netdev)
{
    if (!netrig_init(&g->r, netdev, NULL, NULL)) {
        return false;
    }
    nr_driver_up(&g->r, F_VERSION_1 | F_MAC | F_STATUS, &g->rx, &g->tx);
    for (uint16_t i = 0; i < 64; i++) {
        nr_rx_post(&g->rx, i, NR_BUFSZ);
    }
    nr_kick(&g->rx);
    return true;
}

/* ARP for the gateway: slirp answers with its MAC. */
static bool arp_gateway(Guest *g)
{
    uint8_t f[NR_BUFSZ];
    size_t n;

    send_arp(g, 1, NULL, GW_IP);
    while ((n = next_frame(g, f, sizeof(f)))) {
        if (n >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2) {
            CHECK(!memcmp(f, guest_mac, 6));
            CHECK_EQ_U64(get32(f + 28), GW_IP);
            CHECK(!memcmp(f + 32, guest_mac, 6));
            CHECK_EQ_U64(get32(f + 38), GUEST_IP);
            memcpy(g->gw_mac, f + 22, 6);
            return true;
        }
    }
    return false;
}

static void test_arp_and_dhcp(void)
{
    Guest g;
    uint8_t f[NR_BUFSZ];
    size_t n, o;

    CHECK(guest_up(&g, "user,id=net0"));
    if (!g.r.net) {
        goto out;
    }
    CHECK(arp_gateway(&g));

    /* DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67. */
    memset(f, 0, sizeof(f));
    o = eth(f, bcast, 0x0800);
    uint8_t *ip = f + o, *udp = ip + 20, *bootp = udp + 8;
    bootp[0] = 1;                       /* BOOTREQUEST */
    bootp[1] = 1;
    bootp[2] = 6;
    put32(bootp + 4, 0x12345678);       /* xid */
    memcpy(bootp + 28, guest_mac, 6);   /* chaddr */
    put32(bootp + 236, 0x63825363);     /* magic cookie */
    uint8_t *opt = bootp + 240;
    *opt++ = 53;                        /* message type */
    *opt++ = 1;
    *opt++ = 1;                         /* DISCOVER */
    *opt++ = 255;
    size_t blen = (size_t)(opt - bootp) < 300 ? 300 : (size_t)(opt - bootp);
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, (uint16_t)(8 + blen));
    ipv4(ip, 17, 0, 0xffffffffu, 8 + blen);
    nr_tx(&g.tx, f, o + 20 + 8 + blen);

    bool offered = false;
    while (!offered && (n = next_frame(&g, f, sizeof(f)))) {
        if (n < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[14 + 9] != 17) {
            continue;
        }
        udp = f + 14 + (f[14] & 0xf) * 4;
        bootp = udp + 8;
        if (get16(udp) != 67 || get16(udp + 2) != 68 || get32(bootp + 4) != 0x12345678) {
            continue;
        }
        CHECK_EQ_U64(bootp[0], 2);                      /* BOOTREPLY */
        CHECK_EQ_U64(get32(bootp + 16), GUEST_IP);      /* yiaddr */
        CHECK_EQ_U64(get32(bootp + 236), 0x63825363);
        /* Option 53 = 2 (OFFER) somewhere in the options. */
        for (uint8_t *p = bootp + 240; p < f + n && *p != 255; p += 2 + p[1]) {
            if (p[0] == 53) {
                offered = p[2] == 2;
            }
            if (p[0] == 0) {
                p--;    /* pad: one byte */
            }
        }
    }
    CHECK(offered);
out:
    netrig_destroy(&g.r);
}

static int free_tcp_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_hostfwd_syn(void)
{
    Guest g;
    char opts[128];
    uint8_t f[NR_BUFSZ];
    size_t n;
    int port = free_tcp_port(), fd = -1;
    bool syn = false;

    snprintf(opts, sizeof(opts), "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:%d", port, GUEST_PORT);
    CHECK(guest_up(&g, opts));
    if (!g.r.net) {
        goto out;
    }
    /* Let slirp learn our address (its ARP table), as a booting guest's
     * DHCP or ARP would. */
    CHECK(arp_gateway(&g));

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    CHECK(r == 0 || errno == EINPROGRESS);

    uint32_t seq = 0, src = 0;
    uint16_t sport = 0;
    while (!syn && (n = next_frame(&g, f, sizeof(f)))) {
        if (n >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 1 &&
            get32(f + 38) == GUEST_IP) {
            send_arp(&g, 2, f + 22, get32(f + 28));     /* who-has us: answer */
            continue;
        }
        if (n < 14 + 20 + 20 || get16(f + 12) != 0x0800 || f[14 + 9] != 6) {
            continue;
        }
        uint8_t *tcp = f + 14 + (f[14] & 0xf) * 4;
        CHECK_EQ_U64(get32(f + 14 + 16), GUEST_IP);
        CHECK_EQ_U64(get16(tcp + 2), GUEST_PORT);
        syn = (tcp[13] & 0x12) == 0x02;     /* SYN, no ACK */
        seq = get32(tcp + 4);
        src = get32(f + 14 + 12);
        sport = get16(tcp);
    }
    CHECK(syn);

    /* Answer SYN-ACK: the host's connect() completes. */
    if (syn) {
        uint8_t *ip = f + eth(f, g.gw_mac, 0x0800), *tcp = ip + 20;
        memset(tcp, 0, 20);
        put16(tcp, GUEST_PORT);
        put16(tcp + 2, sport);
        put32(tcp + 4, 1000);
        put32(tcp + 8, seq + 1);
        tcp[12] = 5 << 4;
        tcp[13] = 0x12;
        put16(tcp + 14, 65535);
        uint8_t pseudo[12];
        put32(pseudo, GUEST_IP);
        put32(pseudo + 4, src);
        pseudo[8] = 0;
        pseudo[9] = 6;
        put16(pseudo + 10, 20);
        uint32_t sum = (uint16_t)~csum(pseudo, sizeof(pseudo), 0);
        put16(tcp + 16, csum(tcp, 20, sum));
        ipv4(ip, 6, GUEST_IP, src, 20);
        nr_tx(&g.tx, f, 14 + 20 + 20);
        /* The host's data then reaches the guest as a segment carrying it
         * (slirp's ACK of our SYN-ACK may come first, or with it). */
        CHECK(WAIT_FOR(write(fd, "hello", 5) == 5, 10000));
        bool data = false;
        while (!data && (n = next_frame(&g, f, sizeof(f)))) {
            if (n < 54 || get16(f + 12) != 0x0800 || f[14 + 9] != 6) {
                continue;
            }
            tcp = f + 14 + (f[14] & 0xf) * 4;
            size_t doff = (size_t)(tcp[12] >> 4) * 4;
            size_t plen = get16(f + 16) - (size_t)((f[14] & 0xf) * 4) - doff;
            CHECK(tcp[13] & 0x10);                  /* ACK set */
            CHECK_EQ_U64(get32(tcp + 8), 1001);     /* acknowledges our SYN */
            if (plen == 5) {
                data = !memcmp(tcp + doff, "hello", 5);
                CHECK_EQ_U64(get32(tcp + 4), seq + 1);
            }
        }
        CHECK(data);
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    netrig_destroy(&g.r);
}

PV_TEST_MAIN(TEST(test_arp_and_dhcp), TEST(test_hostfwd_syn))
