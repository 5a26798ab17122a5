/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Binary32/binary64 arithmetic in integers, the RISC-V way (softfloat.h).
 *
 * Every operation works on the exact value, or on a value that differs
 * from it only below a "sticky" bit that stays set when anything nonzero
 * was shifted out, as m * 2^e with m an unsigned 128-bit integer; one
 * function, round_pack(), then rounds that to the format in the mode
 * asked for.  128 bits hold a 106-bit product, a 66-bit quotient with its
 * remainder as the sticky bit, or a 63-bit square root, with guard bits to
 * spare, so each result is correctly rounded.
 */
#include "softfloat.h"

typedef unsigned __int128 u128;

typedef struct Fmt {
    unsigned mbits, ebits; /* fraction and exponent field widths */
    int bias;
    uint64_t cnan;
} Fmt;

static const Fmt fmts[2] = {
    [SF_F32] = { 23, 8, 127, SF_CNAN32 },
    [SF_F64] = { 52, 11, 1023, SF_CNAN64 },
};

static unsigned sign_of(const Fmt *f, uint64_t a)
{
    return (unsigned)(a >> (f->mbits + f->ebits)) & 1;
}

static uint64_t sign_bit(const Fmt *f, unsigned s)
{
    return (uint64_t)s << (f->mbits + f->ebits);
}

static unsigned exp_field(const Fmt *f, uint64_t a)
{
    return (unsigned)(a >> f->mbits) & ((1u << f->ebits) - 1);
}

static uint64_t frac_field(const Fmt *f, uint64_t a)
{
    return a & ((1ull << f->mbits) - 1);
}

static unsigned exp_max(const Fmt *f)
{
    return (1u << f->ebits) - 1;
}

static bool is_nan(const Fmt *f, uint64_t a)
{
    return exp_field(f, a) == exp_max(f) && frac_field(f, a) != 0;
}

static bool is_snan(const Fmt *f, uint64_t a)
{
    return is_nan(f, a) && !((a >> (f->mbits - 1)) & 1);
}

static bool is_inf(const Fmt *f, uint64_t a)
{
    return exp_field(f, a) == exp_max(f) && frac_field(f, a) == 0;
}

static bool is_zero(const Fmt *f, uint64_t a)
{
    return (a & ~sign_bit(f, 1)) == 0;
}

static uint64_t make_inf(const Fmt *f, unsigned s)
{
    return sign_bit(f, s) | (uint64_t)exp_max(f) << f->mbits;
}

static uint64_t make_zero(const Fmt *f, unsigned s)
{
    return sign_bit(f, s);
}

/* The value of finite nonzero a as m * 2^e (m < 2^(mbits+1)). */
static void unpack(const Fmt *f, uint64_t a, int *e, uint64_t *m)
{
    unsigned ef = exp_field(f, a);
    uint64_t mf = frac_field(f, a);
    if (ef == 0) {
        *m = mf;
        *e = 1 - f->bias - (int)f->mbits;
    } else {
        *m = mf | 1ull << f->mbits;
        *e = (int)ef - f->bias - (int)f->mbits;
    }
}

static int clz128(u128 v) /* v != 0 */
{
    uint64_t hi = (uint64_t)(v >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)v);
}

/* v >> n, with bit 0 set when any bit shifted out was. */
static u128 shr_jam(u128 v, int n)
{
    if (n <= 0)
        return v;
    if (n >= 128)
        return v != 0;
    return (v >> n) | ((v & (((u128)1 << n) - 1)) != 0);
}

/* m / 2^sh rounded to an integer in mode rm, for a number of sign s;
 * *inexact tells whether anything was discarded.  sh >= 0, any size. */
