/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MemoryRegion construction, region-tree changes inside transactions, and
 * publication of FlatViews at commit (S2).
 */
#include "parvm/memory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flatview.h"
#include "region-stats.h"

static _Noreturn void memory_fatal(const char *what, const MemoryRegion *mr)
{
    fprintf(stderr, "parvm: memory: %s (region \"%s\")\n", what, mr && mr->name ? mr->name : "?");
    abort();
}

static void region_init_common(MemoryRegion *mr, MemoryRegionKind kind, PvVm *vm,
                               PvDevice *owner, const char *name, hwaddr size)
{
    memset(mr, 0, sizeof(*mr));
    mr->kind = kind;
    mr->name = strdup(name ? name : "");
    mr->size = size;
    mr->vm = vm;
    mr->owner = owner;
    mr->enabled = true;
    mr->mode = PV_DISPATCH_GLOBAL;
    mr->stats = region_stats_new();
    if (!mr->name || !mr->stats) {
        memory_fatal("out of memory", mr);
    }
}

void memory_region_init_container(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                                  const char *name, hwaddr size)
{
    region_init_common(mr, MR_KIND_CONTAINER, vm, owner, name, size);
}

int memory_region_init_ram(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                           const char *name, hwaddr size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    region_init_common(mr, MR_KIND_RAM, vm, owner, name, size);
    mr->ram = p;
    mr->ram_allocated = true;
    return 0;
}

void memory_region_init_ram_ptr(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                                const char *name, hwaddr size, void *ptr)
{
    region_init_common(mr, MR_KIND_RAM, vm, owner, name, size);
    mr->ram = ptr;
}

void memory_region_init_io(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, hwaddr size)
{
    if (!owner) {
        fprintf(stderr, "parvm: memory: I/O region \"%s\" needs an owner device\n", name);
        abort();
    }
    unsigned min = ops->impl.min_access_size ? ops->impl.min_access_size : 1;
    unsigned max = ops->impl.max_access_size ? ops->impl.max_access_size : 8;
    if (min > max || max > 8 || (min & (min - 1)) || (max & (max - 1))) {
        fprintf(stderr, "parvm: memory: region \"%s\" declares access sizes %u..%u\n",
                name, min, max);
        abort();
    }
    region_init_common(mr, MR_KIND_IO, vm, owner, name, size);
    mr->ops = ops;
    mr->opaque = opaque;
}

void memory_region_init_alias(MemoryRegion *mr, PvVm *vm, PvDevice *owner,
                              const char *name, MemoryRegion *orig,
                              hwaddr offset, hwaddr size)
{
    region_init_common(mr, MR_KIND_ALIAS, vm, owner, name, size);
    mr->alias = orig;
    mr->alias_offset = offset;
}

void memory_region_set_dispatch_mode(MemoryRegion *mr, PvDispatchMode mode)
{
    mr->mode = mode;
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    mr->readonly = readonly;
}

void memory_region_destroy(MemoryRegion *mr)
{
    if (mr->container) {
        memory_fatal("destroying a region that is still mapped", mr);
    }
    if (mr->ram_allocated) {
        munmap(mr->ram, mr->size);
    }
    while (mr->eventfds) {
        MemoryRegionEventfd *e = mr->eventfds;
        mr->eventfds = e->next;
        free(e);
    }
    free(mr->subregions);
    region_stats_free(mr->stats);
    free(mr->name);
    mr->name = NULL;
    mr->stats = NULL;
}

/* ---- transactions ---------------------------------------------------- */

static void assert_in_transaction(const MemoryRegion *mr)
{
    /* Topology belongs to the thread that holds the map lock. */
    if (!pv_mutex_held(&mr->vm->map_lock)) {
        memory_fatal("region tree changed outside a transaction", mr);
    }
}

void memory_region_transaction_begin(PvVm *vm)
{
    pv_mutex_lock(&vm->map_lock);
    vm->in_transaction = true;
}

