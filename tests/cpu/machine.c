/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The test machine: see machine.h. */
#include "machine.h"

#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tm_mtime(const TestMachine *m)
{
    return (now_ns() - m->t0_ns) / 100; /* 10 MHz */
}

static uint8_t *ram_ptr(void *opaque, uint64_t pa, RiscvAccess access,
                        uint64_t *avail)
{
    TestMachine *m = opaque;
    (void)access;
    if (pa < TM_RAM_BASE || pa - TM_RAM_BASE >= m->ram_size)
        return NULL;
    *avail = m->ram_size - (pa - TM_RAM_BASE);
    return m->ram + (pa - TM_RAM_BASE);
}

static void timer_update(TestMachine *m, unsigned hart)
{
    uint64_t cmp = __atomic_load_n(&m->mtimecmp[hart], __ATOMIC_ACQUIRE);
    riscv_hart_set_pending(m->harts[hart], RISCV_MIP_MTIP,
                           tm_mtime(m) >= cmp);
}

static void do_exit(TestMachine *m, int code)
{
    int expected = 0;
    if (__atomic_compare_exchange_n(&m->exit_state, &expected, 2, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        m->exit_code = code;
        __atomic_store_n(&m->exit_state, 1, __ATOMIC_RELEASE);
    }
    for (unsigned i = 0; i < m->nharts; i++)
        riscv_hart_kick(m->harts[i]);
}

static int mmio_read(void *opaque, uint64_t pa, unsigned size, uint64_t *val)
{
    TestMachine *m = opaque;
    if (pa >= TM_UART_ADDR && pa < TM_UART_ADDR + 8) {
        *val = pa - TM_UART_ADDR == 5 ? 0x60 : 0; /* LSR: THR empty */
        return RISCV_BUS_OK;
    }
    if (pa >= TM_CLINT_ADDR && pa < TM_CLINT_ADDR + 0x10000) {
        uint64_t off = pa - TM_CLINT_ADDR;
        if (off < 4 * m->nharts && size == 4) {
            *val = (riscv_hart_get_pending(m->harts[off / 4]) >> 3) & 1;
            return RISCV_BUS_OK;
        }
        if (off >= 0x4000 && off < 0x4000 + 8 * m->nharts) {
            uint64_t v = __atomic_load_n(&m->mtimecmp[(off - 0x4000) / 8],
                                         __ATOMIC_ACQUIRE);
            *val = size == 8 ? v : (v >> (8 * (off & 4))) & 0xffffffffu;
            return RISCV_BUS_OK;
        }
        if (off >= 0xbff8 && off < 0xc000) {
            uint64_t v = tm_mtime(m);
            *val = size == 8 ? v : (v >> (8 * (off & 4))) & 0xffffffffu;
            return RISCV_BUS_OK;
        }
    }
    if (pa >= TM_EXIT_ADDR && pa < TM_EXIT_ADDR + 4) {
        *val = 0;
        return RISCV_BUS_OK;
    }
    __atomic_fetch_add(&m->mmio_errors, 1, __ATOMIC_RELAXED);
    return RISCV_BUS_UNASSIGNED;
}

static int mmio_write(void *opaque, uint64_t pa, unsigned size, uint64_t val)
{
    TestMachine *m = opaque;
    if (pa == TM_EXIT_ADDR && size == 4) {
        uint32_t v = (uint32_t)val;
        if ((v & 0xffff) == 0x5555)
            do_exit(m, 0);
        else if ((v & 0xffff) == 0x3333)
            do_exit(m, (int)(v >> 16));
        return RISCV_BUS_OK;
    }
    if (pa >= TM_UART_ADDR && pa < TM_UART_ADDR + 8) {
        if (pa == TM_UART_ADDR) {
            pthread_mutex_lock(&out_lock);
            if (m->out_len + 1 >= m->out_cap) {
                size_t cap = m->out_cap ? m->out_cap * 2 : 4096;
                char *n = realloc(m->out, cap);
                if (n) {
                    m->out = n;
                    m->out_cap = cap;
                }
            }
            if (m->out_len + 1 < m->out_cap) {
                m->out[m->out_len++] = (char)val;
                m->out[m->out_len] = 0;
            }
            pthread_mutex_unlock(&out_lock);
            if (m->echo) {
                putchar((int)(val & 0xff));
                fflush(stdout);
            }
        }
        return RISCV_BUS_OK;
    }
    if (pa >= TM_CLINT_ADDR && pa < TM_CLINT_ADDR + 0x10000) {
        uint64_t off = pa - TM_CLINT_ADDR;
        if (off < 4 * m->nharts && size == 4) {
            riscv_hart_set_pending(m->harts[off / 4], RISCV_MIP_MSIP,
                                   val & 1);
            return RISCV_BUS_OK;
        }
        if (off >= 0x4000 && off < 0x4000 + 8 * m->nharts) {
            unsigned hart = (unsigned)((off - 0x4000) / 8);
            uint64_t *p = &m->mtimecmp[hart];
            if (size == 8) {
                __atomic_store_n(p, val, __ATOMIC_RELEASE);
            } else {
                unsigned sh = 8 * (off & 4);
                uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
                uint64_t n = (old & ~(0xffffffffull << sh)) |
                             ((val & 0xffffffffull) << sh);
                __atomic_store_n(p, n, __ATOMIC_RELEASE);
            }
            timer_update(m, hart);
            return RISCV_BUS_OK;
        }
    }
    __atomic_fetch_add(&m->mmio_errors, 1, __ATOMIC_RELAXED);
    return RISCV_BUS_UNASSIGNED;
}

typedef struct HartCtx {
    TestMachine *m;
    unsigned idx;
} HartCtx;

static uint64_t bus_time(void *opaque)
{
    return tm_mtime(opaque);
}

TestMachine *tm_new(uint64_t ram_size, unsigned nharts, uint64_t reset_pc)
{
    if (nharts == 0 || nharts > TM_MAX_HARTS)
        return NULL;
    TestMachine *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->ram == MAP_FAILED) {
        free(m);
        return NULL;
    }
    m->ram_size = ram_size;
    m->nharts = nharts;
    m->t0_ns = now_ns();
    RiscvBus bus = {
        .opaque = m,
        .ram_ptr = ram_ptr,
        .mmio_read = mmio_read,
        .mmio_write = mmio_write,
        .time = bus_time,
        .quiescent = NULL,
    };
    for (unsigned i = 0; i < nharts; i++) {
        /* mtimecmp resets to 0, as on QEMU's virt: MTIP is pending until
         * the guest moves it */
        m->mtimecmp[i] = 0;
        m->harts[i] = riscv_hart_new(&bus, i, reset_pc);
        if (!m->harts[i]) {
            tm_free(m);
            return NULL;
        }
        timer_update(m, i);
    }
    return m;
}

