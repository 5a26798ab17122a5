/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Framing QMP input: where does the next top-level JSON value end?
 *
 * Only three things matter for that: '{'/'[' open a level and '}'/']'
 * close one (a mismatched pair is jansson's to report), quotes open and
 * close strings (in which nothing else counts, and a backslash escapes the
 * next byte), and a bare top-level token (a number, a keyword or garbage)
 * ends at whitespace or punctuation.  Validating the text is left to the
 * parser.  This is what QEMU's json-streamer does with its lexer's tokens.
 */
#include "json-stream.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_IDLE,        /* between values */
    ST_STRUCT,      /* inside an object or array */
    ST_STRING,      /* inside a top-level string */
    ST_BARE,        /* inside a top-level bare token */
};

#define INITIAL_CAP 256

void qmp_stream_init(QmpStream *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
    s->state = ST_IDLE;
}

void qmp_stream_destroy(QmpStream *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = s->len = 0;
}

void qmp_stream_reset(QmpStream *s)
{
    s->len = 0;
    s->depth = 0;
    s->state = ST_IDLE;
    s->in_string = s->escape = s->skipping = false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool ends_bare_token(char c)
{
    return is_space(c) || (c != '\0' && strchr("{}[]\",:", c));
}

/*
 * Append @c to the value.  False exactly once per value: when it first
 * does not fit (over the limit, or out of memory); from then on the value
 * is skipped rather than stored.
 */
static bool put(QmpStream *s, char c)
{
    if (s->skipping) {
        return true;
    }
    if (s->len == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : INITIAL_CAP;
        char *nbuf;

        if (ncap > s->max) {
            ncap = s->max;
        }
        if (s->len >= ncap) {
            s->error = QMP_STREAM_TOO_LONG;
            s->skipping = true;
            return false;
        }
        nbuf = realloc(s->buf, ncap);
        if (!nbuf) {
            s->error = "JSON parse error, out of memory";
            s->skipping = true;
            return false;
        }
        s->buf = nbuf;
        s->cap = ncap;
    }
    s->buf[s->len++] = c;
    return true;
}

/* Start a value at @c; false if even one byte does not fit. */
static bool start(QmpStream *s, int state, char c)
{
    s->state = state;
    s->len = 0;
    s->depth = 0;
    s->in_string = s->escape = s->skipping = false;
    return put(s, c);
}

/* Inside a string: returns true at its closing quote. */
static bool string_byte(QmpStream *s, char c)
{
    if (s->escape) {
        s->escape = false;
    } else if (c == '\\') {
        s->escape = true;
    } else if (c == '"') {
        s->in_string = false;
        return true;
    }
    return false;
}

QmpStreamResult qmp_stream_feed(QmpStream *s, const char *data, size_t len,
                                size_t *consumed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char c = data[i];
        bool done = false;

        switch (s->state) {
        case ST_IDLE:
            if (is_space(c)) {
                continue;
            }
            if (c == '}' || c == ']') {
                /* What QEMU's parser says when a value cannot start here. */
                s->error = "JSON parse error, expecting value";
                *consumed = i + 1;
                return QMP_STREAM_ERROR;
            }
            if (c == '{' || c == '[') {
                if (!start(s, ST_STRUCT, c)) {
                    goto error;
                }
                s->depth = 1;
            } else if (c == '"') {
                if (!start(s, ST_STRING, c)) {
                    goto error;
                }
                s->in_string = true;
            } else if (!start(s, ST_BARE, c)) {
                goto error;
            }
            continue;

        case ST_BARE:
            if (ends_bare_token(c)) {
                /* @c belongs to whatever follows: look at it again. */
                s->state = ST_IDLE;
                if (!s->skipping) {
                    *consumed = i;
                    return QMP_STREAM_MESSAGE;
                }
                i--;
                continue;
            }
            if (!put(s, c)) {
                goto error;
            }
            continue;

        case ST_STRING:
            if (!put(s, c)) {
                goto error;
            }
            done = string_byte(s, c);
            break;

        case ST_STRUCT:
            if (!put(s, c)) {
                goto error;
            }
            if (s->in_string) {
                string_byte(s, c);
            } else if (c == '"') {
                s->in_string = true;
            } else if (c == '{' || c == '[') {
                s->depth++;
            } else if (c == '}' || c == ']') {
                done = --s->depth == 0;
            }
            break;
        }

        if (done) {
            s->state = ST_IDLE;
            if (!s->skipping) {
                *consumed = i + 1;
                return QMP_STREAM_MESSAGE;
            }
            /* The end of an oversized value, already reported. */
            s->skipping = false;
        }
        continue;

    error:
        *consumed = i + 1;
        return QMP_STREAM_ERROR;
    }
    *consumed = len;
    return QMP_STREAM_NEED_MORE;
}

const char *qmp_stream_message(const QmpStream *s, size_t *len)
{
    *len = s->len;
    return s->buf;
}

const char *qmp_stream_error(const QmpStream *s)
{
    return s->error;
}
