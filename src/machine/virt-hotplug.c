/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's hot-plug: slots, device_add/device_del, eject and forced
 * removal (virt-hotplug.h says who does what on which thread).
 *
 * A slot moves EMPTY -> PRESENT (device_add, or -device at start-up) ->
 * EJECTING (device_del) -> REMOVING (the guest ejected, or the timeout
 * fired: exactly one of them wins the transition) -> EMPTY (removed,
 * DEVICE_DELETED sent).  A guest may also eject a PRESENT device unasked.
 * A slot holds any pluggable device through a VirtPlug (its window, how to
 * destroy and reset it).  The slot table and the drive table are under
 * hotplug->lock, a leaf pthread mutex: nothing is called under it.
 *
 * Drives (-drive ...,if=none,id=ID) are opened at start-up; a virtio-blk
 * device takes its drive's backend and closes it when it goes, and the
 * drive goes with it (QEMU deletes a -drive with the device it was attached
 * to), so a later device_add naming it does not find it.
 *
 * Netdevs (-netdev TYPE,id=ID,...) are opened at start-up too and outlive
 * the devices that use them, as QEMU's: one virtio-net device at a time
 * per netdev, and a removed device's netdev may be used again.
 */
#include "virt-hotplug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/block.h"
#include "parvm/hw/hotplug.h"
#include "parvm/hw/testdev.h"
#include "parvm/hw/virtio-blk.h"
#include "parvm/hw/virtio-net.h"
#include "parvm/net.h"
#include "parvm/clock.h"
#include "virt-internal.h"

enum { SLOT_EMPTY, SLOT_PRESENT, SLOT_EJECTING, SLOT_REMOVING };

/* What a slot needs from the device it holds. */
typedef struct VirtPlugOps {
    MemoryRegion *(*mmio)(void *dev);
    /* Unrealize, wait for its work, drop the creator's reference: no lock
     * held, not in a dispatch (main thread, or a vCPU after its eject). */
    void (*destroy)(void *dev);
    /* Board reset: main thread, harts held, no lock held.  Optional. */
    void (*reset)(void *dev);
} VirtPlugOps;

typedef struct VirtPlug {
    const VirtPlugOps *ops;
    void *dev;
} VirtPlug;

typedef struct Slot {
    VirtHotplug *hp;
    unsigned index;
    int state;                  /* under hp->lock */
    VirtPlug plug;              /* under hp->lock; owned by the slot */
    char id[64];
    PvTimer *timeout;           /* forced removal */
    PvDeferred work;            /* the eject's removal, deferred */
    bool queued;                /* on the main thread's list; under lock */
} Slot;

typedef struct Drive {
    char id[64];                /* "" once gone */
    PvBlock *blk;               /* NULL once a device took it */
} Drive;

typedef struct Netdev {
    PvNetdev *nd;               /* NULL: no such entry */
    bool in_use;                /* a device is attached; under lock */
} Netdev;

struct VirtHotplug {
    Virt *m;
    Netdev netdev[PV_MAX_NETDEVS];
    PvHotplug *ctl;
    pthread_mutex_t lock;
    int64_t timeout_ns;
    Slot slot[VIRT_VIRTIO_COUNT];
    Drive drive[PV_MAX_DRIVES];
};

static hwaddr slot_base(unsigned i)
{
    return VIRT_VIRTIO_BASE + (hwaddr)i * VIRT_VIRTIO_SIZE;
}

/* ---- the devices a slot can hold ----------------------------------------------- */

static MemoryRegion *testdev_mmio(void *d)
{
    return pv_testdev_mmio(d);
}

static void testdev_destroy(void *d)
{
    pv_testdev_destroy(d);
}

static const VirtPlugOps testdev_plug = { .mmio = testdev_mmio, .destroy = testdev_destroy };

static MemoryRegion *blk_mmio(void *d)
{
    return pv_virtio_blk_mmio(d);
}

static void blk_destroy(void *d)
{
    pv_virtio_blk_destroy(d);
}

static void blk_reset(void *d)
{
    pv_virtio_reset(pv_virtio_blk_virtio(d));
}

static const VirtPlugOps blk_plug = { .mmio = blk_mmio, .destroy = blk_destroy,
                                      .reset = blk_reset };

/* A device to create: -device or device_add, already checked against the
 * driver's property list (pv_device_prop_known). */
typedef struct DeviceSpec {
    const char *driver, *id;
    const char *drive, *serial;     /* virtio-blk-device */
    const char *netdev, *mac;       /* virtio-net-device */
    int flow;                       /* -1: the default */
} DeviceSpec;

