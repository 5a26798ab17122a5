/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP over a real Unix socket: the greeting, negotiation, the built-in
 * commands, argument checking, and every kind of bad input, each followed
 * by a good command on the same connection.  Error classes and texts are
 * QEMU's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "qmp-client.h"
#include "qmp-internal.h"

#define QV "{\"execute\": \"query-version\"}\n"

/* json_equal(), consuming @b (a value built for the comparison). */
static bool eq_new(json_t *a, json_t *b)
{
    bool eq = json_equal(a, b);

    json_decref(b);
    return eq;
}

/* A query-version on @c still works, and matches the fixture. */
static bool still_works(QmpClient *c)
{
    json_t *r = qc_cmd(c, "{\"execute\": \"query-version\", \"id\": \"again\"}\n");
    json_t *v = qc_return(r);
    bool ok = v && json_integer_value(json_object_get(json_object_get(v, "qemu"), "major")) == 8 &&
              eq_new(json_object_get(r, "id"), json_string("again"));

    json_decref(r);
    return ok;
}

static size_t session_count(PvQmp *qmp)
{
    size_t n = 0;

    pv_mutex_lock(&qmp->lock);
    for (QmpSession *s = qmp->sessions; s; s = s->next) {
        n++;
    }
    for (QmpSession *s = qmp->new_sessions; s; s = s->next) {
        n++;
    }
    pv_mutex_unlock(&qmp->lock);
    return n;
}

/* ---- greeting and negotiation ------------------------------------------ */

static void test_greeting(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect(f.path);
    json_t *g = c ? qc_recv(c, QC_TIMEOUT_MS) : NULL;
    json_t *qmp = json_object_get(g, "QMP");
    json_t *ver = json_object_get(qmp, "version");
    json_t *q = json_object_get(ver, "qemu");

    CHECK(c && g);
    CHECK_EQ_U64(json_object_size(g), 1);
    CHECK_EQ_U64(json_object_size(qmp), 2);
    CHECK_EQ_U64(json_integer_value(json_object_get(q, "major")), 8);
    CHECK_EQ_U64(json_integer_value(json_object_get(q, "minor")), 2);
    CHECK_EQ_U64(json_integer_value(json_object_get(q, "micro")), 1);
    CHECK_EQ_U64(json_object_size(q), 3);
    CHECK(!strcmp(json_string_value(json_object_get(ver, "package")) ?: "", "parvm-test"));
    CHECK(json_is_array(json_object_get(qmp, "capabilities")));
    CHECK_EQ_U64(json_array_size(json_object_get(qmp, "capabilities")), 0);
    /* Nothing else is said before the client speaks. */
    CHECK(qc_quiet(c, 50));
    json_decref(g);
    qc_close(c);
    qf_teardown(&f);
}

static void test_negotiation_required(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect(f.path);
    json_t *r;

    json_decref(qc_recv(c, QC_TIMEOUT_MS));
    /* Any command, known or not, before qmp_capabilities. */
    r = qc_cmd(c, "{\"execute\": \"query-version\", \"id\": 7}\n");
    CHECK(qc_is_error(r, "CommandNotFound",
                      "Expecting capabilities negotiation with 'qmp_capabilities'"));
    CHECK(json_integer_value(json_object_get(r, "id")) == 7);
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"no-such-thing\"}\n");
    CHECK(qc_is_error(r, "CommandNotFound",
                      "Expecting capabilities negotiation with 'qmp_capabilities'"));
    CHECK(!json_object_get(r, "id"));
    json_decref(r);
    /* Capabilities parvm does not offer. */
    r = qc_cmd(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}\n");
    CHECK(qc_is_error(r, "GenericError", "Capability oob not available"));
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}\n");
    CHECK(qc_is_error(r, "GenericError", "Parameter 'enable[0]' does not accept value 'x'"));
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": 1}}\n");
    CHECK(qc_is_error(r, "GenericError", "Invalid parameter type for 'enable', expected: array"));
    json_decref(r);

    r = qc_cmd(c, "{\"execute\": \"qmp_capabilities\", \"id\": {\"a\": [1]}}\n");
    CHECK(qc_return(r) && json_object_size(qc_return(r)) == 0);
    CHECK(eq_new(json_object_get(r, "id"), json_pack("{s:[i]}", "a", 1)));
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}\n");
    CHECK(qc_is_error(r, "CommandNotFound",
                      "Capabilities negotiation is already complete, command ignored"));
    json_decref(r);
    CHECK(still_works(c));
    qc_close(c);
    qf_teardown(&f);
}

