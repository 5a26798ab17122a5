/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor and other threads: events emitted from several threads at
 * once (holding device locks, as vCPU threads do) reaching every session
 * whole and in each thread's order; replies completed later from another
 * thread; clients and the monitor itself going away while a reply is
 * outstanding.  Meant for ThreadSanitizer and the lock validator.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "parvm/lock.h"
#include "qmp-client.h"
#include "qmp-internal.h"

static PvLockClass fake_device_class = PV_LOCK_CLASS_INIT("qmp-test-device", PV_LOCK_KIND_DEVICE);

static size_t session_count(PvQmp *qmp)
{
    size_t n = 0;

    pv_mutex_lock(&qmp->lock);
    for (QmpSession *s = qmp->sessions; s; s = s->next) {
        n++;
    }
    pv_mutex_unlock(&qmp->lock);
    return n;
}

/* ---- events from many threads ------------------------------------------- */

#define EMITTERS 4
#define EVENTS_EACH 250

typedef struct Emitter {
    PvQmp *qmp;
    int index;
    PvMutex dev_lock;
} Emitter;

static void *emit_events(void *arg)
{
    Emitter *e = arg;

    for (int i = 0; i < EVENTS_EACH; i++) {
        /* As a vCPU thread would: inside a device's lock. */
        pv_mutex_lock(&e->dev_lock);
        pv_qmp_event(e->qmp, "X-TEST", json_pack("{s:i,s:i}", "thread", e->index, "seq", i));
        pv_mutex_unlock(&e->dev_lock);
    }
    return NULL;
}

/* Check one event's shape against QEMU's; returns its thread or -1. */
static int check_event(json_t *ev, int *seq, int64_t now)
{
    json_t *ts = json_object_get(ev, "timestamp");
    json_t *data = json_object_get(ev, "data");
    json_int_t sec = json_integer_value(json_object_get(ts, "seconds"));
    json_int_t usec = json_integer_value(json_object_get(ts, "microseconds"));

    if (json_object_size(ev) != 3 || json_object_size(ts) != 2 ||
        !json_is_integer(json_object_get(ts, "seconds")) ||
        !json_is_integer(json_object_get(ts, "microseconds")) ||
        usec < 0 || usec >= 1000000 || sec < now - 60 || sec > now + 60 ||
        strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "X-TEST") != 0 ||
        json_object_size(data) != 2) {
        return -1;
    }
    *seq = (int)json_integer_value(json_object_get(data, "seq"));
    return (int)json_integer_value(json_object_get(data, "thread"));
}

static void test_events_from_threads(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *cl[2] = { qc_connect_ready(f.path), qc_connect_ready(f.path) };
    Emitter em[EMITTERS];
    pthread_t t[EMITTERS];
    struct timeval tv;

    CHECK(cl[0] && cl[1]);
    gettimeofday(&tv, NULL);
    for (int i = 0; i < EMITTERS; i++) {
        em[i].qmp = f.qmp;
        em[i].index = i;
        pv_mutex_init(&em[i].dev_lock, &fake_device_class);
        CHECK(pthread_create(&t[i], NULL, emit_events, &em[i]) == 0);
    }
    for (int c = 0; c < 2; c++) {
        int next[EMITTERS] = { 0 };
        int bad = 0;

        for (int n = 0; n < EMITTERS * EVENTS_EACH; n++) {
            json_t *ev = qc_recv(cl[c], QC_TIMEOUT_MS);
            int seq = -1, th = ev ? check_event(ev, &seq, tv.tv_sec) : -1;

            if (th < 0 || th >= EMITTERS || seq != next[th]) {
                bad++;
            } else {
                next[th]++;
            }
            json_decref(ev);
            if (!ev) {
                break;
            }
        }
        CHECK_EQ_U64(bad, 0);
        for (int i = 0; i < EMITTERS; i++) {
            CHECK_EQ_U64(next[i], EVENTS_EACH);
        }
        CHECK(qc_quiet(cl[c], 20));
    }
    for (int i = 0; i < EMITTERS; i++) {
        pthread_join(t[i], NULL);
        pv_mutex_destroy(&em[i].dev_lock);
    }
    qc_close(cl[0]);
    qc_close(cl[1]);
    qf_teardown(&f);
}

/* ---- replies completed by another thread -------------------------------- */

typedef struct Worker {
    pthread_mutex_t m;
    pthread_cond_t cv;
    PvQmpReply *pending;
    bool error;
    bool stop;
    PvQmp *qmp;
    PvMutex dev_lock;
    atomic_int started;
    pthread_t thread;
} Worker;

