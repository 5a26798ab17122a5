/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Instruction decoding: one 32-bit or 16-bit encoding into an Insn.
 *
 * Decoding is pure (no hart state): whether an instruction is allowed in
 * the current privilege mode is checked when it executes, so a decoded
 * block is valid in every mode.  Writes to x0 are redirected to the sink
 * register x[32], so no operation needs an rd == 0 test.  Compressed
 * instructions expand to the operation of their 32-bit equivalent.
 */
#include "fpu.h"

#define SINK 32

static uint32_t bits(uint32_t w, unsigned hi, unsigned lo)
{
    return (w >> lo) & ((1u << (hi - lo + 1)) - 1);
}

/* The low n bits of v, sign-extended (no shift of a negative value). */
static int32_t sx(uint32_t v, unsigned n)
{
    uint32_t m = 1u << (n - 1);
    v &= (m << 1) - 1;
    return (int32_t)(v ^ m) - (int32_t)m;
}

static void set(Insn *d, unsigned op, unsigned rd, unsigned rs1,
                unsigned rs2, int32_t imm)
{
    d->op = (uint16_t)op;
    d->rd = (uint8_t)(rd ? rd : SINK);
    d->rs1 = (uint8_t)rs1;
    d->rs2 = (uint8_t)rs2;
    d->imm = imm;
}

static void illegal(Insn *d)
{
    set(d, OP_ILLEGAL, 0, 0, 0, 0);
}

/* An instruction whose rd is an f register: f0 is a real register, so
 * no sink. */
static void set_f(Insn *d, unsigned op, unsigned rd, unsigned rs1,
                  unsigned rs2, int32_t imm)
{
    set(d, op, 0, rs1, rs2, imm);
    d->rd = (uint8_t)rd;
}

static const uint16_t branch_ops[8] = {
    OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU,
};
static const uint16_t load_ops[8] = {
    OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL,
};
static const uint16_t store_ops[8] = {
    OP_SB, OP_SH, OP_SW, OP_SD,
    OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL,
};
static const uint16_t alu_ops[8] = {
    OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND,
};
static const uint16_t mul_ops[8] = {
    OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU,
};
static const uint16_t aluimm_ops[8] = {
    OP_ADDI, OP_SLLI, OP_SLTI, OP_SLTIU, OP_XORI, OP_SRLI, OP_ORI, OP_ANDI,
};

static void decode_system(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7), f3 = bits(w, 14, 12);
    unsigned rs1 = bits(w, 19, 15);

    if (f3 == 0) {
        switch (w) {
        case 0x00000073: set(d, OP_ECALL, 0, 0, 0, 0); return;
        case 0x00100073: set(d, OP_EBREAK, 0, 0, 0, 0); return;
        case 0x30200073: set(d, OP_MRET, 0, 0, 0, 0); return;
        case 0x10200073: set(d, OP_SRET, 0, 0, 0, 0); return;
        case 0x10500073: set(d, OP_WFI, 0, 0, 0, 0); return;
        default: break;
        }
        if (bits(w, 31, 25) == 0x09 && rd == 0) {
            set(d, OP_SFENCE_VMA, 0, rs1, bits(w, 24, 20), 0);
            return;
        }
        illegal(d);
        return;
    }
    if (f3 == 4) {
        illegal(d);
        return;
    }
    /* rs2 carries funct3; rs1 is a register or the 5-bit immediate. */
    set(d, OP_CSR, rd, rs1, f3, (int32_t)bits(w, 31, 20));
}

static void decode_amo(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7), f3 = bits(w, 14, 12);
    unsigned rs1 = bits(w, 19, 15), rs2 = bits(w, 24, 20);
    unsigned f5 = bits(w, 31, 27);

    if (f3 != 2 && f3 != 3) {
        illegal(d);
        return;
    }
    int32_t size = f3 == 2 ? 4 : 8;
    switch (f5) {
    case 0x02:
        if (rs2 != 0) {
            illegal(d);
            return;
        }
        set(d, OP_LR, rd, rs1, 0, size);
        return;
    case 0x03:
        set(d, OP_SC, rd, rs1, rs2, size);
        return;
    case 0x00: case 0x01: case 0x04: case 0x08: case 0x0c:
    case 0x10: case 0x14: case 0x18: case 0x1c:
        set(d, OP_AMO, rd, rs1, rs2, (int32_t)(f5 << 8) | size);
        return;
    default:
        illegal(d);
        return;
    }
}

