/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virt-fdt.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>

#include "virt-map.h"

/* Fixed phandles: the tree is written in one pass, references first. */
enum {
    PH_TEST = 1,
    PH_PLIC = 2,
    PH_CPU_BASE = 3,            /* cpu h: 3 + 2h, its interrupt controller 4 + 2h */
};

#define CHECK(x) do { if ((x) < 0) goto fail; } while (0)

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
    fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
    return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int begin_node_addr(void *fdt, const char *name, uint64_t addr)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
    return fdt_begin_node(fdt, buf);
}

/* An MMIO device on the PLIC. */
static int irq_device(void *fdt, const char *name, uint64_t base, uint64_t size,
                      unsigned irq, const char *compat, size_t compat_len)
{
    if (begin_node_addr(fdt, name, base) < 0 ||
        fdt_property_u32(fdt, "interrupts", irq) < 0 ||
        fdt_property_u32(fdt, "interrupt-parent", PH_PLIC) < 0 ||
        prop_reg(fdt, base, size) < 0 ||
        fdt_property(fdt, "compatible", compat, (int)compat_len) < 0) {
        return -1;
    }
    return fdt_end_node(fdt);
}

static int syscon_node(void *fdt, const char *name, uint32_t value, const char *compat)
{
    if (fdt_begin_node(fdt, name) < 0 || fdt_property_u32(fdt, "value", value) < 0 ||
        fdt_property_u32(fdt, "offset", 0) < 0 || fdt_property_u32(fdt, "regmap", PH_TEST) < 0 ||
        fdt_property_string(fdt, "compatible", compat) < 0) {
        return -1;
    }
    return fdt_end_node(fdt);
}

