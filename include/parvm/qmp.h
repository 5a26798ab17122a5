/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP, QEMU's JSON monitor protocol (docs/qmp.md): servers, sessions, a
 * command registry with asynchronous replies, and events.
 *
 * The monitor knows no machine.  It speaks the protocol and runs the
 * commands registered with it; the commands that touch the VM (stop, cont,
 * device_add, quit, ...) are registered by the board.
 *
 * Threads.  All socket I/O, parsing and every command handler run on the
 * I/O thread of the PvEventLoop given to pv_qmp_new(), non-blocking.
 * pv_qmp_event(), pv_qmp_reply_return() and pv_qmp_reply_error() may be
 * called from any thread, vCPU threads inside a dispatch included.
 * pv_qmp_new(), pv_qmp_listen(), pv_qmp_add_client() and pv_qmp_register*()
 * may be called from any thread except that pv_qmp_listen() with wait=on
 * blocks (call it before the machine runs); pv_qmp_free() never from the
 * I/O thread.
 *
 * Locks.  The monitor has one lock, a PV_LOCK_KIND_CORE lock ("qmp"), held
 * only briefly; under it the monitor only ever takes the event loop's leaf
 * lock (to schedule its bottom half or change the fds it watches) and never
 * waits.  So pv_qmp_event() and the pv_qmp_reply_*() functions may be
 * called with the global lock, a device lock or any other core lock held.
 * Handlers are called with NO lock held; they may take the global lock or
 * a device lock, but must not block for long: the I/O thread serves every
 * device backend too.  Nothing in the monitor waits on a vCPU.
 *
 * JSON values are jansson's json_t.
 */
#ifndef PARVM_QMP_H
#define PARVM_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "parvm/event-loop.h"

typedef struct PvQmp PvQmp;
typedef struct PvQmpReply PvQmpReply;

/* What the greeting and query-version report. */
typedef struct PvQmpInfo {
    int major, minor, micro;
    const char *package;        /* copied; NULL means "" */
} PvQmpInfo;

/* ---- lifetime and servers --------------------------------------------- */

/*
 * A monitor whose I/O runs on @loop's I/O thread (the loop may be started
 * before or after).  Registers the built-in commands qmp_capabilities,
 * query-version and query-commands.  NULL on allocation failure.
 */
PvQmp *pv_qmp_new(PvEventLoop *loop, const PvQmpInfo *info);

/*
 * Add a server or client from a QEMU -qmp spec:
 *   unix:PATH[,server=on|off][,wait=on|off]   (also the old ",server,nowait")
 *   stdio
 * server=on listens on PATH (an existing socket file there is replaced)
 * and takes any number of clients, each its own session; with wait=on (the
 * default for a server, as in QEMU) it first blocks until one client has
 * connected.  server=off (the default) connects to PATH.  A ',' in PATH is
 * written ",,".  stdio runs one session on fds 0 and 1.  Returns 0, or -1
 * with a one-line message in @err.  Several specs may be added.
 */
int pv_qmp_listen(PvQmp *qmp, const char *spec, char *err, size_t errlen);

/*
 * Run one session on @in_fd/@out_fd (equal for a socket).  On success the
 * monitor owns them: it makes them non-blocking and closes them when the
 * session ends; on failure (-errno) they stay the caller's.  @in_fd may be
 * a regular file (read to its end).  Tests use it with socketpairs and pipes.
 */
int pv_qmp_add_client(PvQmp *qmp, int in_fd, int out_fd);

/*
 * Close every server and session (after a best-effort, non-blocking flush
 * of replies and events already completed, so that "quit" is answered) and
 * free the monitor.  Replies still outstanding may be completed later, until
 * @loop is freed; they are discarded.  Not from the I/O thread; the caller
 * holds no lock.  NULL is a no-op.
 */
void pv_qmp_free(PvQmp *qmp);

/* ---- commands ---------------------------------------------------------- */

