/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One QMP client: its bytes in, its bytes out, and its end.
 *
 * Everything here runs on the I/O thread (or in pv_qmp_free() once the
 * I/O thread is done with the monitor), except qmp_session_attach(),
 * qmp_session_ref()/unref() and qmp_session_free() of a dead session.
 *
 * Flow control, as in QEMU without out-of-band commands: while a command
 * runs the session reads nothing more, so replies come back in request
 * order and a client cannot queue unbounded work.  Input is read a chunk
 * at a time and only once the previous chunk is framed and run; output is
 * buffered, written as the socket takes it, and capped (a client that
 * stops reading is dropped rather than allowed to grow the buffer).
 *
 * The end: a read error or a write error closes the session at once.  End
 * of input (the client closed or half-closed) lets the command that runs
 * finish and the output drain first, so `echo '...' | socat - UNIX:...`
 * gets its answers.  A command still running on another thread holds a
 * reference: its reply is then dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmp-internal.h"

static void session_update_fd(QmpSession *sess);
static void session_flush(QmpSession *sess);

/* ---- creation and references ------------------------------------------- */

static bool fd_is_socket(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool fd_is_pollable(int fd)
{
    struct stat st;

    /* epoll refuses regular files and directories (EPERM). */
    return fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
}

static int set_nonblocking(int fd, int *saved)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0) {
        return -errno;
    }
    if (saved) {
        *saved = flags;
    }
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        return -errno;
    }
    return 0;
}

QmpSession *qmp_session_new(PvQmp *qmp, int in_fd, int out_fd, bool owns_fds)
{
    QmpSession *sess = calloc(1, sizeof(*sess));

    if (!sess) {
        return NULL;
    }
    sess->qmp = qmp;
    sess->in_fd = in_fd;
    sess->out_fd = out_fd;
    sess->owns_fds = owns_fds;
    sess->saved_in_flags = sess->saved_out_flags = -1;
    sess->out_is_socket = fd_is_socket(out_fd);
    sess->in_pollable = fd_is_pollable(in_fd);
    sess->refs = 1;     /* the session list's */
    qmp_stream_init(&sess->stream, QMP_MAX_MESSAGE);
    return sess;
}

void qmp_session_free(QmpSession *sess)
{
    /* Its fds were closed by qmp_session_close(), or are the caller's. */
    qmp_stream_destroy(&sess->stream);
    free(sess->out);
    free(sess);
}

void qmp_session_ref(QmpSession *sess)
{
    pv_mutex_lock(&sess->qmp->lock);
    sess->refs++;
    pv_mutex_unlock(&sess->qmp->lock);
}

void qmp_session_unref(QmpSession *sess)
{
    bool last;

    pv_mutex_lock(&sess->qmp->lock);
    last = --sess->refs == 0;
    pv_mutex_unlock(&sess->qmp->lock);
    if (last) {
        qmp_session_free(sess);
    }
}

int qmp_session_attach(PvQmp *qmp, int in_fd, int out_fd, bool owns_fds)
{
    QmpSession *sess;
    int r;

    sess = qmp_session_new(qmp, in_fd, out_fd, owns_fds);
    if (!sess) {
        return -ENOMEM;
    }
    /* stdio belongs to the process: its flags are put back at the end. */
    r = set_nonblocking(in_fd, owns_fds ? NULL : &sess->saved_in_flags);
    if (r == 0 && out_fd != in_fd) {
        r = set_nonblocking(out_fd, owns_fds ? NULL : &sess->saved_out_flags);
    }
    if (r < 0) {
        sess->owns_fds = false;     /* the caller still has them */
        goto fail;
    }
    /* The I/O thread greets it and starts watching (qmp.c's bottom half),
     * so that only the I/O thread ever touches a live session. */
    pv_mutex_lock(&qmp->lock);
    if (qmp->closed) {
        pv_mutex_unlock(&qmp->lock);
        r = -ESHUTDOWN;
        goto fail;
    }
    sess->next = qmp->new_sessions;
    qmp->new_sessions = sess;
    qmp_kick_locked(qmp);
    pv_mutex_unlock(&qmp->lock);
    return 0;

fail:
    if (sess->saved_in_flags >= 0) {
        fcntl(in_fd, F_SETFL, sess->saved_in_flags);
    }
    if (sess->saved_out_flags >= 0) {
        fcntl(out_fd, F_SETFL, sess->saved_out_flags);
    }
    sess->owns_fds = false;
    qmp_session_free(sess);
    return r;
}