static u128 round_shift(u128 m, int sh, unsigned s, int rm, bool *inexact)
{
    u128 q, rem;
    int cmp; /* the discarded part against one half */

    if (sh == 0) {
        *inexact = false;
        return m;
    }
    if (sh > 128) {
        q = 0;
        rem = m;
        cmp = -1; /* m < 2^128 <= 2^(sh-1) */
    } else {
        u128 half = (u128)1 << (sh - 1);
        q = sh == 128 ? 0 : m >> sh;
        rem = sh == 128 ? m : m & ((half << 1) - 1);
        cmp = rem > half ? 1 : rem == half ? 0 : -1;
    }
    *inexact = rem != 0;
    if (!rem)
        return q;
    bool up;
    switch (rm) {
    case SF_RNE: up = cmp > 0 || (cmp == 0 && (q & 1)); break;
    case SF_RDN: up = s; break;
    case SF_RUP: up = !s; break;
    case SF_RMM: up = cmp >= 0; break;
    default: up = false; break; /* SF_RTZ */
    }
    return q + up;
}

static uint64_t overflow(const Fmt *f, unsigned s, int rm)
{
    bool to_inf = rm == SF_RNE || rm == SF_RMM || (rm == SF_RDN && s) ||
                  (rm == SF_RUP && !s);
    if (to_inf)
        return make_inf(f, s);
    return sign_bit(f, s) | (((uint64_t)exp_max(f) << f->mbits) - 1);
}

/*
 * Rounds (-1)^s * m * 2^e (m != 0, exact or with a sticky bit far below
 * the rounding position) to format f.  Underflow is signalled when the
 * result is inexact and tiny after rounding: rounded to the format's
 * precision with an unbounded exponent, its magnitude is below the
 * smallest normal number (the RISC-V choice).
 */
static uint64_t round_pack(const Fmt *f, unsigned s, int e, u128 m, int rm,
                           unsigned *fl)
{
    int p = (int)f->mbits + 1;
    int lz = clz128(m);
    bool inexact;
    u128 q;

    m <<= lz;
    e -= lz; /* m in [2^127, 2^128) */
    int be = e + 127 + f->bias; /* biased exponent of the leading bit */
    if (be >= 1) {
        q = round_shift(m, 128 - p, s, rm, &inexact);
        if (q >> p) { /* rounded up to 2^p: the bit dropped is 0 */
            q >>= 1;
            be++;
        }
        if (be >= (int)exp_max(f)) {
            *fl |= SF_OF | SF_NX;
            return overflow(f, s, rm);
        }
        if (inexact)
            *fl |= SF_NX;
        return sign_bit(f, s) | (uint64_t)be << f->mbits |
               ((uint64_t)q & ((1ull << f->mbits) - 1));
    }
    bool tiny = true;
    if (be == 0) {
        bool ix;
        tiny = !(round_shift(m, 128 - p, s, rm, &ix) >> p);
    }
    q = round_shift(m, 128 - p + 1 - be, s, rm, &inexact);
    if (inexact) {
        *fl |= SF_NX;
        if (tiny)
            *fl |= SF_UF;
    }
    /* q <= 2^(p-1): a carry into the exponent field is the smallest
     * normal number, as it should be. */
    return sign_bit(f, s) | (uint64_t)q;
}

/* NaN operands: invalid for a signalling one; the result is canonical. */
static bool nan_in(const Fmt *f, uint64_t a, uint64_t b, uint64_t *r,
                   unsigned *fl)
{
    if (!is_nan(f, a) && !is_nan(f, b))
        return false;
    if (is_snan(f, a) || is_snan(f, b))
        *fl |= SF_NV;
    *r = f->cnan;
    return true;
}

static uint64_t invalid(const Fmt *f, unsigned *fl)
{
    *fl |= SF_NV;
    return f->cnan;
}

/* An exact zero sum of operands of opposite signs: +0, or -0 in RDN. */
static uint64_t zero_sum(const Fmt *f, int rm)
{
    return make_zero(f, rm == SF_RDN);
}

/*
 * (-1)^sa * A * 2^ea + (-1)^sb * B * 2^eb, rounded once.  The callers leave
 * enough zero bits below each significand that the sticky bit which
 * alignment jams into bit 0 stays far below the rounding position.
 */
static uint64_t add_exact(const Fmt *f, unsigned sa, int ea, u128 A, unsigned sb, int eb,
                          u128 B, int rm, unsigned *fl)
{
    u128 m;
    unsigned s;
    int e;

    if (ea >= eb) {
        B = shr_jam(B, ea - eb);
        e = ea;
    } else {
        A = shr_jam(A, eb - ea);
        e = eb;
    }
    if (sa == sb) {
        m = A + B;
        s = sa;
    } else if (A >= B) {
        m = A - B;
        s = sa;
    } else {
        m = B - A;
        s = sb;
    }
    if (m == 0)
        return zero_sum(f, rm);
    return round_pack(f, s, e, m, rm, fl);
}

