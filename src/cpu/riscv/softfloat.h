/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small IEEE 754 binary32/binary64 arithmetic in integers, with the
 * choices the RISC-V F and D extensions make: five rounding modes (RMM
 * included), tininess detected after rounding, the canonical NaN for every
 * NaN result (no payload propagation), invalid for inf * 0 in a fused
 * multiply-add even when the addend is a quiet NaN, minimumNumber /
 * maximumNumber for fmin/fmax, and saturating float-to-integer
 * conversions.
 *
 * Pure functions: no host floating point, no host rounding mode or flags,
 * no global state.  Values are raw encodings (binary32 in the low 32 bits
 * of the argument, and of the result, which has its upper bits zero).
 * Exception flags are ORed into *fl (SF_NX ... SF_NV, the layout of the
 * RISC-V fflags CSR).
 */
#ifndef RISCV_SOFTFLOAT_H
#define RISCV_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

enum { SF_F32 = 0, SF_F64 = 1 };
enum { SF_RNE = 0, SF_RTZ = 1, SF_RDN = 2, SF_RUP = 3, SF_RMM = 4 };
enum { SF_NX = 1, SF_UF = 2, SF_OF = 4, SF_DZ = 8, SF_NV = 16 };
/* Integer kinds of conversions (the rs2 field of fcvt). */
enum { SF_W = 0, SF_WU = 1, SF_L = 2, SF_LU = 3 };

#define SF_CNAN32 0x7fc00000ull
#define SF_CNAN64 0x7ff8000000000000ull

/* fmt is SF_F32 or SF_F64, rm one of SF_RNE..SF_RMM (callers check it). */
uint64_t sf_add(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl);
uint64_t sf_sub(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl);
uint64_t sf_mul(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl);
uint64_t sf_div(int fmt, uint64_t a, uint64_t b, int rm, unsigned *fl);
uint64_t sf_sqrt(int fmt, uint64_t a, int rm, unsigned *fl);
/* (neg_prod ? -(a*b) : a*b) + (neg_c ? -c : c), rounded once. */
uint64_t sf_fma(int fmt, uint64_t a, uint64_t b, uint64_t c, bool neg_prod,
                bool neg_c, int rm, unsigned *fl);
uint64_t sf_min(int fmt, uint64_t a, uint64_t b, unsigned *fl);
uint64_t sf_max(int fmt, uint64_t a, uint64_t b, unsigned *fl);
/* feq is quiet (invalid only for a signalling NaN), flt and fle signal
 * invalid for any NaN. */
bool sf_eq(int fmt, uint64_t a, uint64_t b, unsigned *fl);
bool sf_lt(int fmt, uint64_t a, uint64_t b, unsigned *fl);
bool sf_le(int fmt, uint64_t a, uint64_t b, unsigned *fl);
/* The 10-bit mask of fclass. */
uint64_t sf_class(int fmt, uint64_t a);
/* To integer of kind SF_W..SF_LU; 32-bit results are sign-extended to 64
 * bits (as RV64 writes them, fcvt.wu included).  NaN and out-of-range
 * inputs give the saturated value and invalid (not inexact). */
uint64_t sf_to_int(int fmt, uint64_t a, int kind, int rm, unsigned *fl);
/* From integer v of kind SF_W..SF_LU (32-bit kinds read v's low bits). */
uint64_t sf_from_int(int fmt, uint64_t v, int kind, int rm, unsigned *fl);
/* Between formats (binary32 <-> binary64). */
uint64_t sf_convert(int to, int from, uint64_t a, int rm, unsigned *fl);

#endif
