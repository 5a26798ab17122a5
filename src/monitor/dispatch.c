/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From one framed message to a running command, with QEMU's checks and
 * QEMU's words (qapi/qmp-dispatch.c, monitor/qmp.c, the QAPI input
 * visitor), and the reply tokens that let a command answer later from any
 * thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-internal.h"

/* ---- error responses ----------------------------------------------------- */

const char *qmp_error_class_name(PvQmpErrorClass cls)
{
    switch (cls) {
    case PV_QMP_ERROR_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    case PV_QMP_ERROR_DEVICE_NOT_ACTIVE:
        return "DeviceNotActive";
    case PV_QMP_ERROR_DEVICE_NOT_FOUND:
        return "DeviceNotFound";
    case PV_QMP_ERROR_KVM_MISSING_CAP:
        return "KVMMissingCap";
    case PV_QMP_ERROR_GENERIC:
    default:
        return "GenericError";
    }
}

json_t *qmp_error_response(PvQmpErrorClass cls, const char *desc)
{
    return json_pack("{s:{s:s,s:s}}", "error", "class", qmp_error_class_name(cls),
                     "desc", desc ? desc : "");
}

/* An error reply to a request that never reached a handler. */
static void reply_error_now(QmpSession *sess, json_t *id, PvQmpErrorClass cls,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void reply_error_now(QmpSession *sess, json_t *id, PvQmpErrorClass cls,
                            const char *fmt, ...)
{
    char *desc = NULL;
    json_t *resp;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&desc, fmt, ap) < 0) {
        desc = NULL;
    }
    va_end(ap);
    resp = qmp_error_response(cls, desc);
    free(desc);
    if (!resp) {
        return;
    }
    if (id) {
        json_object_set(resp, "id", id);
    }
    qmp_session_send(sess, resp);
    json_decref(resp);
}

/* ---- arguments ----------------------------------------------------------- */

static const char *type_name(PvQmpType t)
{
    switch (t) {
    case PV_QMP_TYPE_STR:
        return "string";
    case PV_QMP_TYPE_INT:
        return "integer";
    case PV_QMP_TYPE_BOOL:
        return "boolean";
    case PV_QMP_TYPE_NUMBER:
        return "number";
    case PV_QMP_TYPE_OBJECT:
        return "object";
    case PV_QMP_TYPE_ARRAY:
        return "array";
    case PV_QMP_TYPE_ANY:
    default:
        return "any";
    }
}

static bool type_ok(PvQmpType t, const json_t *v)
{
    switch (t) {
    case PV_QMP_TYPE_STR:
        return json_is_string(v);
    case PV_QMP_TYPE_INT:
        return json_is_integer(v);
    case PV_QMP_TYPE_BOOL:
        return json_is_boolean(v);
    case PV_QMP_TYPE_NUMBER:
        return json_is_number(v);
    case PV_QMP_TYPE_OBJECT:
        return json_is_object(v);
    case PV_QMP_TYPE_ARRAY:
        return json_is_array(v);
    case PV_QMP_TYPE_ANY:
    default:
        return true;
    }
}

static char *fmt_msg(const char *fmt, const char *a, const char *b)
{
    char *s = NULL;

    if (asprintf(&s, fmt, a, b) < 0) {
        return strdup("Invalid parameter");
    }
    return s;
}

/*
 * In the order QEMU's input visitor reports them: the declared members in
 * declaration order (missing, then wrong type), then the first member
 * nobody declared.
 */
char *qmp_check_args(const QmpCommand *cmd, json_t *args)
{
    const char *key;
    json_t *v;

    for (const PvQmpArg *a = cmd->args; a && a->name; a++) {
        v = json_object_get(args, a->name);
        if (!v) {
            if (!a->optional) {
                return fmt_msg("Parameter '%s' is missing", a->name, NULL);
            }
            continue;
        }
        if (!type_ok(a->type, v)) {
            return fmt_msg("Invalid parameter type for '%s', expected: %s",
                           a->name, type_name(a->type));
        }
    }
    if (cmd->flags & PV_QMP_EXTRA_ARGS) {
        return NULL;
    }
    json_object_foreach(args, key, v) {
        bool known = false;

        for (const PvQmpArg *a = cmd->args; a && a->name; a++) {
            if (!strcmp(a->name, key)) {
                known = true;
                break;
            }
        }
        if (!known) {
            return fmt_msg("Parameter '%s' is unexpected", key, NULL);
        }
    }
    return NULL;
}

/* ---- requests ------------------------------------------------------------ */