/* OP-FP (0x53).  fmt 2 (H) and 3 (Q) are not implemented. */
static void decode_op_fp(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7), rm = bits(w, 14, 12);
    unsigned rs1 = bits(w, 19, 15), rs2 = bits(w, 24, 20);
    unsigned f5 = bits(w, 31, 27), fmt = bits(w, 26, 25);
    unsigned op;

    if (fmt > 1)
        goto bad;
    switch (f5) {
    case 0x00: op = FPOP_ADD; goto f_rm;
    case 0x01: op = FPOP_SUB; goto f_rm;
    case 0x02: op = FPOP_MUL; goto f_rm;
    case 0x03: op = FPOP_DIV; goto f_rm;
    case 0x0b:
        if (rs2 != 0)
            goto bad;
        op = FPOP_SQRT;
        goto f_rm;
    case 0x04:
        if (rm > 2)
            goto bad;
        op = FPOP_SGNJ + rm;
        goto f_norm;
    case 0x05:
        if (rm > 1)
            goto bad;
        op = rm ? FPOP_MAX : FPOP_MIN;
        goto f_norm;
    case 0x08: /* fcvt.s.d (fmt 0, rs2 1), fcvt.d.s (fmt 1, rs2 0) */
        if (rs2 != (fmt ^ 1))
            goto bad;
        op = FPOP_CVT_FF;
        goto f_rm;
    case 0x14:
        if (rm > 2)
            goto bad;
        op = rm == 0 ? FPOP_LE : rm == 1 ? FPOP_LT : FPOP_EQ;
        goto x_norm;
    case 0x18:
        if (rs2 > 3)
            goto bad;
        set(d, OP_FP, rd, rs1, 0, FPI(FPOP_CVT_IF, fmt, rm, 0, rs2));
        return;
    case 0x1a:
        if (rs2 > 3)
            goto bad;
        set_f(d, OP_FP, rd, rs1, 0, FPI(FPOP_CVT_FI, fmt, rm, 0, rs2));
        return;
    case 0x1c:
        if (rs2 != 0 || rm > 1)
            goto bad;
        op = rm ? FPOP_CLASS : FPOP_MV_XF;
        goto x_norm;
    case 0x1e:
        if (rs2 != 0 || rm != 0)
            goto bad;
        set_f(d, OP_FP, rd, rs1, 0, FPI(FPOP_MV_FX, fmt, 0, 0, 0));
        return;
    default:
        goto bad;
    }
f_rm:
    set_f(d, OP_FP, rd, rs1, rs2, FPI(op, fmt, rm, 0, 0));
    return;
f_norm:
    set_f(d, OP_FP, rd, rs1, rs2, FPI(op, fmt, 0, 0, 0));
    return;
x_norm:
    set(d, OP_FP, rd, rs1, rs2, FPI(op, fmt, 0, 0, 0));
    return;
bad:
    illegal(d);
}

