/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw-file block backend: see include/parvm/block.h.
 *
 * Every request goes: submit (any thread) -> the pending list (b->lock, a
 * leaf pthread mutex) -> an engine does the I/O off every parvm thread ->
 * complete() on the I/O thread calls the callback -> inflight-- (drain
 * waits for 0).  Requests refused at submission (read-only, out of range)
 * take the "done" list, the same path the worker threads use, so their
 * callbacks too run on the I/O thread and never on the submitter.
 */
#include "parvm/block.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define RING_DEPTH 128u         /* requests in the ring at once */
#define NWORKERS 4u
#define MAX_CHUNK (1u << 30)    /* one read/write SQE at most */

struct PvBlock {
    PvEventLoop *loop;
    int fd;
    uint64_t size;
    bool readonly;
    PvBlockEngine engine;

    pthread_mutex_t lock;       /* leaf: nothing is called under it */
    pthread_cond_t idle;        /* inflight reached 0 */
    pthread_cond_t work;        /* threads: pending not empty, or stop */
    PvBlockReq *pending, **pending_tail;    /* not started yet */
    PvBlockReq *done, **done_tail;          /* finished, callback not run */
    unsigned inflight;          /* submitted, callback not returned */
    bool stop;
    atomic_uint_fast64_t completed;

    int done_efd;               /* the done list is not empty */

    /* io_uring: the ring is touched by the I/O thread only. */
    struct io_uring ring;
    bool ring_ok;
    int ring_efd;
    PvBH *submit_bh;
    unsigned in_ring;

    pthread_t workers[NWORKERS];
    unsigned nworkers;
};

/* ---- lists (under b->lock) --------------------------------------------- */

static void list_append(PvBlockReq ***tail, PvBlockReq *r)
{
    r->next = NULL;
    **tail = r;
    *tail = &r->next;
}

static void list_prepend(PvBlockReq **head, PvBlockReq ***tail, PvBlockReq *r)
{
    r->next = *head;
    *head = r;
    if (*tail == head) {
        *tail = &r->next;
    }
}

static PvBlockReq *list_take_all(PvBlockReq **head, PvBlockReq ***tail)
{
    PvBlockReq *r = *head;
    *head = NULL;
    *tail = head;
    return r;
}

static void eventfd_kick(int fd)
{
    uint64_t one = 1;
    while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

static void eventfd_drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
}

/* ---- completion (I/O thread) --------------------------------------------- */

static void complete(PvBlock *b, PvBlockReq *req, int ret)
{
    free(req->zero_buf);
    req->zero_buf = NULL;
    req->cb(req, ret);          /* @req belongs to the caller again */
    atomic_fetch_add_explicit(&b->completed, 1, memory_order_relaxed);
    pthread_mutex_lock(&b->lock);
    if (--b->inflight == 0) {
        pthread_cond_broadcast(&b->idle);
    }
    pthread_mutex_unlock(&b->lock);
}

static void done_ready(void *opaque)
{
    PvBlock *b = opaque;

    eventfd_drain(b->done_efd);
    pthread_mutex_lock(&b->lock);
    PvBlockReq *r = list_take_all(&b->done, &b->done_tail);
    pthread_mutex_unlock(&b->lock);
    while (r) {
        PvBlockReq *next = r->next;
        complete(b, r, r->ret);
        r = next;
    }
}

static void finish_later(PvBlock *b, PvBlockReq *req, int ret)
{
    req->ret = ret;
    pthread_mutex_lock(&b->lock);
    list_append(&b->done_tail, req);
    pthread_mutex_unlock(&b->lock);
    eventfd_kick(b->done_efd);
}

/* ---- worker threads -------------------------------------------------------- */

