/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock validator (S5): learns, process-wide, the order in which lock
 * classes nest, and aborts on the first acquisition that could deadlock,
 * naming the sites involved.  Like the kernel's lockdep it reasons about
 * classes, so one run that takes A then B and another that takes B then A
 * are enough to report an inversion even if they never overlapped in time.
 *
 * The learned graph is process-global on purpose: lock classes are static
 * and an ordering learned in one VM holds for all.  Edges are write-once;
 * an acquisition whose edges are all known already checks them lock-free.
 */
#include "lock-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PV_MAX_LOCK_CLASSES 128

typedef struct PvLockEdge {
    const PvLockSite *held_site;    /* where the first class was acquired */
    const PvLockSite *acquire_site; /* where the second one then was */
} PvLockEdge;

static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
static PvLockClass *classes[PV_MAX_LOCK_CLASSES];
static int nr_classes;
static _Atomic(PvLockEdge *) edges[PV_MAX_LOCK_CLASSES][PV_MAX_LOCK_CLASSES];

static int class_id(PvLockClass *cls)
{
    int id = atomic_load_explicit(&cls->id, memory_order_acquire);
    if (id) {
        return id;
    }
    pthread_mutex_lock(&graph_lock);
    id = atomic_load_explicit(&cls->id, memory_order_relaxed);
    if (!id) {
        if (nr_classes + 1 >= PV_MAX_LOCK_CLASSES) {
            fprintf(stderr, "parvm: lock validator: more than %d lock classes\n",
                    PV_MAX_LOCK_CLASSES - 1);
            abort();
        }
        id = ++nr_classes;
        classes[id] = cls;
        atomic_store_explicit(&cls->id, id, memory_order_release);
    }
    pthread_mutex_unlock(&graph_lock);
    return id;
}

static void print_site(const char *prefix, const PvLockSite *s)
{
    fprintf(stderr, "%s%s:%d (%s)\n", prefix, s->file, s->line, s->func);
}

_Noreturn void pv_validator_fail(const char *what, const PvLockSite *site)
{
    fprintf(stderr, "parvm: lock validator: %s\n", what);
    print_site("  at ", site);
    abort();
}

static _Noreturn void report_pair(const char *what, const PvHeldLock *held,
                                  const PvMutex *m, const PvLockSite *site)
{
    fprintf(stderr, "parvm: lock validator: %s\n", what);
    fprintf(stderr, "  acquiring \"%s\" at ", m->cls->name);
    print_site("", site);
    fprintf(stderr, "  while holding \"%s\" acquired at ", held->m->cls->name);
    print_site("", held->site);
    abort();
}

/* Breadth-first search from @from to @to over learned edges; graph_lock held.
 * On success fills @path (class ids, from..to) and returns its length. */
static int find_path(int from, int to, int *path)
{
    int prev[PV_MAX_LOCK_CLASSES];
    int queue[PV_MAX_LOCK_CLASSES];
    int head = 0, tail = 0;

    for (int i = 0; i < PV_MAX_LOCK_CLASSES; i++) {
        prev[i] = -1;
    }
    prev[from] = from;
    queue[tail++] = from;
    while (head < tail) {
        int c = queue[head++];
        if (c == to) {
            int n = 0;
            for (int x = to; x != from; x = prev[x]) {
                path[n++] = x;
            }
            path[n++] = from;
            for (int i = 0; i < n / 2; i++) {
                int tmp = path[i];
                path[i] = path[n - 1 - i];
                path[n - 1 - i] = tmp;
            }
            return n;
        }
        for (int d = 1; d <= nr_classes; d++) {
            if (prev[d] < 0 && atomic_load_explicit(&edges[c][d], memory_order_relaxed)) {
                prev[d] = c;
                queue[tail++] = d;
            }
        }
    }
    return 0;
}

static _Noreturn void report_cycle(const PvHeldLock *held, const PvMutex *m,
                                   const PvLockSite *site, const int *path, int n)
{
    fprintf(stderr, "parvm: lock validator: lock order inversion (possible deadlock)\n");
    fprintf(stderr, "  acquiring \"%s\" at ", m->cls->name);
    print_site("", site);
    fprintf(stderr, "  while holding \"%s\" acquired at ", held->m->cls->name);
    print_site("", held->site);
    fprintf(stderr, "  but the opposite order was seen before:\n");
    for (int i = 0; i + 1 < n; i++) {
        PvLockEdge *e = atomic_load_explicit(&edges[path[i]][path[i + 1]], memory_order_relaxed);
        fprintf(stderr, "    \"%s\" held (acquired at %s:%d (%s)), then \"%s\" acquired at ",
                classes[path[i]]->name, e->held_site->file, e->held_site->line,
                e->held_site->func, classes[path[i + 1]]->name);
        print_site("", e->acquire_site);
    }
    abort();
}

/* Record held -> m, unless it closes a cycle. */
static void learn_edge(const PvHeldLock *held, int a, const PvMutex *m, int b,
                       const PvLockSite *site)
{
    int path[PV_MAX_LOCK_CLASSES];

    pthread_mutex_lock(&graph_lock);
    if (!atomic_load_explicit(&edges[a][b], memory_order_relaxed)) {
        int n = find_path(b, a, path);
        if (n > 0) {
            report_cycle(held, m, site, path, n);
        }
        PvLockEdge *e = malloc(sizeof(*e));
        if (!e) {
            abort();
        }
        e->held_site = held->site;
        e->acquire_site = site;
        atomic_store_explicit(&edges[a][b], e, memory_order_release);
    }
    pthread_mutex_unlock(&graph_lock);
}

void pv_validate_lock(const PvLockThread *t, const PvMutex *m, const PvLockSite *site)
{
    int b = class_id(m->cls);

    for (unsigned i = 0; i < t->nheld; i++) {
        const PvHeldLock *h = &t->held[i];
        int a = class_id(h->m->cls);

        if (h->m == m) {
            report_pair("self-deadlock: re-acquiring a lock this thread holds", h, m, site);
        }
        if (h->m->cls->kind == PV_LOCK_KIND_GLOBAL && m->cls->kind == PV_LOCK_KIND_DEVICE) {
            report_pair("forbidden order: device lock after the global lock "
                        "(allowed: device lock -> global lock, or trylock)", h, m, site);
        }
        if (a == b) {
            /* Two instances of one class: another thread may nest them the
             * other way round, and classes cannot tell which is which. */
            report_pair("recursive locking: two locks of the same class nested", h, m, site);
        }
        if (!atomic_load_explicit(&edges[a][b], memory_order_acquire)) {
            learn_edge(h, a, m, b, site);
        }
    }
}
