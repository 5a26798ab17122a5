/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * F/D state: mstatus.FS (Off traps every FP instruction and FP CSR;
 * Initial and Clean become Dirty on a write of an f register or of
 * fflags/frm/fcsr; SD follows; sstatus shows the same), fcsr's fields,
 * invalid rounding modes, f0 as a register, NaN-boxing by loads and moves,
 * and the compressed FP loads and stores.
 */
#include "lib.h"

#define FS_SHIFT 13
#define FS_MASK (3ul << FS_SHIFT)

static unsigned fs(void)
{
    return (unsigned)(csr_read(mstatus) >> FS_SHIFT) & 3;
}

static void set_fs(unsigned v)
{
    csr_clear(mstatus, FS_MASK);
    csr_set(mstatus, (uint64_t)v << FS_SHIFT);
}

/* Illegal 16-bit instruction: mtval is its encoding. */
#define EXPECT_ILLEGAL16(stmt)                                               \
    do {                                                                     \
        uint64_t c0_ = mtrap.count;                                          \
        stmt;                                                                \
        CHECK_EQ(mtrap.count, c0_ + 1);                                      \
        CHECK_EQ(mtrap.cause, 2);                                            \
        CHECK_EQ(mtrap.tval, *(volatile uint16_t *)mtrap.epc);               \
    } while (0)

static uint64_t buf[4] __attribute__((aligned(16)));
/* A stack for the sp-relative compressed forms (a trap pushes below). */
static uint64_t area[256] __attribute__((aligned(16)));

static void c_fld(void)
{
    register uint64_t *p __asm__("a0") = buf;
    __asm__ volatile(".option push\n\t.option rvc\n\t"
                     "c.fld fs0, 8(%0)\n\t.option pop" ::"r"(p) : "fs0");
}

static void c_fsd(void)
{
    register uint64_t *p __asm__("a0") = buf;
    __asm__ volatile(".option push\n\t.option rvc\n\t"
                     "c.fsd fs0, 16(%0)\n\t.option pop" ::"r"(p) : "memory");
}

static void c_fldsp(void)
{
    __asm__ volatile("mv t0, sp\n\tmv sp, %0\n\t"
                     ".option push\n\t.option rvc\n\t"
                     "c.fldsp ft1, 8(sp)\n\t.option pop\n\tmv sp, t0"
                     ::"r"(&area[254]) : "t0", "ft1", "memory");
}

static void c_fsdsp(void)
{
    __asm__ volatile("mv t0, sp\n\tmv sp, %0\n\t"
                     ".option push\n\t.option rvc\n\t"
                     "c.fsdsp ft1, 0(sp)\n\t.option pop\n\tmv sp, t0"
                     ::"r"(&area[254]) : "t0", "memory");
}

static uint64_t fmv_x_d(void)
{
    uint64_t v;
    __asm__ volatile("fmv.x.d %0, fs0" : "=r"(v));
    return v;
}