/* Synchronously; returns 0 or -errno. */
static int do_io(PvBlock *b, PvBlockReq *req)
{
    switch (req->op) {
    case PV_BLOCK_READ:
    case PV_BLOCK_WRITE:
        while (req->done < req->len) {
            size_t n = req->len - req->done > MAX_CHUNK ? MAX_CHUNK : req->len - req->done;
            char *p = (char *)req->buf + req->done;
            off_t off = (off_t)(req->offset + req->done);
            ssize_t r = req->op == PV_BLOCK_READ ? pread(b->fd, p, n, off)
                                                 : pwrite(b->fd, p, n, off);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r < 0) {
                return -errno;
            }
            if (r == 0) {
                return -EIO;
            }
            req->done += (uint64_t)r;
        }
        return 0;
    case PV_BLOCK_FLUSH:
        return fdatasync(b->fd) < 0 ? -errno : 0;
    case PV_BLOCK_DISCARD:
        if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)req->offset, (off_t)req->len) < 0 && errno != EOPNOTSUPP) {
            return -errno;
        }
        return 0;
    case PV_BLOCK_WRITE_ZEROES:
        if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                      (off_t)req->offset, (off_t)req->len) == 0) {
            return 0;
        }
        if (errno != EOPNOTSUPP) {
            return -errno;
        }
        for (uint64_t off = 0; off < req->len;) {
            static const char zeros[65536];
            size_t n = req->len - off > sizeof(zeros) ? sizeof(zeros) : req->len - off;
            ssize_t r = pwrite(b->fd, zeros, n, (off_t)(req->offset + off));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                return r < 0 ? -errno : -EIO;
            }
            off += (uint64_t)r;
        }
        return 0;
    }
    return -EINVAL;
}

static void *worker(void *opaque)
{
    PvBlock *b = opaque;

    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->stop && !b->pending) {
            pthread_cond_wait(&b->work, &b->lock);
        }
        if (!b->pending) {
            break;              /* stop, and nothing left */
        }
        PvBlockReq *req = b->pending;
        b->pending = req->next;
        if (!b->pending) {
            b->pending_tail = &b->pending;
        }
        pthread_mutex_unlock(&b->lock);
        int ret = do_io(b, req);
        finish_later(b, req, ret);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* ---- io_uring (I/O thread only) -------------------------------------------- */

static void prep(PvBlock *b, struct io_uring_sqe *sqe, PvBlockReq *req)
{
    uint64_t left = req->len - req->done;
    unsigned n = left > MAX_CHUNK ? MAX_CHUNK : (unsigned)left;

    switch (req->op) {
    case PV_BLOCK_READ:
        io_uring_prep_read(sqe, b->fd, (char *)req->buf + req->done, n, req->offset + req->done);
        break;
    case PV_BLOCK_WRITE:
        io_uring_prep_write(sqe, b->fd, (char *)req->buf + req->done, n, req->offset + req->done);
        break;
    case PV_BLOCK_FLUSH:
        io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
        break;
    case PV_BLOCK_DISCARD:
        io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                req->offset, req->len);
        break;
    case PV_BLOCK_WRITE_ZEROES:
        if (req->zero_fallback) {
            io_uring_prep_write(sqe, b->fd, (char *)req->zero_buf + req->done, n,
                                req->offset + req->done);
        } else {
            io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                                    req->offset, req->len);
        }
        break;
    }
    /* Into the kernel's io-wq workers: the I/O thread never does the copy
     * itself, even for data in the page cache. */
    sqe->flags |= IOSQE_ASYNC;
    io_uring_sqe_set_data(sqe, req);
}

static void ring_submit(void *opaque)
{
    PvBlock *b = opaque;
    unsigned n = 0;

    for (;;) {
        if (b->in_ring >= RING_DEPTH) {
            break;              /* the rest goes when completions free room */
        }
        pthread_mutex_lock(&b->lock);
        PvBlockReq *req = b->pending;
        if (req) {
            b->pending = req->next;
            if (!b->pending) {
                b->pending_tail = &b->pending;
            }
        }
        pthread_mutex_unlock(&b->lock);
        if (!req) {
            break;
        }
        struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
        if (!sqe) {             /* cannot happen below RING_DEPTH; be safe */
            pthread_mutex_lock(&b->lock);
            list_prepend(&b->pending, &b->pending_tail, req);
            pthread_mutex_unlock(&b->lock);
            break;
        }
        prep(b, sqe, req);
        b->in_ring++;
        n++;
    }
    if (n) {
        int r;
        while ((r = io_uring_submit(&b->ring)) == -EINTR || r == -EAGAIN) {
        }
    }
}

/* Requeue @req at the head (partial transfer, fallback). */
static void requeue(PvBlock *b, PvBlockReq *req)
{
    pthread_mutex_lock(&b->lock);
    list_prepend(&b->pending, &b->pending_tail, req);
    pthread_mutex_unlock(&b->lock);
}

