/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-side tests of the hart library's API, with hand-encoded programs
 * (no cross compiler needed): running and stopping, instruction budgets,
 * kicks and interrupts from other threads, WFI and riscv_hart_wait, TLB
 * and decode-cache flushes after the memory map changes, the register
 * and CSR API, and the quiescent callback.  TAP output.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parvm/riscv/hart.h"

/* ---- a tiny bus: 1 MiB of RAM at 0x80000000, one page at 0x80100000
 * that the test can switch between two host banks, an exit register ---- */
#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)
#define BANK_PA (RAM_BASE + RAM_SIZE)
#define EXIT_PA 0x100000ull

typedef struct Bus {
    uint8_t *ram;
    uint8_t *bank[2];
    int which;          /* atomic */
    int exited;         /* atomic */
    uint64_t exit_val;  /* atomic */
    uint64_t quiescent; /* atomic */
    RiscvHart *h;
} Bus;

static uint8_t *bus_ram_ptr(void *o, uint64_t pa, RiscvAccess a,
                            uint64_t *avail)
{
    Bus *b = o;
    (void)a;
    if (pa >= RAM_BASE && pa < RAM_BASE + RAM_SIZE) {
        *avail = RAM_BASE + RAM_SIZE - pa;
        return b->ram + (pa - RAM_BASE);
    }
    if (pa >= BANK_PA && pa < BANK_PA + 4096) {
        *avail = BANK_PA + 4096 - pa;
        return b->bank[__atomic_load_n(&b->which, __ATOMIC_ACQUIRE)] +
               (pa - BANK_PA);
    }
    return NULL;
}

static int bus_read(void *o, uint64_t pa, unsigned size, uint64_t *v)
{
    (void)o;
    (void)pa;
    (void)size;
    *v = 0;
    return RISCV_BUS_UNASSIGNED;
}

static int bus_write(void *o, uint64_t pa, unsigned size, uint64_t v)
{
    Bus *b = o;
    (void)size;
    if (pa == EXIT_PA) {
        __atomic_store_n(&b->exit_val, v, __ATOMIC_RELAXED);
        __atomic_store_n(&b->exited, 1, __ATOMIC_RELEASE);
        riscv_hart_kick(b->h);
        return RISCV_BUS_OK;
    }
    return RISCV_BUS_UNASSIGNED;
}

static void bus_quiescent(void *o)
{
    Bus *b = o;
    __atomic_fetch_add(&b->quiescent, 1, __ATOMIC_RELAXED);
}

static Bus *bus_new(void)
{
    Bus *b = calloc(1, sizeof(*b));
    b->ram = aligned_alloc(4096, RAM_SIZE);
    b->bank[0] = aligned_alloc(4096, 4096);
    b->bank[1] = aligned_alloc(4096, 4096);
    memset(b->ram, 0, RAM_SIZE);
    memset(b->bank[0], 0x11, 4096);
    memset(b->bank[1], 0x22, 4096);
    RiscvBus rb = {
        .opaque = b, .ram_ptr = bus_ram_ptr, .mmio_read = bus_read,
        .mmio_write = bus_write, .time = NULL, .quiescent = bus_quiescent,
    };
    b->h = riscv_hart_new(&rb, 0, RAM_BASE);
    return b;
}

static void bus_free(Bus *b)
{
    riscv_hart_free(b->h);
    free(b->ram);
    free(b->bank[0]);
    free(b->bank[1]);
    free(b);
}

/* ---- an assembler for the few instructions the tests need ---- */
enum { ZERO, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3 };

