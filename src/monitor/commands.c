/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command registry and the commands every monitor has:
 * qmp_capabilities, query-version and query-commands.
 *
 * Commands are only ever added (until pv_qmp_free()), so a lookup copies
 * the entry under the lock and the handler runs without it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-internal.h"

/* ---- registry -------------------------------------------------------------- */

static QmpCommand *find_locked(PvQmp *qmp, const char *name)
{
    for (QmpCommand *c = qmp->commands; c; c = c->next) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

static void command_free(QmpCommand *c)
{
    if (c->args) {
        for (PvQmpArg *a = c->args; a->name; a++) {
            free((char *)a->name);
        }
    }
    free(c->args);
    free(c->name);
    free(c);
}

static QmpCommand *command_new(const char *name, const PvQmpArg *args, unsigned flags,
                               PvQmpHandler *fn, void *opaque)
{
    QmpCommand *c = calloc(1, sizeof(*c));
    size_t n = 0;

    if (!c) {
        return NULL;
    }
    c->name = strdup(name);
    while (args && args[n].name) {
        n++;
    }
    c->args = calloc(n + 1, sizeof(*c->args));
    if (!c->name || !c->args) {
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        c->args[i] = args[i];
        c->args[i].name = strdup(args[i].name);
        if (!c->args[i].name) {
            goto fail;
        }
    }
    c->flags = flags;
    c->fn = fn;
    c->opaque = opaque;
    return c;

fail:
    command_free(c);
    return NULL;
}

static int do_register(PvQmp *qmp, QmpCommand *c)
{
    int r = 0;

    pv_mutex_lock(&qmp->lock);
    if (find_locked(qmp, c->name)) {
        r = -EEXIST;
    } else {
        *qmp->commands_tail = c;
        qmp->commands_tail = &c->next;
    }
    pv_mutex_unlock(&qmp->lock);
    if (r < 0) {
        command_free(c);
    }
    return r;
}

int pv_qmp_register_args(PvQmp *qmp, const char *name, const PvQmpArg *args,
                         unsigned flags, PvQmpHandler *fn, void *opaque)
{
    QmpCommand *c;

    if (!name || !*name || !fn || (flags & ~PV_QMP_EXTRA_ARGS)) {
        return -EINVAL;
    }
    c = command_new(name, args, flags, fn, opaque);
    if (!c) {
        return -ENOMEM;
    }
    return do_register(qmp, c);
}

int pv_qmp_register(PvQmp *qmp, const char *name, PvQmpHandler *fn, void *opaque)
{
    return pv_qmp_register_args(qmp, name, NULL, 0, fn, opaque);
}

bool qmp_command_lookup(PvQmp *qmp, const char *name, bool negotiated, QmpCommand *out)
{
    QmpCommand *c;
    bool found = false;

    pv_mutex_lock(&qmp->lock);
    c = find_locked(qmp, name);
    /* Before negotiation only qmp_capabilities exists, as in QEMU. */
    if (c && (negotiated || c->builtin_caps)) {
        *out = *c;
        found = true;
    }
    pv_mutex_unlock(&qmp->lock);
    return found;
}

void qmp_free_commands(PvQmp *qmp)
{
    QmpCommand *c, *next;

    pv_mutex_lock(&qmp->lock);
    c = qmp->commands;
    qmp->commands = NULL;
    qmp->commands_tail = &qmp->commands;
    pv_mutex_unlock(&qmp->lock);
    for (; c; c = next) {
        next = c->next;
        command_free(c);
    }
}

/* ---- version ------------------------------------------------------------- */

json_t *qmp_version_info(const PvQmp *qmp)
{
    return json_pack("{s:{s:i,s:i,s:i},s:s}",
                     "qemu", "micro", qmp->micro, "minor", qmp->minor,
                     "major", qmp->major, "package", qmp->package);
}

json_t *qmp_greeting(const PvQmp *qmp)
{
    /* No capabilities: parvm has no out-of-band execution. */
    return json_pack("{s:{s:o,s:[]}}", "QMP", "version", qmp_version_info(qmp),
                     "capabilities");
}

/* ---- built-in commands ------------------------------------------------------ */

static void cmd_qmp_capabilities(PvQmpReply *reply, json_t *args, void *opaque)
{
    QmpSession *sess = reply->sess;     /* handlers run on the I/O thread */
    json_t *enable = json_object_get(args, "enable");
    size_t i;
    json_t *v;

    (void)opaque;
    if (sess->negotiated) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_COMMAND_NOT_FOUND,
                           "Capabilities negotiation is already complete, command ignored");
        return;
    }
    json_array_foreach(enable, i, v) {
        if (!json_is_string(v)) {
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                               "Invalid parameter type for 'enable[%zu]', expected: string", i);
            return;
        }
        if (strcmp(json_string_value(v), "oob") != 0) {
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                               "Parameter 'enable[%zu]' does not accept value '%s'",
                               i, json_string_value(v));
            return;
        }
        /* QEMU offers "oob" only on monitors with their own I/O thread. */
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "Capability oob not available");
        return;
    }
    sess->negotiated = true;
    pv_qmp_reply_return(reply, NULL);
}

static void cmd_query_version(PvQmpReply *reply, json_t *args, void *opaque)
{
    PvQmp *qmp = opaque;

    (void)args;
    pv_qmp_reply_return(reply, qmp_version_info(qmp));
}

static void cmd_query_commands(PvQmpReply *reply, json_t *args, void *opaque)
{
    PvQmp *qmp = opaque;
    json_t *list = json_array();

    (void)args;
    pv_mutex_lock(&qmp->lock);
    for (QmpCommand *c = qmp->commands; c && list; c = c->next) {
        json_array_append_new(list, json_pack("{s:s}", "name", c->name));
    }
    pv_mutex_unlock(&qmp->lock);
    pv_qmp_reply_return(reply, list);
}

int qmp_register_builtins(PvQmp *qmp)
{
    static const PvQmpArg caps_args[] = {
        { .name = "enable", .type = PV_QMP_TYPE_ARRAY, .optional = true },
        { .name = NULL },
    };
    QmpCommand *caps = command_new("qmp_capabilities", caps_args, 0,
                                   cmd_qmp_capabilities, qmp);
    int r;

    if (!caps) {
        return -ENOMEM;
    }
    caps->builtin_caps = true;
    r = do_register(qmp, caps);
    if (r == 0) {
        r = pv_qmp_register(qmp, "query-version", cmd_query_version, qmp);
    }
    if (r == 0) {
        r = pv_qmp_register(qmp, "query-commands", cmd_query_commands, qmp);
    }
    return r;
}
