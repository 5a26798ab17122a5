/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The raw-file block backend (include/parvm/block.h), with both engines:
 * requests from several threads at once land in the file, callbacks run on
 * the I/O thread only, drain waits for every callback, flush / discard /
 * write-zeroes do what they say, read-only and out-of-range requests fail
 * through the callback, and close with requests in flight completes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "parvm/block.h"
#include "parvm/event-loop.h"
#include "parvm/rcu.h"

#define DISK (1u << 20)
#define SECT 512u

typedef struct Ctx {
    PvEventLoop *loop;
    atomic_uint calls;
    atomic_uint errors;
    atomic_bool wrong_thread;
} Ctx;

typedef struct Req {
    PvBlockReq r;
    Ctx *c;
    int ret;
    atomic_bool done;
    uint8_t buf[4 * SECT];
} Req;

static void req_cb(PvBlockReq *br, int ret)
{
    Req *q = br->opaque;
    Ctx *c = q->c;
    if (!pv_event_loop_in_io_thread(c->loop)) {
        atomic_store(&c->wrong_thread, true);
    }
    q->ret = ret;
    atomic_fetch_add(&c->calls, 1);
    if (ret) {
        atomic_fetch_add(&c->errors, 1);
    }
    atomic_store(&q->done, true);
}

static char *temp_disk(void)
{
    static char path[64];
    strcpy(path, "/tmp/parvm-blk-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, DISK) < 0) {
        abort();
    }
    close(fd);
    return path;
}

static void submit(PvBlock *b, Req *q, Ctx *c, PvBlockOp op, uint64_t off, uint64_t len)
{
    q->c = c;
    atomic_store(&q->done, false);
    q->r = (PvBlockReq){ .op = op, .offset = off, .len = len, .buf = q->buf, .cb = req_cb,
                         .opaque = q };
    pv_block_submit(b, &q->r);
}

/* Wait with no lock held; as a registered reader, offline meanwhile. */
static void drain(PvBlock *b)
{
    pv_rcu_offline();
    pv_block_drain(b);
    pv_rcu_online();
}

typedef struct Writer {
    PvBlock *b;
    Ctx *c;
    unsigned first;
    Req q[32];
} Writer;

static void *writer_fn(void *opaque)
{
    Writer *w = opaque;
    for (unsigned i = 0; i < 32; i++) {
        unsigned sector = (w->first + i) * 4;
        memset(w->q[i].buf, (int)(sector & 0xff) ^ 0x5a, sizeof(w->q[i].buf));
        submit(w->b, &w->q[i], w->c, PV_BLOCK_WRITE, (uint64_t)sector * SECT, 4 * SECT);
    }
    return NULL;
}