static uint32_t i_type(uint32_t op, unsigned rd, unsigned f3, unsigned rs1,
                       int32_t imm)
{
    return ((uint32_t)imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
static uint32_t s_type(uint32_t op, unsigned f3, unsigned rs1, unsigned rs2,
                       int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           ((u & 31) << 7) | op;
}
static uint32_t b_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t off)
{
    uint32_t u = (uint32_t)off;
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 63) << 25) | (rs2 << 20) |
           (rs1 << 15) | (f3 << 12) | (((u >> 1) & 15) << 8) |
           (((u >> 11) & 1) << 7) | 0x63;
}
#define ADDI(rd, rs, imm) i_type(0x13, rd, 0, rs, imm)
#define ADD(rd, a, b) (((uint32_t)(b) << 20) | ((a) << 15) | ((rd) << 7) | 0x33)
#define LUI(rd, imm20) (((uint32_t)(imm20) << 12) | ((rd) << 7) | 0x37)
#define LD(rd, rs, imm) i_type(0x03, rd, 3, rs, imm)
#define SD(rs2, rs1, imm) s_type(0x23, 3, rs1, rs2, imm)
#define SW(rs2, rs1, imm) s_type(0x23, 2, rs1, rs2, imm)
#define BNE(a, b, off) b_type(1, a, b, off)
#define BEQ(a, b, off) b_type(0, a, b, off)
#define JAL0(off) (((((uint32_t)(off) >> 20) & 1) << 31) |                     \
                   ((((uint32_t)(off) >> 1) & 0x3ff) << 21) |                  \
                   ((((uint32_t)(off) >> 11) & 1) << 20) |                     \
                   ((((uint32_t)(off) >> 12) & 0xff) << 12) | 0x6f)
#define AUIPC(rd, imm20) (((uint32_t)(imm20) << 12) | ((rd) << 7) | 0x17)
#define CSRRS(rd, csr, rs) i_type(0x73, rd, 2, rs, csr)
#define CSRRW(rd, csr, rs) i_type(0x73, rd, 1, rs, csr)
#define WFI 0x10500073u
#define MRET 0x30200073u

static void load(Bus *b, uint64_t at, const uint32_t *code, size_t n)
{
    memcpy(b->ram + (at - RAM_BASE), code, n * 4);
}

/* lui t0, 0x100; li t1, val; sw t1, 0(t0) -- then loop */
static size_t emit_exit(uint32_t *p, int val)
{
    p[0] = LUI(T0, 0x100);
    p[1] = ADDI(T1, ZERO, val);
    p[2] = SW(T1, T0, 0);
    p[3] = JAL0(0);
    return 4;
}

static int tests_run, tests_failed;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__,      \
                   #cond);                                                   \
            return false;                                                    \
        }                                                                    \
    } while (0)

static void run_test(const char *name, bool (*fn)(void))
{
    bool ok = fn();
    tests_run++;
    if (!ok)
        tests_failed++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", tests_run, name);
    fflush(stdout);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* ---- tests ---- */

static bool t_loop_and_exit(void)
{
    Bus *b = bus_new();
    uint32_t p[32];
    size_t n = 0;
    p[n++] = ADDI(S0, ZERO, 0);
    p[n++] = ADDI(S1, ZERO, 100);
    p[n++] = ADD(S0, S0, S1);          /* loop: */
    p[n++] = ADDI(S1, S1, -1);
    p[n++] = BNE(S1, ZERO, -8);
    n += emit_exit(&p[n], 0x55);
    load(b, RAM_BASE, p, n);
    RiscvExit r = riscv_hart_run(b->h, 0);
    CHECK(r == RISCV_EXIT_KICK);
    CHECK(__atomic_load_n(&b->exited, __ATOMIC_ACQUIRE));
    CHECK(riscv_hart_get_x(b->h, S0) == 5050);
    CHECK(riscv_hart_get_x(b->h, ZERO) == 0);
    /* 2 + 3*100 + 3 (the store retired; the jump may have run too) */
    uint64_t ir = riscv_hart_get_instret(b->h);
    CHECK(ir >= 305 && ir <= 307);
    CHECK(__atomic_load_n(&b->quiescent, __ATOMIC_RELAXED) > 0);
    bus_free(b);
    return true;
}

static bool t_budget(void)
{
    Bus *b = bus_new();
    uint32_t p[] = { ADDI(S0, S0, 1), JAL0(-4) };
    load(b, RAM_BASE, p, 2);
    CHECK(riscv_hart_run(b->h, 10000) == RISCV_EXIT_LIMIT);
    uint64_t ir = riscv_hart_get_instret(b->h);
    CHECK(ir >= 10000 && ir < 10000 + 200);
    CHECK(riscv_hart_get_x(b->h, S0) * 2 >= ir - 1);
    bus_free(b);
    return true;
}

static void *kicker(void *arg)
{
    sleep_ms(30);
    riscv_hart_kick(arg);
    return NULL;
}

static bool t_kick_from_thread(void)
{
    Bus *b = bus_new();
    uint32_t p[] = { ADDI(S0, S0, 1), JAL0(-4) };
    load(b, RAM_BASE, p, 2);
    pthread_t t;
    pthread_create(&t, NULL, kicker, b->h);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    pthread_join(t, NULL);
    CHECK(riscv_hart_get_x(b->h, S0) > 1000);
    /* a kick while not running is kept for the next run */
    riscv_hart_kick(b->h);
    uint64_t before = riscv_hart_get_instret(b->h);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_instret(b->h) == before);
    bus_free(b);
    return true;
}

