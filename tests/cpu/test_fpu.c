/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interpreter's soft-float (src/cpu/riscv/softfloat.c) against the
 * host's IEEE 754 arithmetic (C float/double with <fenv.h>, fma() from
 * libm) in the four rounding modes the host has, over special and random
 * operands: results and all five exception flags must agree.  NaN results
 * only need to be NaN on the host (RISC-V's are canonical: checked too).
 * RMM, saturating conversions and NaN-specific rules are RISC-V's own and
 * are checked against QEMU by the guest test cpu-virt-fpu.  TAP output.
 */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../src/cpu/riscv/softfloat.h"

/* GCC ignores "#pragma STDC FENV_ACCESS": built with -frounding-math. */

static int failures, test_no;

static void ok(int cond, const char *what)
{
    printf("%s %d - %s\n", cond ? "ok" : "not ok", ++test_no, what);
    if (!cond)
        failures++;
}

static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random operands with a bias to interesting ones: raw bits, near 1,
 * near the ends of the exponent range, short significands (ties). */
static uint64_t operand(int fmt)
{
    unsigned mbits = fmt ? 52 : 23, ebits = fmt ? 11 : 8;
    uint64_t emax = (1ull << ebits) - 1, bias = emax >> 1;
    uint64_t r = rnd(), e, m = rnd() & ((1ull << mbits) - 1);

    switch (r % 11) {
    case 0: return fmt ? rnd() : (uint32_t)rnd();
    case 1: e = rnd() % 30; break;             /* subnormal / tiny */
    case 2: e = emax - 1 - rnd() % 30; break;  /* huge */
    case 3: e = bias / 2 + rnd() % 8; break;   /* products near tiny */
    case 4: e = bias + bias / 2 - rnd() % 8; break;
    case 5: m &= ~0ull << (rnd() % mbits); e = bias - 4 + rnd() % 8; break;
    case 6: e = (r >> 16) & 1 ? 0 : emax; m = rnd() % 3; break; /* specials */
    case 7: /* all-ones significands near 1 and near the smallest normal:
             * products that round up to it (tininess after rounding) */
        m = (1ull << mbits) - 1 - rnd() % 3;
        e = (r >> 16) & 1 ? 1 + rnd() % 2 : bias - 1 + rnd() % 2;
        break;
    case 8: m = rnd() % 3; e = (r >> 16) & 1 ? 1 : bias - 1 + rnd() % 2; break;
    default: e = bias - 20 + rnd() % 40; break;
    }
    return (r >> 8 & 1) << (mbits + ebits) | e << mbits | m;
}

static const int host_modes[4] = { FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD,
                                   FE_UPWARD };
static const int sf_modes[4] = { SF_RNE, SF_RTZ, SF_RDN, SF_RUP };

static unsigned host_flags(void)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    return (e & FE_INEXACT ? SF_NX : 0) | (e & FE_UNDERFLOW ? SF_UF : 0) |
           (e & FE_OVERFLOW ? SF_OF : 0) | (e & FE_DIVBYZERO ? SF_DZ : 0) |
           (e & FE_INVALID ? SF_NV : 0);
}

static double d_of(uint64_t v) { double d; memcpy(&d, &v, 8); return d; }
static float f_of(uint64_t v) { float f; uint32_t u = (uint32_t)v;
                                memcpy(&f, &u, 4); return f; }