/* virtio-net: the device and the netdev entry it holds. */
typedef struct NetPlug {
    VirtHotplug *hp;
    PvVirtioNet *net;
    Netdev *netdev;
} NetPlug;

static MemoryRegion *net_mmio(void *d)
{
    return pv_virtio_net_mmio(((NetPlug *)d)->net);
}

static void net_destroy(void *d)
{
    NetPlug *np = d;

    pv_virtio_net_destroy(np->net);     /* detaches from the netdev */
    pthread_mutex_lock(&np->hp->lock);
    np->netdev->in_use = false;
    pthread_mutex_unlock(&np->hp->lock);
    free(np);
}

static void net_reset(void *d)
{
    pv_virtio_reset(pv_virtio_net_virtio(((NetPlug *)d)->net));
}

static const VirtPlugOps net_plug = { .mmio = net_mmio, .destroy = net_destroy,
                                      .reset = net_reset };

/* Reserve netdev @id for a device (NULL and @err if there is none). */
static Netdev *take_netdev(VirtHotplug *hp, const char *id, char *err, size_t len)
{
    Netdev *found = NULL;
    bool busy = false;

    pthread_mutex_lock(&hp->lock);
    for (unsigned i = 0; i < PV_MAX_NETDEVS && !found; i++) {
        Netdev *n = &hp->netdev[i];
        if (n->nd && !strcmp(pv_netdev_id(n->nd), id)) {
            busy = n->in_use;
            found = n;
            n->in_use = true;
        }
    }
    pthread_mutex_unlock(&hp->lock);
    if (!found) {
        snprintf(err, len, "Property 'virtio-net-device.netdev' can't find value '%s'", id);
    } else if (busy) {
        snprintf(err, len, "Property 'virtio-net-device.netdev' can't take value '%s', "
                 "it's in use", id);
        return NULL;
    }
    return found;
}

static void *create_net(VirtHotplug *hp, Slot *s, const DeviceSpec *spec, char *err, size_t len)
{
    Virt *m = hp->m;
    PvVirtioNetConf conf;
    NetPlug *np;
    Netdev *n;
    char name[64];
    const char *id = spec->id && *spec->id ? spec->id : NULL;

    if (!spec->netdev) {
        snprintf(err, len, "netdev property not set");
        return NULL;
    }
    pv_virtio_net_conf_init(&conf);
    if (spec->mac && pv_virtio_net_conf_set(&conf, "mac", spec->mac, err, len) != 0) {
        return NULL;
    }
    conf.rx_flow = spec->flow;          /* -1: the netdev's rx-flow= */
    n = take_netdev(hp, spec->netdev, err, len);
    if (!n) {
        return NULL;
    }
    np = calloc(1, sizeof(*np));
    if (!np) {
        snprintf(err, len, "out of memory");
        goto fail;
    }
    if (!id) {                          /* for guest-error messages */
        snprintf(name, sizeof(name), "virtio-net[%s]", spec->netdev);
        id = name;
    }
    PvIrq irq = pv_plic_input(m->plic, VIRT_VIRTIO_IRQ + s->index);
    np->hp = hp;
    np->netdev = n;
    np->net = pv_virtio_net_new(&m->vm, &m->as, m->loop, id, &irq, n->nd, &conf, err, len);
    if (!np->net) {
        goto fail;
    }
    return np;

fail:
    free(np);
    pthread_mutex_lock(&hp->lock);
    n->in_use = false;
    pthread_mutex_unlock(&hp->lock);
    return NULL;
}


/* Take drive @id's backend for a device (NULL and @err if there is none). */
static PvBlock *take_drive(VirtHotplug *hp, const char *id, char *err, size_t len)
{
    PvBlock *blk = NULL;
    bool found = false;
    pthread_mutex_lock(&hp->lock);
    for (unsigned i = 0; i < PV_MAX_DRIVES && !found; i++) {
        Drive *d = &hp->drive[i];
        if (d->id[0] && !strcmp(d->id, id)) {
            found = true;
            blk = d->blk;
            d->blk = NULL;
            if (blk) {
                d->id[0] = '\0';       /* goes with the device */
            }
        }
    }
    pthread_mutex_unlock(&hp->lock);
    if (!found) {
        snprintf(err, len, "Property 'virtio-blk-device.drive' can't find value '%s'", id);
    } else if (!blk) {
        snprintf(err, len, "Drive '%s' is already in use by another device", id);
    }
    return blk;
}

