/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * F and D instructions: how decode.c describes one to fpu.c.
 *
 * An OP_FP instruction carries in Insn.imm: the operation (FPOP_*), the
 * format (0 binary32, 1 binary64: for conversions between formats, the
 * destination's), the rm field as encoded (7: dynamic, frm), rs3 of the
 * fused multiply-adds and the integer kind (rs2 field) of conversions.
 */
#ifndef RISCV_FPU_H
#define RISCV_FPU_H

#include "internal.h"

enum FpOp {
    FPOP_ADD, FPOP_SUB, FPOP_MUL, FPOP_DIV, FPOP_SQRT,
    FPOP_MADD, FPOP_MSUB, FPOP_NMSUB, FPOP_NMADD,
    FPOP_CVT_FF,           /* fcvt.s.d, fcvt.d.s */
    FPOP_CVT_FI,           /* fcvt.{s,d}.{w,wu,l,lu} */
    FPOP_CVT_IF,           /* fcvt.{w,wu,l,lu}.{s,d} */
    /* no rounding mode from here on */
    FPOP_SGNJ, FPOP_SGNJN, FPOP_SGNJX, FPOP_MIN, FPOP_MAX,
    FPOP_EQ, FPOP_LT, FPOP_LE, FPOP_CLASS,
    FPOP_MV_XF,            /* fmv.x.w, fmv.x.d */
    FPOP_MV_FX,            /* fmv.w.x, fmv.d.x */
};

#define FPI(op, fmt, rm, rs3, kind)                                          \
    ((int32_t)((op) | (fmt) << 8 | (rm) << 9 | (rs3) << 12 | (kind) << 17))
#define FPI_OP(imm) ((imm) & 0xff)
#define FPI_FMT(imm) ((int)((imm) >> 8) & 1)
#define FPI_RM(imm) ((int)((imm) >> 9) & 7)
#define FPI_RS3(imm) (((imm) >> 12) & 31)
#define FPI_KIND(imm) ((int)((imm) >> 17) & 3)

static inline bool fpop_has_rm(unsigned op)
{
    return op <= FPOP_CVT_IF;
}

/* Executes an OP_FP instruction; false (with an illegal-instruction
 * exception raised) when FS is Off or the rounding mode is invalid. */
bool riscv_fp_exec(RiscvHart *h, const Insn *ins);

#endif
