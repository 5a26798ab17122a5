/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The operations of decoded instructions.  One list, expanded into the enum
 * here and into exec.c's dispatch table, so the two cannot drift apart.
 * Compressed instructions decode to the same operations.
 */
#ifndef RISCV_OPS_H
#define RISCV_OPS_H

#define RISCV_OPS(X)                                                         \
    /* block control (pseudo) */                                             \
    X(END) X(ILLEGAL)                                                        \
    /* RV64I */                                                              \
    X(AUIPC) X(JAL) X(JALR)                                                  \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU)                              \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU)                             \
    X(SB) X(SH) X(SW) X(SD)                                                  \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI)  \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND)    \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW)                                      \
    X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW)                                  \
    X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK)                                   \
    /* M */                                                                  \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU)          \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW)                                \
    /* A: one op each for LR, SC and AMO; the helper reads funct5/width */   \
    X(LR) X(SC) X(AMO)                                                       \
    /* F and D: loads and stores inline, the rest in fpu.c */             \
    X(FLW) X(FLD) X(FSW) X(FSD) X(FP)                                        \
    /* Zicsr */                                                              \
    X(CSR)                                                                   \
    /* privileged */                                                         \
    X(MRET) X(SRET) X(WFI) X(SFENCE_VMA)

enum RiscvOp {
#define RISCV_OP_ENUM(name) OP_##name,
    RISCV_OPS(RISCV_OP_ENUM)
#undef RISCV_OP_ENUM
    OP_COUNT
};

#endif