/* ---- built-in and registered commands ---------------------------------- */

static void echo_args(PvQmpReply *reply, json_t *args, void *opaque)
{
    (void)opaque;
    pv_qmp_reply_return(reply, json_deep_copy(args));
}

static void fail_not_found(PvQmpReply *reply, json_t *args, void *opaque)
{
    (void)opaque;
    pv_qmp_reply_error(reply, PV_QMP_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
                       json_string_value(json_object_get(args, "id")));
}

static const PvQmpArg test_args[] = {
    { .name = "id", .type = PV_QMP_TYPE_STR },
    { .name = "count", .type = PV_QMP_TYPE_INT, .optional = true },
    { .name = "force", .type = PV_QMP_TYPE_BOOL, .optional = true },
    { .name = "ratio", .type = PV_QMP_TYPE_NUMBER, .optional = true },
    { .name = "opts", .type = PV_QMP_TYPE_OBJECT, .optional = true },
    { .name = NULL },
};

static void register_test_commands(PvQmp *qmp)
{
    static const PvQmpArg add_args[] = {
        { .name = "driver", .type = PV_QMP_TYPE_STR },
        { .name = "id", .type = PV_QMP_TYPE_STR, .optional = true },
        { .name = NULL },
    };

    CHECK(pv_qmp_register_args(qmp, "x-echo", test_args, 0, echo_args, NULL) == 0);
    CHECK(pv_qmp_register_args(qmp, "x-add", add_args, PV_QMP_EXTRA_ARGS, echo_args, NULL) == 0);
    CHECK(pv_qmp_register(qmp, "x-noargs", echo_args, NULL) == 0);
    CHECK(pv_qmp_register_args(qmp, "x-del", test_args, 0, fail_not_found, NULL) == 0);
    CHECK(pv_qmp_register(qmp, "x-noargs", echo_args, NULL) == -EEXIST);
    CHECK(pv_qmp_register(qmp, "query-version", echo_args, NULL) == -EEXIST);
    CHECK(pv_qmp_register_args(qmp, "x-bad", NULL, 0x80, echo_args, NULL) == -EINVAL);
}

static void test_builtin_commands(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect(f.path);
    json_t *g = qc_recv(c, QC_TIMEOUT_MS), *r, *list;
    size_t i;
    json_t *v;
    int seen = 0;

    register_test_commands(f.qmp);
    json_decref(qc_cmd(c, "{\"execute\": \"qmp_capabilities\"}\n"));
    r = qc_cmd(c, "{\"execute\": \"query-version\", \"id\": \"v\"}\n");
    /* The same as the greeting's. */
    CHECK(json_equal(qc_return(r), json_object_get(json_object_get(g, "QMP"), "version")));
    CHECK(!strcmp(json_string_value(json_object_get(r, "id")) ?: "", "v"));
    json_decref(r);

    r = qc_cmd(c, "{\"execute\": \"query-commands\"}\n");
    list = qc_return(r);
    CHECK(json_is_array(list));
    json_array_foreach(list, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));

        CHECK(name && json_object_size(v) == 1);
        if (name && (!strcmp(name, "qmp_capabilities") || !strcmp(name, "query-version") ||
                     !strcmp(name, "query-commands") || !strcmp(name, "x-echo") ||
                     !strcmp(name, "x-add") || !strcmp(name, "x-noargs") ||
                     !strcmp(name, "x-del"))) {
            seen++;
        }
    }
    CHECK_EQ_U64(seen, 7);
    CHECK_EQ_U64(json_array_size(list), 7);
    json_decref(r);

    /* A handler's own error class. */
    r = qc_cmd(c, "{\"execute\": \"x-del\", \"arguments\": {\"id\": \"net0\"}, \"id\": 3}\n");
    CHECK(qc_is_error(r, "DeviceNotFound", "Device 'net0' not found"));
    CHECK(json_integer_value(json_object_get(r, "id")) == 3);
    json_decref(r);
    json_decref(g);
    qc_close(c);
    qf_teardown(&f);
}

