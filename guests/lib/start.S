/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry of parvm's bundled guests: every hart arrives here from the reset
 * ROM with a0 = hart id and a1 = the device tree (QEMU's virt convention)
 * and calls guest_main(hartid, fdt); machine-mode traps call
 * guest_trap(mcause).
 */
    .section .text.start
    .globl _start
_start:
    la sp, _stack_top
    slli t0, a0, 14             /* 16 KiB of stack per hart */
    sub sp, sp, t0
    la t0, trap_entry
    csrw mtvec, t0
    call guest_main             /* (hartid, fdt) */
1:  wfi
    j 1b

/* Machine-mode trap entry: save the caller-saved registers, let C handle
 * it, return. */
    .balign 4
trap_entry:
    addi sp, sp, -128
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd a0, 32(sp)
    sd a1, 40(sp)
    sd a2, 48(sp)
    sd a3, 56(sp)
    sd a4, 64(sp)
    sd a5, 72(sp)
    sd a6, 80(sp)
    sd a7, 88(sp)
    sd t3, 96(sp)
    sd t4, 104(sp)
    sd t5, 112(sp)
    sd t6, 120(sp)
    csrr a0, mcause
    call guest_trap
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld a0, 32(sp)
    ld a1, 40(sp)
    ld a2, 48(sp)
    ld a3, 56(sp)
    ld a4, 64(sp)
    ld a5, 72(sp)
    ld a6, 80(sp)
    ld a7, 88(sp)
    ld t3, 96(sp)
    ld t4, 104(sp)
    ld t5, 112(sp)
    ld t6, 120(sp)
    addi sp, sp, 128
    mret
