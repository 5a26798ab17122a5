/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flattening, table-driven: each case builds a region tree from a list of
 * operations, commits, and compares the published FlatView with the range
 * list it must produce.
 */
#include <string.h>

#include "harness.h"
#include "testdev.h"

enum OpKind { RAM, IO, CONTAINER, ALIAS, ADD, DEL, DISABLE, END };

typedef struct Op {
    enum OpKind kind;
    const char *name;       /* region created, or child for ADD/DEL/DISABLE */
    hwaddr size;
    const char *other;      /* ALIAS: target; ADD/DEL: parent */
    hwaddr addr;            /* ALIAS: offset in target; ADD: offset in parent */
    int priority;
} Op;

typedef struct Expect {
    hwaddr start, size;
    const char *region;
    hwaddr offset;
} Expect;

typedef struct Case {
    const char *what;
    Op ops[16];
    Expect expect[12];
} Case;

#define ENDOPS { .kind = END }
#define ENDEXP { .region = NULL }

static const Case cases[] = {
    { "two disjoint regions",
      { { RAM, "ram", 0x1000 }, { IO, "io", 0x100 },
        { ADD, "ram", 0, "root", 0x1000 }, { ADD, "io", 0, "root", 0x3000 }, ENDOPS },
      { { 0x1000, 0x1000, "ram", 0 }, { 0x3000, 0x100, "io", 0 }, ENDEXP } },

    { "higher priority punches a hole",
      { { RAM, "ram", 0x10000 }, { IO, "io", 0x100 },
        { ADD, "ram", 0, "root", 0 }, { ADD, "io", 0, "root", 0x4000, 1 }, ENDOPS },
      { { 0, 0x4000, "ram", 0 }, { 0x4000, 0x100, "io", 0 },
        { 0x4100, 0xbf00, "ram", 0x4100 }, ENDEXP } },

    { "lower priority added later stays hidden",
      { { RAM, "ram", 0x10000 }, { IO, "io", 0x100 },
        { ADD, "ram", 0, "root", 0 }, { ADD, "io", 0, "root", 0x4000, -1 }, ENDOPS },
      { { 0, 0x10000, "ram", 0 }, ENDEXP } },

    { "equal priority: the newer region wins",
      { { RAM, "ram", 0x2000 }, { IO, "io", 0x100 },
        { ADD, "io", 0, "root", 0x1f80 }, { ADD, "ram", 0, "root", 0 }, ENDOPS },
      { { 0, 0x2000, "ram", 0 }, { 0x2000, 0x80, "io", 0x80 }, ENDEXP } },

    { "alias of an alias",
      { { RAM, "ram", 0x10000 }, { ALIAS, "a1", 0x4000, "ram", 0x2000 },
        { ALIAS, "a2", 0x2000, "a1", 0x1000 },
        { ADD, "a2", 0, "root", 0x100000 }, ENDOPS },
      { { 0x100000, 0x2000, "ram", 0x3000 }, ENDEXP } },

    { "alias window clipped by the alias size",
      { { RAM, "ram", 0x1000 }, { ALIAS, "a", 0x3000, "ram", 0x800 },
        { ADD, "a", 0, "root", 0x5000 }, ENDOPS },
      { { 0x5000, 0x800, "ram", 0x800 }, ENDEXP } },

    { "nested containers clip their children",
      { { CONTAINER, "c1", 0x10000 }, { CONTAINER, "c2", 0x2000 }, { IO, "io", 0x100 },
        { RAM, "ram", 0x4000 },
        { ADD, "c1", 0, "root", 0x10000 }, { ADD, "c2", 0, "c1", 0x1000 },
        { ADD, "io", 0, "c2", 0x1f80 }, { ADD, "ram", 0, "c1", 0xe000 }, ENDOPS },
      { { 0x12f80, 0x80, "io", 0 }, { 0x1e000, 0x2000, "ram", 0 }, ENDEXP } },

    { "a container's gaps let lower regions through",
      { { RAM, "ram", 0x10000 }, { CONTAINER, "c", 0x8000 }, { IO, "io", 0x100 },
        { ADD, "ram", 0, "root", 0 }, { ADD, "c", 0, "root", 0x1000, 5 },
        { ADD, "io", 0, "c", 0x200 }, ENDOPS },
      { { 0, 0x1200, "ram", 0 }, { 0x1200, 0x100, "io", 0 },
        { 0x1300, 0xed00, "ram", 0x1300 }, ENDEXP } },

    { "alias of a container",
      { { CONTAINER, "c", 0x3000 }, { RAM, "r1", 0x1000 }, { IO, "io", 0x100 },
        { ADD, "r1", 0, "c", 0 }, { ADD, "io", 0, "c", 0x2000 },
        { ALIAS, "a", 0x2000, "c", 0x800 }, { ADD, "a", 0, "root", 0x40000 }, ENDOPS },
      { { 0x40000, 0x800, "r1", 0x800 }, { 0x41800, 0x100, "io", 0 }, ENDEXP } },

    { "removal and disabling",
      { { RAM, "ram", 0x1000 }, { IO, "io", 0x100 }, { RAM, "r2", 0x1000 },
        { ADD, "ram", 0, "root", 0 }, { ADD, "io", 0, "root", 0x800, 1 },
        { ADD, "r2", 0, "root", 0x8000 },
        { DEL, "io", 0, "root" }, { DISABLE, "r2" }, ENDOPS },
      { { 0, 0x1000, "ram", 0 }, ENDEXP } },

    { "a region at the top of the address space",
      { { RAM, "top", 0x1000 }, { ADD, "top", 0, "root", UINT64_MAX - 0xfff }, ENDOPS },
      { { UINT64_MAX - 0xfff, 0x1000, "top", 0 }, ENDEXP } },
};