static void test_unknown_command(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect_ready(f.path);
    json_t *r;

    CHECK(c);
    r = qc_cmd(c, "{\"execute\": \"frobnicate\", \"id\": null}\n");
    CHECK(qc_is_error(r, "CommandNotFound", "The command frobnicate has not been found"));
    /* A null id is still an id. */
    CHECK(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    CHECK(still_works(c));
    qc_close(c);
    qf_teardown(&f);
}

static void test_bad_arguments(void)
{
    static const struct {
        const char *req;
        const char *desc;
    } cases[] = {
        { "{\"execute\": \"x-echo\"}",
          "Parameter 'id' is missing" },
        { "{\"execute\": \"x-echo\", \"arguments\": {}}",
          "Parameter 'id' is missing" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": 5}}",
          "Invalid parameter type for 'id', expected: string" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"count\": 1.5}}",
          "Invalid parameter type for 'count', expected: integer" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"force\": \"yes\"}}",
          "Invalid parameter type for 'force', expected: boolean" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"ratio\": \"1\"}}",
          "Invalid parameter type for 'ratio', expected: number" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"opts\": []}}",
          "Invalid parameter type for 'opts', expected: object" },
        { "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"bogus\": 1}}",
          "Parameter 'bogus' is unexpected" },
        { "{\"execute\": \"x-noargs\", \"arguments\": {\"a\": 1}}",
          "Parameter 'a' is unexpected" },
        { "{\"execute\": \"query-version\", \"arguments\": {\"a\": 1}}",
          "Parameter 'a' is unexpected" },
        { "{\"execute\": \"x-add\", \"arguments\": {\"id\": \"d\"}}",
          "Parameter 'driver' is missing" },
        { "{\"execute\": \"x-echo\", \"arguments\": [1]}",
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\": 1}",
          "QMP input member 'execute' must be a string" },
        { "{\"arguments\": {}}",
          "QMP input lacks member 'execute'" },
        { "{}",
          "QMP input lacks member 'execute'" },
        { "{\"execute\": \"query-version\", \"foo\": 1}",
          "QMP input member 'foo' is unexpected" },
        { "{\"exec-oob\": \"query-version\"}",
          "QMP input member 'exec-oob' is unexpected" },
    };
    QmpFixture f;
    qf_setup(&f);
    register_test_commands(f.qmp);
    QmpClient *c = qc_connect_ready(f.path);
    json_t *r;

    CHECK(c);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];

        snprintf(line, sizeof(line), "%s\n", cases[i].req);
        r = qc_cmd(c, line);
        if (!qc_is_error(r, "GenericError", cases[i].desc)) {
            printf("# case %zu: %s\n", i, cases[i].req);
            pv_test_failures++;
        }
        json_decref(r);
    }

    /* The id comes back even when the request is refused. */
    r = qc_cmd(c, "{\"execute\": \"x-echo\", \"id\": \"q\"}\n");
    CHECK(qc_is_error(r, "GenericError", "Parameter 'id' is missing"));
    CHECK(!strcmp(json_string_value(json_object_get(r, "id")) ?: "", "q"));
    json_decref(r);

    /* Good ones reach the handler with their arguments. */
    r = qc_cmd(c, "{\"execute\": \"x-echo\", \"arguments\": {\"id\": \"a\", \"count\": 3,"
                  " \"force\": true, \"ratio\": 2, \"opts\": {\"k\": 1}}}\n");
    CHECK(eq_new(qc_return(r), json_pack("{s:s,s:i,s:b,s:i,s:{s:i}}", "id", "a", "count", 3,
                                             "force", 1, "ratio", 2, "opts", "k", 1)));
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"x-add\", \"arguments\": {\"driver\": \"testdev\","
                  " \"id\": \"t0\", \"anything\": [1]}}\n");
    CHECK(eq_new(qc_return(r), json_pack("{s:s,s:s,s:[i]}", "driver", "testdev", "id", "t0",
                                             "anything", 1)));
    json_decref(r);
    r = qc_cmd(c, "{\"execute\": \"x-noargs\"}\n");
    CHECK(qc_return(r) && json_object_size(qc_return(r)) == 0);
    json_decref(r);
    qc_close(c);
    qf_teardown(&f);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_non_object_input(void)
{
    static const char *inputs[] = {
        "[1, 2]\n", "42\n", "\"execute\"\n", "true\n", "null\n", "[]\n",
    };
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect_ready(f.path);

    CHECK(c);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        json_t *r = qc_cmd(c, inputs[i]);

        CHECK(qc_is_error(r, "GenericError", "QMP input must be a JSON object"));
        CHECK(!json_object_get(r, "id"));
        json_decref(r);
    }
    CHECK(still_works(c));
    qc_close(c);
    qf_teardown(&f);
}

