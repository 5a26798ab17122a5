/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events: emitted from any thread, written by the I/O thread.
 *
 * pv_qmp_event() is called from vCPU threads inside dispatch, holding
 * device locks (DEVICE_DELETED from an eject, STOP once the harts park).
 * So it builds the message with the caller's time, then only takes the
 * monitor's leaf lock to queue it and schedule the bottom half: no I/O,
 * no waiting, no other lock.  The same queue carries completed replies,
 * so the order in which a thread emits an event and completes a reply is
 * the order the client sees.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmp-internal.h"

void pv_qmp_event(PvQmp *qmp, const char *name, json_t *data)
{
    struct timespec ts;
    PvQmpReply *item;
    json_t *msg;

    if (!name) {
        json_decref(data);
        return;
    }
    /* Wall clock, as QEMU's timestamps (qemu_clock_get_us(QEMU_CLOCK_REALTIME)'s
     * epoch is the host's): clients compare them with their own clocks. */
    clock_gettime(CLOCK_REALTIME, &ts);
    msg = json_pack("{s:{s:I,s:I},s:s}", "timestamp",
                    "seconds", (json_int_t)ts.tv_sec,
                    "microseconds", (json_int_t)(ts.tv_nsec / 1000),
                    "event", name);
    if (msg && data) {
        json_object_set(msg, "data", data);
    }
    json_decref(data);
    item = calloc(1, sizeof(*item));
    if (!msg || !item) {
        json_decref(msg);
        free(item);
        return;
    }
    item->msg = msg;
    qmp_enqueue(qmp, item);
}

void qmp_broadcast(QmpSession **snap, size_t n, json_t *event)
{
    char *text = NULL;
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        QmpSession *s = snap[i];

        /* Only negotiated sessions get events, as in QEMU. */
        if (!s->started || !s->negotiated || s->closed) {
            continue;
        }
        if (!text) {
            /* Serialised once for every session. */
            text = json_dumps(event, JSON_ENCODE_ANY);
            if (!text) {
                return;
            }
            len = strlen(text);
            text[len++] = '\n';
        }
        qmp_session_send_text(s, text, len);
    }
    free(text);
}