static void publish(AddressSpace *as, FlatView *fv)
{
    FlatView *old = as->current;
    pv_rcu_assign(as->current, fv);
    if (old) {
        /* Never wait here: commit may run inside a dispatch or under a
         * device lock, where a grace period could never end. */
        pv_call_rcu(&old->rcu, flatview_reclaim);
    }
}

void memory_region_transaction_commit(PvVm *vm)
{
    if (!pv_mutex_held(&vm->map_lock)) {
        fprintf(stderr, "parvm: memory: commit without a transaction\n");
        abort();
    }
    for (AddressSpace *as = vm->address_spaces; as; as = as->next) {
        uint64_t gen = atomic_fetch_add_explicit(&vm->generation, 1, memory_order_relaxed) + 1;
        FlatView *fv = flatview_build(as->root, gen);
        if (!fv) {
            /* Keeping the old view would leave removed devices mapped. */
            fprintf(stderr, "parvm: memory: out of memory flattening \"%s\"\n", as->name);
            abort();
        }
        publish(as, fv);
    }
    vm->in_transaction = false;
    pv_mutex_unlock(&vm->map_lock);
}

/* ---- topology --------------------------------------------------------- */

static void add_subregion(MemoryRegion *parent, hwaddr offset, MemoryRegion *child, int priority)
{
    assert_in_transaction(parent);
    if (parent->kind != MR_KIND_CONTAINER) {
        memory_fatal("subregion added to a region that is not a container", parent);
    }
    if (child->container) {
        memory_fatal("region mapped twice", child);
    }
    if (parent->nr_subregions == parent->subregions_cap) {
        unsigned cap = parent->subregions_cap ? parent->subregions_cap * 2 : 8;
        MemoryRegion **s = realloc(parent->subregions, cap * sizeof(*s));
        if (!s) {
            memory_fatal("out of memory", parent);
        }
        parent->subregions = s;
        parent->subregions_cap = cap;
    }
    /* Before the first sibling of lower or equal priority: among equals the
     * newest comes first and wins, as in QEMU. */
    unsigned i = 0;
    while (i < parent->nr_subregions && parent->subregions[i]->priority > priority) {
        i++;
    }
    memmove(&parent->subregions[i + 1], &parent->subregions[i],
            (parent->nr_subregions - i) * sizeof(*parent->subregions));
    parent->subregions[i] = child;
    parent->nr_subregions++;
    child->container = parent;
    child->addr = offset;
    child->priority = priority;
}

void memory_region_add_subregion(MemoryRegion *parent, hwaddr offset, MemoryRegion *child)
{
    add_subregion(parent, offset, child, 0);
}

void memory_region_add_subregion_overlap(MemoryRegion *parent, hwaddr offset,
                                         MemoryRegion *child, int priority)
{
    add_subregion(parent, offset, child, priority);
}

void memory_region_del_subregion(MemoryRegion *parent, MemoryRegion *child)
{
    assert_in_transaction(parent);
    if (child->container != parent) {
        memory_fatal("region is not a subregion of this container", child);
    }
    for (unsigned i = 0; i < parent->nr_subregions; i++) {
        if (parent->subregions[i] == child) {
            memmove(&parent->subregions[i], &parent->subregions[i + 1],
                    (parent->nr_subregions - i - 1) * sizeof(*parent->subregions));
            parent->nr_subregions--;
            break;
        }
    }
    child->container = NULL;
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    assert_in_transaction(mr);
    mr->enabled = enabled;
}

void memory_region_set_address(MemoryRegion *mr, hwaddr addr)
{
    assert_in_transaction(mr);
    mr->addr = addr;
}

void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset)
{
    assert_in_transaction(mr);
    mr->alias_offset = offset;
}

void memory_region_add_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size,
                               bool match_data, uint64_t data, PvEventNotifier *e)
{
    assert_in_transaction(mr);
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        memory_fatal("notifier size must be 1, 2, 4 or 8", mr);
    }
    MemoryRegionEventfd *n = malloc(sizeof(*n));
    if (!n) {
        memory_fatal("out of memory", mr);
    }
    *n = (MemoryRegionEventfd){
        .addr = addr, .size = size, .match_data = match_data, .data = data, .e = e,
        .next = mr->eventfds,
    };
    mr->eventfds = n;
}

