/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Netdev core: option parsing, the receive queue with its backpressure,
 * the fd polling of fd backends, counters.  See include/parvm/net.h.
 *
 * Who changes the fd's handlers: only update_fd(), and only on the I/O
 * thread (the read callback itself, or update_bh scheduled from anywhere),
 * so that "read or not" and "wait for POLLOUT or not" never race.  Teardown
 * (closing) is the exception, see stop_fd().
 *
 * Pause/resume without a lost wake-up: the producer sets paused under
 * qlock when it finds the queue full; the consumer clears it under qlock
 * when a pop leaves the queue half empty and then schedules update_bh.
 * update_fd() reads paused afterwards, so it sees the consumer's clear.
 */
#include "net-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RX_QUEUE_DEFAULT 256
#define RX_QUEUE_MAX 65536
/* Frames read per readable event: others' fds get their turn. */
#define RX_BUDGET 64
/* Packet buffers kept for reuse. */
#define SPARE_MAX 64

static PvLockClass net_queue_class = PV_LOCK_CLASS_INIT("net-queue", PV_LOCK_KIND_CORE);

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || !len) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* ---- options ------------------------------------------------------------ */

const char *pv_net_opt(PvNetOpts *o, const char *key)
{
    for (unsigned i = 0; i < o->n; i++) {
        if (!o->v[i].used && !strcmp(o->v[i].key, key)) {
            o->v[i].used = true;
            return o->v[i].val;
        }
    }
    return NULL;
}

static void opts_free(PvNetOpts *o)
{
    for (unsigned i = 0; i < o->n; i++) {
        free(o->v[i].key);
    }
    free(o->v);
    o->v = NULL;
    o->n = 0;
}

/* "type,k=v,k=v": the type in *@type (malloc'd), pairs in @o.  A key may
 * repeat (hostfwd): pv_net_opt() then finds the first unused one. */
static int opts_parse(const char *s, char **type, PvNetOpts *o, char *err, size_t errlen)
{
    char *copy = strdup(s), *save = NULL, *tok;
    int ret = -1;

    *type = NULL;
    o->v = NULL;
    o->n = 0;
    if (!copy) {
        set_err(err, errlen, "-netdev: out of memory");
        return -1;
    }
    tok = strtok_r(copy, ",", &save);
    if (!tok || strchr(tok, '=')) {
        set_err(err, errlen, "-netdev %s: the backend type comes first", s);
        goto out;
    }
    *type = strdup(tok);
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *eq = strchr(tok, '=');
        PvNetOpt *nv;

        if (!eq || eq == tok) {
            set_err(err, errlen, "-netdev %s: expected key=value, got '%s'", s, tok);
            goto out;
        }
        nv = realloc(o->v, (o->n + 1) * sizeof(*nv));
        if (!nv) {
            set_err(err, errlen, "-netdev: out of memory");
            goto out;
        }
        o->v = nv;
        *eq = '\0';
        /* key and value in one allocation: val points past key's NUL */
        nv[o->n].key = malloc(strlen(tok) + strlen(eq + 1) + 2);
        if (!nv[o->n].key) {
            set_err(err, errlen, "-netdev: out of memory");
            goto out;
        }
        strcpy(nv[o->n].key, tok);
        nv[o->n].val = nv[o->n].key + strlen(tok) + 1;
        strcpy(nv[o->n].val, eq + 1);
        nv[o->n].used = false;
        o->n++;
    }
    ret = *type ? 0 : -1;
out:
    free(copy);
    if (ret) {
        free(*type);
        *type = NULL;
        opts_free(o);
    }
    return ret;
}

