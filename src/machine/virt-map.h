/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's riscv64 virt memory map and interrupt numbers, for the devices
 * parvm has.  A guest written for qemu-system-riscv64 -machine virt finds
 * everything at the same place.
 */
#ifndef PARVM_MACHINE_VIRT_MAP_H
#define PARVM_MACHINE_VIRT_MAP_H

#define VIRT_MROM_BASE      0x1000ull
#define VIRT_MROM_SIZE      0xf000ull
#define VIRT_TEST_BASE      0x100000ull
#define VIRT_TEST_SIZE      0x1000ull
#define VIRT_RTC_BASE       0x101000ull
#define VIRT_RTC_SIZE       0x1000ull
#define VIRT_RTC_IRQ        11
#define VIRT_CLINT_BASE     0x2000000ull
#define VIRT_CLINT_SIZE     0x10000ull
#define VIRT_PLIC_BASE      0xc000000ull
#define VIRT_PLIC_SIZE      0x600000ull
#define VIRT_PLIC_SOURCES   96          /* riscv,ndev */
#define VIRT_UART_BASE      0x10000000ull
#define VIRT_UART_SIZE      0x100ull
#define VIRT_UART_IRQ       10
#define VIRT_UART_CLOCK_HZ  3686400
#define VIRT_VIRTIO_BASE    0x10001000ull
#define VIRT_VIRTIO_SIZE    0x1000ull
#define VIRT_VIRTIO_COUNT   8
#define VIRT_VIRTIO_IRQ     1           /* slot i: 1 + i */
#define VIRT_DRAM_BASE      0x80000000ull
/* parvm's own: the hot-plug controller (no QEMU counterpart), in a hole of
 * QEMU's map, on a free PLIC source.  It owns the virtio-mmio slots. */
#define VIRT_HOTPLUG_BASE   0x10200000ull
#define VIRT_HOTPLUG_SIZE   0x1000ull
#define VIRT_HOTPLUG_IRQ    12
#define VIRT_TIMEBASE_HZ    10000000

#endif
