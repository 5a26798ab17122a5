/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O thread's event loop: epoll over the registered fds, an eventfd
 * that other threads write to kick it (bottom halves, stop) and a timerfd
 * armed, in absolute CLOCK_MONOTONIC time, at the earliest timer deadline.
 * The timerfd can be reprogrammed from any thread, so arming a timer never
 * needs a round trip through the I/O thread.
 *
 * All shared state is under loop->lock, a leaf of kind PV_LOCK_KIND_CORE:
 * nothing else is taken while it is held, and no callback runs under it.
 * loop->current names the callback that runs right now, so that
 * pv_timer_del()/pv_bh_free() can wait for exactly that one.
 */
#include "parvm/event-loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "parvm/clock.h"
#include "parvm/event-notifier.h"
#include "parvm/lock.h"
#include "parvm/rcu.h"

/* epoll tags of the loop's own fds; registered fds use their fd number. */
#define TAG_KICK UINT64_MAX
#define TAG_TIMER (UINT64_MAX - 1)

#define MAX_EVENTS 64

typedef struct FdHandler {
    int fd;
    PvEventFunc *on_read;
    PvEventFunc *on_write;
    void *opaque;
    struct FdHandler *next;
} FdHandler;

struct PvTimer {
    PvEventLoop *loop;
    PvEventFunc *cb;
    void *opaque;
    /* Under loop->lock. */
    int64_t deadline;
    bool armed;
    PvTimer *prev, *next;   /* in loop->timers, sorted by deadline */
};

struct PvBH {
    PvEventLoop *loop;
    PvEventFunc *cb;
    void *opaque;
    /* Under loop->lock. */
    bool scheduled;
    PvBH *next;             /* in loop->bh_head */
};

struct PvEventLoop {
    PvMutex lock;
    pthread_cond_t cb_done;     /* signalled when a callback returns */
    int epfd;
    int timer_fd;
    PvEventNotifier kick;
    atomic_bool stop;
    bool started;               /* only touched by start/stop/free */
    pthread_t thread;

    /* Under lock. */
    FdHandler *fds;
    PvTimer *timers;
    PvBH *bh_head, *bh_tail;
    int64_t programmed;         /* deadline the timerfd is set to; INT64_MAX: off */
    const void *current;        /* running callback's object, or NULL */
    uint64_t cb_seq;            /* callbacks finished so far */
    unsigned waiters;
    char fd_marker;             /* loop->current while an fd handler runs */
};

/* Leaf lock: see the file comment. */
static PvLockClass event_loop_lock_class = PV_LOCK_CLASS_INIT("event-loop", PV_LOCK_KIND_CORE);

/* The loop whose I/O thread the calling thread is (NULL elsewhere). */
static __thread PvEventLoop *io_thread_loop;

bool pv_event_loop_in_io_thread(const PvEventLoop *loop)
{
    return io_thread_loop == loop;
}

/* ---- helpers, lock held ------------------------------------------------ */

static void program_timerfd_locked(PvEventLoop *loop, int64_t want)
{
    struct itimerspec its = { 0 };

    if (want != INT64_MAX) {
        if (want < 1) {
            want = 1;   /* an all-zero it_value would disarm the timerfd */
        }
        its.it_value.tv_sec = want / PV_NS_PER_SEC;
        its.it_value.tv_nsec = want % PV_NS_PER_SEC;
    }
    if (timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0) {
        loop->programmed = want;
    }
}