static bool parse_onoff(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

int pv_net_parse_inet(const char *s, bool empty_host_any, struct sockaddr_storage *ss,
                      unsigned *sslen)
{
    const char *colon = strrchr(s, ':');
    char host[256];
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
    struct addrinfo *res = NULL;
    char *end;
    long port;
    size_t hl;

    if (!colon) {
        return -1;
    }
    hl = (size_t)(colon - s);
    if (hl >= sizeof(host)) {
        return -1;
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535) {
        return -1;
    }
    if (!hl) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        memset(ss, 0, sizeof(*ss));
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(empty_host_any ? INADDR_ANY : INADDR_LOOPBACK);
        *sslen = sizeof(*sin);
        return 0;
    }
    if (getaddrinfo(host, NULL, &hints, &res) || !res) {
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    *sslen = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* ---- the fd ------------------------------------------------------------- */

static void on_readable(void *opaque);
static void on_writable(void *opaque);

/* I/O thread only (see the top comment). */
static void update_fd(PvNetdev *nd)
{
    bool rd, wr;

    if (nd->fd < 0 || atomic_load(&nd->closing)) {
        return;
    }
    pv_mutex_lock(&nd->qlock);
    rd = !nd->paused;
    pv_mutex_unlock(&nd->qlock);
    rd = rd && atomic_load(&nd->attached) && !atomic_load(&nd->fd_dead);
    wr = atomic_load(&nd->tx_blocked) && !atomic_load(&nd->fd_dead);
    pv_event_loop_set_fd(nd->loop, nd->fd, rd ? on_readable : NULL, wr ? on_writable : NULL, nd);
}

static void update_bh_cb(void *opaque)
{
    PvNetdev *nd = opaque;

    update_fd(nd);
    if (!atomic_load(&nd->closing) && nd->fd < 0 && nd->ops->rx_resume &&
        atomic_load(&nd->attached) && pv_net_rx_has_room(nd)) {
        nd->ops->rx_resume(nd);
    }
    /* Packets may have been queued before the peer attached. */
    if (pv_net_rx_queued(nd)) {
        pv_net_rx_notify(nd);
    }
}

static void on_readable(void *opaque)
{
    PvNetdev *nd = opaque;
    unsigned got = 0;

    if (atomic_load(&nd->closing) || !atomic_load(&nd->attached)) {
        return;     /* a call already fetched when the handler went */
    }
    while (got < RX_BUDGET && pv_net_rx_has_room(nd)) {
        ssize_t n = nd->ops->recv(nd, nd->scratch, PV_NET_MAX_FRAME);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            fprintf(stderr, "parvm: netdev %s: receive failed: %s\n", nd->id, strerror((int)-n));
            atomic_store(&nd->fd_dead, true);
            break;
        }
        pv_net_rx_enqueue(nd, nd->scratch, (size_t)n);
        got++;
    }
    /* Full, or dead: stop polling for input.  (paused was set under
     * qlock by pv_net_rx_has_room().) */
    update_fd(nd);
    if (got) {
        pv_net_rx_notify(nd);
    }
}

static void on_writable(void *opaque)
{
    PvNetdev *nd = opaque;

    if (atomic_load(&nd->closing)) {
        return;
    }
    atomic_store(&nd->tx_blocked, false);
    update_fd(nd);
    if (atomic_load(&nd->attached) && nd->peer.tx_ready) {
        nd->peer.tx_ready(nd->peer.opaque);
    }
}

/* Teardown: remove the handlers so that no callback re-adds them.  A
 * callback that checked closing before we set it may re-register; it has
 * returned after the quiesce, so the second removal is final, and the
 * second quiesce covers a call already fetched. */
static void stop_fd(PvNetdev *nd)
{
    if (nd->fd < 0) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        pv_event_loop_set_fd(nd->loop, nd->fd, NULL, NULL, NULL);
        pv_event_loop_quiesce(nd->loop);
    }
}

/* ---- queue -------------------------------------------------------------- */

bool pv_net_rx_has_room(PvNetdev *nd)
{
    bool room;

    pv_mutex_lock(&nd->qlock);
    room = nd->count < nd->rx_limit;
    if (!room && !nd->paused) {
        nd->paused = true;
        atomic_fetch_add_explicit(&nd->st.rx_paused, 1, memory_order_relaxed);
    }
    pv_mutex_unlock(&nd->qlock);
    return room;
}

void pv_net_rx_enqueue(PvNetdev *nd, const void *buf, size_t len)
{
    PvNetPacket *p = NULL;

    pv_mutex_lock(&nd->qlock);
    if (nd->spare && nd->spare->cap >= len) {
        p = nd->spare;
        nd->spare = p->next;
        nd->nspare--;
    }
    pv_mutex_unlock(&nd->qlock);
    if (!p) {
        /* Room for a full-size ethernet frame, so buffers recycle. */
        size_t cap = len < 1536 ? 1536 : len;
        p = malloc(sizeof(*p) + cap);
        if (!p) {
            fprintf(stderr, "parvm: netdev %s: out of memory, frame lost\n", nd->id);
            return;
        }
        p->cap = cap;
    }
    memcpy(p->data, buf, len);
    p->len = len;
    p->next = NULL;
    /* Counted before it is visible: whoever sees the frame sees it counted. */
    atomic_fetch_add_explicit(&nd->st.rx_packets, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&nd->st.rx_bytes, len, memory_order_relaxed);
    pv_mutex_lock(&nd->qlock);
    if (nd->tail) {
        nd->tail->next = p;
    } else {
        nd->head = p;
    }
    nd->tail = p;
    nd->count++;
    if (nd->count > atomic_load_explicit(&nd->st.rx_queue_max, memory_order_relaxed)) {
        atomic_store_explicit(&nd->st.rx_queue_max, nd->count, memory_order_relaxed);
    }
    pv_mutex_unlock(&nd->qlock);
}

