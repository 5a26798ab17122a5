/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Splitting a byte stream into JSON messages (QMP input).
 *
 * QMP clients send JSON values one after another; newlines are customary
 * but not required, a value may arrive split across reads and several may
 * arrive in one.  This finds where each top-level value ends by tracking
 * only nesting and strings; jansson then parses exactly that text, so a
 * malformed message costs one error reply and the next one starts clean.
 *
 * Memory is bounded: a value longer than the limit is not buffered but
 * skipped to its end (nesting is still tracked) and reported once.
 *
 * Single-threaded: a stream belongs to one session on the I/O thread.
 */
#ifndef PARVM_MONITOR_JSON_STREAM_H
#define PARVM_MONITOR_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum QmpStreamResult {
    QMP_STREAM_NEED_MORE,   /* all input consumed, no complete value yet */
    QMP_STREAM_MESSAGE,     /* a value is complete: qmp_stream_message() */
    QMP_STREAM_ERROR,       /* a framing error: qmp_stream_error() */
} QmpStreamResult;

typedef struct QmpStream {
    char *buf;              /* the value being collected */
    size_t len, cap;
    size_t max;             /* longest value kept */
    unsigned depth;         /* open '{' and '[' */
    int state;              /* see json-stream.c */
    bool in_string, escape;
    bool skipping;          /* over the limit: dropping bytes to the end */
    const char *error;
} QmpStream;

/* The description of an oversized value, for tests. */
#define QMP_STREAM_TOO_LONG "JSON message size limit exceeded"

void qmp_stream_init(QmpStream *s, size_t max);
void qmp_stream_destroy(QmpStream *s);
/* Forget a partial value (the peer went away). */
void qmp_stream_reset(QmpStream *s);

/*
 * Consume bytes of @data up to and including the end of the next value or
 * error, and say which; *@consumed is how many.  Call again with the rest.
 * QMP_STREAM_ERROR also when allocation fails.
 */
QmpStreamResult qmp_stream_feed(QmpStream *s, const char *data, size_t len,
                                size_t *consumed);

/* The complete value (not NUL-terminated), valid until the next feed. */
const char *qmp_stream_message(const QmpStream *s, size_t *len);
/* The last error's description (QEMU's wording where it has one). */
const char *qmp_stream_error(const QmpStream *s);

#endif
