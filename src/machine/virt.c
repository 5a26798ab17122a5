/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Assembly of the virt board: memory map, devices and their interrupt
 * wiring, images, the device tree and the reset ROM; then the harts run on
 * their own threads until the guest asks to stop.
 */
#include "virt.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "parvm/event-loop.h"
#include "parvm/hw/clint.h"
#include "parvm/hw/goldfish-rtc.h"
#include "parvm/hw/plic.h"
#include "parvm/hw/sifive-test.h"
#include "parvm/hw/uart.h"
#include "parvm/hw/virtio-mmio.h"
#include "parvm/rcu.h"
#include "reset-rom.h"
#include "virt-fdt.h"
#include "virt-internal.h"

#define DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
#define HART_ISA "rv64imafdc_zicsr_zifencei"
#define HART_MMU "riscv,sv48"      /* as QEMU says; Sv39 and Sv57 work too */


static void board_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void board_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("parvm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- interrupt wiring --------------------------------------------------- */

/* Device -> hart: @n is the mip bit. */
static void hart_irq(void *opaque, unsigned n, bool level)
{
    PvVcpu *v = opaque;
    riscv_hart_set_pending(v->hart, 1ull << n, level);
}

static uint64_t board_time(void *opaque)
{
    Virt *m = opaque;
    return pv_clint_mtime(m->clint);
}

void virt_request(Virt *m, int req)
{
    atomic_fetch_or(&m->request, req);
    pv_event_notifier_set(&m->wakeup);
}

void virt_request_exit(Virt *m, int status)
{
    int none = -1;
    atomic_compare_exchange_strong(&m->exit_code, &none, status);
    virt_request(m, VIRT_REQ_EXIT);
}

/* On a vCPU thread, inside a lockless dispatch: never blocks. */
static void test_request(void *opaque, PvTestRequest req, int code)
{
    Virt *m = opaque;
    switch (req) {
    case PV_TEST_POWEROFF:
        virt_qmp_shutdown_event(m, true, "guest-shutdown");
        virt_request_exit(m, 0);
        break;
    case PV_TEST_EXIT:
        virt_qmp_shutdown_event(m, true, "guest-shutdown");
        virt_request_exit(m, code);
        break;
    case PV_TEST_RESET:
        virt_request(m, VIRT_REQ_GUEST_RESET);
        break;
    }
}

/* ---- construction --------------------------------------------------------- */

static int create_devices(Virt *m)
{
    unsigned n = m->nharts;

    m->mtip = calloc(n, sizeof(PvIrq));
    m->msip = calloc(n, sizeof(PvIrq));
    m->plic_out = calloc(2 * n, sizeof(PvIrq));
    if (!m->mtip || !m->msip || !m->plic_out) {
        return -1;
    }
    for (unsigned h = 0; h < n; h++) {
        m->mtip[h] = pv_irq_make(hart_irq, &m->vcpus[h], 7);        /* MTIP */
        m->msip[h] = pv_irq_make(hart_irq, &m->vcpus[h], 3);        /* MSIP */
        m->plic_out[2 * h] = pv_irq_make(hart_irq, &m->vcpus[h], 11);    /* MEIP */
        m->plic_out[2 * h + 1] = pv_irq_make(hart_irq, &m->vcpus[h], 9); /* SEIP */
    }
    m->clint = pv_clint_new(&m->vm, m->loop, n, m->mtip, m->msip);
    m->plic = pv_plic_new(&m->vm, n, m->plic_out);
    if (!m->clint || !m->plic) {
        return -1;
    }
    PvIrq uart_irq = pv_plic_input(m->plic, VIRT_UART_IRQ);
    PvIrq rtc_irq = pv_plic_input(m->plic, VIRT_RTC_IRQ);
    m->uart = pv_uart_new(&m->vm, m->loop, &uart_irq, STDOUT_FILENO);
    m->test = pv_sifive_test_new(&m->vm, test_request, m);
    m->rtc = pv_goldfish_rtc_new(&m->vm, m->loop, &rtc_irq);
    if (!m->uart || !m->test || !m->rtc) {
        return -1;
    }
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        char id[48];
        PvIrq irq = pv_plic_input(m->plic, VIRT_VIRTIO_IRQ + i);
        snprintf(id, sizeof(id), "virtio-mmio@%" PRIx64,
                 (uint64_t)(VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE));
        /* An empty slot reads Version 1 on QEMU 7.2 (force-legacy=on). */
        m->virtio[i] = pv_virtio_mmio_new(&m->vm, id, &irq, true);
        if (!m->virtio[i]) {
            return -1;
        }
    }

    memory_region_transaction_begin(&m->vm);
    address_space_init(&m->as, &m->vm, &m->root, "memory");
    memory_region_add_subregion(&m->root, VIRT_MROM_BASE, &m->rom);
    memory_region_add_subregion(&m->root, VIRT_DRAM_BASE, &m->ram);
    memory_region_add_subregion(&m->root, VIRT_TEST_BASE, pv_sifive_test_mmio(m->test));
    memory_region_add_subregion(&m->root, VIRT_RTC_BASE, pv_goldfish_rtc_mmio(m->rtc));
    memory_region_add_subregion(&m->root, VIRT_CLINT_BASE, pv_clint_mmio(m->clint));
    memory_region_add_subregion(&m->root, VIRT_PLIC_BASE, pv_plic_mmio(m->plic));
    memory_region_add_subregion(&m->root, VIRT_UART_BASE, pv_uart_mmio(m->uart));
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        memory_region_add_subregion(&m->root, VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE,
                                    pv_virtio_mmio_mmio(m->virtio[i]));
    }
    memory_region_transaction_commit(&m->vm);
    return 0;
}