/* ---- watching ----------------------------------------------------------- */

static void session_on_read(void *opaque)
{
    QmpSession *sess = opaque;

    qmp_session_ref(sess);
    qmp_session_read(sess);
    qmp_session_unref(sess);
}

static void session_on_write(void *opaque)
{
    QmpSession *sess = opaque;

    qmp_session_ref(sess);
    session_flush(sess);
    qmp_session_unref(sess);
}

/*
 * Watch for input only when the last chunk is used up and no command
 * runs; for output only while some is pending.  Under the monitor's lock,
 * so that pv_qmp_free() can stop every registration at once.
 */
static void session_update_fd(QmpSession *sess)
{
    PvQmp *qmp = sess->qmp;
    bool want_read = !sess->closed && !sess->eof && !sess->busy &&
                     sess->in_pos == sess->in_len;
    bool want_write = !sess->closed && sess->out_pos < sess->out_len;
    bool poll_read = want_read && sess->in_pollable;

    if (poll_read == sess->reg_read && want_write == sess->reg_write &&
        !(want_read && !sess->in_pollable)) {
        return;
    }
    pv_mutex_lock(&qmp->lock);
    if (qmp->closed) {
        goto out;
    }
    if (sess->in_fd == sess->out_fd) {
        pv_event_loop_set_fd(qmp->loop, sess->in_fd,
                             poll_read ? session_on_read : NULL,
                             want_write ? session_on_write : NULL, sess);
    } else {
        if (poll_read != sess->reg_read) {
            pv_event_loop_set_fd(qmp->loop, sess->in_fd,
                                 poll_read ? session_on_read : NULL, NULL, sess);
        }
        if (want_write != sess->reg_write) {
            /* A regular file never blocks a write, so never gets here. */
            pv_event_loop_set_fd(qmp->loop, sess->out_fd, NULL,
                                 want_write ? session_on_write : NULL, sess);
        }
    }
    sess->reg_read = poll_read;
    sess->reg_write = want_write;
    if (want_read && !sess->in_pollable) {
        qmp_kick_locked(qmp);   /* the bottom half reads it */
    }
out:
    pv_mutex_unlock(&qmp->lock);
}

void qmp_session_start(QmpSession *sess)
{
    json_t *greeting = qmp_greeting(sess->qmp);

    sess->started = true;
    if (greeting) {
        qmp_session_send(sess, greeting);
        json_decref(greeting);
    } else {
        qmp_session_close(sess);
        return;
    }
    session_update_fd(sess);
}

/* ---- the end ----------------------------------------------------------- */

void qmp_session_close(QmpSession *sess)
{
    PvQmp *qmp = sess->qmp;
    QmpSession **pp;
    bool listed = false;

    if (sess->closed) {
        return;
    }
    sess->closed = true;
    sess->busy = false;
    pv_mutex_lock(&qmp->lock);
    if (!qmp->closed) {
        if (sess->reg_read || sess->reg_write) {
            pv_event_loop_set_fd(qmp->loop, sess->in_fd, NULL, NULL, NULL);
        }
        if (sess->out_fd != sess->in_fd && sess->reg_write) {
            pv_event_loop_set_fd(qmp->loop, sess->out_fd, NULL, NULL, NULL);
        }
    }
    sess->reg_read = sess->reg_write = false;
    for (pp = &qmp->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == sess) {
            *pp = sess->next;
            listed = true;
            break;
        }
    }
    pv_mutex_unlock(&qmp->lock);

    if (sess->owns_fds) {
        close(sess->in_fd);
        if (sess->out_fd != sess->in_fd) {
            close(sess->out_fd);
        }
    } else {
        if (sess->saved_in_flags >= 0) {
            fcntl(sess->in_fd, F_SETFL, sess->saved_in_flags);
        }
        if (sess->saved_out_flags >= 0) {
            fcntl(sess->out_fd, F_SETFL, sess->saved_out_flags);
        }
    }
    sess->in_fd = sess->out_fd = -1;
    qmp_stream_reset(&sess->stream);
    sess->in_pos = sess->in_len = 0;
    sess->out_pos = sess->out_len = 0;
    if (listed) {
        qmp_session_unref(sess);    /* the list's reference */
    }
}

/* After end of input: close once nothing is left to do. */
static void session_maybe_finish(QmpSession *sess)
{
    if (sess->eof && !sess->closed && !sess->busy &&
        sess->in_pos == sess->in_len && sess->out_pos == sess->out_len) {
        qmp_session_close(sess);
    }
}

/* ---- output ------------------------------------------------------------ */

