#!/usr/bin/env bash
# parvm's main job, from a clean clone: install what is missing, build an
# optimised parvm (lock validator off) and boot the bundled demo guest on
# the virt board: every hart says hello, takes timer interrupts, counts
# with atomics, reads the RTC, and the guest powers off (exit status 0).
# Usage: scripts/run.sh [extra parvm options, e.g. -smp 4]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
dir=build/release
if [ ! -d "$dir" ]; then
  meson setup "$dir" --buildtype=release -Dvalidator=false >/dev/null
fi
ninja -C "$dir" >/dev/null
exec "$dir/src/parvm" -machine virt -smp 2 -m 128M -bios none \
  -kernel "$dir/guests/demo.elf" -nographic "$@"
