/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking: -netdev user,id=ID[,net=A.B.C.D/N][,host=A.B.C.D]
 * [,dhcpstart=A.B.C.D][,dns=A.B.C.D][,restrict=on|off]
 * [,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 * with libslirp, QEMU's defaults (10.0.2.0/24, gateway .2, DNS .3, DHCP
 * from .15).
 *
 * libslirp is single-threaded: every call into it happens on the I/O
 * thread.  Frames from the guest (pv_net_send(), any thread) go to a
 * bounded list under a leaf lock and a bottom half feeds them to
 * slirp_input().  libslirp's sockets are polled poll(2)-style:
 * slirp_pollfds_fill() says which fds it wants; after each round we
 * register those with the event loop, and when one is ready (or a timer
 * fires) we poll(2) the set with a zero timeout and hand the result to
 * slirp_pollfds_poll().  While the netdev's receive queue is full we hide
 * POLLIN from libslirp, so it stops reading its sockets (backpressure);
 * what it emits anyway (answers to the guest's own frames, TCP timers)
 * is queued past the bound, which the guest's transmit rate bounds.
 */
#include "net-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/clock.h"

#define TX_LIMIT 256
#define MAX_HOSTFWD 16

static PvLockClass user_tx_class = PV_LOCK_CLASS_INIT("net-user-tx", PV_LOCK_KIND_CORE);

typedef struct UserTimer {
    struct UserBackend *u;
    PvTimer *t;
    SlirpTimerCb cb;
    void *cb_opaque;
    struct UserTimer *next;
} UserTimer;

typedef struct UserBackend {
    PvNetdev *nd;
    Slirp *slirp;
    atomic_bool closing;
    PvBH *poll_bh;              /* run a poll round */
    PvBH *tx_bh;                /* feed queued guest frames */
    PvTimer *poll_timer;        /* slirp_pollfds_fill's timeout */

    /* I/O thread only (and teardown, once no callback runs). */
    struct pollfd *pfd;
    unsigned npfd, cap;
    int *reg;                   /* fds registered with the event loop */
    unsigned nreg, regcap;
    UserTimer *timers;
    bool hide_in;               /* queue full: POLLIN hidden this round */

    /* Guest frames waiting for slirp_input(); under txlock. */
    PvMutex txlock;
    PvNetPacket *tx_head, *tx_tail;
    unsigned tx_count;
    bool tx_wake;               /* a sender got -EAGAIN */
} UserBackend;

/* ---- slirp callbacks (I/O thread, or slirp_new() on the opener) -------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    UserBackend *u = opaque;

    pv_net_rx_enqueue(u->nd, buf, len);
    pv_net_rx_notify(u->nd);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    UserBackend *u = opaque;
    fprintf(stderr, "parvm: netdev %s: guest error: %s\n", u->nd->id, msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return pv_clock_ns();
}

static void timer_fire(void *opaque)
{
    UserTimer *ut = opaque;

    if (atomic_load(&ut->u->closing)) {
        return;
    }
    ut->cb(ut->cb_opaque);
    pv_bh_schedule(ut->u->poll_bh);
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    UserBackend *u = opaque;
    UserTimer *ut = calloc(1, sizeof(*ut));

    if (!ut) {
        return NULL;
    }
    ut->u = u;
    ut->cb = cb;
    ut->cb_opaque = cb_opaque;
    ut->t = pv_timer_new(u->nd->loop, timer_fire, ut);
    if (!ut->t) {
        free(ut);
        return NULL;
    }
    ut->next = u->timers;
    u->timers = ut;
    return ut;
}

static void cb_timer_free(void *timer, void *opaque)
{
    UserBackend *u = opaque;
    UserTimer **pp;

    for (pp = &u->timers; *pp; pp = &(*pp)->next) {
        if (*pp == timer) {
            UserTimer *ut = *pp;
            *pp = ut->next;
            pv_timer_free(ut->t);   /* on the I/O thread: does not wait */
            free(ut);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    UserTimer *ut = timer;
    (void)opaque;
    if (ut) {
        pv_timer_mod(ut->t, expire_ms * PV_NS_PER_MS);
    }
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;   /* the poll round registers what it needs */
}

static void cb_notify(void *opaque)
{
    UserBackend *u = opaque;
    pv_bh_schedule(u->poll_bh);
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
};

/* ---- the poll round (I/O thread) --------------------------------------- */