/* The handler only hands the token over: it returns at once. */
static void slow_handler(PvQmpReply *reply, json_t *args, void *opaque)
{
    Worker *w = opaque;

    pthread_mutex_lock(&w->m);
    w->pending = reply;
    w->error = json_is_true(json_object_get(args, "fail"));
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
    atomic_fetch_add(&w->started, 1);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;

    pthread_mutex_lock(&w->m);
    for (;;) {
        while (!w->pending && !w->stop) {
            pthread_cond_wait(&w->cv, &w->m);
        }
        if (!w->pending) {
            break;
        }
        PvQmpReply *r = w->pending;
        bool error = w->error;
        w->pending = NULL;
        pthread_mutex_unlock(&w->m);

        usleep(50000);      /* "the vCPUs park" */
        pv_mutex_lock(&w->dev_lock);
        pv_qmp_event(w->qmp, "X-DURING", NULL);
        if (error) {
            pv_qmp_reply_error(r, PV_QMP_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", "d0");
        } else {
            pv_qmp_reply_return(r, json_pack("{s:b}", "done", 1));
        }
        pv_mutex_unlock(&w->dev_lock);
        pthread_mutex_lock(&w->m);
    }
    pthread_mutex_unlock(&w->m);
    return NULL;
}

static void worker_start(Worker *w, PvQmp *qmp)
{
    static const PvQmpArg args[] = {
        { .name = "fail", .type = PV_QMP_TYPE_BOOL, .optional = true },
        { .name = NULL },
    };

    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->cv, NULL);
    pv_mutex_init(&w->dev_lock, &fake_device_class);
    w->qmp = qmp;
    CHECK(pv_qmp_register_args(qmp, "x-slow", args, 0, slow_handler, w) == 0);
    CHECK(pthread_create(&w->thread, NULL, worker_main, w) == 0);
}

static void worker_stop(Worker *w)
{
    pthread_mutex_lock(&w->m);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->m);
    pv_mutex_destroy(&w->dev_lock);
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key)) ?: "";
}

static void test_reply_from_other_thread(void)
{
    QmpFixture f;
    qf_setup(&f);
    Worker w;
    worker_start(&w, f.qmp);
    QmpClient *c = qc_connect_ready(f.path);
    QmpClient *other = qc_connect_ready(f.path);
    json_t *r;

    CHECK(c && other);
    /* The second command waits for the first one's reply, as in QEMU;
     * the event the worker emits first arrives first. */
    CHECK(qc_send(c, "{\"execute\": \"x-slow\", \"id\": 1}\n"
                     "{\"execute\": \"query-version\", \"id\": 2}\n"));
    /* Meanwhile other sessions are served. */
    CHECK(QC_WAIT_FOR(atomic_load(&w.started) == 1, 2000));
    r = qc_cmd(other, "{\"execute\": \"query-version\", \"id\": \"o\"}\n");
    CHECK(qc_return(r) && !strcmp(str_of(r, "id"), "o"));
    json_decref(r);

    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(!strcmp(str_of(r, "event"), "X-DURING"));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(json_is_true(json_object_get(qc_return(r), "done")));
    CHECK(json_integer_value(json_object_get(r, "id")) == 1);
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 2);
    json_decref(r);

    /* An error completed from the other thread. */
    r = qc_cmd(c, "{\"execute\": \"x-slow\", \"arguments\": {\"fail\": true}, \"id\": 3}\n");
    CHECK(qc_is_error(r, "DeviceNotFound", "Device 'd0' not found"));
    CHECK(json_integer_value(json_object_get(r, "id")) == 3);
    CHECK_EQ_U64(c->events_skipped, 1);
    json_decref(r);

    qc_close(c);
    qc_close(other);
    qf_teardown(&f);
    worker_stop(&w);
}

static void test_disconnect_with_reply_pending(void)
{
    QmpFixture f;
    qf_setup(&f);
    Worker w;
    worker_start(&w, f.qmp);
    QmpClient *c = qc_connect_ready(f.path);
    QmpClient *other = qc_connect_ready(f.path);

    CHECK(c && other);
    CHECK(qc_send(c, "{\"execute\": \"x-slow\", \"id\": 1}\n"));
    CHECK(QC_WAIT_FOR(atomic_load(&w.started) == 1, 2000));
    qc_close(c);
    /* The reply goes nowhere; the session is cleaned up once it is done. */
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 1, 3000));
    json_t *r = qc_cmd(other, "{\"execute\": \"query-version\"}\n");
    CHECK(qc_return(r));
    json_decref(r);
    qc_close(other);
    qf_teardown(&f);
    worker_stop(&w);
}

/* ---- the monitor going away ------------------------------------------------ */

typedef struct Stash {
    _Atomic(PvQmpReply *) reply;
} Stash;

static void stash_handler(PvQmpReply *reply, json_t *args, void *opaque)
{
    Stash *s = opaque;

    (void)args;
    atomic_store(&s->reply, reply);
}

static void test_free_with_reply_pending(void)
{
    QmpFixture f;
    qf_setup(&f);
    Stash s = { NULL };
    QmpClient *c;

    CHECK(pv_qmp_register(f.qmp, "x-stash", stash_handler, &s) == 0);
    c = qc_connect_ready(f.path);
    CHECK(c && qc_send(c, "{\"execute\": \"x-stash\"}\n"));
    CHECK(QC_WAIT_FOR(atomic_load(&s.reply) != NULL, 2000));
    /* The monitor goes first; the token is completed afterwards and
     * dropped (ASan: nothing used after free, nothing leaked). */
    pv_qmp_free(f.qmp);
    if (atomic_load(&s.reply)) {
        pv_qmp_reply_return(atomic_load(&s.reply), json_string("late"));
    }
    /* The client saw its connection closed without a reply. */
    CHECK(qc_recv(c, QC_TIMEOUT_MS) == NULL);
    qc_close(c);
    pv_event_loop_free(f.loop);
}