/* QEMU's qmp_dispatch_check_obj(): NULL if fine, else the complaint. */
static char *check_request(json_t *req)
{
    const char *key;
    json_t *v;
    bool has_execute = false;

    json_object_foreach(req, key, v) {
        if (!strcmp(key, "execute")) {
            if (!json_is_string(v)) {
                return fmt_msg("QMP input member '%s' must be a string", key, NULL);
            }
            has_execute = true;
        } else if (!strcmp(key, "arguments")) {
            if (!json_is_object(v)) {
                return strdup("QMP input member 'arguments' must be an object");
            }
        } else if (strcmp(key, "id") != 0) {
            /* "exec-oob" too: parvm offers no out-of-band capability. */
            return fmt_msg("QMP input member '%s' is unexpected", key, NULL);
        }
    }
    if (!has_execute) {
        return strdup("QMP input lacks member 'execute'");
    }
    return NULL;
}

void qmp_dispatch(QmpSession *sess, const char *text, size_t len)
{
    PvQmp *qmp = sess->qmp;
    json_error_t jerr;
    json_t *req, *id, *args;
    const char *name;
    QmpCommand cmd;
    PvQmpReply *reply;
    char *complaint;

    req = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        reply_error_now(sess, NULL, PV_QMP_ERROR_GENERIC, "JSON parse error, %s", jerr.text);
        return;
    }
    if (!json_is_object(req)) {
        reply_error_now(sess, NULL, PV_QMP_ERROR_GENERIC, "QMP input must be a JSON object");
        goto out;
    }
    /* Echoed on every answer to an object, errors included. */
    id = json_object_get(req, "id");
    complaint = check_request(req);
    if (complaint) {
        reply_error_now(sess, id, PV_QMP_ERROR_GENERIC, "%s", complaint);
        free(complaint);
        goto out;
    }
    name = json_string_value(json_object_get(req, "execute"));
    if (!qmp_command_lookup(qmp, name, sess->negotiated, &cmd)) {
        if (!sess->negotiated) {
            /* QEMU's "more useful error message" in negotiation mode. */
            reply_error_now(sess, id, PV_QMP_ERROR_COMMAND_NOT_FOUND,
                            "Expecting capabilities negotiation with 'qmp_capabilities'");
        } else {
            reply_error_now(sess, id, PV_QMP_ERROR_COMMAND_NOT_FOUND,
                            "The command %s has not been found", name);
        }
        goto out;
    }
    args = json_object_get(req, "arguments");
    args = args ? json_incref(args) : json_object();
    if (!args) {
        goto out;
    }
    complaint = qmp_check_args(&cmd, args);
    if (complaint) {
        reply_error_now(sess, id, PV_QMP_ERROR_GENERIC, "%s", complaint);
        free(complaint);
        json_decref(args);
        goto out;
    }

    reply = calloc(1, sizeof(*reply));
    if (!reply) {
        reply_error_now(sess, id, PV_QMP_ERROR_GENERIC, "Out of memory");
        json_decref(args);
        goto out;
    }
    pv_mutex_lock(&qmp->lock);
    qmp_ref_locked(qmp);
    sess->refs++;
    pv_mutex_unlock(&qmp->lock);
    reply->qmp = qmp;
    reply->sess = sess;
    reply->id = json_incref(id);

    /* Nothing more is read from this client until the reply is queued
     * and written (qmp_drain() clears it). */
    sess->busy = true;
    cmd.fn(reply, args, cmd.opaque);
    json_decref(args);
    /* A handler that answered at once is answered at once. */
    qmp_drain(qmp);
out:
    json_decref(req);
}

/* ---- reply tokens -------------------------------------------------------- */

static void complete(PvQmpReply *reply, json_t *resp)
{
    if (!resp) {
        /* Out of memory: the client would wait forever for nothing. */
        resp = json_pack("{s:{s:s,s:s}}", "error", "class", "GenericError",
                         "desc", "Out of memory");
    }
    if (resp && reply->id) {
        json_object_set(resp, "id", reply->id);
    }
    reply->msg = resp;
    qmp_enqueue(reply->qmp, reply);
}

void pv_qmp_reply_return(PvQmpReply *reply, json_t *value)
{
    json_t *resp = json_object();

    if (!value) {
        value = json_object();
    }
    if (resp && value) {
        json_object_set_new(resp, "return", value);
    } else {
        json_decref(resp);
        json_decref(value);
        resp = NULL;
    }
    complete(reply, resp);
}

void pv_qmp_reply_error(PvQmpReply *reply, PvQmpErrorClass cls, const char *fmt, ...)
{
    char *desc = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&desc, fmt, ap) < 0) {
        desc = NULL;
    }
    va_end(ap);
    complete(reply, qmp_error_response(cls, desc ? desc : "Out of memory"));
    free(desc);
}