void pv_net_rx_notify(PvNetdev *nd)
{
    if (atomic_load(&nd->attached) && !atomic_load(&nd->closing) && nd->peer.rx_ready) {
        nd->peer.rx_ready(nd->peer.opaque);
    }
}

void pv_net_tx_wake(PvNetdev *nd)
{
    if (atomic_load(&nd->attached) && !atomic_load(&nd->closing) && nd->peer.tx_ready) {
        nd->peer.tx_ready(nd->peer.opaque);
    }
}

const PvNetPacket *pv_net_rx_peek(PvNetdev *nd)
{
    PvNetPacket *p;

    /* Only the consumer removes packets, so the head stays valid after
     * the lock is dropped; the producer only appends. */
    pv_mutex_lock(&nd->qlock);
    p = nd->head;
    pv_mutex_unlock(&nd->qlock);
    return p;
}

void pv_net_rx_pop(PvNetdev *nd, bool delivered)
{
    PvNetPacket *p, *spare_old = NULL;
    bool resume = false;

    pv_mutex_lock(&nd->qlock);
    p = nd->head;
    if (!p) {
        pv_mutex_unlock(&nd->qlock);
        return;
    }
    nd->head = p->next;
    if (!nd->head) {
        nd->tail = NULL;
    }
    nd->count--;
    if (nd->paused && nd->count <= nd->rx_limit / 2) {
        nd->paused = false;
        resume = true;
    }
    /* Keep buffers for the producer: the common case allocates nothing. */
    if (nd->nspare < SPARE_MAX) {
        p->next = nd->spare;
        nd->spare = p;
        nd->nspare++;
    } else {
        spare_old = p;
    }
    pv_mutex_unlock(&nd->qlock);
    free(spare_old);
    atomic_fetch_add_explicit(delivered ? &nd->st.rx_delivered : &nd->st.rx_dropped, 1,
                              memory_order_relaxed);
    if (resume) {
        pv_bh_schedule(nd->update_bh);
    }
}

unsigned pv_net_rx_queued(PvNetdev *nd)
{
    unsigned n;

    pv_mutex_lock(&nd->qlock);
    n = nd->count;
    pv_mutex_unlock(&nd->qlock);
    return n;
}

/* ---- send --------------------------------------------------------------- */

ssize_t pv_net_send(PvNetdev *nd, const void *buf, size_t len)
{
    ssize_t r;

    if (len > PV_NET_MAX_FRAME) {
        atomic_fetch_add_explicit(&nd->st.tx_errors, 1, memory_order_relaxed);
        return -EMSGSIZE;
    }
    r = nd->ops->send(nd, buf, len);
    if (r == -EAGAIN) {
        atomic_fetch_add_explicit(&nd->st.tx_again, 1, memory_order_relaxed);
        if (nd->fd >= 0) {
            atomic_store(&nd->tx_blocked, true);
            pv_bh_schedule(nd->update_bh);
        }
        return r;
    }
    if (r < 0) {
        atomic_fetch_add_explicit(&nd->st.tx_errors, 1, memory_order_relaxed);
        return r;
    }
    atomic_fetch_add_explicit(&nd->st.tx_packets, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&nd->st.tx_bytes, len, memory_order_relaxed);
    return (ssize_t)len;
}

/* ---- lifetime ----------------------------------------------------------- */

static const PvNetdevOps *const backends[] = {
    &pv_net_socket_ops,
    &pv_net_dgram_ops,
    &pv_net_tap_ops,
    &pv_net_user_ops,
};