/*
 * Create the device @spec describes for slot @s (its IRQ is the slot's PLIC
 * line).  Main thread or I/O thread, no lock held.  0, or -1 with @err.
 */
static int create_device(VirtHotplug *hp, Slot *s, const DeviceSpec *spec, VirtPlug *out,
                         char *err, size_t len)
{
    Virt *m = hp->m;
    const char *id = spec->id ? spec->id : "";

    if (!strcmp(spec->driver, "parvm-testdev")) {
        out->ops = &testdev_plug;
        out->dev = pv_testdev_new(&m->vm, &m->as, id);
    } else if (!strcmp(spec->driver, "virtio-blk-device")) {
        if (!spec->drive) {
            snprintf(err, len, "drive property not set");
            return -1;
        }
        PvBlock *blk = take_drive(hp, spec->drive, err, len);
        if (!blk) {
            return -1;
        }
        PvIrq irq = pv_plic_input(m->plic, VIRT_VIRTIO_IRQ + s->index);
        char name[48];
        if (!*id) {             /* for guest-error messages */
            snprintf(name, sizeof(name), "virtio-blk[%s]", spec->drive);
            id = name;
        }
        out->ops = &blk_plug;
        /* QEMU's serial is empty unless given; parvm's is the drive's id. */
        out->dev = pv_virtio_blk_new(&m->vm, &m->as, m->loop, id, &irq, blk,
                                     spec->serial ? spec->serial : spec->drive,
                                     spec->flow >= 0 ? (PvFlow)spec->flow : PV_FLOW_TRYLOCK);
    } else if (!strcmp(spec->driver, "virtio-net-device")) {
        out->ops = &net_plug;
        out->dev = create_net(hp, s, spec, err, len);
        if (!out->dev) {
            return -1;
        }
    } else {
        snprintf(err, len, "'%s' is not a valid device model name", spec->driver);
        return -1;
    }
    if (!out->dev) {
        snprintf(err, len, "cannot create %s", spec->driver);
        return -1;
    }
    return 0;
}

/* Map @p over slot @s's empty transport (commit never waits) and publish it
 * in the slot, which must be reserved (REMOVING) by the caller. */
static void plug_into(VirtHotplug *hp, Slot *s, const VirtPlug *p)
{
    Virt *m = hp->m;
    memory_region_transaction_begin(&m->vm);
    memory_region_add_subregion_overlap(&m->root, slot_base(s->index), p->ops->mmio(p->dev), 1);
    memory_region_transaction_commit(&m->vm);
    pthread_mutex_lock(&hp->lock);
    s->plug = *p;
    s->state = SLOT_PRESENT;
    pthread_mutex_unlock(&hp->lock);
}


/* ---- removal --------------------------------------------------------------- */

/*
 * No pv lock held, not inside a dispatch: the caller may wait.  The slot is
 * REMOVING, so no one else touches its device.
 */
static void remove_slot(Slot *s)
{
    VirtHotplug *hp = s->hp;
    char id[64];

    pv_timer_cancel(s->timeout);
    /* Unmaps the device's window, marks it removed, waits for the accesses
     * in flight (G1, G3) and for its own work (a disk's requests); the last
     * reference goes after a grace period (G2). */
    s->plug.ops->destroy(s->plug.dev);
    pv_hotplug_unplugged(hp->ctl, s->index);
    pthread_mutex_lock(&hp->lock);
    snprintf(id, sizeof(id), "%s", s->id);
    s->plug = (VirtPlug){ 0 };
    s->id[0] = '\0';
    s->state = SLOT_EMPTY;
    pthread_mutex_unlock(&hp->lock);
    if (hp->m->qmp) {
        char path[96];
        snprintf(path, sizeof(path), "/machine/peripheral/%s", id);
        pv_qmp_event(hp->m->qmp, "DEVICE_DELETED",
                     json_pack("{s:s, s:s}", "device", id, "path", path));
    }
}

/* Hand a REMOVING slot to the main thread. */
static void queue_for_main(Slot *s)
{
    pthread_mutex_lock(&s->hp->lock);
    s->queued = true;
    pthread_mutex_unlock(&s->hp->lock);
    pv_event_notifier_set(&s->hp->m->wakeup);
}

