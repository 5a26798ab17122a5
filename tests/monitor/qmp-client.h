/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A blocking QMP client for tests, over a real Unix socket (or any fd
 * pair), and a fixture with a started event loop and a monitor listening
 * on a fresh socket path.  Every wait has a timeout, so a broken monitor
 * fails a test instead of hanging it.
 */
#ifndef PARVM_TEST_QMP_CLIENT_H
#define PARVM_TEST_QMP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "parvm/event-loop.h"
#include "parvm/qmp.h"

#define QC_TIMEOUT_MS 5000

typedef struct QmpClient {
    int rfd, wfd;
    char buf[256 * 1024];
    size_t len;
    unsigned events_skipped;    /* by qc_reply() */
} QmpClient;

typedef struct QmpFixture {
    PvEventLoop *loop;
    PvQmp *qmp;
    char path[80];      /* leaves room for suffixes within sun_path */
} QmpFixture;

void qf_setup(QmpFixture *f);
void qf_teardown(QmpFixture *f);

/* Connect to @path; NULL on failure. */
QmpClient *qc_connect(const char *path);
/* A client on an fd pair (both owned by the client). */
QmpClient *qc_from_fds(int rfd, int wfd);
void qc_close(QmpClient *c);
/* Connect, read the greeting, negotiate; NULL on failure. */
QmpClient *qc_connect_ready(const char *path);

/* Send raw bytes. */
bool qc_send(QmpClient *c, const char *text);
/* Next JSON line, or NULL (timeout, EOF, or a line that is not JSON). */
json_t *qc_recv(QmpClient *c, int timeout_ms);
/* Next message that is not an event (events are counted and dropped). */
json_t *qc_reply(QmpClient *c);
/* Send @text and return the reply. */
json_t *qc_cmd(QmpClient *c, const char *text);
/* True when nothing arrives within @ms. */
bool qc_quiet(QmpClient *c, int ms);

/* The error reply's class and desc match (NULL desc: any). */
bool qc_is_error(json_t *resp, const char *cls, const char *desc);
/* The reply is {"return": ...}; returns the value (borrowed) or NULL. */
json_t *qc_return(json_t *resp);

/* Wait up to @ms for @cond, sleeping between looks. */
#define QC_WAIT_FOR(cond, ms)                                                   \
    __extension__({                                                             \
        int left_ = (ms);                                                       \
        bool ok_;                                                               \
        while (!(ok_ = (cond)) && left_-- > 0) {                                \
            usleep(1000);                                                       \
        }                                                                       \
        ok_;                                                                    \
    })

#endif