PvNetdev *pv_netdev_new(PvEventLoop *loop, const char *opts, char *err, size_t errlen)
{
    PvNetOpts o;
    char *type = NULL;
    PvNetdev *nd = NULL;
    const PvNetdevOps *ops = NULL;
    const char *v;

    if (opts_parse(opts, &type, &o, err, errlen)) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (!strcmp(backends[i]->type, type)) {
            ops = backends[i];
        }
    }
    if (!ops) {
        set_err(err, errlen, "-netdev %s: unknown backend type '%s' (socket, dgram, tap, user)",
                opts, type);
        goto fail;
    }
    nd = calloc(1, sizeof(*nd));
    if (!nd) {
        set_err(err, errlen, "-netdev: out of memory");
        goto fail;
    }
    nd->ops = ops;
    nd->loop = loop;
    nd->fd = -1;
    nd->rx_flow = PV_FLOW_TRYLOCK;
    nd->rx_limit = RX_QUEUE_DEFAULT;
    pv_mutex_init(&nd->qlock, &net_queue_class);

    v = pv_net_opt(&o, "id");
    if (!v || !*v || strlen(v) >= sizeof(nd->id)) {
        set_err(err, errlen, "-netdev %s: needs id=NAME (at most %zu characters)", opts,
                sizeof(nd->id) - 1);
        goto fail;
    }
    strcpy(nd->id, v);
    if ((v = pv_net_opt(&o, "rx-flow"))) {
        int f = pv_flow_parse(v);
        if (f < 0) {
            set_err(err, errlen, "-netdev %s: rx-flow must be trylock, queue or notify", opts);
            goto fail;
        }
        nd->rx_flow = (PvFlow)f;
    }
    if ((v = pv_net_opt(&o, "rx-drop")) && !parse_onoff(v, &nd->rx_drop)) {
        set_err(err, errlen, "-netdev %s: rx-drop must be on or off", opts);
        goto fail;
    }
    if ((v = pv_net_opt(&o, "rx-queue"))) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || n < 1 || n > RX_QUEUE_MAX) {
            set_err(err, errlen, "-netdev %s: rx-queue must be 1..%u", opts, RX_QUEUE_MAX);
            goto fail;
        }
        nd->rx_limit = (unsigned)n;
    }
    nd->scratch = malloc(PV_NET_MAX_FRAME);
    nd->update_bh = pv_bh_new(loop, update_bh_cb, nd);
    if (!nd->scratch || !nd->update_bh) {
        set_err(err, errlen, "-netdev: out of memory");
        goto fail;
    }
    if (ops->open(nd, &o, err, errlen)) {
        goto fail;
    }
    for (unsigned i = 0; i < o.n; i++) {
        if (!o.v[i].used) {
            set_err(err, errlen, "-netdev %s: unknown or repeated option '%s'", opts, o.v[i].key);
            ops->cleanup(nd);
            goto fail;
        }
    }
    opts_free(&o);
    free(type);
    return nd;

fail:
    if (nd) {
        pv_bh_free(nd->update_bh);
        free(nd->scratch);
        pv_mutex_destroy(&nd->qlock);
        free(nd);
    }
    opts_free(&o);
    free(type);
    return NULL;
}

int pv_netdev_attach(PvNetdev *nd, const PvNetPeer *peer)
{
    if (atomic_load(&nd->attached)) {
        return -EBUSY;
    }
    nd->peer = *peer;
    atomic_store(&nd->attached, true);
    if (nd->fd < 0 && nd->ops->start) {
        nd->ops->start(nd);
    }
    /* Start reading, and tell the peer about what is already queued. */
    pv_bh_schedule(nd->update_bh);
    return 0;
}

void pv_netdev_detach(PvNetdev *nd)
{
    if (!atomic_load(&nd->attached)) {
        return;
    }
    atomic_store(&nd->attached, false);
    if (nd->fd < 0 && nd->ops->stop) {
        nd->ops->stop(nd);
    }
    /* Stop reading (update_fd sees !attached).  Peer callbacks run only on
     * the I/O thread and check attached first; wait out one that had
     * already checked it. */
    pv_bh_schedule(nd->update_bh);
    pv_event_loop_quiesce(nd->loop);
}

void pv_netdev_free(PvNetdev *nd)
{
    PvNetPacket *p, *next;

    if (!nd) {
        return;
    }
    pv_netdev_detach(nd);
    atomic_store(&nd->closing, true);
    pv_bh_free(nd->update_bh);
    stop_fd(nd);
    if (nd->ops->stop) {
        nd->ops->stop(nd);
    }
    nd->ops->cleanup(nd);
    for (p = nd->head; p; p = next) {
        next = p->next;
        free(p);
    }
    for (p = nd->spare; p; p = next) {
        next = p->next;
        free(p);
    }
    free(nd->scratch);
    pv_mutex_destroy(&nd->qlock);
    free(nd);
}

const char *pv_netdev_id(const PvNetdev *nd)
{
    return nd->id;
}

const char *pv_netdev_type(const PvNetdev *nd)
{
    return nd->ops->type;
}

PvFlow pv_netdev_rx_flow(const PvNetdev *nd)
{
    return nd->rx_flow;
}

bool pv_netdev_rx_drop(const PvNetdev *nd)
{
    return nd->rx_drop;
}

void pv_netdev_get_stats(PvNetdev *nd, PvNetStats *out)
{
#define LD(f) out->f = atomic_load_explicit(&nd->st.f, memory_order_relaxed)
    LD(rx_packets);
    LD(rx_bytes);
    LD(rx_delivered);
    LD(rx_dropped);
    LD(rx_paused);
    LD(rx_queue_max);
    LD(tx_packets);
    LD(tx_bytes);
    LD(tx_again);
    LD(tx_errors);
#undef LD
}