void memory_region_del_eventfd(MemoryRegion *mr, hwaddr addr, unsigned size,
                               bool match_data, uint64_t data, PvEventNotifier *e)
{
    assert_in_transaction(mr);
    for (MemoryRegionEventfd **pp = &mr->eventfds; *pp; pp = &(*pp)->next) {
        MemoryRegionEventfd *n = *pp;
        if (n->addr == addr && n->size == size && n->match_data == match_data &&
            (!match_data || n->data == data) && n->e == e) {
            *pp = n->next;
            free(n);
            return;
        }
    }
    memory_fatal("no such notifier", mr);
}

/* ---- address spaces ---------------------------------------------------- */

void address_space_init(AddressSpace *as, PvVm *vm, MemoryRegion *root, const char *name)
{
    if (!pv_mutex_held(&vm->map_lock)) {
        fprintf(stderr, "parvm: memory: address_space_init outside a transaction\n");
        abort();
    }
    as->name = strdup(name ? name : "");
    as->vm = vm;
    as->root = root;
    as->current = NULL;
    as->unassigned_stats = region_stats_new();
    if (!as->name || !as->unassigned_stats) {
        fprintf(stderr, "parvm: memory: out of memory\n");
        abort();
    }
    as->next = vm->address_spaces;
    vm->address_spaces = as;
    /* An empty view until commit, so readers never see NULL. */
    FlatView *fv = flatview_build(NULL, 0);
    if (!fv) {
        abort();
    }
    pv_rcu_assign(as->current, fv);
}

static void address_space_reclaim(PvRcuHead *head)
{
    AddressSpace *as = (AddressSpace *)((char *)head - offsetof(AddressSpace, rcu));
    FlatView *empty = as->current;
    /* The empty view that late readers found is unused now too. */
    as->current = NULL;
    flatview_reclaim(&empty->rcu);
    region_stats_free(as->unassigned_stats);
    free(as->name);
}

void address_space_destroy(AddressSpace *as)
{
    PvVm *vm = as->vm;

    if (!pv_mutex_held(&vm->map_lock)) {
        fprintf(stderr, "parvm: memory: address_space_destroy outside a transaction\n");
        abort();
    }
    for (AddressSpace **pp = &vm->address_spaces; *pp; pp = &(*pp)->next) {
        if (*pp == as) {
            *pp = as->next;
            break;
        }
    }
    /* Readers may still be inside the old view and counting into the
     * stats: reclaim both after a grace period.  A late reader finds an
     * empty view, never NULL. */
    FlatView *empty = flatview_build(NULL, 0);
    if (!empty) {
        memory_fatal("out of memory", as->root);
    }
    FlatView *old = as->current;
    pv_rcu_assign(as->current, empty);
    pv_call_rcu(&old->rcu, flatview_reclaim);
    pv_call_rcu(&as->rcu, address_space_reclaim);
}

/* ---- statistics and inspection ---------------------------------------- */

void memory_region_get_counts(const MemoryRegion *mr, uint64_t counts[PV_ACCESS__COUNT])
{
    region_stats_sum(mr->stats, counts);
}

void address_space_get_unassigned_counts(const AddressSpace *as,
                                         uint64_t counts[PV_ACCESS__COUNT])
{
    region_stats_sum(as->unassigned_stats, counts);
}

size_t address_space_flat_ranges(AddressSpace *as, PvFlatRangeInfo *out, size_t max)
{
    const FlatView *fv = pv_rcu_deref(as->current);
    for (unsigned i = 0; i < fv->nr_ranges && i < max; i++) {
        const FlatRange *fr = &fv->ranges[i];
        out[i] = (PvFlatRangeInfo){
            .start = fr->start, .size = fr->last - fr->start + 1,
            .mr = fr->mr, .offset_in_region = fr->offset,
        };
    }
    return fv->nr_ranges;
}

uint64_t address_space_generation(AddressSpace *as)
{
    return pv_rcu_deref(as->current)->generation;
}