/* Argument types, with QEMU's names in error messages. */
typedef enum PvQmpType {
    PV_QMP_TYPE_STR,        /* "string" */
    PV_QMP_TYPE_INT,        /* "integer": a JSON integer */
    PV_QMP_TYPE_BOOL,       /* "boolean" */
    PV_QMP_TYPE_NUMBER,     /* "number": integer or real */
    PV_QMP_TYPE_OBJECT,     /* "object" */
    PV_QMP_TYPE_ARRAY,      /* "array" */
    PV_QMP_TYPE_ANY,        /* anything */
} PvQmpType;

typedef struct PvQmpArg {
    const char *name;       /* NULL ends a list */
    PvQmpType type;
    bool optional;
} PvQmpArg;

/* pv_qmp_register_args() flag: accept members not in the list unchecked
 * (device_add's device properties). */
#define PV_QMP_EXTRA_ARGS 1u

/*
 * A command handler.  Runs on the I/O thread with no lock held, after the
 * monitor checked the arguments against the command's list, so @args (an
 * object, borrowed for the call; json_incref() it to keep it) holds every
 * required member with its declared type.  It must complete @reply exactly
 * once, now or later, from any thread; the session reads no further command
 * until then (events still flow), as in QEMU.
 */
typedef void PvQmpHandler(PvQmpReply *reply, json_t *args, void *opaque);

/*
 * Register @name, which takes no arguments.  Commands are available to
 * every session once it has negotiated capabilities, from the moment they
 * are registered.  Returns 0, -EEXIST (the name is taken) or -ENOMEM.
 */
int pv_qmp_register(PvQmp *qmp, const char *name, PvQmpHandler *fn, void *opaque);

/*
 * Register @name with arguments @args (terminated by a NULL name; copied).
 * The monitor rejects, with QEMU's messages, a missing required argument,
 * one of the wrong type and, unless @flags has PV_QMP_EXTRA_ARGS, one not
 * in the list.  Returns 0, -EEXIST, -EINVAL or -ENOMEM.
 */
int pv_qmp_register_args(PvQmp *qmp, const char *name, const PvQmpArg *args,
                         unsigned flags, PvQmpHandler *fn, void *opaque);

/* ---- replies ----------------------------------------------------------- */

/* QEMU's error classes (qapi/error.json). */
typedef enum PvQmpErrorClass {
    PV_QMP_ERROR_GENERIC,           /* GenericError */
    PV_QMP_ERROR_COMMAND_NOT_FOUND, /* CommandNotFound */
    PV_QMP_ERROR_DEVICE_NOT_ACTIVE, /* DeviceNotActive */
    PV_QMP_ERROR_DEVICE_NOT_FOUND,  /* DeviceNotFound */
    PV_QMP_ERROR_KVM_MISSING_CAP,   /* KVMMissingCap */
} PvQmpErrorClass;

/*
 * Complete @reply with {"return": @value} (@value stolen; NULL means {}).
 * Any thread, any lock held; never waits.  @reply is invalid afterwards.
 * If the client has gone, the reply is dropped.
 */
void pv_qmp_reply_return(PvQmpReply *reply, json_t *value);

/* Complete @reply with {"error": {"class": ..., "desc": ...}}.  As above. */
void pv_qmp_reply_error(PvQmpReply *reply, PvQmpErrorClass cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- events ------------------------------------------------------------ */

/*
 * Send {"timestamp": {"seconds": S, "microseconds": US}, "event": @name,
 * "data": @data} to every session that has negotiated capabilities, the
 * timestamp being the wall clock now.  @data is stolen and may be NULL (no
 * "data" member, as QEMU's STOP).  Any thread, any lock held, never waits:
 * it takes the monitor's leaf lock and hands the event to the I/O thread.
 */
void pv_qmp_event(PvQmp *qmp, const char *name, json_t *data);

#endif
