/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap backend: -netdev tap,id=ID,ifname=NAME,script=no,downscript=no
 * [,vnet_hdr=on|off], through /dev/net/tun (IFF_TAP | IFF_NO_PI).  The
 * interface is created if it does not exist (needs CAP_NET_ADMIN) or
 * attached to if it is a persistent tap the caller may use.  parvm runs no
 * scripts: configure the host side yourself (ip link set NAME up, ...).
 *
 * With vnet_hdr=on the kernel prefixes every frame with a 12-byte
 * virtio_net_hdr_v1 (TUNSETVNETHDRSZ); parvm offers the guest no offloads,
 * so it strips it on receive and sends a zeroed one.
 */
#include "net-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define VNET_HDR_LEN 12

typedef struct TapBackend {
    bool vnet_hdr;
    char ifname[IFNAMSIZ];
} TapBackend;

static int script_ok(const char *v)
{
    return !v || !strcmp(v, "no") || !strcmp(v, "");
}

static int tap_open(PvNetdev *nd, PvNetOpts *o, char *err, size_t errlen)
{
    const char *ifname = pv_net_opt(o, "ifname"), *vh = pv_net_opt(o, "vnet_hdr");
    const char *script = pv_net_opt(o, "script"), *downscript = pv_net_opt(o, "downscript");
    struct ifreq ifr;
    TapBackend *t;
    int fd;

    if (!script_ok(script) || !script_ok(downscript)) {
        snprintf(err, errlen, "-netdev %s: tap scripts are not supported: use script=no,"
                 "downscript=no and configure the interface yourself", nd->id);
        return -1;
    }
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "-netdev %s: ifname '%s' is too long", nd->id, ifname);
        return -1;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "-netdev %s: out of memory", nd->id);
        return -1;
    }
    if (vh && strcmp(vh, "on") && strcmp(vh, "off")) {
        snprintf(err, errlen, "-netdev %s: vnet_hdr must be on or off", nd->id);
        free(t);
        return -1;
    }
    t->vnet_hdr = vh && !strcmp(vh, "on");
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "-netdev %s: cannot open /dev/net/tun: %s", nd->id,
                 strerror(errno));
        free(t);
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (t->vnet_hdr ? IFF_VNET_HDR : 0);
    if (ifname) {
        strcpy(ifr.ifr_name, ifname);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "-netdev %s: cannot set up tap '%s': %s", nd->id,
                 ifname ? ifname : "", strerror(errno));
        goto fail;
    }
    if (t->vnet_hdr) {
        int sz = VNET_HDR_LEN;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
            snprintf(err, errlen, "-netdev %s: TUNSETVNETHDRSZ: %s", nd->id, strerror(errno));
            goto fail;
        }
    }
    memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    t->ifname[IFNAMSIZ - 1] = '\0';
    nd->fd = fd;
    nd->be = t;
    return 0;

fail:
    close(fd);
    free(t);
    return -1;
}

static ssize_t tap_recv(PvNetdev *nd, void *buf, size_t cap)
{
    TapBackend *t = nd->be;

    for (;;) {
        ssize_t n = read(nd->fd, buf, cap);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        }
        if (!t->vnet_hdr) {
            if (n == 0) {
                return 0;
            }
            return n;
        }
        if (n <= VNET_HDR_LEN) {
            continue;   /* a header without a frame */
        }
        memmove(buf, (uint8_t *)buf + VNET_HDR_LEN, (size_t)n - VNET_HDR_LEN);
        return n - VNET_HDR_LEN;
    }
}

static ssize_t tap_send(PvNetdev *nd, const void *buf, size_t len)
{
    TapBackend *t = nd->be;
    static const uint8_t zero_hdr[VNET_HDR_LEN];
    struct iovec iov[2] = {
        { .iov_base = (void *)zero_hdr, .iov_len = VNET_HDR_LEN },
        { .iov_base = (void *)buf, .iov_len = len },
    };
    ssize_t n;

    do {
        n = t->vnet_hdr ? writev(nd->fd, iov, 2) : write(nd->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    return (ssize_t)len;
}

static void tap_cleanup(PvNetdev *nd)
{
    if (nd->fd >= 0) {
        close(nd->fd);
        nd->fd = -1;
    }
    free(nd->be);
    nd->be = NULL;
}

const PvNetdevOps pv_net_tap_ops = {
    .type = "tap",
    .open = tap_open,
    .recv = tap_recv,
    .send = tap_send,
    .cleanup = tap_cleanup,
};