/* ---- images --------------------------------------------------------------- */

static int load(const char *what, const char *path, const PvGuestRam *ram, uint64_t raw_addr,
                PvImage *img)
{
    char err[256];
    if (pv_load_image(path, ram, raw_addr, img, err, sizeof(err)) < 0) {
        board_error("%s %s: %s", what, path, err);
        return -1;
    }
    return 0;
}

/* Where QEMU puts the device tree: the top of RAM below 3 GiB, 2 MiB aligned. */
static uint64_t fdt_address(uint64_t ram_base, uint64_t ram_size, size_t fdt_size)
{
    uint64_t end = ram_base + ram_size;
    uint64_t top = ram_base < (3ull << 30) && end > (3ull << 30) ? (3ull << 30) : end;
    return (top - fdt_size) & ~((2ull << 20) - 1);
}

/*
 * System reset of the devices, as QEMU's: each back to its power-on state,
 * interrupt controllers last so that they see the lines the others left.
 * Main thread, harts held, no lock held.
 */
static void reset_devices(Virt *m)
{
    pv_uart_reset(m->uart);
    pv_goldfish_rtc_reset(m->rtc);
    pv_clint_reset(m->clint);
    virt_hotplug_reset(m);      /* virtio devices in the slots */
    pv_plic_reset(m->plic);
}

/*
 * Lay firmware, kernel, initrd and device tree out in @ram as QEMU's virt
 * does: firmware at the start of RAM, a raw kernel at the next 2 MiB
 * boundary after it, the initrd at the kernel's entry + min(RAM / 2,
 * 128 MiB), the device tree at the top of RAM below 3 GiB.  Patches the
 * initrd's place into @fdt before copying it.  On success fills the reset
 * ROM's inputs: the reset vector's target, the tree's address and the
 * kernel's entry for fw_dynamic_info.
 */