static void timer_unlink_locked(PvTimer *t)
{
    PvEventLoop *loop = t->loop;

    if (!t->armed) {
        return;
    }
    if (t->prev) {
        t->prev->next = t->next;
    } else {
        loop->timers = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    t->prev = t->next = NULL;
    t->armed = false;
    /* The timerfd may now fire early for nothing; the loop reprograms it. */
}

/* Wait until @obj's callback is not running.  Never on the I/O thread: a
 * callback that frees its own timer must not wait for itself. */
static void wait_not_running_locked(PvEventLoop *loop, const void *obj)
{
    if (pv_event_loop_in_io_thread(loop)) {
        return;
    }
    loop->waiters++;
    while (loop->current == obj) {
        /* The validator still sees the lock as held by us, which is what
         * it is again when the wait returns. */
        pthread_cond_wait(&loop->cb_done, &loop->lock.m);
    }
    loop->waiters--;
}

static void begin_cb_locked(PvEventLoop *loop, const void *obj)
{
    loop->current = obj;
}

static void end_cb_locked(PvEventLoop *loop)
{
    loop->current = NULL;
    loop->cb_seq++;
    if (loop->waiters) {
        pthread_cond_broadcast(&loop->cb_done);
    }
}

/* ---- the I/O thread ---------------------------------------------------- */

static void call_fd_handler(PvEventLoop *loop, int fd, bool read)
{
    PvEventFunc *cb = NULL;
    void *opaque = NULL;

    pv_mutex_lock(&loop->lock);
    for (FdHandler *h = loop->fds; h; h = h->next) {
        if (h->fd == fd) {
            cb = read ? h->on_read : h->on_write;
            opaque = h->opaque;
            break;
        }
    }
    if (!cb) {
        pv_mutex_unlock(&loop->lock);
        return;
    }
    begin_cb_locked(loop, &loop->fd_marker);
    pv_mutex_unlock(&loop->lock);

    cb(opaque);

    pv_mutex_lock(&loop->lock);
    end_cb_locked(loop);
    pv_mutex_unlock(&loop->lock);
}

static void run_timers(PvEventLoop *loop)
{
    /* One clock reading per pass: a timer re-armed for "now" by its own
     * callback runs in the next iteration instead of looping here. */
    int64_t now = pv_clock_ns();
    PvTimer *t;

    pv_mutex_lock(&loop->lock);
    while ((t = loop->timers) && t->deadline <= now) {
        timer_unlink_locked(t);
        begin_cb_locked(loop, t);
        pv_mutex_unlock(&loop->lock);

        t->cb(t->opaque);

        pv_mutex_lock(&loop->lock);
        end_cb_locked(loop);
    }
    program_timerfd_locked(loop, loop->timers ? loop->timers->deadline : INT64_MAX);
    pv_mutex_unlock(&loop->lock);
}

static void run_bhs(PvEventLoop *loop)
{
    unsigned n = 0;
    PvBH *bh;

    pv_mutex_lock(&loop->lock);
    /* Only those scheduled before this pass: one that reschedules itself
     * has kicked the loop and runs in the next iteration. */
    for (bh = loop->bh_head; bh; bh = bh->next) {
        n++;
    }
    while (n-- && (bh = loop->bh_head)) {
        loop->bh_head = bh->next;
        if (!loop->bh_head) {
            loop->bh_tail = NULL;
        }
        bh->next = NULL;
        bh->scheduled = false;
        begin_cb_locked(loop, bh);
        pv_mutex_unlock(&loop->lock);

        bh->cb(bh->opaque);

        pv_mutex_lock(&loop->lock);
        end_cb_locked(loop);
    }
    pv_mutex_unlock(&loop->lock);
}

static void *io_thread_fn(void *arg)
{
    PvEventLoop *loop = arg;
    struct epoll_event evs[MAX_EVENTS];

    io_thread_loop = loop;
    pv_rcu_register_thread();
    while (!atomic_load(&loop->stop)) {
        pv_rcu_offline();
        int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, -1);
        pv_rcu_online();
        if (n < 0) {
            if (errno != EINTR) {
                perror("parvm: event loop: epoll_wait");
                break;
            }
            continue;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            uint32_t e = evs[i].events;

            if (tag == TAG_KICK) {
                pv_event_notifier_test_and_clear(&loop->kick);
            } else if (tag == TAG_TIMER) {
                uint64_t expirations;
                /* Non-blocking; EAGAIN if it was reprogrammed meanwhile,
                 * which is fine: the timers are looked at below anyway. */
                ssize_t r = read(loop->timer_fd, &expirations, sizeof(expirations));
                (void)r;
            } else {
                if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    call_fd_handler(loop, (int)tag, true);
                }
                if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
                    call_fd_handler(loop, (int)tag, false);
                }
            }
        }
        run_timers(loop);
        run_bhs(loop);
        pv_rcu_quiescent();
    }
    pv_rcu_unregister_thread();
    io_thread_loop = NULL;
    return NULL;
}

/* ---- the loop ---------------------------------------------------------- */

