/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP input framer: values split across reads, several in one read,
 * strings and escapes that look like structure, bare top-level tokens,
 * stray closers, and oversized values skipped without being buffered.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json-stream.h"

typedef struct Out {
    char msgs[16][256];
    char errs[16][80];
    int nmsg, nerr;
} Out;

/* Feed @data in pieces of @piece bytes, collecting what comes out. */
static void feed(QmpStream *s, const char *data, size_t piece, Out *o)
{
    size_t len = strlen(data), off = 0;

    while (off < len) {
        size_t n = len - off < piece ? len - off : piece;
        size_t pos = 0;

        while (pos < n) {
            size_t used = 0;
            QmpStreamResult r = qmp_stream_feed(s, data + off + pos, n - pos, &used);

            pos += used;
            if (r == QMP_STREAM_MESSAGE) {
                size_t mlen;
                const char *m = qmp_stream_message(s, &mlen);

                if (o->nmsg < 16 && mlen < 256) {
                    memcpy(o->msgs[o->nmsg], m, mlen);
                    o->msgs[o->nmsg][mlen] = '\0';
                }
                o->nmsg++;
            } else if (r == QMP_STREAM_ERROR) {
                if (o->nerr < 16) {
                    strncpy(o->errs[o->nerr], qmp_stream_error(s), 79);
                }
                o->nerr++;
            } else {
                CHECK(pos == n);
            }
        }
        off += n;
    }
}

static void test_split_and_joined(void)
{
    static const char *input =
        "{\"execute\": \"a\", \"arguments\": {\"x\": [1, {\"y\": 2}]}}\n"
        "{\"execute\":\"b\"}{\"execute\":\"c\"}  \r\n";

    /* Every way of cutting the input gives the same three values. */
    for (size_t piece = 1; piece <= strlen(input); piece++) {
        QmpStream s;
        Out o = { 0 };

        qmp_stream_init(&s, 1024);
        feed(&s, input, piece, &o);
        CHECK_EQ_U64(o.nmsg, 3);
        CHECK_EQ_U64(o.nerr, 0);
        CHECK(!strcmp(o.msgs[0], "{\"execute\": \"a\", \"arguments\": {\"x\": [1, {\"y\": 2}]}}"));
        CHECK(!strcmp(o.msgs[1], "{\"execute\":\"b\"}"));
        CHECK(!strcmp(o.msgs[2], "{\"execute\":\"c\"}"));
        qmp_stream_destroy(&s);
    }
}

static void test_strings_hide_structure(void)
{
    QmpStream s;
    Out o = { 0 };

    qmp_stream_init(&s, 1024);
    feed(&s, "{\"a\": \"}]{[\\\"\\\\\", \"b\": \"\\\"}\"}\n", 3, &o);
    CHECK_EQ_U64(o.nmsg, 1);
    CHECK(!strcmp(o.msgs[0], "{\"a\": \"}]{[\\\"\\\\\", \"b\": \"\\\"}\"}"));
    qmp_stream_destroy(&s);
}

static void test_top_level_scalars(void)
{
    QmpStream s;
    Out o = { 0 };

    qmp_stream_init(&s, 1024);
    /* Bare tokens end at whitespace or punctuation; strings at their quote. */
    feed(&s, "42 true\n\"a b\"nul{}", 2, &o);
    /* "nul" is still open: it might go on. */
    CHECK_EQ_U64(o.nmsg, 5);
    CHECK(!strcmp(o.msgs[0], "42"));
    CHECK(!strcmp(o.msgs[1], "true"));
    CHECK(!strcmp(o.msgs[2], "\"a b\""));
    CHECK(!strcmp(o.msgs[3], "nul"));
    CHECK(!strcmp(o.msgs[4], "{}"));
    qmp_stream_destroy(&s);
}

static void test_stray_closer(void)
{
    QmpStream s;
    Out o = { 0 };

    qmp_stream_init(&s, 1024);
    feed(&s, "}\n] {\"x\":1}\n", 64, &o);
    CHECK_EQ_U64(o.nerr, 2);
    CHECK(!strcmp(o.errs[0], "JSON parse error, expecting value"));
    CHECK_EQ_U64(o.nmsg, 1);
    CHECK(!strcmp(o.msgs[0], "{\"x\":1}"));
    qmp_stream_destroy(&s);
}

static void test_oversized_is_skipped(void)
{
    size_t big = 10000;
    char *input = malloc(big + 64);
    QmpStream s;
    Out o = { 0 };

    /* A value of 10000 bytes with nesting and a '}' in a string, then a
     * small one; the limit is 100 bytes. */
    strcpy(input, "{\"a\": [{\"s\": \"}\"}, \"");
    memset(input + strlen(input), 'x', big);
    strcpy(input + 20 + big, "\"]}{\"ok\":1}\n");
    qmp_stream_init(&s, 100);
    feed(&s, input, 333, &o);
    CHECK_EQ_U64(o.nerr, 1);
    CHECK(!strcmp(o.errs[0], QMP_STREAM_TOO_LONG));
    CHECK_EQ_U64(o.nmsg, 1);
    CHECK(!strcmp(o.msgs[0], "{\"ok\":1}"));
    /* Never more than the limit buffered. */
    CHECK(s.cap <= 100);
    qmp_stream_destroy(&s);
    free(input);
}

static void test_reset_forgets_partial(void)
{
    QmpStream s;
    Out o = { 0 };

    qmp_stream_init(&s, 1024);
    feed(&s, "{\"execute\": \"qu", 64, &o);
    CHECK_EQ_U64(o.nmsg, 0);
    qmp_stream_reset(&s);
    feed(&s, "{\"b\":2}", 64, &o);
    CHECK_EQ_U64(o.nmsg, 1);
    CHECK(!strcmp(o.msgs[0], "{\"b\":2}"));
    qmp_stream_destroy(&s);
}

PV_TEST_MAIN(TEST(test_split_and_joined), TEST(test_strings_hide_structure),
             TEST(test_top_level_scalars), TEST(test_stray_closer),
             TEST(test_oversized_is_skipped), TEST(test_reset_forgets_partial))