typedef struct Raise {
    RiscvHart *h;
    uint64_t mask;
    int delay_ms;
} Raise;

static void *raiser(void *arg)
{
    Raise *r = arg;
    sleep_ms(r->delay_ms);
    riscv_hart_set_pending(r->h, r->mask, true);
    return NULL;
}

static bool t_wfi_and_wait(void)
{
    Bus *b = bus_new();
    uint32_t p[16];
    size_t n = 0;
    p[n++] = ADDI(T0, ZERO, 0x80);     /* MTIE */
    p[n++] = CSRRS(ZERO, 0x304, T0);   /* csrs mie, t0 */
    p[n++] = WFI;
    p[n++] = ADDI(S0, ZERO, 7);
    n += emit_exit(&p[n], 1);
    load(b, RAM_BASE, p, n);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_WFI);
    CHECK(riscv_hart_get_pc(b->h) == RAM_BASE + 12);
    /* nothing pending: the wait times out */
    CHECK(riscv_hart_wait(b->h, 5000000) == RISCV_WAIT_TIMEOUT);
    /* a pending bit that mie does not enable does not wake it */
    riscv_hart_set_pending(b->h, RISCV_MIP_SSIP, true);
    CHECK(riscv_hart_wait(b->h, 5000000) == RISCV_WAIT_TIMEOUT);
    /* MTIP raised by another thread wakes it (MIE is 0: no trap) */
    Raise r = { b->h, RISCV_MIP_MTIP, 20 };
    pthread_t t;
    pthread_create(&t, NULL, raiser, &r);
    CHECK(riscv_hart_wait(b->h, -1) == RISCV_WAIT_IRQ);
    pthread_join(t, NULL);
    CHECK(riscv_hart_get_pending(b->h) & RISCV_MIP_MTIP);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_x(b->h, S0) == 7);
    /* WFI with an enabled interrupt already pending does not stop */
    riscv_hart_set_pc(b->h, RAM_BASE + 8);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    /* a kick wakes a waiting hart */
    riscv_hart_set_pending(b->h, RISCV_MIP_MTIP, false);
    pthread_create(&t, NULL, kicker, b->h);
    CHECK(riscv_hart_wait(b->h, -1) == RISCV_WAIT_KICK);
    pthread_join(t, NULL);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    bus_free(b);
    return true;
}

static bool t_interrupt_running_hart(void)
{
    Bus *b = bus_new();
    uint32_t p[32];
    size_t n = 0;
    /* mtvec = RAM_BASE + 0x100; mie = MSIE; mstatus.MIE; spin */
    p[n++] = AUIPC(T0, 0);             /* t0 = RAM_BASE */
    p[n++] = ADDI(T0, T0, 0x100);
    p[n++] = CSRRW(ZERO, 0x305, T0);
    p[n++] = ADDI(T0, ZERO, 8);
    p[n++] = CSRRS(ZERO, 0x304, T0);
    p[n++] = CSRRS(ZERO, 0x300, T0);
    p[n++] = ADDI(S0, S0, 1);
    p[n++] = JAL0(-4);
    load(b, RAM_BASE, p, n);
    n = 0;
    p[n++] = CSRRS(A0, 0x342, ZERO);   /* a0 = mcause */
    p[n++] = CSRRS(A1, 0x341, ZERO);   /* a1 = mepc */
    n += emit_exit(&p[n], 2);
    load(b, RAM_BASE + 0x100, p, n);
    Raise r = { b->h, RISCV_MIP_MSIP, 20 };
    pthread_t t;
    pthread_create(&t, NULL, raiser, &r);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    pthread_join(t, NULL);
    CHECK(riscv_hart_get_x(b->h, A0) == (1ull << 63 | 3));
    uint64_t epc = riscv_hart_get_x(b->h, A1);
    CHECK(epc == RAM_BASE + 24 || epc == RAM_BASE + 28);
    CHECK(riscv_hart_get_x(b->h, S0) > 100);
    bus_free(b);
    return true;
}