void tm_free(TestMachine *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nharts; i++)
        riscv_hart_free(m->harts[i]);
    munmap(m->ram, m->ram_size);
    free(m->out);
    free(m);
}

bool tm_load_elf(TestMachine *m, const char *path, uint64_t *entry)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return false;
    }
    Elf64_Ehdr eh;
    bool ok = false;
    if (fread(&eh, sizeof(eh), 1, f) != 1 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_RISCV) {
        fprintf(stderr, "%s: not a RISC-V ELF64 file\n", path);
        goto out;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (fseek(f, (long)(eh.e_phoff + (uint64_t)i * eh.e_phentsize),
                  SEEK_SET) != 0 ||
            fread(&ph, sizeof(ph), 1, f) != 1) {
            fprintf(stderr, "%s: truncated program headers\n", path);
            goto out;
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_paddr < TM_RAM_BASE || ph.p_filesz > ph.p_memsz ||
            ph.p_memsz > m->ram_size ||
            ph.p_paddr - TM_RAM_BASE > m->ram_size - ph.p_memsz) {
            fprintf(stderr, "%s: segment outside RAM\n", path);
            goto out;
        }
        uint8_t *dst = m->ram + (ph.p_paddr - TM_RAM_BASE);
        memset(dst, 0, ph.p_memsz);
        if (ph.p_filesz &&
            (fseek(f, (long)ph.p_offset, SEEK_SET) != 0 ||
             fread(dst, ph.p_filesz, 1, f) != 1)) {
            fprintf(stderr, "%s: truncated segment\n", path);
            goto out;
        }
    }
    *entry = eh.e_entry;
    ok = true;
out:
    fclose(f);
    return ok;
}

static void *hart_thread(void *arg)
{
    HartCtx *c = arg;
    TestMachine *m = c->m;
    RiscvHart *h = m->harts[c->idx];

    for (;;) {
        RiscvExit r = riscv_hart_run(h, 1000000);
        if (__atomic_load_n(&m->exit_state, __ATOMIC_ACQUIRE) != 0)
            break;
        timer_update(m, c->idx);
        if (r == RISCV_EXIT_WFI) {
            /* Sleep until an interrupt, or until this hart's timer is due
             * (this machine has no timer thread). */
            uint64_t cmp = __atomic_load_n(&m->mtimecmp[c->idx],
                                           __ATOMIC_ACQUIRE);
            uint64_t now = tm_mtime(m);
            int64_t ns = cmp == UINT64_MAX ? 100000000
                         : cmp > now ? (int64_t)((cmp - now) * 100) : 0;
            if (ns > 100000000)
                ns = 100000000;
            riscv_hart_wait(h, ns);
            timer_update(m, c->idx);
        }
    }
    return NULL;
}

int tm_run(TestMachine *m, double timeout_s)
{
    pthread_t th[TM_MAX_HARTS];
    HartCtx ctx[TM_MAX_HARTS];
    uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);

    for (unsigned i = 0; i < m->nharts; i++) {
        ctx[i].m = m;
        ctx[i].idx = i;
        pthread_create(&th[i], NULL, hart_thread, &ctx[i]);
    }
    int code = -1;
    for (;;) {
        if (__atomic_load_n(&m->exit_state, __ATOMIC_ACQUIRE) == 1) {
            code = m->exit_code;
            break;
        }
        if (now_ns() > deadline) {
            do_exit(m, -1);
            break;
        }
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < m->nharts; i++)
        pthread_join(th[i], NULL);
    return code;
}
