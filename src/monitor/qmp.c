/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor object: creation, teardown, reference counts, and the
 * bottom half through which every other thread hands work to the I/O
 * thread (completed replies, events, new sessions).
 *
 * Why a reference count on the monitor: a reply token may be completed by
 * a vCPU thread after pv_qmp_free() (a "stop" that completes once the
 * harts park, racing with shutdown).  Each outstanding token keeps the
 * monitor's lock alive so that its completion can see `closed` and drop
 * the reply instead of touching freed memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp-internal.h"

/* A leaf: see qmp-internal.h. */
static PvLockClass qmp_lock_class = PV_LOCK_CLASS_INIT("qmp", PV_LOCK_KIND_CORE);

static void qmp_bh(void *opaque);

/* ---- references -------------------------------------------------------- */

void qmp_ref_locked(PvQmp *qmp)
{
    qmp->refs++;
}

void qmp_unref(PvQmp *qmp)
{
    bool last;

    pv_mutex_lock(&qmp->lock);
    last = --qmp->refs == 0;
    pv_mutex_unlock(&qmp->lock);
    if (last) {
        /* Only after pv_qmp_free() dropped the owner's reference. */
        pv_mutex_destroy(&qmp->lock);
        free(qmp->package);
        free(qmp);
    }
}

/* ---- the output queue ---------------------------------------------------- */

void qmp_kick_locked(PvQmp *qmp)
{
    if (!qmp->closed) {
        /* Takes the event loop's leaf lock: the one nesting under ours. */
        pv_bh_schedule(qmp->bh);
    }
}

void qmp_item_free(PvQmpReply *item)
{
    PvQmp *qmp = item->qmp;

    json_decref(item->msg);
    json_decref(item->id);
    if (item->sess) {
        qmp_session_unref(item->sess);
    }
    free(item);
    if (qmp) {
        qmp_unref(qmp);     /* last: the session's unref needed the lock */
    }
}

void qmp_enqueue(PvQmp *qmp, PvQmpReply *item)
{
    pv_mutex_lock(&qmp->lock);
    if (qmp->closed) {
        pv_mutex_unlock(&qmp->lock);
        qmp_item_free(item);
        return;
    }
    if (!item->sess) {
        if (qmp->queued_events >= QMP_MAX_QUEUED_EVENTS) {
            bool first = qmp->dropped_events++ == 0;

            pv_mutex_unlock(&qmp->lock);
            if (first) {
                fprintf(stderr, "parvm: qmp: the I/O thread is behind; dropping events\n");
            }
            qmp_item_free(item);
            return;
        }
        qmp->queued_events++;
    }
    item->next = NULL;
    *qmp->queue_tail = item;
    qmp->queue_tail = &item->next;
    qmp_kick_locked(qmp);
    pv_mutex_unlock(&qmp->lock);
}

QmpSession **qmp_sessions_snapshot(PvQmp *qmp, size_t *n)
{
    QmpSession **snap = NULL;
    size_t count = 0, i = 0;

    pv_mutex_lock(&qmp->lock);
    for (QmpSession *s = qmp->sessions; s; s = s->next) {
        count++;
    }
    if (count) {
        snap = malloc(count * sizeof(*snap));
    }
    if (snap) {
        for (QmpSession *s = qmp->sessions; s; s = s->next) {
            s->refs++;
            snap[i++] = s;
        }
    }
    pv_mutex_unlock(&qmp->lock);
    *n = i;
    return snap;
}

void qmp_sessions_release(QmpSession **snap, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        qmp_session_unref(snap[i]);
    }
    free(snap);
}

void qmp_drain(PvQmp *qmp)
{
    PvQmpReply *list, *item, *next;
    QmpSession **snap = NULL;
    size_t n = 0;

    pv_mutex_lock(&qmp->lock);
    list = qmp->queue;
    qmp->queue = NULL;
    qmp->queue_tail = &qmp->queue;
    qmp->queued_events = 0;
    pv_mutex_unlock(&qmp->lock);
    if (!list) {
        return;
    }

    /*
     * Writing can close a session (the peer went away), so hold a
     * reference on each while events go out.
     */
    snap = qmp_sessions_snapshot(qmp, &n);
    for (item = list; item; item = next) {
        next = item->next;
        if (!item->sess) {
            qmp_broadcast(snap, n, item->msg);
        } else if (!item->sess->closed) {
            qmp_session_send(item->sess, item->msg);
            /* Its next command is read by the pump (the bottom half, or
             * the loop in qmp_session_pump() that dispatched it). */
            item->sess->busy = false;
        }
        qmp_item_free(item);
    }
    qmp_sessions_release(snap, n);
}

/* ---- the bottom half ----------------------------------------------------- */