static uint64_t bits_d(double d) { uint64_t v; memcpy(&v, &d, 8); return v; }
static uint64_t bits_f(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

enum { ADD, SUB, MUL, DIV, SQRT, FMA, CVT, NOPS };
static const char *const op_names[NOPS] = {
    "add", "sub", "mul", "div", "sqrt", "fma", "cvt",
};

/* Host result of op (volatile stores keep the operation before the
 * flag test). */
static uint64_t host_op(int op, int fmt, uint64_t a, uint64_t b, uint64_t c)
{
    if (fmt) {
        volatile double x = d_of(a), y = d_of(b), z = d_of(c), r;
        switch (op) {
        case ADD: r = x + y; break;
        case SUB: r = x - y; break;
        case MUL: r = x * y; break;
        case DIV: r = x / y; break;
        case SQRT: r = sqrt(x); break;
        case FMA: r = fma(x, y, z); break;
        default: { volatile float f = (float)x; return bits_f(f); }
        }
        return bits_d(r);
    }
    volatile float x = f_of(a), y = f_of(b), z = f_of(c), r;
    switch (op) {
    case ADD: r = x + y; break;
    case SUB: r = x - y; break;
    case MUL: r = x * y; break;
    case DIV: r = x / y; break;
    case SQRT: r = sqrtf(x); break;
    case FMA: r = fmaf(x, y, z); break;
    default: { volatile double d = (double)x; return bits_d(d); }
    }
    return bits_f(r);
}

static uint64_t sf_op(int op, int fmt, uint64_t a, uint64_t b, uint64_t c,
                      int rm, unsigned *fl)
{
    switch (op) {
    case ADD: return sf_add(fmt, a, b, rm, fl);
    case SUB: return sf_sub(fmt, a, b, rm, fl);
    case MUL: return sf_mul(fmt, a, b, rm, fl);
    case DIV: return sf_div(fmt, a, b, rm, fl);
    case SQRT: return sf_sqrt(fmt, a, rm, fl);
    case FMA: return sf_fma(fmt, a, b, c, false, false, rm, fl);
    default: return sf_convert(!fmt, fmt, a, rm, fl);
    }
}

static bool is_nan(int fmt, uint64_t v)
{
    return fmt ? (v & ~(1ull << 63)) > 0x7ff0000000000000ull
               : (v & 0x7fffffff) > 0x7f800000;
}

/* Random cases of one operation in one format, every host mode. */
static void check_op(int op, int fmt, unsigned n)
{
    unsigned bad = 0;
    int rfmt = op == CVT ? !fmt : fmt;
    uint64_t cnan = rfmt ? SF_CNAN64 : SF_CNAN32;

    for (unsigned i = 0; i < n; i++) {
        uint64_t a = operand(fmt), b = operand(fmt), c = operand(fmt);
        if (op == FMA && i % 4 == 0) {
            /* an addend that (nearly) cancels the product */
            unsigned fl = 0;
            c = sf_mul(fmt, a, b, SF_RNE, &fl) ^ (fmt ? 1ull << 63 : 1u << 31);
            c += rnd() % 3 - 1;
        }
        /* NaN operands of fma: RISC-V rules (QEMU-compared). */
        if (op == FMA && (is_nan(fmt, a) || is_nan(fmt, b) || is_nan(fmt, c)))
            continue;
        for (int m = 0; m < 4; m++) {
            unsigned fl = 0;
            fesetround(host_modes[m]);
            feclearexcept(FE_ALL_EXCEPT);
            uint64_t want = host_op(op, fmt, a, b, c);
            unsigned want_fl = host_flags();
            fesetround(FE_TONEAREST);
            uint64_t got = sf_op(op, fmt, a, b, c, sf_modes[m], &fl);
            if (is_nan(rfmt, want))
                want = cnan;
            if (got != want || fl != want_fl) {
                if (bad++ < 5)
                    printf("# %s.%c rm %d: %#llx %#llx %#llx: got %#llx "
                           "fl %#x, host %#llx fl %#x\n", op_names[op],
                           fmt ? 'd' : 's', sf_modes[m],
                           (unsigned long long)a, (unsigned long long)b,
                           (unsigned long long)c, (unsigned long long)got,
                           fl, (unsigned long long)want, want_fl);
            }
        }
    }
    char what[64];
    snprintf(what, sizeof(what), "%s.%c agrees with the host (%u cases)",
             op_names[op], fmt ? 'd' : 's', n * 4);
    ok(bad == 0, what);
}

/* Integer to float, and in-range float to integer, against the host. */
static void check_int(int fmt, unsigned n)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = rnd() >> (rnd() % 64);
        uint64_t a = operand(fmt);
        for (int m = 0; m < 4; m++) {
            unsigned fl = 0, fl2 = 0;
            fesetround(host_modes[m]);
            feclearexcept(FE_ALL_EXCEPT);
            uint64_t want;
            if (fmt) {
                volatile double d = (double)(int64_t)v;
                want = bits_d(d);
            } else {
                volatile float f = (float)(int64_t)v;
                want = bits_f(f);
            }
            unsigned want_fl = host_flags();
            /* in range for a signed 64-bit result: |a| < 2^62 */
            double x = fmt ? d_of(a) : (double)f_of(a);
            bool in_range = fabs(x) < 0x1p62;
            long long want_i = 0;
            unsigned want_ifl = 0;
            if (in_range) {
                feclearexcept(FE_ALL_EXCEPT);
                volatile long long t = llrint(x);
                want_i = t;
                want_ifl = host_flags();
            }
            fesetround(FE_TONEAREST);
            uint64_t got = sf_from_int(fmt, v, SF_L, sf_modes[m], &fl);
            if (got != want || fl != want_fl)
                bad++;
            if (in_range) {
                uint64_t gi = sf_to_int(fmt, a, SF_L, sf_modes[m], &fl2);
                if (gi != (uint64_t)want_i || fl2 != want_ifl)
                    bad++;
            }
        }
    }
    ok(bad == 0, fmt ? "fcvt.d.l and fcvt.l.d agree with the host"
                     : "fcvt.s.l and fcvt.l.s agree with the host");
}

int main(void)
{
    for (int fmt = 0; fmt < 2; fmt++)
        for (int op = 0; op < NOPS; op++)
            check_op(op, fmt, 100000);
    check_int(0, 50000);
    check_int(1, 50000);
    printf("1..%d\n", test_no);
    return failures != 0;
}
