/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Start-up and trap entry for the C test programs. */
#define RIM_MAGIC 0x5e7ba

    .section .text.start
    .globl _start
_start:
    csrr a0, mhartid
    la sp, _stack_top
    slli t0, a0, 14
    sub sp, sp, t0
    la t0, m_trap_entry
    csrw mtvec, t0
    /* PMP entry 15: all of memory, RWX, so S and U can run (entry 15 is
     * the lowest priority, leaving 0-14 to the tests). */
    li t0, -1
    csrw pmpaddr15, t0
    li t0, 0x1f << 56
    csrw pmpcfg2, t0
    bnez a0, 2f
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 3f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
3:  fence
    la t0, bss_ready
    li t1, 1
    sw t1, 0(t0)
    j 4f
2:  la t0, bss_ready
5:  lw t1, 0(t0)
    beqz t1, 5b
    fence
4:  csrr a0, mhartid
    call main
    call exit_

    .data
    .balign 4
bss_ready: .word 0

    .text
/* Frame: 32 slots, regs[i] = x_i (regs[2] = sp before the trap). */
.macro SAVE_REGS
    addi sp, sp, -256
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\r, (\r * 8)(sp)
    .endr
    addi t0, sp, 256
    sd t0, 16(sp)
.endm
.macro RESTORE_REGS
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\r, (\r * 8)(sp)
    .endr
    ld sp, 16(sp)
.endm

    .balign 4
    .globl m_trap_entry
m_trap_entry:
    SAVE_REGS
    mv a0, sp
    call m_trap
    bnez a0, rim_resume_from_trap
    RESTORE_REGS
    mret

    .balign 4
    .globl s_trap_entry
s_trap_entry:
    SAVE_REGS
    mv a0, sp
    call s_trap
    RESTORE_REGS
    sret

/* uint64_t run_in_mode(unsigned mode, uint64_t (*fn)(uint64_t), uint64_t) */
    .globl run_in_mode
run_in_mode:
    la t0, rim_ctx
    sd ra, 0(t0)
    sd sp, 8(t0)
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
    sd s\i, (16 + \i * 8)(t0)
    .endr
    li t1, 0x1800
    csrc mstatus, t1
    slli t2, a0, 11
    csrs mstatus, t2
    csrw mepc, a1
    mv a0, a2
    la ra, rim_return
    mret
rim_return:
    li a7, RIM_MAGIC
    ecall
1:  j 1b

rim_resume_from_trap:
    ld a0, 80(sp)      /* the a0 of the ECALL: fn's result */
    la t0, rim_ctx
    ld ra, 0(t0)
    ld sp, 8(t0)
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
    ld s\i, (16 + \i * 8)(t0)
    .endr
    ret

    .bss
    .balign 8
rim_ctx: .space 8 * 14