PvEventLoop *pv_event_loop_new(void)
{
    PvEventLoop *loop = calloc(1, sizeof(*loop));
    struct epoll_event ev = { .events = EPOLLIN };

    if (!loop) {
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        goto fail_free;
    }
    loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (loop->timer_fd < 0) {
        goto fail_epoll;
    }
    if (pv_event_notifier_init(&loop->kick) < 0) {
        goto fail_timerfd;
    }
    ev.data.u64 = TAG_KICK;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->kick.fd, &ev) < 0) {
        goto fail_kick;
    }
    ev.data.u64 = TAG_TIMER;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->timer_fd, &ev) < 0) {
        goto fail_kick;
    }
    pv_mutex_init(&loop->lock, &event_loop_lock_class);
    pthread_cond_init(&loop->cb_done, NULL);
    loop->programmed = INT64_MAX;
    atomic_init(&loop->stop, false);
    return loop;

fail_kick:
    pv_event_notifier_cleanup(&loop->kick);
fail_timerfd:
    close(loop->timer_fd);
fail_epoll:
    close(loop->epfd);
fail_free:
    free(loop);
    return NULL;
}

void pv_event_loop_free(PvEventLoop *loop)
{
    if (!loop) {
        return;
    }
    pv_event_loop_stop(loop);
    while (loop->fds) {
        FdHandler *h = loop->fds;
        loop->fds = h->next;
        free(h);
    }
    if (loop->timers || loop->bh_head) {
        fprintf(stderr, "parvm: event loop freed with timers or bottom halves armed\n");
    }
    pthread_cond_destroy(&loop->cb_done);
    pv_mutex_destroy(&loop->lock);
    pv_event_notifier_cleanup(&loop->kick);
    close(loop->timer_fd);
    close(loop->epfd);
    free(loop);
}

int pv_event_loop_start(PvEventLoop *loop)
{
    int r;

    if (loop->started) {
        return -EBUSY;
    }
    atomic_store(&loop->stop, false);
    r = pthread_create(&loop->thread, NULL, io_thread_fn, loop);
    if (r != 0) {
        return -r;
    }
    loop->started = true;
    return 0;
}

void pv_event_loop_stop(PvEventLoop *loop)
{
    bool online = pv_rcu_reader_online();

    if (!loop->started) {
        return;
    }
    atomic_store(&loop->stop, true);
    pv_event_notifier_set(&loop->kick);
    /* Joining blocks: do not hold up grace periods meanwhile. */
    if (online) {
        pv_rcu_offline();
    }
    pthread_join(loop->thread, NULL);
    if (online) {
        pv_rcu_online();
    }
    loop->started = false;
}

void pv_event_loop_quiesce(PvEventLoop *loop)
{
    if (pv_event_loop_in_io_thread(loop)) {
        return;
    }
    pv_mutex_lock(&loop->lock);
    if (loop->current) {
        uint64_t seq = loop->cb_seq;
        loop->waiters++;
        while (loop->current && loop->cb_seq == seq) {
            pthread_cond_wait(&loop->cb_done, &loop->lock.m);
        }
        loop->waiters--;
    }
    pv_mutex_unlock(&loop->lock);
}

/* ---- fd handlers ------------------------------------------------------- */

int pv_event_loop_set_fd(PvEventLoop *loop, int fd, PvEventFunc *on_read,
                         PvEventFunc *on_write, void *opaque)
{
    FdHandler *h, **pp;
    struct epoll_event ev = { 0 };
    int r = 0;

    if (fd < 0) {
        return -EBADF;
    }
    pv_mutex_lock(&loop->lock);
    for (pp = &loop->fds; (h = *pp); pp = &h->next) {
        if (h->fd == fd) {
            break;
        }
    }
    if (!on_read && !on_write) {
        if (h) {
            /* EBADF/ENOENT: the fd was closed first; epoll dropped it. */
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
            *pp = h->next;
            free(h);
        }
        goto out;
    }
    ev.events = (on_read ? EPOLLIN : 0) | (on_write ? EPOLLOUT : 0);
    ev.data.u64 = (uint64_t)fd;
    if (h) {
        if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
            r = -errno;
            goto out;
        }
    } else {
        h = calloc(1, sizeof(*h));
        if (!h) {
            r = -ENOMEM;
            goto out;
        }
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            r = -errno;
            free(h);
            goto out;
        }
        h->fd = fd;
        h->next = loop->fds;
        loop->fds = h;
    }
    h->on_read = on_read;
    h->on_write = on_write;
    h->opaque = opaque;
