/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "parvm/vm.h"

#include <stdarg.h>
#include <stdio.h>

PvLockClass pv_global_lock_class = PV_LOCK_CLASS_INIT("global", PV_LOCK_KIND_GLOBAL);
PvLockClass pv_map_lock_class = PV_LOCK_CLASS_INIT("memory-map", PV_LOCK_KIND_CORE);

void pv_vm_init(PvVm *vm)
{
    pv_mutex_init(&vm->global_lock, &pv_global_lock_class);
    pv_mutex_init(&vm->map_lock, &pv_map_lock_class);
    atomic_init(&vm->all_global, false);
    atomic_init(&vm->generation, 0);
    atomic_init(&vm->guest_errors, 0);
    vm->address_spaces = NULL;
    vm->in_transaction = false;
}

void pv_vm_destroy(PvVm *vm)
{
    pv_mutex_destroy(&vm->map_lock);
    pv_mutex_destroy(&vm->global_lock);
}

void pv_vm_set_all_global(PvVm *vm, bool on)
{
    atomic_store_explicit(&vm->all_global, on, memory_order_relaxed);
}

void pv_guest_error(PvVm *vm, const char *fmt, ...)
{
    uint64_t n = atomic_fetch_add_explicit(&vm->guest_errors, 1, memory_order_relaxed);
    /* A guest can provoke these at will: log the first ones, count all. */
    if (n < 100) {
        va_list ap;
        va_start(ap, fmt);
        fputs("parvm: guest error: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (n == 100) {
        fputs("parvm: guest error: further guest errors are counted, not logged\n", stderr);
    }
}

uint64_t pv_vm_guest_errors(const PvVm *vm)
{
    return atomic_load_explicit(&vm->guest_errors, memory_order_relaxed);
}