static int cpus_node(void *fdt, const VirtFdtConfig *cfg)
{
    char name[32];

    CHECK(fdt_begin_node(fdt, "cpus"));
    CHECK(fdt_property_u32(fdt, "#address-cells", 1));
    CHECK(fdt_property_u32(fdt, "#size-cells", 0));
    CHECK(fdt_property_u32(fdt, "timebase-frequency", VIRT_TIMEBASE_HZ));
    for (unsigned h = 0; h < cfg->nharts; h++) {
        snprintf(name, sizeof(name), "cpu@%x", h);
        CHECK(fdt_begin_node(fdt, name));
        CHECK(fdt_property_u32(fdt, "phandle", PH_CPU_BASE + 2 * h));
        CHECK(fdt_property_string(fdt, "device_type", "cpu"));
        CHECK(fdt_property_u32(fdt, "reg", h));
        CHECK(fdt_property_string(fdt, "status", "okay"));
        CHECK(fdt_property_string(fdt, "compatible", "riscv"));
        CHECK(fdt_property_string(fdt, "riscv,isa", cfg->isa));
        CHECK(fdt_property_string(fdt, "mmu-type", cfg->mmu_type));
        CHECK(fdt_begin_node(fdt, "interrupt-controller"));
        CHECK(fdt_property_u32(fdt, "#interrupt-cells", 1));
        CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
        CHECK(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
        CHECK(fdt_property_u32(fdt, "phandle", PH_CPU_BASE + 2 * h + 1));
        CHECK(fdt_end_node(fdt));
        CHECK(fdt_end_node(fdt));
    }
    CHECK(fdt_begin_node(fdt, "cpu-map"));
    CHECK(fdt_begin_node(fdt, "cluster0"));
    for (unsigned h = 0; h < cfg->nharts; h++) {
        snprintf(name, sizeof(name), "core%u", h);
        CHECK(fdt_begin_node(fdt, name));
        CHECK(fdt_property_u32(fdt, "cpu", PH_CPU_BASE + 2 * h));
        CHECK(fdt_end_node(fdt));
    }
    CHECK(fdt_end_node(fdt));
    CHECK(fdt_end_node(fdt));
    return fdt_end_node(fdt);
fail:
    return -1;
}

/* interrupts-extended: for each hart, <intc irq_m> then <intc irq_s>. */
static int hart_irqs(void *fdt, const char *prop, unsigned nharts, uint32_t m, uint32_t s)
{
    fdt32_t *cells = malloc(4 * sizeof(*cells) * nharts);
    if (!cells) {
        return -1;
    }
    for (unsigned h = 0; h < nharts; h++) {
        cells[4 * h + 0] = cpu_to_fdt32(PH_CPU_BASE + 2 * h + 1);
        cells[4 * h + 1] = cpu_to_fdt32(m);
        cells[4 * h + 2] = cpu_to_fdt32(PH_CPU_BASE + 2 * h + 1);
        cells[4 * h + 3] = cpu_to_fdt32(s);
    }
    int r = fdt_property(fdt, prop, cells, (int)(4 * sizeof(*cells) * nharts));
    free(cells);
    return r;
}

static int soc_node(void *fdt, const VirtFdtConfig *cfg)
{
    static const char rtc[] = "google,goldfish-rtc";
    static const char uart[] = "ns16550a";
    static const char test[] = "sifive,test1\0sifive,test0\0syscon";
    static const char virtio[] = "virtio,mmio";
    static const char plic[] = "sifive,plic-1.0.0\0riscv,plic0";
    static const char clint[] = "sifive,clint0\0riscv,clint0";

    CHECK(fdt_begin_node(fdt, "soc"));
    CHECK(fdt_property_u32(fdt, "#address-cells", 2));
    CHECK(fdt_property_u32(fdt, "#size-cells", 2));
    CHECK(fdt_property_string(fdt, "compatible", "simple-bus"));
    CHECK(fdt_property(fdt, "ranges", NULL, 0));

    CHECK(irq_device(fdt, "rtc", VIRT_RTC_BASE, VIRT_RTC_SIZE, VIRT_RTC_IRQ, rtc, sizeof(rtc)));

    CHECK(begin_node_addr(fdt, "serial", VIRT_UART_BASE));
    CHECK(fdt_property_u32(fdt, "interrupts", VIRT_UART_IRQ));
    CHECK(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
    CHECK(fdt_property_u32(fdt, "clock-frequency", VIRT_UART_CLOCK_HZ));
    CHECK(prop_reg(fdt, VIRT_UART_BASE, VIRT_UART_SIZE));
    CHECK(fdt_property(fdt, "compatible", uart, sizeof(uart)));
    CHECK(fdt_end_node(fdt));

    CHECK(begin_node_addr(fdt, "test", VIRT_TEST_BASE));
    CHECK(fdt_property_u32(fdt, "phandle", PH_TEST));
    CHECK(prop_reg(fdt, VIRT_TEST_BASE, VIRT_TEST_SIZE));
    CHECK(fdt_property(fdt, "compatible", test, sizeof(test)));
    CHECK(fdt_end_node(fdt));

    /* QEMU lists the slots from the last to the first. */
    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--) {
        CHECK(irq_device(fdt, "virtio_mmio", VIRT_VIRTIO_BASE + (uint64_t)i * VIRT_VIRTIO_SIZE,
                         VIRT_VIRTIO_SIZE, VIRT_VIRTIO_IRQ + (unsigned)i, virtio, sizeof(virtio)));
    }

    CHECK(begin_node_addr(fdt, "plic", VIRT_PLIC_BASE));
    CHECK(fdt_property_u32(fdt, "phandle", PH_PLIC));
    CHECK(fdt_property_u32(fdt, "riscv,ndev", VIRT_PLIC_SOURCES));
    CHECK(prop_reg(fdt, VIRT_PLIC_BASE, VIRT_PLIC_SIZE));
    CHECK(hart_irqs(fdt, "interrupts-extended", cfg->nharts, 11, 9));  /* MEI, SEI */
    CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
    CHECK(fdt_property(fdt, "compatible", plic, sizeof(plic)));
    CHECK(fdt_property_u32(fdt, "#address-cells", 0));
    CHECK(fdt_property_u32(fdt, "#interrupt-cells", 1));
    CHECK(fdt_end_node(fdt));

    /* parvm's own hot-plug controller (docs/hotplug.md); QEMU has none. */
    static const char hotplug[] = "parvm,hotplug-controller";
    CHECK(irq_device(fdt, "hotplug", VIRT_HOTPLUG_BASE, VIRT_HOTPLUG_SIZE, VIRT_HOTPLUG_IRQ,
                     hotplug, sizeof(hotplug)));

    CHECK(begin_node_addr(fdt, "clint", VIRT_CLINT_BASE));
    CHECK(hart_irqs(fdt, "interrupts-extended", cfg->nharts, 3, 7));   /* MSI, MTI */
    CHECK(prop_reg(fdt, VIRT_CLINT_BASE, VIRT_CLINT_SIZE));
    CHECK(fdt_property(fdt, "compatible", clint, sizeof(clint)));
    CHECK(fdt_end_node(fdt));

    return fdt_end_node(fdt);
fail:
    return -1;
}

void *virt_fdt_build(const VirtFdtConfig *cfg, size_t *size)
{
    size_t cap = 64 * 1024 + 512 * cfg->nharts;
    void *fdt = malloc(cap);

    if (!fdt) {
        return NULL;
    }
    CHECK(fdt_create(fdt, (int)cap));
    CHECK(fdt_finish_reservemap(fdt));
    CHECK(fdt_begin_node(fdt, ""));
    CHECK(fdt_property_u32(fdt, "#address-cells", 2));
    CHECK(fdt_property_u32(fdt, "#size-cells", 2));
    CHECK(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    CHECK(fdt_property_string(fdt, "model", "riscv-virtio,qemu"));

    CHECK(fdt_begin_node(fdt, "chosen"));
    if (cfg->initrd) {
        CHECK(fdt_property_u32(fdt, "linux,initrd-end", 0));
        CHECK(fdt_property_u32(fdt, "linux,initrd-start", 0));
    }
    if (cfg->bootargs) {
        CHECK(fdt_property_string(fdt, "bootargs", cfg->bootargs));
    }
    CHECK(fdt_property_string(fdt, "stdout-path", "/soc/serial@10000000"));
    CHECK(fdt_end_node(fdt));

    CHECK(syscon_node(fdt, "poweroff", 0x5555, "syscon-poweroff"));
    CHECK(syscon_node(fdt, "reboot", 0x7777, "syscon-reboot"));

    CHECK(begin_node_addr(fdt, "memory", cfg->ram_base));
    CHECK(fdt_property_string(fdt, "device_type", "memory"));
    CHECK(prop_reg(fdt, cfg->ram_base, cfg->ram_size));
    CHECK(fdt_end_node(fdt));

    CHECK(cpus_node(fdt, cfg));
    CHECK(soc_node(fdt, cfg));
    CHECK(fdt_end_node(fdt));
    CHECK(fdt_finish(fdt));
    CHECK(fdt_pack(fdt));
    *size = fdt_totalsize(fdt);
    return fdt;
fail:
    free(fdt);
    return NULL;
}

int virt_fdt_set_initrd(void *fdt, uint64_t start, uint64_t end)
{
    int node = fdt_path_offset(fdt, "/chosen");

    if (node < 0 || end > UINT32_MAX || start > end) {
        return -1;
    }
    if (fdt_setprop_inplace_u32(fdt, node, "linux,initrd-start", (uint32_t)start) < 0 ||
        fdt_setprop_inplace_u32(fdt, node, "linux,initrd-end", (uint32_t)end) < 0) {
        return -1;
    }
    return 0;
}