static bool starts_with(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

static void test_malformed_json(void)
{
    static const char *inputs[] = {
        "{\"execute\": }\n",
        "{'execute': 'query-version'}\n",
        "{\"execute\" \"query-version\"}\n",
        "{\"execute\": \"query-version\",}\n",
        "{\"a\": 1, \"a\": 2}\n",
        "[1, 2}\n",
        "nonsense\n",
        "{\"execute\": \"bad\x01string\"}\n",
    };
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect_ready(f.path);
    json_t *r;

    CHECK(c);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        r = qc_cmd(c, inputs[i]);
        CHECK(qc_is_error(r, "GenericError", NULL));
        if (!starts_with(json_string_value(json_object_get(json_object_get(r, "error"), "desc")),
                         "JSON parse error, ")) {
            printf("# input %zu\n", i);
            pv_test_failures++;
        }
        json_decref(r);
        /* And the very next command on the same connection works. */
        CHECK(still_works(c));
    }
    /* A stray closer. */
    r = qc_cmd(c, "}\n");
    CHECK(qc_is_error(r, "GenericError", "JSON parse error, expecting value"));
    json_decref(r);
    CHECK(still_works(c));
    qc_close(c);
    qf_teardown(&f);
}

static void test_stream_framing(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect_ready(f.path);
    json_t *r;

    CHECK(c);
    /* One object in pieces, with pauses so that they are separate reads. */
    CHECK(qc_send(c, "{\"execute\": \"que"));
    usleep(20000);
    CHECK(qc_send(c, "ry-version\", \"id\""));
    usleep(20000);
    CHECK(qc_send(c, ": 1}"));
    r = qc_reply(c);
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 1);
    json_decref(r);
    /* Several in one write, without newlines; replies in order. */
    CHECK(qc_send(c, "{\"execute\": \"query-version\", \"id\": 2}"
                     "{\"execute\": \"nope\", \"id\": 3}  "
                     "{\"execute\": \"query-commands\", \"id\": 4}\r\n"));
    r = qc_reply(c);
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 2);
    json_decref(r);
    r = qc_reply(c);
    CHECK(qc_is_error(r, "CommandNotFound", "The command nope has not been found"));
    CHECK(json_integer_value(json_object_get(r, "id")) == 3);
    json_decref(r);
    r = qc_reply(c);
    CHECK(json_is_array(qc_return(r)) && json_integer_value(json_object_get(r, "id")) == 4);
    json_decref(r);
    /* Pretty-printed input (newlines inside the object). */
    r = qc_cmd(c, "{\n  \"execute\": \"query-version\",\n  \"id\": 5\n}\n");
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 5);
    json_decref(r);
    qc_close(c);
    qf_teardown(&f);
}