static uint64_t add_signed(const Fmt *f, uint64_t a, uint64_t b, int rm,
                           unsigned *fl)
{
    unsigned sa = sign_of(f, a), sb = sign_of(f, b);
    uint64_t r, ma, mb;
    int ea, eb;

    if (nan_in(f, a, b, &r, fl))
        return r;
    if (is_inf(f, a)) {
        if (is_inf(f, b) && sa != sb)
            return invalid(f, fl);
        return a;
    }
    if (is_inf(f, b))
        return b;
    if (is_zero(f, a) && is_zero(f, b))
        return sa == sb ? a : zero_sum(f, rm);
    if (is_zero(f, a))
        return b;
    if (is_zero(f, b))
        return a;
    unpack(f, a, &ea, &ma);
    unpack(f, b, &eb, &mb);
    /* 64 zero bits below each significand: after alignment (which jams
     * what it shifts out into bit 0) and at most one bit of cancellation
     * when anything was shifted out, the sticky bit stays far below the
     * rounding position. */
    return add_exact(f, sa, ea - 64, (u128)ma << 64, sb, eb - 64, (u128)mb << 64, rm, fl);
}

uint64_t sf_add(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl)
{
    return add_signed(&fmts[fmt], a, b, rm, fl);
}

uint64_t sf_sub(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl)
{
    /* Flipping a NaN's sign changes neither its class nor the result. */
    return add_signed(&fmts[fmt], a, b ^ sign_bit(&fmts[fmt], 1), rm, fl);
}

uint64_t sf_mul(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    unsigned s = sign_of(f, a) ^ sign_of(f, b);
    uint64_t r, ma, mb;
    int ea, eb;

    if (nan_in(f, a, b, &r, fl))
        return r;
    if (is_inf(f, a) || is_inf(f, b)) {
        if (is_zero(f, a) || is_zero(f, b))
            return invalid(f, fl);
        return make_inf(f, s);
    }
    if (is_zero(f, a) || is_zero(f, b))
        return make_zero(f, s);
    unpack(f, a, &ea, &ma);
    unpack(f, b, &eb, &mb);
    return round_pack(f, s, ea + eb, (u128)ma * mb, rm, fl);
}

uint64_t sf_div(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    unsigned s = sign_of(f, a) ^ sign_of(f, b);
    uint64_t r, ma, mb;
    int ea, eb;

    if (nan_in(f, a, b, &r, fl))
        return r;
    if (is_inf(f, a)) {
        if (is_inf(f, b))
            return invalid(f, fl);
        return make_inf(f, s);
    }
    if (is_inf(f, b))
        return make_zero(f, s);
    if (is_zero(f, b)) {
        if (is_zero(f, a))
            return invalid(f, fl);
        *fl |= SF_DZ;
        return make_inf(f, s);
    }
    if (is_zero(f, a))
        return make_zero(f, s);
    unpack(f, a, &ea, &ma);
    unpack(f, b, &eb, &mb);
    int la = __builtin_clzll(ma), lb = __builtin_clzll(mb);
    ma <<= la;
    ea -= la;
    mb <<= lb;
    eb -= lb;
    /* ma, mb in [2^63, 2^64): a quotient of 64 or 65 bits, and the
     * remainder as a sticky bit below it. */
    u128 n = (u128)ma << 64;
    u128 q = n / mb;
    bool rest = n % mb != 0;
    return round_pack(f, s, ea - eb - 65, q << 1 | rest, rm, fl);
}

