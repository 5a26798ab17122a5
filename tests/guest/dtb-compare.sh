#!/usr/bin/env bash
# parvm's device tree against qemu-system-riscv64 -machine virt,dumpdtb:
# every node parvm has must exist in QEMU's with the same compatible, reg,
# interrupts and the other properties a guest reads (phandle numbers, and
# the ISA string, where QEMU lists extensions parvm lacks, may differ).
# With KERNEL, a second pair of trees with -kernel KERNEL, an -initrd and
# -append: /chosen's bootargs and initrd range must match too.
# Usage: dtb-compare.sh PARVM HARTS [KERNEL]
set -u
parvm=$1 harts=$2 kernel=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(-smp "$harts" -m 256M -bios none)

"$parvm" -machine virt,dumpdtb="$tmp/parvm.dtb" "${args[@]}" 2>/dev/null || { echo "parvm dumpdtb failed"; exit 1; }
if ! command -v qemu-system-riscv64 >/dev/null || ! command -v fdtget >/dev/null; then
  echo "qemu-system-riscv64 or fdtget missing: checking parvm's tree parses"
  fdtget -l "$tmp/parvm.dtb" /soc >/dev/null 2>&1 || ! command -v fdtget >/dev/null
  exit
fi
qemu-system-riscv64 -machine virt,dumpdtb="$tmp/qemu.dtb" "${args[@]}" >/dev/null 2>&1

fails=0 n=0
check() {   # check NODE PROP TYPE
  local a b
  a=$(fdtget -t "$3" "$tmp/parvm.dtb" "$1" "$2" 2>&1)
  b=$(fdtget -t "$3" "$tmp/qemu.dtb" "$1" "$2" 2>&1)
  n=$((n + 1))
  if [ "$a" == "$b" ]; then
    echo "ok $n - $1 $2 = $a"
  else
    echo "not ok $n - $1 $2: parvm '$a', qemu '$b'"
    fails=$((fails + 1))
  fi
}

check / compatible s
check / model s
check /chosen stdout-path s
check /memory@80000000 reg x
check /memory@80000000 device_type s
check /cpus timebase-frequency x
for ((h = 0; h < harts; h++)); do
  check "/cpus/cpu@$h" reg x
  check "/cpus/cpu@$h" compatible s
  check "/cpus/cpu@$h" device_type s
  check "/cpus/cpu@$h" mmu-type s
  check "/cpus/cpu@$h/interrupt-controller" compatible s
done
for node in poweroff reboot; do
  check "/$node" compatible s
  check "/$node" value x
  check "/$node" offset x
done
for node in $(fdtget -l "$tmp/parvm.dtb" /soc); do
  # parvm's own devices (the hot-plug controller) have no QEMU counterpart.
  case $(fdtget -t s "$tmp/parvm.dtb" "/soc/$node" compatible 2>/dev/null) in
    parvm,*) continue ;;
  esac
  for prop in $(fdtget -p "$tmp/parvm.dtb" "/soc/$node"); do
    case $prop in
      phandle|interrupt-parent|interrupts-extended) continue ;;
      compatible) check "/soc/$node" "$prop" s ;;
      interrupt-controller|ranges) check "/soc/$node" "$prop" x ;;
      *) check "/soc/$node" "$prop" x ;;
    esac
  done
done
# interrupts-extended: the same (interrupt controller, cause) pairs in order,
# whatever the phandle numbers.
for node in plic@c000000 clint@2000000; do
  n=$((n + 1))
  a=$(fdtget -t x "$tmp/parvm.dtb" "/soc/$node" interrupts-extended | awk '{for (i = 2; i <= NF; i += 2) printf "%s ", $i}')
  b=$(fdtget -t x "$tmp/qemu.dtb" "/soc/$node" interrupts-extended | awk '{for (i = 2; i <= NF; i += 2) printf "%s ", $i}')
  if [ "$a" == "$b" ]; then echo "ok $n - /soc/$node interrupts-extended causes $a"
  else echo "not ok $n - /soc/$node interrupts-extended causes: parvm '$a', qemu '$b'"; fails=$((fails + 1)); fi
done
if [ -n "$kernel" ]; then
  head -c 300000 /dev/urandom >"$tmp/initrd"
  boot=(-kernel "$kernel" -initrd "$tmp/initrd" -append "console=ttyS0 quiet")
  "$parvm" -machine virt,dumpdtb="$tmp/parvm.dtb" "${args[@]}" "${boot[@]}" 2>/dev/null ||
    { echo "not ok - parvm dumpdtb with -initrd failed"; exit 1; }
  qemu-system-riscv64 -machine virt,dumpdtb="$tmp/qemu.dtb" "${args[@]}" "${boot[@]}" >/dev/null 2>&1
  check /chosen bootargs s
  check /chosen linux,initrd-start x
  check /chosen linux,initrd-end x
fi
echo "1..$n"
[ "$fails" -eq 0 ]
