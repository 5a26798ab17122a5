/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * F and D arithmetic over a table of operands: special values (zeros,
 * infinities, quiet and signalling NaNs, binary32 values that are not
 * NaN-boxed, subnormals, the extreme normals, values at the limits of the
 * integer conversions, rounding ties) and values from a fixed-seed PRNG,
 * through every F and D instruction, in the five rounding modes both
 * static and dynamic (frm).  For each instruction and mode it prints a
 * hash of the results (all 64 bits of the destination, so NaN-boxing
 * counts) and of fflags after each operation.  The test passes when the
 * output is QEMU's.  Built with -DVERBOSE it prints every case instead
 * (to find a difference).
 */
#include "lib.h"

#define BOX 0xffffffff00000000ul

/* ---- one function per instruction and rounding mode ---- */
typedef uint64_t (*OpFn)(uint64_t a, uint64_t b, uint64_t c);

#define GEN_F1(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)b; (void)c;                                                    \
        __asm__ volatile("fmv.d.x ft0, %1\n\t" insn " ft2, ft0" rm           \
                         "\n\tfmv.x.d %0, ft2"                               \
                         : "=r"(r) : "r"(a) : "ft0", "ft2");                 \
        return r;                                                            \
    }
#define GEN_F2(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)c;                                                             \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" insn       \
                         " ft2, ft0, ft1" rm "\n\tfmv.x.d %0, ft2"           \
                         : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2");  \
        return r;                                                            \
    }
#define GEN_F3(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t"            \
                         "fmv.d.x ft3, %3\n\t" insn " ft2, ft0, ft1, ft3" rm \
                         "\n\tfmv.x.d %0, ft2"                               \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c)                  \
                         : "ft0", "ft1", "ft2", "ft3");                      \
        return r;                                                            \
    }
#define GEN_X1(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)b; (void)c;                                                    \
        __asm__ volatile("fmv.d.x ft0, %1\n\t" insn " %0, ft0" rm            \
                         : "=r"(r) : "r"(a) : "ft0");                        \
        return r;                                                            \
    }
#define GEN_X2(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)c;                                                             \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" insn       \
                         " %0, ft0, ft1" rm                                  \
                         : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1");         \
        return r;                                                            \
    }
#define GEN_FX(name, insn, rm)                                               \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)b; (void)c;                                                    \
        __asm__ volatile(insn " ft2, %1" rm "\n\tfmv.x.d %0, ft2"            \
                         : "=r"(r) : "r"(a) : "ft2");                        \
        return r;                                                            \
    }

/* Exact conversions, which binutils assembles only with rm = 0: the rm
 * field through .insn (f7 and rs2 select the conversion). */
#define GEN_FX_INSN(name, f7, rs2, rm)                                       \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)b; (void)c;                                                    \
        __asm__ volatile(".insn r 0x53, " #rm ", " #f7 ", ft2, %1, " #rs2    \
                         "\n\tfmv.x.d %0, ft2"                               \
                         : "=r"(r) : "r"(a) : "ft2");                        \
        return r;                                                            \
    }
#define GEN_F1_INSN(name, f7, rs2, rm)                                       \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t c)                 \
    {                                                                        \
        uint64_t r;                                                          \
        (void)b; (void)c;                                                    \
        __asm__ volatile("fmv.d.x ft0, %1\n\t"                               \
                         ".insn r 0x53, " #rm ", " #f7 ", ft2, ft0, " #rs2   \
                         "\n\tfmv.x.d %0, ft2"                               \
                         : "=r"(r) : "r"(a) : "ft0", "ft2");                 \
        return r;                                                            \
    }
