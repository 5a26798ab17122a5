#!/usr/bin/env bash
# bench/guest: the same guest ELFs on parvm and on qemu-system-riscv64
# -accel tcg,thread=multi, in one run, side by side, with ratios.
#   compute     guest MIPS of one hart on a RAM-only integer loop
#   mmio-scale  every hart reads a lockless register (CLINT mtime, goldfish
#               RTC) at 1 and 2 harts: total reads/s, and the 2/1 ratio;
#               parvm also in all-global mode (every device under the
#               global lock, S12)
# Each number is the fastest of three runs.
# Usage: run.sh PARVM DIR_WITH_bench-*.elf
# A benchmark, not a test: it prints numbers and asserts nothing.
set -u
parvm=$1 dir=$2
have_qemu=true
command -v qemu-system-riscv64 >/dev/null || have_qemu=false

# run1 EMU ELF HARTS [extra args] -> prints "ops ticks" (or "- -")
run1() {
  local emu=$1 elf=$2 harts=$3
  shift 3
  local line
  line=$(timeout 300 "$emu" -machine virt -smp "$harts" -m 128M -bios none \
         -kernel "$elf" -nographic "$@" </dev/null 2>/dev/null | grep '^result')
  if [ -z "$line" ]; then
    echo "- -"
    return
  fi
  local ops=${line#*ops=} ticks=${line#*ticks=}
  echo "${ops%% *} ${ticks%% *}"
}

# run: the fastest of three runs (this machine is a VM whose host steals
# time now and then; a run can be off by a third, always towards slower).
run() {
  local best
  best=$({ run1 "$@"; run1 "$@"; run1 "$@"; } | grep -v '^- -$' | sort -k2 -n | head -1)
  echo "${best:-- -}"
}

# rate OPS TICKS -> millions of operations per second (mtime: 10 MHz)
rate() {
  awk -v o="$1" -v t="$2" 'BEGIN { if (t == "-" || t == 0) print "-"; else printf "%.1f", o / (t / 1e7) / 1e6 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'
}

qemu() {
  if $have_qemu; then
    run qemu-system-riscv64 "$@" -accel tcg,thread=multi
  else
    echo "- -"
  fi
}

printf 'parvm vs qemu-system-riscv64 (%s), same guest ELFs, %s CPUs\n' \
  "$($have_qemu && qemu-system-riscv64 --version | head -1 | awk '{print $4}' || echo 'not installed')" "$(nproc)"
printf '%-24s %5s %12s %16s %12s %12s\n' benchmark harts parvm parvm-all-global qemu parvm/qemu

# compute: ops are loop iterations of 10 instructions
read -r o t <<<"$(run "$parvm" "$dir/bench-compute.elf" 1)"
p=$(awk -v r="$(rate "$o" "$t")" 'BEGIN { if (r == "-") print "-"; else printf "%.0f", r * 10 }')
read -r o t <<<"$(qemu "$dir/bench-compute.elf" 1)"
q=$(awk -v r="$(rate "$o" "$t")" 'BEGIN { if (r == "-") print "-"; else printf "%.0f", r * 10 }')
printf '%-24s %5s %12s %16s %12s %12s\n' "compute (MIPS per hart)" 1 "$p" "" "$q" "$(ratio "$p" "$q")"

for reg in mtime rtc; do
  declare -A R=()
  for h in 1 2; do
    read -r o t <<<"$(run "$parvm" "$dir/bench-$reg.elf" "$h")"
    R[p$h]=$(rate "$o" "$t")
    read -r o t <<<"$(run "$parvm" "$dir/bench-$reg.elf" "$h" -accel parvm,global-lock=all)"
    R[g$h]=$(rate "$o" "$t")
    read -r o t <<<"$(qemu "$dir/bench-$reg.elf" "$h")"
    R[q$h]=$(rate "$o" "$t")
    printf '%-24s %5s %12s %16s %12s %12s\n' "$reg reads (M/s total)" "$h" "${R[p$h]}" \
      "${R[g$h]}" "${R[q$h]}" "$(ratio "${R[p$h]}" "${R[q$h]}")"
  done
  printf '%-24s %5s %12s %16s %12s\n' "$reg 2-hart/1-hart" "" "$(ratio "${R[p2]}" "${R[p1]}")" \
    "$(ratio "${R[g2]}" "${R[g1]}")" "$(ratio "${R[q2]}" "${R[q1]}")"
done
