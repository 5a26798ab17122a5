/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Netdev core and the datagram backends without a device: option parsing
 * (every malformed -netdev gets a message naming it), a socket (udp) pair
 * and a dgram (inet, unix) pair exchanging frames, and the receive queue's
 * backpressure: a consumer that does not consume makes the backend stop
 * reading at rx-queue=N packets, the sender blocks (unix datagrams have
 * flow control), and once it consumes every packet arrives, in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "harness.h"
#include "wait.h"
#include "parvm/net.h"

/* A stand-in for the device: counts rx_ready calls. */
typedef struct Peer {
    atomic_uint rx_ready, tx_ready;
} Peer;

static void peer_rx(void *o)
{
    atomic_fetch_add(&((Peer *)o)->rx_ready, 1);
}

static void peer_tx(void *o)
{
    atomic_fetch_add(&((Peer *)o)->tx_ready, 1);
}

static PvNetdev *mk(PvEventLoop *loop, const char *opts)
{
    char err[256] = "";
    PvNetdev *nd = pv_netdev_new(loop, opts, err, sizeof(err));
    if (!nd) {
        printf("# %s: %s\n", opts, err);
    }
    return nd;
}

static void attach(PvNetdev *nd, Peer *p)
{
    PvNetPeer peer = { .rx_ready = peer_rx, .tx_ready = peer_tx, .opaque = p };
    atomic_init(&p->rx_ready, 0);
    atomic_init(&p->tx_ready, 0);
    CHECK(pv_netdev_attach(nd, &peer) == 0);
}

/* Free UDP port on localhost (bind to 0, read back, close). */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_bad_options(void)
{
    static const char *const bad[] = {
        "", "id=x", "bogus,id=x", "socket", "socket,id=x", "socket,id=x,udp=127.0.0.1:1",
        "socket,id=x,udp=nohost,localaddr=:0", "socket,id=x,udp=127.0.0.1:99999,localaddr=:0",
        "socket,id=x,listen=:1234", "dgram,id=x", "dgram,id=x,local.type=inet",
        "dgram,id=x,local.type=inet,local.host=127.0.0.1,local.port=0",
        "dgram,id=x,local.type=vsock,local.path=/x,remote.type=unix,remote.path=/y",
        "dgram,id=x,local.type=unix,local.path=/tmp/a,remote.type=inet,remote.host=h,remote.port=1",
        "socket,id=x,udp=127.0.0.1:1,localaddr=:0,rx-flow=sometimes",
        "socket,id=x,udp=127.0.0.1:1,localaddr=:0,rx-drop=maybe",
        "socket,id=x,udp=127.0.0.1:1,localaddr=:0,rx-queue=0",
        "socket,id=x,udp=127.0.0.1:1,localaddr=:0,bogus=1",
        "socket,id=x,id=y,udp=127.0.0.1:1,localaddr=:0", "socket,id=x,,udp=1",
        "tap,id=x,script=/etc/qemu-ifup", "user,id=x,hostfwd=tcp::notaport-:22",
        "user,id=x,hostfwd=sctp::1-:2", "user,id=x,net=10.0.2.0/33",
        "user,id=x,restrict=perhaps",
    };
    PvEventLoop *loop = pv_event_loop_new();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        PvNetdev *nd = pv_netdev_new(loop, bad[i], err, sizeof(err));
        if (nd) {
            printf("# accepted: %s\n", bad[i]);
            pv_netdev_free(nd);
        }
        CHECK(nd == NULL);
        CHECK(err[0] != '\0' && !strchr(err, '\n'));
    }
    pv_event_loop_free(loop);
}

