#!/usr/bin/env bash
# Run one bare-metal guest on parvm and on qemu-system-riscv64 -machine virt
# with the same options; both must print the same UART output and exit with
# the same status.  Without QEMU, only parvm runs and its status must be 0.
# Usage: compare.sh [--sorted] [--input TEXT] PARVM ELF HARTS
#   --sorted: compare the lines in sorted order (harts print in any order)
#   --input:  TEXT (and a newline) is the console's input, on stdin
set -u
sorted=false
input=
while [ $# -gt 3 ]; do
  case $1 in
    --sorted) sorted=true; shift ;;
    --input) input=$2; shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
parvm=$1 elf=$2 harts=$3
args=(-machine virt -smp "$harts" -m 128M -bios none -kernel "$elf" -nographic)
limit=60

feed() {
  if [ -n "$input" ]; then printf '%s\n' "$input"; fi
}
out_p=$(feed | timeout "$limit" "$parvm" "${args[@]}" 2>&1)
rc_p=$?
if ! command -v qemu-system-riscv64 >/dev/null; then
  echo "qemu-system-riscv64 not installed: parvm only (exit $rc_p)"
  printf '%s\n' "$out_p" | tail -20
  [ "$rc_p" -eq 0 ]
  exit
fi
out_q=$(feed | timeout "$limit" qemu-system-riscv64 "${args[@]}" 2>&1)
rc_q=$?
if $sorted; then
  out_p=$(printf '%s\n' "$out_p" | sort)
  out_q=$(printf '%s\n' "$out_q" | sort)
fi
if [ "$rc_p" -eq "$rc_q" ] && [ "$out_p" == "$out_q" ]; then
  printf '%s\n' "$out_p" | tail -5
  echo "same output and exit status ($rc_p) as qemu-system-riscv64"
  exit 0
fi
echo "parvm (exit $rc_p):"
printf '%s\n' "$out_p" | tail -20
echo "qemu-system-riscv64 (exit $rc_q):"
printf '%s\n' "$out_q" | tail -20
diff <(printf '%s\n' "$out_p") <(printf '%s\n' "$out_q") | head -20
exit 1