int main(int hartid)
{
    (void)hartid;
    uint64_t v;

    /* after reset: Off (as QEMU's virt with -bios none) */
    CHECK_EQ(fs(), 0);
    CHECK_EQ(csr_read(mstatus) >> 63, 0);

    /* Off: every FP instruction and every FP CSR access is illegal */
    EXPECT_ILLEGAL(__asm__ volatile("fadd.s ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile("fmadd.d ft0, ft1, ft2, ft3"));
    EXPECT_ILLEGAL(__asm__ volatile("fmv.x.w a0, ft0" ::: "a0"));
    EXPECT_ILLEGAL(__asm__ volatile("fmv.w.x ft0, zero"));
    EXPECT_ILLEGAL(__asm__ volatile("fcvt.w.d a0, ft0" ::: "a0"));
    EXPECT_ILLEGAL(__asm__ volatile("fcvt.d.l ft0, zero"));
    EXPECT_ILLEGAL(__asm__ volatile("feq.d a0, ft0, ft1" ::: "a0"));
    EXPECT_ILLEGAL(__asm__ volatile("fclass.s a0, ft0" ::: "a0"));
    EXPECT_ILLEGAL(__asm__ volatile("fsgnj.d ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile("flw ft0, 0(%0)" ::"r"(buf)));
    EXPECT_ILLEGAL(__asm__ volatile("fld ft0, 0(%0)" ::"r"(buf)));
    EXPECT_ILLEGAL(__asm__ volatile("fsw ft0, 0(%0)" ::"r"(buf)));
    EXPECT_ILLEGAL(__asm__ volatile("fsd ft0, 0(%0)" ::"r"(buf)));
    EXPECT_ILLEGAL16(c_fld());
    EXPECT_ILLEGAL16(c_fsd());
    EXPECT_ILLEGAL16(c_fldsp());
    EXPECT_ILLEGAL16(c_fsdsp());
    EXPECT_ILLEGAL((void)csr_read(fflags));
    EXPECT_ILLEGAL((void)csr_read(frm));
    EXPECT_ILLEGAL((void)csr_read(fcsr));
    EXPECT_ILLEGAL(csr_write(fflags, 0));
    EXPECT_ILLEGAL(csr_write(frm, 0));
    EXPECT_ILLEGAL(csr_write(fcsr, 0));
    CHECK_EQ(fs(), 0);
    CHECK_EQ(buf[0] | buf[2], 0);

    /* Initial: reads, stores, moves to x and quiet compares leave it */
    set_fs(1);
    CHECK_EQ(fs(), 1);
    CHECK_EQ((csr_read(sstatus) >> FS_SHIFT) & 3, 1);
    CHECK_EQ(csr_read(mstatus) >> 63, 0);
    CHECK_EQ(csr_read(fcsr), 0);
    __asm__ volatile("fsd ft0, 0(%0)" ::"r"(buf) : "memory");
    __asm__ volatile("fmv.x.d %0, ft0" : "=r"(v));
    __asm__ volatile("feq.d %0, ft0, ft0" : "=r"(v)); /* +0 == +0 */
    CHECK_EQ(v, 1);
    __asm__ volatile("fclass.d %0, ft0" : "=r"(v));
    CHECK_EQ(v, 1 << 4);
    __asm__ volatile("fcvt.l.d %0, ft0" : "=r"(v)); /* exact: no flags */
    __asm__ volatile("csrrs %0, fflags, zero" : "=r"(v)); /* a read */
    CHECK_EQ(fs(), 1);

    /* any write of FP state makes it Dirty, with SD */
    __asm__ volatile("fmv.d.x ft0, zero");
    CHECK_EQ(fs(), 3);
    CHECK_EQ(csr_read(mstatus) >> 63, 1);
    CHECK_EQ(csr_read(sstatus) >> 63, 1);
    CHECK_EQ((csr_read(sstatus) >> FS_SHIFT) & 3, 3);
    set_fs(2);
    CHECK_EQ(csr_read(mstatus) >> 63, 0);
    __asm__ volatile("flw ft1, 0(%0)" ::"r"(buf));
    CHECK_EQ(fs(), 3);
    set_fs(2);
    __asm__ volatile("fadd.d ft2, ft1, ft1");
    CHECK_EQ(fs(), 3);
    set_fs(2);
    __asm__ volatile("fcvt.s.w ft2, zero");
    CHECK_EQ(fs(), 3);
    set_fs(2);
    csr_write(fflags, 0);
    CHECK_EQ(fs(), 3);
    set_fs(1);
    csr_write(frm, 0);
    CHECK_EQ(fs(), 3);
    set_fs(2);
    csr_write(fcsr, 0);
    CHECK_EQ(fs(), 3);
    set_fs(2);
    buf[1] = 0x400921fb54442d18ul;
    c_fld();
    CHECK_EQ(fs(), 3);
    CHECK_EQ(fmv_x_d(), 0x400921fb54442d18ul);
    set_fs(2);
    c_fsd();
    CHECK_EQ(fs(), 2);
    CHECK_EQ(buf[2], 0x400921fb54442d18ul);
    area[255] = 0x3ff0000000000000ul;
    c_fldsp();
    CHECK_EQ(fs(), 3);
    set_fs(1);
    c_fsdsp();
    CHECK_EQ(fs(), 1);
    CHECK_EQ(area[254], 0x3ff0000000000000ul);
    /* a trap does not change FS */
    EXPECT_ILLEGAL((void)csr_read(0x7c0));
    CHECK_EQ(fs(), 1);

    /* fcsr = frm << 5 | fflags; reserved bits read 0 */
    set_fs(3);
    csr_write(fcsr, -1ul);
    CHECK_EQ(csr_read(fcsr), 0xff);
    CHECK_EQ(csr_read(frm), 7);
    CHECK_EQ(csr_read(fflags), 0x1f);
    csr_write(fflags, 0x21);
    CHECK_EQ(csr_read(fcsr), 0xe1);
    csr_write(frm, 0x1a);
    CHECK_EQ(csr_read(fcsr), 0x41);
    v = csr_swap(fflags, 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(csr_read(fcsr), 0x40);

    /* invalid rounding modes: static 5 and 6, dynamic with frm 5..7 */
    csr_write(frm, 0);
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 5, 0x00, ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 6, 0x01, ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r4 0x43, 5, 1, ft0, ft1, ft2, ft3"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 6, 0x61, a0, ft1, x0"
                                    ::: "a0"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 5, 0x21, ft0, ft1, f0"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 6, 0x69, ft0, a0, x0"));
    EXPECT_OK(__asm__ volatile("fadd.s ft0, ft1, ft2, dyn"));
    for (uint64_t m = 5; m <= 7; m++) {
        csr_write(frm, m);
        EXPECT_ILLEGAL(__asm__ volatile("fadd.s ft0, ft1, ft2, dyn"));
        EXPECT_ILLEGAL(__asm__ volatile("fsqrt.d ft0, ft1, dyn"));
        EXPECT_ILLEGAL(__asm__ volatile("fcvt.l.s a0, ft1, dyn" ::: "a0"));
        EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 7, 0x21, ft0, ft1, f0"));
        /* static modes and instructions without one do not look at frm */
        EXPECT_OK(__asm__ volatile("fadd.s ft0, ft1, ft2, rtz"));
        EXPECT_OK(__asm__ volatile("fmin.d ft0, ft1, ft2"));
        EXPECT_OK(__asm__ volatile("fsgnjn.s ft0, ft1, ft2"));
        EXPECT_OK(__asm__ volatile("fmv.x.w a0, ft1" ::: "a0"));
        EXPECT_OK(__asm__ volatile("feq.s a0, ft1, ft2" ::: "a0"));
        CHECK_EQ(csr_read(frm), m);
    }
    csr_write(frm, 0);
    /* funct3 of fsgnj and fmin/fmax selects the operation: 3+ illegal */
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 3, 0x10, ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 2, 0x15, ft0, ft1, ft2"));
    /* no Q and no Zfh: fmt 2 and 3 are illegal */
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 0, 0x02, ft0, ft1, ft2"));
    EXPECT_ILLEGAL(__asm__ volatile(".insn r 0x53, 0, 0x03, ft0, ft1, ft2"));

    /* f0 is a register like the others */
    __asm__ volatile("fmv.d.x f0, %1\n\tfmv.x.d %0, f0"
                     : "=r"(v) : "r"(0x123456789abcdef0ul) : "f0");
    CHECK_EQ(v, 0x123456789abcdef0ul);

    /* NaN-boxing: flw, fmv.w.x and single results box; fmv.x.w sign-
     * extends bit 31 whatever the upper bits; a non-boxed input is the
     * canonical NaN */
    buf[0] = 0x00000000bf800000ul;
    __asm__ volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0"
                     : "=r"(v) : "r"(buf) : "ft0");
    CHECK_EQ(v, 0xffffffffbf800000ul);
    __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.x.d %0, ft0"
                     : "=r"(v) : "r"(0x1234567840000000ul) : "ft0");
    CHECK_EQ(v, 0xffffffff40000000ul);
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0"
                     : "=r"(v) : "r"(0x12345678c0000000ul) : "ft0");
    CHECK_EQ(v, 0xffffffffc0000000ul);
    __asm__ volatile("fmv.d.x ft0, %1\n\tfadd.s ft0, ft0, ft0\n\t"
                     "fmv.x.d %0, ft0"
                     : "=r"(v) : "r"(0x000000003f800000ul) : "ft0");
    CHECK_EQ(v, 0xffffffff7fc00000ul);
    __asm__ volatile("fmv.d.x ft0, %0\n\tfsw ft0, 0(%1)"
                     ::"r"(0x12345678c0000000ul), "r"(buf) : "ft0", "memory");
    CHECK_EQ(buf[0], 0xc0000000ul); /* fsw stores the low bits as they are */
    CHECK_EQ(csr_read(fflags), 0);

    /* flags accrue until cleared */
    __asm__ volatile("fmv.d.x ft0, %0\n\tfmv.d.x ft1, zero\n\t"
                     "fdiv.d ft2, ft0, ft1"
                     ::"r"(0x3ff0000000000000ul) : "ft0", "ft1", "ft2");
    CHECK_EQ(csr_read(fflags), 0x08); /* DZ */
    __asm__ volatile("fdiv.d ft2, ft1, ft1" ::: "ft2");
    CHECK_EQ(csr_read(fflags), 0x18); /* DZ | NV */

    /* FS after an instruction that writes only an x register but raises
     * a flag: impl.c (QEMU 7.2 leaves FS alone) */

    puts_("fpstate: ok\n");
    return 0;
}