static void test_oversized_message(void)
{
    size_t big = 3 * QMP_MAX_MESSAGE;
    char *msg = malloc(big + 128);
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect_ready(f.path);
    json_t *r;
    int n;

    CHECK(c && msg);
    if (!c || !msg) {
        /* GCC's -Warray-bounds under ASan also wants the NULL case gone. */
        abort();
    }
    n = sprintf(msg, "{\"execute\": \"query-version\", \"arguments\": {\"x\": \"");
    memset(msg + n, 'A', big);
    strcpy(msg + n + big, "\"}, \"id\": 1}\n");
    CHECK(qc_send(c, msg));
    r = qc_reply(c);
    CHECK(qc_is_error(r, "GenericError", "JSON message size limit exceeded"));
    json_decref(r);
    /* Reported once, the rest skipped, and the session goes on. */
    CHECK(still_works(c));
    CHECK(qc_quiet(c, 50));
    /* The session's buffer never grew past the limit. */
    pv_mutex_lock(&f.qmp->lock);
    for (QmpSession *s = f.qmp->sessions; s; s = s->next) {
        CHECK(s->stream.cap <= QMP_MAX_MESSAGE);
    }
    pv_mutex_unlock(&f.qmp->lock);
    free(msg);
    qc_close(c);
    qf_teardown(&f);
}

static void test_disconnect_mid_message(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *a = qc_connect_ready(f.path);
    QmpClient *b = qc_connect_ready(f.path);

    CHECK(a && b);
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 2, 2000));
    CHECK(qc_send(a, "{\"execute\": \"query-ver"));
    usleep(20000);
    qc_close(a);
    /* Its session goes away; the other one does not notice. */
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 1, 2000));
    CHECK(still_works(b));
    /* A client that sends a whole command and hangs up at once. */
    QmpClient *c = qc_connect(f.path);
    CHECK(c && qc_send(c, "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-"));
    qc_close(c);
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 1, 2000));
    CHECK(still_works(b));
    qc_close(b);
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 0, 2000));
    qf_teardown(&f);
}

static void test_half_close_gets_answers(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *c = qc_connect(f.path);
    json_t *r;

    /* What `echo ... | socat - UNIX:...` does: send, shut down writing,
     * read to the end. */
    CHECK(c && qc_send(c, "{\"execute\": \"qmp_capabilities\"}\n"
                          "{\"execute\": \"query-version\", \"id\": 9}\n"));
    shutdown(c->wfd, SHUT_WR);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(json_object_get(r, "QMP"));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 9);
    json_decref(r);
    /* Then the monitor closes its end. */
    CHECK(qc_recv(c, QC_TIMEOUT_MS) == NULL);
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 0, 2000));
    qc_close(c);
    qf_teardown(&f);
}

static void test_two_clients(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *a = qc_connect_ready(f.path);
    QmpClient *b = qc_connect_ready(f.path);
    QmpClient *late = qc_connect(f.path);   /* never negotiates */
    json_t *r;

    CHECK(a && b && late);
    json_decref(qc_recv(late, QC_TIMEOUT_MS));
    /* Interleaved: each gets its own replies. */
    CHECK(qc_send(a, "{\"execute\": \"query-version\", \"id\": \"a1\"}\n"));
    CHECK(qc_send(b, "{\"execute\": \"query-version\", \"id\": \"b1\"}\n"));
    r = qc_reply(b);
    CHECK(!strcmp(json_string_value(json_object_get(r, "id")) ?: "", "b1"));
    json_decref(r);
    r = qc_reply(a);
    CHECK(!strcmp(json_string_value(json_object_get(r, "id")) ?: "", "a1"));
    json_decref(r);
    /* One negotiating does not negotiate the other. */
    r = qc_cmd(late, QV);
    CHECK(qc_is_error(r, "CommandNotFound", NULL));
    json_decref(r);

    /* Events reach negotiated sessions only. */
    pv_qmp_event(f.qmp, "STOP", NULL);
    r = qc_recv(a, QC_TIMEOUT_MS);
    CHECK(!strcmp(json_string_value(json_object_get(r, "event")) ?: "", "STOP"));
    CHECK(!json_object_get(r, "data"));
    json_decref(r);
    r = qc_recv(b, QC_TIMEOUT_MS);
    CHECK(!strcmp(json_string_value(json_object_get(r, "event")) ?: "", "STOP"));
    json_decref(r);
    CHECK(qc_quiet(late, 50));
    qc_close(a);
    qc_close(b);
    qc_close(late);
    qf_teardown(&f);
}

/* Generated bad input: valid messages with random bytes changed, and
 * random bytes.  Every answer must be a well-formed reply; the monitor must
 * neither crash nor stop serving (ASan/UBSan builds check the memory). */