static int place_images(const PvOptions *o, const PvGuestRam *ram, void *fdt, size_t fdt_size,
                        uint64_t *entry, uint64_t *fdt_addr_out, uint64_t *next_out)
{
    PvImage fw = { 0 }, kernel = { 0 }, initrd = { 0 };
    uint64_t next = 0;
    bool have_fw = strcmp(o->bios, "none") != 0;

    if (have_fw) {
        const char *path = strcmp(o->bios, "default") ? o->bios : DEFAULT_BIOS;
        if (load("-bios", path, ram, VIRT_DRAM_BASE, &fw) < 0) {
            return -1;
        }
    }
    if (o->kernel) {
        /* After firmware, at the next 2 MiB boundary (where fw_jump jumps). */
        uint64_t at = have_fw ? (fw.high + (2ull << 20) - 1) & ~((2ull << 20) - 1)
                              : VIRT_DRAM_BASE;
        if (load("-kernel", o->kernel, ram, at, &kernel) < 0) {
            return -1;
        }
        next = kernel.entry;
    } else if (!have_fw) {
        board_error("-bios none without -kernel: nothing to run");
        return -1;
    }
    if (o->initrd) {
        uint64_t off = o->ram_size / 2 < (128ull << 20) ? o->ram_size / 2 : (128ull << 20);
        char err[256];
        if (pv_load_raw(o->initrd, ram, next + off, &initrd, err, sizeof(err)) < 0) {
            board_error("-initrd %s: %s", o->initrd, err);
            return -1;
        }
        if (virt_fdt_set_initrd(fdt, initrd.low, initrd.high) < 0) {
            board_error("-initrd %s: ends above 4 GiB", o->initrd);
            return -1;
        }
    }
    /* As QEMU: the reset vector jumps to the start of RAM whatever the ELF
     * entry says; the kernel's entry goes to firmware in fw_dynamic_info. */
    *entry = VIRT_DRAM_BASE;

    uint64_t fdt_addr = fdt_address(VIRT_DRAM_BASE, o->ram_size, fdt_size);
    if (fdt_size > o->ram_size || fdt_addr < VIRT_DRAM_BASE) {
        board_error("-m %" PRIu64 ": RAM too small for the device tree", o->ram_size);
        return -1;
    }
    uint64_t img_high = kernel.high > fw.high ? kernel.high : fw.high;
    if (initrd.high > img_high) {
        img_high = initrd.high;
    }
    if (img_high > fdt_addr) {
        board_error("images end at 0x%" PRIx64 ", over the device tree at 0x%" PRIx64
                    ": give more memory with -m", img_high, fdt_addr);
        return -1;
    }
    memcpy(ram->host + (fdt_addr - VIRT_DRAM_BASE), fdt, fdt_size);
    *fdt_addr_out = fdt_addr;
    *next_out = next;
    return 0;
}

/* Load the images into the machine's RAM; fill the reset ROM. */
static int load_images(Virt *m, const PvOptions *o, void *fdt, size_t fdt_size)
{
    PvGuestRam ram = { .host = m->ram.ram, .base = VIRT_DRAM_BASE, .size = o->ram_size };
    uint64_t entry, fdt_addr, next;

    if (place_images(o, &ram, fdt, fdt_size, &entry, &fdt_addr, &next) < 0) {
        return -1;
    }
    reset_rom_fill(m->rom.ram, entry, fdt_addr, next);
    return 0;
}

/*
 * -machine dumpdtb with -initrd: the tree must say where the initrd goes,
 * which takes laying the images out, as QEMU does before it dumps.  Into
 * scratch memory (untouched pages are never allocated).
 */