static void session_flush(QmpSession *sess)
{
    while (!sess->closed && sess->out_pos < sess->out_len) {
        const char *p = sess->out + sess->out_pos;
        size_t left = sess->out_len - sess->out_pos;
        ssize_t n;

        n = sess->out_is_socket ? send(sess->out_fd, p, left, MSG_NOSIGNAL)
                                : write(sess->out_fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            qmp_session_close(sess);    /* EPIPE, ECONNRESET, ... */
            return;
        }
        sess->out_pos += (size_t)n;
    }
    if (sess->out_pos == sess->out_len) {
        sess->out_pos = sess->out_len = 0;
        if (sess->out_cap > 64 * 1024) {
            /* Give back what a burst of events made it grow to. */
            free(sess->out);
            sess->out = NULL;
            sess->out_cap = 0;
        }
    }
    session_maybe_finish(sess);
    session_update_fd(sess);
}

void qmp_session_flush_final(QmpSession *sess)
{
    /* Non-blocking: a client that does not read loses the rest. */
    session_flush(sess);
}

void qmp_session_send_text(QmpSession *sess, const char *text, size_t len)
{
    size_t need;

    if (sess->closed) {
        return;
    }
    if (sess->out_pos > 0 && sess->out_len + len > sess->out_cap) {
        memmove(sess->out, sess->out + sess->out_pos, sess->out_len - sess->out_pos);
        sess->out_len -= sess->out_pos;
        sess->out_pos = 0;
    }
    need = sess->out_len + len;
    if (need > QMP_MAX_OUTPUT) {
        fprintf(stderr, "parvm: qmp: dropping a client that does not read its output\n");
        qmp_session_close(sess);
        return;
    }
    if (need > sess->out_cap) {
        size_t cap = sess->out_cap ? sess->out_cap : 1024;
        char *out;

        while (cap < need) {
            cap *= 2;
        }
        out = realloc(sess->out, cap);
        if (!out) {
            qmp_session_close(sess);
            return;
        }
        sess->out = out;
        sess->out_cap = cap;
    }
    memcpy(sess->out + sess->out_len, text, len);
    sess->out_len += len;
    session_flush(sess);
}

void qmp_session_send(QmpSession *sess, json_t *msg)
{
    /* QEMU's layout: one line, ", " and ": " separators. */
    char *text = json_dumps(msg, JSON_ENCODE_ANY);
    size_t len;

    if (!text) {
        return;
    }
    len = strlen(text);
    text[len] = '\n';   /* replaces the NUL; the length is known */
    qmp_session_send_text(sess, text, len + 1);
    free(text);
}

/* ---- input ------------------------------------------------------------- */

static void session_send_error(QmpSession *sess, const char *desc)
{
    json_t *resp = qmp_error_response(PV_QMP_ERROR_GENERIC, desc);

    if (resp) {
        qmp_session_send(sess, resp);
        json_decref(resp);
    }
}

void qmp_session_pump(QmpSession *sess)
{
    while (!sess->closed && !sess->busy && sess->in_pos < sess->in_len) {
        size_t used = 0;
        QmpStreamResult r;

        r = qmp_stream_feed(&sess->stream, sess->inbuf + sess->in_pos,
                            sess->in_len - sess->in_pos, &used);
        sess->in_pos += used;
        if (r == QMP_STREAM_MESSAGE) {
            size_t len;
            const char *text = qmp_stream_message(&sess->stream, &len);

            qmp_dispatch(sess, text, len);
        } else if (r == QMP_STREAM_ERROR) {
            session_send_error(sess, qmp_stream_error(&sess->stream));
        }
    }
    if (sess->in_pos == sess->in_len) {
        sess->in_pos = sess->in_len = 0;
    }
    session_maybe_finish(sess);
    if (!sess->closed) {
        session_update_fd(sess);
    }
}

void qmp_session_read(QmpSession *sess)
{
    ssize_t n;

    /* Spurious calls happen (a handler fetched before we stopped watching). */
    if (sess->closed || sess->busy || sess->eof || sess->in_pos < sess->in_len) {
        return;
    }
    n = read(sess->in_fd, sess->inbuf, sizeof(sess->inbuf));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        qmp_session_close(sess);
        return;
    }
    if (n == 0) {
        /* A message cut off by the end is simply forgotten. */
        sess->eof = true;
        qmp_stream_reset(&sess->stream);
    }
    sess->in_pos = 0;
    sess->in_len = (size_t)n;
    qmp_session_pump(sess);
}