static void ring_ready(void *opaque)
{
    PvBlock *b = opaque;
    struct io_uring_cqe *cqe;
    bool resubmit = false;

    eventfd_drain(b->ring_efd);
    while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
        PvBlockReq *req = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&b->ring, cqe);
        b->in_ring--;
        resubmit = true;
        if (res == -EINTR || res == -EAGAIN) {
            requeue(b, req);
            continue;
        }
        switch (req->op) {
        case PV_BLOCK_READ:
        case PV_BLOCK_WRITE:
            if (res < 0) {
                complete(b, req, res);
            } else if (res == 0) {
                complete(b, req, -EIO);
            } else if ((req->done += (uint64_t)res) < req->len) {
                requeue(b, req);
            } else {
                complete(b, req, 0);
            }
            break;
        case PV_BLOCK_DISCARD:
            complete(b, req, res == -EOPNOTSUPP ? 0 : (res < 0 ? res : 0));
            break;
        case PV_BLOCK_WRITE_ZEROES:
            if (!req->zero_fallback && res == -EOPNOTSUPP) {
                /* No ZERO_RANGE on this file system: write zeros. */
                req->zero_buf = calloc(1, req->len ? req->len : 1);
                if (!req->zero_buf) {
                    complete(b, req, -ENOMEM);
                    break;
                }
                req->zero_fallback = true;
                requeue(b, req);
            } else if (req->zero_fallback && res > 0 &&
                       (req->done += (uint64_t)res) < req->len) {
                requeue(b, req);
            } else {
                complete(b, req, res < 0 ? res : (req->zero_fallback && res == 0 ? -EIO : 0));
            }
            break;
        default:
            complete(b, req, res < 0 ? res : 0);
            break;
        }
    }
    if (resubmit) {
        ring_submit(b);
    }
}

static int ring_setup(PvBlock *b, char *note, size_t notelen)
{
    int r = io_uring_queue_init(RING_DEPTH, &b->ring, 0);
    if (r < 0) {
        snprintf(note, notelen, "io_uring unavailable (%s)", strerror(-r));
        return -1;
    }
    struct io_uring_probe *probe = io_uring_get_probe_ring(&b->ring);
    bool ok = probe && io_uring_opcode_supported(probe, IORING_OP_READ) &&
              io_uring_opcode_supported(probe, IORING_OP_WRITE) &&
              io_uring_opcode_supported(probe, IORING_OP_FSYNC) &&
              io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
    io_uring_free_probe(probe);
    if (!ok) {
        snprintf(note, notelen, "io_uring lacks read/write/fsync/fallocate here");
        goto fail;
    }
    b->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->ring_efd < 0 || io_uring_register_eventfd(&b->ring, b->ring_efd) < 0) {
        snprintf(note, notelen, "io_uring eventfd registration failed");
        goto fail;
    }
    b->submit_bh = pv_bh_new(b->loop, ring_submit, b);
    if (!b->submit_bh || pv_event_loop_set_fd(b->loop, b->ring_efd, ring_ready, NULL, b) < 0) {
        snprintf(note, notelen, "cannot register io_uring with the event loop");
        goto fail;
    }
    b->ring_ok = true;
    return 0;
fail:
    pv_bh_free(b->submit_bh);
    b->submit_bh = NULL;
    if (b->ring_efd >= 0) {
        close(b->ring_efd);
        b->ring_efd = -1;
    }
    io_uring_queue_exit(&b->ring);
    return -1;
}

/* ---- API ---------------------------------------------------------------------- */

int pv_block_engine_parse(const char *s)
{
    if (!strcmp(s, "io_uring")) {
        return PV_BLOCK_ENGINE_IO_URING;
    }
    if (!strcmp(s, "threads")) {
        return PV_BLOCK_ENGINE_THREADS;
    }
    return -1;
}