static void *switcher(void *arg)
{
    Bus *b = arg;
    sleep_ms(20);
    __atomic_store_n(&b->which, 1, __ATOMIC_RELEASE);
    riscv_hart_flush_tlb(b->h);
    return NULL;
}

static void *watchdog(void *arg)
{
    Bus *b = arg;
    for (int i = 0; i < 200 && !__atomic_load_n(&b->exited, __ATOMIC_ACQUIRE);
         i++)
        sleep_ms(10);
    riscv_hart_kick(b->h);
    return NULL;
}

static bool t_flush_after_map_change(void)
{
    Bus *b = bus_new();
    uint32_t p[32];
    size_t n = 0;
    /* s1 = BANK_PA; loop until the word there reads 0x2222222222222222 */
    p[n++] = AUIPC(S1, 0x100);         /* s1 = RAM_BASE + 1 MiB */
    p[n++] = LD(A0, S1, 0);          /* loop: */
    p[n++] = ADDI(A1, ZERO, 0x22);
    p[n++] = ADDI(A2, ZERO, 0xff);
    p[n++] = i_type(0x13, A3, 7, A0, 0xff); /* andi a3, a0, 0xff */
    p[n++] = BNE(A3, A1, -16);
    n += emit_exit(&p[n], 3);
    load(b, RAM_BASE, p, n);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, switcher, b);
    pthread_create(&t2, NULL, watchdog, b);
    riscv_hart_run(b->h, 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    /* without the flush the TLB would keep reading bank 0 forever */
    CHECK(__atomic_load_n(&b->exited, __ATOMIC_ACQUIRE));
    CHECK((riscv_hart_get_x(b->h, A0) & 0xff) == 0x22);
    bus_free(b);
    return true;
}

static bool t_flush_drops_decoded_code(void)
{
    Bus *b = bus_new();
    uint32_t p[8];
    size_t n = 0;
    p[n++] = ADDI(S0, ZERO, 1);
    n += emit_exit(&p[n], 4);
    load(b, RAM_BASE, p, n);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_x(b->h, S0) == 1);
    /* the "board" rewrites code (as a DMA would) and flushes */
    p[0] = ADDI(S0, ZERO, 2);
    load(b, RAM_BASE, p, 1);
    riscv_hart_flush_tlb(b->h);
    riscv_hart_set_pc(b->h, RAM_BASE);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_x(b->h, S0) == 2);
    bus_free(b);
    return true;
}

