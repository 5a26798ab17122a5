/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's internal state, shared by its files:
 *   qmp.c         lifetime, reference counts, the bottom half
 *   server.c      -qmp specs, listening sockets, accepting clients
 *   session.c     one client: reading, framing, writing, closing
 *   dispatch.c    checking a request, running its command, reply tokens
 *   commands.c    the registry and the built-in commands
 *   events.c      pv_qmp_event() and delivery
 *   json-stream.c where one message ends
 *
 * Who touches what.  Fields marked "lock" are under qmp->lock (a leaf: the
 * only lock ever taken under it is the event loop's, by pv_bh_schedule()).
 * Fields marked "io" belong to the I/O thread; pv_qmp_free() takes them
 * over once no callback of the monitor can run any more.  Everything else
 * is set before the object is published and then read-only.
 */
#ifndef PARVM_MONITOR_QMP_INTERNAL_H
#define PARVM_MONITOR_QMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/lock.h"
#include "parvm/qmp.h"

#include "json-stream.h"

/* Longest message a client may send (QEMU's limits are per token and far
 * larger; a monitor of a machine has no use for big messages). */
#define QMP_MAX_MESSAGE (64 * 1024)
/* Events queued for the I/O thread beyond which new ones are dropped: the
 * queue must stay bounded even if the I/O thread falls behind. */
#define QMP_MAX_QUEUED_EVENTS 65536
/* Unwritten output at which a client that does not read is dropped. */
#define QMP_MAX_OUTPUT (8 * 1024 * 1024)
/* Bytes read at a time. */
#define QMP_READ_CHUNK 4096

typedef struct QmpCommand {
    char *name;
    PvQmpArg *args;             /* copied, NULL-name terminated */
    unsigned flags;
    PvQmpHandler *fn;
    void *opaque;
    bool builtin_caps;          /* qmp_capabilities: allowed before negotiation */
    struct QmpCommand *next;
} QmpCommand;

typedef struct QmpSession {
    PvQmp *qmp;
    int in_fd, out_fd;
    bool owns_fds;              /* close them at the end (not stdio) */
    bool out_is_socket;         /* send(MSG_NOSIGNAL) rather than write() */
    bool in_pollable;           /* false: a regular file, read from the BH */
    int saved_in_flags, saved_out_flags;    /* stdio: restored at the end */

    /* io */
    QmpStream stream;
    char inbuf[QMP_READ_CHUNK];
    size_t in_len, in_pos;      /* bytes read, bytes framed */
    char *out;
    size_t out_len, out_pos, out_cap;
    bool negotiated;
    bool busy;                  /* a command is running: read nothing more */
    bool eof;                   /* the client sent its last byte */
    bool closed;
    bool reg_read, reg_write;   /* what the event loop watches now */
    bool started;               /* greeted and watched */

    /* lock */
    unsigned refs;              /* the session list, each reply token, callbacks */
    struct QmpSession *next;    /* in qmp->sessions or qmp->new_sessions */
} QmpSession;

/*
 * A reply token, and also the unit of the monitor's output queue: a
 * completed reply (for one session) or an event (sess == NULL: for every
 * negotiated session).  One queue keeps their order: an event emitted
 * before a reply is completed is written before it, as in QEMU.
 */
struct PvQmpReply {
    PvQmp *qmp;                 /* holds a reference (replies only) */
    QmpSession *sess;           /* holds a reference; NULL for an event */
    json_t *id;                 /* echoed, or NULL */
    json_t *msg;                /* the response or event, once queued */
    struct PvQmpReply *next;    /* in qmp->queue */
};

typedef struct QmpListener {
    PvQmp *qmp;
    int fd;
    char *path;                 /* unlinked at the end */
    struct QmpListener *next;
} QmpListener;

struct PvQmp {
    PvEventLoop *loop;
    int major, minor, micro;
    char *package;
    PvBH *bh;                   /* completions, events, new sessions */
    PvMutex lock;

    /* lock */
    unsigned refs;              /* the owner and each outstanding reply */
    bool closed;                /* pv_qmp_free() has begun */
    bool stdio_taken;
    QmpCommand *commands, **commands_tail;
    QmpSession *new_sessions;   /* to be started by the I/O thread */
    QmpSession *sessions;       /* written under lock; the I/O thread may read */
    QmpListener *listeners;
    PvQmpReply *queue, **queue_tail;   /* completed replies and events */
    unsigned queued_events;
    uint64_t dropped_events;
};

/* qmp.c */
void qmp_ref_locked(PvQmp *qmp);
void qmp_unref(PvQmp *qmp);
/* Wake the I/O thread's bottom half; lock held, monitor not closed. */
void qmp_kick_locked(PvQmp *qmp);
/* Queue a completed reply or an event and kick the I/O thread; takes the
 * lock.  Discards it if the monitor is closed.  Any thread. */
void qmp_enqueue(PvQmp *qmp, PvQmpReply *item);
/* Free a reply or event item, dropping its references.  Any thread, no lock. */
void qmp_item_free(PvQmpReply *item);
/* Write out completed replies and events; io (or pv_qmp_free()). */
void qmp_drain(PvQmp *qmp);
/* The sessions started so far, each with a reference taken: free with
 * qmp_sessions_release().  NULL with *n == 0 when there are none. */
QmpSession **qmp_sessions_snapshot(PvQmp *qmp, size_t *n);
void qmp_sessions_release(QmpSession **snap, size_t n);

/* session.c */
QmpSession *qmp_session_new(PvQmp *qmp, int in_fd, int out_fd, bool owns_fds);
/* Free the memory: after qmp_session_close() (or for a session whose fds
 * are still the caller's), once no reference is left. */
void qmp_session_free(QmpSession *sess);
void qmp_session_ref(QmpSession *sess);
void qmp_session_unref(QmpSession *sess);
void qmp_session_start(QmpSession *sess);  /* io: greet and watch */
void qmp_session_send(QmpSession *sess, json_t *msg);  /* io; borrows @msg */
void qmp_session_send_text(QmpSession *sess, const char *text, size_t len);  /* io */
void qmp_session_pump(QmpSession *sess);   /* io: frame and run input */
void qmp_session_read(QmpSession *sess);   /* io: one read, then pump */
void qmp_session_close(QmpSession *sess);  /* io */
void qmp_session_flush_final(QmpSession *sess);  /* pv_qmp_free(): one try */
/* Queue a new session for the I/O thread: 0 or -errno. */
int qmp_session_attach(PvQmp *qmp, int in_fd, int out_fd, bool owns_fds);

/* dispatch.c */
void qmp_dispatch(QmpSession *sess, const char *text, size_t len);  /* io */
json_t *qmp_error_response(PvQmpErrorClass cls, const char *desc);
const char *qmp_error_class_name(PvQmpErrorClass cls);
/* The command's copy of what a handler needs, looked up under lock. */
bool qmp_command_lookup(PvQmp *qmp, const char *name, bool negotiated,
                        QmpCommand *out);
/* Check @args against @cmd: NULL, or a malloc'd QEMU-style message. */
char *qmp_check_args(const QmpCommand *cmd, json_t *args);

/* commands.c */
int qmp_register_builtins(PvQmp *qmp);
void qmp_free_commands(PvQmp *qmp);
json_t *qmp_version_info(const PvQmp *qmp);
json_t *qmp_greeting(const PvQmp *qmp);

/* events.c */
/* Write @event to every negotiated, open session of @snap; io. */
void qmp_broadcast(QmpSession **snap, size_t n, json_t *event);

/* server.c */
void qmp_free_listeners(QmpListener *list);

#endif