/* floor(sqrt(n)), and n minus its square. */
static uint64_t isqrt128(u128 n, u128 *rem)
{
    u128 res = 0, bit = (u128)1 << 126;

    while (bit > n)
        bit >>= 2;
    while (bit) {
        if (n >= res + bit) {
            n -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    *rem = n;
    return (uint64_t)res;
}

uint64_t sf_sqrt(int fmt, uint64_t a, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    uint64_t r, m;
    int e;

    if (nan_in(f, a, a, &r, fl))
        return r;
    if (is_zero(f, a))
        return a; /* sqrt(-0) = -0 */
    if (sign_of(f, a))
        return invalid(f, fl);
    if (is_inf(f, a))
        return a;
    unpack(f, a, &e, &m);
    /* Leading bit at 125 or 126, with an even exponent: a root of 63
     * bits and the remainder as a sticky bit. */
    int k = clz128(m) - 2;
    if ((e - k) & 1)
        k++;
    u128 M = (u128)m << k, rem;
    e -= k;
    uint64_t root = isqrt128(M, &rem);
    return round_pack(f, 0, e / 2 - 1, (u128)root << 1 | (rem != 0), rm, fl);
}

uint64_t sf_fma(int fmt, uint64_t a, uint64_t b, uint64_t c, bool neg_prod,
                bool neg_c, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    bool infzero = (is_inf(f, a) && is_zero(f, b)) ||
                   (is_zero(f, a) && is_inf(f, b));
    uint64_t ma, mb, mc;
    int ea, eb, ec;

    /* inf * 0 is invalid even with a quiet NaN addend (unpriv. spec,
     * "Single-Precision Floating-Point Computational Instructions"). */
    if (is_nan(f, a) || is_nan(f, b) || is_nan(f, c) || infzero) {
        if (infzero || is_snan(f, a) || is_snan(f, b) || is_snan(f, c))
            *fl |= SF_NV;
        return f->cnan;
    }
    unsigned sp = sign_of(f, a) ^ sign_of(f, b) ^ neg_prod;
    unsigned sc = sign_of(f, c) ^ neg_c;
    if (is_inf(f, a) || is_inf(f, b)) {
        if (is_inf(f, c) && sc != sp)
            return invalid(f, fl);
        return make_inf(f, sp);
    }
    if (is_inf(f, c))
        return make_inf(f, sc);
    if (is_zero(f, a) || is_zero(f, b)) {
        if (is_zero(f, c))
            return sp == sc ? make_zero(f, sp) : zero_sum(f, rm);
        return c ^ sign_bit(f, neg_c);
    }
    unpack(f, a, &ea, &ma);
    unpack(f, b, &eb, &mb);
    u128 P = (u128)ma * mb;
    int ep = ea + eb;
    if (is_zero(f, c))
        return round_pack(f, sp, ep, P, rm, fl);
    unpack(f, c, &ec, &mc);
    /* Both with the leading bit at 125: the product has at most 106
     * significant bits, so at least 19 zero bits below it, and the
     * same argument as for addition holds. */
    u128 C = mc;
    int lp = clz128(P) - 2, lc = clz128(C) - 2;
    P <<= lp;
    ep -= lp;
    C <<= lc;
    ec -= lc;
    return add_exact(f, sp, ep, P, sc, ec, C, rm, fl);
}

/* a < b for non-NaN operands, with -0 < +0. */
static bool total_lt(const Fmt *f, uint64_t a, uint64_t b)
{
    unsigned sa = sign_of(f, a), sb = sign_of(f, b);
    if (sa != sb)
        return sa;
    return sa ? a > b : a < b;
}

static uint64_t minmax(const Fmt *f, uint64_t a, uint64_t b, bool max,
                       unsigned *fl)
{
    if (is_snan(f, a) || is_snan(f, b))
        *fl |= SF_NV;
    if (is_nan(f, a) && is_nan(f, b))
        return f->cnan;
    if (is_nan(f, a))
        return b;
    if (is_nan(f, b))
        return a;
    return total_lt(f, a, b) != max ? a : b;
}

uint64_t sf_min(int fmt, uint64_t a, uint64_t b, unsigned *fl)
{
    return minmax(&fmts[fmt], a, b, false, fl);
}

uint64_t sf_max(int fmt, uint64_t a, uint64_t b, unsigned *fl)
{
    return minmax(&fmts[fmt], a, b, true, fl);
}

bool sf_eq(int fmt, uint64_t a, uint64_t b, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    if (is_nan(f, a) || is_nan(f, b)) {
        if (is_snan(f, a) || is_snan(f, b))
            *fl |= SF_NV;
        return false;
    }
    return a == b || (is_zero(f, a) && is_zero(f, b));
}

bool sf_lt(int fmt, uint64_t a, uint64_t b, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    if (is_nan(f, a) || is_nan(f, b)) {
        *fl |= SF_NV;
        return false;
    }
    if (is_zero(f, a) && is_zero(f, b))
        return false;
    return total_lt(f, a, b);
}

bool sf_le(int fmt, uint64_t a, uint64_t b, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    if (is_nan(f, a) || is_nan(f, b)) {
        *fl |= SF_NV;
        return false;
    }
    if (is_zero(f, a) && is_zero(f, b))
        return true;
    return a == b || total_lt(f, a, b);
}

uint64_t sf_class(int fmt, uint64_t a)
{
    const Fmt *f = &fmts[fmt];
    unsigned s = sign_of(f, a);
    if (is_nan(f, a))
        return is_snan(f, a) ? 1u << 8 : 1u << 9;
    if (is_inf(f, a))
        return s ? 1u << 0 : 1u << 7;
    if (is_zero(f, a))
        return s ? 1u << 3 : 1u << 4;
    if (exp_field(f, a) == 0)
        return s ? 1u << 2 : 1u << 5;
    return s ? 1u << 1 : 1u << 6;
}

uint64_t sf_to_int(int fmt, uint64_t a, int kind, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    unsigned bits = kind < SF_L ? 32 : 64;
    bool uns = kind & 1;
    uint64_t maxv = uns ? UINT64_MAX >> (64 - bits)
                        : (1ull << (bits - 1)) - 1;
    uint64_t minv = uns ? 0 : (uint64_t)0 - (1ull << (bits - 1));
    unsigned s = sign_of(f, a);
    uint64_t m, r;
    bool inexact = false;
    u128 mag;
    int e;

    if (is_nan(f, a)) {
        r = maxv;
        goto invalid;
    }
    if (is_inf(f, a)) {
        r = s ? minv : maxv;
        goto invalid;
    }
    if (is_zero(f, a))
        return 0;
    unpack(f, a, &e, &m);
    if (e >= 64) {
        r = s ? minv : maxv;
        goto invalid;
    }
    mag = e >= 0 ? (u128)m << e : round_shift(m, -e, s, rm, &inexact);
    if (!s ? mag > maxv : uns ? mag != 0 : mag > (u128)1 << (bits - 1)) {
        r = s ? minv : maxv;
        goto invalid;
    }
    if (inexact)
        *fl |= SF_NX;
    r = s ? (uint64_t)0 - (uint64_t)mag : (uint64_t)mag;
    goto out;
invalid:
    *fl |= SF_NV;
out:
    if (bits == 32)
        r = (uint64_t)(int64_t)(int32_t)(uint32_t)r;
    return r;
}

uint64_t sf_from_int(int fmt, uint64_t v, int kind, int rm, unsigned *fl)
{
    const Fmt *f = &fmts[fmt];
    unsigned s = 0;

    switch (kind) {
    case SF_W: v = (uint64_t)(int64_t)(int32_t)(uint32_t)v; break;
    case SF_WU: v = (uint32_t)v; break;
    default: break;
    }
    if (!(kind & 1) && (int64_t)v < 0) {
        s = 1;
        v = (uint64_t)0 - v;
    }
    if (v == 0)
        return 0;
    return round_pack(f, s, 0, v, rm, fl);
}

uint64_t sf_convert(int to, int from, uint64_t a, int rm, unsigned *fl)
{
    const Fmt *ft = &fmts[to], *ff = &fmts[from];
    unsigned s = sign_of(ff, a);
    uint64_t m;
    int e;

    if (is_nan(ff, a)) {
        if (is_snan(ff, a))
            *fl |= SF_NV;
        return ft->cnan;
    }
    if (is_inf(ff, a))
        return make_inf(ft, s);
    if (is_zero(ff, a))
        return make_zero(ft, s);
    unpack(ff, a, &e, &m);
    return round_pack(ft, s, e, m, rm, fl);
}
