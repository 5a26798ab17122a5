#!/usr/bin/env bash
# bench/guest/blk.sh: virtio-blk 4 KiB random-read IOPS of one guest
# (bench/guest/blk.c, built at queue depth 1 and 32) on parvm and on
# qemu-system-riscv64 (modern virtio-mmio), same disk image, same -drive and
# -device, same sequence of offsets.  Ratios compare parvm with QEMU on the
# same block engine (parvm's default is io_uring unless the kernel refuses
# it, which parvm says on stderr; QEMU's default is aio=threads).
#   parvm rows: the default block engine (io_uring where the kernel allows
#   it), aio=io_uring, aio=threads, and the default with every device under
#   the global lock (-accel parvm,global-lock=all, S12).
#   qemu rows: its default (aio=threads) and aio=io_uring.
# The image is a 256 MiB raw file filled from /dev/urandom and read once
# before the runs, so it sits in the host page cache: this measures the
# emulators' request path, not the host's disk.
# Each number is the best of three runs (the machine is a shared VM whose
# host steals time: a run can be far slower, never faster).
# Usage: blk.sh PARVM DIR_WITH_bench-blk-qd*.elf
# A benchmark, not a test: it prints numbers and asserts nothing.
set -u
parvm=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/disk.img
have_qemu=true
command -v qemu-system-riscv64 >/dev/null || have_qemu=false

dd if=/dev/urandom of="$img" bs=1M count=256 status=none
cat "$img" >/dev/null

# run1 EMU QD AIO [extra args] -> "ops ticks" (or "- -" if it printed no
# result or reported read errors)
run1() {
  local emu=$1 qd=$2 aio=$3
  shift 3
  local line
  line=$(timeout 300 "$emu" -machine virt -smp 1 -m 128M -bios none \
         -kernel "$dir/bench-blk-qd$qd.elf" -nographic \
         -drive "file=$img,format=raw,if=none,id=disk0${aio:+,aio=$aio}" \
         -device virtio-blk-device,drive=disk0 "$@" </dev/null 2>"$tmp/stderr" | grep '^result')
  if [ -z "$line" ] || [[ $line != *" errors=0"* ]]; then
    echo "- -"
    return
  fi
  local ops=${line#*ops=} ticks=${line#*ticks=}
  echo "${ops%% *} ${ticks%% *}"
}

# iops EMU QD AIO [extra args] -> reads per second, best of three (mtime
# runs at 10 MHz)
iops() {
  local best
  best=$({ run1 "$@"; run1 "$@"; run1 "$@"; } | grep -v '^- -$' | sort -k2 -n | head -1)
  if [ -z "$best" ]; then
    echo "-"
    return
  fi
  awk -v b="$best" 'BEGIN { split(b, x, " "); printf "%.0f", x[1] / (x[2] / 1e7) }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'
}

qemu() {
  if $have_qemu; then
    iops qemu-system-riscv64 "$@" -global virtio-mmio.force-legacy=false -accel tcg,thread=multi
  else
    echo "-"
  fi
}

# parvm's default engine: io_uring unless it says it fell back.
run1 "$parvm" 1 "" >/dev/null
engine=io_uring
grep -q "^parvm: -drive" "$tmp/stderr" && engine=threads

declare -A R=()
for qd in 1 32; do
  R[q$qd]=$(qemu "$qd" "")
  R[qu$qd]=$(qemu "$qd" io_uring)
  R[p$qd]=$(iops "$parvm" "$qd" "")
  R[pu$qd]=$(iops "$parvm" "$qd" io_uring)
  R[pt$qd]=$(iops "$parvm" "$qd" threads)
  R[pg$qd]=$(iops "$parvm" "$qd" "" -accel parvm,global-lock=all)
done

printf 'virtio-blk 4 KiB random reads (IOPS, best of 3), 256 MiB image in the page cache,\n'
printf 'parvm (default engine here: %s) vs qemu-system-riscv64 (%s) on the same engine, %s CPUs\n' \
  "$engine" "$($have_qemu && qemu-system-riscv64 --version | head -1 | awk '{print $4}' || echo 'not installed')" "$(nproc)"
printf '%-26s %10s %10s %12s %12s\n' "" "QD1" "QD32" "QD1/qemu" "QD32/qemu"
# row LABEL KEY [QEMU_KEY]: QEMU_KEY names the row the ratios divide by
row() {
  local a1=- a32=-
  if [ -n "${3:-}" ]; then
    a1=$(ratio "${R[${2}1]}" "${R[${3}1]}")
    a32=$(ratio "${R[${2}32]}" "${R[${3}32]}")
  fi
  printf '%-26s %10s %10s %12s %12s\n' "$1" "${R[${2}1]}" "${R[${2}32]}" "$a1" "$a32"
}
same=q
[ "$engine" = io_uring ] && same=qu
row "parvm (default)" p "$same"
row "parvm aio=io_uring" pu qu
row "parvm aio=threads" pt q
row "parvm global-lock=all" pg "$same"
row "qemu (default, threads)" q
row "qemu aio=io_uring" qu