static void test_good_options(void)
{
    PvEventLoop *loop = pv_event_loop_new();
    char opts[256];
    PvNetdev *nd;

    snprintf(opts, sizeof(opts), "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d,"
             "rx-flow=notify,rx-drop=on,rx-queue=7", free_port(), free_port());
    nd = mk(loop, opts);
    CHECK(nd != NULL);
    if (nd) {
        CHECK(!strcmp(pv_netdev_id(nd), "n0"));
        CHECK(!strcmp(pv_netdev_type(nd), "socket"));
        CHECK(pv_netdev_rx_flow(nd) == PV_FLOW_NOTIFY);
        CHECK(pv_netdev_rx_drop(nd));
        pv_netdev_free(nd);
    }
    nd = mk(loop, "user,id=u0,net=10.0.3.0/24,hostfwd=tcp:127.0.0.1:0-:22,"
                  "hostfwd=udp::0-10.0.3.15:53");
    CHECK(nd != NULL);
    if (nd) {
        CHECK(pv_netdev_rx_flow(nd) == PV_FLOW_TRYLOCK);
        CHECK(!pv_netdev_rx_drop(nd));
        pv_netdev_free(nd);
    }
    pv_event_loop_free(loop);
}

/* Wait for one frame at @nd and check it is @want. */
static bool got_frame(PvNetdev *nd, const char *want)
{
    const PvNetPacket *p;

    if (!WAIT_FOR(pv_net_rx_peek(nd) != NULL, 10000)) {
        return false;
    }
    p = pv_net_rx_peek(nd);
    bool ok = p->len == strlen(want) && !memcmp(p->data, want, p->len);
    pv_net_rx_pop(nd, true);
    return ok;
}

static void pair_exchange(const char *oa, const char *ob)
{
    PvEventLoop *loop = pv_event_loop_new();
    PvNetdev *a, *b;
    Peer pa, pb;
    PvNetStats st;

    CHECK(pv_event_loop_start(loop) == 0);
    a = mk(loop, oa);
    b = mk(loop, ob);
    CHECK(a && b);
    if (!a || !b) {
        goto out;
    }
    attach(a, &pa);
    attach(b, &pb);
    CHECK(pv_net_send(a, "hello from a", 12) == 12);
    CHECK(pv_net_send(b, "and from b", 10) == 10);
    CHECK(got_frame(b, "hello from a"));
    CHECK(got_frame(a, "and from b"));
    /* The I/O thread queues a frame, then tells the peer: the test can see
     * the frame first. */
    CHECK(WAIT_FOR(atomic_load(&pa.rx_ready) > 0 && atomic_load(&pb.rx_ready) > 0, 10000));
    pv_netdev_get_stats(a, &st);
    CHECK_EQ_U64(st.tx_packets, 1);
    CHECK_EQ_U64(st.tx_bytes, 12);
    CHECK_EQ_U64(st.rx_packets, 1);
    CHECK_EQ_U64(st.rx_delivered, 1);
    CHECK_EQ_U64(st.rx_dropped, 0);
    /* Oversize frames are refused, counted. */
    static uint8_t big[PV_NET_MAX_FRAME + 1];
    CHECK(pv_net_send(a, big, sizeof(big)) == -EMSGSIZE);
    pv_netdev_get_stats(a, &st);
    CHECK_EQ_U64(st.tx_errors, 1);
    pv_netdev_detach(a);
    CHECK(pv_netdev_attach(b, &(PvNetPeer){ .opaque = &pb }) == -EBUSY);
out:
    pv_netdev_free(a);
    pv_netdev_free(b);
    pv_event_loop_stop(loop);
    pv_event_loop_free(loop);
}