/* Move sessions queued by other threads into the list; start them. */
static void start_new_sessions(PvQmp *qmp)
{
    QmpSession *news, *s, *next;

    pv_mutex_lock(&qmp->lock);
    news = qmp->new_sessions;
    qmp->new_sessions = NULL;
    for (s = news; s; s = next) {
        next = s->next;
        s->next = qmp->sessions;
        qmp->sessions = s;
    }
    pv_mutex_unlock(&qmp->lock);
}

static void qmp_bh(void *opaque)
{
    PvQmp *qmp = opaque;
    QmpSession **snap;
    size_t n;

    start_new_sessions(qmp);
    qmp_drain(qmp);

    /*
     * Every session: greet the new ones, read regular-file input (epoll
     * cannot watch it), and go on with input a finished command held up.
     */
    snap = qmp_sessions_snapshot(qmp, &n);
    for (size_t i = 0; i < n; i++) {
        QmpSession *s = snap[i];

        if (!s->started) {
            qmp_session_start(s);
        }
        if (!s->in_pollable && !s->closed && !s->busy && !s->eof &&
            s->in_pos == s->in_len) {
            qmp_session_read(s);
        } else {
            qmp_session_pump(s);
        }
    }
    qmp_sessions_release(snap, n);
}

/* ---- lifetime ------------------------------------------------------------ */

PvQmp *pv_qmp_new(PvEventLoop *loop, const PvQmpInfo *info)
{
    PvQmp *qmp = calloc(1, sizeof(*qmp));

    if (!qmp) {
        return NULL;
    }
    qmp->loop = loop;
    qmp->major = info ? info->major : 0;
    qmp->minor = info ? info->minor : 0;
    qmp->micro = info ? info->micro : 0;
    qmp->package = strdup(info && info->package ? info->package : "");
    if (!qmp->package) {
        goto fail_free;
    }
    qmp->bh = pv_bh_new(loop, qmp_bh, qmp);
    if (!qmp->bh) {
        goto fail_package;
    }
    pv_mutex_init(&qmp->lock, &qmp_lock_class);
    qmp->refs = 1;
    qmp->commands_tail = &qmp->commands;
    qmp->queue_tail = &qmp->queue;
    if (qmp_register_builtins(qmp) < 0) {
        goto fail_commands;
    }
    return qmp;

fail_commands:
    qmp_free_commands(qmp);
    pv_mutex_destroy(&qmp->lock);
    pv_bh_free(qmp->bh);
fail_package:
    free(qmp->package);
fail_free:
    free(qmp);
    return NULL;
}

/* Stop watching every fd of the monitor; lock held, `closed` set. */
static void unwatch_all_locked(PvQmp *qmp)
{
    for (QmpListener *l = qmp->listeners; l; l = l->next) {
        pv_event_loop_set_fd(qmp->loop, l->fd, NULL, NULL, NULL);
    }
    for (QmpSession *s = qmp->sessions; s; s = s->next) {
        if (s->in_fd >= 0) {
            pv_event_loop_set_fd(qmp->loop, s->in_fd, NULL, NULL, NULL);
        }
        if (s->out_fd >= 0 && s->out_fd != s->in_fd) {
            pv_event_loop_set_fd(qmp->loop, s->out_fd, NULL, NULL, NULL);
        }
    }
}

void pv_qmp_free(PvQmp *qmp)
{
    QmpListener *listeners;
    QmpSession *news, *s, *next;
    QmpSession **snap;
    size_t n;

    if (!qmp) {
        return;
    }

    /*
     * 1. Closed: from now on no thread schedules the bottom half or
     *    (re)registers an fd (session.c checks `closed` under the lock
     *    around every pv_event_loop_set_fd()), and late replies and events
     *    are dropped.
     */
    pv_mutex_lock(&qmp->lock);
    qmp->closed = true;
    unwatch_all_locked(qmp);
    listeners = qmp->listeners;
    qmp->listeners = NULL;
    news = qmp->new_sessions;
    qmp->new_sessions = NULL;
    pv_mutex_unlock(&qmp->lock);

    /* 2. Wait out a bottom half or fd callback of ours that is running. */
    pv_bh_free(qmp->bh);
    qmp->bh = NULL;
    pv_event_loop_quiesce(qmp->loop);

    /* 3. Nothing of ours runs on the I/O thread now: the rest is ours.
     *    Answer what was answered already ("quit"), then close. */
    qmp_free_listeners(listeners);
    for (s = news; s; s = next) {
        next = s->next;
        qmp_session_close(s);   /* never started: not listed */
        qmp_session_free(s);
    }
    qmp_drain(qmp);
    snap = qmp_sessions_snapshot(qmp, &n);
    for (size_t i = 0; i < n; i++) {
        qmp_session_flush_final(snap[i]);
        qmp_session_close(snap[i]);
    }
    qmp_sessions_release(snap, n);
    qmp_free_commands(qmp);

    /* 4. Outstanding reply tokens keep the rest until they complete. */
    qmp_unref(qmp);
}
