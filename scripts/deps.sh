#!/usr/bin/env bash
# Install the Debian packages parvm needs that this machine lacks.
# Usage: scripts/deps.sh build|run|test
#   build: compiler, meson, ninja, pkg-config, liburcu (RCU for the memory
#          map), libfdt (the device tree), jansson (QMP's JSON), liburing
#          (block I/O through io_uring), libslirp (-netdev user)
#   run:   build + the RISC-V bare-metal compiler for the bundled demo guest
#   test:  run + qemu-system-riscv64, which every guest test is compared with,
#          and clang for the libFuzzer targets (fuzz/run.sh)
set -euo pipefail

pkgs=(gcc libc6-dev meson ninja-build pkg-config liburcu-dev libfdt-dev libjansson-dev liburing-dev
      libslirp-dev)
case "${1:-build}" in
  build) ;;
  run) pkgs+=(gcc-riscv64-unknown-elf) ;;
  test) pkgs+=(gcc-riscv64-unknown-elf qemu-system-misc device-tree-compiler gdb clang) ;;
  *) echo "usage: $0 build|run|test" >&2; exit 2 ;;
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