unsigned virt_hotplug_run_pending(Virt *m)
{
    VirtHotplug *hp = m->hotplug;
    unsigned n = 0;

    if (!hp) {
        return 0;
    }
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        Slot *s = &hp->slot[i];
        pthread_mutex_lock(&hp->lock);
        bool go = s->queued;
        s->queued = false;
        pthread_mutex_unlock(&hp->lock);
        if (go) {
            remove_slot(s);
            n++;
        }
    }
    return n;
}

/* Move @s to REMOVING if it is in one of @from; true if this caller won. */
static bool start_removal(Slot *s, int from_a, int from_b)
{
    bool won = false;
    pthread_mutex_lock(&s->hp->lock);
    if (s->state == from_a || s->state == from_b) {
        s->state = SLOT_REMOVING;
        won = true;
    }
    pthread_mutex_unlock(&s->hp->lock);
    return won;
}

/* End of the guest's eject write: no dispatch lock held any more. */
static void eject_deferred(void *opaque, bool may_wait)
{
    Slot *s = opaque;
    if (may_wait) {
        remove_slot(s);         /* the guest's store returns after this */
    } else {
        queue_for_main(s);      /* ejected from under a lock (device DMA) */
    }
}

/* The controller's EJECT register, inside a lockless dispatch. */
static void eject(void *opaque, unsigned slot)
{
    VirtHotplug *hp = opaque;
    if (slot >= VIRT_VIRTIO_COUNT) {
        return;
    }
    Slot *s = &hp->slot[slot];
    if (!start_removal(s, SLOT_EJECTING, SLOT_PRESENT)) {
        return;                 /* already going, or empty */
    }
    s->work = (PvDeferred){ .fn = eject_deferred, .opaque = s };
    pv_dispatch_defer(&s->work);
}

/* I/O thread: the guest did not eject in time. */
static void timeout_cb(void *opaque)
{
    Slot *s = opaque;
    if (start_removal(s, SLOT_EJECTING, SLOT_EJECTING)) {
        queue_for_main(s);
    }
}

/* ---- QMP ------------------------------------------------------------------ */

static Slot *find_id(VirtHotplug *hp, const char *id)
{
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        if (hp->slot[i].state != SLOT_EMPTY && !strcmp(hp->slot[i].id, id)) {
            return &hp->slot[i];
        }
    }
    return NULL;
}

static void qmp_device_add(PvQmpReply *reply, json_t *args, void *opaque)
{
    VirtHotplug *hp = opaque;
    const char *driver = json_string_value(json_object_get(args, "driver"));
    json_t *jid = json_object_get(args, "id");
    json_t *jslot = json_object_get(args, "slot");
    const char *id = json_is_string(jid) ? json_string_value(jid) : NULL;
    DeviceSpec spec = { .driver = driver, .id = id, .flow = -1 };
    char err[256];
    const char *key;
    json_t *val;

    if (!pv_device_driver_known(driver)) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                           "'%s' is not a valid device model name", driver);
        return;
    }
    /* Device properties: QEMU's names; all strings here. */
    json_object_foreach(args, key, val) {
        if (!strcmp(key, "slot") && !strcmp(driver, "parvm-testdev")) {
            continue;           /* parvm's own: pick the slot (tests) */
        }
        if (!pv_device_prop_known(driver, key) && strcmp(key, "slot") != 0) {
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "Property '%s.%s' not found",
                               driver, key);
            return;
        }
        if (!strcmp(key, "driver") || !strcmp(key, "id") || !strcmp(key, "slot")) {
            continue;
        }
        if (!json_is_string(val)) {
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                               "Parameter '%s' expects a string", key);
            return;
        }
        const char *v = json_string_value(val);
        if (!strcmp(key, "drive")) {
            spec.drive = v;
        } else if (!strcmp(key, "serial")) {
            spec.serial = v;
        } else if (!strcmp(key, "netdev")) {
            spec.netdev = v;
        } else if (!strcmp(key, "mac")) {
            spec.mac = v;
        } else if (!strcmp(key, "x-flow")) {
            spec.flow = pv_flow_parse(v);
            if (spec.flow < 0) {
                pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                                   "x-flow='%s' (parvm has: trylock, queue, notify)", v);
                return;
            }
        }
    }
    if (!id || !*id || strlen(id) >= sizeof(hp->slot[0].id)) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                           "Parameter 'id' is missing or invalid (hot-pluggable devices need one)");
        return;
    }
    if (!strcmp(driver, "virtio-blk-device") && !spec.drive) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "drive property not set");
        return;
    }
    pthread_mutex_lock(&hp->lock);
    Slot *s = NULL;
    if (find_id(hp, id)) {
        pthread_mutex_unlock(&hp->lock);
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "Duplicate device ID '%s'", id);
        return;
    }
    if (json_is_integer(jslot)) {
        json_int_t n = json_integer_value(jslot);
        if (n < 0 || n >= VIRT_VIRTIO_COUNT) {
            pthread_mutex_unlock(&hp->lock);
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "slot %lld does not exist (0-%d)",
                               (long long)n, VIRT_VIRTIO_COUNT - 1);
            return;
        }
        s = &hp->slot[n];
        if (s->state != SLOT_EMPTY) {
            pthread_mutex_unlock(&hp->lock);
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "slot %lld is in use", (long long)n);
            return;
        }
    } else {
        for (unsigned i = 0; i < VIRT_VIRTIO_COUNT && !s; i++) {
            if (hp->slot[i].state == SLOT_EMPTY) {
                s = &hp->slot[i];
            }
        }
        if (!s) {
            pthread_mutex_unlock(&hp->lock);
            pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "no free hot-plug slot");
            return;
        }
    }
    /* Reserve the slot: REMOVING keeps everyone else off until mapped. */
    s->state = SLOT_REMOVING;
    snprintf(s->id, sizeof(s->id), "%s", id);
    pthread_mutex_unlock(&hp->lock);

    VirtPlug p;
    if (create_device(hp, s, &spec, &p, err, sizeof(err)) < 0) {
        pthread_mutex_lock(&hp->lock);
        s->state = SLOT_EMPTY;
        s->id[0] = '\0';
        pthread_mutex_unlock(&hp->lock);
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "%s", err);
        return;
    }
    plug_into(hp, s, &p);
    pv_hotplug_plugged(hp->ctl, s->index);
    pv_qmp_reply_return(reply, NULL);
}