static int layout_for_dump(const PvOptions *o, void *fdt, size_t fdt_size)
{
    uint8_t *host = mmap(NULL, o->ram_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uint64_t entry, fdt_addr, next;

    if (host == MAP_FAILED) {
        board_error("-m %" PRIu64 ": cannot allocate guest memory", o->ram_size);
        return -1;
    }
    PvGuestRam ram = { .host = host, .base = VIRT_DRAM_BASE, .size = o->ram_size };
    int r = place_images(o, &ram, fdt, fdt_size, &entry, &fdt_addr, &next);
    munmap(host, o->ram_size);
    return r;
}

/* ---- run ------------------------------------------------------------------ */

/* Main thread: sleep until a device asks for something. */
/* Main thread: sleep until a device or the monitor asks for something;
 * meanwhile do the hot-plug removals handed to us. */
static int wait_for_request(Virt *m)
{
    int req;
    for (;;) {
        virt_hotplug_run_pending(m);
        if ((req = atomic_exchange(&m->request, 0))) {
            return req;
        }
        struct pollfd p[2] = {
            { .fd = m->wakeup.fd, .events = POLLIN },
            { .fd = m->signal_fd, .events = POLLIN },
        };
        pv_rcu_offline();
        int r = poll(p, m->signal_fd >= 0 ? 2 : 1, -1);
        pv_rcu_online();
        if (r < 0 && errno != EINTR) {
            return VIRT_REQ_EXIT;
        }
        struct signalfd_siginfo si;
        if (m->signal_fd >= 0 && (p[1].revents & POLLIN) &&
            read(m->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            virt_qmp_shutdown_event(m, false, "host-signal");
            virt_request_exit(m, 0);
        }
        pv_event_notifier_test_and_clear(&m->wakeup);
    }
}

static int start_monitor(Virt *m, const PvOptions *o)
{
    char err[256];
    PvQmpInfo info = { .major = PARVM_VERSION_MAJOR, .minor = PARVM_VERSION_MINOR,
                       .micro = PARVM_VERSION_MICRO, .package = "parvm " PARVM_VERSION };
    m->qmp = pv_qmp_new(m->loop, &info);
    if (!m->qmp || virt_qmp_register(m) < 0) {
        board_error("cannot create the QMP monitor");
        return -1;
    }
    for (unsigned i = 0; i < o->nqmp; i++) {
        if (pv_qmp_listen(m->qmp, o->qmp[i], err, sizeof(err)) < 0) {
            board_error("-qmp %s: %s", o->qmp[i], err);
            return -1;
        }
    }
    return 0;
}

/*
 * Teardown, in the order that keeps every callback's target alive: the
 * harts stop (their structures stay: device timers still raise their
 * interrupt lines); the monitor goes (no command can reach the run
 * control any more; quit's answer and SHUTDOWN are flushed); hot-plug
 * slots empty; the I/O thread stops (no timer fires any more); then the
 * devices, and only then the harts they interrupted.
 */
static void destroy(Virt *m)
{
    if (m->cpus_ready) {
        pv_cpus_exit(&m->cpus);
    }
    pv_qmp_free(m->qmp);
    virt_hotplug_destroy(m);
    if (m->loop) {
        pv_event_loop_stop(m->loop);
    }
    /* Devices: unrealize (no vCPU runs any more) and drop our reference. */
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        if (m->virtio[i]) {
            pv_virtio_mmio_destroy(m->virtio[i]);
        }
    }
    if (m->rtc) {
        pv_goldfish_rtc_destroy(m->rtc);
    }
    if (m->test) {
        pv_sifive_test_destroy(m->test);
    }
    if (m->uart) {
        pv_uart_destroy(m->uart);
    }
    if (m->plic) {
        pv_plic_destroy(m->plic);
    }
    if (m->clint) {
        pv_clint_destroy(m->clint);
    }
    for (unsigned h = 0; m->vcpus && h < m->nharts; h++) {
        if (m->vcpus[h].hart) {
            pv_vcpu_destroy(&m->vcpus[h]);
        }
    }
    if (m->cpus_ready) {
        pv_cpus_destroy(&m->cpus);
    }
    memory_region_transaction_begin(&m->vm);
    if (m->rom.container) {
        memory_region_del_subregion(&m->root, &m->rom);
    }
    if (m->ram.container) {
        memory_region_del_subregion(&m->root, &m->ram);
    }
    if (m->as.vm) {
        address_space_destroy(&m->as);
    }
    memory_region_transaction_commit(&m->vm);
    pv_rcu_barrier();
    pv_rcu_barrier();   /* views reclaimed, then the devices they held */
    if (m->loop) {
        pv_event_loop_free(m->loop);
    }
    memory_region_destroy(&m->ram);
    memory_region_destroy(&m->rom);
    memory_region_destroy(&m->root);
    pv_event_notifier_cleanup(&m->wakeup);
    if (m->signal_fd >= 0) {
        close(m->signal_fd);
    }
    free(m->mtip);
    free(m->msip);
    free(m->plic_out);
    free(m->vcpus);
    pv_vm_destroy(&m->vm);
}

int virt_machine_run(const PvOptions *o)
{
    VirtFdtConfig fc = {
        .nharts = o->smp, .ram_base = VIRT_DRAM_BASE, .ram_size = o->ram_size,
        .isa = HART_ISA, .mmu_type = HART_MMU, .bootargs = o->append,
        .initrd = o->initrd != NULL,
    };
    size_t fdt_size;
    void *fdt = virt_fdt_build(&fc, &fdt_size);
    int ret = 1;

    if (!fdt) {
        board_error("cannot build the device tree");
        return 1;
    }
    if (o->dumpdtb) {
        if (o->initrd && layout_for_dump(o, fdt, fdt_size) < 0) {
            free(fdt);
            return 1;
        }
        FILE *f = fopen(o->dumpdtb, "wb");
        if (!f || fwrite(fdt, 1, fdt_size, f) != fdt_size || fclose(f) != 0) {
            board_error("dumpdtb=%s: %s", o->dumpdtb, strerror(errno));
        } else {
            fprintf(stderr, "parvm: dtb dumped to %s\n", o->dumpdtb);
            ret = 0;
        }
        free(fdt);
        return ret;
    }

    Virt *m = calloc(1, sizeof(*m));
    if (!m) {
        free(fdt);
        return 1;
    }
    m->nharts = o->smp;
    atomic_init(&m->exit_code, -1);
    /* The stop signals, if main() blocked them for us to take. */
    sigset_t blocked, stop;
    pthread_sigmask(SIG_BLOCK, NULL, &blocked);
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    m->signal_fd = sigismember(&blocked, SIGTERM) ? signalfd(-1, &stop, SFD_CLOEXEC) : -1;
    pv_vm_init(&m->vm);
    pv_vm_set_all_global(&m->vm, o->all_global);
    m->wakeup.fd = -1;
    memory_region_init_container(&m->root, &m->vm, NULL, "system", UINT64_MAX);
    if (memory_region_init_ram(&m->rom, &m->vm, NULL, "mrom", VIRT_MROM_SIZE) < 0 ||
        memory_region_init_ram(&m->ram, &m->vm, NULL, "ram", o->ram_size) < 0) {
        board_error("-m %" PRIu64 ": cannot allocate guest memory", o->ram_size);
        goto out;
    }
    memory_region_set_readonly(&m->rom, true);
    if (pv_event_notifier_init(&m->wakeup) < 0) {
        goto out;
    }
    m->loop = pv_event_loop_new();
    m->vcpus = calloc(m->nharts, sizeof(*m->vcpus));
    if (!m->loop || !m->vcpus) {
        goto out;
    }
    for (unsigned h = 0; h < m->nharts; h++) {
        if (pv_vcpu_init(&m->vcpus[h], h, &m->as, VIRT_MROM_BASE, board_time, m) < 0) {
            goto out;
        }
    }
    pv_cpus_init(&m->cpus, m->vcpus, m->nharts);
    m->cpus_ready = true;
    if (create_devices(m) < 0) {
        board_error("cannot create the board's devices");
        goto out;
    }
    if (load_images(m, o, fdt, fdt_size) < 0) {
        goto out;
    }
    if (pv_event_loop_start(m->loop) < 0) {
        board_error("cannot start the I/O thread");
        goto out;
    }
    for (unsigned i = 0; i < o->nqmp; i++) {
        if (!strcmp(o->qmp[i], "stdio")) {
            /* As QEMU: the console (UART) already uses stdio. */
            board_error("-qmp stdio: cannot use stdio by multiple character devices "
                        "(the console is on stdio)");
            goto out;
        }
    }
    if (o->nqmp && start_monitor(m, o) < 0) {
        goto out;
    }
    if (virt_hotplug_init(m, o) < 0) {
        board_error("cannot create the hot-plug controller");
        goto out;
    }
    if (virt_hotplug_cold_plug(m, o) < 0) {
        goto out;
    }
    pv_uart_attach_input(m->uart, m->loop, STDIN_FILENO);

    atomic_store(&m->prelaunch, o->start_paused);
    if (pv_cpus_start(&m->cpus, o->start_paused) != 0) {
        board_error("cannot start the vCPU threads");
        goto out;
    }
    for (;;) {
        int req = wait_for_request(m);
        if (req & VIRT_REQ_EXIT) {
            ret = atomic_load(&m->exit_code);
            break;
        }
        /* Reset: every hart held parked (no lock held; a QMP cont cannot
         * release a hold), back to the reset vector with the images
         * reloaded; a machine paused by stop stays paused. */
        pv_cpus_hold(&m->cpus);
        for (unsigned h = 0; h < m->nharts; h++) {
            riscv_hart_reset(m->vcpus[h].hart);
        }
        reset_devices(m);
        pv_rcu_offline();       /* reading files */
        int r = load_images(m, o, fdt, fdt_size);
        pv_rcu_online();
        if (r < 0) {
            goto out;
        }
        /* As QEMU: a machine reset while not running is "prelaunch" until
         * the next cont. */
        if (pv_cpus_user_paused(&m->cpus)) {
            atomic_store(&m->prelaunch, true);
        }
        bool guest = (req & VIRT_REQ_GUEST_RESET) != 0;
        virt_qmp_reset_event(m, guest, guest ? "guest-reset" : "host-qmp-system-reset");
        pv_cpus_release(&m->cpus);
    }
out:
    destroy(m);
    free(m);
    free(fdt);
    return ret;
}
