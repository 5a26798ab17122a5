/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between the netdev core (net.c) and its backends (net-*.c).
 *
 * A backend either gives the core one non-blocking fd (socket, dgram,
 * tap): the core polls it, calls ops->recv while the queue has room and
 * stops polling when it is full; or it feeds the queue itself (user:
 * libslirp) with pv_net_rx_enqueue(), checking pv_net_rx_has_room(), and
 * gets ops->rx_resume when room comes back.
 */
#ifndef PARVM_IO_NET_INTERNAL_H
#define PARVM_IO_NET_INTERNAL_H

#include <stdatomic.h>

#include "parvm/lock.h"
#include "parvm/net.h"

/* Parsed -netdev key=value list (after the type). */
typedef struct PvNetOpt {
    char *key, *val;
    bool used;
} PvNetOpt;

typedef struct PvNetOpts {
    PvNetOpt *v;
    unsigned n;
} PvNetOpts;

/* The value of the first not yet used @key (then marked used), or NULL.
 * A key may be given several times (hostfwd=). */
const char *pv_net_opt(PvNetOpts *o, const char *key);

typedef struct PvNetdevOps {
    const char *type;
    /* Parse the backend's options and open it (set nd->be, and nd->fd for
     * fd backends).  0, or -1 with @err filled. */
    int (*open)(PvNetdev *nd, PvNetOpts *o, char *err, size_t errlen);
    /* fd backends, I/O thread: read one frame into @buf.  Returns its
     * length, 0 if none is ready, or -errno if the fd is dead. */
    ssize_t (*recv)(PvNetdev *nd, void *buf, size_t cap);
    /* See pv_net_send(); the core counts. */
    ssize_t (*send)(PvNetdev *nd, const void *buf, size_t len);
    /* Non-fd backends, I/O thread: the queue has room again.  Optional. */
    void (*rx_resume)(PvNetdev *nd);
    /* Non-fd backends: a peer attached, start producing.  Optional. */
    void (*start)(PvNetdev *nd);
    /* Stop producing; when it returns no backend callback runs.  Caller
     * holds no lock.  Optional. */
    void (*stop)(PvNetdev *nd);
    /* Free nd->be and close nd->fd.  No callback runs any more. */
    void (*cleanup)(PvNetdev *nd);
} PvNetdevOps;

extern const PvNetdevOps pv_net_socket_ops;
extern const PvNetdevOps pv_net_dgram_ops;
extern const PvNetdevOps pv_net_tap_ops;
extern const PvNetdevOps pv_net_user_ops;

struct PvNetdev {
    const PvNetdevOps *ops;
    PvEventLoop *loop;
    char id[48];
    PvFlow rx_flow;
    bool rx_drop;
    unsigned rx_limit;
    int fd;                     /* fd backends; -1 otherwise */
    void *be;                   /* backend state */

    PvBH *update_bh;            /* I/O thread: re-evaluate fd handlers */
    atomic_bool closing;
    atomic_bool attached;
    atomic_bool tx_blocked;     /* send answered -EAGAIN; wait for POLLOUT */
    atomic_bool fd_dead;
    PvNetPeer peer;             /* written only while not attached */

    /* The receive queue.  Under qlock (a leaf). */
    PvMutex qlock;
    PvNetPacket *head, *tail;
    unsigned count;
    bool paused;                /* reading stopped because it was full */
    PvNetPacket *spare;         /* recycled packet buffers */
    unsigned nspare;

    uint8_t *scratch;           /* I/O thread: one frame being read */

    struct {
        atomic_uint_fast64_t rx_packets, rx_bytes, rx_delivered, rx_dropped;
        atomic_uint_fast64_t rx_paused, rx_queue_max;
        atomic_uint_fast64_t tx_packets, tx_bytes, tx_again, tx_errors;
    } st;
};

/* Backend side, I/O thread. */
bool pv_net_rx_has_room(PvNetdev *nd);
/* Queue one frame (always taken: the bound is the backend's to keep with
 * pv_net_rx_has_room()); call pv_net_rx_notify() after a batch. */
void pv_net_rx_enqueue(PvNetdev *nd, const void *buf, size_t len);
void pv_net_rx_notify(PvNetdev *nd);
/* Any thread: wake the peer's transmit side (after -EAGAIN) from a
 * non-fd backend. */
void pv_net_tx_wake(PvNetdev *nd);

/* Parse "HOST:PORT" (HOST may be empty: any / loopback per @any). */
struct sockaddr_storage;
int pv_net_parse_inet(const char *s, bool empty_host_any, struct sockaddr_storage *ss,
                      unsigned *sslen);

#endif
