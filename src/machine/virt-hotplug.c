/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virt board's hot-plug: slots, device_add/device_del, eject and forced
 * removal (virt-hotplug.h says who does what on which thread).
 *
 * A slot moves EMPTY -> PRESENT (device_add) -> EJECTING (device_del) ->
 * REMOVING (the guest ejected, or the timeout fired: exactly one of them
 * wins the transition) -> EMPTY (removed, DEVICE_DELETED sent).  A guest may
 * also eject a PRESENT device unasked.  The slot table is under
 * hotplug->lock, a leaf pthread mutex: nothing is called under it.
 */
#include "virt-hotplug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parvm/hw/hotplug.h"
#include "parvm/hw/testdev.h"
#include "parvm/clock.h"
#include "virt-internal.h"

enum { SLOT_EMPTY, SLOT_PRESENT, SLOT_EJECTING, SLOT_REMOVING };

typedef struct Slot {
    VirtHotplug *hp;
    unsigned index;
    int state;                  /* under hp->lock */
    PvTestdev *dev;             /* under hp->lock; owned by the slot */
    char id[64];
    PvTimer *timeout;           /* forced removal */
    PvDeferred work;            /* the eject's removal, deferred */
    bool queued;                /* on the main thread's list; under lock */
} Slot;

struct VirtHotplug {
    Virt *m;
    PvHotplug *ctl;
    pthread_mutex_t lock;
    int64_t timeout_ns;
    Slot slot[VIRT_VIRTIO_COUNT];
};

static hwaddr slot_base(unsigned i)
{
    return VIRT_VIRTIO_BASE + (hwaddr)i * VIRT_VIRTIO_SIZE;
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
     * in flight (G1, G3); the last reference goes after a grace period (G2). */
    pv_testdev_destroy(s->dev);
    pv_hotplug_unplugged(hp->ctl, s->index);
    pthread_mutex_lock(&hp->lock);
    snprintf(id, sizeof(id), "%s", s->id);
    s->dev = NULL;
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
    Virt *m = hp->m;
    const char *driver = json_string_value(json_object_get(args, "driver"));
    json_t *jid = json_object_get(args, "id");
    json_t *jslot = json_object_get(args, "slot");
    const char *id = json_is_string(jid) ? json_string_value(jid) : NULL;

    if (strcmp(driver, "parvm-testdev") != 0) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                           "'%s' is not a valid device model name", driver);
        return;
    }
    if (!id || !*id || strlen(id) >= sizeof(hp->slot[0].id)) {
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC,
                           "Parameter 'id' is missing or invalid (hot-pluggable devices need one)");
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

    PvTestdev *dev = pv_testdev_new(&m->vm, &m->as, id);
    if (!dev) {
        pthread_mutex_lock(&hp->lock);
        s->state = SLOT_EMPTY;
        s->id[0] = '\0';
        pthread_mutex_unlock(&hp->lock);
        pv_qmp_reply_error(reply, PV_QMP_ERROR_GENERIC, "out of memory");
        return;
    }
    /* Over the slot's empty virtio-mmio transport (commit never waits). */
    memory_region_transaction_begin(&m->vm);
    memory_region_add_subregion_overlap(&m->root, slot_base(s->index), pv_testdev_mmio(dev), 1);
    memory_region_transaction_commit(&m->vm);
    pthread_mutex_lock(&hp->lock);
    s->dev = dev;
    s->state = SLOT_PRESENT;
    pthread_mutex_unlock(&hp->lock);
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

int virt_hotplug_init(Virt *m, int64_t timeout_ms)
{
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
        if (pv_qmp_register_args(m->qmp, "device_add", add_args, 0, qmp_device_add, hp) < 0 ||
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
        if (s->dev) {
            pv_testdev_destroy(s->dev);
            s->dev = NULL;
        }
    }
    if (hp->ctl) {
        pv_hotplug_destroy(hp->ctl);
    }
    pthread_mutex_destroy(&hp->lock);
    free(hp);
    m->hotplug = NULL;
}