static void test_socket_udp_pair(void)
{
    char oa[160], ob[160];
    int pa = free_port(), pb = free_port();

    snprintf(oa, sizeof(oa), "socket,id=a,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pb, pa);
    snprintf(ob, sizeof(ob), "socket,id=b,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pa, pb);
    pair_exchange(oa, ob);
}

static void test_dgram_inet_pair(void)
{
    char oa[256], ob[256];
    int pa = free_port(), pb = free_port();

    snprintf(oa, sizeof(oa), "dgram,id=a,local.type=inet,local.host=127.0.0.1,local.port=%d,"
             "remote.type=inet,remote.host=127.0.0.1,remote.port=%d", pa, pb);
    snprintf(ob, sizeof(ob), "dgram,id=b,local.type=inet,local.host=127.0.0.1,local.port=%d,"
             "remote.type=inet,remote.host=127.0.0.1,remote.port=%d", pb, pa);
    pair_exchange(oa, ob);
}

static void unix_paths(char *a, char *b, size_t len)
{
    snprintf(a, len, "/tmp/parvm-net-%d-a.sock", (int)getpid());
    snprintf(b, len, "/tmp/parvm-net-%d-b.sock", (int)getpid());
    unlink(a);
    unlink(b);
}

static void test_dgram_unix_pair(void)
{
    char pa[64], pb[64], oa[256], ob[256];

    unix_paths(pa, pb, sizeof(pa));
    snprintf(oa, sizeof(oa), "dgram,id=a,local.type=unix,local.path=%s,remote.type=unix,"
             "remote.path=%s", pa, pb);
    snprintf(ob, sizeof(ob), "dgram,id=b,local.type=unix,local.path=%s,remote.type=unix,"
             "remote.path=%s", pb, pa);
    pair_exchange(oa, ob);
    CHECK(access(pa, F_OK) != 0);   /* our socket file is removed */
}

/* ---- backpressure ------------------------------------------------------ */

#define BP_PACKETS 2000
#define BP_QUEUE 8

typedef struct Sender {
    const char *path;
    atomic_uint sent;
} Sender;

static void *sender_main(void *opaque)
{
    Sender *s = opaque;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    strcpy(a.sun_path, s->path);
    for (uint32_t i = 0; i < BP_PACKETS; i++) {
        uint8_t frame[64] = { 0 };
        memcpy(frame, &i, sizeof(i));
        /* Blocking: a full receiver holds us up, nothing is lost. */
        while (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
                printf("# sendto: %s\n", strerror(errno));
                close(fd);
                return NULL;
            }
            usleep(100);
        }
        atomic_fetch_add(&s->sent, 1);
    }
    close(fd);
    return NULL;
}

static void test_backpressure(void)
{
    char pa[64], pb[64], opts[256];
    PvEventLoop *loop = pv_event_loop_new();
    PvNetdev *nd;
    Peer peer;
    Sender s = { .path = pa };
    pthread_t t;
    PvNetStats st;
    uint32_t expect = 0;
    bool in_order = true;

    unix_paths(pa, pb, sizeof(pa));
    snprintf(opts, sizeof(opts), "dgram,id=bp,local.type=unix,local.path=%s,remote.type=unix,"
             "remote.path=%s,rx-queue=%d", pa, pb, BP_QUEUE);
    CHECK(pv_event_loop_start(loop) == 0);
    nd = mk(loop, opts);
    CHECK(nd != NULL);
    if (!nd) {
        goto out;
    }
    attach(nd, &peer);
    atomic_init(&s.sent, 0);
    pthread_create(&t, NULL, sender_main, &s);
    /* Consume nothing: the backend fills its queue and stops reading; the
     * kernel's socket buffer fills; the sender blocks. */
    CHECK(WAIT_FOR(pv_net_rx_queued(nd) == BP_QUEUE, 10000));
    /* The backend pauses when it next finds the queue full, just after. */
    CHECK(WAIT_FOR((pv_netdev_get_stats(nd, &st), st.rx_paused >= 1), 10000));
    CHECK_EQ_U64(st.rx_queue_max, BP_QUEUE);
    CHECK(atomic_load(&s.sent) < BP_PACKETS);
    /* Now consume everything, in order. */
    while (expect < BP_PACKETS) {
        const PvNetPacket *p;
        if (!WAIT_FOR((p = pv_net_rx_peek(nd)) != NULL, 10000)) {
            break;
        }
        uint32_t seq;
        memcpy(&seq, p->data, sizeof(seq));
        in_order &= seq == expect && p->len == 64;
        expect++;
        CHECK(pv_net_rx_queued(nd) <= BP_QUEUE);
        pv_net_rx_pop(nd, true);
    }
    pthread_join(t, NULL);
    CHECK_EQ_U64(expect, BP_PACKETS);
    CHECK(in_order);
    pv_netdev_get_stats(nd, &st);
    CHECK_EQ_U64(st.rx_packets, BP_PACKETS);
    CHECK_EQ_U64(st.rx_delivered, BP_PACKETS);
    CHECK(st.rx_queue_max <= BP_QUEUE);
    CHECK(st.rx_paused >= 2);
out:
    pv_netdev_free(nd);
    pv_event_loop_stop(loop);
    pv_event_loop_free(loop);
}

/* ---- tap ---------------------------------------------------------------- */

#define ETH_TEST 0x88b5

static bool tap_frame(const uint8_t *f, size_t len, uint32_t seq)
{
    uint32_t got;
    if (len < 64 || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff)) {
        return false;
    }
    memcpy(&got, f + 14, 4);
    return got == seq;
}

