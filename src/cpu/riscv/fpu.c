/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The F and D computational instructions: operand fetch with NaN-boxing,
 * the rounding mode (static or frm), the accrued flags and mstatus.FS.
 * The arithmetic itself is softfloat.c's; FP loads and stores are in
 * exec.c, beside the integer ones.
 *
 * The decoder (decode.c) puts FPOP_*, the format, rm, rs3 and the integer
 * kind of a conversion in Insn.imm (fpu.h); rd is the register number as
 * encoded for f destinations, and the x0 sink for x destinations.
 */
#include "fpu.h"
#include "softfloat.h"

#define BOX 0xffffffff00000000ull

/* A binary32 operand: a value not NaN-boxed reads as the canonical NaN. */
static uint64_t operand(const RiscvHart *h, unsigned r, int fmt)
{
    uint64_t v = h->f[r];
    if (fmt == SF_F64)
        return v;
    return (v & BOX) == BOX ? (uint32_t)v : SF_CNAN32;
}

static void write_f(RiscvHart *h, unsigned r, int fmt, uint64_t v)
{
    h->f[r] = fmt == SF_F64 ? v : v | BOX;
    h->mstatus |= MSTATUS_FS;
}

static uint64_t sign_mask(int fmt)
{
    return fmt == SF_F64 ? 1ull << 63 : 1ull << 31;
}

bool riscv_fp_exec(RiscvHart *h, const Insn *ins)
{
    uint32_t imm = (uint32_t)ins->imm;
    unsigned op = FPI_OP(imm);
    int fmt = FPI_FMT(imm);
    int rm = FPI_RM(imm);
    unsigned fl = 0;
    uint64_t a, b, r;

    if (!(h->mstatus & MSTATUS_FS))
        goto illegal;
    if (fpop_has_rm(op)) {
        if (rm == 7)
            rm = h->frm;
        if (rm > SF_RMM)
            goto illegal;
    }
    a = operand(h, ins->rs1, fmt);
    b = operand(h, ins->rs2, fmt);
    switch (op) {
    case FPOP_ADD: r = sf_add(fmt, a, b, rm, &fl); goto f_out;
    case FPOP_SUB: r = sf_sub(fmt, a, b, rm, &fl); goto f_out;
    case FPOP_MUL: r = sf_mul(fmt, a, b, rm, &fl); goto f_out;
    case FPOP_DIV: r = sf_div(fmt, a, b, rm, &fl); goto f_out;
    case FPOP_SQRT: r = sf_sqrt(fmt, a, rm, &fl); goto f_out;
    case FPOP_MADD: case FPOP_MSUB: case FPOP_NMSUB: case FPOP_NMADD: {
        uint64_t c = operand(h, FPI_RS3(imm), fmt);
        bool neg_prod = op == FPOP_NMSUB || op == FPOP_NMADD;
        bool neg_c = op == FPOP_MSUB || op == FPOP_NMADD;
        r = sf_fma(fmt, a, b, c, neg_prod, neg_c, rm, &fl);
        goto f_out;
    }
    case FPOP_SGNJ: r = (a & ~sign_mask(fmt)) | (b & sign_mask(fmt));
        goto f_out;
    case FPOP_SGNJN: r = (a & ~sign_mask(fmt)) | (~b & sign_mask(fmt));
        goto f_out;
    case FPOP_SGNJX: r = a ^ (b & sign_mask(fmt)); goto f_out;
    case FPOP_MIN: r = sf_min(fmt, a, b, &fl); goto f_out;
    case FPOP_MAX: r = sf_max(fmt, a, b, &fl); goto f_out;
    case FPOP_CVT_FF: {
        /* fmt is the destination's; the source is the other one. */
        int from = fmt == SF_F64 ? SF_F32 : SF_F64;
        r = sf_convert(fmt, from, operand(h, ins->rs1, from), rm, &fl);
        goto f_out;
    }
    case FPOP_CVT_FI:
        r = sf_from_int(fmt, h->x[ins->rs1], FPI_KIND(imm), rm, &fl);
        goto f_out;
    case FPOP_MV_FX:
        r = fmt == SF_F64 ? h->x[ins->rs1] : (uint32_t)h->x[ins->rs1];
        goto f_out;
    case FPOP_EQ: r = sf_eq(fmt, a, b, &fl); goto x_out;
    case FPOP_LT: r = sf_lt(fmt, a, b, &fl); goto x_out;
    case FPOP_LE: r = sf_le(fmt, a, b, &fl); goto x_out;
    case FPOP_CLASS: r = sf_class(fmt, a); goto x_out;
    case FPOP_CVT_IF: r = sf_to_int(fmt, a, FPI_KIND(imm), rm, &fl);
        goto x_out;
    case FPOP_MV_XF:
        /* The raw bits, boxed or not. */
        r = fmt == SF_F64 ? h->f[ins->rs1]
                          : (uint64_t)(int64_t)(int32_t)h->f[ins->rs1];
        goto x_out;
    default:
        goto illegal;
    }
f_out:
    write_f(h, ins->rd, fmt, r);
    goto flags;
x_out:
    h->x[ins->rd] = r;
flags:
    if (fl) {
        /* Accrued flags are FP state too: a changed fflags makes FS
         * Dirty, so an OS saves it on a context switch. */
        h->fflags |= (uint8_t)fl;
        h->mstatus |= MSTATUS_FS;
    }
    return true;
illegal:
    hart_raise(h, EXC_ILLEGAL, ins->raw);
    return false;
}
