/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where sessions come from: QEMU's -qmp specs, listening Unix sockets,
 * outgoing connections, stdio.
 *
 * pv_qmp_listen() runs on the caller's thread (the main thread, while it
 * builds the machine); accepting runs on the I/O thread.  Either way a new
 * session is handed to the I/O thread (qmp_session_attach()), which greets
 * it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-internal.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- accepting ------------------------------------------------------------ */

static void listener_on_accept(void *opaque)
{
    QmpListener *l = opaque;

    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            /* EAGAIN: all taken.  Anything else (EMFILE) is retried on
             * the next wake-up; the client waits in the backlog. */
            return;
        }
        if (qmp_session_attach(l->qmp, fd, fd, true) < 0) {
            close(fd);
        }
    }
}

void qmp_free_listeners(QmpListener *list)
{
    QmpListener *next;

    for (; list; list = next) {
        next = list->next;
        close(list->fd);
        /* QEMU removes its socket file too. */
        unlink(list->path);
        free(list->path);
        free(list);
    }
}

/* ---- unix: ------------------------------------------------------------------ */

static int make_addr(const char *path, struct sockaddr_un *addr, char *err, size_t errlen)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (!*path) {
        return fail(err, errlen, "-qmp: unix: needs a path");
    }
    if (strlen(path) >= sizeof(addr->sun_path)) {
        return fail(err, errlen, "-qmp: UNIX socket path '%s' is too long", path);
    }
    strcpy(addr->sun_path, path);
    return 0;
}

static int unix_connect(PvQmp *qmp, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr;
    int fd, r;

    if (make_addr(path, &addr, err, errlen) < 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(err, errlen, "-qmp: socket: %s", strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        r = errno;
        close(fd);
        return fail(err, errlen, "-qmp: Failed to connect to '%s': %s", path, strerror(r));
    }
    r = qmp_session_attach(qmp, fd, fd, true);
    if (r < 0) {
        close(fd);
        return fail(err, errlen, "-qmp: %s", strerror(-r));
    }
    return 0;
}

static int unix_listen(PvQmp *qmp, const char *path, bool wait, char *err, size_t errlen)
{
    struct sockaddr_un addr;
    struct stat st;
    QmpListener *l;
    int fd, r;

    if (make_addr(path, &addr, err, errlen) < 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(err, errlen, "-qmp: socket: %s", strerror(errno));
    }
    /* A socket left by an earlier run is replaced, as QEMU does; any
     * other file is not ours to delete. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        r = errno;
        close(fd);
        return fail(err, errlen, "-qmp: Failed to bind socket to %s: %s", path, strerror(r));
    }
    if (listen(fd, 16) < 0) {
        r = errno;
        goto fail_bound;
    }
    l = calloc(1, sizeof(*l));
    if (!l || !(l->path = strdup(path))) {
        free(l);
        r = ENOMEM;
        goto fail_bound;
    }
    l->qmp = qmp;
    l->fd = fd;

    if (wait) {
        int cfd;

        fprintf(stderr, "parvm: QMP waiting for connection on: unix:%s,server=on\n", path);
        do {
            cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        } while (cfd < 0 && errno == EINTR);
        if (cfd < 0) {
            r = errno;
            goto fail_listener;
        }
        r = -qmp_session_attach(qmp, cfd, cfd, true);
        if (r) {
            close(cfd);
            goto fail_listener;
        }
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        r = errno;
        goto fail_listener;
    }

    pv_mutex_lock(&qmp->lock);
    if (qmp->closed) {
        r = ESHUTDOWN;
    } else {
        r = -pv_event_loop_set_fd(qmp->loop, fd, listener_on_accept, NULL, l);
    }
    if (r == 0) {
        l->next = qmp->listeners;
        qmp->listeners = l;
    }
    pv_mutex_unlock(&qmp->lock);
    if (r) {
        goto fail_listener;
    }
    return 0;

fail_listener:
    free(l->path);
    free(l);
fail_bound:
    close(fd);
    unlink(path);
    return fail(err, errlen, "-qmp: unix:%s: %s", path, strerror(r));
}

/* ---- the spec ---------------------------------------------------------------- */

static int parse_bool(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
    if (!val || !strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true")) {
        *out = true;    /* a bare "server" is QEMU's old spelling of server=on */
        return 0;
    }
    if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false")) {
        *out = false;
        return 0;
    }
    return fail(err, errlen, "-qmp: Parameter '%s' expects 'on' or 'off'", key);
}

/*
 * Copy the path of "unix:PATH,opts" into @path, turning ",," into ',' as
 * QEMU's option parser does; returns where the options start ("" if none).
 */
static const char *take_path(const char *p, char *path)
{
    size_t n = 0;

    for (; *p; p++) {
        if (*p == ',') {
            if (p[1] != ',') {
                path[n] = '\0';
                return p + 1;
            }
            p++;
        }
        path[n++] = *p;
    }
    path[n] = '\0';
    return p;
}

static int listen_unix(PvQmp *qmp, const char *rest, char *err, size_t errlen)
{
    char *path = malloc(strlen(rest) + 1);
    char *opts = NULL, *tok, *save = NULL;
    bool server = false, wait = true;
    int r = -1;

    if (!path) {
        return fail(err, errlen, "-qmp: out of memory");
    }
    opts = strdup(take_path(rest, path));
    if (!opts) {
        fail(err, errlen, "-qmp: out of memory");
        goto out;
    }
    for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *val = strchr(tok, '=');

        if (val) {
            *val++ = '\0';
        }
        if (!strcmp(tok, "server")) {
            if (parse_bool(tok, val, &server, err, errlen) < 0) {
                goto out;
            }
        } else if (!strcmp(tok, "wait")) {
            if (parse_bool(tok, val, &wait, err, errlen) < 0) {
                goto out;
            }
        } else if (!strcmp(tok, "nowait") && !val) {
            wait = false;
        } else {
            fail(err, errlen, "-qmp: Invalid parameter '%s'", tok);
            goto out;
        }
    }
    r = server ? unix_listen(qmp, path, wait, err, errlen)
               : unix_connect(qmp, path, err, errlen);
out:
    free(opts);
    free(path);
    return r;
}

static int listen_stdio(PvQmp *qmp, char *err, size_t errlen)
{
    bool taken;
    int r;

    pv_mutex_lock(&qmp->lock);
    taken = qmp->stdio_taken;
    qmp->stdio_taken = true;
    pv_mutex_unlock(&qmp->lock);
    if (taken) {
        return fail(err, errlen, "-qmp stdio: stdio is already in use");
    }
    r = qmp_session_attach(qmp, STDIN_FILENO, STDOUT_FILENO, false);
    if (r < 0) {
        return fail(err, errlen, "-qmp stdio: %s", strerror(-r));
    }
    return 0;
}

int pv_qmp_listen(PvQmp *qmp, const char *spec, char *err, size_t errlen)
{
    if (!spec) {
        return fail(err, errlen, "-qmp: missing argument");
    }
    if (!strcmp(spec, "stdio")) {
        return listen_stdio(qmp, err, errlen);
    }
    if (!strncmp(spec, "unix:", 5)) {
        return listen_unix(qmp, spec + 5, err, errlen);
    }
    return fail(err, errlen,
                "-qmp '%s': parvm supports unix:PATH[,server=on|off][,wait=on|off] and stdio",
                spec);
}

int pv_qmp_add_client(PvQmp *qmp, int in_fd, int out_fd)
{
    if (in_fd < 0 || out_fd < 0) {
        return -EBADF;
    }
    return qmp_session_attach(qmp, in_fd, out_fd, true);
}