void riscv_decode32(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7), f3 = bits(w, 14, 12);
    unsigned rs1 = bits(w, 19, 15), rs2 = bits(w, 24, 20);
    unsigned f7 = bits(w, 31, 25);
    int32_t imm_i = sx(bits(w, 31, 20), 12);
    int32_t imm_s = sx(bits(w, 31, 25) << 5 | bits(w, 11, 7), 12);
    int32_t imm_b = sx(bits(w, 31, 31) << 12 | bits(w, 7, 7) << 11 |
                       bits(w, 30, 25) << 5 | bits(w, 11, 8) << 1, 13);
    int32_t imm_u = (int32_t)(w & 0xfffff000u);
    int32_t imm_j = sx(bits(w, 31, 31) << 20 | bits(w, 19, 12) << 12 |
                       bits(w, 20, 20) << 11 | bits(w, 30, 21) << 1, 21);

    d->len = 4;
    d->raw = w;
    switch (w & 0x7f) {
    case 0x37: /* LUI: rd = 0 + imm */
        set(d, OP_ADDI, rd, 0, 0, imm_u);
        return;
    case 0x17:
        set(d, OP_AUIPC, rd, 0, 0, imm_u);
        return;
    case 0x6f:
        set(d, OP_JAL, rd, 0, 0, imm_j);
        return;
    case 0x67:
        if (f3 != 0)
            break;
        set(d, OP_JALR, rd, rs1, 0, imm_i);
        return;
    case 0x63:
        set(d, branch_ops[f3], 0, rs1, rs2, imm_b);
        return;
    case 0x03:
        set(d, load_ops[f3], rd, rs1, 0, imm_i);
        return;
    case 0x23:
        set(d, store_ops[f3], 0, rs1, rs2, imm_s);
        return;
    case 0x13:
        if (f3 == 1) {
            if (bits(w, 31, 26) != 0)
                break;
            set(d, OP_SLLI, rd, rs1, 0, (int32_t)bits(w, 25, 20));
            return;
        }
        if (f3 == 5) {
            unsigned hi = bits(w, 31, 26);
            if (hi != 0 && hi != 0x10)
                break;
            set(d, hi ? OP_SRAI : OP_SRLI, rd, rs1, 0,
                (int32_t)bits(w, 25, 20));
            return;
        }
        set(d, aluimm_ops[f3], rd, rs1, 0, imm_i);
        return;
    case 0x1b:
        if (f3 == 0) {
            set(d, OP_ADDIW, rd, rs1, 0, imm_i);
            return;
        }
        if (f3 == 1 && f7 == 0) {
            set(d, OP_SLLIW, rd, rs1, 0, (int32_t)rs2);
            return;
        }
        if (f3 == 5 && (f7 == 0 || f7 == 0x20)) {
            set(d, f7 ? OP_SRAIW : OP_SRLIW, rd, rs1, 0, (int32_t)rs2);
            return;
        }
        break;
    case 0x33:
        if (f7 == 0) {
            set(d, alu_ops[f3], rd, rs1, rs2, 0);
            return;
        }
        if (f7 == 1) {
            set(d, mul_ops[f3], rd, rs1, rs2, 0);
            return;
        }
        if (f7 == 0x20 && (f3 == 0 || f3 == 5)) {
            set(d, f3 ? OP_SRA : OP_SUB, rd, rs1, rs2, 0);
            return;
        }
        break;
    case 0x3b:
        if (f7 == 0 && (f3 == 0 || f3 == 1 || f3 == 5)) {
            set(d, f3 == 0 ? OP_ADDW : f3 == 1 ? OP_SLLW : OP_SRLW, rd, rs1,
                rs2, 0);
            return;
        }
        if (f7 == 0x20 && (f3 == 0 || f3 == 5)) {
            set(d, f3 ? OP_SRAW : OP_SUBW, rd, rs1, rs2, 0);
            return;
        }
        if (f7 == 1) {
            static const uint16_t ops[8] = {
                OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL,
                OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW,
            };
            set(d, ops[f3], rd, rs1, rs2, 0);
            return;
        }
        break;
    case 0x0f:
        if (f3 == 0) {
            /* pred/succ; rd/rs1 are reserved and ignored */
            set(d, OP_FENCE, 0, 0, 0, (int32_t)bits(w, 31, 20));
            return;
        }
        if (f3 == 1) {
            set(d, OP_FENCE_I, 0, 0, 0, 0);
            return;
        }
        break;
    case 0x73:
        decode_system(w, d);
        return;
    case 0x2f:
        decode_amo(w, d);
        return;
    case 0x07: /* LOAD-FP */
        if (f3 != 2 && f3 != 3)
            break;
        set_f(d, f3 == 2 ? OP_FLW : OP_FLD, rd, rs1, 0, imm_i);
        return;
    case 0x27: /* STORE-FP */
        if (f3 != 2 && f3 != 3)
            break;
        set(d, f3 == 2 ? OP_FSW : OP_FSD, 0, rs1, rs2, imm_s);
        return;
    case 0x43: case 0x47: case 0x4b: case 0x4f: { /* FMADD ... FNMADD */
        unsigned fmt = bits(w, 26, 25);
        if (fmt > 1)
            break;
        set_f(d, OP_FP, rd, rs1, rs2,
              FPI(FPOP_MADD + ((w >> 2) & 3), fmt, f3, bits(w, 31, 27), 0));
        return;
    }
    case 0x53:
        decode_op_fp(w, d);
        return;
    default:
        break;
    }
    illegal(d);
}