static void test_generated_garbage(void)
{
    static const char *templates[] = {
        "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
        "{\"execute\": \"query-version\", \"id\": [1, {\"a\": \"\\u00e9\\n\"}]}",
        "{\"execute\": \"query-commands\", \"arguments\": {}, \"id\": -1.5e3}",
        "[{\"execute\": null}, true, false, \"x\"]",
    };
    QmpFixture f;
    qf_setup(&f);
    unsigned seed = 12345;
    int replies = 0, bad = 0;

    for (int round = 0; round < 20; round++) {
        QmpClient *c = qc_connect_ready(f.path);

        CHECK(c != NULL);
        if (!c) {
            break;
        }
        for (int i = 0; i < 50; i++) {
            char msg[256];
            json_t *r;
            size_t len;

            snprintf(msg, sizeof(msg), "%s", templates[rand_r(&seed) % 4]);
            len = strlen(msg);
            if (round % 5 == 4) {
                /* Pure noise. */
                for (size_t k = 0; k < len; k++) {
                    msg[k] = (char)(rand_r(&seed) % 255 + 1);
                }
            } else {
                for (int m = rand_r(&seed) % 4 + 1; m > 0; m--) {
                    msg[rand_r(&seed) % len] = "{}[]\",:\\ ax0\x01\xff"[rand_r(&seed) % 15];
                }
            }
            CHECK(qc_send(c, msg) && qc_send(c, "\n"));
            while ((r = qc_recv(c, 0))) {
                replies++;
                if (!json_is_object(r) ||
                    (!json_object_get(r, "return") && !json_object_get(r, "error"))) {
                    bad++;
                }
                json_decref(r);
            }
        }
        qc_close(c);
    }
    CHECK_EQ_U64(bad, 0);
    CHECK(replies > 0);
    printf("# %d replies to generated input\n", replies);
    QmpClient *c = qc_connect_ready(f.path);
    CHECK(c && still_works(c));
    qc_close(c);
    qf_teardown(&f);
}

/* ---- servers and specs ----------------------------------------------------- */

static void test_spec_errors(void)
{
    static const struct {
        const char *spec;
        const char *msg;
    } cases[] = {
        { "tcp:localhost:4444,server=on", "parvm supports" },
        { "unix:", "needs a path" },
        { "unix:/tmp/x,bogus=1", "Invalid parameter 'bogus'" },
        { "unix:/tmp/x,server=maybe", "Parameter 'server' expects 'on' or 'off'" },
        { "unix:/nonexistent-dir/parvm.sock", "Failed to connect" },
        { "unix:/nonexistent-dir/parvm.sock,server=on,wait=off", "Failed to bind" },
    };
    QmpFixture f;
    qf_setup(&f);
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        CHECK(pv_qmp_listen(f.qmp, cases[i].spec, err, sizeof(err)) == -1);
        if (!strstr(err, cases[i].msg)) {
            printf("# %s: \"%s\"\n", cases[i].spec, err);
            pv_test_failures++;
        }
    }
    qf_teardown(&f);
}

static void test_second_server_and_comma_path(void)
{
    QmpFixture f;
    qf_setup(&f);
    char path[108], spec[256], err[256];

    /* A ',' in the path is written ",,"; the old ",server,nowait" works. */
    snprintf(path, sizeof(path), "/tmp/parvm-qmp,%d.sock", (int)getpid());
    snprintf(spec, sizeof(spec), "unix:/tmp/parvm-qmp,,%d.sock,server,nowait", (int)getpid());
    CHECK(pv_qmp_listen(f.qmp, spec, err, sizeof(err)) == 0);
    QmpClient *c = qc_connect_ready(path);
    CHECK(c && still_works(c));
    qc_close(c);
    qf_teardown(&f);
    /* The socket files are removed with the monitor. */
    CHECK(access(path, F_OK) != 0);
}

typedef struct Connector {
    char path[108];
    QmpClient *c;
} Connector;

static void *connect_later(void *arg)
{
    Connector *k = arg;

    for (int i = 0; i < 2000 && !k->c; i++) {
        usleep(1000);
        k->c = qc_connect(k->path);
    }
    return NULL;
}