static bool t_register_and_csr_api(void)
{
    Bus *b = bus_new();
    RiscvHart *h = b->h;
    uint64_t v;
    CHECK(riscv_hart_get_pc(h) == RAM_BASE);
    CHECK(riscv_hart_get_priv(h) == RISCV_PRIV_M);
    riscv_hart_set_x(h, 0, 5);
    CHECK(riscv_hart_get_x(h, 0) == 0);
    riscv_hart_set_x(h, 31, 5);
    CHECK(riscv_hart_get_x(h, 31) == 5);
    CHECK(riscv_hart_get_x(h, 99) == 0);
    CHECK(riscv_hart_read_csr(h, 0xf14, &v) && v == 0); /* mhartid */
    CHECK(!riscv_hart_write_csr(h, 0xf14, 1));          /* read-only */
    CHECK(!riscv_hart_read_csr(h, 0x7c0, &v));          /* missing */
    CHECK(riscv_hart_write_csr(h, 0x180, 8ull << 60 | 0x80000));
    CHECK(riscv_hart_read_csr(h, 0x180, &v) && v == (8ull << 60 | 0x80000));
    CHECK(riscv_hart_write_csr(h, 0x180, 11ull << 60 | 0x1)); /* Sv64 */
    CHECK(riscv_hart_read_csr(h, 0x180, &v) && v == (8ull << 60 | 0x80000));
    CHECK(riscv_hart_write_csr(h, 0x180, 10ull << 60 | 0x80001)); /* Sv57 */
    CHECK(riscv_hart_read_csr(h, 0x180, &v) && v == (10ull << 60 | 0x80001));
    CHECK(riscv_hart_write_csr(h, 0xb02, 1000));
    CHECK(riscv_hart_get_instret(h) == 1000);
    CHECK(riscv_hart_read_csr(h, 0xb02, &v) && v == 1000);
    riscv_hart_set_pending(h, RISCV_MIP_MEIP | RISCV_MIP_SEIP, true);
    CHECK(riscv_hart_get_pending(h) ==
          (RISCV_MIP_MEIP | RISCV_MIP_SEIP));
    riscv_hart_set_pending(h, RISCV_MIP_MEIP, false);
    CHECK(riscv_hart_get_pending(h) == RISCV_MIP_SEIP);
    riscv_hart_set_pc(h, RAM_BASE + 0x40);
    riscv_hart_reset(h);
    CHECK(riscv_hart_get_pc(h) == RAM_BASE);
    CHECK(riscv_hart_get_x(h, 31) == 0);
    CHECK(riscv_hart_read_csr(h, 0x180, &v) && v == 0);
    CHECK(riscv_hart_get_instret(h) == 0);
    bus_free(b);
    return true;
}

static bool t_fetch_fault_and_mmio_exec(void)
{
    Bus *b = bus_new();
    uint32_t p[16];
    size_t n = 0;
    /* mtvec = RAM_BASE + 0x100, then jump to 0x1000 (not RAM) */
    p[n++] = AUIPC(T0, 0);
    p[n++] = ADDI(T0, T0, 0x100);
    p[n++] = CSRRW(ZERO, 0x305, T0);
    p[n++] = LUI(T1, 0x1);
    p[n++] = i_type(0x67, RA, 0, T1, 0); /* jalr ra, 0(t1) */
    load(b, RAM_BASE, p, n);
    n = 0;
    p[n++] = CSRRS(A0, 0x342, ZERO);
    p[n++] = CSRRS(A1, 0x343, ZERO);
    n += emit_exit(&p[n], 5);
    load(b, RAM_BASE + 0x100, p, n);
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_x(b->h, A0) == 1);      /* instruction access */
    CHECK(riscv_hart_get_x(b->h, A1) == 0x1000);
    bus_free(b);
    return true;
}

static bool t_insn_crossing_page(void)
{
    Bus *b = bus_new();
    uint32_t p[8];
    /* jump to RAM_BASE + 0xffe, where a 32-bit addi straddles the page */
    p[0] = AUIPC(T0, 0x1);                /* t0 = RAM_BASE + 0x1000 */
    p[1] = i_type(0x67, ZERO, 0, T0, -2); /* jalr x0, -2(t0) */
    load(b, RAM_BASE, p, 2);
    uint32_t addi = ADDI(S0, ZERO, 42);
    memcpy(b->ram + 0xffe, &addi, 4);
    size_t n = emit_exit(p, 6);
    load(b, RAM_BASE + 0x1002, p, n); /* 2-aligned */
    CHECK(riscv_hart_run(b->h, 0) == RISCV_EXIT_KICK);
    CHECK(riscv_hart_get_x(b->h, S0) == 42);
    bus_free(b);
    return true;
}

int main(void)
{
    alarm(120); /* a hang is a failure */
    printf("1..10\n");
    run_test("loop, exit through MMIO, instret", t_loop_and_exit);
    run_test("instruction budget", t_budget);
    run_test("kick from another thread", t_kick_from_thread);
    run_test("WFI, wait, set_pending from another thread", t_wfi_and_wait);
    run_test("interrupt reaches a running hart", t_interrupt_running_hart);
    run_test("TLB flush after a memory map change", t_flush_after_map_change);
    run_test("TLB flush drops decoded code", t_flush_drops_decoded_code);
    run_test("register and CSR API", t_register_and_csr_api);
    run_test("fetch from non-RAM: access fault", t_fetch_fault_and_mmio_exec);
    run_test("instruction crossing a page", t_insn_crossing_page);
    return tests_failed ? 1 : 0;
}