out:
    pv_mutex_unlock(&loop->lock);
    return r;
}

/* ---- timers ------------------------------------------------------------ */

PvTimer *pv_timer_new(PvEventLoop *loop, PvEventFunc *cb, void *opaque)
{
    PvTimer *t = calloc(1, sizeof(*t));

    if (t) {
        t->loop = loop;
        t->cb = cb;
        t->opaque = opaque;
    }
    return t;
}

void pv_timer_mod(PvTimer *t, int64_t deadline_ns)
{
    PvEventLoop *loop = t->loop;
    PvTimer *prev = NULL, *cur;

    pv_mutex_lock(&loop->lock);
    timer_unlink_locked(t);
    t->deadline = deadline_ns;
    /* After every timer with a deadline <= ours: equal deadlines fire in
     * arming order. */
    for (cur = loop->timers; cur && cur->deadline <= deadline_ns; cur = cur->next) {
        prev = cur;
    }
    t->prev = prev;
    t->next = cur;
    if (prev) {
        prev->next = t;
    } else {
        loop->timers = t;
    }
    if (cur) {
        cur->prev = t;
    }
    t->armed = true;
    /* A later deadline than the programmed one needs nothing: the loop
     * wakes up then and reprograms for the head. */
    if (deadline_ns < loop->programmed) {
        program_timerfd_locked(loop, deadline_ns);
    }
    pv_mutex_unlock(&loop->lock);
}

void pv_timer_cancel(PvTimer *t)
{
    pv_mutex_lock(&t->loop->lock);
    timer_unlink_locked(t);
    pv_mutex_unlock(&t->loop->lock);
}

void pv_timer_del(PvTimer *t)
{
    PvEventLoop *loop = t->loop;

    pv_mutex_lock(&loop->lock);
    wait_not_running_locked(loop, t);
    /* After the wait: the callback may have re-armed itself. */
    timer_unlink_locked(t);
    pv_mutex_unlock(&loop->lock);
}

void pv_timer_free(PvTimer *t)
{
    if (t) {
        pv_timer_del(t);
        free(t);
    }
}

bool pv_timer_pending(PvTimer *t)
{
    bool armed;

    pv_mutex_lock(&t->loop->lock);
    armed = t->armed;
    pv_mutex_unlock(&t->loop->lock);
    return armed;
}

/* ---- bottom halves ----------------------------------------------------- */

PvBH *pv_bh_new(PvEventLoop *loop, PvEventFunc *cb, void *opaque)
{
    PvBH *bh = calloc(1, sizeof(*bh));

    if (bh) {
        bh->loop = loop;
        bh->cb = cb;
        bh->opaque = opaque;
    }
    return bh;
}

void pv_bh_schedule(PvBH *bh)
{
    PvEventLoop *loop = bh->loop;
    bool kick = false;

    pv_mutex_lock(&loop->lock);
    if (!bh->scheduled) {
        bh->scheduled = true;
        bh->next = NULL;
        if (loop->bh_tail) {
            loop->bh_tail->next = bh;
        } else {
            loop->bh_head = bh;
        }
        loop->bh_tail = bh;
        kick = true;
    }
    pv_mutex_unlock(&loop->lock);
    if (kick) {
        pv_event_notifier_set(&loop->kick);
    }
}

void pv_bh_free(PvBH *bh)
{
    PvEventLoop *loop;

    if (!bh) {
        return;
    }
    loop = bh->loop;
    pv_mutex_lock(&loop->lock);
    wait_not_running_locked(loop, bh);
    if (bh->scheduled) {
        PvBH *prev = NULL;
        for (PvBH *cur = loop->bh_head; cur; prev = cur, cur = cur->next) {
            if (cur == bh) {
                if (prev) {
                    prev->next = cur->next;
                } else {
                    loop->bh_head = cur->next;
                }
                if (loop->bh_tail == bh) {
                    loop->bh_tail = prev;
                }
                break;
            }
        }
        bh->scheduled = false;
    }
    pv_mutex_unlock(&loop->lock);
    free(bh);
}