#define MAX_REGIONS 16

typedef struct World {
    PvVm vm;
    AddressSpace as;
    MemoryRegion root;
    const char *names[MAX_REGIONS];
    MemoryRegion *regions[MAX_REGIONS];
    TestDev *devs[MAX_REGIONS];
    unsigned n;
} World;

static MemoryRegion *find(World *w, const char *name)
{
    if (!strcmp(name, "root")) {
        return &w->root;
    }
    for (unsigned i = 0; i < w->n; i++) {
        if (!strcmp(w->names[i], name)) {
            return w->regions[i];
        }
    }
    return NULL;
}

static void build(World *w, const Op *ops)
{
    for (const Op *op = ops; op->kind != END; op++) {
        MemoryRegion *mr = NULL;
        TestDev *td = NULL;
        switch (op->kind) {
        case RAM:
            mr = calloc(1, sizeof(*mr));
            CHECK(memory_region_init_ram(mr, &w->vm, NULL, op->name, op->size) == 0);
            break;
        case CONTAINER:
            mr = calloc(1, sizeof(*mr));
            memory_region_init_container(mr, &w->vm, NULL, op->name, op->size);
            break;
        case ALIAS:
            mr = calloc(1, sizeof(*mr));
            memory_region_init_alias(mr, &w->vm, NULL, op->name, find(w, op->other), op->addr,
                                     op->size);
            break;
        case IO:
            td = testdev_new(&w->vm, &testdev_class, op->name, PV_DISPATCH_DEVICE, 1, 8, false);
            mr = &td->mr;
            break;
        case ADD:
            memory_region_add_subregion_overlap(find(w, op->other), op->addr, find(w, op->name),
                                                op->priority);
            break;
        case DEL:
            memory_region_del_subregion(find(w, op->other), find(w, op->name));
            break;
        case DISABLE:
            memory_region_set_enabled(find(w, op->name), false);
            break;
        case END:
            break;
        }
        if (mr) {
            w->names[w->n] = op->name;
            w->regions[w->n] = mr;
            w->devs[w->n] = td;
            w->n++;
        }
    }
}