static void qmp_device_del(PvQmpReply *reply, json_t *args, void *opaque)
{
    VirtHotplug *hp = opaque;
    const char *id = json_string_value(json_object_get(args, "id"));

    pthread_mutex_lock(&hp->lock);
    Slot *s = find_id(hp, id);
    if (!s) {
        pthread_mutex_unlock(&hp->lock);
        pv_qmp_reply_error(reply, PV_QMP_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return;
    }
    if (s->state != SLOT_PRESENT) {
        pthread_mutex_unlock(&hp->lock);
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                           "Device %s is already in the process of unplug", id);
        return;
    }
    s->state = SLOT_EJECTING;
    pthread_mutex_unlock(&hp->lock);
    pv_timer_mod(s->timeout, pv_clock_ns() + hp->timeout_ns);
    pv_hotplug_request_eject(hp->ctl, s->index);
    /* As QEMU: answered now; DEVICE_DELETED comes once the device is gone. */
    pv_qmp_reply_return(reply, NULL);
}

/* ---- setup ------------------------------------------------------------------ */

int virt_hotplug_init(Virt *m, const PvOptions *o)
{
    int64_t timeout_ms = o->hotplug_timeout_ms;
    VirtHotplug *hp = calloc(1, sizeof(*hp));
    if (!hp) {
        return -1;
    }
    hp->m = m;
    hp->timeout_ns = timeout_ms * PV_NS_PER_MS;
    pthread_mutex_init(&hp->lock, NULL);
    m->hotplug = hp;
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        hp->slot[i] = (Slot){ .hp = hp, .index = i, .state = SLOT_EMPTY };
        hp->slot[i].timeout = pv_timer_new(m->loop, timeout_cb, &hp->slot[i]);
        if (!hp->slot[i].timeout) {
            return -1;
        }
    }
    PvIrq irq = pv_plic_input(m->plic, VIRT_HOTPLUG_IRQ);
    hp->ctl = pv_hotplug_new(&m->vm, VIRT_VIRTIO_COUNT, &irq, eject, hp);
    if (!hp->ctl) {
        return -1;
    }
    memory_region_transaction_begin(&m->vm);
    memory_region_add_subregion(&m->root, VIRT_HOTPLUG_BASE, pv_hotplug_mmio(hp->ctl));
    memory_region_transaction_commit(&m->vm);
    if (m->qmp) {
        static const PvQmpArg add_args[] = {
            { "driver", PV_QMP_TYPE_STR, false },
            { "id", PV_QMP_TYPE_STR, true },
            { "slot", PV_QMP_TYPE_INT, true },
            { NULL },
        };
        static const PvQmpArg del_args[] = {
            { "id", PV_QMP_TYPE_STR, false },
            { NULL },
        };
        if (pv_qmp_register_args(m->qmp, "device_add", add_args, PV_QMP_EXTRA_ARGS,
                                 qmp_device_add, hp) < 0 ||
            pv_qmp_register_args(m->qmp, "device_del", del_args, 0, qmp_device_del, hp) < 0) {
            return -1;
        }
    }
    return 0;
}

