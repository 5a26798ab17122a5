/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seed's three receive flows (S8) under load, each selected with the
 * netdev's rx-flow=: a host thread sends 100000 frames (sequence numbers
 * in the payload) into a dgram (unix) netdev as fast as the backpressure
 * lets it; a "guest" thread plays the driver (reposts receive buffers,
 * kicks); two "vCPU" threads hammer the device's registers, so the device
 * lock is often held when the I/O thread wants it.  Every frame must
 * arrive, in order, and the flow's busy path must have been taken (the
 * device-work counters), with the netdev's queue bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "netrig.h"
#include "wait.h"
#include "parvm/clock.h"
#include "parvm/rcu.h"

#define PACKETS 100000u
#define FRAME 64u
#define RXQ_LIMIT 64

typedef struct Run {
    NetRig r;
    NrQueue rx, tx;
    atomic_bool done;
    atomic_uint received;
    uint32_t bad_order, bad_len;
    uint64_t hammer_reads;
} Run;

static void *sender_main(void *opaque)
{
    Run *run = opaque;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    /* The netdev's socket is connected to its remote: only that may send. */
    int fd = run->r.host_fd;
    uint8_t f[FRAME];

    strcpy(a.sun_path, run->r.path_dev);
    memset(f, 0xab, sizeof(f));
    for (uint32_t i = 0; i < PACKETS && !atomic_load(&run->done); i++) {
        memcpy(f + 14, &i, 4);
        while (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
                printf("# sendto: %s\n", strerror(errno));
                return NULL;
            }
            usleep(50);
        }
    }
    return NULL;
}

/* The guest's receive path: consume used entries, check them, repost. */
static void *guest_main(void *opaque)
{
    Run *run = opaque;
    NrQueue *rx = &run->rx;
    uint32_t expect = 0;
    int64_t last_progress = pv_clock_ns();

    pv_rcu_register_thread();
    while (expect < PACKETS) {
        uint16_t idx = nr_used_idx(rx);
        if (idx == rx->used_seen) {
            pv_rcu_quiescent();
            if (pv_clock_ns() - last_progress > 60000 * PV_NS_PER_MS) {
                printf("# no progress at %u for 60 s\n", expect);
                break;
            }
            sched_yield();
            continue;
        }
        while (rx->used_seen != idx) {
            uint32_t id, len, seq = UINT32_MAX;
            uint8_t hdr[PV_VIRTIO_NET_HDR_LEN + 18];

            nr_used_elem(rx, rx->used_seen, &id, &len);
            if (id < NR_QSIZE && len == PV_VIRTIO_NET_HDR_LEN + FRAME) {
                nr_ram_read(&run->r, NR_RXBUF + (uint64_t)id * NR_BUFSZ, hdr, sizeof(hdr));
                memcpy(&seq, hdr + PV_VIRTIO_NET_HDR_LEN + 14, 4);
            } else {
                run->bad_len++;
            }
            if (seq != expect) {
                if (run->bad_order++ < 5) {
                    printf("# got seq %u, expected %u\n", seq, expect);
                }
            }
            expect++;
            rx->used_seen++;
            nr_rx_post(rx, (uint16_t)(id % NR_QSIZE), NR_BUFSZ);
        }
        atomic_store(&run->received, expect);
        last_progress = pv_clock_ns();
        nr_kick(rx);
        pv_rcu_quiescent();
    }
    atomic_store(&run->received, expect);
    atomic_store(&run->done, true);
    pv_rcu_unregister_thread();
    return NULL;
}

/* A vCPU that keeps entering the device: status, interrupt status and
 * config reads take the device lock. */
static void *hammer_main(void *opaque)
{
    Run *run = opaque;
    uint64_t n = 0;

    pv_rcu_register_thread();
    while (!atomic_load(&run->done)) {
        (void)nr_reg_r(&run->r, R_STATUS);
        (void)nr_reg_r(&run->r, R_ISR);
        (void)nr_reg_r(&run->r, R_CONFIG);
        if ((++n & 63) == 0) {
            pv_rcu_quiescent();
        }
    }
    pv_rcu_unregister_thread();
    __atomic_fetch_add(&run->hammer_reads, n, __ATOMIC_RELAXED);
    return NULL;
}

static void flow_run(const char *flow)
{
    static Run run;
    char extra[64];
    pthread_t snd, guest, ham[2];
    PvDeviceWorkStats ws;
    PvVirtioNetStats st;
    PvNetStats ns;

    memset(&run, 0, sizeof(run));
    snprintf(extra, sizeof(extra), "rx-flow=%s,rx-queue=%d", flow, RXQ_LIMIT);
    CHECK(netrig_init(&run.r, NULL, extra, NULL));
    if (!run.r.net) {
        return;
    }
    nr_driver_up(&run.r, F_VERSION_1 | F_MAC | F_STATUS, &run.rx, &run.tx);
    for (uint16_t i = 0; i < NR_QSIZE; i++) {
        nr_rx_post(&run.rx, i, NR_BUFSZ);
    }
    nr_kick(&run.rx);

    pthread_create(&ham[0], NULL, hammer_main, &run);
    pthread_create(&ham[1], NULL, hammer_main, &run);
    pthread_create(&guest, NULL, guest_main, &run);
    pthread_create(&snd, NULL, sender_main, &run);
    pv_rcu_offline();
    pthread_join(guest, NULL);
    pthread_join(snd, NULL);
    pthread_join(ham[0], NULL);
    pthread_join(ham[1], NULL);
    pv_rcu_online();

    pv_device_work_stats(&pv_virtio_net_virtio(run.r.net)->dev, &ws);
    pv_virtio_net_get_stats(run.r.net, &st);
    pv_netdev_get_stats(run.r.nd, &ns);
    printf("# %s: received %u; work: direct %" PRIu64 " by-holder %" PRIu64 " retries %"
           PRIu64 " yields %" PRIu64 "; rx runs %" PRIu64 " (off I/O thread %" PRIu64
           "), no-buffers %" PRIu64 "; netdev paused %" PRIu64 " queue max %" PRIu64
           "; hammer reads %" PRIu64 "\n",
           flow, atomic_load(&run.received), ws.ran_direct, ws.ran_by_holder, ws.retries,
           ws.yields, st.rx_runs, st.rx_runs_off_io, st.rx_no_buffers, ns.rx_paused,
           ns.rx_queue_max, run.hammer_reads);
    CHECK_EQ_U64(atomic_load(&run.received), PACKETS);
    CHECK_EQ_U64(run.bad_order, 0);
    CHECK_EQ_U64(run.bad_len, 0);
    CHECK_EQ_U64(ns.rx_packets, PACKETS);
    CHECK_EQ_U64(ns.rx_delivered, PACKETS);
    CHECK_EQ_U64(ns.rx_dropped, 0);
    CHECK_EQ_U64(st.rx_frames, PACKETS);
    CHECK(ns.rx_queue_max <= RXQ_LIMIT);
    /* The busy path of each flow was taken. */
    if (!strcmp(flow, "queue")) {
        CHECK(ws.ran_by_holder > 0);
        CHECK(st.rx_runs_off_io > 0);
    } else {
        CHECK(ws.retries > 0);
        CHECK_EQ_U64(st.rx_runs_off_io, 0);
    }
    netrig_destroy(&run.r);
}

static void test_flow_trylock(void)
{
    flow_run("trylock");
}

static void test_flow_queue(void)
{
    flow_run("queue");
}

static void test_flow_notify(void)
{
    flow_run("notify");
}

PV_TEST_MAIN(TEST(test_flow_trylock), TEST(test_flow_queue), TEST(test_flow_notify))