/* ---- RVC ---- */

static unsigned creg(uint32_t w, unsigned lo)
{
    return 8 + bits(w, lo + 2, lo);
}

static int32_t c_imm6(uint32_t w) /* imm[5] = w[12], imm[4:0] = w[6:2] */
{
    int32_t v = (int32_t)(bits(w, 12, 12) << 5 | bits(w, 6, 2));
    return (v ^ 32) - 32;
}

static void decode_q0(uint32_t w, Insn *d)
{
    unsigned rdp = creg(w, 2), rs1p = creg(w, 7);
    uint32_t lw_off = bits(w, 12, 10) << 3 | bits(w, 6, 6) << 2 |
                      bits(w, 5, 5) << 6;
    uint32_t ld_off = bits(w, 12, 10) << 3 | bits(w, 6, 5) << 6;

    switch (bits(w, 15, 13)) {
    case 0: { /* C.ADDI4SPN */
        uint32_t imm = bits(w, 12, 11) << 4 | bits(w, 10, 7) << 6 |
                       bits(w, 6, 6) << 2 | bits(w, 5, 5) << 3;
        if (imm == 0)
            break; /* includes the all-zero parcel */
        set(d, OP_ADDI, rdp, 2, 0, (int32_t)imm);
        return;
    }
    case 2: set(d, OP_LW, rdp, rs1p, 0, (int32_t)lw_off); return;
    case 3: set(d, OP_LD, rdp, rs1p, 0, (int32_t)ld_off); return;
    case 6: set(d, OP_SW, 0, rs1p, rdp, (int32_t)lw_off); return;
    case 7: set(d, OP_SD, 0, rs1p, rdp, (int32_t)ld_off); return;
    case 1: set_f(d, OP_FLD, rdp, rs1p, 0, (int32_t)ld_off); return;
    case 5: set(d, OP_FSD, 0, rs1p, rdp, (int32_t)ld_off); return;
    default: break; /* 4 is reserved */
    }
    illegal(d);
}

static void decode_q1(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7);
    unsigned rdp = creg(w, 7), rs2p = creg(w, 2);
    int32_t imm6 = c_imm6(w);

    switch (bits(w, 15, 13)) {
    case 0: /* C.ADDI (C.NOP when rd = 0) */
        set(d, OP_ADDI, rd, rd, 0, imm6);
        return;
    case 1: /* C.ADDIW */
        if (rd == 0)
            break;
        set(d, OP_ADDIW, rd, rd, 0, imm6);
        return;
    case 2: /* C.LI */
        set(d, OP_ADDI, rd, 0, 0, imm6);
        return;
    case 3:
        if (rd == 2) { /* C.ADDI16SP */
            int32_t imm = (int32_t)(bits(w, 12, 12) << 9 | bits(w, 6, 6) << 4 |
                                    bits(w, 5, 5) << 6 | bits(w, 4, 3) << 7 |
                                    bits(w, 2, 2) << 5);
            imm = (imm ^ 512) - 512;
            if (imm == 0)
                break;
            set(d, OP_ADDI, 2, 2, 0, imm);
            return;
        }
        if (imm6 == 0)
            break; /* C.LUI with nzimm = 0 is reserved */
        set(d, OP_ADDI, rd, 0, 0, (int32_t)((uint32_t)imm6 << 12));
        return;
    case 4: {
        unsigned shamt = bits(w, 12, 12) << 5 | bits(w, 6, 2);
        switch (bits(w, 11, 10)) {
        case 0: set(d, OP_SRLI, rdp, rdp, 0, (int32_t)shamt); return;
        case 1: set(d, OP_SRAI, rdp, rdp, 0, (int32_t)shamt); return;
        case 2: set(d, OP_ANDI, rdp, rdp, 0, imm6); return;
        default: break;
        }
        static const uint16_t ops[8] = {
            OP_SUB, OP_XOR, OP_OR, OP_AND,
            OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL,
        };
        unsigned op = ops[bits(w, 12, 12) << 2 | bits(w, 6, 5)];
        if (op == OP_ILLEGAL)
            break;
        set(d, op, rdp, rdp, rs2p, 0);
        return;
    }
    case 5: { /* C.J */
        int32_t imm = (int32_t)(bits(w, 12, 12) << 11 | bits(w, 11, 11) << 4 |
                                bits(w, 10, 9) << 8 | bits(w, 8, 8) << 10 |
                                bits(w, 7, 7) << 6 | bits(w, 6, 6) << 7 |
                                bits(w, 5, 3) << 1 | bits(w, 2, 2) << 5);
        set(d, OP_JAL, 0, 0, 0, (imm ^ 2048) - 2048);
        return;
    }
    default: { /* 6: C.BEQZ, 7: C.BNEZ */
        int32_t imm = (int32_t)(bits(w, 12, 12) << 8 | bits(w, 11, 10) << 3 |
                                bits(w, 6, 5) << 6 | bits(w, 4, 3) << 1 |
                                bits(w, 2, 2) << 5);
        imm = (imm ^ 256) - 256;
        set(d, bits(w, 13, 13) ? OP_BNE : OP_BEQ, 0, rdp, 0, imm);
        return;
    }
    }
    illegal(d);
}