static int add_poll(int fd, int events, void *opaque)
{
    UserBackend *u = opaque;
    struct pollfd *p;

    if (u->npfd == u->cap) {
        unsigned cap = u->cap ? u->cap * 2 : 16;
        p = realloc(u->pfd, cap * sizeof(*p));
        if (!p) {
            return -1;
        }
        u->pfd = p;
        u->cap = cap;
    }
    p = &u->pfd[u->npfd];
    p->fd = fd;
    p->events = (short)(((events & SLIRP_POLL_IN) && !u->hide_in ? POLLIN : 0) |
                        (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
                        (events & SLIRP_POLL_PRI ? POLLPRI : 0));
    p->revents = 0;
    return (int)u->npfd++;
}

static int get_revents(int idx, void *opaque)
{
    UserBackend *u = opaque;
    short r;

    if (idx < 0 || (unsigned)idx >= u->npfd) {
        return 0;
    }
    r = u->pfd[idx].revents;
    return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
           (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
           (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static void fd_ready(void *opaque);

static bool reg_has(UserBackend *u, int fd)
{
    for (unsigned i = 0; i < u->nreg; i++) {
        if (u->reg[i] == fd) {
            return true;
        }
    }
    return false;
}

/* Make the event loop watch exactly the fds of this round. */
static void sync_registrations(UserBackend *u)
{
    PvEventLoop *loop = u->nd->loop;
    unsigned i, j;

    for (i = 0; i < u->nreg;) {
        bool keep = false;
        for (j = 0; j < u->npfd; j++) {
            keep |= u->pfd[j].fd == u->reg[i] && u->pfd[j].events;
        }
        if (!keep) {
            pv_event_loop_set_fd(loop, u->reg[i], NULL, NULL, NULL);
            u->reg[i] = u->reg[--u->nreg];
        } else {
            i++;
        }
    }
    for (j = 0; j < u->npfd; j++) {
        const struct pollfd *p = &u->pfd[j];
        if (!p->events) {
            continue;
        }
        if (!reg_has(u, p->fd)) {
            if (u->nreg == u->regcap) {
                unsigned cap = u->regcap ? u->regcap * 2 : 16;
                int *r = realloc(u->reg, cap * sizeof(*r));
                if (!r) {
                    continue;
                }
                u->reg = r;
                u->regcap = cap;
            }
            u->reg[u->nreg++] = p->fd;
        }
        pv_event_loop_set_fd(loop, p->fd, (p->events & (POLLIN | POLLPRI)) ? fd_ready : NULL,
                             (p->events & POLLOUT) ? fd_ready : NULL, u);
    }
}

static void poll_round(UserBackend *u)
{
    uint32_t timeout = UINT32_MAX;
    int r;

    if (atomic_load(&u->closing)) {
        return;
    }
    /* What is ready now, among what slirp wanted last round. */
    u->hide_in = !pv_net_rx_has_room(u->nd);
    u->npfd = 0;
    slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
    r = u->npfd ? poll(u->pfd, u->npfd, 0) : 0;
    slirp_pollfds_poll(u->slirp, r < 0, get_revents, u);
    /* What to wait for next. */
    u->hide_in = !pv_net_rx_has_room(u->nd);
    u->npfd = 0;
    timeout = UINT32_MAX;
    slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
    sync_registrations(u);
    if (timeout != UINT32_MAX) {
        pv_timer_mod(u->poll_timer, pv_clock_ns() + (int64_t)timeout * PV_NS_PER_MS);
    } else {
        pv_timer_cancel(u->poll_timer);
    }
}

static void poll_cb(void *opaque)
{
    poll_round(opaque);
}

static void fd_ready(void *opaque)
{
    poll_round(opaque);
}

static void tx_cb(void *opaque)
{
    UserBackend *u = opaque;
    PvNetPacket *list, *p, *next;
    bool wake;

    if (atomic_load(&u->closing)) {
        return;
    }
    pv_mutex_lock(&u->txlock);
    list = u->tx_head;
    u->tx_head = u->tx_tail = NULL;
    u->tx_count = 0;
    wake = u->tx_wake;
    u->tx_wake = false;
    pv_mutex_unlock(&u->txlock);
    for (p = list; p; p = next) {
        next = p->next;
        slirp_input(u->slirp, p->data, (int)p->len);
        free(p);
    }
    poll_round(u);
    if (wake) {
        pv_net_tx_wake(u->nd);
    }
}

/* ---- backend ops ------------------------------------------------------- */

static int parse_ip(const char *s, struct in_addr *a)
{
    return s && inet_pton(AF_INET, s, a) == 1 ? 0 : -1;
}

/* [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int add_hostfwd(UserBackend *u, const char *spec, struct in_addr dhcp, char *err,
                       size_t errlen)
{
    char buf[128], *p = buf, *dash, *c;
    struct in_addr haddr = { .s_addr = htonl(INADDR_ANY) }, gaddr = dhcp;
    long hport, gport;
    int udp = 0;

    if (strlen(spec) >= sizeof(buf)) {
        goto bad;
    }
    strcpy(buf, spec);
    if (!strncmp(p, "tcp:", 4)) {
        p += 4;
    } else if (!strncmp(p, "udp:", 4)) {
        udp = 1;
        p += 4;
    } else if (*p == ':') {
        p++;
    } else {
        goto bad;
    }
    dash = strchr(p, '-');
    if (!dash) {
        goto bad;
    }
    *dash = '\0';
    c = strchr(p, ':');
    if (!c) {
        goto bad;
    }
    *c = '\0';
    if (*p && parse_ip(p, &haddr)) {
        goto bad;
    }
    hport = strtol(c + 1, &p, 10);
    if (*p || c[1] == '\0' || hport < 0 || hport > 65535) {
        goto bad;
    }
    p = dash + 1;
    c = strchr(p, ':');
    if (!c) {
        goto bad;
    }
    *c = '\0';
    if (*p && parse_ip(p, &gaddr)) {
        goto bad;
    }
    gport = strtol(c + 1, &p, 10);
    if (*p || c[1] == '\0' || gport < 1 || gport > 65535) {
        goto bad;
    }
    if (slirp_add_hostfwd(u->slirp, udp, haddr, (int)hport, gaddr, (int)gport) < 0) {
        snprintf(err, errlen, "-netdev %s: could not set up hostfwd=%s: %s", u->nd->id, spec,
                 strerror(errno));
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "-netdev %s: bad hostfwd=%s (want [tcp|udp]:[HOSTADDR]:HOSTPORT-"
             "[GUESTADDR]:GUESTPORT)", u->nd->id, spec);
    return -1;
}

static void user_free_state(UserBackend *u)
{
    PvNetPacket *p, *next;

    pv_bh_free(u->poll_bh);
    pv_bh_free(u->tx_bh);
    pv_timer_free(u->poll_timer);
    if (u->slirp) {
        slirp_cleanup(u->slirp);    /* frees its timers through cb_timer_free */
    }
    while (u->timers) {
        UserTimer *ut = u->timers;
        u->timers = ut->next;
        pv_timer_free(ut->t);
        free(ut);
    }
    for (p = u->tx_head; p; p = next) {
        next = p->next;
        free(p);
    }
    pv_mutex_destroy(&u->txlock);
    free(u->pfd);
    free(u->reg);
    free(u);
}

static int user_open(PvNetdev *nd, PvNetOpts *o, char *err, size_t errlen)
{
    SlirpConfig cfg = { .version = 4, .in_enabled = true };
    const char *net = pv_net_opt(o, "net"), *v;
    UserBackend *u = calloc(1, sizeof(*u));
    unsigned prefix = 24;

    if (!u) {
        snprintf(err, errlen, "-netdev %s: out of memory", nd->id);
        return -1;
    }
    u->nd = nd;
    pv_mutex_init(&u->txlock, &user_tx_class);
    u->poll_bh = pv_bh_new(nd->loop, poll_cb, u);
    u->tx_bh = pv_bh_new(nd->loop, tx_cb, u);
    u->poll_timer = pv_timer_new(nd->loop, poll_cb, u);
    if (!u->poll_bh || !u->tx_bh || !u->poll_timer) {
        snprintf(err, errlen, "-netdev %s: out of memory", nd->id);
        goto fail;
    }

    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    if (net) {
        char buf[32], *slash;
        if (strlen(net) >= sizeof(buf)) {
            goto bad_net;
        }
        strcpy(buf, net);
        slash = strchr(buf, '/');
        if (slash) {
            char *end;
            *slash = '\0';
            prefix = (unsigned)strtoul(slash + 1, &end, 10);
            if (*end || slash[1] == '\0' || prefix < 8 || prefix > 30) {
                goto bad_net;
            }
        }
        if (parse_ip(buf, &cfg.vnetwork)) {
            goto bad_net;
        }
    }
    cfg.vnetmask.s_addr = htonl(~0u << (32 - prefix));
    cfg.vnetwork.s_addr &= cfg.vnetmask.s_addr;
    /* QEMU's defaults: gateway .2, DNS .3, DHCP from .15. */
    cfg.vhost.s_addr = htonl(ntohl(cfg.vnetwork.s_addr) | 2);
    cfg.vnameserver.s_addr = htonl(ntohl(cfg.vnetwork.s_addr) | 3);
    cfg.vdhcp_start.s_addr = htonl(ntohl(cfg.vnetwork.s_addr) | 15);
    if ((v = pv_net_opt(o, "host")) && parse_ip(v, &cfg.vhost)) {
        snprintf(err, errlen, "-netdev %s: bad host=%s", nd->id, v);
        goto fail;
    }
    if ((v = pv_net_opt(o, "dns")) && parse_ip(v, &cfg.vnameserver)) {
        snprintf(err, errlen, "-netdev %s: bad dns=%s", nd->id, v);
        goto fail;
    }
    if ((v = pv_net_opt(o, "dhcpstart")) && parse_ip(v, &cfg.vdhcp_start)) {
        snprintf(err, errlen, "-netdev %s: bad dhcpstart=%s", nd->id, v);
        goto fail;
    }
    if ((v = pv_net_opt(o, "restrict"))) {
        if (strcmp(v, "on") && strcmp(v, "off") && strcmp(v, "yes") && strcmp(v, "no")) {
            snprintf(err, errlen, "-netdev %s: restrict must be on or off", nd->id);
            goto fail;
        }
        cfg.restricted = !strcmp(v, "on") || !strcmp(v, "yes");
    }
    u->slirp = slirp_new(&cfg, &slirp_cbs, u);
    if (!u->slirp) {
        snprintf(err, errlen, "-netdev %s: libslirp refused the configuration", nd->id);
        goto fail;
    }
    for (unsigned i = 0; i < MAX_HOSTFWD && (v = pv_net_opt(o, "hostfwd")); i++) {
        if (add_hostfwd(u, v, cfg.vdhcp_start, err, errlen)) {
            goto fail;
        }
    }
    nd->be = u;
    pv_bh_schedule(u->poll_bh);     /* start polling the forwarded ports */
    return 0;

bad_net:
    snprintf(err, errlen, "-netdev %s: bad net=%s (want A.B.C.D[/N])", nd->id, net);
fail:
    user_free_state(u);
    return -1;
}

static ssize_t user_send(PvNetdev *nd, const void *buf, size_t len)
{
    UserBackend *u = nd->be;
    PvNetPacket *p;

    pv_mutex_lock(&u->txlock);
    if (u->tx_count >= TX_LIMIT) {
        u->tx_wake = true;
        pv_mutex_unlock(&u->txlock);
        pv_bh_schedule(u->tx_bh);
        return -EAGAIN;
    }
    pv_mutex_unlock(&u->txlock);
    p = malloc(sizeof(*p) + len);
    if (!p) {
        return -ENOMEM;
    }
    memcpy(p->data, buf, len);
    p->len = p->cap = len;
    p->next = NULL;
    pv_mutex_lock(&u->txlock);
    if (u->tx_tail) {
        u->tx_tail->next = p;
    } else {
        u->tx_head = p;
    }
    u->tx_tail = p;
    u->tx_count++;
    pv_mutex_unlock(&u->txlock);
    pv_bh_schedule(u->tx_bh);
    return (ssize_t)len;
}

static void user_rx_resume(PvNetdev *nd)
{
    UserBackend *u = nd->be;
    poll_round(u);
}

/* Teardown, see fd teardown in net.c: callbacks that started before
 * closing was set are waited for; later ones return at once. */
static void user_stop(PvNetdev *nd)
{
    UserBackend *u = nd->be;

    if (!atomic_load(&nd->closing)) {
        return;     /* detach: slirp keeps running, as QEMU's */
    }
    if (atomic_exchange(&u->closing, true)) {
        return;
    }
    pv_event_loop_quiesce(nd->loop);
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < u->nreg; i++) {
            pv_event_loop_set_fd(nd->loop, u->reg[i], NULL, NULL, NULL);
        }
        pv_event_loop_quiesce(nd->loop);
    }
    u->nreg = 0;
}

static void user_cleanup(PvNetdev *nd)
{
    UserBackend *u = nd->be;

    if (u) {
        user_free_state(u);
    }
    nd->be = NULL;
}

const PvNetdevOps pv_net_user_ops = {
    .type = "user",
    .open = user_open,
    .send = user_send,
    .rx_resume = user_rx_resume,
    .stop = user_stop,
    .cleanup = user_cleanup,
};
