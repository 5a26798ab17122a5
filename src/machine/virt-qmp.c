/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's QMP commands: query-status, stop, cont, system_reset,
 * quit, query-cpus-fast and x-query-sync-profile, with QEMU's reply shapes
 * and events (STOP, RESUME, RESET, SHUTDOWN).
 *
 * Handlers run on the I/O thread, which must never wait on a vCPU: stop
 * asks the harts to park and answers from the callback of the last one to
 * do so; reset and quit are handed to the main thread.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/lock.h"
#include "virt-internal.h"

void virt_qmp_shutdown_event(Virt *m, bool guest, const char *reason)
{
    if (m->qmp) {
        pv_qmp_event(m->qmp, "SHUTDOWN",
                     json_pack("{s:b, s:s}", "guest", guest, "reason", reason));
    }
}

void virt_qmp_reset_event(Virt *m, bool guest, const char *reason)
{
    if (m->qmp) {
        pv_qmp_event(m->qmp, "RESET", json_pack("{s:b, s:s}", "guest", guest, "reason", reason));
    }
}

static void qmp_query_status(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    (void)args;
    const char *status = atomic_load(&m->prelaunch)        ? "prelaunch"
                         : pv_cpus_user_paused(&m->cpus)   ? "paused"
                                                            : "running";
    pv_qmp_reply_return(reply, json_pack("{s:b, s:b, s:s}", "running",
                                         !strcmp(status, "running"), "singlestep", 0,
                                         "status", status));
}

typedef struct StopOp {
    Virt *m;
    PvQmpReply *reply;
} StopOp;

/* On the vCPU thread that parked last (or the I/O thread). */
static void stop_done(void *opaque, bool paused)
{
    StopOp *op = opaque;
    if (paused) {
        pv_qmp_event(op->m->qmp, "STOP", NULL);
    }
    /* QEMU answers stop with {} even if a cont overtook it. */
    pv_qmp_reply_return(op->reply, NULL);
    free(op);
}

static void qmp_stop(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    (void)args;
    if (atomic_load(&m->prelaunch) || pv_cpus_user_paused(&m->cpus)) {
        /* As QEMU: nothing to stop (prelaunch stays prelaunch), no STOP. */
        pv_qmp_reply_return(reply, NULL);
        return;
    }
    StopOp *op = malloc(sizeof(*op));
    if (!op) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "out of memory");
        return;
    }
    *op = (StopOp){ m, reply };
    pv_cpus_pause(&m->cpus, stop_done, op);
}

static void qmp_cont(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    (void)args;
    bool was_stopped = atomic_exchange(&m->prelaunch, false) || pv_cpus_user_paused(&m->cpus);
    pv_cpus_resume(&m->cpus);
    if (was_stopped) {
        pv_qmp_event(m->qmp, "RESUME", NULL);
    }
    pv_qmp_reply_return(reply, NULL);
}

static void qmp_system_reset(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    (void)args;
    /* As QEMU: answered at once, the reset follows on the main thread. */
    pv_qmp_reply_return(reply, NULL);
    virt_request(m, VIRT_REQ_HOST_RESET);
}

static void qmp_quit(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    (void)args;
    pv_qmp_reply_return(reply, NULL);
    virt_qmp_shutdown_event(m, false, "host-qmp-quit");
    virt_request_exit(m, 0);
}

static void qmp_query_cpus_fast(PvQmpReply *reply, json_t *args, void *opaque)
{
    Virt *m = opaque;
    json_t *list = json_array();
    (void)args;
    for (unsigned h = 0; h < m->nharts; h++) {
        char path[64];
        snprintf(path, sizeof(path), "/machine/soc0/harts[%u]", h);
        json_array_append_new(list, json_pack("{s:i, s:s, s:i, s:s, s:{s:i}}",
                                              "cpu-index", (int)h, "qom-path", path,
                                              "thread-id", (int)atomic_load(&m->vcpus[h].tid),
                                              "target", "riscv64", "props", "core-id", (int)h));
    }
    pv_qmp_reply_return(reply, list);
}

/* The lock profile (S11): every (class, call site) seen so far. */
static void qmp_sync_profile(PvQmpReply *reply, json_t *args, void *opaque)
{
    PvLockProfileEntry *e;
    size_t n = pv_lock_profile(&e);
    json_t *list = json_array();
    (void)args;
    (void)opaque;
    for (size_t i = 0; i < n; i++) {
        char site[256];
        snprintf(site, sizeof(site), "%s:%d", e[i].site->file, e[i].site->line);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
                                              "class", e[i].class_name, "site", site,
                                              "function", e[i].site->func,
                                              "acquisitions", (json_int_t)e[i].acquisitions,
                                              "contended", (json_int_t)e[i].contended,
                                              "wait-ns", (json_int_t)e[i].wait_ns,
                                              "hold-ns", (json_int_t)e[i].hold_ns));
    }
    free(e);
    pv_qmp_reply_return(reply, list);
}

int virt_qmp_register(Virt *m)
{
    static const struct {
        const char *name;
        PvQmpHandler *fn;
    } cmds[] = {
        { "query-status", qmp_query_status },
        { "stop", qmp_stop },
        { "cont", qmp_cont },
        { "system_reset", qmp_system_reset },
        { "quit", qmp_quit },
        { "query-cpus-fast", qmp_query_cpus_fast },
        { "x-query-sync-profile", qmp_sync_profile },
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        int r = pv_qmp_register(m->qmp, cmds[i].name, cmds[i].fn, m);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}