void virt_hotplug_destroy(Virt *m)
{
    VirtHotplug *hp = m->hotplug;
    if (!hp) {
        return;
    }
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        Slot *s = &hp->slot[i];
        if (s->timeout) {
            pv_timer_free(s->timeout);  /* may wait for a running callback */
            s->timeout = NULL;
        }
        if (s->plug.dev) {
            s->plug.ops->destroy(s->plug.dev);
            s->plug = (VirtPlug){ 0 };
        }
    }
    for (unsigned i = 0; i < PV_MAX_DRIVES; i++) {
        pv_block_close(hp->drive[i].blk);     /* never attached */
        hp->drive[i].blk = NULL;
    }
    for (unsigned i = 0; i < PV_MAX_NETDEVS; i++) {
        pv_netdev_free(hp->netdev[i].nd);     /* its devices are gone */
        hp->netdev[i].nd = NULL;
    }
    if (hp->ctl) {
        pv_hotplug_destroy(hp->ctl);
    }
    pthread_mutex_destroy(&hp->lock);
    free(hp);
    m->hotplug = NULL;
}

int virt_hotplug_cold_plug(Virt *m, const PvOptions *o)
{
    VirtHotplug *hp = m->hotplug;
    char err[300];

    for (unsigned i = 0; i < o->ndrives; i++) {
        char err[300], note[300];
        const PvDriveOpt *d = &o->drives[i];
        PvBlock *blk = pv_block_open(m->loop, d->file, d->readonly, (PvBlockEngine)d->aio, err,
                                     sizeof(err), note, sizeof(note));
        if (!blk) {
            fprintf(stderr, "parvm: -drive %s: %s\n", d->arg, err);
            return -1;
        }
        if (note[0]) {
            fprintf(stderr, "parvm: -drive %s: %s\n", d->arg, note);
        }
        snprintf(hp->drive[i].id, sizeof(hp->drive[i].id), "%s", d->id);
        hp->drive[i].blk = blk;
    }
    for (unsigned i = 0; i < o->nnetdevs; i++) {
        PvNetdev *nd = pv_netdev_new(m->loop, o->netdevs[i].arg, err, sizeof(err));
        if (!nd) {
            fprintf(stderr, "parvm: %s\n", err);
            return -1;
        }
        hp->netdev[i].nd = nd;
    }
    for (unsigned i = 0; i < o->ndevices; i++) {
        const PvDeviceOpt *d = &o->devices[i];
        /* As QEMU's virt board: the first -device gets the highest slot
         * (its virtio-mmio buses are searched from the last one created),
         * so Linux numbers the disks as it does on QEMU. */
        Slot *s = &hp->slot[VIRT_VIRTIO_COUNT - 1 - i];
        DeviceSpec spec = { .driver = d->driver, .id = d->id, .drive = d->drive,
                            .serial = d->serial, .netdev = d->netdev, .mac = d->mac,
                            .flow = d->flow };
        VirtPlug p;
        if (create_device(hp, s, &spec, &p, err, sizeof(err)) < 0) {
            fprintf(stderr, "parvm: -device %s: %s\n", d->arg, err);
            return -1;
        }
        pthread_mutex_lock(&hp->lock);
        s->state = SLOT_REMOVING;
        snprintf(s->id, sizeof(s->id), "%s", d->id ? d->id : "");
        pthread_mutex_unlock(&hp->lock);
        plug_into(hp, s, &p);
        pv_hotplug_present(hp->ctl, s->index);
    }
    return 0;
}

void virt_hotplug_reset(Virt *m)
{
    VirtHotplug *hp = m->hotplug;
    if (!hp) {
        return;
    }
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        pthread_mutex_lock(&hp->lock);
        VirtPlug p = hp->slot[i].state == SLOT_PRESENT || hp->slot[i].state == SLOT_EJECTING
                         ? hp->slot[i].plug : (VirtPlug){ 0 };
        pthread_mutex_unlock(&hp->lock);
        /* Only this thread removes while the harts are held (the forced
         * removal is handed to it), so the device stays while we call. */
        if (p.dev && p.ops->reset) {
            p.ops->reset(p.dev);
        }
    }
}