static void test_quit_is_answered(void)
{
    QmpFixture f;
    qf_setup(&f);
    Stash s = { NULL };
    QmpClient *c;
    json_t *r;

    CHECK(pv_qmp_register(f.qmp, "x-quit", stash_handler, &s) == 0);
    c = qc_connect_ready(f.path);
    CHECK(c && qc_send(c, "{\"execute\": \"x-quit\", \"id\": \"bye\"}\n"));
    CHECK(QC_WAIT_FOR(atomic_load(&s.reply) != NULL, 2000));
    /* What the board's quit does: answer, announce, tear down at once. */
    if (atomic_load(&s.reply)) {
        pv_qmp_reply_return(atomic_load(&s.reply), NULL);
    }
    pv_qmp_event(f.qmp, "SHUTDOWN", json_pack("{s:b,s:s}", "guest", 0, "reason", "host-qmp-quit"));
    pv_qmp_free(f.qmp);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(qc_return(r) && !strcmp(str_of(r, "id"), "bye"));
    json_decref(r);
    r = qc_recv(c, QC_TIMEOUT_MS);
    CHECK(!strcmp(str_of(r, "event"), "SHUTDOWN"));
    CHECK(!strcmp(str_of(json_object_get(r, "data"), "reason"), "host-qmp-quit"));
    json_decref(r);
    CHECK(qc_recv(c, QC_TIMEOUT_MS) == NULL);
    qc_close(c);
    pv_event_loop_free(f.loop);
}

/* ---- clients coming and going while events flow ----------------------------- */

typedef struct Churn {
    PvQmp *qmp;
    atomic_bool stop;
} Churn;

static void *churn_events(void *arg)
{
    Churn *ch = arg;

    while (!atomic_load(&ch->stop)) {
        pv_qmp_event(ch->qmp, "X-CHURN", json_pack("{s:s}", "x", "y"));
        usleep(200);
    }
    return NULL;
}

static void test_client_churn(void)
{
    QmpFixture f;
    qf_setup(&f);
    Churn ch = { .qmp = f.qmp };
    pthread_t t[2];

    atomic_init(&ch.stop, false);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&t[i], NULL, churn_events, &ch) == 0);
    }
    for (int i = 0; i < 30; i++) {
        QmpClient *c = qc_connect_ready(f.path);
        json_t *r;

        CHECK(c != NULL);
        if (!c) {
            break;
        }
        r = qc_cmd(c, "{\"execute\": \"query-version\"}\n");
        CHECK(qc_return(r));
        json_decref(r);
        if (i % 3 == 0) {
            /* Leave mid-message, events still queued for us. */
            qc_send(c, "{\"execute\":");
        }
        qc_close(c);
    }
    atomic_store(&ch.stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK(QC_WAIT_FOR(session_count(f.qmp) == 0, 3000));
    qf_teardown(&f);
}

/* ---- a client that does not read ---------------------------------------------- */

static void test_client_that_does_not_read(void)
{
    QmpFixture f;
    qf_setup(&f);
    QmpClient *deaf = qc_connect_ready(f.path);
    QmpClient *c = qc_connect_ready(f.path);
    char pad[201];
    int sent = 0;

    CHECK(deaf && c);
    memset(pad, 'p', 200);
    pad[200] = '\0';
    /* More than QMP_MAX_OUTPUT of events: the deaf client is dropped
     * instead of having its output buffered without bound.  The other
     * one reads along and stays. */
    while (session_count(f.qmp) == 2 && sent < 200000) {
        pv_qmp_event(f.qmp, "X-FLOOD", json_pack("{s:s}", "pad", pad));
        sent++;
        if (sent % 256 == 0) {
            json_t *ev;

            while ((ev = qc_recv(c, 0))) {
                json_decref(ev);
            }
            usleep(1000);
        }
    }
    CHECK(session_count(f.qmp) == 1);
    CHECK(sent < 200000);
    /* Drain the rest of the flood, then the survivor still works. */
    json_t *r = qc_cmd(c, "{\"execute\": \"query-version\", \"id\": 1}\n");
    CHECK(qc_return(r) && json_integer_value(json_object_get(r, "id")) == 1);
    json_decref(r);
    qc_close(deaf);
    qc_close(c);
    qf_teardown(&f);
}

PV_TEST_MAIN(TEST(test_events_from_threads), TEST(test_reply_from_other_thread),
             TEST(test_disconnect_with_reply_pending), TEST(test_free_with_reply_pending),
             TEST(test_quit_is_answered), TEST(test_client_churn),
             TEST(test_client_that_does_not_read))