static void test_wait_on(void)
{
    QmpFixture f;
    qf_setup(&f);
    Connector k = { .c = NULL };
    char spec[200], err[256];
    pthread_t t;

    snprintf(k.path, sizeof(k.path), "%s.w", f.path);
    snprintf(spec, sizeof(spec), "unix:%s,server=on", k.path);
    CHECK(pthread_create(&t, NULL, connect_later, &k) == 0);
    /* Blocks until the first client is there, as QEMU's wait=on. */
    CHECK(pv_qmp_listen(f.qmp, spec, err, sizeof(err)) == 0);
    pthread_join(t, NULL);
    CHECK(k.c != NULL);
    if (k.c) {
        json_t *g = qc_recv(k.c, QC_TIMEOUT_MS);
        CHECK(json_object_get(g, "QMP"));
        json_decref(g);
        qc_close(k.c);
    }
    qf_teardown(&f);
}

static void test_client_mode(void)
{
    QmpFixture f;
    qf_setup(&f);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char spec[200], err[256];
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

    /* server=off: the monitor connects to a listening manager. */
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.mgr", f.path);
    unlink(addr.sun_path);
    CHECK(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(lfd, 1) == 0);
    snprintf(spec, sizeof(spec), "unix:%s,server=off", addr.sun_path);
    CHECK(pv_qmp_listen(f.qmp, spec, err, sizeof(err)) == 0);
    int cfd = accept(lfd, NULL, NULL);
    QmpClient *c = qc_from_fds(cfd, cfd);
    json_t *g = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(json_object_get(g, "QMP"));
    json_decref(g);
    json_decref(qc_cmd(c, "{\"execute\": \"qmp_capabilities\"}\n"));
    CHECK(still_works(c));
    qc_close(c);
    close(lfd);
    unlink(addr.sun_path);
    qf_teardown(&f);
}

static void test_fd_pair_session(void)
{
    QmpFixture f;
    qf_setup(&f);
    int in[2], out[2];

    /* What -qmp stdio runs on: separate input and output fds, pipes. */
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    CHECK(pv_qmp_add_client(f.qmp, in[0], out[1]) == 0);
    QmpClient *c = qc_from_fds(out[0], in[1]);
    json_t *g = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(json_object_get(g, "QMP"));
    json_decref(g);
    json_decref(qc_cmd(c, "{\"execute\": \"qmp_capabilities\"}\n"));
    CHECK(still_works(c));
    qc_close(c);
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 0, 2000));
    qf_teardown(&f);
}

static void test_regular_file_input(void)
{
    QmpFixture f;
    qf_setup(&f);
    char path[] = "/tmp/parvm-qmp-in-XXXXXX";
    int fd = mkstemp(path), out[2];
    static const char script[] = "{\"execute\": \"qmp_capabilities\"}\n"
                                 "{\"execute\": \"query-version\", \"id\": 1}\n";
    json_t *r;

    /* `parvm -qmp stdio < script`: epoll cannot watch a regular file. */
    CHECK(fd >= 0 && write(fd, script, sizeof(script) - 1) == (ssize_t)sizeof(script) - 1);
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    CHECK(pipe(out) == 0);
    CHECK(pv_qmp_add_client(f.qmp, fd, out[1]) == 0);
    QmpClient *c = qc_from_fds(out[0], out[0]);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(json_object_get(r, "QMP"));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 1);
    json_decref(r);
    /* End of the file ends the session. */
    CHECK(qc_recv(c, QC_TIMEOUT_MS) == NULL);
    qc_close(c);
    qf_teardown(&f);
}

PV_TEST_MAIN(TEST(test_greeting), TEST(test_negotiation_required),
             TEST(test_builtin_commands), TEST(test_unknown_command),
             TEST(test_bad_arguments), TEST(test_non_object_input),
             TEST(test_malformed_json), TEST(test_stream_framing),
             TEST(test_oversized_message), TEST(test_disconnect_mid_message),
             TEST(test_half_close_gets_answers), TEST(test_two_clients),
             TEST(test_generated_garbage),
             TEST(test_spec_errors), TEST(test_second_server_and_comma_path),
             TEST(test_wait_on), TEST(test_client_mode), TEST(test_fd_pair_session),
             TEST(test_regular_file_input))