static void teardown(World *w)
{
    memory_region_transaction_begin(&w->vm);
    for (unsigned i = 0; i < w->n; i++) {
        if (w->regions[i]->container) {
            memory_region_del_subregion(w->regions[i]->container, w->regions[i]);
        }
    }
    address_space_destroy(&w->as);
    memory_region_transaction_commit(&w->vm);
    pv_rcu_barrier();
    for (unsigned i = 0; i < w->n; i++) {
        if (w->devs[i]) {
            pv_device_unref(&w->devs[i]->dev);
        } else {
            memory_region_destroy(w->regions[i]);
            free(w->regions[i]);
        }
    }
    memory_region_destroy(&w->root);
    pv_rcu_barrier();
    pv_vm_destroy(&w->vm);
}

static void run_case(const Case *c)
{
    World *w = calloc(1, sizeof(*w));
    PvFlatRangeInfo got[32];

    pv_vm_init(&w->vm);
    memory_region_init_container(&w->root, &w->vm, NULL, "root", UINT64_MAX);
    memory_region_transaction_begin(&w->vm);
    address_space_init(&w->as, &w->vm, &w->root, "test");
    build(w, c->ops);
    memory_region_transaction_commit(&w->vm);

    size_t n = address_space_flat_ranges(&w->as, got, 32);
    size_t want = 0;
    while (c->expect[want].region) {
        want++;
    }
    if (n != want) {
        printf("# case '%s': %zu ranges, expected %zu\n", c->what, n, want);
        pv_test_failures++;
    }
    for (size_t i = 0; i < n && i < want; i++) {
        const Expect *e = &c->expect[i];
        if (got[i].start != e->start || got[i].size != e->size ||
            strcmp(got[i].mr->name, e->region) || got[i].offset_in_region != e->offset) {
            printf("# case '%s' range %zu: [0x%" PRIx64 " +0x%" PRIx64 " %s@0x%" PRIx64
                   "], expected [0x%" PRIx64 " +0x%" PRIx64 " %s@0x%" PRIx64 "]\n",
                   c->what, i, got[i].start, got[i].size, got[i].mr->name,
                   got[i].offset_in_region, e->start, e->size, e->region, e->offset);
            pv_test_failures++;
        }
    }
    teardown(w);
    free(w);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

/* Every commit publishes a new generation; the old view's device
 * references are dropped only after a grace period. */
static void test_generation_and_view_references(void)
{
    PvVm vm;
    AddressSpace as;
    MemoryRegion root;
    bool finalized = false;

    pv_vm_init(&vm);
    memory_region_init_container(&root, &vm, NULL, "root", UINT64_MAX);
    TestDev *td = testdev_new(&vm, &testdev_class, "dev", PV_DISPATCH_LOCKLESS, 1, 8, false);
    td->finalized = &finalized;

    memory_region_transaction_begin(&vm);
    address_space_init(&as, &vm, &root, "as");
    memory_region_add_subregion(&root, 0x1000, &td->mr);
    memory_region_transaction_commit(&vm);
    uint64_t g1 = address_space_generation(&as);
    CHECK_EQ_U64(atomic_load(&td->dev.refcount), 2);    /* creator + view */

    memory_region_transaction_begin(&vm);
    memory_region_transaction_commit(&vm);
    CHECK(address_space_generation(&as) > g1);

    pv_device_unrealize(&td->dev);
    CHECK(pv_device_is_removed(&td->dev));
    pv_device_unref(&td->dev);
    pv_rcu_barrier();
    pv_rcu_barrier();   /* the view's reclaim queues finalize: a second round */
    CHECK(finalized);

    memory_region_transaction_begin(&vm);
    address_space_destroy(&as);
    memory_region_transaction_commit(&vm);
    pv_rcu_barrier();
    memory_region_destroy(&root);
    pv_vm_destroy(&vm);
}

PV_TEST_MAIN(TEST(test_table), TEST(test_generation_and_view_references))