static void decode_q2(uint32_t w, Insn *d)
{
    unsigned rd = bits(w, 11, 7), rs2 = bits(w, 6, 2);

    switch (bits(w, 15, 13)) {
    case 0: /* C.SLLI */
        set(d, OP_SLLI, rd, rd, 0, (int32_t)(bits(w, 12, 12) << 5 | rs2));
        return;
    case 2: /* C.LWSP */
        if (rd == 0)
            break;
        set(d, OP_LW, rd, 2, 0,
            (int32_t)(bits(w, 12, 12) << 5 | bits(w, 6, 4) << 2 |
                      bits(w, 3, 2) << 6));
        return;
    case 1: /* C.FLDSP (rd = f0 is allowed) */
        set_f(d, OP_FLD, rd, 2, 0,
              (int32_t)(bits(w, 12, 12) << 5 | bits(w, 6, 5) << 3 |
                        bits(w, 4, 2) << 6));
        return;
    case 3: /* C.LDSP */
        if (rd == 0)
            break;
        set(d, OP_LD, rd, 2, 0,
            (int32_t)(bits(w, 12, 12) << 5 | bits(w, 6, 5) << 3 |
                      bits(w, 4, 2) << 6));
        return;
    case 4:
        if (bits(w, 12, 12) == 0) {
            if (rs2 == 0) { /* C.JR */
                if (rd == 0)
                    break;
                set(d, OP_JALR, 0, rd, 0, 0);
                return;
            }
            set(d, OP_ADD, rd, 0, rs2, 0); /* C.MV */
            return;
        }
        if (rs2 == 0) {
            if (rd == 0) {
                set(d, OP_EBREAK, 0, 0, 0, 0);
                return;
            }
            set(d, OP_JALR, 1, rd, 0, 0); /* C.JALR */
            return;
        }
        set(d, OP_ADD, rd, rd, rs2, 0); /* C.ADD */
        return;
    case 6: /* C.SWSP */
        set(d, OP_SW, 0, 2, rs2,
            (int32_t)(bits(w, 12, 9) << 2 | bits(w, 8, 7) << 6));
        return;
    case 7: /* C.SDSP */
        set(d, OP_SD, 0, 2, rs2,
            (int32_t)(bits(w, 12, 10) << 3 | bits(w, 9, 7) << 6));
        return;
    case 5: /* C.FSDSP */
        set(d, OP_FSD, 0, 2, rs2,
            (int32_t)(bits(w, 12, 10) << 3 | bits(w, 9, 7) << 6));
        return;
    default: break;
    }
    illegal(d);
}

void riscv_decode16(uint32_t w, Insn *d)
{
    w &= 0xffff;
    d->len = 2;
    d->raw = w;
    switch (w & 3) {
    case 0: decode_q0(w, d); return;
    case 1: decode_q1(w, d); return;
    default: decode_q2(w, d); return;
    }
}

bool riscv_op_ends_block(unsigned op)
{
    switch (op) {
    case OP_END: case OP_ILLEGAL:
    case OP_JAL: case OP_JALR:
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU:
    case OP_BGEU:
    case OP_FENCE_I: case OP_ECALL: case OP_EBREAK: case OP_CSR:
    case OP_MRET: case OP_SRET: case OP_WFI: case OP_SFENCE_VMA:
        return true;
    default:
        return false;
    }
}
