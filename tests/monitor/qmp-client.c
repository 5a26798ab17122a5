/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "qmp-client.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void qf_setup(QmpFixture *f)
{
    static atomic_uint seq;
    PvQmpInfo info = { .major = 8, .minor = 2, .micro = 1, .package = "parvm-test" };
    char err[256];

    f->loop = pv_event_loop_new();
    if (!f->loop || pv_event_loop_start(f->loop) != 0) {
        abort();
    }
    f->qmp = pv_qmp_new(f->loop, &info);
    if (!f->qmp) {
        abort();
    }
    snprintf(f->path, sizeof(f->path), "/tmp/parvm-qmp-%d-%u.sock", (int)getpid(),
             atomic_fetch_add(&seq, 1));
    char spec[160];
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", f->path);
    if (pv_qmp_listen(f->qmp, spec, err, sizeof(err)) != 0) {
        printf("# listen: %s\n", err);
        abort();
    }
}

void qf_teardown(QmpFixture *f)
{
    pv_qmp_free(f->qmp);
    pv_event_loop_free(f->loop);
    unlink(f->path);
}

QmpClient *qc_from_fds(int rfd, int wfd)
{
    QmpClient *c = calloc(1, sizeof(*c));

    if (!c) {
        abort();
    }
    c->rfd = rfd;
    c->wfd = wfd;
    return c;
}

QmpClient *qc_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return NULL;
    }
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return NULL;
    }
    return qc_from_fds(fd, fd);
}

void qc_close(QmpClient *c)
{
    if (!c) {
        return;
    }
    close(c->rfd);
    if (c->wfd != c->rfd) {
        close(c->wfd);
    }
    free(c);
}

bool qc_send(QmpClient *c, const char *text)
{
    size_t len = strlen(text), off = 0;

    while (off < len) {
        ssize_t n = send(c->wfd, text + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == ENOTSOCK) {
            n = write(c->wfd, text + off, len - off);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        off += (size_t)n;
    }
    return true;
}

json_t *qc_recv(QmpClient *c, int timeout_ms)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);

        if (nl) {
            size_t line = (size_t)(nl - c->buf);
            json_t *v = json_loadb(c->buf, line, 0, NULL);

            if (!v) {
                printf("# not JSON: %.*s\n", (int)line, c->buf);
            }
            memmove(c->buf, nl + 1, c->len - line - 1);
            c->len -= line + 1;
            return v;
        }
        if (c->len == sizeof(c->buf)) {
            return NULL;
        }
        struct pollfd p = { .fd = c->rfd, .events = POLLIN };
        int r = poll(&p, 1, timeout_ms);
        if (r <= 0) {
            return NULL;
        }
        ssize_t n = read(c->rfd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n <= 0) {
            return NULL;
        }
        c->len += (size_t)n;
    }
}

json_t *qc_reply(QmpClient *c)
{
    for (;;) {
        json_t *v = qc_recv(c, QC_TIMEOUT_MS);

        if (!v || !json_object_get(v, "event")) {
            return v;
        }
        c->events_skipped++;
        json_decref(v);
    }
}

json_t *qc_cmd(QmpClient *c, const char *text)
{
    if (!qc_send(c, text)) {
        return NULL;
    }
    return qc_reply(c);
}

bool qc_quiet(QmpClient *c, int ms)
{
    json_t *v = qc_recv(c, ms);

    if (v) {
        char *s = json_dumps(v, 0);
        printf("# unexpected: %s\n", s);
        free(s);
        json_decref(v);
        return false;
    }
    return true;
}

QmpClient *qc_connect_ready(const char *path)
{
    QmpClient *c = qc_connect(path);
    json_t *v;

    if (!c) {
        return NULL;
    }
    v = qc_recv(c, QC_TIMEOUT_MS);
    if (!v || !json_object_get(v, "QMP")) {
        goto fail;
    }
    json_decref(v);
    v = qc_cmd(c, "{\"execute\": \"qmp_capabilities\"}\n");
    if (!qc_return(v)) {
        goto fail;
    }
    json_decref(v);
    return c;

fail:
    json_decref(v);
    qc_close(c);
    return NULL;
}

bool qc_is_error(json_t *resp, const char *cls, const char *desc)
{
    json_t *err = json_object_get(resp, "error");
    const char *got_cls = json_string_value(json_object_get(err, "class"));
    const char *got_desc = json_string_value(json_object_get(err, "desc"));

    if (!got_cls || !got_desc || json_object_get(resp, "return") ||
        json_object_size(err) != 2) {
        char *s = resp ? json_dumps(resp, 0) : NULL;
        printf("# not an error reply: %s\n", s ? s : "(nothing)");
        free(s);
        return false;
    }
    if (strcmp(got_cls, cls) != 0 || (desc && strcmp(got_desc, desc) != 0)) {
        printf("# error %s: \"%s\", expected %s: \"%s\"\n", got_cls, got_desc, cls,
               desc ? desc : "*");
        return false;
    }
    return true;
}

json_t *qc_return(json_t *resp)
{
    json_t *r = json_object_get(resp, "return");

    if (!r) {
        char *s = resp ? json_dumps(resp, 0) : NULL;
        printf("# not a return: %s\n", s ? s : "(nothing)");
        free(s);
    }
    return r;
}