static void tap_one(bool vnet_hdr)
{
    char name[IFNAMSIZ], opts[160];
    PvEventLoop *loop = pv_event_loop_new();
    PvNetdev *nd;
    Peer peer;
    int ps = -1;

    snprintf(name, sizeof(name), "pvtap%d%c", (int)getpid() % 100000, vnet_hdr ? 'v' : 'p');
    snprintf(opts, sizeof(opts), "tap,id=t0,ifname=%s,script=no,downscript=no,vnet_hdr=%s", name,
             vnet_hdr ? "on" : "off");
    CHECK(pv_event_loop_start(loop) == 0);
    char err[256] = "";
    nd = pv_netdev_new(loop, opts, err, sizeof(err));
    if (!nd) {
        /* No CAP_NET_ADMIN or no /dev/net/tun here: nothing to test. */
        printf("# tap not available here: %s\n", err);
        goto out;
    }
    attach(nd, &peer);
    /* Bring the interface up and listen on it as the host's stack would. */
    struct ifreq ifr = { 0 };
    int ctl = socket(AF_INET, SOCK_DGRAM, 0);
    strcpy(ifr.ifr_name, name);
    CHECK(ioctl(ctl, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    CHECK(ioctl(ctl, SIOCSIFFLAGS, &ifr) == 0);
    close(ctl);
    ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_TEST));
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_TEST),
                              .sll_ifindex = (int)if_nametoindex(name) };
    CHECK(ps >= 0 && ll.sll_ifindex > 0 && bind(ps, (struct sockaddr *)&ll, sizeof(ll)) == 0);

    /* Host -> netdev (what a guest would receive). */
    for (uint32_t i = 0; i < 20; i++) {
        uint8_t f[64] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1,
                          ETH_TEST >> 8, ETH_TEST & 0xff };
        memcpy(f + 14, &i, 4);
        CHECK(send(ps, f, sizeof(f), 0) == (ssize_t)sizeof(f));
    }
    uint32_t seq = 0;
    while (seq < 20 && WAIT_FOR(pv_net_rx_peek(nd) != NULL, 10000)) {
        const PvNetPacket *p = pv_net_rx_peek(nd);
        /* The host's own chatter (IPv6 router solicitations...) is not ours. */
        if (p->data[12] == (ETH_TEST >> 8) && p->data[13] == (ETH_TEST & 0xff)) {
            CHECK(tap_frame(p->data, p->len, seq));
            seq++;
        }
        pv_net_rx_pop(nd, true);
    }
    CHECK_EQ_U64(seq, 20);

    /* Netdev -> host (what a guest would send). */
    for (uint32_t i = 0; i < 20; i++) {
        uint8_t f[64] = { 0x02, 0, 0, 0, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
                          ETH_TEST >> 8, ETH_TEST & 0xff };
        memcpy(f + 14, &i, 4);
        CHECK(pv_net_send(nd, f, sizeof(f)) == (ssize_t)sizeof(f));
    }
    for (uint32_t i = 0; i < 20; i++) {
        uint8_t buf[2048];
        ssize_t n = 0;
        CHECK(WAIT_FOR((n = recv(ps, buf, sizeof(buf), MSG_DONTWAIT)) > 0, 10000));
        CHECK(n == 64 && tap_frame(buf, (size_t)n, i));
    }
out:
    if (ps >= 0) {
        close(ps);
    }
    pv_netdev_free(nd);
    pv_event_loop_stop(loop);
    pv_event_loop_free(loop);
}

static void test_tap(void)
{
    tap_one(false);
    tap_one(true);
}

PV_TEST_MAIN(TEST(test_bad_options), TEST(test_good_options), TEST(test_socket_udp_pair),
             TEST(test_dgram_inet_pair), TEST(test_dgram_unix_pair), TEST(test_backpressure),
             TEST(test_tap))