PvBlock *pv_block_open(PvEventLoop *loop, const char *path, bool readonly, PvBlockEngine engine,
                       char *err, size_t errlen, char *note, size_t notelen)
{
    char dummy[8];
    PvBlock *b = calloc(1, sizeof(*b));

    if (!note) {
        note = dummy;
        notelen = sizeof(dummy);
    }
    note[0] = '\0';
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->loop = loop;
    b->readonly = readonly;
    b->done_efd = b->ring_efd = -1;
    b->pending_tail = &b->pending;
    b->done_tail = &b->done;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->idle, NULL);
    pthread_cond_init(&b->work, NULL);
    b->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (b->fd < 0) {
        snprintf(err, errlen, "Could not open '%s': %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(b->fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "Could not open '%s': %s", path,
                 S_ISDIR(st.st_mode) ? "Is a directory" : strerror(errno));
        goto fail;
    }
    off_t end = lseek(b->fd, 0, SEEK_END);
    if (end < 0) {
        snprintf(err, errlen, "Could not open '%s': cannot get its size: %s", path,
                 strerror(errno));
        goto fail;
    }
    b->size = (uint64_t)end;
    b->done_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->done_efd < 0 || pv_event_loop_set_fd(loop, b->done_efd, done_ready, NULL, b) < 0) {
        snprintf(err, errlen, "'%s': cannot register with the event loop", path);
        goto fail;
    }
    if (engine != PV_BLOCK_ENGINE_THREADS && ring_setup(b, note, notelen) == 0) {
        b->engine = PV_BLOCK_ENGINE_IO_URING;
        return b;
    }
    if (engine == PV_BLOCK_ENGINE_IO_URING) {
        snprintf(err, errlen, "'%s': aio=io_uring: %s", path, note);
        note[0] = '\0';
        goto fail;
    }
    if (note[0]) {
        size_t l = strlen(note);
        snprintf(note + l, notelen - l, ": using worker threads for '%s'", path);
    }
    b->engine = PV_BLOCK_ENGINE_THREADS;
    for (; b->nworkers < NWORKERS; b->nworkers++) {
        if (pthread_create(&b->workers[b->nworkers], NULL, worker, b) != 0) {
            snprintf(err, errlen, "'%s': cannot create I/O worker threads", path);
            goto fail;
        }
    }
    return b;
fail:
    pv_block_close(b);
    return NULL;
}

uint64_t pv_block_size(const PvBlock *b)
{
    return b->size;
}

bool pv_block_readonly(const PvBlock *b)
{
    return b->readonly;
}

const char *pv_block_engine_name(const PvBlock *b)
{
    return b->engine == PV_BLOCK_ENGINE_IO_URING ? "io_uring" : "threads";
}

uint64_t pv_block_completed(const PvBlock *b)
{
    return atomic_load_explicit(&b->completed, memory_order_relaxed);
}

void pv_block_submit(PvBlock *b, PvBlockReq *req)
{
    int refuse = 0;

    req->blk = b;
    req->done = 0;
    req->ret = 0;
    req->zero_fallback = false;
    req->zero_buf = NULL;
    if (b->readonly && req->op != PV_BLOCK_READ && req->op != PV_BLOCK_FLUSH) {
        refuse = -EPERM;
    } else if (req->op != PV_BLOCK_FLUSH &&
               (req->offset > b->size || req->len > b->size - req->offset)) {
        refuse = -EINVAL;
    }
    pthread_mutex_lock(&b->lock);
    b->inflight++;
    if (refuse) {
        pthread_mutex_unlock(&b->lock);
        finish_later(b, req, refuse);
        return;
    }
    list_append(&b->pending_tail, req);
    if (b->engine == PV_BLOCK_ENGINE_THREADS) {
        pthread_cond_signal(&b->work);
    }
    pthread_mutex_unlock(&b->lock);
    if (b->engine == PV_BLOCK_ENGINE_IO_URING) {
        pv_bh_schedule(b->submit_bh);
    }
}

void pv_block_drain(PvBlock *b)
{
    pthread_mutex_lock(&b->lock);
    while (b->inflight) {
        pthread_cond_wait(&b->idle, &b->lock);
    }
    pthread_mutex_unlock(&b->lock);
}

void pv_block_close(PvBlock *b)
{
    if (!b) {
        return;
    }
    pv_block_drain(b);
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->lock);
    for (unsigned i = 0; i < b->nworkers; i++) {
        pthread_join(b->workers[i], NULL);
    }
    /* No callback of ours may still be running when we free: the last
     * completion's handler may still be returning. */
    if (b->done_efd >= 0) {
        pv_event_loop_set_fd(b->loop, b->done_efd, NULL, NULL, NULL);
    }
    if (b->ring_ok) {
        pv_event_loop_set_fd(b->loop, b->ring_efd, NULL, NULL, NULL);
    }
    pv_event_loop_quiesce(b->loop);
    if (b->ring_ok) {
        pv_bh_free(b->submit_bh);
        io_uring_queue_exit(&b->ring);
        close(b->ring_efd);
    }
    if (b->done_efd >= 0) {
        close(b->done_efd);
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->idle);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
