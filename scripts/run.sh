#!/usr/bin/env bash
# parvm's main job, from a clean clone: install what is missing, build an
# optimised parvm (lock validator off) and the Linux guest (Debian's Linux
# 6.1 and busybox, scripts/build-linux-guest.sh: long the first time, then
# cached), and boot it on the virt board to a shell on this terminal:
# OpenSBI from Debian (-bios default), 2 harts, the network through the user
# backend (the guest's telnet port 23 is forwarded to 127.0.0.1:5555), a
# 64 MiB disk (build/disk.img, kept between runs) as /dev/vda.  The guest
# is built once per machine under ${PARVM_CACHE:-/var/cache/parvm}, outside
# the clone, and rebuilt only when its inputs change (the script's stamps).
# `poweroff` in the guest ends parvm with status 0.
# Usage: scripts/run.sh [parvm options, e.g. -smp 4]
#        DEMO=1 scripts/run.sh   the bare-metal demo guest instead
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
dir=build/release
if [ ! -d "$dir" ]; then
  meson setup "$dir" --buildtype=release -Dvalidator=false >/dev/null
fi
ninja -C "$dir" >/dev/null
if [ "${DEMO:-0}" = 1 ]; then
  exec "$dir/src/parvm" -machine virt -smp 2 -m 128M -bios none \
    -kernel "$dir/guests/demo.elf" -nographic "$@"
fi

guest=${PARVM_CACHE:-/var/cache/parvm}/linux-guest
scripts/build-linux-guest.sh "$guest" >&2
disk=build/disk.img
if [ ! -f "$disk" ]; then
  truncate -s 64M "$disk"
fi
exec "$dir/src/parvm" -machine virt -smp 2 -m 512M -bios default \
  -kernel "$guest/Image" -initrd "$guest/initramfs.cpio.gz" -append "console=ttyS0" \
  -netdev user,id=n0,hostfwd=tcp:127.0.0.1:5555-:23 -device virtio-net-device,netdev=n0 \
  -drive file="$disk",format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0 \
  -nographic "$@"
