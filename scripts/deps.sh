#!/usr/bin/env bash
# Install the Debian packages parvm needs that this machine lacks.
# Usage: scripts/deps.sh build|run|test|linux
#   build: compiler, meson, ninja, pkg-config, liburcu (RCU for the memory
#          map), libfdt (the device tree), jansson (QMP's JSON), liburing
#          (block I/O through io_uring), libslirp (-netdev user)
#   run:   build + OpenSBI (-bios default) and the RISC-V bare-metal compiler
#          for the bundled demo guest
#   test:  run + qemu-system-riscv64, which every guest test is compared with,
#          and clang for the libFuzzer targets (fuzz/run.sh)
#   linux: only what scripts/build-linux-guest.sh needs to build the Linux
#          guest (kernel from linux-source-6.1, static busybox from Debian's
#          busybox source package): the riscv64 Linux cross compiler with
#          its glibc, the kernel's host-side tools (make, gcc, bison, flex,
#          bc) and dpkg-dev to unpack the source package
set -euo pipefail

pkgs=(gcc libc6-dev meson ninja-build pkg-config liburcu-dev libfdt-dev libjansson-dev liburing-dev
      libslirp-dev)
case "${1:-build}" in
  build) ;;
  run) pkgs+=(gcc-riscv64-unknown-elf opensbi) ;;
  test) pkgs+=(gcc-riscv64-unknown-elf opensbi qemu-system-misc device-tree-compiler gdb clang) ;;
  linux) pkgs=(linux-source-6.1 gcc-riscv64-linux-gnu libc6-dev-riscv64-cross make gcc libc6-dev bison flex bc
               xz-utils dpkg-dev) ;;
  *) echo "usage: $0 build|run|test|linux" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "parvm: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "parvm: need root to install packages (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
