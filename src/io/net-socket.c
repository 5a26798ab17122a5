/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Datagram socket backends, one frame per datagram, as QEMU's:
 *   socket,udp=HOST:PORT,localaddr=HOST:PORT     (QEMU's -netdev socket udp)
 *   dgram,local.type=inet|unix,...,remote.type=inet|unix,...  (QEMU 7.2)
 *
 * UDP has no flow control: a receiver that stops reading loses what the
 * kernel cannot buffer.  AF_UNIX datagram sockets do: a full receiver
 * blocks (or, non-blocking, refuses with EAGAIN) the sender, so the
 * lossless tests use them.  A unix socket is connect()ed to its remote at
 * open when the remote exists, because only a connected unix datagram
 * socket polls writable according to the receiver's room (otherwise
 * POLLOUT fires at once after EAGAIN, and the retries spin until the
 * receiver reads).  A connected unix socket takes datagrams only from its
 * remote, which is what a point-to-point "remote" means anyway.  If the
 * remote goes away the kernel dissolves the association on the first
 * failed send (ECONNREFUSED) and we address the path explicitly from then
 * on, so a restarted peer is reached again.  connect() happens only at
 * open, before the fd is shared: connecting later, on a sending thread,
 * would race (in ThreadSanitizer's model of fds, not in the kernel) with
 * the I/O thread's epoll_ctl on the same fd.
 */
#include "net-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct SockBackend {
    struct sockaddr_storage dst;
    socklen_t dst_len;
    bool is_unix;
    bool connected;             /* unix: connect()ed to dst; written at
                                   open and by the (serialized) sender */
    char local_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} SockBackend;

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static int make_socket(int family)
{
    return socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int parse_unix(const char *path, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)ss;

    if (!path || !*path || strlen(path) >= sizeof(sun->sun_path)) {
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
    *len = (socklen_t)sizeof(*sun);
    return 0;
}

/* Bind @fd to @local; on error fill @err and return -1. */
static int bind_local(PvNetdev *nd, int fd, const struct sockaddr_storage *local, socklen_t len,
                      const char *what, char *err, size_t errlen)
{
    int one = 1;

    if (local->ss_family == AF_INET) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (bind(fd, (const struct sockaddr *)local, len) < 0) {
        snprintf(err, errlen, "-netdev %s: cannot bind %s: %s", nd->id, what, strerror(errno));
        return -1;
    }
    return 0;
}

static void try_connect(SockBackend *s, int fd)
{
    if (s->is_unix && !s->connected &&
        connect(fd, (struct sockaddr *)&s->dst, s->dst_len) == 0) {
        s->connected = true;
    }
}

static int finish_open(PvNetdev *nd, SockBackend *s, int fd)
{
    nd->fd = fd;
    nd->be = s;
    try_connect(s, fd);
    return 0;
}

/* socket,udp=HOST:PORT,localaddr=HOST:PORT */
static int socket_open(PvNetdev *nd, PvNetOpts *o, char *err, size_t errlen)
{
    const char *udp = pv_net_opt(o, "udp"), *localaddr = pv_net_opt(o, "localaddr");
    struct sockaddr_storage local;
    unsigned ll, dl;
    SockBackend *s;
    int fd;

    if (pv_net_opt(o, "listen") || pv_net_opt(o, "connect") || pv_net_opt(o, "mcast") ||
        pv_net_opt(o, "fd")) {
        return fail(err, errlen, "-netdev %s: socket supports only udp=,localaddr= in parvm",
                    nd->id);
    }
    if (!udp || !localaddr) {
        return fail(err, errlen, "-netdev %s: socket needs udp=HOST:PORT and localaddr=HOST:PORT",
                    nd->id);
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        return fail(err, errlen, "-netdev %s: out of memory", nd->id);
    }
    if (pv_net_parse_inet(udp, false, &s->dst, &dl)) {
        free(s);
        return fail(err, errlen, "-netdev %s: bad udp=%s", nd->id, udp);
    }
    s->dst_len = dl;
    if (pv_net_parse_inet(localaddr, true, &local, &ll)) {
        free(s);
        return fail(err, errlen, "-netdev %s: bad localaddr=%s", nd->id, localaddr);
    }
    fd = make_socket(AF_INET);
    if (fd < 0 || bind_local(nd, fd, &local, ll, localaddr, err, errlen)) {
        if (fd < 0) {
            snprintf(err, errlen, "-netdev %s: socket: %s", nd->id, strerror(errno));
        } else {
            close(fd);
        }
        free(s);
        return -1;
    }
    return finish_open(nd, s, fd);
}

/* One side (local. or remote.) of a dgram netdev. */
static int dgram_addr(PvNetdev *nd, PvNetOpts *o, const char *side, struct sockaddr_storage *ss,
                      socklen_t *len, bool *is_unix, char *err, size_t errlen)
{
    char key[32];
    const char *type, *host, *port, *path;

    snprintf(key, sizeof(key), "%s.type", side);
    type = pv_net_opt(o, key);
    if (!type) {
        return fail(err, errlen, "-netdev %s: dgram needs %s.type=inet|unix", nd->id, side);
    }
    if (!strcmp(type, "inet")) {
        char hp[300];
        unsigned l;

        snprintf(key, sizeof(key), "%s.host", side);
        host = pv_net_opt(o, key);
        snprintf(key, sizeof(key), "%s.port", side);
        port = pv_net_opt(o, key);
        if (!host || !port) {
            return fail(err, errlen, "-netdev %s: dgram %s.type=inet needs .host and .port",
                        nd->id, side);
        }
        snprintf(hp, sizeof(hp), "%s:%s", host, port);
        if (pv_net_parse_inet(hp, true, ss, &l)) {
            return fail(err, errlen, "-netdev %s: bad address %s", nd->id, hp);
        }
        *len = l;
        *is_unix = false;
    } else if (!strcmp(type, "unix")) {
        snprintf(key, sizeof(key), "%s.path", side);
        path = pv_net_opt(o, key);
        if (parse_unix(path, ss, len)) {
            return fail(err, errlen, "-netdev %s: dgram %s.type=unix needs a valid .path",
                        nd->id, side);
        }
        *is_unix = true;
    } else {
        return fail(err, errlen, "-netdev %s: dgram address type '%s' is not supported "
                    "(inet, unix)", nd->id, type);
    }
    return 0;
}

static int dgram_open(PvNetdev *nd, PvNetOpts *o, char *err, size_t errlen)
{
    struct sockaddr_storage local;
    socklen_t ll;
    bool lu, ru;
    SockBackend *s = calloc(1, sizeof(*s));
    int fd = -1;

    if (!s) {
        return fail(err, errlen, "-netdev %s: out of memory", nd->id);
    }
    if (dgram_addr(nd, o, "local", &local, &ll, &lu, err, errlen) ||
        dgram_addr(nd, o, "remote", &s->dst, &s->dst_len, &ru, err, errlen)) {
        goto fail;
    }
    if (lu != ru) {
        fail(err, errlen, "-netdev %s: dgram local and remote must be of one type", nd->id);
        goto fail;
    }
    s->is_unix = lu;
    fd = make_socket(lu ? AF_UNIX : AF_INET);
    if (fd < 0) {
        snprintf(err, errlen, "-netdev %s: socket: %s", nd->id, strerror(errno));
        goto fail;
    }
    if (bind_local(nd, fd, &local, ll, lu ? ((struct sockaddr_un *)&local)->sun_path : "local",
                   err, errlen)) {
        goto fail;
    }
    if (lu) {
        strcpy(s->local_path, ((struct sockaddr_un *)&local)->sun_path);
    }
    return finish_open(nd, s, fd);

fail:
    if (fd >= 0) {
        close(fd);
    }
    free(s);
    return -1;
}

static ssize_t sock_recv(PvNetdev *nd, void *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(nd->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);

        if (n > 0) {
            if ((size_t)n > cap) {
                continue;   /* bigger than any frame: not ours to deliver */
            }
            return n;
        }
        if (n == 0) {
            continue;       /* an empty datagram carries no frame */
        }
        if (errno == EINTR || errno == ECONNREFUSED) {
            continue;       /* ICMP for an earlier send: not a receive error */
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        return -errno;
    }
}

static ssize_t sock_send(PvNetdev *nd, const void *buf, size_t len)
{
    SockBackend *s = nd->be;
    ssize_t n;

    do {
        if (s->connected) {
            n = send(nd->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            n = sendto(nd->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&s->dst,
                       s->dst_len);
        }
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        return n;
    }
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) {
        return -EAGAIN;
    }
    int e = errno;
    if (s->connected && (e == ECONNREFUSED || e == ENOTCONN)) {
        /* The remote went away; the kernel has disconnected us: name the
         * path from now on, so that a new peer there is reached. */
        s->connected = false;
    }
    return -e;
}

static void sock_cleanup(PvNetdev *nd)
{
    SockBackend *s = nd->be;

    if (nd->fd >= 0) {
        close(nd->fd);
        nd->fd = -1;
    }
    if (s && s->local_path[0]) {
        unlink(s->local_path);
    }
    free(s);
    nd->be = NULL;
}

const PvNetdevOps pv_net_socket_ops = {
    .type = "socket",
    .open = socket_open,
    .recv = sock_recv,
    .send = sock_send,
    .cleanup = sock_cleanup,
};

const PvNetdevOps pv_net_dgram_ops = {
    .type = "dgram",
    .open = dgram_open,
    .recv = sock_recv,
    .send = sock_send,
    .cleanup = sock_cleanup,
};
