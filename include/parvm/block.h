/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A raw-file block backend (-drive file=PATH,format=raw): the file's bytes
 * are the disk's bytes.  Requests are asynchronous and their completion
 * callbacks run on the I/O thread of the loop the backend was opened on.
 *
 * Where the I/O runs.  Never on the submitting thread (a vCPU, or the I/O
 * thread running device work) and never on the I/O thread itself:
 *   io_uring  (aio=io_uring, the default where the kernel allows it):
 *             submitted from a bottom half with IOSQE_ASYNC, so the
 *             kernel's io-wq workers do the copy; the ring's eventfd is an
 *             fd handler of the loop, which reaps completions.
 *   threads   (aio=threads, or io_uring unavailable at open: the open says
 *             so in *@note): a few worker threads doing pread/pwrite/
 *             fdatasync/fallocate; each completion is handed to the I/O
 *             thread through an eventfd.
 *
 * Threads and locks.  pv_block_submit() may be called from any thread under
 * any lock (it takes only a leaf pthread mutex, or none, and schedules a
 * bottom half / wakes a worker): it never waits.  The callback runs on the
 * I/O thread with no lock held; it may take device locks only the way the
 * I/O thread may (device-work.h), and may submit again.  pv_block_drain()
 * and pv_block_close() wait for the I/O thread: never from it, never under
 * a lock a loop callback takes.
 */
#ifndef PARVM_BLOCK_H
#define PARVM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parvm/event-loop.h"

typedef struct PvBlock PvBlock;
typedef struct PvBlockReq PvBlockReq;

typedef enum PvBlockOp {
    PV_BLOCK_READ,          /* file[offset, +len) -> buf */
    PV_BLOCK_WRITE,         /* buf -> file[offset, +len) */
    PV_BLOCK_FLUSH,         /* fdatasync; offset, len, buf unused */
    PV_BLOCK_DISCARD,       /* punch a hole (a hint: unsupported is success) */
    PV_BLOCK_WRITE_ZEROES,  /* file[offset, +len) reads zeros afterwards */
} PvBlockOp;

typedef enum PvBlockEngine {
    PV_BLOCK_ENGINE_AUTO,   /* io_uring if it works here, else threads */
    PV_BLOCK_ENGINE_IO_URING,
    PV_BLOCK_ENGINE_THREADS,
} PvBlockEngine;

/* I/O thread, no lock held.  @ret: 0, or -errno (short transfers past the
 * end of the file are -EIO). */
typedef void PvBlockCb(PvBlockReq *req, int ret);

/* Filled by the submitter; owned by it again once @cb has been called. */
struct PvBlockReq {
    PvBlockOp op;
    uint64_t offset;        /* bytes */
    uint64_t len;           /* bytes */
    void *buf;              /* READ/WRITE: len bytes */
    PvBlockCb *cb;
    void *opaque;
    /* Internal. */
    PvBlock *blk;
    uint64_t done;
    int ret;
    bool zero_fallback;     /* WRITE_ZEROES done as a write of zeros */
    void *zero_buf;
    PvBlockReq *next;
};

/*
 * Open @path (O_RDWR, or O_RDONLY with @readonly) on @loop.  Returns NULL
 * with a one-line reason in @err ("Could not open 'x': No such file or
 * directory").  *@note, if not NULL, gets a line to print when the engine
 * fell back from io_uring to threads ("" otherwise).
 */
PvBlock *pv_block_open(PvEventLoop *loop, const char *path, bool readonly, PvBlockEngine engine,
                       char *err, size_t errlen, char *note, size_t notelen);

uint64_t pv_block_size(const PvBlock *b);     /* bytes, at open */
bool pv_block_readonly(const PvBlock *b);
const char *pv_block_engine_name(const PvBlock *b);  /* "io_uring" or "threads" */
/* "io_uring", "threads" -> the engine; -1 for anything else. */
int pv_block_engine_parse(const char *s);

/*
 * Start @req.  Any thread, any lock, never waits.  A write to a read-only
 * backend, or a range past the end of the file, completes with -EPERM /
 * -EINVAL (still through @cb, on the I/O thread).
 */
void pv_block_submit(PvBlock *b, PvBlockReq *req);

/* Wait until every request submitted so far has had its callback return.
 * Not on the I/O thread; no lock held. */
void pv_block_drain(PvBlock *b);

/* Requests completed so far (lock-free read; tests, statistics). */
uint64_t pv_block_completed(const PvBlock *b);

/* Drain, then release everything.  Same rules as pv_block_drain().  NULL
 * is a no-op. */
void pv_block_close(PvBlock *b);

#endif