#define RMS_INSN(GEN, name, f7, rs2)                                         \
    GEN(name##_rne, f7, rs2, 0) GEN(name##_rtz, f7, rs2, 1)                  \
    GEN(name##_rdn, f7, rs2, 2) GEN(name##_rup, f7, rs2, 3)                  \
    GEN(name##_rmm, f7, rs2, 4) GEN(name##_dyn, f7, rs2, 7)

/* The six rounding-mode variants: rne rtz rdn rup rmm dyn. */
#define RMS(GEN, name, insn)                                                 \
    GEN(name##_rne, insn, ", rne") GEN(name##_rtz, insn, ", rtz")            \
    GEN(name##_rdn, insn, ", rdn") GEN(name##_rup, insn, ", rup")            \
    GEN(name##_rmm, insn, ", rmm") GEN(name##_dyn, insn, ", dyn")
#define RM_FNS(name)                                                         \
    { name##_rne, name##_rtz, name##_rdn, name##_rup, name##_rmm, name##_dyn }

/* kind of operands: which value lists feed a, b, c */
enum { K_F1, K_F2, K_F3, K_X1, K_X2, K_FX, K_FXE };
enum { S = 0, D = 1, I = 2 };

/* rounding ops, per format */
#define RM_OPS(X, f, fs, kw)                                                 \
    X(K_F2, fadd_##f, "fadd." fs)                                            \
    X(K_F2, fsub_##f, "fsub." fs)                                            \
    X(K_F2, fmul_##f, "fmul." fs)                                            \
    X(K_F2, fdiv_##f, "fdiv." fs)                                            \
    X(K_F1, fsqrt_##f, "fsqrt." fs)                                          \
    X(K_F3, fmadd_##f, "fmadd." fs)                                          \
    X(K_F3, fmsub_##f, "fmsub." fs)                                          \
    X(K_F3, fnmsub_##f, "fnmsub." fs)                                        \
    X(K_F3, fnmadd_##f, "fnmadd." fs)                                        \
    X(K_X1, fcvt_w_##f, "fcvt.w." fs)                                        \
    X(K_X1, fcvt_wu_##f, "fcvt.wu." fs)                                      \
    X(K_X1, fcvt_l_##f, "fcvt.l." fs)                                        \
    X(K_X1, fcvt_lu_##f, "fcvt.lu." fs)                                      \
    X(kw, fcvt_##f##_w, "fcvt." fs ".w")                                     \
    X(kw, fcvt_##f##_wu, "fcvt." fs ".wu")                                   \
    X(K_FX, fcvt_##f##_l, "fcvt." fs ".l")                                   \
    X(K_FX, fcvt_##f##_lu, "fcvt." fs ".lu")
#define NORM_OPS(X, f, fs)                                                   \
    X(K_F2, fsgnj_##f, "fsgnj." fs)                                          \
    X(K_F2, fsgnjn_##f, "fsgnjn." fs)                                        \
    X(K_F2, fsgnjx_##f, "fsgnjx." fs)                                        \
    X(K_F2, fmin_##f, "fmin." fs)                                            \
    X(K_F2, fmax_##f, "fmax." fs)                                            \
    X(K_X2, feq_##f, "feq." fs)                                              \
    X(K_X2, flt_##f, "flt." fs)                                              \
    X(K_X2, fle_##f, "fle." fs)                                              \
    X(K_X1, fclass_##f, "fclass." fs)

#define GEN_NORM(kind, name, insn) GEN_##kind(name, insn, "")
#define GEN_K_F1 GEN_F1
#define GEN_K_F2 GEN_F2
#define GEN_K_F3 GEN_F3
#define GEN_K_X1 GEN_X1
#define GEN_K_X2 GEN_X2
#define GEN_K_FX GEN_FX
#define GEN_K_FXE(name, insn, rm) /* exact: generated with .insn below */
#define GEN_RM2(kind, name, insn) RMS(GEN_##kind, name, insn)

RM_OPS(GEN_RM2, s, "s", K_FX)
RM_OPS(GEN_RM2, d, "d", K_FXE) /* binary64 from 32-bit ints is exact */
NORM_OPS(GEN_NORM, s, "s")
NORM_OPS(GEN_NORM, d, "d")
RMS(GEN_F1, fcvt_s_d, "fcvt.s.d")
RMS_INSN(GEN_F1_INSN, fcvt_d_s, 0x21, f0)
RMS_INSN(GEN_FX_INSN, fcvt_d_w, 0x69, x0)
RMS_INSN(GEN_FX_INSN, fcvt_d_wu, 0x69, x1)
GEN_X1(fmv_x_w, "fmv.x.w", "")
GEN_X1(fmv_x_d, "fmv.x.d", "")
GEN_FX(fmv_w_x, "fmv.w.x", "")
GEN_FX(fmv_d_x, "fmv.d.x", "")

typedef struct Op {
    const char *name;
    int kind, in; /* in: format of the inputs (S, D, or I for ints) */
    bool rm;
    OpFn fn[6];
} Op;

/* inputs: S and D by the op's suffix; from-int conversions read ints */
#define IN_K_F1(f) f
#define IN_K_F2(f) f
#define IN_K_F3(f) f
#define IN_K_X1(f) f
#define IN_K_X2(f) f
#define IN_K_FX(f) I
#define IN_K_FXE(f) I
#define TAB_RM_s(kind, name, insn) { insn, kind, IN_##kind(S), true, RM_FNS(name) },
#define TAB_RM_d(kind, name, insn) { insn, kind, IN_##kind(D), true, RM_FNS(name) },
#define TAB_NORM_s(kind, name, insn) { insn, kind, S, false, { name } },
#define TAB_NORM_d(kind, name, insn) { insn, kind, D, false, { name } },

static const Op ops[] = {
    RM_OPS(TAB_RM_s, s, "s", K_FX)
    RM_OPS(TAB_RM_d, d, "d", K_FXE)
    NORM_OPS(TAB_NORM_s, s, "s")
    NORM_OPS(TAB_NORM_d, d, "d")
    { "fcvt.s.d", K_F1, D, true, RM_FNS(fcvt_s_d) },
    { "fcvt.d.s", K_F1, S, true, RM_FNS(fcvt_d_s) },
    { "fmv.x.w", K_X1, S, false, { fmv_x_w } },
    { "fmv.x.d", K_X1, D, false, { fmv_x_d } },
    { "fmv.w.x", K_FX, I, false, { fmv_w_x } },
    { "fmv.d.x", K_FX, I, false, { fmv_d_x } },
};

/* ---- operands ---- */
static uint64_t rng_state = 0x2545f4914f6cdd1dul;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

#define P2D(k) ((uint64_t)((k) + 1023) << 52) /* 2^k as binary64 */
#define P2S(k) ((uint64_t)((k) + 127) << 23)  /* 2^k as binary32 */

static const uint64_t spec_d[] = {
    0, 1ul << 63, P2D(0), P2D(0) | 1ul << 63, 0x3ff8000000000000ul /* 1.5 */,
    0xc004000000000000ul /* -2.5 */, P2D(-1), P2D(-1) | 1ul << 63,
    0x4004000000000000ul /* 2.5 */, 0x3fb999999999999aul /* 0.1 */,
    0x3fd5555555555555ul /* 1/3 */, 0x7ff0000000000000ul,
    0xfff0000000000000ul, 0x7ff8000000000000ul, 0x7ff8000000000123ul,
    0xfff8000000000000ul, 0x7ff0000000000001ul, 0xfff4000000000000ul,
    1, 1ul << 63 | 1, 0x000fffffffffffff, 0x0008000000000000,
    P2D(-1022), P2D(-1022) | 1ul << 63, 0x7fefffffffffffff,
    0xffefffffffffffff, 0x7fe0000000000000, P2D(31), 0x41dfffffffc00000,
    0x41dfffffffe00000 /* 2^31 - 0.5 */, 0xc1e0000000000000 /* -2^31 */,
    0xc1e0000000100000 /* -2^31 - 0.5 */, 0xc1e0000000200000,
    0x41efffffffe00000 /* 2^32 - 1 */, 0x41effffffff00000, P2D(32),
    P2D(63), 0x43dfffffffffffff, P2D(63) | 1ul << 63, 0xc3e0000000000001,
    P2D(64), 0x43efffffffffffff, 0x3ff0000000000001, 0x3fefffffffffffff,
    P2D(-511), P2D(-537) | 0x8000000000001, P2D(512), P2D(-1000),
    P2D(-1074 + 52) | 0x800000, 0x3fe0000000000001, 0xbff8000000000000,
    P2D(53), P2D(52) | 1, 0x0010000000000001, 0x001fffffffffffff,
};

static const uint64_t spec_s[] = {
    0, 1ul << 31, P2S(0), P2S(0) | 1ul << 31, 0x3fc00000 /* 1.5 */,
    0xc0200000 /* -2.5 */, P2S(-1), P2S(-1) | 1ul << 31, 0x40200000,
    0x3dcccccd /* 0.1 */, 0x3eaaaaab, 0x7f800000, 0xff800000, 0x7fc00000,
    0x7fc00123, 0xffc00000, 0x7f800001, 0xffa00000, 1, 1ul << 31 | 1,
    0x007fffff, 0x00400000, P2S(-126), P2S(-126) | 1ul << 31, 0x7f7fffff,
    0xff7fffff, 0x7f000000, P2S(31), 0x4effffff, 0xcf000000, 0xcf000001,
    P2S(32), 0x4f7fffff, P2S(63), 0x5effffff, P2S(63) | 1ul << 31,
    0xdf000001, P2S(64), 0x5f7fffff, 0x3f800001, 0x3f7fffff, P2S(-63),
    P2S(-75) | 0x400001, P2S(64) | 0x1234, P2S(-100), 0x3f000001,
    0xbfc00000, P2S(24), P2S(23) | 1, 0x00800001, 0x00ffffff,
};

static const uint64_t spec_i[] = {
    0, 1, -1ul, 2, -2ul, 0x7fffffff, 0x80000000, 0xffffffff80000000ul,
    0xffffffff, 0x100000000ul, 0x1000001, 0x1000003, 0x20000000000001ul,
    0x7ffffffffffffffful, 0x8000000000000000ul, 0xfffffffffffffffful,
    0x7fffffffffffffc0ul, 0x7ffffffffffffe00ul, 0x8000000000000401ul,
    0x00000000ffffffc0ul, 0x123456789abcdefful, 0x80000001ul,
};

#define NSPEC(a) (sizeof(a) / sizeof(a[0]))
#define NRAND 48
#define NVALS (64 + NRAND)
static uint64_t vals[3][NVALS];
static unsigned nvals[3];

/* A random value of the format: raw bits, or near 1, near the ends of
 * the exponent range, with a short significand (rounding ties). */
static uint64_t random_fp(int fmt)
{
    unsigned mbits = fmt == D ? 52 : 23, ebits = fmt == D ? 11 : 8;
    uint64_t emax = (1ul << ebits) - 1, bias = emax >> 1;
    uint64_t r = rnd(), e, m = rnd() & ((1ul << mbits) - 1);
    switch (r & 7) {
    case 0: case 1:
        return fmt == D ? rnd() : (uint32_t)rnd();
    case 2:
        e = rnd() % 40;
        break;
    case 3:
        e = emax - 1 - rnd() % 40;
        break;
    case 4:
        m &= ~0ul << (rnd() % mbits);
        e = bias - 8 + rnd() % 16;
        break;
    default:
        e = bias - 30 + rnd() % 60;
        break;
    }
    return (r >> 8 & 1) << (mbits + ebits) | e << mbits | m;
}

static void make_vals(void)
{
    unsigned n;
    for (n = 0; n < NSPEC(spec_d); n++)
        vals[D][n] = spec_d[n];
    while (n < NVALS)
        vals[D][n++] = random_fp(D);
    nvals[D] = n;
    for (n = 0; n < NSPEC(spec_s); n++)
        vals[S][n] = spec_s[n] | BOX;
    /* not NaN-boxed: read as the canonical NaN */
    vals[S][n++] = 0x3f800000;
    vals[S][n++] = 0x7fffffff3f800000ul;
    vals[S][n++] = 0xfffffffe00000000ul;
    while (n < NVALS)
        vals[S][n++] = random_fp(S) | BOX;
    nvals[S] = n;
    for (n = 0; n < NSPEC(spec_i); n++)
        vals[I][n] = spec_i[n];
    while (n < NVALS) {
        uint64_t r = rnd();
        vals[I][n++] = (r >> (rnd() % 64)) ^ (r & 1 ? -1ul : 0);
    }
    nvals[I] = n;
}

/* ---- running ---- */
static uint64_t hash;

static void mix(uint64_t v)
{
    hash = (hash ^ v) * 0x9e3779b97f4a7c15ul;
    hash ^= hash >> 29;
}

static const char *const rm_names[] = { "rne", "rtz", "rdn", "rup", "rmm" };

static void one(const Op *op, OpFn fn, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t r = fn(a, b, c), fl;
    __asm__ volatile("csrrw %0, fflags, zero" : "=r"(fl));
#ifdef VERBOSE
    puts_(op->name);
    putch(' ');
    put_hex(a);
    putch(' ');
    put_hex(b);
    putch(' ');
    put_hex(c);
    puts_(" -> ");
    put_hex(r);
    putch(' ');
    put_hex(fl);
    putch('\n');
#else
    (void)op;
#endif
    mix(r);
    mix(fl);
}

/* fmul in the guest's own arithmetic, for fma addends that cancel. */
static uint64_t mul_rne(int fmt, uint64_t a, uint64_t b)
{
    uint64_t r = (fmt == D ? fmul_d_rne : fmul_s_rne)(a, b, 0);
    __asm__ volatile("csrw fflags, zero");
    return r;
}

static void run_variant(const Op *op, OpFn fn)
{
    const uint64_t *v = vals[op->in];
    unsigned n = nvals[op->in];

    switch (op->kind) {
    case K_F1: case K_X1: case K_FX: case K_FXE:
        for (unsigned i = 0; i < n; i++)
            one(op, fn, v[i], 0, 0);
        break;
    case K_F2: case K_X2:
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                one(op, fn, v[i], v[j], 0);
        break;
    default: { /* K_F3 */
        /* a and b over every 3rd value, c over every 5th */
        for (unsigned i = 0; i < n; i += 3)
            for (unsigned j = 1; j < n; j += 3)
                for (unsigned k = 2; k < n; k += 5)
                    one(op, fn, v[i], v[j], v[k]);
        /* c close to -(a*b): exact cancellation, sticky bits */
        uint64_t sign = op->in == D ? 1ul << 63 : 1ul << 31;
        for (unsigned i = 0; i < 400; i++) {
            uint64_t a = v[64 + rnd() % NRAND], b = v[64 + rnd() % NRAND];
            uint64_t c = mul_rne(op->in, a, b) ^ sign;
            c += (rnd() % 5) - 2; /* within 2 ulps */
            one(op, fn, a, b, c);
        }
        break;
    }
    }
}

int main(int hartid)
{
    (void)hartid;
    csr_set(mstatus, 1ul << 13); /* FS = Initial */
    make_vals();
    for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        const Op *op = &ops[o];
        unsigned variants = op->rm ? 10 : 1;
        for (unsigned v = 0; v < variants; v++) {
            /* static modes run with frm set to another mode, dynamic
             * ones through frm */
            unsigned frm = v < 5 ? (v + 2) % 5 : v - 5;
            __asm__ volatile("csrw frm, %0" ::"r"((uint64_t)frm));
            hash = 0xcbf29ce484222325ul;
            run_variant(op, op->fn[v < 5 ? v : 5]);
            puts_(op->name);
            if (op->rm) {
                putch(' ');
                puts_(v < 5 ? "" : "dyn-");
                puts_(rm_names[v < 5 ? v : v - 5]);
            }
            putch(' ');
            put_hex(hash);
            putch('\n');
        }
    }
    puts_("fpu: done\n");
    return 0;
}