static void check_engine(PvBlockEngine engine)
{
    char *path = temp_disk();
    char err[256], note[256];
    Ctx c = { 0 };
    c.loop = pv_event_loop_new();
    CHECK(c.loop && pv_event_loop_start(c.loop) == 0);
    PvBlock *b = pv_block_open(c.loop, path, false, engine, err, sizeof(err), note, sizeof(note));
    CHECK(b != NULL);
    if (!b) {
        printf("# %s\n", err);
        return;
    }
    printf("# engine %s%s%s\n", pv_block_engine_name(b), note[0] ? ": " : "", note);
    CHECK_EQ_U64(pv_block_size(b), DISK);

    /* 4 threads x 32 writes of 4 sectors each, all in flight together. */
    static Writer w[4];
    pthread_t th[4];
    for (unsigned t = 0; t < 4; t++) {
        w[t] = (Writer){ .b = b, .c = &c, .first = t * 32 };
        pthread_create(&th[t], NULL, writer_fn, &w[t]);
    }
    for (unsigned t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
    }
    drain(b);
    CHECK_EQ_U64(atomic_load(&c.calls), 128);
    CHECK_EQ_U64(atomic_load(&c.errors), 0);
    CHECK(!atomic_load(&c.wrong_thread));

    /* The bytes are in the file, and reads through the backend agree. */
    int fd = open(path, O_RDONLY);
    uint8_t sec[SECT];
    static Req rq[128];
    for (unsigned s = 0; s < 128 * 4; s += 4) {
        CHECK(pread(fd, sec, SECT, (off_t)s * SECT + SECT) == SECT);
        CHECK(sec[0] == ((s & 0xff) ^ 0x5a) && sec[SECT - 1] == ((s & 0xff) ^ 0x5a));
        memset(rq[s / 4].buf, 0, sizeof(rq[0].buf));
        submit(b, &rq[s / 4], &c, PV_BLOCK_READ, (uint64_t)s * SECT, 4 * SECT);
    }
    drain(b);
    for (unsigned s = 0; s < 128 * 4; s += 4) {
        CHECK(rq[s / 4].ret == 0);
        CHECK(rq[s / 4].buf[3 * SECT + 7] == ((s & 0xff) ^ 0x5a));
    }

    /* Flush; write-zeroes and discard leave zeros behind. */
    Req f, z, d;
    submit(b, &f, &c, PV_BLOCK_FLUSH, 0, 0);
    submit(b, &z, &c, PV_BLOCK_WRITE_ZEROES, 8 * SECT, 4 * SECT);
    submit(b, &d, &c, PV_BLOCK_DISCARD, 64 * 1024, 64 * 1024);
    drain(b);
    CHECK(f.ret == 0 && z.ret == 0 && d.ret == 0);
    CHECK(pread(fd, sec, SECT, 9 * SECT) == SECT);
    CHECK(sec[0] == 0 && sec[SECT - 1] == 0);
    CHECK(pread(fd, sec, SECT, 64 * 1024 + 5 * SECT) == SECT);
    CHECK(sec[0] == 0 && sec[100] == 0);
    CHECK(pread(fd, sec, SECT, 12 * SECT) == SECT);
    CHECK(sec[0] == ((12 & 0xff) ^ 0x5a));      /* after the zeroed range */

    /* Out of range: refused through the callback, on the I/O thread. */
    Req oor, edge;
    submit(b, &oor, &c, PV_BLOCK_READ, DISK - SECT, 2 * SECT);
    submit(b, &edge, &c, PV_BLOCK_READ, DISK - SECT, SECT);
    drain(b);
    CHECK(oor.ret == -EINVAL);
    CHECK(edge.ret == 0);
    CHECK(!atomic_load(&c.wrong_thread));

    /* Close with requests in flight: each completes before close returns. */
    static Req many[128];
    unsigned before = atomic_load(&c.calls);
    for (unsigned i = 0; i < 128; i++) {
        submit(b, &many[i], &c, i & 1 ? PV_BLOCK_WRITE : PV_BLOCK_READ,
               (uint64_t)(i % 64) * 4 * SECT, 4 * SECT);
    }
    pv_rcu_offline();
    pv_block_close(b);
    pv_rcu_online();
    CHECK_EQ_U64(atomic_load(&c.calls) - before, 128);
    for (unsigned i = 0; i < 128; i++) {
        CHECK(atomic_load(&many[i].done));
    }

    /* Read-only: writes, discards and write-zeroes fail, reads work. */
    b = pv_block_open(c.loop, path, true, engine, err, sizeof(err), NULL, 0);
    CHECK(b && pv_block_readonly(b));
    Req rw, rr, rz;
    submit(b, &rw, &c, PV_BLOCK_WRITE, 0, SECT);
    submit(b, &rz, &c, PV_BLOCK_WRITE_ZEROES, 0, SECT);
    submit(b, &rr, &c, PV_BLOCK_READ, 16 * SECT, SECT);
    drain(b);
    CHECK(rw.ret == -EPERM && rz.ret == -EPERM && rr.ret == 0);
    CHECK(rr.buf[0] == ((16 & 0xff) ^ 0x5a));
    pv_rcu_offline();
    pv_block_close(b);
    pv_rcu_online();

    close(fd);
    unlink(path);
    pv_event_loop_stop(c.loop);
    pv_event_loop_free(c.loop);
}

static void test_threads(void)
{
    check_engine(PV_BLOCK_ENGINE_THREADS);
}

static void test_io_uring_or_fallback(void)
{
    check_engine(PV_BLOCK_ENGINE_AUTO);
}

static void test_open_errors(void)
{
    char err[256];
    PvEventLoop *loop = pv_event_loop_new();
    CHECK(!pv_block_open(loop, "/nonexistent/disk.img", false, PV_BLOCK_ENGINE_AUTO, err,
                         sizeof(err), NULL, 0));
    CHECK(strstr(err, "Could not open '/nonexistent/disk.img'") != NULL);
    CHECK(!pv_block_open(loop, "/tmp", false, PV_BLOCK_ENGINE_AUTO, err, sizeof(err), NULL, 0));
    CHECK(strstr(err, "Could not open '/tmp'") != NULL);
    CHECK(pv_block_engine_parse("io_uring") == PV_BLOCK_ENGINE_IO_URING);
    CHECK(pv_block_engine_parse("threads") == PV_BLOCK_ENGINE_THREADS);
    CHECK(pv_block_engine_parse("native") == -1);
    pv_event_loop_free(loop);
}

PV_TEST_MAIN(
    TEST(test_threads),
    TEST(test_io_uring_or_fallback),
    TEST(test_open_errors),
)
